// neutron-lib's validators of strings, numbers, booleans, enumerations, identifiers and regexes, and
// the building blocks the others share (lists, or-None, strict dict keys). Same names, verdicts and
// reason texts as neutron-lib; see validators.ts for the registry.
import { NeutronError } from '../common/errors.js';
import { isDict, pyBoolFromString, pyIn, pyInt, pyLen, pyRepr, pyStr, pyStrip } from './python.js';

export type Validator = (value: unknown, arg?: unknown) => string | null;

// --- generic building blocks ---------------------------------------------------

export const q = (v: unknown) => `'${pyStr(v)}'`;

export function validateListOfItems(item: Validator, data: unknown, arg?: unknown): string | null {
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

export const orNone =
  (v: Validator): Validator =>
  (data, arg) =>
    data === null || data === undefined ? null : v(data, arg);

/** Strict key check (`_verify_dict_keys`): the dict's keys must be exactly `expected`. */
export function verifyDictKeys(expected: string[], target: unknown, strict = true): string | null {
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

/** neutron-lib's validate_string: a string, at most maxLen code points. */
function pyString(data: unknown, maxLen?: unknown): string | null {
  if (typeof data !== 'string') return `${q(data)} is not a valid string`;
  if (typeof maxLen === 'number' && pyLen(data) > maxLen) return `'${data}' exceeds maximum length of ${maxLen}`;
  return null;
}

export function validateString(data: unknown, maxLen?: unknown): string | null {
  // PostgreSQL's text cannot hold U+0000 (Neutron on it answers 500); refused on every backend alike.
  if (typeof data === 'string' && data.includes('\u0000')) return `${q(data)} contains a NUL character`;
  return pyString(data, maxLen);
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
  // A NUL is not printable: the regex below refuses it in neutron-lib's words.
  const msg = pyString(data, maxLen);
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
export function validateNameNotDefault(data: unknown, maxLen?: unknown): string | null {
  const reason = validateString(data, maxLen);
  if (reason !== null) return reason;
  if ((data as string).toLowerCase() === 'default') {
    throw new NeutronError('SecurityGroupDefaultAlreadyExists', 409, 'Default security group already exists.');
  }
  return null;
}
