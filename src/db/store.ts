// Generic persistence for any resource definition: the row ↔ dict mapping, listing with filters,
// tag filters, sorting and marker pagination, revision bumps and tags. Resource-specific rules
// live in the plugins; this file knows only what the definitions say.
import type { ExpressionBuilder, RawBuilder, SelectQueryBuilder } from 'kysely';
import { badRequest } from '../common/errors.js';
import type { AttributeDef, ResourceDef } from '../resources/types.js';
import type { DB } from './connection.js';
import { type Dialect, type DialectName, dialectOf } from './dialects/index.js';

export type Dict = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: tables are derived from definitions at run time
export type Query = SelectQueryBuilder<any, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: idem
export type EB = ExpressionBuilder<any, any>;

/** Runs `query` over `ids` in slices, so that an `IN (…)` list stays below the databases' limits
 * on bound parameters (SQLite 32,766, PostgreSQL 65,535), and concatenates the rows. */
export async function inSlices<T>(ids: string[], query: (slice: string[]) => Promise<T[]>, size = 5000): Promise<T[]> {
  if (ids.length <= size) return ids.length ? query(ids) : [];
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += size) out.push(...(await query(ids.slice(i, i + size))));
  return out;
}

/** PostgreSQL's integer, the type of the integer columns set from requests. */
const INT_MAX = 2 ** 31 - 1;

export const nowStamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

const isBool = (a: AttributeDef) => a.convertTo === 'convert_to_boolean' || a.convertTo === 'convert_to_boolean_if_not_none';

export function columnOf(a: AttributeDef, attrName: string): string | null {
  const s = a.storage ?? { kind: 'column' };
  if (s.kind === 'virtual') return null;
  return s.column ?? attrName.replace(':', '_');
}

/** The dict → row mapping of one definition, computed once. */
export class Mapping {
  readonly columns: Array<{ attr: string; column: string; bool: boolean; json: boolean }> = [];
  readonly byAttr = new Map<string, { column: string; bool: boolean; json: boolean }>();

  constructor(
    readonly def: ResourceDef,
    private readonly dialect: Dialect = dialectOf('sqlite'),
  ) {
    for (const [attrName, a] of Object.entries(def.attributes)) {
      const column = columnOf(a, attrName);
      if (!column) continue;
      const entry = { attr: attrName, column, bool: isBool(a), json: a.storage?.kind === 'json' };
      this.byAttr.set(attrName, entry);
      // tenant_id shares project_id's column; write it once.
      if (attrName !== 'tenant_id') this.columns.push(entry);
    }
  }

  toRow(dict: Dict): Dict {
    const row: Dict = {};
    for (const c of this.columns) {
      if (!(c.attr in dict)) continue;
      const v = dict[c.attr];
      // What got past the validators and the plugin's own checks must still fit an integer
      // column (PostgreSQL refuses the statement; Neutron answers 500 there).
      if (typeof v === 'number' && !c.json && (!Number.isFinite(v) || Math.abs(v) > INT_MAX)) {
        const reason =
          v < 0
            ? `'${v}' is too small - must be at least '${-INT_MAX - 1}'`
            : `'${v}' is too large - must be no larger than '${INT_MAX}'`;
        throw badRequest(`Invalid input for ${c.attr}. Reason: ${reason}.`);
      }
      row[c.column] = this.toDb(c, v);
    }
    return row;
  }

  toDb(c: { bool: boolean; json: boolean }, v: unknown): unknown {
    if (v === undefined) return null;
    if (c.json) return JSON.stringify(v);
    if (c.bool) return v === null ? null : this.dialect.bool(Boolean(v));
    return v;
  }

  fromRow(row: Dict): Dict {
    const dict: Dict = {};
    for (const [attr, c] of this.byAttr) {
      const v = row[c.column];
      // Most JSON columns hold an empty list: skip the parser for it.
      dict[attr] = c.json ? (v === '[]' ? [] : JSON.parse(v as string)) : c.bool ? (v === null ? null : Boolean(v)) : v;
    }
    if ('revision_number' in dict) dict.revision_number = Number(dict.revision_number);
    return dict;
  }

  /** An attribute's value as stored, for comparing a column with it (booleans differ by dialect). */
  filterValue(attr: string, v: unknown): unknown {
    const c = this.byAttr.get(attr);
    return c ? this.toDb(c, v) : v;
  }
}

