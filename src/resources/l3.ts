// Routers and floating IPs (neutron-lib's l3 definition) and the extensions around them: ext-gw-mode,
// extraroute(-atomic), l3-ha, dvr, router_availability_zone, l3-flavors, l3_agent_scheduler,
// floatingip-pools, fip-port-details, flavors, service-type, auto-allocated-topology.
import { attr, bool, id, json, projectId, tenantId, virtual } from './attr.js';
import type { ExtensionDef, ResourceDef } from './types.js';
import { UNSET } from './types.js';

const common = {
  standardAttrs: true,
  taggable: true,
  allowBulk: true,
  allowPagination: true,
  allowSorting: true,
} as const;

export const routers: ResourceDef = {
  ...common,
  // Neutron's routers controller takes no bulk creates.
  allowBulk: false,
  collection: 'routers',
  member: 'router',
  path: 'routers',
  table: 'routers',
  memberActions: ['add_router_interface', 'remove_router_interface', 'add_extraroutes', 'remove_extraroutes'],
  attributes: {
    id: id(),
    name: attr('PUVFS', { default: '', validate: { type: 'type:name_string', arg: 255 } }),
    admin_state_up: bool('PUVFS', true),
    status: attr('VS'),
    tenant_id: tenantId(),
    project_id: projectId(),
    // null, {} or a dict with network_id (required), external_fixed_ips and enable_snat.
    external_gateway_info: virtual('PUV', { default: null, validate: { type: 'type:external_gw_info' } }),
    // Kept for the plugin, never shown: the gateway port and ext-gw-mode's SNAT flag.
    gw_port_id: attr(''),
    enable_snat: bool('', true),
  },
};

export const floatingips: ResourceDef = {
  ...common,
  allowBulk: false,
  collection: 'floatingips',
  member: 'floatingip',
  path: 'floatingips',
  table: 'floatingips',
  attributes: {
    id: id(),
    floating_ip_address: attr('PVFS', {
      default: null,
      convertTo: 'convert_ip_to_canonical_format',
      validate: { type: 'type:ip_address_or_none' },
    }),
    // Input only: the external subnet to allocate from.
    subnet_id: virtual('P', { default: null, validate: { type: 'type:uuid_or_none' } }),
    floating_network_id: attr('PVFS', { validate: { type: 'type:uuid' } }),
    router_id: attr('VFS'),
    port_id: attr('PUVF', {
      default: null,
      validate: { type: 'type:uuid_or_none' },
      storage: { kind: 'column', column: 'fixed_port_id' },
    }),
    fixed_ip_address: attr('PUVFS', {
      default: null,
      convertTo: 'convert_ip_to_canonical_format',
      validate: { type: 'type:ip_address_or_none' },
    }),
    tenant_id: tenantId(),
    project_id: projectId(),
    status: attr('VFS'),
    floating_port_id: attr(''),
    last_known_router_id: attr(''),
  },
};

/** The subnets of external networks a project may allocate floating IPs from. */
export const floatingipPools: ResourceDef = {
  collection: 'floatingip_pools',
  member: 'floatingip_pool',
  path: 'floatingip-pools',
  table: 'subnets',
  standardAttrs: false,
  taggable: false,
  allowBulk: false,
  allowPagination: false,
  allowSorting: false,
  attributes: {
    subnet_id: attr('V'),
    subnet_name: attr('V'),
    network_id: attr('V'),
    cidr: attr('V'),
    project_id: attr('V'),
  },
};

export const flavors: ResourceDef = {
  collection: 'flavors',
  member: 'flavor',
  path: 'flavors',
  table: 'flavors',
  standardAttrs: false,
  taggable: false,
  allowBulk: false,
  allowPagination: true,
  allowSorting: true,
  attributes: {
    id: id(),
    name: attr('PUVFS', { default: '', validate: { type: 'type:name_string', arg: 255 } }),
    description: attr('PUVFS', { default: '', validate: { type: 'type:string_or_none', arg: 1024 } }),
    service_type: attr('PVFS', { validate: { type: 'type:service_plugin_type' } }),
    service_profiles: virtual('PUV', { default: [], validate: { type: 'type:uuid_list' } }),
    enabled: bool('PUVFS', true, { convertTo: 'convert_to_boolean_if_not_none' }),
  },
};

export const serviceProfiles: ResourceDef = {
  collection: 'service_profiles',
  member: 'service_profile',
  path: 'service_profiles',
  table: 'serviceprofiles',
  standardAttrs: false,
  taggable: false,
  allowBulk: false,
  allowPagination: true,
  allowSorting: true,
  attributes: {
    id: id(),
    description: attr('PUVFS', { default: '', validate: { type: 'type:string_or_none', arg: 1024 } }),
    driver: attr('PUVFS', { default: '', validate: { type: 'type:string', arg: 1024 } }),
    // Neutron keeps it as text; anything but a string is refused rather than stored as a repr.
    metainfo: attr('PUVS', { default: '', validate: { type: 'type:string', arg: 4096 } }),
    enabled: bool('PUVFS', true, { convertTo: 'convert_to_boolean_if_not_none' }),
  },
};

