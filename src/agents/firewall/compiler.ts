// The nftables firewall as data: a host's ports, their security groups and the remote groups'
// addresses in; two tables out (nft-ruleset.ts models), for `diffRuleset` to apply. Pure: unit tests
// read the rules back.
//
// How a packet is filtered. The kernel here has no conntrack in the bridge family, but br_netfilter
// hands bridged IPv4/IPv6 to the inet family's hooks, where conntrack works; there the in/out
// interface is the bridge, not the port. So the bridge family names the port in the packet mark:
//   bridge prerouting (-200, before br_netfilter at 0): the anti-spoofing chain of the port the
//     frame came from sets mark[15:0] = the port's index;
//   inet prerouting raw (-300): `ct zone` = its network's zone, before conntrack (-200);
//   inet prerouting (0): the *egress* chain of the sending port (mark = its index);
//   bridge forward (-200, before br_netfilter's forward hook at -1): per output port (each flooded
//     copy separately) mark[15:0] = the receiving port's index, or 0;
//   inet forward (0): the *ingress* chain of the receiving port.
// Only the low 16 bits of the mark are used; the rest is left as found.
//
// Stateful groups: related packets and replies of tracked connections pass; other packets of an
// established connection pass when the connection was admitted by the chain's current rules, which
// the connection's ct mark records (egress: bits 15:0, ingress: bits 31:16) as the chain's
// generation. Changed rules are a new chain with a new generation, so each established connection
// is judged once more by the new rules on its next packet: a deleted rule ends the connections only
// it admitted, and nothing else. Stateless groups match every packet against the rules.
//
// Remote groups and address groups are named interval sets (`rg-<id>-4`, `ag-<id>-6`) of their
// addresses, updated in place. Chains whose content varies are named after a hash of it, so an
// unchanged port keeps its chains and the diff of two compiles is small.
import { createHash } from 'node:crypto';
import type { SecurityGroupRule } from '../../rpc/contract.js';
import { type NftSetModel, type NftTableModel, type NftTableState, valid } from '../../system/index.js';
import { canonical, setElements } from './addresses.js';
import { antispoofRules } from './antispoof.js';
import { ruleMatch } from './rules.js';
import type { FirewallPort, FirewallState } from './types.js';

export const TABLE = 'neutrino';
/** Bumped when the base chains or fixed sets change shape: the table is then replaced whole. */
export const BRIDGE_SCHEMA = 2;
export const INET_SCHEMA = 1;
const MAX_INDEX = 0xffff;
const MAX_ZONE = 0xffff;

/** What a previous ruleset assigned, kept so that a recompile changes nothing that is right. */
export interface CompileHints {
  /** Port device → its index in the mark. */
  portIndex: Map<string, number>;
  /** Bridge → conntrack zone. */
  zones: Map<string, number>;
}

export interface CompiledFirewall {
  /** The bridge and inet tables; none when no port has port security. */
  tables: NftTableModel[];
  /** The remote address sets, with the conntrack zones of the ports whose rules use them. */
  remoteSets: Map<string, { elements: string[]; zones: Set<number> }>;
  portIndex: Map<string, number>;
  zones: Map<string, number>;
}

const hex = (n: number, width = 8) => `0x${n.toString(16).padStart(width, '0')}`;
const digest = (text: string) => createHash('sha256').update(text).digest('hex');
const chainName = (kind: string, device: string, rules: string[]) =>
  `${kind}-${valid.device(device)}-${digest(rules.join('\n')).slice(0, 8)}`;

/** The hints a ruleset in the kernel holds (its index and zone maps). */
export function hintsOf(have: Map<string, NftTableState>): CompileHints {
  const portIndex = new Map<string, number>();
  const zones = new Map<string, number>();
  const inet = have.get(`inet ${TABLE}`);
  for (const e of inet?.sets.get('egress') ?? []) {
    const m = /^(\d+) : jump eg-(.+)-[0-9a-f]{8}$/.exec(e);
    if (m) portIndex.set(m[2], Number(m[1]));
  }
  for (const e of inet?.sets.get('zones') ?? []) {
    const m = /^(.+) : (\d+)$/.exec(e);
    if (m) zones.set(m[1], Number(m[2]));
  }
  return { portIndex, zones };
}

/** Lowest free number in 1..max, or throws. */
function allocator(taken: Iterable<number>, max: number, what: string) {
  const used = new Set(taken);
  let next = 1;
  return () => {
    while (used.has(next)) next++;
    if (next > max) throw new Error(`no free ${what} (at most ${max})`);
    used.add(next);
    return next;
  };
}

