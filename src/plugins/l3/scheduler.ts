// Routers scheduled to L3 agents (neutron's l3_agentschedulers_db and l3_agent_scheduler): a router
// is bound to one live, enabled L3 agent (LeastRoutersScheduler by default) when something about it
// changes or when an agent syncs; the admin moves it with /v2.0/agents/{id}/l3-routers; with
// allow_automatic_l3agent_failover, routers on dead agents move to live ones. Bindings are rows of
// routerl3agentbindings, whose unique (router, binding_index) lets one non-HA binding win a race.

import type { DB } from '../../db/connection.js';
import type { EB, Store } from '../../db/store.js';
import { AGENT_TYPE_L3 } from '../../rpc/contract.js';
import type { Agent, AgentService } from '../agents/agents.js';
import { type Dict, transaction } from '../service.js';
import { l3Errors } from './errors.js';

export const BINDINGS = 'routerl3agentbindings';

export type SchedulerKind = 'least' | 'chance' | 'az';

export interface SchedulerSettings {
  kind: SchedulerKind;
  agentDownTime: number;
}

const MODES_THAT_HOST = ['legacy', 'dvr_snat'];

const modeOf = (a: Agent): string => (a.configurations?.agent_mode as string | undefined) ?? 'legacy';

/** A router as the scheduler needs it. */
export interface SchedRouter {
  id: string;
  distributed: boolean;
  ha: boolean;
  external_network_id: string | null;
  availability_zone_hints: string[];
}

export class L3Scheduler {
  constructor(
    private readonly store: Store,
    private readonly agents: AgentService,
    private readonly settings: SchedulerSettings,
  ) {}

  get db(): DB {
    return this.store.db;
  }

  /** Every L3 agent, with `alive` computed. */
  l3Agents(db: DB = this.db): Promise<Agent[]> {
    return this.agents.getAgents({ agent_type: AGENT_TYPE_L3 }, db);
  }

  async agentOnHost(db: DB, host: string): Promise<Agent | undefined> {
    return (await this.agents.getAgents({ agent_type: AGENT_TYPE_L3, host }, db))[0];
  }

  /** Neutron's get_l3_agent_candidates: agents that may host the router, whatever their liveness
   * (the caller filters); `ignoreAdminState` for an admin's manual scheduling. */
  eligible(router: SchedRouter, agents: Agent[], ignoreAdminState = false): Agent[] {
    return agents.filter((a) => {
      if (!ignoreAdminState && !a.admin_state_up) return false;
      const mode = modeOf(a);
      if (!MODES_THAT_HOST.includes(mode) || (mode === 'legacy' && router.distributed)) return false;
      const only = a.configurations?.router_id as string | undefined;
      if (only && only !== router.id) return false;
      if (a.configurations?.handle_internal_only_routers === false && !router.external_network_id) return false;
      return true;
    });
  }

  private byAz(router: SchedRouter, agents: Agent[]): Agent[] {
    const hints = router.availability_zone_hints;
    if (this.settings.kind !== 'az' || hints.length === 0) return agents;
    return agents.filter((a) => a.availability_zone !== null && hints.includes(a.availability_zone));
  }

  async routerForScheduling(db: DB, routerId: string): Promise<SchedRouter | undefined> {
    const r = await db.selectFrom('routers').selectAll().where('id', '=', routerId).executeTakeFirst();
    if (!r) return undefined;
    let ext: string | null = null;
    if (r.gw_port_id) {
      const p = await db
        .selectFrom('ports')
        .select('network_id')
        .where('id', '=', r.gw_port_id as string)
        .executeTakeFirst();
      ext = (p?.network_id as string | undefined) ?? null;
    }
    return {
      id: routerId,
      distributed: Boolean(r.distributed),
      ha: Boolean(r.ha),
      external_network_id: ext,
      availability_zone_hints: JSON.parse((r.availability_zone_hints as string) || '[]'),
    };
  }

  async bindingsOf(db: DB, routerIds: string[]): Promise<Dict[]> {
    if (routerIds.length === 0) return [];
    return db.selectFrom(BINDINGS).selectAll().where('router_id', 'in', this.store.anyOf(routerIds)).execute() as Promise<Dict[]>;
  }

  /** Agents hosting the router. */
  async agentsHosting(db: DB, routerId: string): Promise<Agent[]> {
    const ids = (await this.bindingsOf(db, [routerId])).map((b) => b.l3_agent_id as string);
    if (ids.length === 0) return [];
    return this.agents.getAgents({ id: ids }, db);
  }

