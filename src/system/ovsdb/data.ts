// OVSDB's data notation (RFC 7047 section 5.1): atoms (string, integer, real, boolean, uuid),
// sets (`["set", [...]]`, or the bare atom when there is exactly one) and maps
// (`["map", [[k, v], ...]]`). Decoders take the column's kind, since a one-element set and its
// atom look alike on the wire.
import type { Json } from './jsonrpc.js';

export type Atom = string | number | boolean;

const isTagged = (d: Json, tag: string): d is [string, Json] => Array.isArray(d) && d.length === 2 && d[0] === tag;

/** An atom, with uuids as their string. */
export function atom(d: Json): Atom {
  if (isTagged(d, 'uuid') || isTagged(d, 'named-uuid')) return d[1] as string;
  if (typeof d === 'string' || typeof d === 'number' || typeof d === 'boolean') return d;
  throw new Error(`not an OVSDB atom: ${JSON.stringify(d)}`);
}

/** A set column (or an optional one: zero or one element). */
export function set(d: Json | undefined): Atom[] {
  if (d === undefined) return [];
  if (isTagged(d, 'set')) return (d[1] as Json[]).map(atom);
  return [atom(d)];
}

/** An optional column (a set of at most one): its value or null. */
export function optional<T extends Atom>(d: Json | undefined): T | null {
  const s = set(d);
  return s.length ? (s[0] as T) : null;
}

export function map(d: Json | undefined): Record<string, string> {
  if (d === undefined) return {};
  if (!isTagged(d, 'map')) throw new Error(`not an OVSDB map: ${JSON.stringify(d)}`);
  const out: Record<string, string> = {};
  for (const [k, v] of d[1] as Array<[Json, Json]>) out[String(atom(k))] = String(atom(v));
  return out;
}

// ----------------------------------------------------------------------------- encoders

export const uuid = (id: string): Json => ['uuid', id];
export const namedUuid = (name: string): Json => ['named-uuid', name];
export const toSet = (items: Json[]): Json => ['set', items];
export const toMap = (m: Record<string, string>): Json => ['map', Object.entries(m).sort(([a], [b]) => a.localeCompare(b))];
/** An optional value: the atom, or the empty set for null. */
export const toOptional = (v: Atom | null | undefined): Json => (v === null || v === undefined ? ['set', []] : v);
