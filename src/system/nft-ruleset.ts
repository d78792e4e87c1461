// A declarative nftables ruleset and the smallest transaction that makes the kernel match it.
//
// A table is sets, maps and chains. A chain's name stands for its content: the compiler that builds
// a model names every chain whose rules vary after a hash of them (`eg-tap1234-9f3a…`), and base
// chains, whose names are fixed, never change content within one `schema`. So comparing the kernel
// with a model needs only the names of its chains and the elements of its sets and maps, which nft
// lists cheaply (`list chains`, `list sets`, `list maps`), never every rule. A changed port is then
// a new chain plus one map element pointing at it; a new member of a group is one set element.
//
// `diffRuleset` writes one `nft -f` script for all tables: atomic, so packets see the old ruleset or
// the new one, never a mixture; empty when nothing changed. A table whose schema differs (or that
// does not exist) is replaced whole, in the same transaction.
import * as v from './validate.js';

export interface NftSetModel {
  /** `set` or `map`. */
  kind: 'set' | 'map';
  /** The declaration inside the braces, e.g. `type ipv4_addr; flags interval;` or `typeof iifname : ct zone;`. */
  spec: string;
  /** Keys are interface names, written quoted. */
  ifnameKeys?: boolean;
  /** Canonical element texts as nft lists them: `10.0.0.0/24`, `fd00::1`, `tap1234`, `7`; map
   * elements as `key : value`, e.g. `5 : jump eg-tap1234-0a1b2c3d` or `brq1234 : 3`. */
  elements: Set<string>;
}

export interface NftChainModel {
  /** A base chain's header, e.g. `type filter hook prerouting priority -300; policy accept;`. */
  hook?: string;
  rules: string[];
}

export interface NftTableModel {
  family: string;
  name: string;
  /** Changes whenever the base chains or the set declarations change: the table is then replaced. */
  schema: number;
  sets: Map<string, NftSetModel>;
  chains: Map<string, NftChainModel>;
}

/** What the kernel holds of a table: enough to diff against (see above). */
export interface NftTableState {
  family: string;
  name: string;
  schema?: number;
  sets: Map<string, Set<string>>;
  chains: Set<string>;
}

/** The set every table carries to record its schema (one element: the number). */
export const SCHEMA_SET = 'schema';

const ident = (s: string) => v.token(s);

function renderKey(set: NftSetModel, key: string): string {
  return set.ifnameKeys ? `"${v.device(key)}"` : key;
}

/** One element as nft reads it. */
export function renderElement(set: NftSetModel, element: string): string {
  if (set.kind === 'set') return renderKey(set, element);
  const i = element.indexOf(' : ');
  if (i < 0) throw new v.InvalidValue('map element', element);
  return `${renderKey(set, element.slice(0, i))} : ${element.slice(i + 3)}`;
}

/** The key of an element (what `delete element` names). */
function keyOf(set: NftSetModel, element: string): string {
  const key = set.kind === 'map' ? element.slice(0, element.indexOf(' : ')) : element;
  return renderKey(set, key);
}

/** Elements in chunks, so no single line grows unbounded. */
function elementLines(verb: 'add' | 'delete', t: NftTableModel, name: string, items: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += 500) {
    out.push(`${verb} element ${t.family} ${t.name} ${name} { ${items.slice(i, i + 500).join(', ')} }`);
  }
  return out;
}

function withSchema(t: NftTableModel): Map<string, NftSetModel> {
  const sets = new Map(t.sets);
  sets.set(SCHEMA_SET, { kind: 'set', spec: 'type mark;', elements: new Set([String(t.schema)]) });
  return sets;
}

/** The whole table, created from nothing (after deleting whatever had its name). */
function replaceTable(t: NftTableModel): string[] {
  const f = `${t.family} ${t.name}`;
  const sets = withSchema(t);
  const out = [`add table ${f}`, `delete table ${f}`, `add table ${f}`];
  for (const [name, s] of sets) out.push(`add ${s.kind} ${f} ${ident(name)} { ${s.spec} }`);
  for (const [name, c] of t.chains)
    out.push(c.hook ? `add chain ${f} ${ident(name)} { ${c.hook} }` : `add chain ${f} ${ident(name)}`);
  for (const [name, c] of t.chains) for (const r of c.rules) out.push(`add rule ${f} ${name} ${r}`);
  for (const [name, s] of sets) {
    out.push(
      ...elementLines(
        'add',
        t,
        name,
        [...s.elements].map((e) => renderElement(s, e)),
      ),
    );
  }
  return out;
}

/** The lines that turn `have` into `want` (same table), or the whole table when it cannot be
 * changed in place. */
