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
// unchanged port keeps its chains and the diff of two compiles is small. Ports of the same groups
// share their egress chain (`eg-<hash>`) and the ingress chain (`ig-<hash>`) their own chain
// (`in-<tap>-<hash>`, Neutron's fixed rules naming the port's addresses) goes to.
import type { NftSetModel, NftTableModel, NftTableState } from '../../system/index.js';
import { setElements } from './addresses.js';
import { type GroupSetChains, groupSetChains, hex, type PortChains, portChains } from './chains.js';
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

/** The hints a ruleset in the kernel holds (its index and zone maps). */
export function hintsOf(have: Map<string, NftTableState>): CompileHints {
  const portIndex = new Map<string, number>();
  const zones = new Map<string, number>();
  const inet = have.get(`inet ${TABLE}`);
  for (const e of inet?.sets.get('ingress') ?? []) {
    const m = /^(\d+) : jump in-(.+)-[0-9a-f]{8}$/.exec(e);
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

const mapOf = (spec: string, elements: string[], ifnameKeys = false): NftSetModel => ({
  kind: 'map',
  spec,
  ifnameKeys,
  elements: new Set(elements),
});

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