export interface TagFilters {
  tags?: string[];
  tagsAny?: string[];
  notTags?: string[];
  notTagsAny?: string[];
}

export interface ListOptions {
  /** attr → accepted values (OR within a key, AND across keys), already converted. */
  filters: Record<string, unknown[]>;
  tagFilters?: TagFilters;
  changedSince?: string;
  sorts: Array<[string, 'asc' | 'desc']>;
  limit?: number;
  marker?: string;
  pageReverse?: boolean;
}

/** A plugin's hook to filter on an attribute that has no column of its own. */
export type VirtualFilter = (eb: EB, values: unknown[]) => ReturnType<EB['and']>;

export class Store {
  readonly mappings = new Map<string, Mapping>();
  /** What differs between SQLite and PostgreSQL. */
  readonly sql: Dialect;

  constructor(
    readonly db: DB,
    readonly dialect: DialectName = 'sqlite',
  ) {
    this.sql = dialectOf(dialect);
  }

  /** The right-hand side of `column IN (…)` for many values, as one bound parameter so the
   * statement text (and its prepared form) is the same whatever the count. */
  anyOf(values: string[]): RawBuilder<string> {
    return this.sql.anyOf(values);
  }

  /** The stored form of a boolean, for hand-written comparisons with a boolean column. */
  bool(v: boolean): unknown {
    return this.sql.bool(v);
  }

  mapping(def: ResourceDef): Mapping {
    let m = this.mappings.get(def.collection);
    if (!m) {
      m = new Mapping(def, this.sql);
      this.mappings.set(def.collection, m);
    }
    return m;
  }

  async insert(db: DB, def: ResourceDef, dict: Dict): Promise<void> {
    await db.insertInto(def.table).values(this.mapping(def).toRow(dict)).execute();
  }

  async getRow(db: DB, def: ResourceDef, id: string): Promise<Dict | undefined> {
    const row = await db.selectFrom(def.table).selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.mapping(def).fromRow(row) : undefined;
  }

  async getRows(db: DB, def: ResourceDef, ids: string[]): Promise<Dict[]> {
    if (ids.length === 0) return [];
    const rows = await db.selectFrom(def.table).selectAll().where('id', 'in', ids).execute();
    const m = this.mapping(def);
    return rows.map((r) => m.fromRow(r));
  }

  /** Updates columns and bumps the revision; returns the new revision number. */
  async update(db: DB, def: ResourceDef, id: string, changes: Dict, bump = true): Promise<void> {
    const row = this.mapping(def).toRow(changes);
    if (def.standardAttrs && bump) {
      row.updated_at = nowStamp();
      await db
        .updateTable(def.table)
        .set((eb: EB) => ({ ...row, revision_number: eb('revision_number', '+', 1) }))
        .where('id', '=', id)
        .execute();
    } else if (Object.keys(row).length > 0) {
      await db.updateTable(def.table).set(row).where('id', '=', id).execute();
    }
  }

  async bumpRevision(db: DB, def: ResourceDef, id: string): Promise<void> {
    await this.update(db, def, id, {}, true);
  }

  async delete(db: DB, def: ResourceDef, id: string): Promise<void> {
    if (def.taggable) await db.deleteFrom('tags').where('resource_id', '=', id).execute();
    await db.deleteFrom(def.table).where('id', '=', id).execute();
  }

