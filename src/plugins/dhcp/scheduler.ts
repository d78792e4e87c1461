// The DHCP agent scheduler (Neutron's DhcpAgentSchedulerDbMixin with its WeightScheduler and
// AutoScheduler): which DHCP agents host which networks, kept in networkdhcpagentbindings. A
// network gets up to dhcp_agents_per_network live, enabled agents whose host can reach it, the
// least loaded first; an agent that registers takes the networks still short of agents
// (network_auto_schedule); networks move off agents dead for 2 × agent_down_time
// (allow_automatic_dhcp_failover). An admin adds and removes networks by hand through the API.
import { errors } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import { dbErrorKind } from '../../db/dialects/index.js';
import type { Store } from '../../db/store.js';
import { AGENT_TYPE_DHCP, DEVICE_ID_RESERVED_DHCP_PORT, DEVICE_OWNER_DHCP, dhcpDeviceId } from '../../rpc/index.js';
import type { Agent, AgentService } from '../agents/agents.js';
import { adminContext, type Context } from '../context.js';
import type { NetworkService } from '../core/networks.js';
import type { PortService } from '../core/ports.js';
import { type Dict, transaction } from '../service.js';

export const BINDINGS_TABLE = 'networkdhcpagentbindings';

export interface DhcpSchedulerSettings {
  /** [DEFAULT] dhcp_agents_per_network */
  agentsPerNetwork: number;
  /** [DEFAULT] network_auto_schedule */
  autoSchedule: boolean;
  /** [DEFAULT] allow_automatic_dhcp_failover */
  failover: boolean;
  /** [DEFAULT] agent_down_time, seconds */
  agentDownTime: number;
  /** [DEFAULT] enable_services_on_agents_with_admin_state_down */
  servicesOnAdminDown: boolean;
}

/** Where the scheduler tells agents what it decided (the DHCP notifier). */
export interface SchedulerCasts {
  networkAddedToAgent(networkId: string, host: string): void;
  networkRemovedFromAgent(networkId: string, host: string): void;
}

export interface DhcpSchedulerDeps {
  store: Store;
  agents: AgentService;
  networks: NetworkService;
  ports: PortService;
  /** ML2: the hosts among `hosts` whose L2 agent can bind a port of the network. */
  hostsWithNetworkAccess(db: DB, networkId: string, hosts: string[]): Promise<string[]>;
  casts: () => SchedulerCasts | undefined;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface HostingFilter {
  /** true: only agents alive or still starting up; undefined: any. */
  active?: boolean;
  adminStateUp?: boolean;
  hosts?: string[];
}

const stampMs = (stamp: unknown): number => Date.parse(`${String(stamp).replace(' ', 'T')}Z`);

export class DhcpAgentScheduler {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly deps: DhcpSchedulerDeps,
    readonly settings: DhcpSchedulerSettings,
  ) {}

  private get db(): DB {
    return this.deps.store.db;
  }

  /** Whether an agent may run services (enable_services_on_agents_with_admin_state_down). */
  servicesAvailable(agent: { admin_state_up: unknown }): boolean {
    return this.settings.servicesOnAdminDown || agent.admin_state_up === true;
  }

  private deadLimitMs(): number {
    return this.settings.agentDownTime * 2 * 1000;
  }

  /** An agent that has just (re)started gets 2 × agent_down_time, plus 2 s per network it hosts,
   * before it counts as dead: its first reports may be late while it sets its networks up. */
  private async startingUp(db: DB, agent: Agent): Promise<boolean> {
    const hosted = await db
      .selectFrom(BINDINGS_TABLE)
      .select((eb) => eb.fn.countAll().as('n'))
      .where('dhcp_agent_id', '=', agent.id)
      .executeTakeFirst();
    const extra = 2000 * Number(hosted?.n ?? 0);
    return stampMs(agent.started_at) + this.deadLimitMs() + extra > Date.now();
  }

  private async eligible(db: DB, agent: Agent, active: boolean | undefined): Promise<boolean> {
    if (active === undefined) return true;
    return agent.alive || (await this.startingUp(db, agent));
  }

  /** The DHCP agents bound to any of `networkIds` (get_dhcp_agents_hosting_networks). */
  async hostingAgents(networkIds: string[], filter: HostingFilter = {}, db: DB = this.db): Promise<Agent[]> {
    if (networkIds.length === 0) return [];
    const rows = await db.selectFrom(BINDINGS_TABLE).select('dhcp_agent_id').where('network_id', 'in', networkIds).execute();
    const ids = [...new Set(rows.map((r) => r.dhcp_agent_id as string))];
    if (ids.length === 0) return [];
    let agents = await this.deps.agents.getAgents({ id: ids }, db);
    if (filter.adminStateUp !== undefined) agents = agents.filter((a) => a.admin_state_up === filter.adminStateUp);
    if (filter.hosts) agents = agents.filter((a) => filter.hosts?.includes(a.host));
    const out: Agent[] = [];
    for (const a of agents) if (await this.eligible(db, a, filter.active)) out.push(a);
    return out;
  }