function assignIndexes(ports: FirewallPort[], hints: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  const taken = new Set<number>();
  for (const p of ports) {
    const i = hints.get(p.device);
    if (i !== undefined && i >= 1 && i <= MAX_INDEX && !taken.has(i)) {
      out.set(p.device, i);
      taken.add(i);
    }
  }
  const next = allocator(taken, MAX_INDEX, 'port index');
  for (const p of ports) if (!out.has(p.device)) out.set(p.device, next());
  return out;
}

/** A zone per network (for every bridge of it), keeping the ones already in use. */
function assignZones(
  ports: FirewallPort[],
  hints: Map<string, number>,
): { byBridge: Map<string, number>; byNetwork: Map<string, number> } {
  const byNetwork = new Map<string, number>();
  const taken = new Set<number>();
  for (const p of ports) {
    const z = hints.get(p.bridge);
    if (z !== undefined && z >= 1 && z <= MAX_ZONE && !byNetwork.has(p.network_id) && !taken.has(z)) {
      byNetwork.set(p.network_id, z);
      taken.add(z);
    }
  }
  const next = allocator(taken, MAX_ZONE, 'conntrack zone');
  for (const p of ports) if (!byNetwork.has(p.network_id)) byNetwork.set(p.network_id, next());
  const byBridge = new Map(ports.map((p) => [p.bridge, byNetwork.get(p.network_id) as number]));
  return { byBridge, byNetwork };
}

/** The matches of a port's rules in one direction, in order, without duplicates. */
function matchesOf(p: FirewallPort, s: FirewallState, direction: SecurityGroupRule['direction'], useSet: (n: string) => void) {
  const out = new Set<string>();
  for (const gid of p.security_groups) {
    for (const rule of s.security_groups[gid]?.rules ?? []) {
      if (rule.direction !== direction) continue;
      const m = ruleMatch(rule, useSet);
      if (m !== undefined) out.add(m);
    }
  }
  return [...out];
}

/** Neutron: a port is stateless only when its groups are (mixing them is refused by the API). */
function isStateful(p: FirewallPort, s: FirewallState): boolean {
  const groups = p.security_groups.map((g) => s.security_groups[g]).filter((g) => g !== undefined);
  return groups.length === 0 || groups.some((g) => g.stateful !== false);
}

/** Placeholders of a chain's generation, in the low or the high half of the ct mark. */
const GEN = '@GEN@';
const GEN_HI = '@GENHI@';

/** Rules with the generation placeholders replaced by a number in 1..65535 derived from them. */
function withGeneration(rules: string[]): string[] {
  const gen = (Number.parseInt(digest(rules.join('\n')).slice(0, 8), 16) % 0xffff) + 1;
  return rules.map((r) => r.replaceAll(GEN_HI, hex(gen * 0x10000)).replaceAll(GEN, hex(gen)));
}

const ipsOf = (p: FirewallPort, v6: boolean) =>
  p.fixed_ips.map((ip) => canonical(ip)).filter((ip): ip is string => ip !== undefined && ip.includes(':') === v6);

function egressChain(matches: string[], stateful: boolean): string[] {
  const r: string[] = [];
  if (stateful) {
    r.push(
      'ct state related accept',
      'ct state established ct direction reply accept',
      `ct state established ct mark & ${hex(0xffff)} == ${GEN} accept`,
    );
  }
  // Neutron's fixed egress rules: a DHCP client may ask, never answer; ICMPv6 passes except
  // router advertisements.
  r.push(
    'meta nfproto ipv4 udp sport 68 udp dport 67 accept',
    'meta nfproto ipv4 udp sport 67 udp dport 68 drop',
    'meta nfproto ipv6 udp sport 546 udp dport 547 accept',
    'meta nfproto ipv6 udp sport 547 udp dport 546 drop',
    'icmpv6 type 134 drop',
    'meta nfproto ipv6 meta l4proto 58 accept',
  );
  if (stateful) r.push('ct state invalid drop');
  for (const m of matches) r.push(stateful ? `${m} ct mark set ct mark & ${hex(0xffff0000)} | ${GEN} accept` : `${m} accept`);
  r.push('drop');
  return withGeneration(r);
}

function ingressChain(p: FirewallPort, matches: string[], stateful: boolean): string[] {
  const r: string[] = [];
  if (stateful) {
    r.push(
      'ct state related accept',
      'ct state established ct direction reply accept',
      `ct state established ct mark & ${hex(0xffff0000)} == ${GEN_HI} accept`,
    );
  }
  // Neutron's fixed ingress rules: neighbour discovery and MLD queries, router advertisements
  // for a port with IPv6 addresses, DHCP answers to the port's addresses.
  const v6 = ipsOf(p, true);
  r.push(`icmpv6 type { 130, ${v6.length ? '134, ' : ''}135, 136 } accept`);
  r.push(`udp sport 67 udp dport 68 ip daddr { ${[...ipsOf(p, false), '255.255.255.255'].join(', ')} } accept`);
  r.push(`udp sport 547 udp dport 546 ip6 daddr { ${[...v6, 'fe80::/64'].join(', ')} } accept`);
  if (stateful) r.push('ct state invalid drop');
  for (const m of matches) r.push(stateful ? `${m} ct mark set ct mark & ${hex(0xffff)} | ${GEN_HI} accept` : `${m} accept`);
  r.push('drop');
  return withGeneration(r);
}

