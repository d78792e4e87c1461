// One security group rule as an nftables match, with Neutron's meaning: direction picks the remote
// side (ingress: the source, egress: the destination), a protocol is a name or a number ('icmp'
// under IPv6 is ICMPv6), ports apply to TCP, UDP, SCTP, DCCP and UDP-Lite, and for ICMP
// port_range_min/max are the type and code. A remote group or address group is a named set of
// addresses (see compiler.ts), so its members change without touching the rule.
import type { SecurityGroupRule } from '../../rpc/contract.js';
import { valid } from '../../system/index.js';
import { canonical } from './addresses.js';

/** neutron-lib's IP_PROTOCOL_MAP. */
const PROTOCOLS: Record<string, number> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ip: 0,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};

/** Protocols whose rules may carry a destination port range (`th dport`). */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
const ICMP = 1;
const ICMPV6 = 58;

/** The IP protocol number of a rule, or null for any (none given, 'any', or 0 as iptables reads it). */
export function protocolNumber(protocol: string | null, ethertype: 'IPv4' | 'IPv6'): number | null {
  if (protocol === null || protocol === '' || protocol === 'any') return null;
  const p = protocol.toLowerCase();
  let n = /^\d+$/.test(p) ? Number(p) : PROTOCOLS[p];
  if (n === undefined || n > 255) throw new Error(`unknown protocol ${JSON.stringify(protocol)}`);
  if (n === ICMP && ethertype === 'IPv6' && p === 'icmp') n = ICMPV6;
  return n === 0 ? null : n;
}

/** The name of the set of a remote group's (`rg`) or address group's (`ag`) addresses. */
export const remoteSetName = (kind: 'rg' | 'ag', id: string, ethertype: 'IPv4' | 'IPv6'): string =>
  `${kind}-${valid.token(id)}-${ethertype === 'IPv4' ? 4 : 6}`;

/** The match of `rule` (no verdict), or undefined when it can match nothing (a prefix of the other
 * family). Remote sets it names are reported through `useSet`. */
export function ruleMatch(rule: SecurityGroupRule, useSet: (name: string) => void): string | undefined {
  const v6 = rule.ethertype === 'IPv6';
  const fam = v6 ? 'ip6' : 'ip';
  const side = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  const parts: string[] = [];
  if (rule.remote_group_id) {
    const name = remoteSetName('rg', rule.remote_group_id, rule.ethertype);
    useSet(name);
    parts.push(`${fam} ${side} @${name}`);
  } else if (rule.remote_address_group_id) {
    const name = remoteSetName('ag', rule.remote_address_group_id, rule.ethertype);
    useSet(name);
    parts.push(`${fam} ${side} @${name}`);
  } else if (rule.remote_ip_prefix) {
    const prefix = canonical(rule.remote_ip_prefix);
    if (!prefix || prefix.includes(':') !== v6) return undefined;
    if (prefix.endsWith('/0')) parts.push(`meta nfproto ${v6 ? 'ipv6' : 'ipv4'}`);
    else parts.push(`${fam} ${side} ${prefix}`);
  } else parts.push(`meta nfproto ${v6 ? 'ipv6' : 'ipv4'}`);
  const proto = protocolNumber(rule.protocol, rule.ethertype);
  if (proto === null) return parts.join(' ');
  parts.push(`meta l4proto ${proto}`);
  const min = rule.port_range_min;
  const max = rule.port_range_max;
  if (PORT_PROTOCOLS.has(proto) && (min !== null || max !== null)) {
    const lo = valid.uint(min ?? 1, 65535);
    const hi = valid.uint(max ?? min ?? 65535, 65535);
    parts.push(lo === hi ? `th dport ${lo}` : `th dport ${lo}-${hi}`);
  } else if ((proto === ICMP || proto === ICMPV6) && min !== null) {
    const icmp = proto === ICMP ? 'icmp' : 'icmpv6';
    parts.push(`${icmp} type ${valid.uint(min, 255)}`);
    if (max !== null) parts.push(`${icmp} code ${valid.uint(max, 255)}`);
  }
  return parts.join(' ');
}
