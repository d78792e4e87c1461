// What DHCP agents hear after a change commits (Neutron's DhcpAgentNotifyAPI): network, subnet and
// port *_end events cast to the agents hosting the network (network_delete_end to all of them), a
// network scheduled to agents on its first subnet or port, and network_create_end /
// network_delete_end to an agent a network was added to or removed from. Casts are not awaited by
// the request (a broker outage must not hold it); agents' periodic resyncs make up for a lost one.
import type { AgentNotifier, DhcpEvent, DhcpPayload } from '../../rpc/index.js';
import { DEVICE_ID_RESERVED_DHCP_PORT } from '../../rpc/index.js';
import type { AgentObserver } from '../agents/agents.js';
import type { NetworkObserver } from '../core/networks.js';
import type { PortObserver } from '../core/ports.js';
import type { SubnetObserver } from '../core/subnets.js';
import type { Dict } from '../service.js';
import type { DhcpAgentScheduler, SchedulerCasts } from './scheduler.js';

/** Neutron's processing priorities (lower first), sent along in each payload. */
const PRIORITY: Record<DhcpEvent, number> = {
  network_create_end: 0,
  network_update_end: 1,
  network_delete_end: 2,
  subnet_create_end: 3,
  subnet_update_end: 3,
  subnet_delete_end: 4,
  port_create_end: 6,
  port_update_end: 6,
  port_delete_end: 6,
};
const PRIORITY_PORT_CREATE_HIGH = 5;

/** Port attributes a DHCP agent serves: a change to anything else is not worth telling it. */
const SERVED = ['fixed_ips', 'mac_address', 'extra_dhcp_opts', 'dns_name', 'dns_assignment', 'dns_domain'];

export interface DhcpNotifierDeps {
  scheduler: DhcpAgentScheduler;
  notifier: () => AgentNotifier | undefined;
  log?: { error(obj: object, msg: string): void; debug?(obj: object, msg: string): void };
}

export class DhcpAgentNotifier implements PortObserver, NetworkObserver, SubnetObserver, AgentObserver, SchedulerCasts {
  /** Every notification started and not yet sent (tests and shutdown wait on them). */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: DhcpNotifierDeps) {}

  /** Runs `fn` without holding the caller, logging what fails. */
  private background(what: string, id: unknown, fn: () => Promise<void>): void {
    const p = fn()
      .catch((err) => this.deps.log?.error({ err, id }, `DHCP ${what} failed`))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves once every notification started so far has been sent. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private cast(host: string, event: DhcpEvent, payload: DhcpPayload): Promise<void> {
    return (
      this.deps.notifier()?.dhcp(host, event, { ...payload, priority: payload.priority ?? PRIORITY[event] }) ?? Promise.resolve()
    );
  }

  /** Neutron's _notify_agents: to the agents hosting the network, scheduling it first on a subnet
   * create or a (non-reserved) port create. */
  private async notifyAgents(event: DhcpEvent, payload: DhcpPayload, networkId: string, schedule: boolean): Promise<void> {
    const { scheduler } = this.deps;
    if (event === 'network_delete_end') {
      await this.deps.notifier()?.dhcpFanout(event, { ...payload, priority: PRIORITY[event] });
      return;
    }
    let agents = await scheduler.hostingAgents([networkId]);
    if (schedule) agents = [...agents, ...(await scheduler.scheduleNetwork(networkId))];
    const enabled = agents.filter((a) => scheduler.servicesAvailable(a));
    if (enabled.length === 0) return;
    if (event === 'port_create_end') {
      // One agent first, at a higher priority (the others may be busy with a resync).
      const [first, ...rest] = enabled.sort(() => Math.random() - 0.5);
      await this.cast(first.host, event, { ...payload, priority: PRIORITY_PORT_CREATE_HIGH });
      await Promise.all(rest.map((a) => this.cast(a.host, event, payload)));
      return;
    }
    await Promise.all(enabled.map((a) => this.cast(a.host, event, payload)));
  }

  private notify(event: DhcpEvent, payload: DhcpPayload, networkId: string, schedule = false): void {
    this.background(event, networkId, () => this.notifyAgents(event, payload, networkId, schedule));
  }

  // ---- observers of the core resources

  async portsCreated(ports: Dict[]): Promise<void> {
    for (const port of ports) {
      const reserved = port.device_id === DEVICE_ID_RESERVED_DHCP_PORT;
      this.notify('port_create_end', { port: port as DhcpPayload['port'] }, port.network_id as string, !reserved);
    }
  }

  async portUpdated(before: Dict, after: Dict): Promise<void> {
    if (!SERVED.some((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))) return;
    this.notify('port_update_end', { port: after as DhcpPayload['port'] }, after.network_id as string);
  }

  async portDeleted(port: Dict): Promise<void> {
    const payload = { port_id: port.id as string, network_id: port.network_id as string, fixed_ips: port.fixed_ips as never };
    this.notify('port_delete_end', payload, port.network_id as string);
  }

  async networkUpdated(_before: Dict, after: Dict): Promise<void> {
    this.notify('network_update_end', { network: after as DhcpPayload['network'] }, after.id as string);
  }

  async networkDeleted(network: Dict): Promise<void> {
    this.notify('network_delete_end', { network_id: network.id as string }, network.id as string);
  }

  async subnetsCreated(subnets: Dict[]): Promise<void> {
    for (const s of subnets)
      this.notify('subnet_create_end', { subnet: s as DhcpPayload['subnet'] }, s.network_id as string, true);
  }

  async subnetUpdated(_before: Dict, after: Dict): Promise<void> {
    this.notify('subnet_update_end', { subnet: after as DhcpPayload['subnet'] }, after.network_id as string);
  }

  async subnetDeleted(subnet: Dict): Promise<void> {
    const payload = { subnet_id: subnet.id as string, network_id: subnet.network_id as string };
    this.notify('subnet_delete_end', payload, subnet.network_id as string);
  }

  async agentUpdated(before: Dict, after: Dict): Promise<void> {
    if (after.agent_type !== 'DHCP agent' || before.admin_state_up === after.admin_state_up) return;
    const host = after.host as string;
    this.background('agent_updated', host, async () => {
      await this.deps.notifier()?.dhcpAgentUpdated(host, Boolean(after.admin_state_up));
    });
  }

  // ---- what the scheduler decided

  networkAddedToAgent(networkId: string, host: string): void {
    this.background('network_create_end', networkId, () => this.cast(host, 'network_create_end', { network: { id: networkId } }));
  }

  networkRemovedFromAgent(networkId: string, host: string): void {
    this.background('network_delete_end', networkId, () => this.cast(host, 'network_delete_end', { network_id: networkId }));
  }
}
