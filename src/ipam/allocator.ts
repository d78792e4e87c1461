// Picks free addresses in a subnet's allocation pools, as Neutron's IPAM does: a random free
// address (so concurrent allocators rarely collide), falling back to a scan from a random point
// when the pools are dense. The caller's unique key on (subnet, address) stays the final arbiter.
import { randomBytes, randomInt } from 'node:crypto';
import { formatIp, type IpRange, type IpVersion, ipToBigint } from './address.js';

export interface AllocationSource {
  /** Whether one address is taken. */
  isTaken(ip: string): Promise<boolean>;
  /** Every taken address of the subnet. */
  allTaken(): Promise<string[]>;
}

interface Range {
  first: bigint;
  last: bigint;
}

const RANDOM_TRIES = 6;

function ranges(pools: IpRange[]): Range[] {
  return pools.map((p) => ({ first: ipToBigint(p.start), last: ipToBigint(p.end) }));
}

/** A uniform-enough random integer in [0, below). */
export function randomBigint(below: bigint): bigint {
  // randomInt needs max - min < 2**48.
  if (below <= 0xffffffffffffn) return BigInt(randomInt(Number(below)));
  // Wide IPv6 pools: 192 random bits reduced modulo the size; the bias is negligible (< 2**-64).
  const v = BigInt(`0x${randomBytes(24).toString('hex')}`);
  return v % below;
}

function nth(rs: Range[], index: bigint): bigint {
  let i = index;
  for (const r of rs) {
    const size = r.last - r.first + 1n;
    if (i < size) return r.first + i;
    i -= size;
  }
  throw new RangeError('index beyond pools');
}

/** Returns a free address of the pools, or null when they are full. `exclude` holds addresses
 * chosen earlier in the same request. */
export async function pickAddress(
  version: IpVersion,
  pools: IpRange[],
  source: AllocationSource,
  exclude: Set<string> = new Set(),
): Promise<string | null> {
  const rs = ranges(pools);
  const total = rs.reduce((n, r) => n + (r.last - r.first + 1n), 0n);
  if (total <= 0n) return null;
  for (let t = 0; t < RANDOM_TRIES; t++) {
    const ip = formatIp(version, nth(rs, randomBigint(total)));
    if (!exclude.has(ip) && !(await source.isTaken(ip))) return ip;
  }
  // Dense pools: scan from a random point (wrapping round), so that concurrent allocators, and
  // a transaction retried after losing an address to another, rarely pick the same one.
  const taken = new Set((await source.allTaken()).map((a) => ipToBigint(a)));
  for (const a of exclude) taken.add(ipToBigint(a));
  const start = randomBigint(total);
  for (let i = 0n; i < total; i++) {
    const v = nth(rs, (start + i) % total);
    if (!taken.has(v)) return formatIp(version, v);
  }
  return null;
}
