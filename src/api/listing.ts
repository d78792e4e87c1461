// Query-string handling for lists and shows: filters (filter-validation), fields=, sorting
// (sort-key-validation), pagination (limit/marker/page_reverse) and the <collection>_links.
import { badRequest, NeutronError } from '../common/errors.js';
import type { ListOptions, TagFilters } from '../plugins/list-options.js';
import type { ResourceDef } from '../resources/types.js';
import { converters } from '../validation/converters.js';
import { pyInt } from '../validation/validators.js';

/** The largest integer an integer column holds: a filter on a larger one matches nothing. */
const INT_MAX = 2 ** 31 - 1;

export type RawQuery = Record<string, string | string[] | undefined>;

const RESERVED = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse', 'changed_since']);
const TAG_KEYS: Record<string, keyof TagFilters> = {
  tags: 'tags',
  'tags-any': 'tagsAny',
  'not-tags': 'notTags',
  'not-tags-any': 'notTagsAny',
};

export const values = (q: RawQuery, key: string): string[] => {
  const v = q[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

export interface ListSettings {
  filterValidation: boolean;
  paginationMaxLimit: number;
}

export interface ParsedList {
  opts: ListOptions;
  fields: string[];
  limit: number;
  /** A filter no stored value can meet (a number no column holds): the list is empty. */
  nothing: boolean;
}

function convertFilter(def: ResourceDef, key: string, raw: string): unknown {
  const a = def.attributes[key];
  const conv = a.convertFilterTo ?? a.convertTo;
  if (!conv) return raw;
  return converters[conv](raw);
}

export function parseFields(q: RawQuery): string[] {
  return values(q, 'fields')
    .flatMap((f) => f.split(','))
    .filter((f) => f !== '');
}

export function parseList(def: ResourceDef, q: RawQuery, settings: ListSettings): ParsedList {
  const filters: Record<string, unknown[]> = {};
  const tagFilters: TagFilters = {};
  const invalid: string[] = [];
  let nothing = false;
  for (const key of Object.keys(q)) {
    if (RESERVED.has(key)) continue;
    if (def.taggable && key in TAG_KEYS) {
      tagFilters[TAG_KEYS[key]] = values(q, key)
        .flatMap((v) => v.split(','))
        .filter((t) => t !== '');
      continue;
    }
    const a = def.attributes[key];
    if (!a?.isFilter) {
      if (settings.filterValidation) invalid.push(key);
      continue;
    }
    // empty-string-filtering: an empty value is a value (`?name=` lists the unnamed), converted
    // like any other (`?shared=` is not a boolean).
    const vals = values(q, key);
    if (vals.length === 0) continue;
    const converted = vals.map((v) => convertFilter(def, key, v));
    // A number no column can hold matches nothing (rather than failing the query on PostgreSQL).
    const possible = converted.filter((v) => typeof v !== 'number' || Math.abs(v) <= INT_MAX);
    if (possible.length === 0) nothing = true;
    filters[key] = possible;
  }
  if (invalid.length) throw badRequest(`[${invalid.map((k) => `'${k}'`).join(', ')}] is invalid attribute for filtering`);
  if (filters.tenant_id) {
    filters.project_id = [...(filters.project_id ?? []), ...filters.tenant_id];
    delete filters.tenant_id;
  }

  const sortKeys = values(q, 'sort_key');
  const sortDirs = values(q, 'sort_dir');
  if (sortKeys.length !== sortDirs.length) throw badRequest('The number of sort_keys and sort_dirs must be same');
  const badKeys = sortKeys.filter((k) => !def.attributes[k]?.isSort);
  if (badKeys.length) throw badRequest(`[${badKeys.map((k) => `'${k}'`).join(', ')}] is invalid attribute for sort_keys`);
  const badDirs = sortDirs.filter((d) => d !== 'asc' && d !== 'desc');
  if (badDirs.length) {
    throw badRequest(
      `[${badDirs.map((d) => `'${d}'`).join(', ')}] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`,
    );
  }
  const sorts = sortKeys.map((k, i): [string, 'asc' | 'desc'] => [
    k === 'tenant_id' ? 'project_id' : k,
    sortDirs[i] as 'asc' | 'desc',
  ]);

  let limit = 0;
  const rawLimit = values(q, 'limit')[0];
  if (rawLimit !== undefined) {
    // Python's int(): surrounding blanks, a sign and underscores pass, as in Neutron.
    const n = pyInt(rawLimit);
    if (n === null || n < 0) {
      throw new NeutronError(
        'BadRequest',
        400,
        `Bad limit request: Limit must be an integer 0 or greater and not '${rawLimit}'.`,
      );
    }
    // No table holds 2^31 rows: a larger limit (Neutron fails from 2^63) pages the same.
    limit = Math.min(n, INT_MAX);
  }
  if (settings.paginationMaxLimit > 0 && (limit === 0 || limit > settings.paginationMaxLimit)) {
    limit = settings.paginationMaxLimit;
  }
  const marker = values(q, 'marker')[0];
  const pr = values(q, 'page_reverse')[0];
  const pageReverse = pr !== undefined && (converters.convert_to_boolean(pr) as boolean);
  const changedSince = values(q, 'changed_since')[0];

  const opts: ListOptions = {
    filters,
    tagFilters,
    sorts,
    limit: limit || undefined,
    marker: limit ? marker : undefined,
    pageReverse: limit ? pageReverse : false,
    changedSince: changedSince ? normalizeTime(changedSince) : undefined,
  };
  return { opts, fields: parseFields(q), limit, nothing };
}

function normalizeTime(s: string): string {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw badRequest(`'${s}' is not a valid datetime`);
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Neutron's get_pagination_links. `base` is the absolute URL of the collection. */
export function paginationLinks(
  base: string,
  q: RawQuery,
  items: Array<{ id?: unknown }>,
  limit: number,
  pageReverse: boolean,
): Array<{ rel: string; href: string }> {
  if (!limit) return [];
  const links: Array<{ rel: string; href: string }> = [];
  const href = (marker: unknown, reverse: boolean) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) {
      if (k === 'marker' || k === 'page_reverse' || v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
    }
    if (marker !== undefined) p.set('marker', String(marker));
    if (reverse) p.set('page_reverse', 'True');
    return `${base}?${p.toString()}`;
  };
  if (!(items.length < limit && !pageReverse)) links.push({ rel: 'next', href: href(items.at(-1)?.id, false) });
  if (!(items.length < limit && pageReverse)) links.push({ rel: 'previous', href: href(items[0]?.id, true) });
  return links;
}
