// The typed contract between the server and its agents: topics, methods, and the shapes of their
// arguments and results. Names and wire shapes are Neutron's (neutron-api.md §4) wherever Neutron
// has the call, so a Neutron agent's messages mean the same here. Beyond them, agents being
// reconcilers (DESIGN.md, principle 3), one broad call returns the desired state of a whole host
// (get_host_state), and notifications only need to say what changed.
//
// Types only, plus the topic names: agents import this without importing any server code.

/** Topics (queue names) of Neutron's RPC. */
export const TOPIC = {
  /** Agent → server: ML2 device and tunnel calls, get_host_state. */
  PLUGIN: 'q-plugin',
  /** Agent → server: report_state. */
  REPORTS: 'q-reports-plugin',
  /** L3 agent → server. */
  L3_PLUGIN: 'q-l3-plugin',
  /** Server → DHCP agents (`dhcp_agent.<host>`). */
  DHCP_AGENT: 'dhcp_agent',
  /** Server → L3 agents (fanout, or `l3_agent.<host>`). */
  L3_AGENT: 'l3_agent',
  /** Prefix of the server → agents notification topics. */
  AGENT_NOTIFIER: 'q-agent-notifier',
} as const;

export type NotifierResource = 'port' | 'network' | 'security_group' | 'address_group' | 'tunnel' | 'l2population';
export type NotifierOp = 'create' | 'update' | 'delete';

/** Neutron's topics.get_topic_name: `q-agent-notifier-<resource>-<op>` (fanout, or `.<host>`). */
export const notifierTopic = (resource: NotifierResource, op: NotifierOp): string => `${TOPIC.AGENT_NOTIFIER}-${resource}-${op}`;

// ----------------------------------------------------------------------------- shared shapes

export type AgentStatus = 'AGENT_NEW' | 'AGENT_REVIVED' | 'AGENT_ALIVE';

/** What an agent reports about itself (the inner `agent_state` of report_state). */
export interface AgentState {
  binary: string;
  host: string;
  topic: string;
  agent_type: string;
  /** bridge_mappings, interface_mappings, tunnel_types, tunneling_ip, l2_population, devices, … */
  configurations: Record<string, unknown>;
  /** Set on the first report after the agent (re)started. */
  start_flag?: boolean;
  availability_zone?: string | null;
  resource_versions?: Record<string, string> | null;
  uuid?: string;
}

export interface Segment {
  /** The segment's id, when the server keeps segments as objects. */
  id?: string;
  network_type: string;
  physical_network: string | null;
  segmentation_id: number | null;
}

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface AddressPair {
  ip_address: string;
  mac_address: string;
}

/** One l2population forwarding entry: [mac, ip]. */
export type FdbEntry = [mac: string, ip: string];

/** The entry that makes a VTEP receive a network's broadcast and unknown-unicast traffic. */
export const FLOODING_ENTRY: FdbEntry = ['00:00:00:00:00:00', '0.0.0.0'];

/** l2population's view of one network: per remote VTEP IP (agent tunnelling IP), its entries. */
export interface FdbNetwork {
  /** The segmentation id (VNI or VLAN id), as Neutron names it here. */
  segment_id: number | null;
  network_type: string;
  ports: Record<string, FdbEntry[]>;
}

/** `{network_id: FdbNetwork}`, the argument of add_fdb_entries/remove_fdb_entries. */
export type FdbEntries = Record<string, FdbNetwork>;

/** update_fdb_entries' argument: IP changes of ports, per network and VTEP. */
export interface FdbUpdate {
  chg_ip: Record<string, Record<string, { before: FdbEntry[]; after: FdbEntry[] }>>;
}

export interface SecurityGroupRule {
  id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id?: string | null;
}

// ----------------------------------------------------------------------------- agent → server

/** report_state's arguments, nested as Neutron's PluginReportStateAPI sends them. */
export interface ReportStateArgs {
  agent_state: { agent_state: AgentState };
  /** The agent's clock, UTC, oslo strtime: '2026-01-02T03:04:05.123456'. */
  time: string;
}

export interface HostArgs {
  host: string;
  agent_id: string;
}

/** A port bound to the host, with everything an L2 agent needs to wire it. */
export interface HostPort {
  id: string;
  network_id: string;
  mac_address: string;
  fixed_ips: FixedIp[];
  admin_state_up: boolean;
  status: string;
  device_owner: string;
  device_id: string;
  /** The segment the port is bound to on this host. */
  network_type: string;
  physical_network: string | null;
  segmentation_id: number | null;
  mtu: number;
  port_security_enabled: boolean;
  allowed_address_pairs: AddressPair[];
  security_groups: string[];
  revision_number: number;
  vif_type?: string;
  vnic_type?: string;
  qos_policy_id?: string | null;
}

