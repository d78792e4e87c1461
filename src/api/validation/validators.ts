// neutron-lib's attribute validators: same names, same verdicts, same reason texts. A validator
// returns null when the value is valid, else the reason that the API layer wraps as
// "Invalid input for <attr>. Reason: <reason>.". The few that raise in neutron-lib (allowed
// address pairs, key-spec lists, extra DHCP options) throw the matching NeutronError instead.
// Reasons quote values the way Python's '%s' prints them, hence the py* helpers.

import { badRequest, errors, invalidInput, NeutronError } from '../../common/errors.js';
import { type Cidr, formatCidr, formatIp, parseCidr, parseIp, prefixMask } from '../../ipam/address.js';
import { isMulticastMac, parseMac } from '../../ipam/mac.js';

export type Validator = (value: unknown, arg?: unknown) => string | null;

// --- Python semantics --------------------------------------------------------

/** Code points for which Python's str.isspace() is true (what strip() and re's \s use). */
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);
const isPySpace = (s: string, i: number) => PY_SPACE.has(s.charCodeAt(i));

export function pyHasSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isPySpace(s, i)) return true;
  return false;
}

export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPySpace(s, a)) a++;
  while (b > a && isPySpace(s, b - 1)) b--;
  return s.slice(a, b);
}

/** Python len(): code points, not UTF-16 units. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const NON_PRINTABLE = /[\p{C}\p{Z}]/u;

function pyReprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      const hex = cp.toString(16);
      out +=
        cp <= 0xff ? `\\x${hex.padStart(2, '0')}` : cp <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\U${hex.padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

function pyNum(n: number): string {
  if (Number.isInteger(n)) return String(n);
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** Python repr() of a JSON value. */
export function pyRepr(v: unknown): string {
  return typeof v === 'string' ? pyReprStr(v) : pyStr(v);
}

/** Python str() of a JSON value: what '%s' shows. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyNum(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** Python ==: True == 1, dicts and lists compared deeply. */
export function pyEquals(a: unknown, b: unknown): boolean {
  const num = (x: unknown) => typeof x === 'number' || typeof x === 'boolean';
  if (num(a) && num(b)) return Number(a) === Number(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && pyEquals((a as never)[k], (b as never)[k]));
}

const pyIn = (x: unknown, list: readonly unknown[]): boolean => list.some((y) => pyEquals(x, y));

/** Python int(): bools, numbers (truncated), decimal strings with optional sign/underscores. Null on failure. */
export function pyInt(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : null;
  if (typeof v === 'string') {
    const s = pyStrip(v);
    return /^[+-]?\d+(_\d+)*$/.test(s) ? Number(s.replace(/_/g, '')) : null;
  }
  return null;
}

export const isDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Python truthiness of a JSON value. */
export const pyTruthy = (v: unknown): boolean =>
  !(
    v === null ||
    v === undefined ||
    v === false ||
    v === 0 ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (isDict(v) && Object.keys(v).length === 0)
  );

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

/** oslo strutils.bool_from_string(strict=True); null when unrecognised. */
export function pyBoolFromString(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  const s = pyStrip(pyStr(v)).toLowerCase();
  if (TRUE_STRINGS.includes(s)) return true;
  if (FALSE_STRINGS.includes(s)) return false;
  return null;
}

// --- generic building blocks ---------------------------------------------------

const q = (v: unknown) => `'${pyStr(v)}'`;

function validateListOfItems(item: Validator, data: unknown, arg?: unknown): string | null {
  if (!Array.isArray(data)) return `${q(data)} is not a list`;
  const seen: unknown[] = [];
  const dups: unknown[] = [];
  for (const d of data) {
    if (pyIn(d, seen)) {
      if (!pyIn(d, dups)) dups.push(d);
      continue;
    }
    seen.push(d);
  }
  if (dups.length) return `Duplicate items in the list: '${dups.map(pyStr).join(', ')}'`;
  for (const d of data) {
    const msg = item(d, arg);
    if (msg) return msg;
  }
  return null;
}

