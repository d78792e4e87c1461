// Security groups on Open vSwitch hosts: Neutron's native OVS firewall (firewall_driver =
// openvswitch), stateful through OVS's conntrack — the userspace datapath has its own — in br-int's
// tables, with Neutron's registers (reg5: the port's OpenFlow number, reg6: its network's local VLAN,
// which is also the conntrack zone) and table layout:
//  - 60 (TRANSIENT): a port's frames (after anti-spoofing, tables 24/25) get reg5/reg6 and go to 71
//    (secured) or 73 (unsecured); frames tagged for a secured local port's MAC go to 81;
//  - 71 (BASE_EGRESS): ARP and neighbour discovery pass, DHCP client traffic passes, a VM acting
//    as DHCP server or IPv6 router is dropped, IP is looked up in conntrack → 72;
//  - 72 (RULES_EGRESS): replies and related traffic pass; new connections (and established ones,
//    still) pass when an egress rule of the port's groups matches; an established connection no
//    rule admits any more is marked (ct_mark 1) and dropped from then on; the rest is dropped;
//  - 73 (ACCEPT_OR_INGRESS): to a secured port on this host → its ingress (81), so one connection is
//    committed once, after both ports' rules; else committed and switched (94: NORMAL);
//  - 81 (BASE_INGRESS) / 82 (RULES_INGRESS): the same for what reaches the port, output to it.
// Remote groups are expanded to their members' addresses and port ranges to value/mask pairs (one
// flow each; Neutron folds large products with conjunctions). Pure: flow text from the state.
import { isIPv4 } from 'node:net';
import type { HostPort, HostState, SecurityGroupRule } from '../../rpc/contract.js';
import { valid } from '../../system/index.js';
import { protocolNumber } from '../firewall/rules.js';
import { INT } from './names.js';

/** A port on this host the firewall sees: its OpenFlow number and local VLAN. */
export interface FirewallPort {
  port: HostPort;
  ofport: number;
  lvid: number;
  /** Whether its traffic is filtered (port security on, not a network-owned port). */
  secured: boolean;
}

const ACCEPT_NORMAL = 94;
const CT_MARK_INVALID = '0x1';
const zone = 'zone=NXM_NX_REG6[0..15]';

// A rule's protocol is read as on Linux bridge hosts (src/agents/firewall/rules.ts): one meaning for both agents.
export { protocolNumber };

/** A port range as value/mask pairs covering exactly [min, max] (Neutron's port_rule_masking). */
export function portMasks(min: number, max: number): string[] {
  if (min === 1 && max === 65535) return [];
  const out: string[] = [];
  let lo = min;
  while (lo <= max) {
    let size = 1;
    while ((lo & (size * 2 - 1)) === 0 && lo + size * 2 - 1 <= max && size < 65536) size *= 2;
    out.push(size === 1 ? `0x${lo.toString(16)}` : `0x${lo.toString(16)}/0x${(0xffff & ~(size - 1)).toString(16)}`);
    lo += size;
  }
  return out;
}

/** The matches of one rule for one port (no verdict): several when the remote is a group or the
 * port range needs several masks; none when it can match nothing. */
export function ruleMatches(rule: SecurityGroupRule, memberIps: HostState['sg_member_ips']): string[] {
  const v6 = rule.ethertype === 'IPv6';
  const side = rule.direction === 'ingress' ? (v6 ? 'ipv6_src' : 'nw_src') : v6 ? 'ipv6_dst' : 'nw_dst';
  let remotes: Array<string | undefined> = [undefined];
  if (rule.remote_group_id) {
    remotes = (memberIps[rule.remote_group_id]?.[rule.ethertype] ?? []).map((ip) => valid.cidr(ip));
  } else if (rule.remote_address_group_id) {
    remotes = (memberIps[rule.remote_address_group_id]?.[rule.ethertype] ?? []).map((ip) => valid.cidr(ip));
  } else if (rule.remote_ip_prefix) {
    const prefix = valid.cidr(rule.remote_ip_prefix);
    if (isIPv4(prefix.split('/')[0]) === v6) return [];
    remotes = prefix.endsWith('/0') ? [undefined] : [prefix];
  }
  const proto = protocolNumber(rule.protocol, rule.ethertype);
  const base: string[] = [];
  if (proto === null) base.push(v6 ? 'ipv6' : 'ip');
  else if (proto === 6 || proto === 17 || proto === 132) {
    const name = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'sctp';
    const min = rule.port_range_min;
    const max = rule.port_range_max;
    const masks = min === null && max === null ? [] : portMasks(min ?? 1, max ?? min ?? 65535);
    const l4 = `${name}${v6 ? '6' : ''}`;
    for (const m of masks.length ? masks : ['']) base.push(m ? `${l4},tp_dst=${m}` : l4);
  } else if ((proto === 1 && !v6) || (proto === 58 && v6)) {
    let m = v6 ? 'icmp6' : 'icmp';
    if (rule.port_range_min !== null) m += `,icmp_type=${valid.uint(rule.port_range_min, 255)}`;
    if (rule.port_range_min !== null && rule.port_range_max !== null) m += `,icmp_code=${valid.uint(rule.port_range_max, 255)}`;
    base.push(m);
  } else base.push(`${v6 ? 'ipv6' : 'ip'},nw_proto=${proto}`);
  const out: string[] = [];
  for (const b of base) for (const r of remotes) out.push(r ? `${b},${side}=${r}` : b);
  return out;
}

