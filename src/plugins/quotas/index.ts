// Quotas, as Neutron's DbQuotaDriver keeps them: a limit per project and resource where it differs
// from the `[quotas]` default, usage counted from the resources' own rows, and the check that a
// create (single or bulk) stays within the limit, made inside the create's transaction.
import { sql } from 'kysely';
import { NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { Dict, Store } from '../../db/store.js';
import type { Registry } from '../../resources/registry.js';
import type { ResourceDef } from '../../resources/types.js';
import type { Context } from '../context.js';
import { transaction } from '../service.js';

/** The resources Neutron (ML2 + l3 + rbac) registers with its quota engine, in its order. Those
 * Neutrino does not serve yet are listed with their limits and count as unused. */
export const QUOTA_RESOURCES = [
  'network',
  'subnet',
  'subnetpool',
  'port',
  'router',
  'floatingip',
  'rbac_policy',
  'security_group',
  'security_group_rule',
] as const;

/** -1: no limit. */
export const UNLIMITED = -1;
/** Neutron's DB_INTEGER_MAX_VALUE, the largest limit. */
export const MAX_LIMIT = 2147483647;

export type Limits = Record<string, number>;
export interface Detail {
  limit: number;
  used: number;
  reserved: number;
}

/** Python's repr of a list of strings, as Neutron's messages print them. */
const pyList = (xs: string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

export const overQuota = (resources: string[]) =>
  new NeutronError('OverQuota', 409, `Quota exceeded for resources: ${pyList([...resources].sort())}.`);

export class QuotaService {
  private readonly tables = new Map<string, string>();

  /** `defaults` holds `[quotas] quota_<resource>` for each resource that has such an option and
   * `default_quota` for the others. */
  constructor(
    private readonly store: Store,
    registry: Registry,
    readonly defaults: Limits,
  ) {
    for (const def of registry.resources) {
      if ((QUOTA_RESOURCES as readonly string[]).includes(def.member)) this.tables.set(def.member, def.table);
    }
  }

  /** Runs `fn` in one write transaction (retried as every service's are). */
  private tx<T>(fn: (db: DB) => Promise<T>): Promise<T> {
    return transaction(this.store, fn);
  }

  // --- the API's operations ---

  getLimits(projectId: string): Promise<Limits> {
    return this.limits(this.store.db, projectId);
  }

  listAll(): Promise<Dict[]> {
    return this.all(this.store.db);
  }

  getDetails(projectId: string): Promise<Record<string, Detail>> {
    return this.details(this.store.db, projectId);
  }

  setLimits(projectId: string, limits: Limits, checkLimit: boolean): Promise<Limits> {
    return this.tx((db) => this.update(db, projectId, limits, checkLimit));
  }

  resetLimits(projectId: string): Promise<void> {
    return this.tx((db) => this.reset(db, projectId));
  }

  isResource(name: string): boolean {
    return name in this.defaults;
  }

  /** Limits of a project: defaults overlaid with its own. */
  async limits(db: DB, projectId: string): Promise<Limits> {
    const out: Limits = { ...this.defaults };
    for (const r of await this.own(db, projectId)) if (r.resource in out) out[r.resource] = r.hard_limit;
    return out;
  }

  private async own(db: DB, projectId: string): Promise<Array<{ resource: string; hard_limit: number }>> {
    const rows = await db.selectFrom('quotas').select(['resource', 'hard_limit']).where('project_id', '=', projectId).execute();
    return rows.map((r) => ({ resource: r.resource as string, hard_limit: Number(r.hard_limit) }));
  }

  /** Every project with a limit of its own: its limits, with project_id and tenant_id. */
  async all(db: DB): Promise<Dict[]> {
    const rows = await db.selectFrom('quotas').select(['project_id', 'resource', 'hard_limit']).orderBy('project_id').execute();
    const byProject = new Map<string, Dict>();
    for (const r of rows) {
      const p = r.project_id as string;
      let q = byProject.get(p);
      if (!q) {
        q = { ...this.defaults, project_id: p, tenant_id: p };
        byProject.set(p, q);
      }
      if ((r.resource as string) in this.defaults) q[r.resource as string] = Number(r.hard_limit);
    }
    return [...byProject.values()];
  }

  /** Rows of a resource the project owns; 0 for resources Neutrino does not serve. */
  async used(db: DB, projectId: string, resource: string): Promise<number> {
    const table = this.tables.get(resource);
    if (!table) return 0;
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async details(db: DB, projectId: string): Promise<Record<string, Detail>> {
    const limits = await this.limits(db, projectId);
    const out: Record<string, Detail> = {};
    for (const [resource, limit] of Object.entries(limits)) {
      out[resource] = { limit, used: await this.used(db, projectId, resource), reserved: 0 };
    }
    return out;
  }

  /** Sets limits (validated by the caller). With `checkLimit` (quota-check-limit), a limit below
   * what the project already uses is refused; an unlimited one never is. */
  async update(db: DB, projectId: string, limits: Limits, checkLimit: boolean): Promise<Limits> {
    if (checkLimit) {
      for (const [resource, limit] of Object.entries(limits)) {
        if (limit === UNLIMITED) continue;
        const used = await this.used(db, projectId, resource);
        if (used > limit) {
          throw new NeutronError(
            'HTTPBadRequest',
            400,
            `Quota limit ${limit} for ${resource} must be greater than or equal to already used ${used}`,
          );
        }
      }
    }
    for (const [resource, limit] of Object.entries(limits)) {
      await db
        .insertInto('quotas')
        .values({ project_id: projectId, resource, hard_limit: limit })
        .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ hard_limit: limit }))
        .execute();
    }
    return this.limits(db, projectId);
  }

  /** Back to the defaults; 404 when the project had no limits of its own. */
  async reset(db: DB, projectId: string): Promise<void> {
    const res = await db.deleteFrom('quotas').where('project_id', '=', projectId).executeTakeFirst();
    if (Number(res.numDeletedRows) < 1) {
      throw new NeutronError('TenantQuotaNotFound', 404, `Quota for tenant ${projectId} could not be found.`);
    }
  }

  /**
   * Inside a create's transaction, before anything is inserted: 409 OverQuota when the projects'
   * rows of this resource plus the new ones would pass the limit. Bulk creates count every item,
   * per project, as Neutron's reservations do. Correct under concurrency because SQLite runs one
   * write transaction at a time; on PostgreSQL a transaction-scoped advisory lock per (project,
   * resource) queues the creates of one project, and under READ COMMITTED the count taken after
   * the lock sees every create committed before.
   */
  async check(db: DB, _ctx: Context, def: ResourceDef, items: Dict[]): Promise<void> {
    const resource = def.member;
    if (!this.isResource(resource) || !this.tables.has(resource)) return;
    const deltas = new Map<string, number>();
    for (const item of items) {
      const p = item.project_id;
      if (typeof p === 'string') deltas.set(p, (deltas.get(p) ?? 0) + 1);
    }
    for (const [projectId, delta] of [...deltas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const limit = (await this.limits(db, projectId))[resource];
      if (limit === undefined || limit < 0) continue;
      if (delta > limit) throw overQuota([resource]);
      await this.lock(db, projectId, resource);
      if ((await this.used(db, projectId, resource)) + delta > limit) throw overQuota([resource]);
    }
  }

  private async lock(db: DB, projectId: string, resource: string): Promise<void> {
    switch (this.store.dialect) {
      case 'postgresql':
        await sql`select pg_advisory_xact_lock(hashtext(${`quota:${projectId}:${resource}`}))`.execute(db);
        return;
      case 'sqlite':
        // One writer at a time already.
        return;
    }
  }
}

/** The limits the `[quotas]` options give every project. */
export function quotaDefaults(option: (name: string) => number | null): Limits {
  const fallback = option('default_quota') ?? UNLIMITED;
  const out: Limits = {};
  for (const r of QUOTA_RESOURCES) out[r] = Math.max(option(`quota_${r}`) ?? fallback, UNLIMITED);
  return out;
}
