// /v2.0/agents and the registry behind it: agents register and keep themselves alive by
// reporting their state over RPC (report_state, as neutron's agents_db handles it); the API lets
// an admin see, disable, describe and delete them.
import { randomUUID } from 'node:crypto';
import { httpNotFound, NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { EB, ListOptions, VirtualFilter } from '../../db/store.js';
import type { ResourceDef } from '../../resources/types.js';
import type { Context } from '../context.js';
import { BaseService, type Dict, type ServiceDeps } from '../service.js';

/** Neutron's agent_type strings. */
export const AGENT_TYPE = {
  DHCP: 'DHCP agent',
  L3: 'L3 agent',
  LINUXBRIDGE: 'Linux bridge agent',
  OVS: 'Open vSwitch agent',
  METADATA: 'Metadata agent',
} as const;

/** What report_state answers, from the server's point of view. */
export type AgentStatus = 'AGENT_NEW' | 'AGENT_REVIVED' | 'AGENT_ALIVE';

/** The `agent_state` an agent reports (the inner dict of report_state's `agent_state`). */
export interface AgentState {
  agent_type: string;
  binary: string;
  host: string;
  topic: string;
  configurations?: Record<string, unknown>;
  /** Set on the first report after the agent (re)started. */
  start_flag?: boolean;
  availability_zone?: string | null;
  resource_versions?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** An agent as the API shows it, plus the resource versions it last reported. */
export interface Agent {
  id: string;
  agent_type: string;
  binary: string;
  topic: string;
  host: string;
  admin_state_up: boolean;
  created_at: string;
  started_at: string;
  heartbeat_timestamp: string;
  alive: boolean;
  configurations: Record<string, unknown>;
  description: string | null;
  availability_zone: string | null;
  resources_synced: boolean | null;
  resource_versions: Record<string, unknown> | null;
}

export type AgentFilters = Partial<
  Record<'id' | 'agent_type' | 'binary' | 'topic' | 'host' | 'availability_zone', string | string[]>
> & { admin_state_up?: boolean; alive?: boolean };

export interface AgentSettings {
  /** [DEFAULT] agent_down_time: seconds without a heartbeat before an agent is dead. */
  agentDownTime: number;
  /** [DEFAULT] enable_new_agents: admin_state_up of a newly registered agent. */
  enableNewAgents: boolean;
}

/** UTC 'YYYY-MM-DD HH:MM:SS', the form Neutron shows agents' times in (and ours stores). */
export const agentStamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

const stampMs = (stamp: string): number => Date.parse(`${stamp.replace(' ', 'T')}Z`);

const TIME_RE = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/i;

/** The `time` of a report: oslo's strtime ('2026-01-02T03:04:05.123456', UTC), or a Date. */
export function parseAgentTime(time: string | Date): number {
  if (time instanceof Date) return time.getTime();
  const m = TIME_RE.exec(String(time).trim());
  const zone = m?.[4] ? m[4].toUpperCase().replace(/^([+-]\d\d)(\d\d)$/, '$1:$2') : 'Z';
  const ms = m ? Date.parse(`${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0').slice(0, 3)}${zone}`) : Number.NaN;
  if (Number.isNaN(ms)) throw new TypeError(`invalid report time '${String(time)}'`);
  return ms;
}

const REQUIRED_STATE = ['agent_type', 'binary', 'host', 'topic'] as const;

export class AgentService extends BaseService {
  protected notFoundType = 'Agent';
  protected notFoundLabel = 'Agent';
  /** Told after an admin's update of an agent commits (the L3 plugin's agent_updated). */
  readonly updateHooks: Array<(before: Dict, after: Dict) => Promise<void>> = [];

  protected override async afterUpdate(before: Dict, after: Dict): Promise<void> {
    for (const h of this.updateHooks) await h(before, after);
  }
  /** Reports sent before this server started are stale and dropped, as Neutron does. */
  readonly startedAt = Date.now();

  constructor(
    def: ResourceDef,
    deps: ServiceDeps,
    private readonly settings: AgentSettings,
  ) {
    super(def, deps);
  }

  protected now(): number {
    return Date.now();
  }

  /** Whether the agent's last heartbeat is within agent_down_time. */
  isAlive(agent: { heartbeat_timestamp?: unknown }, now = this.now()): boolean {
    return now - stampMs(String(agent.heartbeat_timestamp)) <= this.settings.agentDownTime * 1000;
  }

  /**
   * Registers a new agent or refreshes a known one (one per agent_type and host): heartbeat,
   * configurations, availability zone, resource versions, and started_at on a start_flag report.
   * Returns null for a report sent before this server started (stale, ignored as Neutron does).
   * Two first reports at once both succeed: the loser of the unique key retries as an update.
   */
  async reportState(state: AgentState, time: string | Date): Promise<AgentStatus | null> {
    for (const k of REQUIRED_STATE) {
      if (typeof state[k] !== 'string' || state[k] === '') throw new TypeError(`agent_state has no ${k}`);
    }
    if (parseAgentTime(time) < this.startedAt) return null;
    return this.tx(async (db) => {
      const now = this.now();
      const stamp = agentStamp(now);
      const changes: Dict = {
        agent_type: state.agent_type,
        binary: state.binary,
        topic: state.topic,
        host: state.host,
        configurations: state.configurations ?? {},
        heartbeat_timestamp: stamp,
      };
      if ('availability_zone' in state) changes.availability_zone = state.availability_zone ?? null;
      if (state.resource_versions && Object.keys(state.resource_versions).length) {
        changes.resource_versions = state.resource_versions;
      }
      const filters = { agent_type: [state.agent_type], host: [state.host] };
      const [known] = await this.store.list(db, this.def, { filters, sorts: [] });
      if (known) {
        if (state.start_flag) changes.started_at = stamp;
        await this.store.update(db, this.def, known.id as string, changes);
        return this.isAlive(known, now) ? 'AGENT_ALIVE' : 'AGENT_REVIVED';
      }
      await this.store.insert(db, this.def, {
        ...changes,
        id: randomUUID(),
        created_at: stamp,
        started_at: stamp,
        admin_state_up: this.settings.enableNewAgents,
      });
      return 'AGENT_NEW';
    });
  }

  /** Agents matching every given filter (a list = any of its values), with `alive` computed. */
  async getAgents(filters: AgentFilters = {}, db: DB = this.db): Promise<Agent[]> {
    const f: Record<string, unknown[]> = {};
    for (const [k, v] of Object.entries(filters)) if (v !== undefined) f[k] = Array.isArray(v) ? v : [v];
    const rows = await this.store.list(db, this.def, { filters: f, sorts: [] }, undefined, this.virtualFilters());
    await this.extend(db, rows);
    return rows as unknown as Agent[];
  }

  /** The live agents on `host`, of one type if given (whatever their admin_state_up). */
  aliveAgentsOnHost(db: DB, host: string, agentType?: string): Promise<Agent[]> {
    return this.getAgents({ host, agent_type: agentType, alive: true }, db);
  }

  /** Forgets the agent of this type on this host (RPC delete_agent); false if there was none. */
  async deleteAgentOnHost(agentType: string, host: string): Promise<boolean> {
    const r = await this.db.deleteFrom('agents').where('agent_type', '=', agentType).where('host', '=', host).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- the API --------------------------------------------------------------------------

  /** Agents belong to no project: what a caller sees is decided by the get_agent rule alone. */
  protected override scope(): undefined {
    return undefined;
  }

  protected override virtualFilters(): Record<string, VirtualFilter> {
    return { alive: (eb, values) => this.aliveCondition(eb, values[0] === true) };
  }

  /** Heartbeat at or after now - agent_down_time (rounded up: stored times are whole seconds). */
  private aliveCondition(eb: EB, alive: boolean) {
    const cutoff = agentStamp(Math.ceil((this.now() - this.settings.agentDownTime * 1000) / 1000) * 1000);
    return eb(`${this.def.table}.heartbeat_timestamp`, alive ? '>=' : '<', cutoff);
  }

  protected override async extend(_db: DB, dicts: Dict[]): Promise<void> {
    const now = this.now();
    for (const d of dicts) d.alive = this.isAlive(d, now);
  }

  /** As Neutron's policy hook: an agent the caller may not see answers 404, whatever was asked. */
  protected override async fetch(db: DB, ctx: Context, id: string, full = true): Promise<Dict> {
    const obj = await super.fetch(db, ctx, id, full);
    if (!ctx.policy.allows('get_agent', obj)) throw httpNotFound();
    return obj;
  }

  override async list(ctx: Context, opts: ListOptions): Promise<Dict[]> {
    // `alive` is a sort key by definition (agent_sort_key) but no column: Neutron's DB layer refuses it.
    if (opts.sorts.some(([k]) => k === 'alive')) {
      throw new NeutronError('BadRequest', 400, "Bad agents request: 'alive' is an invalid attribute for sort key.");
    }
    const rows = await super.list(ctx, opts);
    return rows.filter((r) => ctx.policy.allows('get_agent', r));
  }

  protected async createOne(): Promise<string> {
    // Neutron's words, double stop included.
    throw new NeutronError('BadRequest', 400, 'Bad agents request: Agent creation using API is not supported..');
  }
}