export const serviceProviders: ResourceDef = {
  collection: 'service_providers',
  member: 'service_provider',
  path: 'service-providers',
  table: 'serviceprofiles',
  standardAttrs: false,
  taggable: false,
  allowBulk: false,
  allowPagination: true,
  // No attribute of a provider is a sort key.
  allowSorting: false,
  attributes: {
    service_type: attr('VF'),
    name: attr('VF'),
    default: attr('VF', { convertTo: 'convert_to_boolean' }),
  },
};

const ext = (
  alias: string,
  name: string,
  description: string,
  updated: string,
  more: Partial<ExtensionDef> = {},
): ExtensionDef => ({ alias, name, description, updated, ...more });

export const L3_EXTENSIONS: ExtensionDef[] = [
  ext(
    'router',
    'Neutron L3 Router',
    'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
    '2012-07-20T10:00:00-00:00',
    { resources: [routers, floatingips] },
  ),
  ext(
    'ext-gw-mode',
    'Neutron L3 Configurable external gateway mode',
    'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway',
    '2013-03-28T10:00:00-00:00',
    { requiredExtensions: ['router'] },
  ),
  ext('extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router', '2013-02-01T10:00:00-00:00', {
    requiredExtensions: ['router'],
    attributes: {
      routers: {
        routes: json('UV', {
          default: UNSET,
          convertTo: 'convert_none_to_empty_list',
          validate: { type: 'type:hostroutes' },
        }),
      },
    },
  }),
  ext(
    'extraroute-atomic',
    'Atomically add/remove extra routes',
    'Edit extra routes of a router on server side by atomically adding/removing extra routes',
    '2019-07-10T00:00:00+00:00',
    { requiredExtensions: ['router', 'extraroute'] },
  ),
  ext('l3-ha', 'HA Router extension', 'Adds HA capability to routers.', '2014-04-26T00:00:00-00:00', {
    requiredExtensions: ['router'],
    attributes: {
      routers: { ha: bool('PUV', UNSET, { convertTo: 'convert_to_boolean_if_not_none', adminOnly: true }) },
    },
  }),
  ext('dvr', 'Distributed Virtual Router', 'Enables configuration of Distributed Virtual Routers.', '2014-06-1T10:00:00-00:00', {
    requiredExtensions: ['router'],
    attributes: {
      routers: { distributed: bool('PUV', UNSET, { convertTo: 'convert_to_boolean_if_not_none', adminOnly: true }) },
    },
  }),
  ext(
    'router-admin-state-down-before-update',
    'Enforce Router Admin State Down Before Update Extension',
    'Ensure that the admin state of a router is down (admin_state_up=False) before updating the distributed attribute',
    '2018-12-21T10:00:00-00:00',
    { requiredExtensions: ['router'] },
  ),
  ext(
    'l3-port-ip-change-not-allowed',
    'Prevent L3 router ports IP address change extension',
    'Prevent change of IP address for some L3 router ports',
    '2018-10-09T10:00:00-00:00',
    { requiredExtensions: ['router'] },
  ),
  ext(
    'router_availability_zone',
    'Router Availability Zone',
    'Availability zone support for router.',
    '2015-01-01T10:00:00-00:00',
    {
      requiredExtensions: ['router', 'availability_zone'],
      attributes: {
        routers: {
          availability_zones: virtual('V'),
          availability_zone_hints: json('PV', { default: [], validate: { type: 'type:availability_zone_hint_list' } }),
        },
      },
    },
  ),
  ext('l3_agent_scheduler', 'L3 Agent Scheduler', 'Schedule routers among l3 agents', '2013-02-07T10:00:00-00:00'),
  ext('flavors', 'Neutron Service Flavors', 'Flavor specification for Neutron advanced services.', '2015-09-17T10:00:00-00:00', {
    resources: [flavors, serviceProfiles],
  }),
  ext('l3-flavors', 'Router Flavor Extension', 'Flavor support for routers.', '2016-05-17T00:00:00-00:00', {
    requiredExtensions: ['flavors', 'router'],
    attributes: { routers: { flavor_id: attr('PVS', { default: UNSET }) } },
  }),
  ext(
    'service-type',
    'Neutron Service Type Management',
    'API for retrieving service providers for Neutron advanced services',
    '2013-01-20T00:00:00-00:00',
    { resources: [serviceProviders] },
  ),
  ext('floatingip-pools', 'Floating IP Pools Extension', 'Provides a floating IP pools API.', '2018-03-21T10:00:00-00:00', {
    requiredExtensions: ['router'],
    resources: [floatingipPools],
  }),
  ext(
    'fip-port-details',
    'Floating IP Port Details Extension',
    'Add port_details attribute to Floating IP resource',
    '2018-04-09T10:00:00-00:00',
    { requiredExtensions: ['router'], attributes: { floatingips: { port_details: virtual('V', { default: UNSET }) } } },
  ),
  ext(
    'auto-allocated-topology',
    'Auto Allocated Topology Services',
    'Auto Allocated Topology Services.',
    '2016-01-01T00:00:00-00:00',
    {
      requiredExtensions: ['router', 'subnet_allocation', 'external-net'],
      attributes: { networks: { is_default: bool('PUVF', false, { adminOnlyWrite: true }) } },
    },
  ),
];
