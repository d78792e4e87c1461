// The plugin interface the API layer calls, and the generic part every resource shares:
// visibility, loading related rows in bulk, revision checks, tags. A resource's own rules
// (IPAM for ports, prefix checks for subnet pools …) override the hooks.
import { randomUUID } from 'node:crypto';
import { badRequest, errors, type NeutronError, notFound } from '../common/errors.js';
import type { DB } from '../db/connection.js';
import { type DbErrorKind, dbErrorKind, uniqueViolationTarget } from '../db/dialects/index.js';
import { type Dict, type EB, nowStamp, type Store, type VirtualFilter } from '../db/store.js';
import { type ResourceDef, UNSET } from '../resources/types.js';
import { pyStr } from '../validation/python.js';
import type { Context } from './context.js';
import type { ListOptions } from './list-options.js';
import { markShared, ownOrGranted, type RbacObjectType, sharedFilter } from './rbac/access.js';

export type { ListOptions, TagFilters } from './list-options.js';
export type { Dict };

export interface ServiceDeps {
  store: Store;
  db: DB;
}

export interface ResourceService {
  readonly def: ResourceDef;
  create(ctx: Context, items: Dict[]): Promise<Dict[]>;
  get(ctx: Context, id: string): Promise<Dict>;
  list(ctx: Context, opts: ListOptions): Promise<Dict[]>;
  update(ctx: Context, id: string, changes: Dict, ifRevision?: number): Promise<Dict>;
  delete(ctx: Context, id: string, ifRevision?: number): Promise<void>;
  action?(ctx: Context, id: string, action: string, body: unknown): Promise<unknown>;
  getTags(ctx: Context, id: string): Promise<string[]>;
  changeTags(ctx: Context, id: string, change: TagChange): Promise<string[]>;
  /** The resource's own 404 (NetworkNotFound …) for an id. */
  notFound?(id: string): NeutronError;
}

/** Refuses, inside the create's transaction, items that would take a project over its quota. */
export interface QuotaCheck {
  check(db: DB, ctx: Context, def: ResourceDef, items: Dict[]): Promise<void>;
}

export type TagChange =
  | { op: 'replace'; tags: string[] }
  | { op: 'add'; tags: string[] }
  | { op: 'clear' }
  | { op: 'remove'; tag: string };