  /** Number of routers bound to each agent. */
  private async loads(db: DB, agentIds: string[]): Promise<Map<string, number>> {
    const out = new Map(agentIds.map((id) => [id, 0]));
    if (agentIds.length === 0) return out;
    const rows = await db
      .selectFrom(BINDINGS)
      .select((eb) => ['l3_agent_id', eb.fn.countAll().as('n')])
      .where('l3_agent_id', 'in', agentIds)
      .groupBy('l3_agent_id')
      .execute();
    for (const r of rows) out.set(r.l3_agent_id as string, Number(r.n));
    return out;
  }

  private async choose(db: DB, candidates: Agent[]): Promise<Agent> {
    if (this.settings.kind === 'chance') return candidates[Math.floor(Math.random() * candidates.length)];
    const load = await this.loads(
      db,
      candidates.map((a) => a.id),
    );
    // Least routers; ties broken at random so that agents share new routers.
    const least = Math.min(...candidates.map((a) => load.get(a.id) ?? 0));
    const best = candidates.filter((a) => (load.get(a.id) ?? 0) === least);
    return best[Math.floor(Math.random() * best.length)];
  }

  private async bind(db: DB, routerId: string, agentId: string): Promise<void> {
    const used = (await this.bindingsOf(db, [routerId])).map((b) => Number(b.binding_index));
    let index = 1;
    while (used.includes(index)) index++;
    await db.insertInto(BINDINGS).values({ router_id: routerId, l3_agent_id: agentId, binding_index: index }).execute();
  }

  /**
   * Schedules an unhosted router (Neutron's _schedule_router), in the caller's transaction:
   * nothing when an enabled agent already hosts it; else the least loaded live, enabled, eligible
   * agent of `candidates` (default: all). Returns the agent it was bound to, if any.
   */
  async scheduleIn(db: DB, routerId: string, candidates?: Agent[]): Promise<Agent | undefined> {
    const router = await this.routerForScheduling(db, routerId);
    if (!router) return undefined;
    const current = await this.agentsHosting(db, routerId);
    if (current.some((a) => a.admin_state_up)) return undefined;
    const pool = candidates ?? (await this.l3Agents(db)).filter((a) => a.alive);
    const eligible = this.byAz(router, this.eligible(router, pool));
    if (eligible.length === 0) return undefined;
    const chosen = await this.choose(db, eligible);
    // A binding to a disabled agent gives way to the new one.
    for (const a of current) await this.unbind(db, routerId, a.id);
    await this.bind(db, routerId, chosen.id);
    return chosen;
  }

  /** Schedules routers in transactions of their own; the new (router, agent) bindings. */
  async schedule(routerIds: string[]): Promise<Array<{ routerId: string; agent: Agent }>> {
    const out: Array<{ routerId: string; agent: Agent }> = [];
    for (const routerId of routerIds) {
      const agent = await transaction(this.store, (db) => this.scheduleIn(db, routerId), [`router:${routerId}`]);
      if (agent) out.push({ routerId, agent });
    }
    return out;
  }

  /** Neutron's auto_schedule_routers: routers hosted nowhere, bound to the agent on `host` when it
   * is alive, enabled and eligible. Returns the ids of the routers bound. */
  async autoSchedule(host: string): Promise<string[]> {
    const agent = await this.agentOnHost(this.db, host);
    if (!agent?.admin_state_up || !agent.alive) return [];
    const rows = await this.db
      .selectFrom('routers')
      .select('id')
      .where('id', 'not in', (eb: EB) => eb.selectFrom(BINDINGS).select(`${BINDINGS}.router_id`))
      .execute();
    const bound: string[] = [];
    for (const r of rows) {
      const routerId = r.id as string;
      const done = await transaction(
        this.store,
        async (db) => {
          const router = await this.routerForScheduling(db, routerId);
          if (!router) return false;
          if (this.settings.kind === 'az' && router.availability_zone_hints.length) {
            if (!agent.availability_zone || !router.availability_zone_hints.includes(agent.availability_zone)) return false;
          }
          return (await this.scheduleIn(db, routerId, [agent])) !== undefined;
        },
        [`router:${routerId}`],
      );
      if (done) bound.push(routerId);
    }
    return bound;
  }

