// neutron-lib's attribute converters (api/converters.py), applied before validation. A failed
// conversion is Neutron's InvalidInput: "Invalid input for operation: <reason>.".

import { NeutronError } from '../common/errors.js';
import { formatIp, parseCidr, parseIp } from '../ipam/address.js';
import { formatMac, parseMac, randomMac } from '../ipam/mac.js';
import { securityGroupConverters } from './security-group-converters.js';
import { segmentConverters } from './segment-converters.js';
import { isDict, pyBoolFromString, pyInt, pyStr, pyStrip, validateRange } from './validators.js';

/** An InvalidInput NeutronError; `reason` is neutron-lib's bare message. */
export class ConvertError extends NeutronError {
  constructor(readonly reason: string) {
    super('InvalidInput', 400, `Invalid input for operation: ${reason}.`);
  }
}

export type Converter = (v: unknown) => unknown;

export function convertToBoolean(v: unknown): boolean {
  const b = pyBoolFromString(v);
  if (b === null) throw new ConvertError(`'${pyStr(v)}' cannot be converted to boolean`);
  return b;
}

export function convertToInt(v: unknown): number {
  const n = pyInt(v);
  if (n === null) throw new ConvertError(`'${pyStr(v)}' is not an integer`);
  return n;
}

/** Python float() of a string: decimal or exponent notation, inf/nan, underscores between digits. */
function pyFloat(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return null;
  const s = pyStrip(v).toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(s)) return Number.NaN;
  const d = '\\d+(?:_\\d+)*';
  if (!new RegExp(`^[+-]?(?:${d}(?:\\.(?:${d})?)?|\\.${d})(?:e[+-]?${d})?$`).test(s)) return null;
  return Number(s.replace(/_/g, ''));
}

export function convertToPositiveFloatOrNone(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const f = pyFloat(v);
  if (f === null) throw new ConvertError(`'${pyStr(v)}' must be a non negative decimal`);
  // Python reports the float it already converted (so '-1' shows as -1.0).
  if (f < 0) throw new ConvertError(`'${Number.isInteger(f) ? `${f}.0` : pyStr(f)}' must be a non negative decimal`);
  return f;
}

/** 'key=value' → ['key', 'value'] (both stripped; the value may be empty). */
export function convertKvpStrToList(v: unknown): [string, string] {
  if (typeof v === 'string') {
    const i = v.indexOf('=');
    if (i !== -1) {
      const key = pyStrip(v.slice(0, i));
      if (key) return [key, pyStrip(v.slice(i + 1))];
    }
  }
  throw new ConvertError(`'${pyStr(v)}' is not of the form <key>=[value]`);
}

/** ['a=1', 'a=2', 'b=3'] → {a: ['1', '2'], b: ['3']}; a bare flag (['True']) means no filter. */
export function convertKvpListToDict(v: unknown): Record<string, string[]> {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 1 && list[0] === 'True') return {};
  const out: Record<string, string[]> = {};
  for (const item of list) {
    const [k, val] = convertKvpStrToList(item);
    const values = out[k] ?? [];
    if (!values.includes(val)) values.push(val);
    out[k] = values;
  }
  return out;
}

export function convertToList(v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return [...v];
  if (isDict(v)) return Object.keys(v);
  return [v];
}

/** Valid IPv6 becomes its compact form; anything else is returned untouched for the validator. */
export function convertIpToCanonicalFormat(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const ip = parseIp(v);
  return ip && ip.version === 6 ? formatIp(6, ip.value) : v;
}

/**
 * CIDR text with its IPv6 address compacted; host bits are kept, as neutron-lib does. netaddr's
 * readings apply: a bare address is a host route and a netmask may follow the '/'.
 */
export function convertCidrToCanonicalFormat(v: unknown): string {
  const c = typeof v === 'string' ? parseCidr(v, { loose: true, allowBareIp: true }) : null;
  if (!c) throw new ConvertError(`${pyStr(v)} is not in a CIDR format`);
  const ipText = c.version === 6 ? formatIp(6, c.ip) : formatIp(4, c.ip);
  return `${ipText}/${c.prefixlen}`;
}