/** Neutron's MAX_TAGS_PER_RESOURCE. */
export const MAX_TAGS = 50;

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export abstract class BaseService implements ResourceService {
  /** Type-name prefix and label for NotFound errors: `Network`, `Network` → NetworkNotFound. */
  protected abstract notFoundType: string;
  protected abstract notFoundLabel: string;

  /** Quota enforcement (src/plugins/quotas), set when the server is assembled. */
  quota?: QuotaCheck;

  constructor(
    readonly def: ResourceDef,
    protected deps: ServiceDeps,
  ) {}

  protected get store() {
    return this.deps.store;
  }
  protected get db() {
    return this.deps.db;
  }

  /** Runs `fn` in one transaction, again when a concurrent transaction got in its way (see
   * `transaction`); `fn` must be safe to run more than once. */
  protected tx<T>(fn: (db: DB) => Promise<T>, locks: string[] = [], optimistic = false): Promise<T> {
    return transaction(this.store, fn, locks, optimistic);
  }

  /** Creates whose conflicts the unique keys settle (ports: random addresses and MACs) run side by
   * side on a first attempt, holding their locks shared (see `transaction`). */
  protected readonly optimisticCreates: boolean = false;

  /** Lock keys of a create (see `transaction`): what its transaction certainly contends on with
   * other creates of the same kind. None by default (quotas lock their own). */
  protected createLocks(_ctx: Context, _items: Dict[]): string[] {
    return [];
  }

  notFound(id: string): NeutronError {
    return notFound(this.notFoundType, this.notFoundLabel, id);
  }

  /** SQL restriction to what a non-admin caller may see; undefined = everything. */
  /** The RBAC `object_type` of resources that policies can share (networks, subnet pools …):
   * then a project also sees what is granted to it, and `shared` is computed per caller. */
  protected readonly rbacType?: RbacObjectType;

  protected scope(ctx: Context): ((eb: EB) => ReturnType<EB['and']>) | undefined {
    if (ctx.isAdmin) return undefined;
    if (this.rbacType) return ownOrGranted(this.def.table, this.rbacType, ctx);
    return (eb) => eb(`${this.def.table}.project_id`, '=', ctx.projectId ?? '');
  }

  /** Filters on attributes without a column of their own. */
  protected virtualFilters(ctx: Context): Record<string, VirtualFilter> {
    return this.rbacType ? { shared: sharedFilter(`${this.def.table}.id`, this.rbacType, ctx) } : {};
  }

  /** Adds virtual attributes (tags, children) to rows, in bulk. */
  protected async extend(db: DB, dicts: Dict[]): Promise<void> {
    if (!this.def.taggable || dicts.length === 0) return;
    const tags = await this.store.loadTags(
      db,
      dicts.map((d) => d.id as string),
    );
    for (const d of dicts) d.tags = tags.get(d.id as string) ?? [];
  }

  /** Adds attributes whose value depends on the caller (`shared` of RBAC-shared objects). */
  protected async perCaller(db: DB, ctx: Context, dicts: Dict[]): Promise<void> {
    if (this.rbacType) await markShared(db, this.store, this.rbacType, ctx, dicts);
  }

  /** What policy rules see of an object: its attributes, `tenant_id`, and what they ask of its
   * parent (ports and subnets add their network's as `network:<attr>`). */
  protected async policyTarget(_db: DB, obj: Dict): Promise<Dict> {
    return { ...obj, tenant_id: obj.project_id };
  }

  /**
   * Enforces `<action>_<member>` on the target, then the rules of the attributes the request
   * sets (`<action>_<member>:<attr>`, and `…:<attr>:<key>` for keys inside list items), as
   * neutron's policy hook does.
   */
  protected async authorize(db: DB, ctx: Context, action: string, obj: Dict, attrs: string[]): Promise<void> {
    const target = await this.policyTarget(db, obj);
    const rule = `${action}_${this.def.member}`;
    ctx.policy.enforce(rule, target);
    for (const attr of attrs) {
      if (ctx.policy.has(`${rule}:${attr}`)) ctx.policy.enforce(`${rule}:${attr}`, target);
      const v = obj[attr];
      // Keys inside a dict value (a router's external_gateway_info) or inside list items.
      const items = Array.isArray(v) ? v : v && typeof v === 'object' ? [v] : [];
      const keys = new Set(items.flatMap((x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.keys(x) : [])));
      for (const k of keys) if (ctx.policy.has(`${rule}:${attr}:${k}`)) ctx.policy.enforce(`${rule}:${attr}:${k}`, target);
    }
  }

  /** Before a create is authorized: its parents must be visible (404 before any 403). */
  protected async checkParents(_db: DB, _ctx: Context, _item: Dict): Promise<void> {}

  /** Attributes a create sets explicitly: given, and not the default (Neutron's rule). */
  protected explicitlySet(item: Dict): string[] {
    return Object.keys(item).filter((k) => {
      const a = this.def.attributes[k];
      return a !== undefined && item[k] !== UNSET && !('default' in a && a.default === item[k]);
    });
  }

  /** One visible object; `full` adds its virtual attributes (tags, children). */
  protected async fetch(db: DB, ctx: Context, id: string, full = true): Promise<Dict> {
    // An id from a body attribute without a validator may be any JSON value: one that is not a
    // string names nothing (and String() of an object can throw).
    if (typeof id !== 'string') throw this.notFound(pyStr(id));
    if (!UUID_RE.test(id)) throw this.notFound(id);
    const scope = this.scope(ctx);
    const rows = await this.store.list(db, this.def, { filters: { id: [id] }, sorts: [] }, scope, {});
    if (rows.length === 0) throw this.notFound(id);
    if (full) {
      await this.extend(db, rows);
      await this.perCaller(db, ctx, rows);
    }
    return rows[0];
  }

  /** An object the caller can see, for use inside another service's transaction; only its
   * stored columns unless `full`. */
  visible(db: DB, ctx: Context, id: string, full = false): Promise<Dict> {
    return this.fetch(db, ctx, id, full);
  }

  /** Fetches an object the caller may change: 404 when invisible, 403 when policy forbids
   * `action` (with `changes` applied, and the rules of the attributes they set). */
  protected async fetchForWrite(db: DB, ctx: Context, id: string, action: string, changes: Dict = {}): Promise<Dict> {
    const obj = await this.fetch(db, ctx, id);
    await this.authorize(db, ctx, action, { ...obj, ...changes }, Object.keys(changes));
    return obj;
  }

  protected checkRevision(obj: Dict, ifRevision?: number): void {
    if (ifRevision !== undefined && obj.revision_number !== ifRevision) {
      throw errors.revisionConstraint(ifRevision, obj.revision_number as number);
    }
  }

  /** Objects by id with their virtual attributes, unscoped: for the server's own use (RPC to
   * agents), never for answering a caller. */
  async loadFull(db: DB, ids: string[]): Promise<Dict[]> {
    const rows = await this.store.getRows(db, this.def, ids);
    await this.extend(db, rows);
    return rows;
  }

  async get(ctx: Context, id: string): Promise<Dict> {
    return this.fetch(this.db, ctx, id);
  }

  async list(ctx: Context, opts: ListOptions): Promise<Dict[]> {
    const rows = await this.store.list(this.db, this.def, opts, this.scope(ctx), this.virtualFilters(ctx));
    await this.extend(this.db, rows);
    await this.perCaller(this.db, ctx, rows);
    return rows;
  }

  /** Fills id, standard attributes and the owner of a new object. */
  protected newObject(item: Dict): Dict {
    const now = nowStamp();
    const obj: Dict = { ...item, id: randomUUID() };
    if (this.def.standardAttrs) {
      obj.created_at = now;
      obj.updated_at = now;
      obj.revision_number = 0;
      obj.description = item.description ?? '';
    }
    return obj;
  }

  /** Creates one object inside the transaction; returns its id. */
  protected abstract createOne(db: DB, ctx: Context, item: Dict): Promise<string>;

  async create(ctx: Context, items: Dict[]): Promise<Dict[]> {
    const ids = await this.tx(
      async (db) => {
        await this.quota?.check(db, ctx, this.def, items);
        const out: string[] = [];
        for (const item of items) {
          await this.checkParents(db, ctx, item);
          await this.authorize(db, ctx, 'create', item, this.explicitlySet(item));
          const id = await this.createOne(db, ctx, item);
          if (this.def.taggable && Array.isArray(item.tags) && item.tags.length) {
            await this.store.setTags(db, id, item.tags as string[]);
          }
          out.push(id);
        }
        return out;
      },
      this.createLocks(ctx, items),
      this.optimisticCreates,
    );
    const rows = await this.store.getRows(this.db, this.def, ids);
    await this.extend(this.db, rows);
    await this.perCaller(this.db, ctx, rows);
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    const created = ids.map((id) => byId.get(id) as Dict);
    await this.afterCreate(created);
    return created;
  }

  // After-commit hooks (ML2's postcommit): side effects of a change that is already stored,
  // such as telling agents. They see full objects and must not assume a rollback is possible.
  protected async afterCreate(_created: Dict[]): Promise<void> {}
  protected async afterUpdate(_before: Dict, _after: Dict): Promise<void> {}
  protected async afterDelete(_deleted: Dict): Promise<void> {}

  /** Applies a validated change inside the transaction. */
  protected async updateOne(db: DB, _ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    await this.store.update(db, this.def, obj.id as string, changes);
  }

  async update(ctx: Context, id: string, changes: Dict, ifRevision?: number): Promise<Dict> {
    const before = await this.tx(async (db) => {
      const obj = await this.fetchForWrite(db, ctx, id, 'update', changes);
      this.checkRevision(obj, ifRevision);
      await this.updateOne(db, ctx, { ...obj }, changes);
      return obj;
    });
    const after = await this.fetch(this.db, ctx, id);
    await this.afterUpdate(before, after);
    return after;
  }

  /** Checks and deletes inside the transaction. */
  protected async deleteOne(db: DB, _ctx: Context, obj: Dict): Promise<void> {
    await this.store.delete(db, this.def, obj.id as string);
  }

  async delete(ctx: Context, id: string, ifRevision?: number): Promise<void> {
    const deleted = await this.tx(async (db) => {
      const obj = await this.fetchForWrite(db, ctx, id, 'delete');
      this.checkRevision(obj, ifRevision);
      await this.deleteOne(db, ctx, obj);
      return obj;
    });
    await this.afterDelete(deleted);
  }

  async getTags(ctx: Context, id: string): Promise<string[]> {
    const obj = await this.fetch(this.db, ctx, id);
    return obj.tags as string[];
  }

  async changeTags(ctx: Context, id: string, change: TagChange): Promise<string[]> {
    return this.tx(async (db) => {
      const obj = await this.fetchForWrite(db, ctx, id, 'update');
      const current = obj.tags as string[];
      let next: string[];
      switch (change.op) {
        case 'replace':
          next = [...new Set(change.tags)];
          break;
        case 'add':
          next = [...new Set([...current, ...change.tags])];
          break;
        case 'clear':
          next = [];
          break;
        case 'remove':
          if (!current.includes(change.tag)) throw errors.tagNotFound(id, change.tag);
          next = current.filter((t) => t !== change.tag);
          break;
      }
      const same = next.length === current.length && next.every((t) => current.includes(t));
      if (!same) {
        if (next.length > MAX_TAGS) throw badRequest(`The number of tags exceeds the limit ${MAX_TAGS}.`);
        await this.store.setTags(db, id, next);
        await this.store.bumpRevision(db, this.def, id);
      }
      return next.sort();
    });
  }
}

