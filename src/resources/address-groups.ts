// Address groups (neutron-lib's address_group, rbac_address_groups and
// security_groups_remote_address_group definitions): named sets of CIDRs that security group
// rules name as their remote side, shareable through RBAC.
import { attr, id, projectId, tenantId, virtual } from './attr.js';
import type { ExtensionDef, ResourceDef } from './types.js';
import { UNSET } from './types.js';

export const addressGroups: ResourceDef = {
  collection: 'address_groups',
  member: 'address_group',
  path: 'address-groups',
  table: 'address_groups',
  // Neutron shows address groups without the standard attributes (it keeps them: the add and
  // remove actions answer with revision_number and timestamps).
  standardAttrs: false,
  taggable: false,
  allowBulk: true,
  allowPagination: true,
  allowSorting: true,
  memberActions: ['add_addresses', 'remove_addresses'],
  attributes: {
    id: id(),
    name: attr('PUVFS', { default: '', validate: { type: 'type:string', arg: 255 } }),
    description: attr('PUVFS', { default: '', validate: { type: 'type:string', arg: 1024 } }),
    tenant_id: tenantId(),
    project_id: projectId(),
    addresses: virtual('PV', {
      default: UNSET,
      convertTo: 'convert_none_to_empty_list',
      validate: { type: 'type:subnet_list' },
    }),
    // Computed per caller from RBAC policies, used by policy rules, never shown.
    shared: virtual('', { default: false, convertTo: 'convert_to_boolean' }),
  },
};

const ext = (alias: string, name: string, description: string, updated: string, more: Partial<ExtensionDef> = {}) => ({
  alias,
  name,
  description,
  updated,
  ...more,
});

export const ADDRESS_GROUP_EXTENSIONS: ExtensionDef[] = [
  ext('address-group', 'Address group', 'Support address group', '2020-07-15T10:00:00-00:00', {
    resources: [addressGroups],
    requiredExtensions: ['security-group'],
  }),
  ext(
    'rbac-address-group',
    'Add address_group type to RBAC',
    'Add address_group type to network RBAC',
    '2021-01-20T00:00:00-00:00',
    {
      requiredExtensions: ['rbac-policies', 'security-group'],
    },
  ),
  ext(
    'security-groups-remote-address-group',
    'Remote address group id field for security group rules',
    'Add new field of remote address group id in SG rules',
    '2020-08-25T10:00:00-00:00',
    {
      requiredExtensions: ['security-group'],
      attributes: {
        security_group_rules: {
          // No validator in neutron-lib: a value that names no address group is AddressGroupNotFound.
          remote_address_group_id: attr('PVFS', { default: null }),
        },
      },
    },
  ),
];