export interface HostNetwork {
  id: string;
  admin_state_up: boolean;
  mtu: number;
  segments: Segment[];
  revision_number: number;
  shared?: boolean;
  router_external?: boolean;
}

export interface HostSecurityGroup {
  id: string;
  stateful: boolean;
  revision_number: number;
  rules: SecurityGroupRule[];
}

/** The desired state of one host: what its agents reconcile the kernel against. */
export interface HostState {
  host: string;
  /** Ports bound to the host. */
  ports: HostPort[];
  /** The networks of those ports. */
  networks: HostNetwork[];
  /** The security groups of those ports, by id. */
  security_groups: Record<string, HostSecurityGroup>;
  /** As Neutron's security_group_info_for_ports: for each group that a rule of those groups names
   * as remote_group_id, its members' fixed IPs and allowed address pairs; for each address group a
   * rule names as remote_address_group_id, its addresses (CIDRs). By group id. */
  sg_member_ips: Record<string, { IPv4: string[]; IPv6: string[] }>;
  /** l2population: per network of the host, the remote VTEPs and their [mac, ip] entries. */
  fdb: FdbEntries;
}

export interface DevicesArgs extends HostArgs {
  /** Port ids, or MAC addresses (the linuxbridge agent's devices). */
  devices: string[];
}

/** get_device_details' answer for a port bound to the asking host. */
export interface DeviceDetails {
  device: string;
  network_id: string;
  port_id: string;
  mac_address: string;
  admin_state_up: boolean;
  network_type: string;
  segmentation_id: number | null;
  physical_network: string | null;
  mtu: number;
  fixed_ips: FixedIp[];
  device_owner: string;
  allowed_address_pairs: AddressPair[];
  port_security_enabled: boolean;
  qos_policy_id: string | null;
  qos_network_policy_id: string | null;
  profile: Record<string, unknown>;
  propagate_uplink_status: boolean;
}

/** Unknown or unbound port: `{device}`; bound to another host: `{device, no_active_binding: true}`. */
export type DeviceDetailsReply = DeviceDetails | { device: string; no_active_binding?: true };

export interface UpdateDeviceListArgs extends HostArgs {
  devices_up: string[];
  devices_down: string[];
  /** Ask the server to resend this host the tunnel and fdb state (after an agent restart). */
  refresh_tunnels?: boolean;
}

export interface UpdateDeviceListResult {
  devices_up: string[];
  failed_devices_up: string[];
  devices_down: string[];
  failed_devices_down: string[];
}

export interface UpdateDeviceArgs extends HostArgs {
  device: string;
  refresh_tunnels?: boolean;
}

/** What changed security groups and address groups look like now (the agent asks after a
 * security_groups_rule_updated, security_groups_member_updated or address_groups_updated). */
export interface SecurityGroupInfoArgs extends HostArgs {
  /** Groups whose rules (and statefulness) are wanted. */
  security_groups: string[];
  /** Groups and address groups whose addresses are wanted (besides those the rules name). */
  remote_groups: string[];
}

export interface SecurityGroupInfo {
  /** The groups asked for that exist, with their rules. */
  security_groups: Record<string, HostSecurityGroup>;
  /** The addresses of `remote_groups` and of every remote group or address group those rules name. */
  sg_member_ips: HostState['sg_member_ips'];
}

export interface TunnelSyncArgs {
  tunnel_ip: string;
  tunnel_type: string;
  host: string;
}

export interface TunnelSyncResult {
  tunnels: Array<{ ip_address: string; host: string | null }>;
}

/** The calls agents make to the server: arguments and result of each. */
export interface ServerMethods {
  report_state: { args: ReportStateArgs; result: AgentStatus };
  get_host_state: { args: HostArgs; result: HostState };
  get_security_group_info: { args: SecurityGroupInfoArgs; result: SecurityGroupInfo };
  get_devices_details_list: { args: DevicesArgs; result: DeviceDetailsReply[] };
  update_device_list: { args: UpdateDeviceListArgs; result: UpdateDeviceListResult };
  update_device_up: { args: UpdateDeviceArgs; result: null };
  update_device_down: { args: UpdateDeviceArgs; result: { device: string; exists: boolean } };
  tunnel_sync: { args: TunnelSyncArgs; result: TunnelSyncResult };
}

/** The topic each server method is served on (Neutron's: report_state on its own topic). */
export const SERVER_METHOD_TOPIC: { readonly [M in keyof ServerMethods]: string } = {
  report_state: TOPIC.REPORTS,
  get_host_state: TOPIC.PLUGIN,
  get_security_group_info: TOPIC.PLUGIN,
  get_devices_details_list: TOPIC.PLUGIN,
  update_device_list: TOPIC.PLUGIN,
  update_device_up: TOPIC.PLUGIN,
  update_device_down: TOPIC.PLUGIN,
  tunnel_sync: TOPIC.PLUGIN,
};