function diffTable(want: NftTableModel, have: NftTableState | undefined): string[] {
  if (!have || have.schema !== want.schema) return replaceTable(want);
  const f = `${want.family} ${want.name}`;
  const sets = withSchema(want);
  const addSets: string[] = [];
  const addChains: string[] = [];
  const addRules: string[] = [];
  const delElements: string[] = [];
  const addElements: string[] = [];
  const flushChains: string[] = [];
  const delChains: string[] = [];
  const delSets: string[] = [];
  for (const [name, s] of sets) {
    const current = have.sets.get(name);
    if (!current) addSets.push(`add ${s.kind} ${f} ${ident(name)} { ${s.spec} }`);
    const cur = current ?? new Set<string>();
    if (cur.size === s.elements.size && [...s.elements].every((e) => cur.has(e))) continue;
    // A map element whose value changed is deleted, then added again with the new value.
    const curKeys = new Map([...cur].map((e) => [keyOf(s, e), e]));
    const wantKeys = new Map([...s.elements].map((e) => [keyOf(s, e), e]));
    const gone = [...curKeys].filter(([k, e]) => wantKeys.get(k) !== e).map(([k]) => k);
    const added = [...wantKeys].filter(([k, e]) => curKeys.get(k) !== e).map(([, e]) => renderElement(s, e));
    delElements.push(...elementLines('delete', want, name, gone));
    addElements.push(...elementLines('add', want, name, added));
  }
  for (const [name, c] of want.chains) {
    if (have.chains.has(name)) continue;
    addChains.push(c.hook ? `add chain ${f} ${ident(name)} { ${c.hook} }` : `add chain ${f} ${ident(name)}`);
    for (const r of c.rules) addRules.push(`add rule ${f} ${name} ${r}`);
  }
  for (const name of have.chains) {
    if (want.chains.has(name)) continue;
    flushChains.push(`flush chain ${f} ${ident(name)}`);
    delChains.push(`delete chain ${f} ${ident(name)}`);
  }
  for (const name of have.sets.keys()) if (!sets.has(name)) delSets.push(`delete set ${f} ${ident(name)}`);
  return [...addSets, ...addChains, ...addRules, ...delElements, ...addElements, ...flushChains, ...delChains, ...delSets];
}

/** One nft script (for `nft -f -`) turning the kernel's `have` into `want`; tables of `drop` that
 * exist are deleted. '' when nothing differs. */
export function diffRuleset(want: NftTableModel[], have: Map<string, NftTableState>, drop: Array<[string, string]> = []): string {
  const lines: string[] = [];
  for (const t of want) {
    ident(t.family);
    ident(t.name);
    lines.push(...diffTable(t, have.get(`${t.family} ${t.name}`)));
  }
  for (const [family, name] of drop) {
    if (have.has(`${family} ${name}`)) lines.push(`delete table ${ident(family)} ${ident(name)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** What `want` will look like once applied (the next diff's `have`, without reading the kernel). */
export function stateOf(t: NftTableModel): NftTableState {
  const sets = new Map([...withSchema(t)].map(([n, s]) => [n, new Set(s.elements)]));
  return { family: t.family, name: t.name, schema: t.schema, sets, chains: new Set(t.chains.keys()) };
}

// ------------------------------------------------------------------------ reading `nft -j` output

type JsonElem = unknown;

/** An element of `nft -j` output in the canonical text form used by models. */
export function elementText(e: JsonElem): string {
  if (typeof e === 'string' || typeof e === 'number') return String(e);
  if (Array.isArray(e)) return `${elementText(e[0])} : ${elementText(e[1])}`;
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    if (o.prefix) {
      const p = o.prefix as { addr: string; len: number };
      return `${p.addr}/${p.len}`;
    }
    if (o.range) {
      const [a, b] = o.range as [JsonElem, JsonElem];
      return `${elementText(a)}-${elementText(b)}`;
    }
    if (o.elem) return elementText((o.elem as { val: JsonElem }).val);
    for (const verdict of ['jump', 'goto'] as const) {
      if (o[verdict]) return `${verdict} ${(o[verdict] as { target: string }).target}`;
    }
    for (const verdict of ['accept', 'drop', 'continue', 'return'] as const) if (verdict in o) return verdict;
    if (o.concat) return (o.concat as JsonElem[]).map(elementText).join(' . ');
  }
  throw new Error(`unexpected nft element ${JSON.stringify(e)}`);
}

interface JsonListing {
  nftables: Array<Record<string, Record<string, unknown>>>;
}

/** Tables' states from the JSON of `nft -j list tables`, `list chains`, `list sets` and `list maps`
 * (any order, any families), keeping only the tables named in `wanted` ('family name'). */
export function parseListings(listings: string[], wanted: string[]): Map<string, NftTableState> {
  const out = new Map<string, NftTableState>();
  const tableOf = (o: Record<string, unknown>) => {
    const key = `${o.family} ${o.table}`;
    if (!wanted.includes(key)) return undefined;
    let t = out.get(key);
    if (!t) {
      t = { family: o.family as string, name: o.table as string, sets: new Map(), chains: new Set() };
      out.set(key, t);
    }
    return t;
  };
  for (const text of listings) {
    if (!text.trim()) continue;
    const json = JSON.parse(text) as JsonListing;
    for (const entry of json.nftables) {
      if (entry.table) tableOf({ family: entry.table.family, table: entry.table.name });
      const chain = entry.chain;
      if (chain) tableOf(chain)?.chains.add(chain.name as string);
      const set = entry.set ?? entry.map;
      if (set) {
        const t = tableOf(set);
        if (!t) continue;
        const elements = new Set(((set.elem as JsonElem[] | undefined) ?? []).map(elementText));
        t.sets.set(set.name as string, elements);
        if (set.name === SCHEMA_SET) {
          const [n] = [...elements];
          t.schema = n === undefined ? undefined : Number(n);
        }
      }
    }
  }
  return out;
}