  /** The lowest binding_index the network has free (1…); beyond min(DHCP agents,
   * dhcp_agents_per_network) only when forced (an admin's add). */
  private async vacantIndex(db: DB, networkId: string, force: boolean): Promise<number | undefined> {
    const used = new Set(
      (await db.selectFrom(BINDINGS_TABLE).select('binding_index').where('network_id', '=', networkId).execute()).map((r) =>
        Number(r.binding_index),
      ),
    );
    let index = 1;
    while (used.has(index)) index++;
    if (force) return index;
    const agentCount = (await this.deps.agents.getAgents({ agent_type: AGENT_TYPE_DHCP }, db)).length;
    return index <= Math.min(agentCount, this.settings.agentsPerNetwork) ? index : undefined;
  }

  /** Binds the network to each agent; the agents actually bound (another server may have won). */
  private async bind(db: DB, agents: Agent[], networkId: string, force: boolean): Promise<Agent[]> {
    const bound: Agent[] = [];
    for (const agent of agents) {
      const index = await this.vacantIndex(db, networkId, force);
      if (index === undefined) continue;
      await db
        .insertInto(BINDINGS_TABLE)
        .values({ network_id: networkId, dhcp_agent_id: agent.id, binding_index: index })
        .execute();
      bound.push(agent);
    }
    return bound;
  }

  /** Networks hosted by the agent, by id. */
  private async networksOf(db: DB, agentId: string): Promise<string[]> {
    const rows = await db.selectFrom(BINDINGS_TABLE).select('network_id').where('dhcp_agent_id', '=', agentId).execute();
    return rows.map((r) => r.network_id as string);
  }

  /** A look outside the transaction: most calls (every port create) find no DHCP agent up, or the
   * network already served by dhcp_agents_per_network agents, and need neither the transaction
   * nor its lock. Anything it lets through is decided again inside the transaction. */
  private async mayNeedAgents(networkId: string, candidateHosts?: string[]): Promise<boolean> {
    const up = await this.deps.agents.getAgents({ agent_type: AGENT_TYPE_DHCP, admin_state_up: true }, this.db);
    if (!up.some((a) => !candidateHosts || candidateHosts.includes(a.host))) return false;
    if (candidateHosts) return true;
    const bound = await this.db.selectFrom(BINDINGS_TABLE).select('dhcp_agent_id').where('network_id', '=', networkId).execute();
    return bound.length < this.settings.agentsPerNetwork;
  }

  /** Schedules a network to more agents if it has fewer than dhcp_agents_per_network; returns the
   * agents it was added to (and tells them). Nothing without network_auto_schedule. */
  async scheduleNetwork(networkId: string, candidateHosts?: string[]): Promise<Agent[]> {
    if (!this.settings.autoSchedule) return [];
    if (!(await this.mayNeedAgents(networkId, candidateHosts))) return [];
    let added: Agent[];
    try {
      added = await transaction(
        this.deps.store,
        async (db) => {
          if (!(await db.selectFrom('networks').select('id').where('id', '=', networkId).executeTakeFirst())) return [];
          const hosted = await this.hostingAgents([networkId], { hosts: candidateHosts }, db);
          const wanted = this.settings.agentsPerNetwork - hosted.length;
          if (wanted <= 0) return [];
          const hostedIds = new Set(hosted.map((a) => a.id));
          const candidates: Agent[] = [];
          for (const a of await this.deps.agents.getAgents({ agent_type: AGENT_TYPE_DHCP, admin_state_up: true }, db)) {
            if (hostedIds.has(a.id) || (candidateHosts && !candidateHosts.includes(a.host))) continue;
            if (await this.eligible(db, a, true)) candidates.push(a);
          }
          const reachable = new Set(
            await this.deps.hostsWithNetworkAccess(
              db,
              networkId,
              candidates.map((a) => a.host),
            ),
          );
          const hostable = candidates.filter((a) => reachable.has(a.host));
          // WeightScheduler: the agents hosting the fewest networks first.
          const load = new Map<string, number>();
          for (const a of hostable) load.set(a.id, (await this.networksOf(db, a.id)).length);
          hostable.sort((a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) || a.host.localeCompare(b.host));
          return this.bind(db, hostable.slice(0, wanted), networkId, false);
        },
        [`dhcp-network:${networkId}`],
      );
    } catch (err) {
      // Another server bound it meanwhile (unique keys), or the network went away.
      if (dbErrorKind(err)) return [];
      throw err;
    }
    for (const a of added) {
      this.deps.log?.info({ network_id: networkId, agent_id: a.id, host: a.host }, 'Network scheduled to a DHCP agent');
      this.deps.casts()?.networkAddedToAgent(networkId, a.host);
    }
    return added;
  }

