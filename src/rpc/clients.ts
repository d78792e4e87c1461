// Typed helpers over the contract, so that neither the server's plugins nor the agents write a topic
// or method name by hand: ServerRpcClient (an agent calling the server), AgentNotifier (the server
// telling agents), serveAgentRpc (the server answering agents) and the agents' listening helpers.
import {
  type AgentNotifications,
  type AgentState,
  type AgentStatus,
  type DeviceDetailsReply,
  type DhcpAgentNotifications,
  type DhcpEvent,
  type DhcpPayload,
  type FdbEntries,
  type FdbUpdate,
  type FloatingIpStatus,
  type HostState,
  L3_AGENT_NOTIFICATIONS,
  L3_PLUGIN_METHODS,
  type L3AgentNotifications,
  type L3PluginMethods,
  NOTIFICATION_TOPIC,
  type NotifiedPort,
  SERVER_METHOD_TOPIC,
  type SecurityGroupInfo,
  type Segment,
  type ServerMethods,
  type SyncRouter,
  TOPIC,
  type TunnelSyncResult,
  type UpdateDeviceListResult,
} from './contract.js';
import type { Handler, Listener, MessageOptions, RpcContext, Transport } from './transport.js';

/** A handler of one contract method: its typed arguments in, its typed result (or a promise) out. */
export type TypedHandler<A, R> = (args: A, ctx: RpcContext) => R | Promise<R>;

/** What the server implements for agents (the plugin that reads the database). */
export type ServerRpcHandlers = {
  [M in keyof ServerMethods]: TypedHandler<ServerMethods[M]['args'], ServerMethods[M]['result']>;
};

/** What the server's L3 service plugin implements for L3 agents. */
export type L3PluginRpcHandlers = {
  [M in keyof L3PluginMethods]: TypedHandler<L3PluginMethods[M]['args'], L3PluginMethods[M]['result']>;
};

export type AgentNotificationHandlers = { [M in keyof AgentNotifications]?: TypedHandler<AgentNotifications[M], unknown> };
export type DhcpAgentHandlers = { [M in keyof DhcpAgentNotifications]?: TypedHandler<DhcpAgentNotifications[M], unknown> };
export type L3AgentHandlers = { [M in keyof L3AgentNotifications]?: TypedHandler<L3AgentNotifications[M], unknown> };

/** Neutron's versions of the APIs these methods belong to, sent along as oslo does. */
const VERSION = '1.0';

/** oslo's strtime: UTC, microseconds, no zone. */
export const osloTime = (d = new Date()): string => `${d.toISOString().slice(0, 23)}000`;

/** Several listeners stopped as one. */
function listenerOf(listeners: Listener[]): Listener {
  return { stop: async () => void (await Promise.allSettled(listeners.map((l) => l.stop()))) };
}

/** The handlers of `handlers` (an object or class instance), bound to it, grouped by topic. */
function byTopic(
  handlers: object,
  methods: readonly string[],
  topicOf: (method: string) => string,
): Map<string, Record<string, Handler>> {
  const groups = new Map<string, Record<string, Handler>>();
  for (const method of methods) {
    const fn = (handlers as Record<string, unknown>)[method];
    if (typeof fn !== 'function') continue;
    const topic = topicOf(method);
    let group = groups.get(topic);
    if (!group) {
      group = {};
      groups.set(topic, group);
    }
    group[method] = (fn as Handler).bind(handlers);
  }
  return groups;
}

/** Starts listeners one after the other; if one fails, stops those already started. */
async function startAll(starts: Array<() => Promise<Listener>>): Promise<Listener> {
  const listeners: Listener[] = [];
  try {
    for (const start of starts) listeners.push(await start());
  } catch (err) {
    await listenerOf(listeners).stop();
    throw err;
  }
  return listenerOf(listeners);
}

// ----------------------------------------------------------------------------- server side

/** Serves the agent-facing API: report_state on q-reports-plugin, the rest on q-plugin (and, with
 * `host`, on `<topic>.<host>` too, as neutron-server does). A method missing from `handlers`
 * answers NoSuchMethod. */
