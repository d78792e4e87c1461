// Prefix arithmetic for subnet pools: compacting prefix lists (netaddr's cidr_merge), checking
// containment, and finding the first free prefix of a length among allocated subnets.
import { type Cidr, cidrLast, formatCidr, type IpVersion, parseCidr, widthOf } from './address.js';

const must = (s: string, loose = true): Cidr => {
  const c = parseCidr(s, { loose, allowBareIp: true });
  if (!c) throw new TypeError(`not a CIDR: ${s}`);
  return c;
};

interface Span {
  first: bigint;
  last: bigint;
}

/** Splits an inclusive address span into the fewest aligned CIDRs. */
function spanToCidrs(version: IpVersion, span: Span): string[] {
  const width = widthOf(version);
  const out: string[] = [];
  let first = span.first;
  while (first <= span.last) {
    let len = width;
    // Grow the block while it stays aligned and inside the span.
    while (len > 0) {
      const size = 1n << BigInt(width - len + 1);
      if (first % size !== 0n || first + size - 1n > span.last) break;
      len--;
    }
    out.push(formatCidr(version, first, len));
    first += 1n << BigInt(width - len);
  }
  return out;
}

/** Merges overlapping and adjacent prefixes into the smallest sorted list covering the same set. */
export function mergeCidrs(cidrs: string[]): string[] {
  if (cidrs.length === 0) return [];
  const parsed = cidrs.map((c) => must(c));
  const version = parsed[0].version;
  const spans = parsed
    .map((c) => ({ first: c.network, last: cidrLast(c) }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: Span[] = [];
  for (const s of spans) {
    const top = merged.at(-1);
    if (top && s.first <= top.last + 1n) {
      if (s.last > top.last) top.last = s.last;
    } else merged.push({ ...s });
  }
  return merged.flatMap((s) => spanToCidrs(version, s));
}

/** Whether every address of `inner` lies within the union of `outer`. */
export function coveredBy(inner: string, outer: string[]): boolean {
  const i = must(inner);
  let cursor = i.network;
  const end = cidrLast(i);
  const spans = outer
    .map((o) => must(o))
    .filter((o) => o.version === i.version)
    .map((o) => ({ first: o.network, last: cidrLast(o) }))
    .sort((a, b) => (a.first < b.first ? -1 : 1));
  for (const s of spans) {
    if (s.first > cursor) break;
    if (s.last >= cursor) cursor = s.last + 1n;
    if (cursor > end) return true;
  }
  return cursor > end;
}

export function anyOverlap(a: string[], b: string[]): boolean {
  const pa = a.map((x) => must(x));
  const pb = b.map((x) => must(x));
  return pa.some((x) => pb.some((y) => x.version === y.version && x.network <= cidrLast(y) && y.network <= cidrLast(x)));
}

/** The first prefix of length `prefixlen` inside `pool` that overlaps none of `allocated`. */
export function findFreePrefix(pool: string[], allocated: string[], prefixlen: number): string | null {
  const used = allocated.map((a) => must(a)).map((c) => ({ first: c.network, last: cidrLast(c) }));
  used.sort((a, b) => (a.first < b.first ? -1 : 1));
  for (const p of pool.map((x) => must(x)).sort((a, b) => (a.network < b.network ? -1 : 1))) {
    if (p.prefixlen > prefixlen) continue;
    const size = 1n << BigInt(widthOf(p.version) - prefixlen);
    const end = cidrLast(p);
    let candidate = p.network;
    while (candidate + size - 1n <= end) {
      const last = candidate + size - 1n;
      const clash = used.find((u) => u.first <= last && candidate <= u.last);
      if (!clash) return formatCidr(p.version, candidate, prefixlen);
      // Jump past the clashing allocation, aligned to the block size.
      const next = clash.last + 1n;
      candidate = ((next + size - 1n) / size) * size;
    }
  }
  return null;
}

/** Addresses in a prefix for quota purposes: IPv4 counts addresses, IPv6 counts /64s. */
export function quotaSize(cidr: string): bigint {
  const c = must(cidr);
  if (c.version === 4) return 1n << BigInt(32 - c.prefixlen);
  return c.prefixlen >= 64 ? 1n : 1n << BigInt(64 - c.prefixlen);
}