const orNone =
  (v: Validator): Validator =>
  (data, arg) =>
    data === null || data === undefined ? null : v(data, arg);

/** Strict key check (`_verify_dict_keys`): the dict's keys must be exactly `expected`. */
function verifyDictKeys(expected: string[], target: unknown, strict = true): string | null {
  if (!isDict(target)) {
    return `Invalid input. ${q(target)} must be a dictionary with keys: ${pyStr(expected)}`;
  }
  const provided = Object.keys(target);
  const ok = strict
    ? provided.length === expected.length && expected.every((k) => k in target)
    : expected.every((k) => k in target);
  if (ok) return null;
  const set = (keys: string[]) => (keys.length ? `{${keys.map(pyRepr).join(', ')}}` : 'set()');
  return `Validation of dictionary's keys failed. Expected keys: ${set(expected)} Provided keys: ${set(provided)}`;
}

// --- strings -------------------------------------------------------------------

export function validateString(data: unknown, maxLen?: unknown): string | null {
  if (typeof data !== 'string') return `${q(data)} is not a valid string`;
  if (typeof maxLen === 'number' && pyLen(data) > maxLen) return `'${data}' exceeds maximum length of ${maxLen}`;
  return null;
}

export function validateNotEmptyString(data: unknown, maxLen?: unknown): string | null {
  const msg = validateString(data, maxLen);
  if (msg) return msg;
  return pyStrip(data as string) === '' ? `'${data as string}' Blank strings are not permitted` : null;
}

/** Line boundaries of Python's str.splitlines() (\r\n counts once). */
const LINE_BREAKS = new Set([0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029]);

/** Whether splitlines() gives more than one line, i.e. a line break before the very end. */
function isMultiline(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (!LINE_BREAKS.has(s.charCodeAt(i))) continue;
    const end = s.charCodeAt(i) === 0x0d && s.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1;
    return end < s.length;
  }
  return false;
}

export function validateOnelineNotEmptyString(data: unknown, maxLen?: unknown): string | null {
  const msg = validateNotEmptyString(data, maxLen);
  if (msg) return msg;
  return isMultiline(data as string) ? `Multi-line string is not allowed: '${data as string}'` : null;
}

/** Printable per neutron-lib's valid_name_regex: no control/format/line-separator chars, BMP only. */
const isNameChar = (ch: string) => (ch.codePointAt(0) as number) < 0xffff && !/[\p{C}\p{Zl}\p{Zp}]/u.test(ch);
const isNameEdgeChar = (ch: string) => isNameChar(ch) && !/\p{Zs}/u.test(ch);

export function validateNameString(data: unknown, maxLen?: unknown): string | null {
  const msg = validateString(data, maxLen);
  if (msg) return msg;
  const s = data as string;
  // Python's '$' also matches before one final '\n', so 'abc\n' passes there.
  const body = s.endsWith('\n') ? s.slice(0, -1) : s;
  const chars = [...body];
  const firstOk = s === '' || isNameEdgeChar([...s][0] as string);
  const lastOk = chars.length === 0 || isNameEdgeChar(chars[chars.length - 1] as string);
  if (firstOk && lastOk && chars.every(isNameChar)) return null;
  return `${q(s)} is not a valid string`;
}

export function validateNotEmptyNameString(data: unknown, maxLen?: unknown): string | null {
  return validateNotEmptyString(data, maxLen) ?? validateNameString(data, maxLen);
}

// --- numbers, booleans, enumerations -----------------------------------------

export function validateValues(data: unknown, validValues?: unknown): string | null {
  if (validValues === undefined || validValues === null) return null;
  const list = Array.isArray(validValues) ? validValues : [validValues];
  return pyIn(data, list) ? null : `${pyStr(data)} is not in valid_values`;
}