export function serveAgentRpc(
  transport: Transport,
  handlers: Partial<ServerRpcHandlers>,
  opts: { host?: string } = {},
): Promise<Listener> {
  const groups = byTopic(handlers, Object.keys(SERVER_METHOD_TOPIC), (m) => SERVER_METHOD_TOPIC[m as keyof ServerMethods]);
  // Every topic is served, so that what is not implemented answers NoSuchMethod instead of timing out.
  for (const topic of new Set(Object.values(SERVER_METHOD_TOPIC))) if (!groups.has(topic)) groups.set(topic, {});
  return startAll(
    [...groups].map(
      ([topic, h]) =>
        () =>
          transport.listen(topic, opts.host, h),
    ),
  );
}

/** Serves the L3 agents' calls on q-l3-plugin (and `q-l3-plugin.<host>` with `host`). A method
 * missing from `handlers` answers NoSuchMethod. */
export function serveL3PluginRpc(
  transport: Transport,
  handlers: Partial<L3PluginRpcHandlers>,
  opts: { host?: string } = {},
): Promise<Listener> {
  const group = byTopic(handlers, L3_PLUGIN_METHODS, () => TOPIC.L3_PLUGIN).get(TOPIC.L3_PLUGIN) ?? {};
  return transport.listen(TOPIC.L3_PLUGIN, opts.host, group);
}

/** What the server uses to tell agents that something changed (casts; each resolves once the bus
 * has the message and rejects with RpcTransportError when it could not be sent in time). */
export class AgentNotifier {
  constructor(
    private readonly transport: Transport,
    private readonly opts: Pick<MessageOptions, 'timeoutMs' | 'context'> = {},
  ) {}

  portUpdate(port: NotifiedPort, segment: Pick<Segment, 'network_type' | 'segmentation_id' | 'physical_network'> | null) {
    return this.notify('port_update', {
      port,
      network_type: segment?.network_type ?? null,
      segmentation_id: segment?.segmentation_id ?? null,
      physical_network: segment?.physical_network ?? null,
    });
  }
  portDelete(portId: string, networkId?: string) {
    return this.notify('port_delete', networkId === undefined ? { port_id: portId } : { port_id: portId, network_id: networkId });
  }
  networkUpdate(network: AgentNotifications['network_update']['network']) {
    return this.notify('network_update', { network });
  }
  networkDelete(networkId: string) {
    return this.notify('network_delete', { network_id: networkId });
  }
  securityGroupsRuleUpdated(securityGroupIds: string[]) {
    return this.notify('security_groups_rule_updated', { security_groups: securityGroupIds });
  }
  securityGroupsMemberUpdated(securityGroupIds: string[]) {
    return this.notify('security_groups_member_updated', { security_groups: securityGroupIds });
  }
  addressGroupsUpdated(addressGroupIds: string[]) {
    return this.notify('address_groups_updated', { address_groups: addressGroupIds });
  }
  /** To every L2 agent, or with `host` to that host's only (l2population's agent_fanout). */
  addFdbEntries(entries: FdbEntries, host?: string) {
    return this.notify('add_fdb_entries', { fdb_entries: entries }, host);
  }
  removeFdbEntries(entries: FdbEntries, host?: string) {
    return this.notify('remove_fdb_entries', { fdb_entries: entries }, host);
  }
  updateFdbEntries(update: FdbUpdate, host?: string) {
    return this.notify('update_fdb_entries', { fdb_entries: update }, host);
  }
  tunnelUpdate(tunnelIp: string, tunnelType: string) {
    return this.notify('tunnel_update', { tunnel_ip: tunnelIp, tunnel_type: tunnelType });
  }
  tunnelDelete(tunnelIp: string, tunnelType: string) {
    return this.notify('tunnel_delete', { tunnel_ip: tunnelIp, tunnel_type: tunnelType });
  }

  /** A DHCP agent notification to the agent on `host`. */
  dhcp(host: string, event: DhcpEvent, payload: DhcpPayload): Promise<void> {
    return this.transport.cast({ topic: TOPIC.DHCP_AGENT, server: host }, event, { payload }, this.msgOpts());
  }

  /** Routers changed: to the L3 agent on `host`, or to every L3 agent. */
  routersUpdated(routerIds: string[], host?: string): Promise<void> {
    return this.l3('routers_updated', { routers: routerIds }, host);
  }
  /** A router is gone (Neutron fans it out to every L3 agent). */
  routerDeleted(routerId: string, host?: string): Promise<void> {
    return this.l3('router_deleted', { router_id: routerId }, host);
  }
  /** Routers were scheduled to the L3 agent on `host`. */
  routerAddedToAgent(routerIds: string[], host: string): Promise<void> {
    return this.l3('router_added_to_agent', { payload: routerIds }, host);
  }
  /** A router was unscheduled from the L3 agent on `host`. */
  routerRemovedFromAgent(routerId: string, host: string): Promise<void> {
    return this.l3('router_removed_from_agent', { payload: { router_id: routerId } }, host);
  }
  /** The L3 agent on `host` was enabled or disabled by an admin. */
  l3AgentUpdated(adminStateUp: boolean, host: string): Promise<void> {
    return this.l3('agent_updated', { payload: { admin_state_up: adminStateUp } }, host);
  }

