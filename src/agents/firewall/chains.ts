// The chains of one port (compiler.ts assembles them into tables): its anti-spoofing chain and
// mark in the bridge family, its egress and ingress chains in the inet family, with Neutron's fixed
// rules and the groups' rules, and the generation stateful chains record in the ct mark (see
// compiler.ts). What ports of the same groups share is built once per compile.
import { createHash } from 'node:crypto';
import type { SecurityGroupRule } from '../../rpc/contract.js';
import { valid } from '../../system/index.js';
import { canonical } from './addresses.js';
import { antispoofRules } from './antispoof.js';
import { ruleMatch } from './rules.js';
import type { FirewallPort, FirewallState } from './types.js';

export const hex = (n: number, width = 8) => `0x${n.toString(16).padStart(width, '0')}`;
export const digest = (text: string) => createHash('sha256').update(text).digest('hex');
const chainName = (kind: string, device: string, rules: string[]) =>
  `${kind}-${valid.device(device)}-${digest(rules.join('\n')).slice(0, 8)}`;

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

/** Neutron's fixed ingress rules, which name the port's addresses: neighbour discovery and MLD
 * queries, router advertisements for a port with IPv6 addresses, DHCP answers to the port. They
 * open the port's own chain, which then goes to its groups' shared ingress chain. */
function portIngress(p: FirewallPort, groups: string): string[] {
  const v6 = ipsOf(p, true);
  return [
    `icmpv6 type { 130, ${v6.length ? '134, ' : ''}135, 136 } accept`,
    `udp sport 67 udp dport 68 ip daddr { ${[...ipsOf(p, false), '255.255.255.255'].join(', ')} } accept`,
    `udp sport 547 udp dport 546 ip6 daddr { ${[...v6, 'fe80::/64'].join(', ')} } accept`,
    `goto ${groups}`,
  ];
}

/** The groups' ingress rules, shared by the ports of the same groups. */
function ingressChain(matches: string[], stateful: boolean): string[] {
  const r: string[] = [];
  if (stateful) {
    r.push(
      'ct state related accept',
      'ct state established ct direction reply accept',
      `ct state established ct mark & ${hex(0xffff0000)} == ${GEN_HI} accept`,
      'ct state invalid drop',
    );
  }
  for (const m of matches) r.push(stateful ? `${m} ct mark set ct mark & ${hex(0xffff)} | ${GEN_HI} accept` : `${m} accept`);
  r.push('drop');
  return withGeneration(r);
}

/** What ports sharing one list of groups have in common: their egress chain and the ingress chain
 * their own chains go to (`eg-<hash>`, `ig-<hash>`, named after their content). */
export interface GroupSetChains {
  /** Identifies the groups' content (their rules and statefulness). */
  key: string;
  egress: { name: string; rules: string[] };
  ingress: { name: string; rules: string[] };
  /** The remote sets the rules name. */
  sets: string[];
}

export function groupSetChains(p: FirewallPort, s: FirewallState, groupSig: Map<string, string>): GroupSetChains {
  const sets = new Set<string>();
  const use = (n: string) => sets.add(n);
  const stateful = isStateful(p, s);
  const egress = egressChain(matchesOf(p, s, 'egress', use), stateful);
  const ingress = ingressChain(matchesOf(p, s, 'ingress', use), stateful);
  return {
    key: digest(p.security_groups.map((g) => groupSig.get(g) ?? g).join('\n')),
    egress: { name: `eg-${digest(egress.join('\n')).slice(0, 12)}`, rules: egress },
    ingress: { name: `ig-${digest(ingress.join('\n')).slice(0, 12)}`, rules: ingress },
    sets: [...sets],
  };
}

export interface PortChains {
  names: { as: string; to: string; eg: string; in: string };
  bridge: Array<[string, string[]]>;
  inet: Array<[string, string[]]>;
}

export function portChains(p: FirewallPort, idx: number, g: GroupSetChains): PortChains {
  const mark = `meta mark set meta mark & ${hex(0xffff0000)} | ${hex(idx)}`;
  const as = [mark, ...antispoofRules(p)];
  const to = [mark];
  const ing = portIngress(p, g.ingress.name);
  const names = {
    as: chainName('as', p.device, as),
    to: chainName('to', p.device, to),
    eg: g.egress.name,
    in: chainName('in', p.device, ing),
  };
  return {
    names,
    bridge: [
      [names.as, as],
      [names.to, to],
    ],
    inet: [
      [names.eg, g.egress.rules],
      [g.ingress.name, g.ingress.rules],
      [names.in, ing],
    ],
  };
}