export function validateBoolean(data: unknown): string | null {
  return pyBoolFromString(data) === null ? `${q(data)} is not a valid boolean value` : null;
}

export function validateInteger(data: unknown, validValues?: unknown): string | null {
  if (validValues !== undefined && validValues !== null) {
    const msg = validateValues(data, validValues);
    if (msg) return msg;
  }
  const notInt = `${q(data)} is not an integer`;
  if (typeof data === 'boolean') return `${q(data)} is not an integer:boolean`;
  if (typeof data === 'number') return Number.isInteger(data) ? null : notInt;
  if (typeof data === 'string') {
    const n = pyInt(data);
    if (n === null) return notInt;
    // float(data) == int(data) fails for integers a double cannot hold exactly.
    const exact = BigInt(pyStrip(data).replace(/_/g, ''));
    return BigInt(n) === exact ? null : notInt;
  }
  return notInt;
}

export function validateRange(data: unknown, arg?: unknown): string | null {
  const [min, max] = (Array.isArray(arg) ? arg : [null, null]) as [number | null, number | null];
  const n = pyInt(data);
  if (n === null) return `${q(data)} is not an integer`;
  if (min !== null && min !== undefined && n < min) return `'${n}' is too small - must be at least '${Math.trunc(min)}'`;
  if (max !== null && max !== undefined && n > max) return `'${n}' is too large - must be no larger than '${Math.trunc(max)}'`;
  return null;
}

export function validateNonNegative(data: unknown): string | null {
  const n = pyInt(data);
  if (n === null) return `${q(data)} is not an integer`;
  return n < 0 ? `'${n}' should be non-negative` : null;
}

export function validatePortRange(data: unknown, arg?: unknown): string | null {
  if (data === null || data === undefined) return null;
  const [min, max] = (Array.isArray(arg) && arg.length === 2 ? arg : [0, 65535]) as [number, number];
  const ports = pyStr(data).split(':');
  const twoInts = 'Port range must be two integers separated by a colon';
  if (ports.length > 2) return twoInts;
  const values: number[] = [];
  for (const p of ports) {
    if (p.length === 0) return twoInts;
    const n = pyInt(p);
    if (n === null || n < 0 || n > 65535) return `Invalid port: ${p}`;
    if (max < n || n < min) return `Invalid port: ${p}, the port must be in the range [${min}, ${max}]`;
    values.push(n);
  }
  if (values.length > 1 && (values[0] as number) > (values[1] as number)) {
    return 'First port in a port range must be lower than the second port';
  }
  return null;
}

// --- identifiers -----------------------------------------------------------------

/** oslo uuidutils.is_uuid_like: 32 hex digits once 'urn:', 'uuid:', braces and hyphens are dropped. */
export function isUuidLike(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const s = v
    .replace(/urn:/g, '')
    .replace(/uuid:/g, '')
    .replace(/^[{}]+|[{}]+$/g, '')
    .replace(/-/g, '')
    .toLowerCase();
  return /^[0-9a-f]{32}$/.test(s);
}

export function validateUuid(data: unknown): string | null {
  return isUuidLike(data) ? null : `${q(data)} is not a valid UUID`;
}

export const IPV6_PD_POOL_ID = 'prefix_delegation';

export function validateSubnetpoolId(data: unknown): string | null {
  return data === IPV6_PD_POOL_ID ? null : orNone(validateUuid)(data);
}

// --- addresses -------------------------------------------------------------------

export function validateMacAddress(data: unknown): string | null {
  const bad = `${q(data)} is not a valid MAC address`;
  if (typeof data !== 'string' || pyHasSpace(data)) return bad;
  const v = parseMac(data);
  return v === null || v === 0n || v === 0xffffffffffffn ? bad : null;
}

