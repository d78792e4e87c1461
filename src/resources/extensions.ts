// Extensions: alias, name, description, updated (as neutron-lib defines them) and the attributes
// each adds to existing resources. /v2.0/extensions lists exactly the ones enabled here.
import { ADDRESS_GROUP_EXTENSIONS } from './address-groups.js';
import { AGENT_EXTENSIONS } from './agents.js';
import { attr, bool, json, virtual } from './attr.js';
import { BINDING_EXTENSIONS } from './binding.js';
import { addressScopes, subnetpools } from './core.js';
import { L3_EXTENSIONS } from './l3.js';
import { PROVIDER_EXTENSIONS } from './provider.js';
import { RBAC_EXTENSIONS } from './rbac.js';
import { portSecurityGroups, securityGroupRules, securityGroups } from './security-groups.js';
import type { ExtensionDef } from './types.js';
import { UNSET } from './types.js';

const ext = (
  alias: string,
  name: string,
  description: string,
  updated: string,
  more: Partial<ExtensionDef> = {},
): ExtensionDef => ({ alias, name, description, updated, ...more });

export const EXTENSIONS: ExtensionDef[] = [
  ext('address-scope', 'Address scope', 'Address scopes extension.', '2015-07-26T10:00:00-00:00', {
    resources: [addressScopes],
    attributes: {
      subnetpools: {
        address_scope_id: attr('PUVFS', { default: UNSET, validate: { type: 'type:uuid_or_none' } }),
      },
      networks: {
        ipv4_address_scope: virtual('V'),
        ipv6_address_scope: virtual('V'),
      },
    },
  }),
  ...ADDRESS_GROUP_EXTENSIONS,
  ...AGENT_EXTENSIONS,
  ...BINDING_EXTENSIONS,
  ext(
    'default-subnetpools',
    'Default Subnetpools',
    'Provides ability to mark and use a subnetpool as the default.',
    '2016-02-18T18:00:00-00:00',
    { attributes: { subnets: { use_default_subnetpool: virtual('P', { default: false, convertTo: 'convert_to_boolean' }) } } },
  ),
  ext('allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs', '2013-07-23T10:00:00-00:00', {
    attributes: {
      ports: {
        allowed_address_pairs: json('PUV', {
          default: UNSET,
          convertTo: 'convert_none_to_empty_list',
          validate: { type: 'type:allowed_address_pairs' },
        }),
      },
    },
  }),
  ext(
    'external-net',
    'Neutron external network',
    'Adds external network attribute to network resource.',
    '2013-01-14T10:00:00-00:00',
    {
      attributes: {
        networks: {
          'router:external': bool('PUVF', false, {
            adminOnlyWrite: true,
            storage: { kind: 'column', column: 'router_external' },
          }),
        },
      },
    },
  ),
  ext(
    'extra_dhcp_opt',
    'Neutron Extra DHCP options',
    'Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)',
    '2013-03-17T12:00:00-00:00',
    {
      attributes: {
        ports: {
          extra_dhcp_opts: json('PUV', { default: [], validate: { type: 'type:extra_dhcp_opts' } }),
        },
      },
    },
  ),
  ext(
    'empty-string-filtering',
    'Empty String Filtering Extension',
    'Allow filtering by attributes with empty string value',
    '2018-05-01T10:00:00-00:00',
  ),
  ext(
    'filter-validation',
    'Filter parameters validation',
    'Provides validation on filtering parameters.',
    '2018-03-21T10:00:00-00:00',
  ),
  ext(
    'ip-substring-filtering',
    'IP address substring filtering',
    'Provides IP address substring filtering when listing ports',
    '2017-11-28T09:00:00-00:00',
  ),
  ext('net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.', '2015-03-25T10:00:00-00:00'),
  ext(
    'net-mtu-writable',
    'Network MTU (writable)',
    'Provides a writable MTU attribute for a network resource.',
    '2017-07-12T00:00:00-00:00',
    {
      requiredExtensions: ['net-mtu'],
      attributes: {
        networks: {
          mtu: attr('PUVFS', { default: UNSET, convertTo: 'convert_to_int', validate: { type: 'type:non_negative' } }),
        },
      },
    },
  ),
  ...PROVIDER_EXTENSIONS,
  ...L3_EXTENSIONS,
  ext('pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.', '2016-06-12T00:00:00-00:00'),
  ext(
    'port-mac-address-regenerate',
    'Neutron Port MAC address regenerate',
    'Network port MAC address regenerate',
    '2018-05-03T10:00:00-00:00',
  ),
  ext('port-device-profile', 'Port device profile', 'Expose the port device profile (Cyborg)', '2020-12-17T10:00:00-00:00', {
    attributes: { ports: { device_profile: attr('PV', { default: null, validate: { type: 'type:string_or_none', arg: 255 } }) } },
  }),
  ext(
    'port-numa-affinity-policy',
    'Port NUMA affinity policy',
    'Expose the port NUMA affinity policy',
    '2020-07-08T10:00:00-00:00',
    {
      attributes: {
        ports: {
          numa_affinity_policy: attr('PUV', {
            default: null,
            validate: { type: 'type:values', arg: ['required', 'preferred', 'legacy', null] },
          }),
        },
      },
    },
  ),
  ext('port-security', 'Port Security', 'Provides port security', '2012-07-23T10:00:00-00:00', {
    attributes: {
      networks: { port_security_enabled: bool('PUV', true) },
      ports: { port_security_enabled: bool('PUV', UNSET) },
    },
  }),
  ext(
    'project-id',
    'project_id field enabled',
    'Extension that indicates that project_id field is enabled.',
    '2016-09-09T09:09:09-09:09',
  ),
  ext(
    'revision-if-match',
    'If-Match constraints based on revision_number',
    'Extension indicating that If-Match based on revision_number is supported.',
    '2016-12-11T00:00:00-00:00',
    {
      requiredExtensions: ['standard-attr-revisions'],
    },
  ),
  ...RBAC_EXTENSIONS,
  ext('security-group', 'security-group', 'The security groups extension.', '2012-10-05T10:00:00-00:00', {
    resources: [securityGroups, securityGroupRules],
    attributes: { ports: { security_groups: portSecurityGroups } },
  }),
  ext(
    'security-groups-normalized-cidr',
    'Security Group Rule normalized CIDR',
    'Show normalized remote CIDR in the security group rules',
    '2020-07-27T00:00:00-00:00',
    {
      requiredExtensions: ['security-group'],
    },
  ),
  ext(
    'security-groups-shared-filtering',
    'Security group filtering on the shared field',
    'Support filtering security groups on the shared field',
    '2021-10-05T09:00:00-00:00',
    {
      requiredExtensions: ['security-group'],
    },
  ),
  ext(
    'port-security-groups-filtering',
    'Port filtering on security groups',
    'Provides security groups filtering when listing ports',
    '2021-01-22T00:00:00-00:00',
    {
      requiredExtensions: ['security-group'],
    },
  ),
  ext(
    'stateful-security-group',
    'Stateful security group',
    'Indicates if the security group is stateful or not',
    '2019-11-26T09:00:00-00:00',
    {
      requiredExtensions: ['security-group'],
    },
  ),
  ext('sort-key-validation', 'Sort keys validation', 'Provides validation on sort keys.', '2018-06-18T10:00:00-00:00'),
  ext('sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.', '2016-06-12T00:00:00-00:00'),
  ext(
    'standard-attr-description',
    'standard-attr-description',
    'Extension to add descriptions to standard attributes',
    '2016-02-10T10:00:00-00:00',
  ),
  ext(
    'standard-attr-revisions',
    'Resource revision numbers',
    'This extension will display the revision number of neutron resources.',
    '2016-04-11T10:00:00-00:00',
  ),
  ext(
    'standard-attr-tag',
    'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip',
    'Enables to set tag on resources with standard attribute.',
    '2017-01-01T00:00:00-00:00',
  ),
  ext(
    'standard-attr-timestamp',
    'Resource timestamps',
    'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
    '2016-09-12T10:00:00-00:00',
  ),
  ext('subnet_allocation', 'Subnet Allocation', 'Enables allocation of subnets from a subnet pool', '2015-03-30T10:00:00-00:00', {
    resources: [subnetpools],
  }),
  ext(
    'subnet_onboard',
    'Subnet Onboard',
    'Provides support for onboarding subnets into subnet pools',
    '2018-12-18T09:00:00-00:00',
  ),
  ext(
    'subnet-service-types',
    'Subnet service types',
    'Provides ability to set the subnet service_types field',
    '2016-03-15T18:00:00-00:00',
    {
      attributes: {
        subnets: {
          service_types: json('PUV', { default: [], validate: { type: 'type:list_of_unique_strings', arg: 255 } }),
        },
      },
    },
  ),
  ext(
    'subnetpool-prefix-ops',
    'Subnet Pool Prefix Operations',
    'Provides support for adjusting the prefix list of subnet pools',
    '2019-02-08T10:00:00-00:00',
  ),
  ext(
    'network-ip-availability',
    'Network IP Availability',
    'Provides IP availability data for each network and subnet.',
    '2015-09-24T00:00:00-00:00',
  ),
  ext('quotas', 'Quota management support', 'Expose functions for quotas management per project', '2012-07-29T10:00:00-00:00'),
  ext(
    'quota_details',
    'Quota details management support',
    'Expose functions for quotas usage statistics per project',
    '2017-02-10T10:00:00-00:00',
    { requiredExtensions: ['quotas'] },
  ),
  ext(
    'quota-check-limit',
    'Quota engine limit check',
    'Support for checking the resource usage before applying a new quota limit',
    '2021-09-08T16:00:00-00:00',
  ),
  ext(
    'tag-ports-during-bulk-creation',
    'Tag Ports During Bulk Creation',
    'Allow to tag ports during bulk creation',
    '2019-12-24T00:00:00-00:00',
  ),
];
