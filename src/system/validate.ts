// What may reach a command line or a batch line. Values are checked where they enter a wrapper, so
// nothing a user typed (a port name, a description) can become an argument or a second command:
// device and namespace names are short ASCII tokens, addresses are parsed, and every batch token
// is free of whitespace and quotes.
import { isIP, isIPv4 } from 'node:net';

export class InvalidValue extends Error {
  constructor(what: string, value: unknown) {
    super(`invalid ${what}: ${JSON.stringify(value)}`);
    this.name = 'InvalidValue';
  }
}

/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', whitespace or ':'. */
const DEVICE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
/** Namespace names become file names under /run/netns (room for `<host ns>-qdhcp-<uuid>`). */
const NETNS = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
/** An absolute path of plain file-name characters (no spaces, commas, quotes or newlines: such a
 * path goes into `--opt=PATH` arguments and files other programs parse). */
const PATH = /^(\/[A-Za-z0-9_.+@-]+)+\/?$/;
/** A DNS name (a domain, a host name): labels of letters, digits and hyphens. */
const DNS_NAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** A sysctl key (net.ipv6.conf.all.accept_ra). */
const SYSCTL_KEY = /^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** A resource id (Neutron's ids are UUIDs); ids become parts of names (`qrouter-<id>`, `qr-<id[:11]>`). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A token of an `ip -batch`/`bridge -batch` line, or of an nft ruleset outside strings. */
const TOKEN = /^[A-Za-z0-9_.:/,-]+$/;

export function device(name: string): string {
  if (!DEVICE.test(name)) throw new InvalidValue('device name', name);
  return name;
}

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

export function uuid(value: string): string {
  if (!isUuid(value)) throw new InvalidValue('resource id', value);
  return value;
}

export function netns(name: string): string {
  if (!NETNS.test(name)) throw new InvalidValue('network namespace name', name);
  return name;
}

export function mac(value: string): string {
  const v = value.toLowerCase();
  if (!MAC.test(v)) throw new InvalidValue('MAC address', value);
  return v;
}

export function ip(value: string): string {
  if (!isIP(value)) throw new InvalidValue('IP address', value);
  return value;
}

export function ipv4(value: string): string {
  if (!isIPv4(value)) throw new InvalidValue('IPv4 address', value);
  return value;
}

/** `address/prefix`, IPv4 or IPv6, or a bare address. */
export function cidr(value: string): string {
  const [addr, len, ...rest] = value.split('/');
  const max = isIPv4(addr) ? 32 : 128;
  if (rest.length || !isIP(addr) || (len !== undefined && !(/^\d{1,3}$/.test(len) && Number(len) <= max))) {
    throw new InvalidValue('CIDR', value);
  }
  return value;
}

export function uint(value: number, max = 0xffffffff): string {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new InvalidValue('integer', value);
  return String(value);
}

export function path(value: string): string {
  if (!PATH.test(value) || value.split('/').some((part) => part === '..')) throw new InvalidValue('path', value);
  return value;
}

export function dnsName(value: string): string {
  if (!DNS_NAME.test(value)) throw new InvalidValue('DNS name', value);
  return value;
}

export function sysctlKey(value: string): string {
  if (!SYSCTL_KEY.test(value)) throw new InvalidValue('sysctl key', value);
  return value;
}

export function token(value: string): string {
  if (!TOKEN.test(value)) throw new InvalidValue('command token', value);
  return value;
}

/** Joins checked tokens into one batch line. */
export function line(tokens: readonly string[]): string {
  if (tokens.length === 0) throw new InvalidValue('empty command', tokens);
  return tokens.map(token).join(' ');
}