export function validateIpAddress(data: unknown): string | null {
  const bad = `${q(data)} is not a valid IP address`;
  if (typeof data !== 'string' || pyHasSpace(data)) return bad;
  if (data.includes(':')) return parseIp(data) ? null : bad;
  // IPv4 is parsed with leading zeros filled away, then refused with a hint when the text
  // differs from the canonical form (leading zeros are octal to some parsers).
  const parts = data.split('.');
  if (parts.length !== 4) return bad;
  const octets = parts.map(pyInt);
  if (octets.some((o) => o === null)) return bad;
  const canonical = octets.join('.');
  const ip = parseIp(canonical);
  if (ip?.version !== 4) return bad;
  return canonical === data ? null : `'${data}' is not an accepted IP address, '${canonical}' is recommended`;
}

/** A CIDR netaddr would parse, with '/' present. */
function looseCidr(data: unknown): Cidr | null {
  if (typeof data !== 'string' || pyHasSpace(data) || !data.includes('/')) return null;
  return parseCidr(data, { loose: true });
}

export function validateSubnet(data: unknown): string | null {
  const net = looseCidr(data);
  // IPv4 must also be written canonically (netaddr >= 1.0 strictness, enforced by hand).
  if (net && (net.version === 6 || formatCidr(4, net.ip, net.prefixlen) === data)) return null;
  // A bare address: neutron-lib recommends its host prefix.
  const ip = typeof data === 'string' && !data.includes('/') && !pyHasSpace(data) ? parseIp(data) : null;
  if (ip) return `${q(data)} isn't a recognized IP subnet cidr, '${data}/${ip.version === 4 ? 32 : 128}' is recommended`;
  return `${q(data)} is not a valid IP subnet`;
}

/** A route destination: no host bits, not loopback. */
export function validateRouteCidr(data: unknown): string | null {
  const net = looseCidr(data);
  if (!net || net.network !== net.ip) return `${q(data)} is not a valid CIDR`;
  const loopback =
    net.version === 4 ? net.prefixlen >= 8 && net.network >> 24n === 127n : net.prefixlen === 128 && net.network === 1n;
  return loopback ? `${q(data)} is not a routable CIDR` : null;
}

export function validateIpOrSubnetOrNone(data: unknown): string | null {
  if (orNone(validateIpAddress)(data) !== null && orNone(validateSubnet)(data) !== null) {
    return `'${pyStr(data)}' is neither a valid IP address, nor is it a valid IP subnet`;
  }
  return null;
}

export function validateIpPools(data: unknown): string | null {
  if (!Array.isArray(data)) return `Invalid data format for IP pool: ${q(data)}`;
  for (const pool of data) {
    const msg = verifyDictKeys(['start', 'end'], pool);
    if (msg) return msg;
    for (const k of ['start', 'end']) {
      const m = validateIpAddress((pool as Record<string, unknown>)[k]);
      if (m) return m;
    }
  }
  return null;
}

export function validateFixedIps(data: unknown): string | null {
  if (!Array.isArray(data)) return `Invalid data format for fixed IP: ${q(data)}`;
  const ips: unknown[] = [];
  for (const fixed of data) {
    if (!isDict(fixed)) return `Invalid data format for fixed IP: ${q(fixed)}`;
    if ('ip_address' in fixed) {
      // Duplicate subnet_ids are legitimate (two IPs from one subnet); duplicate IPs are not.
      const ip = fixed.ip_address;
      const msg = pyIn(ip, ips) ? `Duplicate IP address ${q(ip)}` : validateIpAddress(ip);
      if (msg) return msg;
      ips.push(ip);
    }
    if ('subnet_id' in fixed) {
      const msg = validateUuid(fixed.subnet_id);
      if (msg) return msg;
    }
  }
  return null;
}

export function validateNameservers(data: unknown): string | null {
  // Anything iterable passes the type check in Python: strings iterate characters, dicts keys.
  let items: unknown[];
  if (Array.isArray(data)) items = data;
  else if (typeof data === 'string') items = [...data];
  else if (isDict(data)) items = Object.keys(data);
  else return `Invalid data format for nameserver: ${q(data)}`;
  const hosts: unknown[] = [];
  for (const host of items) {
    const msg = validateIpAddress(host);
    if (msg) return `${q(host)} is not a valid nameserver. ${msg}`;
    if (pyIn(host, hosts)) return `Duplicate nameserver ${q(host)}`;
    hosts.push(host);
  }
  return null;
}