  /** The DHCP agent on `host` takes the networks with DHCP-enabled subnets that are short of
   * agents (Neutron's AutoScheduler, run when an agent asks for its networks). */
  async autoScheduleNetworks(host: string): Promise<void> {
    if (!this.settings.autoSchedule) return;
    const db = this.db;
    const [agent] = await this.deps.agents.getAgents({ agent_type: AGENT_TYPE_DHCP, host, admin_state_up: true }, db);
    if (!agent?.alive) return;
    const dhcpNets = await db
      .selectFrom('subnets')
      .select('network_id')
      .where('enable_dhcp', '=', this.deps.store.sql.bool(true))
      .distinct()
      .execute();
    if (dhcpNets.length === 0) return;
    const counts = new Map<string, number>();
    const mine = new Set<string>();
    for (const b of await db.selectFrom(BINDINGS_TABLE).select(['network_id', 'dhcp_agent_id']).execute()) {
      counts.set(b.network_id as string, (counts.get(b.network_id as string) ?? 0) + 1);
      if (b.dhcp_agent_id === agent.id) mine.add(b.network_id as string);
    }
    for (const { network_id } of dhcpNets) {
      const id = network_id as string;
      if (mine.has(id) || (counts.get(id) ?? 0) >= this.settings.agentsPerNetwork) continue;
      if ((await this.deps.hostsWithNetworkAccess(db, id, [host])).length === 0) continue;
      try {
        await transaction(
          this.deps.store,
          async (tx) => {
            const hosted = await this.hostingAgents([id], {}, tx);
            if (hosted.length >= this.settings.agentsPerNetwork || hosted.some((a) => a.id === agent.id)) return;
            await this.bind(tx, [agent], id, false);
          },
          [`dhcp-network:${id}`],
        );
      } catch (err) {
        if (!dbErrorKind(err)) throw err;
      }
    }
  }