// ----------------------------------------------------------------------------- server → agents

/** A port in a notification: its id is what counts (the agent fetches the rest). */
export interface NotifiedPort {
  id: string;
  network_id?: string;
  revision_number?: number;
  [key: string]: unknown;
}

/** Notifications to every L2 agent (fanout casts), with Neutron's method names and arguments. */
export interface AgentNotifications {
  port_update: {
    port: NotifiedPort;
    network_type: string | null;
    segmentation_id: number | null;
    physical_network: string | null;
  };
  port_delete: { port_id: string; network_id?: string };
  network_update: { network: { id: string; revision_number?: number; [key: string]: unknown } };
  network_delete: { network_id: string };
  /** The rules (or statefulness) of these groups changed. */
  security_groups_rule_updated: { security_groups: string[] };
  /** Ports joined or left these groups, or their addresses changed. */
  security_groups_member_updated: { security_groups: string[] };
  /** The addresses of these address groups changed (Neutron pushes address groups as objects;
   * here they get a notification of their own, like security groups). */
  address_groups_updated: { address_groups: string[] };
  add_fdb_entries: { fdb_entries: FdbEntries };
  remove_fdb_entries: { fdb_entries: FdbEntries };
  update_fdb_entries: { fdb_entries: FdbUpdate };
  tunnel_update: { tunnel_ip: string; tunnel_type: string };
  tunnel_delete: { tunnel_ip: string; tunnel_type: string };
}

export const NOTIFICATION_TOPIC: { readonly [M in keyof AgentNotifications]: string } = {
  port_update: notifierTopic('port', 'update'),
  port_delete: notifierTopic('port', 'delete'),
  network_update: notifierTopic('network', 'update'),
  network_delete: notifierTopic('network', 'delete'),
  security_groups_rule_updated: notifierTopic('security_group', 'update'),
  security_groups_member_updated: notifierTopic('security_group', 'update'),
  address_groups_updated: notifierTopic('address_group', 'update'),
  add_fdb_entries: notifierTopic('l2population', 'update'),
  remove_fdb_entries: notifierTopic('l2population', 'update'),
  update_fdb_entries: notifierTopic('l2population', 'update'),
  tunnel_update: notifierTopic('tunnel', 'update'),
  tunnel_delete: notifierTopic('tunnel', 'delete'),
};

/** Neutron's DHCP agent notifications (casts to `dhcp_agent.<host>`, argument `payload`). */
export type DhcpEvent =
  | 'network_create_end'
  | 'network_update_end'
  | 'network_delete_end'
  | 'subnet_create_end'
  | 'subnet_update_end'
  | 'subnet_delete_end'
  | 'port_create_end'
  | 'port_update_end'
  | 'port_delete_end';

export interface DhcpPayload {
  network?: { id: string; [key: string]: unknown };
  network_id?: string;
  subnet?: { id: string; network_id: string; [key: string]: unknown };
  subnet_id?: string;
  port?: { id: string; network_id: string; [key: string]: unknown };
  port_id?: string;
  fixed_ips?: FixedIp[];
}

/** Notifications to DHCP agents (to one host's). */
export type DhcpAgentNotifications = { [E in DhcpEvent]: { payload: DhcpPayload } };

// ----------------------------------------------------------------------------- L3 (routers)

/** The agent_type an L3 agent reports, which the router scheduler schedules to. */
export const AGENT_TYPE_L3 = 'L3 agent';

/** Router port device owners (neutron-lib constants). */
export const DEVICE_OWNER = {
  ROUTER_INTF: 'network:router_interface',
  ROUTER_GW: 'network:router_gateway',
  FLOATINGIP: 'network:floatingip',
  ROUTER_SNAT: 'network:router_centralized_snat',
  HA_REPLICATED_INT: 'network:ha_router_replicated_interface',
  ROUTER_HA_INTF: 'network:router_ha_interface',
  DVR_INTERFACE: 'network:router_interface_distributed',
} as const;

/** A subnet of a router port's network, as l3_db's _populate_mtu_and_subnets_for_ports gives it
 * (plus `ip_version`, which Neutron's agent derives from the CIDR). */
export interface RouterSubnet {
  id: string;
  cidr: string;
  gateway_ip: string | null;
  ip_version: 4 | 6;
  dns_nameservers: string[];
  ipv6_ra_mode: string | null;
  subnetpool_id: string | null;
}

/** A router port's fixed IP with its subnet's prefix length. */
export interface RouterFixedIp extends FixedIp {
  prefixlen: number;
}