/** A create item made by the server itself (an agent's port), as the API would have prepared it:
 * `attrs` over the defaults of every attribute a POST may set. */
export function internalItem(def: ResourceDef, attrs: Dict): Dict {
  const out: Dict = {};
  for (const [name, a] of Object.entries(def.attributes)) if (a.allowPost && 'default' in a) out[name] = a.default;
  return { ...out, ...attrs };
}

/** Attempts of one transaction before a conflict is reported (409). */
export const TX_ATTEMPTS = 12;

/**
 * Runs `fn` in one write transaction, as Neutron does on MySQL: the database's default isolation
 * (READ COMMITTED on PostgreSQL), unique and foreign keys as the last word, and retries. Writers
 * that contend name it in `locks` (see `createLocks`: the ports or subnets of one network): on
 * PostgreSQL they queue on advisory locks taken before the transaction starts, so each sees what
 * the one before it committed. `optimistic` callers (port creates) take them shared on the first
 * attempt and exclusively on a retry, so dense pools (the last free addresses of a subnet) still
 * make progress. A transaction
 * that still loses to a concurrent one, on a unique or foreign key another took or removed (an
 * IP, a MAC, a project's default group, a network deleted meanwhile), a deadlock or a
 * serialization failure, is run again from the start after a short random pause: it then sees
 * what the other committed and either succeeds (another free address) or fails with the API's
 * own error (IpAddressGenerationFailure, NetworkNotFound …). When the attempts run out the
 * caller gets a 409, never a 500. SQLite serialises writers in-process, so there these errors
 * come only from a genuine duplicate or another process holding the file.
 */