  /** The enabled, existing networks the DHCP agent of `host` serves
   * (list_active_networks_on_active_dhcp_agent). */
  async activeNetworkIds(host: string): Promise<string[]> {
    const [agent] = await this.deps.agents.getAgents({ agent_type: AGENT_TYPE_DHCP, host });
    if (!agent || !this.servicesAvailable(agent)) return [];
    const ids = await this.networksOf(this.db, agent.id);
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('networks')
      .select('id')
      .where('id', 'in', ids)
      .where('admin_state_up', '=', this.deps.store.sql.bool(true))
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id as string);
  }

  /** Whether the DHCP agent of `host` hosts the network. */
  async hosts(host: string, networkId: string): Promise<boolean> {
    return (await this.hostingAgents([networkId], { hosts: [host] })).length > 0;
  }

  private async dhcpAgent(ctx: Context, agentId: string): Promise<Agent> {
    return (await this.deps.agents.get(ctx, agentId)) as unknown as Agent;
  }

  /** POST /v2.0/agents/{id}/dhcp-networks (add_network_to_dhcp_agent). */
  async addNetworkToAgent(ctx: Context, agentId: string, networkId: string): Promise<void> {
    await this.deps.networks.get(ctx, networkId);
    const agent = await this.dhcpAgent(ctx, agentId);
    if (agent.agent_type !== AGENT_TYPE_DHCP || !this.servicesAvailable(agent)) throw errors.invalidDhcpAgent(agentId);
    await transaction(
      this.deps.store,
      async (db) => {
        if ((await this.hostingAgents([networkId], {}, db)).some((a) => a.id === agentId)) {
          throw errors.networkHostedByDhcpAgent(networkId, agentId);
        }
        await this.bind(db, [agent], networkId, true);
      },
      [`dhcp-network:${networkId}`],
    );
    this.deps.casts()?.networkAddedToAgent(networkId, agent.host);
  }

  /** DELETE /v2.0/agents/{id}/dhcp-networks/{network_id} (remove_network_from_dhcp_agent): the
   * agent's DHCP port is kept, reserved, for the next agent to take with its addresses. */
  async removeNetworkFromAgent(ctx: Context, agentId: string, networkId: string, notify = true): Promise<void> {
    const agent = await this.dhcpAgent(ctx, agentId);
    const r = await this.db
      .deleteFrom(BINDINGS_TABLE)
      .where('network_id', '=', networkId)
      .where('dhcp_agent_id', '=', agentId)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw errors.networkNotHostedByDhcpAgent(networkId, agentId);
    await this.reservePort(networkId, agent.host);
    if (notify) this.deps.casts()?.networkRemovedFromAgent(networkId, agent.host);
  }

  private async reservePort(networkId: string, host: string): Promise<void> {
    const ports = await this.db
      .selectFrom('ports')
      .select('id')
      .where('network_id', '=', networkId)
      .where('device_owner', '=', DEVICE_OWNER_DHCP)
      .where('device_id', '=', dhcpDeviceId(networkId, host))
      .execute();
    for (const p of ports) {
      try {
        await this.deps.ports.update(adminContext(), p.id as string, { device_id: DEVICE_ID_RESERVED_DHCP_PORT });
      } catch (err) {
        this.deps.log?.warn({ err, port_id: p.id }, 'Could not reserve the DHCP port (deleted meanwhile?)');
      }
    }
  }

  /** GET /v2.0/agents/{id}/dhcp-networks: the networks the caller may see, as the API shows them. */
  async listNetworksOnAgent(ctx: Context, agentId: string): Promise<Dict[]> {
    const ids = await this.networksOf(this.db, agentId);
    if (ids.length === 0) {
      await this.deps.agents.get(ctx, agentId); // 404 for an unknown agent
      return [];
    }
    return this.deps.networks.list(ctx, { filters: { id: ids }, sorts: [] });
  }

  /** GET /v2.0/networks/{id}/dhcp-agents. */
  async listAgentsHostingNetwork(ctx: Context, networkId: string): Promise<Dict[]> {
    const agents = await this.hostingAgents([networkId]);
    if (agents.length === 0) return [];
    return this.deps.agents.list(ctx, { filters: { id: agents.map((a) => a.id) }, sorts: [] });
  }

  /** Moves networks off DHCP agents (enabled ones) that have not reported for 2 × agent_down_time
   * and are not starting up, to live ones (remove_networks_from_down_agents). */
  async removeNetworksFromDownAgents(): Promise<void> {
    const db = this.db;
    const cutoff = Date.now() - this.deadLimitMs();
    const agents = await this.deps.agents.getAgents({ agent_type: AGENT_TYPE_DHCP }, db);
    const down: Agent[] = [];
    for (const a of agents) {
      if (a.admin_state_up && stampMs(a.heartbeat_timestamp) < cutoff && !(await this.startingUp(db, a))) down.push(a);
    }
    if (down.length === 0) return;
    const live: Agent[] = [];
    for (const a of agents) if (await this.eligible(db, a, true)) live.push(a);
    if (live.length === 0) {
      this.deps.log?.warn({}, 'No DHCP agents available, skipping rescheduling');
      return;
    }
    for (const agent of down) {
      for (const networkId of await this.networksOf(db, agent.id)) {
        this.deps.log?.warn(
          { network_id: networkId, agent_id: agent.id, dead_time: this.deadLimitMs() / 1000 },
          `Removing network ${networkId} from agent ${agent.id} because the agent did not report to the server in the last ${this.deadLimitMs() / 1000} seconds.`,
        );
        try {
          // Not told: a dead agent must not find a delete waiting when it comes back.
          await this.removeNetworkFromAgent(adminContext(), agent.id, networkId, false);
        } catch (err) {
          if (!(err instanceof Error && 'type' in err && err.type === 'NetworkNotHostedByDhcpAgent')) {
            this.deps.log?.error({ err, network_id: networkId }, 'Could not remove a network from a dead DHCP agent');
          }
        }
        await this.scheduleNetwork(networkId).catch((err) =>
          this.deps.log?.error({ err, network_id: networkId }, 'Could not reschedule a network'),
        );
      }
    }
  }

  /** The periodic failover check, every agent_down_time / 2 (allow_automatic_dhcp_failover). */
  start(): void {
    if (!this.settings.failover || this.timer) return;
    const interval = Math.max(Math.floor(this.settings.agentDownTime / 2), 1) * 1000;
    let running = false;
    this.timer = setInterval(() => {
      if (running) return;
      running = true;
      this.removeNetworksFromDownAgents()
        .catch((err) => this.deps.log?.error({ err }, 'DHCP network rescheduling failed'))
        .finally(() => {
          running = false;
        });
    }, interval);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
