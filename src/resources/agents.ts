// Agents and availability zones (neutron-lib's agent, agent_sort_key, agent-resources-synced,
// availability_zone, network_availability_zone and availability_zone_filter definitions). Agents register themselves by
// reporting their state over RPC: nothing here may be set by POST.
import { attr, json, virtual } from './attr.js';
import type { AttributeMap, ExtensionDef, ResourceDef } from './types.js';

/** The attributes of the `agent` extension itself. */
const AGENT_ATTRIBUTES: AttributeMap = {
  id: attr('VF', { validate: { type: 'type:uuid' } }),
  agent_type: attr('VF'),
  binary: attr('VF'),
  topic: attr('VF'),
  host: attr('VF'),
  admin_state_up: attr('UVF', { convertTo: 'convert_to_boolean' }),
  created_at: attr('V'),
  started_at: attr('V'),
  heartbeat_timestamp: attr('V'),
  // Heartbeat within [DEFAULT] agent_down_time; computed, filtered by the plugin.
  alive: virtual('VF', { convertTo: 'convert_to_boolean' }),
  configurations: json('V'),
  description: attr('UVF', { validate: { type: 'type:string_or_none', arg: 255 } }),
};

export const agents: ResourceDef = {
  collection: 'agents',
  member: 'agent',
  path: 'agents',
  table: 'agents',
  standardAttrs: false,
  taggable: false,
  allowBulk: false,
  allowPagination: true,
  allowSorting: true,
  attributes: {
    ...AGENT_ATTRIBUTES,
    // Kept for the RPC layer's resource version tracking; Neutron never shows it in the API.
    resource_versions: json(''),
  },
};

/** Derived from the agents of each zone; no table of its own. */
export const availabilityZones: ResourceDef = {
  collection: 'availability_zones',
  member: 'availability_zone',
  path: 'availability_zones',
  table: 'agents',
  standardAttrs: false,
  taggable: false,
  allowBulk: false,
  // Neutron's controller for it neither pages nor sorts.
  allowPagination: false,
  allowSorting: false,
  attributes: {
    name: attr('VF'),
    resource: attr('VF'),
    state: attr('VF'),
  },
};

/** agent_sort_key: every agent attribute but `configurations` becomes a sort key. */
const sortable: AttributeMap = Object.fromEntries(
  Object.entries(AGENT_ATTRIBUTES)
    .filter(([k]) => k !== 'configurations')
    .map(([k, a]) => [k, { ...a, isSort: true }]),
);

export const AGENT_EXTENSIONS: ExtensionDef[] = [
  {
    alias: 'agent',
    name: 'agent',
    description: 'The agent management extension.',
    updated: '2013-02-03T10:00:00-00:00',
    resources: [agents],
  },
  {
    alias: 'agent-resources-synced',
    name: "Agent's Resource View Synced to Placement",
    description: 'Stores success/failure of last sync to Placement',
    updated: '2018-12-19T00:00:00-00:00',
    requiredExtensions: ['agent'],
    attributes: { agents: { resources_synced: attr('V', { convertTo: 'convert_to_boolean' }) } },
  },
  {
    alias: 'agent_sort_key',
    name: 'Agents Sort Key',
    description: 'Enabling the keyword sort_key for sorting in agents.',
    updated: '2013-02-03T10:00:00-00:00',
    attributes: { agents: sortable },
  },
  {
    alias: 'availability_zone',
    name: 'Availability Zone',
    description: 'The availability zone extension.',
    updated: '2015-01-01T10:00:00-00:00',
    requiredExtensions: ['agent'],
    resources: [availabilityZones],
    attributes: { agents: { availability_zone: attr('VF') } },
  },
  {
    alias: 'dhcp_agent_scheduler',
    name: 'DHCP Agent Scheduler',
    description: 'Schedule networks among dhcp agents',
    updated: '2013-02-07T10:00:00-00:00',
    requiredExtensions: ['agent'],
  },
  {
    alias: 'network_availability_zone',
    name: 'Network Availability Zone',
    description: 'Availability zone support for network.',
    updated: '2015-01-01T10:00:00-00:00',
    requiredExtensions: ['availability_zone'],
    attributes: {
      networks: {
        // The zones of the DHCP agents hosting the network; hints are checked against the zones
        // DHCP agents report (the default DHCP scheduler, as Neutron's, does not filter by them).
        availability_zones: virtual('V'),
        availability_zone_hints: json('PVS', { default: [], validate: { type: 'type:availability_zone_hint_list' } }),
      },
    },
  },
  {
    alias: 'availability_zone_filter',
    name: 'Availability Zone Filter Extension',
    description: 'Add filter parameters to AvailabilityZone resource',
    updated: '2018-06-22T10:00:00-00:00',
    requiredExtensions: ['availability_zone'],
  },
];