export function validateHostroutes(data: unknown): string | null {
  if (!Array.isArray(data)) return `Invalid data format for hostroute: ${q(data)}`;
  const seen: unknown[] = [];
  for (const route of data) {
    const msg =
      verifyDictKeys(['destination', 'nexthop'], route) ??
      validateRouteCidr((route as Record<string, unknown>).destination) ??
      validateIpAddress((route as Record<string, unknown>).nexthop);
    if (msg) return msg;
    if (pyIn(route, seen)) return `Duplicate hostroute ${q(route)}`;
    seen.push(route);
  }
  return null;
}

// --- dicts and key specs -------------------------------------------------------------

/** A neutron-lib key spec: { required?, convert_to?, 'type:<name>': arg }. */
export interface KeySpec {
  required?: boolean;
  convert_to?: (v: unknown) => unknown;
  [validator: `type:${string}`]: unknown;
}

/** Validates a dict; with key specs, converts matching values in place (as neutron-lib does). */
export function validateDict(data: unknown, keySpecs?: unknown): string | null {
  if (!isDict(data)) return `${q(data)} is not a dictionary`;
  if (!isDict(keySpecs) || Object.keys(keySpecs).length === 0) return null;
  const specs = keySpecs as Record<string, KeySpec>;
  const required = Object.keys(specs).filter((k) => specs[k]?.required);
  if (required.length) {
    const msg = verifyDictKeys(required, data, false);
    if (msg) return msg;
  }
  const unexpected = Object.keys(data).filter((k) => !(k in specs));
  if (unexpected.length) return `Unexpected keys supplied: ${unexpected.join(', ')}`;
  for (const [key, spec] of Object.entries(specs)) {
    if (!(key in data)) continue;
    if (spec.convert_to) data[key] = spec.convert_to(data[key]);
    const rule = Object.keys(spec).find((k) => k.startsWith('type:'));
    if (!rule) continue;
    const fn = validators[rule];
    if (!fn) return `Validator '${rule}' does not exist`;
    const msg = fn(data[key], spec[rule as `type:${string}`]);
    if (msg) return msg;
  }
  return null;
}

/** Each dict of the list must match one of the key specs; failures raise InvalidInput. */
export function validateAnyKeySpecsOrNone(data: unknown, keySpecs?: unknown): string | null {
  if (data === null || data === undefined) return null;
  const specs = (Array.isArray(keySpecs) ? keySpecs : []) as unknown[];
  const matchOne: Validator = (item) => {
    if (specs.some((spec) => validateDict(item, spec) === null)) return null;
    throw invalidInput(`No valid key specs matched for: ${pyStr(item)}`);
  };
  const msg = validateListOfItems(matchOne, data);
  if (msg) throw invalidInput(msg);
  return null;
}

/** convert_to_int raising InvalidInput, for key specs. */
function convertToIntOrRaise(v: unknown): number {
  const n = pyInt(v);
  if (n === null) throw invalidInput(`${q(v)} is not an integer`);
  return n;
}

/** neutron-lib's EXTRA_DHCP_OPT_KEY_SPECS: 'router' and 'classless-static-route' may be blank. */
export const EXTRA_DHCP_OPT_KEY_SPECS: Record<string, KeySpec>[] = [
  {
    opt_name: { 'type:values': ['router', 'classless-static-route'], required: true },
    opt_value: { 'type:string_or_none': 255, required: true },
    ip_version: { convert_to: convertToIntOrRaise, 'type:values': [4, 6], required: false },
  },
  {
    opt_name: { 'type:oneline_not_empty_string': 64, required: true },
    opt_value: { 'type:oneline_not_empty_string_or_none': 255, required: true },
    ip_version: { convert_to: convertToIntOrRaise, 'type:values': [4, 6], required: false },
  },
];

