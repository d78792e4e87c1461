// IP and CIDR arithmetic on BigInt, with the parsing strictness and printed forms that
// Neutron shows its users (netaddr over glibc's inet_pton/inet_ntop on Linux).

import { parseMac } from './mac.js';

export type IpVersion = 4 | 6;

export interface Ip {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** Address with host bits cleared. */
  network: bigint;
  prefixlen: number;
  /** Address as written (host bits kept: netaddr's IPNetwork.ip). */
  ip: bigint;
}

export interface IpRange {
  start: string;
  end: string;
}

export const widthOf = (version: IpVersion): number => (version === 4 ? 32 : 128);
const maxOf = (version: IpVersion): bigint => (1n << BigInt(widthOf(version))) - 1n;

const V4_OCTET = /^(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    // Leading zeros are refused: some stacks read them as octal.
    if (!V4_OCTET.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

/** Hex groups (and an optional trailing dotted quad) of one side of '::'. */
function v6Groups(side: string, last: boolean): number[] | null {
  if (side === '') return [];
  const parts = side.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (last && i === parts.length - 1 && p.includes('.')) {
      const v4 = parseV4(p);
      if (v4 === null) return null;
      out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (HEX_GROUP.test(p)) {
      out.push(parseInt(p, 16));
    } else {
      return null;
    }
  }
  return out;
}

function parseV6(s: string): bigint | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = v6Groups(halves[0] as string, false);
    const tail = v6Groups(halves[1] as string, true);
    // '::' stands for at least one zero group.
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = v6Groups(s, true);
    if (all?.length !== 8) return null;
    groups = all;
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Strict textual IP: dotted-quad IPv4 without leading zeros; any valid IPv6 form, no zone id. */
export function parseIp(s: string): Ip | null {
  if (typeof s !== 'string') return null;
  if (s.includes(':')) {
    const v = parseV6(s);
    return v === null ? null : { version: 6, value: v };
  }
  const v = parseV4(s);
  return v === null ? null : { version: 4, value: v };
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((sh) => String((value >> sh) & 0xffn)).join('.');
}

/** IPv4 dotted; IPv6 compressed lowercase exactly as glibc's inet_ntop (what netaddr prints). */
export function formatIp(version: IpVersion, value: bigint): string {
  if (version === 4) return formatV4(value);
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of zero groups (first on a tie), only compressed when two or more long.
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) keep the dotted tail.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      return out + formatV4(value & 0xffffffffn);
    }
    out += (w[i] as number).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

export function normalizeIp(s: string): string | null {
  const ip = parseIp(s);
  return ip ? formatIp(ip.version, ip.value) : null;
}

/** Throws on invalid input: for values already validated. */
export function ipToBigint(s: string): bigint {
  const ip = parseIp(s);
  if (!ip) throw new TypeError(`not an IP address: ${s}`);
  return ip.value;
}

export const bigintToIp = formatIp;

export function ipVersionOf(s: string): IpVersion | null {
  return parseIp(s)?.version ?? null;
}

export function prefixMask(version: IpVersion, prefixlen: number): bigint {
  const width = widthOf(version);
  return maxOf(version) ^ ((1n << BigInt(width - prefixlen)) - 1n);
}

/** A netmask (1s then 0s) or hostmask (0s then 1s) as prefix length, as netaddr accepts after '/'. */
function maskToPrefix(version: IpVersion, mask: bigint): number | null {
  const width = widthOf(version);
  for (let p = 0; p <= width; p++) if (prefixMask(version, p) === mask) return p;
  for (let p = 0; p <= width; p++) if ((maxOf(version) ^ prefixMask(version, p)) === mask) return p;
  return null;
}

export interface ParseCidrOptions {
  /** A bare address is a host route (/32, /128), as netaddr.IPNetwork reads it. */
  allowBareIp?: boolean;
  /** netaddr's lenient prefix forms: leading zeros, '+', netmask or hostmask after '/'. */
  loose?: boolean;
}

/** 'addr/prefixlen'. Strict by default: canonical decimal prefix, '/' required. */
export function parseCidr(s: string, opts: ParseCidrOptions = {}): Cidr | null {
  if (typeof s !== 'string') return null;
  const slash = s.indexOf('/');
  if (slash === -1 && !opts.allowBareIp) return null;
  const ip = parseIp(slash === -1 ? s : s.slice(0, slash));
  if (!ip) return null;
  const width = widthOf(ip.version);
  let prefixlen = width;
  if (slash !== -1) {
    const p = s.slice(slash + 1);
    if (/^(0|[1-9]\d*)$/.test(p) || (opts.loose && /^\+?\d+$/.test(p))) {
      prefixlen = Number(p);
    } else if (opts.loose) {
      const m = parseIp(p);
      const fromMask = m && m.version === ip.version ? maskToPrefix(ip.version, m.value) : null;
      if (fromMask === null) return null;
      prefixlen = fromMask;
    } else {
      return null;
    }
    if (!(prefixlen >= 0 && prefixlen <= width)) return null;
  }
  return { version: ip.version, network: ip.value & prefixMask(ip.version, prefixlen), prefixlen, ip: ip.value };
}

export function formatCidr(version: IpVersion, value: bigint, prefixlen: number): string {
  return `${formatIp(version, value)}/${prefixlen}`;
}

/** '10.0.0.5/24' → '10.0.0.0/24'; null when not a CIDR. */
export function canonicalCidr(s: string): string | null {
  const c = parseCidr(s, { loose: true });
  return c ? formatCidr(c.version, c.network, c.prefixlen) : null;
}

function toCidr(c: string | Cidr): Cidr | null {
  return typeof c === 'string' ? parseCidr(c, { loose: true, allowBareIp: true }) : c;
}

function mustCidr(c: string | Cidr): Cidr {
  const r = toCidr(c);
  if (!r) throw new TypeError(`not a CIDR: ${String(c)}`);
  return r;
}

export function cidrSize(c: string | Cidr): bigint {
  const r = mustCidr(c);
  return 1n << BigInt(widthOf(r.version) - r.prefixlen);
}

/** Last address as a number (IPv4 broadcast). */
export function cidrLast(c: string | Cidr): bigint {
  const r = mustCidr(c);
  return r.network + cidrSize(r) - 1n;
}

export function firstAddress(c: string | Cidr): string {
  const r = mustCidr(c);
  return formatIp(r.version, r.network);
}

export function lastAddress(c: string | Cidr): string {
  const r = mustCidr(c);
  return formatIp(r.version, cidrLast(r));
}

export function cidrContains(c: string | Cidr, ip: string): boolean {
  const r = toCidr(c);
  const a = parseIp(ip);
  return !!r && !!a && a.version === r.version && a.value >= r.network && a.value <= cidrLast(r);
}

/** Whether `inner` lies entirely inside `outer`. */
export function cidrContainsCidr(outer: string | Cidr, inner: string | Cidr): boolean {
  const o = toCidr(outer);
  const i = toCidr(inner);
  return (
    !!o && !!i && o.version === i.version && i.prefixlen >= o.prefixlen && i.network >= o.network && cidrLast(i) <= cidrLast(o)
  );
}

export function cidrsOverlap(a: string | Cidr, b: string | Cidr): boolean {
  const x = toCidr(a);
  const y = toCidr(b);
  return !!x && !!y && x.version === y.version && x.network <= cidrLast(y) && y.network <= cidrLast(x);
}

/**
 * Neutron's default gateway: IPv4 network + 1; IPv6 the subnet-router anycast (network)
 * address, as a real Neutron answers. Null when network + 1 does not exist (255.255.255.255/32).
 */
export function defaultGateway(c: string | Cidr): string | null {
  const r = mustCidr(c);
  if (r.version === 6) return formatIp(6, r.network);
  const gw = r.network + 1n;
  return gw > maxOf(r.version) ? null : formatIp(r.version, gw);
}

/**
 * Allocation pools Neutron generates (ipam utils generate_pools): IPv4 prefix <= 30 drops the
 * network and broadcast addresses, /31 uses both, IPv6 drops the subnet-router anycast
 * (network) address; a single-address subnet is its own pool; the gateway splits the range.
 */
export function defaultAllocationPools(c: string | Cidr, gatewayIp: string | null): IpRange[] {
  const r = mustCidr(c);
  const first = r.network;
  const last = cidrLast(r);
  const fmt = (v: bigint) => formatIp(r.version, v);
  if (first === last) return [{ start: fmt(first), end: fmt(last) }];
  let lo = first;
  let hi = last;
  if (r.version === 6 || r.prefixlen <= 30) lo = first + 1n;
  if (r.version === 4 && r.prefixlen <= 30) hi = last - 1n;
  const gw = gatewayIp ? parseIp(gatewayIp) : null;
  const ranges: Array<[bigint, bigint]> = [];
  if (gw && gw.version === r.version && gw.value >= lo && gw.value <= hi) {
    if (gw.value > lo) ranges.push([lo, gw.value - 1n]);
    if (gw.value < hi) ranges.push([gw.value + 1n, hi]);
  } else {
    ranges.push([lo, hi]);
  }
  return ranges.map(([s, e]) => ({ start: fmt(s), end: fmt(e) }));
}

/** Neutron's check_subnet_ip: IPv4 never network/broadcast; IPv6 network only for router (or unknown) owners. */
export function checkSubnetIp(c: string | Cidr, ip: string, allowV6NetworkAddress: boolean): boolean {
  const r = toCidr(c);
  const a = parseIp(ip);
  if (!r || !a || !cidrContains(r, ip)) return false;
  if (r.version === 6) return allowV6NetworkAddress || a.value !== r.network;
  return a.value !== r.network && a.value !== cidrLast(r);
}

/** Neutron's check_gateway_invalid_in_subnet: an IPv4 gateway may not be the network or broadcast address. */
export function gatewayInvalidInSubnet(c: string | Cidr, gateway: string): boolean {
  const r = toCidr(c);
  const a = parseIp(gateway);
  if (!r || !a || r.version !== 4 || !cidrContains(r, gateway)) return false;
  return a.value === r.network || a.value === cidrLast(r);
}

// --- allocation pool validation (neutron ipam_backend_mixin) ---

export type PoolProblemType =
  | 'InvalidAllocationPool'
  | 'OutOfBoundsAllocationPool'
  | 'OverlappingAllocationPools'
  | 'GatewayConflictWithAllocationPools';

export interface PoolProblem {
  /** Neutron's exception class name, used as NeutronError.type. */
  type: PoolProblemType;
  status: 400 | 409;
  message: string;
}

/** neutron-lib's exception texts; pools print as netaddr IPRange ('start-end'). */
export const poolMessages = {
  invalid: (pool: string) => `The allocation pool ${pool} is not valid.`,
  outOfBounds: (pool: string, cidr: string) => `The allocation pool ${pool} spans beyond the subnet cidr ${cidr}.`,
  overlapping: (pool1: string, pool2: string, cidr: string) =>
    `Found overlapping allocation pools: ${pool1} ${pool2} for subnet ${cidr}.`,
  gatewayConflict: (ip: string, pool: string) => `Gateway ip ${ip} conflicts with allocation pool ${pool}.`,
};

/** Python repr of a pool dict, as Neutron prints a pool it could not turn into a range. */
function reprPool(pool: unknown): string {
  if (pool === null || typeof pool !== 'object' || Array.isArray(pool)) return String(pool);
  const q = (v: unknown) =>
    typeof v === 'string' ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : v === null ? 'None' : String(v);
  return `{${Object.entries(pool as Record<string, unknown>)
    .map(([k, v]) => `${q(k)}: ${q(v)}`)
    .join(', ')}}`;
}

interface ParsedPool {
  version: IpVersion;
  first: bigint;
  last: bigint;
  text: string;
}

/**
 * Validates user-given pools against the subnet CIDR and gateway in Neutron's order: each pool
 * is a well-formed range, of the subnet's version, within [network+1, last (-1 on IPv4)]; then
 * no two pools overlap; then the gateway lies in none. Returns the first problem, or null.
 */
export function validateAllocationPools(
  cidr: string,
  pools: ReadonlyArray<{ start?: unknown; end?: unknown }>,
  gateway: string | null,
): PoolProblem | null {
  const net = mustCidr(cidr);
  const parsed: ParsedPool[] = [];
  for (const pool of pools) {
    const s = typeof pool.start === 'string' ? parseIp(pool.start) : null;
    const e = typeof pool.end === 'string' ? parseIp(pool.end) : null;
    if (!s || !e || s.version !== e.version || s.value > e.value) {
      return { type: 'InvalidAllocationPool', status: 400, message: poolMessages.invalid(reprPool(pool)) };
    }
    parsed.push({
      version: s.version,
      first: s.value,
      last: e.value,
      text: `${formatIp(s.version, s.value)}-${formatIp(e.version, e.value)}`,
    });
  }
  // Bounds deliberately ignore /31 and /32 special cases, as Neutron's check does.
  const lo = net.network + 1n;
  const hi = cidrLast(net) - (net.version === 4 ? 1n : 0n);
  for (const p of parsed) {
    if (p.version !== net.version) {
      return { type: 'InvalidAllocationPool', status: 400, message: poolMessages.invalid(p.text) };
    }
    if (p.first < lo || p.last > hi) {
      return { type: 'OutOfBoundsAllocationPool', status: 400, message: poolMessages.outOfBounds(p.text, cidr) };
    }
  }
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i] as ParsedPool;
      const b = parsed[j] as ParsedPool;
      if (a.first <= b.last && b.first <= a.last) {
        return {
          type: 'OverlappingAllocationPools',
          status: 409,
          message: poolMessages.overlapping(a.text, b.text, cidr),
        };
      }
    }
  }
  const gw = gateway ? parseIp(gateway) : null;
  if (gw && gateway) {
    for (const p of parsed) {
      if (gw.version === p.version && gw.value >= p.first && gw.value <= p.last) {
        return {
          type: 'GatewayConflictWithAllocationPools',
          status: 409,
          message: poolMessages.gatewayConflict(gateway, p.text),
        };
      }
    }
  }
  return null;
}

// --- IPv6 EUI-64 (neutron ipv6_utils.get_ipv6_addr_by_EUI64) ---

/**
 * The SLAAC address of a MAC in an IPv6 prefix: FF:FE inserted in the middle and the
 * universal/local bit flipped. Like Neutron, the interface id is added to the prefix's first
 * address (so bits past a longer-than-/64 prefix add up rather than being replaced).
 * Throws TypeError on an IPv4 prefix or a malformed prefix/MAC.
 */
export function eui64(prefix: string, mac: string | bigint): string {
  const c = parseCidr(prefix, { allowBareIp: true, loose: true });
  const m = typeof mac === 'bigint' ? mac : parseMac(mac);
  if (c?.version !== 6 || m === null || m < 0n || m > 0xffffffffffffn) {
    throw new TypeError(`Bad prefix or mac format for generating IPv6 address by EUI-64: ${prefix}, ${String(mac)}`);
  }
  const iid = ((m >> 24n) << 40n) | (0xfffen << 24n) | (m & 0xffffffn);
  const value = ((c.network + iid) ^ (1n << 57n)) & maxOf(6);
  return formatIp(6, value);
}