/** A router's gateway (`network:router_gateway`) or interface (`network:router_interface`) port,
 * as sync_routers gives it: the port's own attributes, plus `subnets` (the subnets of its fixed
 * IPs), `extra_subnets` (the network's other subnets), `address_scopes` and the network's `mtu`. */
export interface RouterPort {
  id: string;
  name: string;
  network_id: string;
  mac_address: string;
  fixed_ips: RouterFixedIp[];
  subnets: RouterSubnet[];
  extra_subnets: RouterSubnet[];
  /** Per IP version ('4', '6'), the address scope of the network's subnets. */
  address_scopes: Record<'4' | '6', string | null>;
  mtu: number;
  device_owner: string;
  /** The router's id. */
  device_id: string;
  admin_state_up: boolean;
  status: string;
  project_id: string;
  tenant_id: string;
  'binding:host_id': string;
  revision_number: number;
}

/** A floating IP associated with a router's fixed port (`_floatingips`). */
export interface RouterFloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  /** The port it is associated with, its address, and the router that connects them. */
  port_id: string;
  fixed_ip_address: string;
  router_id: string;
  status: string;
  project_id: string;
  tenant_id: string;
  fixed_ip_address_scope: string | null;
  revision_number: number;
}

/** external_gateway_info (with ext-gw-mode's enable_snat). */
export interface ExternalGatewayInfo {
  network_id: string;
  enable_snat: boolean;
  external_fixed_ips: FixedIp[];
}

/** An extra route (extraroute). */
export interface RouterRoute {
  destination: string;
  nexthop: string;
}

/** One router as sync_routers returns it (Neutron's get_sync_data): the API's router dict, its
 * gateway port, interfaces and associated floating IPs. `_interfaces` and `_floatingips` are
 * always present here (Neutron omits them when empty; its agent reads them with a default). */
export interface SyncRouter {
  id: string;
  name: string;
  description: string;
  project_id: string;
  tenant_id: string;
  admin_state_up: boolean;
  status: string;
  ha: boolean;
  distributed: boolean;
  flavor_id: string | null;
  availability_zone_hints: string[];
  external_gateway_info: ExternalGatewayInfo | null;
  gw_port_id: string | null;
  /** external_gateway_info.enable_snat at the top level, when the router has a gateway. */
  enable_snat?: boolean;
  gw_port: RouterPort | null;
  routes: RouterRoute[];
  _interfaces: RouterPort[];
  _floatingips: RouterFloatingIp[];
  revision_number: number;
}

/** Floating IP operational statuses. */
export type FloatingIpStatus = 'ACTIVE' | 'DOWN' | 'ERROR';

/** The calls L3 agents make to the server, on topic q-l3-plugin (Neutron's L3RpcCallback). */
export interface L3PluginMethods {
  /** The routers scheduled to `host` (only those of `router_ids` when given), full. As Neutron's,
   * it binds their gateway and interface ports to `host` first (binding:host_id), so that the
   * host's L2 agent wires them and they turn ACTIVE. Unknown ids are left out. */
  sync_routers: { args: { host: string; router_ids?: string[] | null }; result: SyncRouter[] };
  /** The ids of the routers scheduled to `host` (after scheduling unhosted routers to it). */
  get_router_ids: { args: { host: string }; result: string[] };
  /** The agent's view of floating IPs of `router_id`: `{fip_id: status}`. The router's other
   * floating IPs that are no longer associated are set DOWN. */
  update_floatingip_statuses: {
    args: { router_id: string; fip_statuses: Record<string, FloatingIpStatus> };
    result: null;
  };
  /** The service plugins loaded: Neutron's plugin types ('CORE', 'L3_ROUTER_NAT', …). */
  get_service_plugin_list: { args: Record<string, never>; result: string[] };
}

export const L3_PLUGIN_METHODS: readonly (keyof L3PluginMethods)[] = [
  'sync_routers',
  'get_router_ids',
  'update_floatingip_statuses',
  'get_service_plugin_list',
];

/** Notifications to L3 agents, on `l3_agent` (fanout) or `l3_agent.<host>` (Neutron's
 * L3AgentNotifyAPI): routers_updated goes to the hosts the routers are scheduled to,
 * router_deleted fans out, the rest go to one host. */
export interface L3AgentNotifications {
  routers_updated: { routers: string[]; operation?: string };
  router_deleted: { router_id: string };
  router_added_to_agent: { payload: string[] };
  router_removed_from_agent: { payload: { router_id: string } };
  agent_updated: { payload: { admin_state_up: boolean } };
}

export const L3_AGENT_NOTIFICATIONS: readonly (keyof L3AgentNotifications)[] = [
  'routers_updated',
  'router_deleted',
  'router_added_to_agent',
  'router_removed_from_agent',
  'agent_updated',
];