const mapOf = (spec: string, elements: string[], ifnameKeys = false): NftSetModel => ({
  kind: 'map',
  spec,
  ifnameKeys,
  elements: new Set(elements),
});

/** What ports sharing one list of groups have in common. */
interface GroupSetChains {
  /** Identifies the groups' content (their rules and statefulness). */
  key: string;
  stateful: boolean;
  ingress: string[];
  /** The egress chain's rules and name suffix (it does not depend on the port). */
  egress: string[];
  egressHash: string;
  /** The remote sets the rules name. */
  sets: string[];
}

function groupSetChains(p: FirewallPort, s: FirewallState, groupSig: Map<string, string>): GroupSetChains {
  const sets = new Set<string>();
  const use = (n: string) => sets.add(n);
  const stateful = isStateful(p, s);
  const egress = egressChain(matchesOf(p, s, 'egress', use), stateful);
  return {
    key: digest(p.security_groups.map((g) => groupSig.get(g) ?? g).join('\n')),
    stateful,
    ingress: matchesOf(p, s, 'ingress', use),
    egress,
    egressHash: digest(egress.join('\n')).slice(0, 8),
    sets: [...sets],
  };
}

interface PortChains {
  names: { as: string; to: string; eg: string; in: string };
  bridge: Array<[string, string[]]>;
  inet: Array<[string, string[]]>;
}

function portChains(p: FirewallPort, idx: number, g: GroupSetChains): PortChains {
  const mark = `meta mark set meta mark & ${hex(0xffff0000)} | ${hex(idx)}`;
  const as = [mark, ...antispoofRules(p)];
  const to = [mark];
  const ing = ingressChain(p, g.ingress, g.stateful);
  const names = {
    as: chainName('as', p.device, as),
    to: chainName('to', p.device, to),
    eg: `eg-${valid.device(p.device)}-${g.egressHash}`,
    in: chainName('in', p.device, ing),
  };
  return {
    names,
    bridge: [
      [names.as, as],
      [names.to, to],
    ],
    inet: [
      [names.eg, g.egress],
      [names.in, ing],
    ],
  };
}

/** Per-port results kept between compiles (by everything they depend on), and remote sets' elements. */
export interface CompileCache {
  ports: Map<string, PortChains>;
  sets: Map<string, string[]>;
}

export const newCompileCache = (): CompileCache => ({ ports: new Map(), sets: new Map() });

/** The host's firewall: anti-spoofing and security groups of every port with port security.
 * `cache` (kept by the caller between compiles) makes a recompile of unchanged ports cheap. */
