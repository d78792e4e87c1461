// Addresses as nft lists them, so a desired set element compares equal to the kernel's: IPv6 in
// inet_ntop's form (lowercase, longest zero run compressed, IPv4-mapped in dotted form), a host
// prefix without its length, a prefix by its network address. Interval sets refuse overlapping
// elements, so a prefix inside another of the same set is left out.
import { isIPv4, isIPv6 } from 'node:net';
import { valid } from '../../system/index.js';

function v4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function intToV4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function v6ToBig(a: string): bigint {
  let s = a.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const n = v4ToInt(dotted[1]);
    s = `${s.slice(0, -dotted[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
}

/** glibc inet_ntop's IPv6 text. */
function bigToV6(n: bigint): string {
  const w = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = { ...cur };
    } else cur = { base: -1, len: 0 };
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  if (best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
    const v4 = intToV4(w[6] * 65536 + w[7]);
    return best.len === 6 ? `::${v4}` : `::ffff:${v4}`;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i > 0) out += ':';
    out += w[i].toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

export interface Prefix {
  version: 4 | 6;
  /** Network address as a number. */
  net: bigint;
  len: number;
}

/** An address or CIDR; undefined if it is neither. Host bits of a CIDR are cleared. */
export function parsePrefix(text: string): Prefix | undefined {
  const [addr, lenText, ...rest] = text.trim().split('/');
  if (rest.length) return undefined;
  const version = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : undefined;
  if (!version) return undefined;
  const width = version === 4 ? 32 : 128;
  const len = lenText === undefined ? width : /^\d{1,3}$/.test(lenText) ? Number(lenText) : Number.NaN;
  if (!(len >= 0 && len <= width)) return undefined;
  const n = version === 4 ? BigInt(v4ToInt(addr)) : v6ToBig(addr);
  const host = (1n << BigInt(width - len)) - 1n;
  return { version, net: n & ~host, len };
}

/** nft's text of a prefix: `10.0.0.0/24`, a host as `10.0.0.1`. */
export function formatPrefix(p: Prefix): string {
  const addr = p.version === 4 ? intToV4(Number(p.net)) : bigToV6(p.net);
  return p.len === (p.version === 4 ? 32 : 128) ? addr : `${addr}/${p.len}`;
}

/** The canonical form of an address or CIDR (checked), or undefined when it is not one. */
export function canonical(text: string): string | undefined {
  const p = parsePrefix(text);
  return p ? valid.cidr(formatPrefix(p)) : undefined;
}

/** The elements of an interval set holding `addresses` of one family: canonical, without
 * duplicates or prefixes covered by another. Unparseable entries are dropped. */
export function setElements(addresses: Iterable<string>, version: 4 | 6): string[] {
  const list = [...addresses];
  // The usual case, group members' IPv4 addresses: already canonical, none covers another.
  if (version === 4 && list.every((a) => isIPv4(a))) return [...new Set(list)].sort();
  const width = version === 4 ? 32 : 128;
  const parsed = list.map(parsePrefix).filter((p): p is Prefix => p?.version === version);
  parsed.sort((a, b) => a.len - b.len);
  // Kept networks by prefix length: a prefix is covered when its address, cut to one of the
  // shorter lengths kept, is one of them.
  const kept = new Map<number, Set<bigint>>();
  const out: Prefix[] = [];
  for (const p of parsed) {
    let covered = false;
    for (const [len, nets] of kept) {
      if (len > p.len) continue;
      const host = (1n << BigInt(width - len)) - 1n;
      if (nets.has(p.net & ~host)) {
        covered = true;
        break;
      }
    }
    if (covered) continue;
    out.push(p);
    const nets = kept.get(p.len) ?? new Set<bigint>();
    kept.set(p.len, nets.add(p.net));
  }
  return out.map(formatPrefix).sort();
}
