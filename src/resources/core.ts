// The core resources: networks, subnets, ports (neutron-lib's network/subnet/port definitions),
// plus subnetpools and address scopes.
import { attr, bool, id, json, name, projectId, tenantId, virtual } from './attr.js';
import type { ResourceDef } from './types.js';
import { UNSET } from './types.js';

const common = {
  standardAttrs: true,
  taggable: true,
  allowBulk: true,
  allowPagination: true,
  allowSorting: true,
} as const;

export const networks: ResourceDef = {
  ...common,
  collection: 'networks',
  member: 'network',
  path: 'networks',
  table: 'networks',
  attributes: {
    id: id(),
    name: name(),
    subnets: virtual('V', { default: [] }),
    admin_state_up: bool('PUVFS', true),
    status: attr('VFS'),
    tenant_id: tenantId(),
    project_id: projectId(),
    shared: bool('PUVF', false, { adminOnlyWrite: true }),
  },
};

export const subnets: ResourceDef = {
  ...common,
  collection: 'subnets',
  member: 'subnet',
  path: 'subnets',
  table: 'subnets',
  attributes: {
    id: id(),
    name: name(),
    ip_version: attr('PVFS', { convertTo: 'convert_to_int', validate: { type: 'type:values', arg: [4, 6] } }),
    network_id: attr('PVFS', { validate: { type: 'type:uuid' } }),
    subnetpool_id: attr('PVFS', { default: UNSET, validate: { type: 'type:subnetpool_id_or_none' } }),
    prefixlen: virtual('P', { default: UNSET, convertTo: 'convert_to_int', validate: { type: 'type:non_negative' } }),
    cidr: attr('PVFS', { default: UNSET, convertTo: 'convert_cidr_to_canonical_format', validate: { type: 'type:subnet' } }),
    gateway_ip: attr('PUVFS', {
      default: UNSET,
      convertTo: 'convert_ip_to_canonical_format',
      validate: { type: 'type:ip_address_or_none' },
    }),
    allocation_pools: json('PUV', { default: UNSET, validate: { type: 'type:ip_pools' } }),
    dns_nameservers: json('PUV', {
      default: [],
      convertTo: 'convert_none_to_empty_list',
      validate: { type: 'type:nameservers' },
    }),
    host_routes: json('PUV', { default: [], convertTo: 'convert_none_to_empty_list', validate: { type: 'type:hostroutes' } }),
    tenant_id: tenantId(),
    project_id: projectId(),
    enable_dhcp: bool('PUVFS', true),
    ipv6_ra_mode: attr('PVFS', {
      default: UNSET,
      validate: { type: 'type:values', arg: ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'] },
    }),
    ipv6_address_mode: attr('PVFS', {
      default: UNSET,
      validate: { type: 'type:values', arg: ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'] },
    }),
    shared: virtual('F', { convertTo: 'convert_to_boolean' }),
  },
};

export const ports: ResourceDef = {
  ...common,
  collection: 'ports',
  member: 'port',
  path: 'ports',
  table: 'ports',
  attributes: {
    id: id(),
    name: name(),
    network_id: attr('PVFS', { validate: { type: 'type:uuid' } }),
    admin_state_up: bool('PUVFS', true),
    mac_address: attr('PUVFS', {
      default: UNSET,
      convertTo: 'convert_to_sanitized_mac_address',
      // null asks for a new MAC (port-mac-address-regenerate).
      validate: { type: 'type:mac_address_or_none' },
    }),
    fixed_ips: virtual('PUVF', {
      default: UNSET,
      convertFilterTo: 'convert_kvp_list_to_dict',
      validate: { type: 'type:fixed_ips' },
    }),
    device_id: attr('PUVFS', { default: '', validate: { type: 'type:string', arg: 255 } }),
    device_owner: attr('PUVFS', { default: '', validate: { type: 'type:string', arg: 255 } }),
    tenant_id: tenantId(),
    project_id: projectId(),
    status: attr('VFS'),
  },
};

export const subnetpools: ResourceDef = {
  ...common,
  collection: 'subnetpools',
  member: 'subnetpool',
  path: 'subnetpools',
  table: 'subnetpools',
  // onboard_network_subnets: subnet_onboard's action (the extension is always enabled).
  memberActions: ['add_prefixes', 'remove_prefixes', 'onboard_network_subnets'],
  attributes: {
    id: id(),
    name: attr('PUVFS', { validate: { type: 'type:not_empty_string' } }),
    tenant_id: tenantId(),
    project_id: projectId(),
    prefixes: json('PUV', { validate: { type: 'type:subnet_list' } }),
    default_quota: attr('PUVFS', {
      default: UNSET,
      convertTo: 'convert_to_int_if_not_none',
      validate: { type: 'type:non_negative' },
    }),
    ip_version: attr('VFS'),
    default_prefixlen: attr('PUVFS', {
      default: UNSET,
      convertTo: 'convert_to_int',
      validate: { type: 'type:non_negative' },
      renderAsString: true,
    }),
    min_prefixlen: attr('PUVFS', {
      default: UNSET,
      convertTo: 'convert_to_int',
      validate: { type: 'type:non_negative' },
      renderAsString: true,
    }),
    max_prefixlen: attr('PUVFS', {
      default: UNSET,
      convertTo: 'convert_to_int',
      validate: { type: 'type:non_negative' },
      renderAsString: true,
    }),
    is_default: bool('PUVFS', false, { adminOnlyWrite: true }),
    shared: bool('PVFS', false, { adminOnlyWrite: true }),
  },
};

export const addressScopes: ResourceDef = {
  ...common,
  collection: 'address_scopes',
  member: 'address_scope',
  path: 'address-scopes',
  table: 'address_scopes',
  attributes: {
    id: id(),
    name: attr('PUVFS', { default: '', validate: { type: 'type:string', arg: 255 } }),
    tenant_id: tenantId(),
    project_id: projectId(),
    shared: bool('PUVFS', false, { adminOnlyWrite: true }),
    ip_version: attr('PVFS', { convertTo: 'convert_to_int', validate: { type: 'type:values', arg: [4, 6] } }),
  },
};