export function compileFirewall(
  s: FirewallState,
  hints: CompileHints = { portIndex: new Map(), zones: new Map() },
  cache: CompileCache = newCompileCache(),
): CompiledFirewall {
  const secured = s.ports.filter((p) => p.port_security_enabled).sort((a, b) => a.device.localeCompare(b.device));
  const portIndex = assignIndexes(secured, hints.portIndex);
  const { byBridge: zones, byNetwork } = assignZones(secured, hints.zones);
  const remoteSets = new Map<string, { elements: string[]; zones: Set<number> }>();
  if (secured.length === 0) return { tables: [], remoteSets, portIndex, zones };

  const bridgeChains = new Map<string, { rules: string[]; hook?: string }>([
    ['prerouting', { hook: 'type filter hook prerouting priority -200; policy accept;', rules: ['iifname vmap @ports'] }],
    [
      'forward',
      {
        hook: 'type filter hook forward priority -200; policy accept;',
        rules: [`meta mark set meta mark & ${hex(0xffff0000)}`, 'oifname vmap @dests'],
      },
    ],
  ]);
  const inetChains = new Map<string, { rules: string[]; hook?: string }>([
    [
      'raw',
      {
        hook: 'type filter hook prerouting priority -300; policy accept;',
        rules: ['iifname @bridges ct zone set iifname map @zones'],
      },
    ],
    [
      'prerouting',
      {
        hook: 'type filter hook prerouting priority 0; policy accept;',
        rules: [`iifname @bridges meta mark & ${hex(0xffff)} vmap @egress`],
      },
    ],
    [
      'forward',
      {
        hook: 'type filter hook forward priority 0; policy accept;',
        rules: [`oifname @bridges meta mark & ${hex(0xffff)} vmap @ingress`],
      },
    ],
  ]);
  const ports: string[] = [];
  const dests: string[] = [];
  const egress: string[] = [];
  const ingress: string[] = [];
  // What ports with the same groups share (their matches, statefulness, egress chain), computed
  // once per compile; what each port's chains are, kept across compiles in `cache`.
  const byGroups = new Map<string, GroupSetChains>();
  const groupSig = new Map(Object.entries(s.security_groups).map(([id, g]) => [id, JSON.stringify(g)]));
  const seen = new Set<string>();
  for (const p of secured) {
    const idx = portIndex.get(p.device) as number;
    const zone = byNetwork.get(p.network_id) as number;
    const gkey = p.security_groups.join(',');
    let shared = byGroups.get(gkey);
    if (!shared) {
      shared = groupSetChains(p, s, groupSig);
      byGroups.set(gkey, shared);
    }
    for (const name of shared.sets) {
      const e = remoteSets.get(name) ?? { elements: [], zones: new Set<number>() };
      remoteSets.set(name, e);
      e.zones.add(zone);
    }
    const key = JSON.stringify([p.device, p.mac_address, p.fixed_ips, p.allowed_address_pairs, idx, shared.key]);
    let chains = cache.ports.get(key);
    if (!chains) {
      chains = portChains(p, idx, shared);
      cache.ports.set(key, chains);
    }
    seen.add(key);
    for (const [name, rules] of chains.bridge) bridgeChains.set(name, { rules });
    for (const [name, rules] of chains.inet) inetChains.set(name, { rules });
    ports.push(`${p.device} : jump ${chains.names.as}`);
    dests.push(`${p.device} : jump ${chains.names.to}`);
    egress.push(`${idx} : jump ${chains.names.eg}`);
    ingress.push(`${idx} : jump ${chains.names.in}`);
  }
  for (const k of cache.ports.keys()) if (!seen.has(k)) cache.ports.delete(k);
  const inetSets = new Map<string, NftSetModel>([
    ['bridges', { kind: 'set', spec: 'type ifname;', ifnameKeys: true, elements: new Set(zones.keys()) }],
    [
      'zones',
      mapOf(
        'typeof iifname : ct zone;',
        [...zones].map(([b, z]) => `${b} : ${z}`),
        true,
      ),
    ],
    ['egress', mapOf('type mark : verdict;', egress)],
    ['ingress', mapOf('type mark : verdict;', ingress)],
  ]);
  const seenSets = new Set<string>();
  for (const [name, entry] of remoteSets) {
    entry.elements = remoteElements(name, s, cache, seenSets);
    inetSets.set(name, {
      kind: 'set',
      spec: `type ${name.endsWith('-4') ? 'ipv4_addr' : 'ipv6_addr'}; flags interval;`,
      elements: new Set(entry.elements),
    });
  }
  const tables: NftTableModel[] = [
    {
      family: 'bridge',
      name: TABLE,
      schema: BRIDGE_SCHEMA,
      sets: new Map([
        ['ports', mapOf('type ifname : verdict;', ports, true)],
        ['dests', mapOf('type ifname : verdict;', dests, true)],
      ]),
      chains: bridgeChains,
    },
    { family: 'inet', name: TABLE, schema: INET_SCHEMA, sets: inetSets, chains: inetChains },
  ];
  for (const k of cache.sets.keys()) if (!seenSets.has(k)) cache.sets.delete(k);
  return { tables, remoteSets, portIndex, zones };
}

/** The elements of remote set `name` (`rg-<id>-4`, `ag-<id>-6`) from the state's addresses. */
function remoteElements(name: string, s: FirewallState, cache: CompileCache, seen?: Set<string>): string[] {
  const version = name.endsWith('-4') ? 4 : 6;
  const id = name.slice(3, -2);
  const given = s.sg_member_ips[id]?.[version === 4 ? 'IPv4' : 'IPv6'] ?? [];
  const key = `${name}\n${given.join(',')}`;
  const elements = cache.sets.get(key) ?? setElements(given, version);
  cache.sets.set(key, elements);
  seen?.add(key);
  return elements;
}

/** `c` with only its remote sets' elements taken again from `s`: when nothing but group members
 * or address group addresses changed, the rest of the compile stands. */
export function refreshRemoteSets(c: CompiledFirewall, s: FirewallState, cache: CompileCache): CompiledFirewall {
  const inet = c.tables.find((t) => t.family === 'inet');
  if (!inet) return c;
  const sets = new Map(inet.sets);
  const remoteSets = new Map<string, { elements: string[]; zones: Set<number> }>();
  for (const [name, e] of c.remoteSets) {
    const elements = remoteElements(name, s, cache);
    remoteSets.set(name, { elements, zones: e.zones });
    sets.set(name, { ...(sets.get(name) as NftSetModel), elements: new Set(elements) });
  }
  return { ...c, remoteSets, tables: c.tables.map((t) => (t === inet ? { ...inet, sets } : t)) };
}