const flow = (cookie: string, table: number, priority: number, match: string, actions: string): string =>
  `cookie=${cookie},table=${table},priority=${priority}${match ? `,${match}` : ''},actions=${actions}`;

/** Every firewall flow of br-int for `ports` (the live VIFs of this host). */
export function firewallFlows(cookie: string, ports: FirewallPort[], state: HostState): string[] {
  const c = cookie;
  const out: string[] = [
    // Egress base: ARP and neighbour discovery were checked by the anti-spoofing tables.
    flow(c, INT.BASE_EGRESS, 95, 'arp', `goto_table:${ACCEPT_NORMAL}`),
    ...[133, 135, 136].map((t) => flow(c, INT.BASE_EGRESS, 95, `icmp6,icmp_type=${t}`, `goto_table:${ACCEPT_NORMAL}`)),
    flow(c, INT.BASE_EGRESS, 80, 'udp,tp_src=68,tp_dst=67', `goto_table:${INT.ACCEPT_OR_INGRESS}`),
    flow(c, INT.BASE_EGRESS, 80, 'udp6,tp_src=546,tp_dst=547', `goto_table:${INT.ACCEPT_OR_INGRESS}`),
    // A VM answering DHCP or advertising itself as an IPv6 router.
    flow(c, INT.BASE_EGRESS, 70, 'udp,tp_src=67,tp_dst=68', 'drop'),
    flow(c, INT.BASE_EGRESS, 70, 'udp6,tp_src=547,tp_dst=546', 'drop'),
    flow(c, INT.BASE_EGRESS, 70, 'icmp6,icmp_type=134', 'drop'),
    flow(c, INT.BASE_EGRESS, 65, 'ct_state=-trk,ip', `ct(table=${INT.RULES_EGRESS},${zone})`),
    flow(c, INT.BASE_EGRESS, 65, 'ct_state=-trk,ipv6', `ct(table=${INT.RULES_EGRESS},${zone})`),
    // Other ethertypes from the port's MACs pass, as on Linux bridge hosts.
    flow(c, INT.BASE_EGRESS, 10, '', `goto_table:${INT.ACCEPT_OR_INGRESS}`),
    flow(c, INT.BASE_EGRESS, 0, '', 'drop'),
    // Egress rules: what conntrack already knows, then the rules (per port, below).
    flow(c, INT.RULES_EGRESS, 50, 'ct_state=+trk+inv', 'drop'),
    flow(c, INT.RULES_EGRESS, 50, `ct_state=+trk,ct_mark=${CT_MARK_INVALID}`, 'drop'),
    flow(c, INT.RULES_EGRESS, 50, 'ct_state=+est-rel+rpl,ct_mark=0', `goto_table:${ACCEPT_NORMAL}`),
    flow(c, INT.RULES_EGRESS, 50, 'ct_state=-new-est+rel-inv,ct_mark=0', `goto_table:${ACCEPT_NORMAL}`),
    flow(c, INT.RULES_EGRESS, 40, 'ct_state=-est', 'drop'),
    flow(c, INT.RULES_EGRESS, 40, 'ct_state=+est,ip', `ct(commit,${zone},exec(set_field:${CT_MARK_INVALID}->ct_mark))`),
    flow(c, INT.RULES_EGRESS, 40, 'ct_state=+est,ipv6', `ct(commit,${zone},exec(set_field:${CT_MARK_INVALID}->ct_mark))`),
    flow(c, INT.RULES_EGRESS, 0, '', 'drop'),
    // Accepted: committed once (after the local destination's ingress rules, when there is one).
    flow(c, INT.ACCEPT_OR_INGRESS, 90, 'ct_state=+new-est,ip', `ct(commit,${zone}),goto_table:${ACCEPT_NORMAL}`),
    flow(c, INT.ACCEPT_OR_INGRESS, 90, 'ct_state=+new-est,ipv6', `ct(commit,${zone}),goto_table:${ACCEPT_NORMAL}`),
    flow(c, INT.ACCEPT_OR_INGRESS, 80, '', `goto_table:${ACCEPT_NORMAL}`),
    flow(c, ACCEPT_NORMAL, 1, '', 'NORMAL'),
    // Ingress base.
    flow(c, INT.BASE_INGRESS, 90, 'ct_state=-trk,ip', `ct(table=${INT.RULES_INGRESS},${zone})`),
    flow(c, INT.BASE_INGRESS, 90, 'ct_state=-trk,ipv6', `ct(table=${INT.RULES_INGRESS},${zone})`),
    flow(c, INT.BASE_INGRESS, 80, 'ct_state=+trk', `goto_table:${INT.RULES_INGRESS}`),
    flow(c, INT.BASE_INGRESS, 0, '', 'drop'),
    flow(c, INT.RULES_INGRESS, 50, 'ct_state=+trk+inv', 'drop'),
    flow(c, INT.RULES_INGRESS, 50, `ct_state=+trk,ct_mark=${CT_MARK_INVALID}`, 'drop'),
    flow(c, INT.RULES_INGRESS, 40, 'ct_state=-est', 'drop'),
    flow(c, INT.RULES_INGRESS, 40, 'ct_state=+est,ip', `ct(commit,${zone},exec(set_field:${CT_MARK_INVALID}->ct_mark))`),
    flow(c, INT.RULES_INGRESS, 40, 'ct_state=+est,ipv6', `ct(commit,${zone},exec(set_field:${CT_MARK_INVALID}->ct_mark))`),
    flow(c, INT.RULES_INGRESS, 0, '', 'drop'),
  ];
  for (const f of ports) {
    const { port: p, ofport: n, lvid: l } = f;
    const regs = `load:${n}->NXM_NX_REG5[],load:${l}->NXM_NX_REG6[]`;
    if (!f.secured) {
      // Unfiltered, but what it sends to a secured local port still meets that port's rules.
      out.push(flow(c, INT.TRANSIENT, 100, `in_port=${n}`, `${regs},goto_table:${INT.ACCEPT_OR_INGRESS}`));
      continue;
    }
    out.push(flow(c, INT.TRANSIENT, 100, `in_port=${n}`, `${regs},goto_table:${INT.BASE_EGRESS}`));
    const macs = new Set([p.mac_address, ...p.allowed_address_pairs.map((a) => a.mac_address || p.mac_address)].map(valid.mac));
    for (const mac of macs) {
      out.push(
        flow(c, INT.TRANSIENT, 90, `dl_vlan=${l},dl_dst=${mac}`, `${regs},strip_vlan,goto_table:${INT.BASE_INGRESS}`),
        flow(c, INT.ACCEPT_OR_INGRESS, 100, `reg6=${l},dl_dst=${mac}`, `load:${n}->NXM_NX_REG5[],goto_table:${INT.BASE_INGRESS}`),
      );
    }
    const to = `output:${n}`;
    out.push(
      flow(c, INT.BASE_INGRESS, 100, `reg5=${n},arp`, to),
      ...[130, 131, 132, 135, 136].map((t) => flow(c, INT.BASE_INGRESS, 100, `reg5=${n},icmp6,icmp_type=${t}`, to)),
      flow(c, INT.BASE_INGRESS, 95, `reg5=${n},udp,tp_src=67,tp_dst=68`, to),
      flow(c, INT.BASE_INGRESS, 95, `reg5=${n},udp6,tp_src=547,tp_dst=546`, to),
      // Other ethertypes (IP went to conntrack above).
      flow(c, INT.BASE_INGRESS, 5, `reg5=${n}`, to),
      flow(c, INT.RULES_INGRESS, 50, `reg5=${n},ct_state=+est-rel+rpl,ct_mark=0`, to),
      flow(c, INT.RULES_INGRESS, 50, `reg5=${n},ct_state=-new-est+rel-inv,ct_mark=0`, to),
    );
    for (const gid of p.security_groups) {
      for (const rule of state.security_groups[gid]?.rules ?? []) {
        for (const m of ruleMatches(rule, state.sg_member_ips)) {
          if (rule.direction === 'egress') {
            out.push(
              flow(c, INT.RULES_EGRESS, 70, `reg5=${n},ct_state=+new-est,${m}`, `goto_table:${INT.ACCEPT_OR_INGRESS}`),
              flow(c, INT.RULES_EGRESS, 70, `reg5=${n},ct_state=+est-rel-rpl,${m}`, `goto_table:${INT.ACCEPT_OR_INGRESS}`),
            );
          } else {
            out.push(
              flow(c, INT.RULES_INGRESS, 70, `reg5=${n},ct_state=+new-est,${m}`, `ct(commit,${zone}),${to}`),
              flow(c, INT.RULES_INGRESS, 70, `reg5=${n},ct_state=+est-rel-rpl,${m}`, to),
            );
          }
        }
      }
    }
  }
  return out;
}