export const validateExtraDhcpOpts: Validator = (data) => validateAnyKeySpecsOrNone(data, EXTRA_DHCP_OPT_KEY_SPECS);

// --- allowed address pairs (raises like neutron-lib's validator) -------------------------

export const DEFAULT_MAX_ALLOWED_ADDRESS_PAIR = 10;

function ipNotMulticast(ip: string): string | null {
  const a = parseIp(ip);
  const mcast = a && (a.version === 4 ? a.value >> 28n === 0xen : a.value >> 120n === 0xffn);
  return mcast ? `IP ${ip} is a multicast address, which is not supported.` : null;
}

function subnetNotMulticast(cidr: string): string | null {
  const net = parseCidr(cidr, { loose: true });
  // Any IPv4 /0 equals 0.0.0.0/0 to netaddr and is let through; ::/0 is not.
  if (!net || (net.version === 4 && net.prefixlen === 0)) return null;
  const [mNet, mLen] = net.version === 4 ? [0xe0000000n, 4] : [0xffn << 120n, 8];
  const len = Math.min(net.prefixlen, mLen);
  const mask = prefixMask(net.version, len);
  if ((net.ip & mask) !== (mNet & mask)) return null;
  const shown = `${formatIp(net.version, net.ip)}/${net.prefixlen}`;
  return `Subnet ${shown} overlaps with multicast range ${net.version === 4 ? '224.0.0.0/4' : 'ff00::/8'}, which is not supported.`;
}

/** arg: the max_allowed_address_pair option (default 10). */
export function validateAllowedAddressPairs(data: unknown, arg?: unknown): string | null {
  const max = typeof arg === 'number' ? arg : DEFAULT_MAX_ALLOWED_ADDRESS_PAIR;
  if (!Array.isArray(data)) throw badRequest('Allowed address pairs must be a list.');
  if (data.length > max) throw errors.allowedAddressPairExhausted(max);
  const seen: Array<[unknown, unknown]> = [];
  for (const pair of data) {
    const msg = validateDict(pair);
    if (msg) return msg;
    const p = pair as Record<string, unknown>;
    if ('mac_address' in p) {
      const m = validateMacAddress(p.mac_address);
      if (m) throw badRequest(m);
    }
    if (!('ip_address' in p))
      throw new NeutronError('AllowedAddressPairsMissingIP', 400, 'AllowedAddressPair must contain ip_address');
    const mac = p.mac_address ?? null;
    const ip = p.ip_address;
    if (seen.some(([m, i]) => pyEquals(m, mac) && pyEquals(i, ip))) {
      throw new NeutronError(
        'DuplicateAddressPairInRequest',
        400,
        `Request contains duplicate address pair: mac_address ${pyStr(mac)} ip_address ${pyStr(ip)}.`,
      );
    }
    seen.push([mac, ip]);
    const extra = Object.keys(p).filter((k) => k !== 'mac_address' && k !== 'ip_address');
    if (extra.length) throw badRequest(`Unrecognized attribute(s) '${extra.join(', ')}'`);
    const isNet = typeof ip === 'string' && ip.includes('/');
    const m = isNet ? validateSubnet(ip) : validateIpAddress(ip);
    if (m) throw badRequest(m);
    const mc = isNet ? subnetNotMulticast(ip as string) : ipNotMulticast(ip as string);
    if (mc) throw badRequest(mc);
    if (mac !== null && isMulticastMac(mac as string)) {
      throw badRequest(`MAC address ${pyStr(mac)} is a multicast address, which is not supported.`);
    }
  }
  return null;
}

// --- regex (Python re.match: anchored at the start only) ------------------------------------