  /** Lists rows of `def` matching `opts`, visible under `scope`, in the requested order. */
  async list(
    db: DB,
    def: ResourceDef,
    opts: ListOptions,
    scope?: (eb: EB) => ReturnType<EB['and']>,
    virtualFilters: Record<string, VirtualFilter> = {},
  ): Promise<Dict[]> {
    const m = this.mapping(def);
    let q: Query = db.selectFrom(def.table).selectAll(def.table);
    if (scope) q = q.where(scope);
    for (const [attr, values] of Object.entries(opts.filters)) {
      if (values.length === 0) continue;
      const vf = virtualFilters[attr];
      if (vf) {
        q = q.where((eb: EB) => vf(eb, values));
        continue;
      }
      const c = m.byAttr.get(attr);
      if (!c) continue;
      const dbValues = values.map((v) => m.toDb(c, v));
      const nonNull = dbValues.filter((v) => v !== null);
      const col = `${def.table}.${c.column}`;
      if (nonNull.length === dbValues.length) q = q.where(col, 'in', dbValues);
      else q = q.where((eb: EB) => eb.or([eb(col, 'is', null), ...(nonNull.length ? [eb(col, 'in', nonNull)] : [])]));
    }
    q = applyTagFilters(q, def.table, opts.tagFilters);
    if (opts.changedSince) q = q.where(`${def.table}.updated_at`, '>=', opts.changedSince);

    const sorts = [...opts.sorts];
    // Paging needs a total order; a plain list is returned in index order, as Neutron does.
    const paging = Boolean(opts.limit || opts.marker || opts.pageReverse);
    if ((paging || sorts.length) && !sorts.some(([k]) => k === 'id')) sorts.push(['id', 'asc']);
    const reverse = opts.pageReverse === true;
    const eff = sorts.map(([k, d]): [string, 'asc' | 'desc'] => [
      `${def.table}.${m.byAttr.get(k)?.column ?? k}`,
      reverse ? (d === 'asc' ? 'desc' : 'asc') : d,
    ]);

    if (opts.marker) {
      const marker = await db.selectFrom(def.table).selectAll().where('id', '=', opts.marker).executeTakeFirst();
      if (!marker) return [];
      // Keyset condition: (k1 > v1) OR (k1 = v1 AND k2 > v2) OR …
      q = q.where((eb: EB) =>
        eb.or(
          eff.map((_, i) =>
            eb.and([
              ...eff.slice(0, i).map(([col]) => eb(col, '=', marker[col.split('.')[1]] as never)),
              eb(eff[i][0], eff[i][1] === 'asc' ? '>' : '<', marker[eff[i][0].split('.')[1]] as never),
            ]),
          ),
        ),
      );
    }
    // NULLs sort as the smallest value everywhere (SQLite's and MySQL's order, so Neutron's).
    for (const [col, dir] of eff)
      q = this.sql.nullsAsSmallest
        ? q.orderBy(col, (ob) => (dir === 'asc' ? ob.asc().nullsFirst() : ob.desc().nullsLast()))
        : q.orderBy(col, dir);
    if (opts.limit && opts.limit > 0) q = q.limit(opts.limit);
    const rows = (await q.execute()) as Dict[];
    const dicts = rows.map((r) => m.fromRow(r));
    return reverse ? dicts.reverse() : dicts;
  }

  // ---- tags -------------------------------------------------------------------------------

  async loadTags(db: DB, ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    for (const id of ids) out.set(id, []);
    const rows = await db.selectFrom('tags').select(['resource_id', 'tag']).where('resource_id', 'in', this.anyOf(ids)).execute();
    for (const r of rows) out.get(r.resource_id as string)?.push(r.tag as string);
    for (const tags of out.values()) tags.sort();
    return out;
  }

  async setTags(db: DB, id: string, tags: string[]): Promise<void> {
    await db.deleteFrom('tags').where('resource_id', '=', id).execute();
    if (tags.length)
      await db
        .insertInto('tags')
        .values(tags.map((tag) => ({ resource_id: id, tag })))
        .execute();
  }

  async addTag(db: DB, id: string, tag: string): Promise<boolean> {
    const r = await db
      .insertInto('tags')
      .values({ resource_id: id, tag })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async removeTag(db: DB, id: string, tag: string): Promise<boolean> {
    const r = await db.deleteFrom('tags').where('resource_id', '=', id).where('tag', '=', tag).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

function applyTagFilters(q: Query, table: string, f?: TagFilters): Query {
  if (!f) return q;
  const idCol = `${table}.id`;
  // biome-ignore lint/suspicious/noExplicitAny: subquery builder
  const having = (eb: any, tag: string) => eb.selectFrom('tags').select('resource_id').where('tag', '=', tag);
  for (const tag of f.tags ?? []) q = q.where(idCol, 'in', (eb: EB) => having(eb, tag));
  if (f.tagsAny?.length) {
    const any = f.tagsAny;
    q = q.where(idCol, 'in', (eb: EB) => eb.selectFrom('tags').select('resource_id').where('tag', 'in', any));
  }
  if (f.notTags?.length) {
    const all = f.notTags;
    q = q.where((eb: EB) => eb.not(eb.and(all.map((tag) => eb(idCol, 'in', having(eb, tag))))));
  }
  if (f.notTagsAny?.length) {
    const any = f.notTagsAny;
    q = q.where(idCol, 'not in', (eb: EB) => eb.selectFrom('tags').select('resource_id').where('tag', 'in', any));
  }
  return q;
}