  private l3<M extends keyof L3AgentNotifications>(method: M, args: L3AgentNotifications[M], host?: string): Promise<void> {
    const a = args as unknown as Record<string, unknown>;
    return host === undefined
      ? this.transport.fanout(TOPIC.L3_AGENT, method, a, this.msgOpts())
      : this.transport.cast({ topic: TOPIC.L3_AGENT, server: host }, method, a, this.msgOpts());
  }

  private notify<M extends keyof AgentNotifications>(method: M, args: AgentNotifications[M], host?: string): Promise<void> {
    const topic = NOTIFICATION_TOPIC[method];
    const a = args as unknown as Record<string, unknown>;
    return host === undefined
      ? this.transport.fanout(topic, method, a, this.msgOpts())
      : this.transport.cast({ topic, server: host }, method, a, this.msgOpts());
  }

  private msgOpts(): MessageOptions {
    return { ...this.opts, version: VERSION };
  }
}

// ----------------------------------------------------------------------------- agent side

export interface ServerRpcClientOptions {
  host: string;
  /** How the agent names itself in calls (Neutron: e.g. 'ovs-agent-<host>'); default: the host. */
  agentId?: string;
  /** Deadline of each call, ms; default the transport's ([DEFAULT] rpc_response_timeout). */
  timeoutMs?: number;
  context?: Record<string, unknown>;
}

/** What an agent uses to talk to the server. */
export class ServerRpcClient {
  readonly host: string;
  readonly agentId: string;

  constructor(
    private readonly transport: Transport,
    private readonly opts: ServerRpcClientOptions,
  ) {
    this.host = opts.host;
    this.agentId = opts.agentId ?? opts.host;
  }

  /** report_state as a call (Neutron's agents call on their first report, to learn AGENT_NEW/REVIVED). */
  reportState(state: AgentState): Promise<AgentStatus> {
    return this.call('report_state', { agent_state: { agent_state: state }, time: osloTime() });
  }

  /** report_state as a cast (the periodic reports after the first). */
  castReportState(state: AgentState): Promise<void> {
    const args = { agent_state: { agent_state: state }, time: osloTime() };
    return this.transport.cast({ topic: SERVER_METHOD_TOPIC.report_state }, 'report_state', args, this.msgOpts());
  }

  /** The desired state of this host. */
  getHostState(): Promise<HostState> {
    return this.call('get_host_state', { host: this.host, agent_id: this.agentId });
  }

  /** Changed security groups' rules and the addresses of remote groups (see the contract). */
  getSecurityGroupInfo(securityGroups: string[], remoteGroups: string[]): Promise<SecurityGroupInfo> {
    return this.call('get_security_group_info', {
      security_groups: securityGroups,
      remote_groups: remoteGroups,
      host: this.host,
      agent_id: this.agentId,
    });
  }

  getDevicesDetailsList(devices: string[]): Promise<DeviceDetailsReply[]> {
    return this.call('get_devices_details_list', { devices, host: this.host, agent_id: this.agentId });
  }

  updateDeviceList(devicesUp: string[], devicesDown: string[], refreshTunnels = false): Promise<UpdateDeviceListResult> {
    return this.call('update_device_list', {
      devices_up: devicesUp,
      devices_down: devicesDown,
      host: this.host,
      agent_id: this.agentId,
      refresh_tunnels: refreshTunnels,
    });
  }

  updateDeviceUp(device: string, refreshTunnels = false): Promise<null> {
    return this.call('update_device_up', { device, host: this.host, agent_id: this.agentId, refresh_tunnels: refreshTunnels });
  }

  updateDeviceDown(device: string): Promise<{ device: string; exists: boolean }> {
    return this.call('update_device_down', { device, host: this.host, agent_id: this.agentId });
  }

  tunnelSync(tunnelIp: string, tunnelType: string): Promise<TunnelSyncResult> {
    return this.call('tunnel_sync', { tunnel_ip: tunnelIp, tunnel_type: tunnelType, host: this.host });
  }