export function validateRegex(data: unknown, pattern?: unknown): string | null {
  if (typeof data === 'string' && typeof pattern === 'string') {
    try {
      if (new RegExp(`^(?:${pattern})`, 'u').test(data)) return null;
    } catch {
      // An unusable pattern fails like a mismatch.
    }
  }
  return `${q(data)} is not a valid input`;
}

/** Security group names: any string but 'default', which each project has exactly once. */
function validateNameNotDefault(data: unknown, maxLen?: unknown): string | null {
  const reason = validateString(data, maxLen);
  if (reason !== null) return reason;
  if ((data as string).toLowerCase() === 'default') {
    throw new NeutronError('SecurityGroupDefaultAlreadyExists', 409, 'Default security group already exists.');
  }
  return null;
}

// --- the registry ------------------------------------------------------------------

export const validators: Record<string, Validator> = {
  'type:name_not_default': validateNameNotDefault,
  'type:dict': validateDict,
  'type:dict_or_none': orNone(validateDict),
  'type:dict_or_empty': (d, a) => (isDict(d) && Object.keys(d).length === 0 ? null : validateDict(d, a)),
  'type:dict_or_nodata': (d, a) => (pyTruthy(d) ? validateDict(d, a) : null),
  'type:fixed_ips': validateFixedIps,
  'type:hostroutes': validateHostroutes,
  'type:ip_address': validateIpAddress,
  'type:ip_address_or_none': orNone(validateIpAddress),
  'type:ip_or_subnet_or_none': validateIpOrSubnetOrNone,
  'type:ip_pools': validateIpPools,
  'type:list_of_regex_or_none': (d, a) => (d === null || d === undefined ? null : validateListOfItems(validateRegex, d, a)),
  'type:mac_address': validateMacAddress,
  'type:mac_address_or_none': orNone(validateMacAddress),
  'type:nameservers': validateNameservers,
  'type:non_negative': validateNonNegative,
  'type:port_range': validatePortRange,
  'type:range': validateRange,
  'type:range_or_none': orNone(validateRange),
  'type:regex': validateRegex,
  'type:regex_or_none': orNone(validateRegex),
  'type:string': validateString,
  'type:string_or_none': orNone(validateString),
  'type:not_empty_string': validateNotEmptyString,
  'type:not_empty_string_or_none': orNone(validateNotEmptyString),
  'type:oneline_not_empty_string': validateOnelineNotEmptyString,
  'type:oneline_not_empty_string_or_none': orNone(validateOnelineNotEmptyString),
  'type:name_string': validateNameString,
  'type:name_string_or_none': orNone(validateNameString),
  'type:not_empty_name_string': validateNotEmptyNameString,
  'type:subnet': validateSubnet,
  'type:subnet_or_none': orNone(validateSubnet),
  'type:subnet_list': (d) => validateListOfItems(validateSubnet, d),
  'type:list_of_subnets_or_none': (d) => (d === null || d === undefined ? null : validateListOfItems(validateSubnet, d)),
  'type:route_cidr': validateRouteCidr,
  'type:subnetpool_id': validateSubnetpoolId,
  'type:subnetpool_id_or_none': orNone(validateSubnetpoolId),
  'type:uuid': validateUuid,
  'type:uuid_or_none': orNone(validateUuid),
  'type:uuid_list': (d) => validateListOfItems(validateUuid, d),
  'type:uuid_list_non_empty': (d) =>
    validateListOfItems(validateUuid, d) ?? ((d as unknown[]).length === 0 ? 'List should not be empty' : null),
  'type:values': validateValues,
  'type:boolean': validateBoolean,
  'type:integer': validateInteger,
  'type:list_of_unique_strings': (d, a) => validateListOfItems(validateString, d, a),
  'type:list_of_any_key_specs_or_none': validateAnyKeySpecsOrNone,
  'type:extra_dhcp_opts': validateExtraDhcpOpts,
  'type:allowed_address_pairs': validateAllowedAddressPairs,
};