export function convertAllocationPoolsToCanonicalFormat(v: unknown): unknown {
  if (v === null || v === undefined) return [];
  const bad = () => new ConvertError('Invalid data format for allocation pools');
  // Python iterates whatever it gets: a string's characters, a dict's keys; each must be a dict.
  const items: unknown[] = Array.isArray(v) ? v : typeof v === 'string' ? [...v] : isDict(v) ? Object.keys(v) : [null];
  return items.map((pool) => {
    if (!isDict(pool)) throw bad();
    return Object.fromEntries(Object.entries(pool).map(([k, x]) => [k, convertIpToCanonicalFormat(x)]));
  });
}

export function convertStringToCaseInsensitive(v: unknown): string {
  if (typeof v !== 'string') throw new ConvertError(`Input value ${pyStr(v)} must be string type`);
  return v.toLowerCase();
}

export function convertToString(v: unknown): string | null {
  return v === null || v === undefined ? null : pyStr(v);
}

/** Forces the case of a case-insensitive prefix ('ipv4' → 'IPv4' with prefix 'IP'). */
export function convertPrefixForcedCase(v: unknown, prefix: string): unknown {
  if (typeof v === 'string' && v.length >= prefix.length && v.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()) {
    return prefix + v.slice(prefix.length);
  }
  return v;
}

const PROTOCOL_NAMES = ['dccp', 'icmp', 'ipv6-icmp', 'sctp', 'tcp', 'udp'];

/** Security group rule protocol: a known name (any case) or 0–255; the value is kept as given. */
export function convertToProtocol(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' && PROTOCOL_NAMES.includes(v.toLowerCase())) return v;
  const n = pyInt(v);
  if (n !== null && validateRange(n, [0, 255]) === null) return v;
  throw new ConvertError(
    `IP protocol '${pyStr(v)}' is not supported. Only protocol names and their integer representation (0 to 255) are supported`,
  );
}

let baseMac = 'fa:16:3e:00:00:00';

/** The [DEFAULT] base_mac option used by convert_to_mac_if_none. */
export function setBaseMac(mac: string): void {
  baseMac = mac;
}

/** lowercase colon form of any MAC netaddr reads (also an integer); other input passes through. */
export function convertToSanitizedMacAddress(v: unknown): unknown {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffffffff) return formatMac(BigInt(v));
  if (typeof v !== 'string') return v;
  // netaddr's patterns end in Python '$', which also accepts one trailing newline.
  const m = parseMac(v) ?? (v.endsWith('\n') ? parseMac(v.slice(0, -1)) : null);
  return m === null ? v : formatMac(m);
}

const ifNotNone =
  <T>(f: (v: unknown) => T) =>
  (v: unknown): T | null =>
    v === null || v === undefined ? null : f(v);

export const converters: Record<string, Converter> = {
  convert_to_boolean: convertToBoolean,
  convert_to_boolean_if_not_none: ifNotNone(convertToBoolean),
  convert_to_int: convertToInt,
  convert_to_int_if_not_none: ifNotNone(convertToInt),
  convert_to_positive_float_or_none: convertToPositiveFloatOrNone,
  convert_kvp_str_to_list: convertKvpStrToList,
  convert_kvp_list_to_dict: convertKvpListToDict,
  convert_none_to_empty_list: (v) => (v === null || v === undefined ? [] : v),
  convert_none_to_empty_dict: (v) => (v === null || v === undefined ? {} : v),
  convert_none_to_empty_string: (v) => (v === null || v === undefined ? '' : v),
  convert_to_list: convertToList,
  convert_allocation_pools_to_canonical_format: convertAllocationPoolsToCanonicalFormat,
  convert_ip_to_canonical_format: convertIpToCanonicalFormat,
  convert_cidr_to_canonical_format: convertCidrToCanonicalFormat,
  convert_string_to_case_insensitive: convertStringToCaseInsensitive,
  convert_to_string: convertToString,
  convert_uppercase_ip: (v) => convertPrefixForcedCase(v, 'IP'),
  convert_to_protocol: convertToProtocol,
  convert_to_mac_if_none: (v) => (v === null || v === undefined ? randomMac(baseMac) : v),
  convert_to_sanitized_mac_address: convertToSanitizedMacAddress,
  ...securityGroupConverters,
  ...segmentConverters,
};