  private call<M extends keyof ServerMethods>(method: M, args: ServerMethods[M]['args']): Promise<ServerMethods[M]['result']> {
    const a = args as unknown as Record<string, unknown>;
    return this.transport.call({ topic: SERVER_METHOD_TOPIC[method] }, method, a, this.msgOpts());
  }

  private msgOpts(): MessageOptions {
    const o: MessageOptions = { version: VERSION };
    if (this.opts.timeoutMs !== undefined) o.timeoutMs = this.opts.timeoutMs;
    if (this.opts.context !== undefined) o.context = this.opts.context;
    return o;
  }
}

/** What an L3 agent uses to talk to the server's L3 service plugin (q-l3-plugin). */
export class L3PluginRpcClient {
  readonly host: string;

  constructor(
    private readonly transport: Transport,
    private readonly opts: Omit<ServerRpcClientOptions, 'agentId'>,
  ) {
    this.host = opts.host;
  }

  /** The routers scheduled to this host (all of them without `routerIds`), their ports bound here. */
  syncRouters(routerIds?: string[]): Promise<SyncRouter[]> {
    return this.call('sync_routers', routerIds === undefined ? { host: this.host } : { host: this.host, router_ids: routerIds });
  }

  getRouterIds(): Promise<string[]> {
    return this.call('get_router_ids', { host: this.host });
  }

  updateFloatingipStatuses(routerId: string, fipStatuses: Record<string, FloatingIpStatus>): Promise<null> {
    return this.call('update_floatingip_statuses', { router_id: routerId, fip_statuses: fipStatuses });
  }

  getServicePluginList(): Promise<string[]> {
    return this.call('get_service_plugin_list', {});
  }

  private call<M extends keyof L3PluginMethods>(
    method: M,
    args: L3PluginMethods[M]['args'],
  ): Promise<L3PluginMethods[M]['result']> {
    const o: MessageOptions = { version: VERSION };
    if (this.opts.timeoutMs !== undefined) o.timeoutMs = this.opts.timeoutMs;
    if (this.opts.context !== undefined) o.context = this.opts.context;
    return this.transport.call({ topic: TOPIC.L3_PLUGIN }, method, args as unknown as Record<string, unknown>, o);
  }
}

/** An L2 agent's subscriptions: each notification it has a handler for, as a fanout listener of its
 * topic, and on `<topic>.<host>` too for l2population (the server sends a host its own fdb entries). */
export function listenAgentNotifications(
  transport: Transport,
  host: string,
  handlers: AgentNotificationHandlers,
): Promise<Listener> {
  const groups = byTopic(handlers, Object.keys(NOTIFICATION_TOPIC), (m) => NOTIFICATION_TOPIC[m as keyof AgentNotifications]);
  const l2pop = NOTIFICATION_TOPIC.add_fdb_entries;
  return startAll(
    [...groups].flatMap(([topic, h]) => [
      () => transport.fanoutListen(topic, h),
      ...(topic === l2pop ? [() => transport.listen(topic, host, h)] : []),
    ]),
  );
}

const DHCP_EVENTS: readonly DhcpEvent[] = [
  'network_create_end',
  'network_update_end',
  'network_delete_end',
  'subnet_create_end',
  'subnet_update_end',
  'subnet_delete_end',
  'port_create_end',
  'port_update_end',
  'port_delete_end',
];

/** A DHCP agent's subscription: `dhcp_agent` and `dhcp_agent.<host>`. */
export function listenDhcpAgent(transport: Transport, host: string, handlers: DhcpAgentHandlers): Promise<Listener> {
  const groups = byTopic(handlers, DHCP_EVENTS, () => TOPIC.DHCP_AGENT);
  return startAll(
    [...groups].map(
      ([topic, h]) =>
        () =>
          transport.listen(topic, host, h),
    ),
  );
}

/** An L3 agent's subscriptions: `l3_agent.<host>` and the `l3_agent` fanout. */
export function listenL3Agent(transport: Transport, host: string, handlers: L3AgentHandlers): Promise<Listener> {
  const groups = byTopic(handlers, L3_AGENT_NOTIFICATIONS, () => TOPIC.L3_AGENT);
  return startAll(
    [...groups].flatMap(([topic, h]) => [() => transport.listen(topic, host, h), () => transport.fanoutListen(topic, h)]),
  );
}