export async function transaction<T>(
  store: Store,
  fn: (db: DB) => Promise<T>,
  locks: string[] = [],
  optimistic = false,
): Promise<T> {
  const { withLocks } = store.sql;
  const run = (db: DB) => db.transaction().execute(fn);
  for (let attempt = 1; ; attempt++) {
    try {
      // An optimistic first attempt holds its locks shared: creates of ports on one network (whose
      // random addresses and MACs rarely collide) run side by side, while a subnet create, which
      // holds the network's lock exclusively, still excludes them all. A retry holds them exclusively.
      const shared = optimistic && attempt === 1;
      return await (withLocks && locks.length ? withLocks(store.db, locks, run, shared) : run(store.db));
    } catch (err) {
      const kind = dbErrorKind(err);
      if (!kind) throw err;
      if (attempt >= TX_ATTEMPTS) throw conflictError(kind, err);
      // Full jitter over an exponential ceiling: 4, 8, 16 … 128 ms.
      const ceiling = Math.min(128, 2 ** (attempt + 1));
      await new Promise((ok) => setTimeout(ok, Math.random() * ceiling));
    }
  }
}

/** The 409 for a transaction that kept losing to concurrent ones. */
function conflictError(kind: DbErrorKind, err: unknown): NeutronError {
  if (kind === 'unique') {
    const { table, values } = uniqueViolationTarget(err);
    if (table === 'ipallocations' && values?.ip_address && values.subnet_id)
      return errors.ipAddressAlreadyAllocated(values.ip_address, values.subnet_id);
    if (table === 'ports' && values?.mac_address && values.network_id)
      return errors.macAddressInUse(values.mac_address, values.network_id);
  }
  return errors.conflict('The request conflicted with concurrent changes to the same resources; retry it.');
}