  async unbind(db: DB, routerId: string, agentId: string): Promise<void> {
    await db.deleteFrom(BINDINGS).where('router_id', '=', routerId).where('l3_agent_id', '=', agentId).execute();
  }

  /** The ids of routers bound to `agentId` (of `routerIds` when given). */
  async routerIdsOn(db: DB, agentId: string, routerIds?: string[] | null): Promise<string[]> {
    let q = db.selectFrom(BINDINGS).select('router_id').where('l3_agent_id', '=', agentId);
    if (routerIds?.length) q = q.where('router_id', 'in', routerIds);
    return (await q.execute()).map((r) => r.router_id as string);
  }

  /** Hosts to tell that a router changed: its enabled, live agents. */
  async hostsToNotify(db: DB, routerId: string): Promise<string[]> {
    return (await this.agentsHosting(db, routerId)).filter((a) => a.admin_state_up && a.alive).map((a) => a.host);
  }

  // ---- the API (/v2.0/agents/{id}/l3-routers, /v2.0/routers/{id}/l3-agents) --------------------

  /** add_router_to_l3_agent; the host to tell, or undefined when the router was already there. */
  async addRouterToAgent(db: DB, agent: Agent, router: Dict): Promise<boolean> {
    if (agent.agent_type !== AGENT_TYPE_L3) throw l3Errors.invalidL3Agent(agent.id);
    const mode = modeOf(agent);
    if (mode === 'dvr' || mode === 'dvr_no_external') throw l3Errors.dvrL3CannotAssignToDvrAgent();
    const routerId = router.id as string;
    const sched = await this.routerForScheduling(db, routerId);
    if (!sched) throw l3Errors.routerNotFound(routerId);
    if (mode === 'legacy' && sched.distributed) throw l3Errors.routerL3AgentMismatch(routerId, agent.id);
    if (!agent.admin_state_up || this.eligible(sched, [agent], true).length === 0) throw l3Errors.invalidL3Agent(agent.id);
    const bindings = await this.bindingsOf(db, [routerId]);
    if (bindings.some((b) => b.l3_agent_id === agent.id)) return false;
    if (bindings.length && !sched.ha) throw l3Errors.routerHostedByL3Agent(routerId, bindings[0].l3_agent_id as string);
    await this.bind(db, routerId, agent.id);
    return true;
  }

  async removeRouterFromAgent(db: DB, agent: Agent, routerId: string): Promise<void> {
    const mode = modeOf(agent);
    if (mode === 'dvr' || mode === 'dvr_no_external') throw l3Errors.dvrL3CannotRemoveFromDvrAgent();
    await this.unbind(db, routerId, agent.id);
  }

  // ---- failover ---------------------------------------------------------------------------

  /**
   * Neutron's reschedule_routers_from_down_agents: each router bound to an enabled agent that has
   * not reported for twice agent_down_time moves to a live one; without a live eligible agent it
   * stays where it is. Returns the moves made (old host, new host).
   */
  async rescheduleFromDeadAgents(): Promise<Array<{ routerId: string; from: Agent; to: Agent }>> {
    const agents = await this.l3Agents();
    const cutoff = Date.now() - this.settings.agentDownTime * 2 * 1000;
    const stamp = (a: Agent) => Date.parse(`${String(a.heartbeat_timestamp).replace(' ', 'T')}Z`);
    const dead = agents.filter((a) => a.admin_state_up && stamp(a) < cutoff);
    const moves: Array<{ routerId: string; from: Agent; to: Agent }> = [];
    if (dead.length === 0) return moves;
    const live = agents.filter((a) => a.alive && a.admin_state_up);
    for (const from of dead) {
      for (const routerId of await this.routerIdsOn(this.db, from.id)) {
        const to = await transaction(
          this.store,
          async (db) => {
            const router = await this.routerForScheduling(db, routerId);
            if (!router) return undefined;
            const eligible = this.byAz(router, this.eligible(router, live));
            if (eligible.length === 0) return undefined;
            const bindings = await this.bindingsOf(db, [routerId]);
            if (!bindings.some((b) => b.l3_agent_id === from.id)) return undefined;
            const chosen = await this.choose(db, eligible);
            await this.unbind(db, routerId, from.id);
            await this.bind(db, routerId, chosen.id);
            return chosen;
          },
          [`router:${routerId}`],
        );
        if (to) moves.push({ routerId, from, to });
      }
    }
    return moves;
  }
}
