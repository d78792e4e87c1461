// The Open vSwitch agent's flow tables, laid out as Neutron's OVS agent lays them out, each flow
// with the agent's per-run cookie:
//  - br-int: table 0 (LOCAL_SWITCHING) drops the dead VLAN and frames of disabled ports, maps a
//    physical network's VLAN (or untagged frames, flat) from its patch port to the network's local
//    VLAN, and sends a secured port's frames through the anti-spoofing tables 24 (ARP/NA) and 25
//    (MAC/IP); then 30 → 58 → 59 → 60, where NORMAL switches within the port's local VLAN (its tag);
//    table 23 holds the canary flow whose absence means ovs-vswitchd lost its flows.
//  - br-tun: 0 classifies (from br-int → 2, from a tunnel → 4/3/6 by type); 2 sends unicast to 20
//    and broadcast/multicast to 22 (ARP requests to the responder, 21, first); 4/3/6 map tunnel id →
//    local VLAN and go to 10, which learns the sender into 20 and outputs to br-int; 20 holds
//    l2population's unicast entries (unknown → 22); 21 answers ARP for remote ports; 22 floods a
//    local VLAN to the tunnels of the hosts that have ports on it.
//  - physical bridges: local VLAN → provider VLAN (or untagged) from br-int's patch, NORMAL otherwise.
// Pure: from the switch plan and the OVSDB snapshot (for OpenFlow port numbers) to flow text.
import { isIPv4 } from 'node:net';
import type { HostPort, HostState } from '../../rpc/contract.js';
import { type OvsSnapshot, valid } from '../../system/index.js';
import { type FirewallPort, firewallFlows } from './firewall.js';
import { DEAD_VLAN, INT, intPeerName, phyPeerName, TUN, TUN_TABLE, type TunnelType } from './names.js';
import { type OvsAgentOptions, type SwitchPlan, tunnelling } from './plan.js';

export interface FlowPlan {
  /** Bridge → its whole flow table. */
  bridges: Map<string, string[]>;
  /** Ports wired once these flows are in and their VIFs carry their local VLAN tag. */
  wired: Set<string>;
  /** The bridges each wired port depends on (br-int, and br-tun or its physical bridge). */
  portBridges: Map<string, string[]>;
  problems: string[];
}

const ZERO_MAC = '00:00:00:00:00:00';

const hex = (n: number): string => `0x${n.toString(16)}`;
const macHex = (mac: string): string => `0x${valid.mac(mac).replace(/:/g, '')}`;
const ipHex = (ip: string): string =>
  `0x${valid
    .ipv4(ip)
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('')}`;

/** A flow line: `cookie=C,table=T,priority=P[,match],actions=A`. */
function flow(cookie: string, table: number, priority: number, match: string, actions: string): string {
  return `cookie=${cookie},table=${table},priority=${priority}${match ? `,${match}` : ''},actions=${actions}`;
}

/** The MACs a port may send from, each with the addresses (CIDRs) it may use. */
function allowedSources(p: HostPort): Map<string, { v4: string[]; v6: string[] }> {
  const out = new Map<string, { v4: string[]; v6: string[] }>();
  const add = (mac: string, ip?: string) => {
    const m = valid.mac(mac);
    const e = out.get(m) ?? { v4: [], v6: ['fe80::/64'] };
    out.set(m, e);
    if (ip === undefined) return;
    valid.cidr(ip);
    const list = isIPv4(ip.split('/')[0]) ? e.v4 : e.v6;
    if (!list.includes(ip)) list.push(ip);
  };
  add(p.mac_address);
  for (const f of p.fixed_ips) add(p.mac_address, f.ip_address);
  for (const a of p.allowed_address_pairs) add(a.mac_address || p.mac_address, a.ip_address);
  return out;
}

/** Whether the port gets anti-spoofing flows: port security on, and not a network-owned port
 * (DHCP, router), as Neutron's agent decides. */
export const secured = (p: HostPort, o: OvsAgentOptions): boolean =>
  o.portSecurity && p.port_security_enabled && !p.device_owner.startsWith('network:');

/** Anti-spoofing of one port (OpenFlow port `n`): ARP and neighbour advertisements only for its
 * addresses (table 24), frames only from its MACs and, for IP, its addresses (table 25); DHCP
 * discovery and IPv6 duplicate address detection pass. The same rules as the Linux bridge agent's
 * nftables table. */
function antispoofFlows(c: string, p: HostPort, n: number): string[] {
  const out = [
    flow(c, INT.LOCAL_SWITCHING, 10, `in_port=${n},arp`, `goto_table:${INT.ARP_SPOOF}`),
    flow(c, INT.LOCAL_SWITCHING, 10, `in_port=${n},icmp6,icmp_type=136`, `goto_table:${INT.ARP_SPOOF}`),
    flow(c, INT.LOCAL_SWITCHING, 9, `in_port=${n}`, `goto_table:${INT.MAC_SPOOF}`),
  ];
  const pass = `goto_table:${INT.LOCAL_EGRESS}`;
  for (const [mac, { v4, v6 }] of allowedSources(p)) {
    for (const ip of v4) {
      out.push(flow(c, INT.ARP_SPOOF, 2, `in_port=${n},arp,arp_sha=${mac},arp_spa=${ip}`, `goto_table:${INT.MAC_SPOOF}`));
      out.push(flow(c, INT.MAC_SPOOF, 3, `in_port=${n},dl_src=${mac},ip,nw_src=${ip}`, pass));
    }
    for (const ip of v6) {
      out.push(flow(c, INT.ARP_SPOOF, 2, `in_port=${n},icmp6,icmp_type=136,nd_target=${ip}`, `goto_table:${INT.MAC_SPOOF}`));
      out.push(flow(c, INT.MAC_SPOOF, 3, `in_port=${n},dl_src=${mac},ipv6,ipv6_src=${ip}`, pass));
    }
    out.push(
      flow(c, INT.MAC_SPOOF, 3, `in_port=${n},dl_src=${mac},udp,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67`, pass),
      flow(c, INT.MAC_SPOOF, 3, `in_port=${n},dl_src=${mac},ipv6,ipv6_src=::`, pass),
      flow(c, INT.MAC_SPOOF, 2, `in_port=${n},dl_src=${mac},ip`, 'drop'),
      flow(c, INT.MAC_SPOOF, 2, `in_port=${n},dl_src=${mac},ipv6`, 'drop'),
      flow(c, INT.MAC_SPOOF, 1, `in_port=${n},dl_src=${mac}`, pass),
    );
  }
  return out;
}

/** What ARP responder answers for `ip` with `mac`: the request turned into a reply, sent back. */
function arpResponderActions(mac: string, ip: string): string {
  return [
    'move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]',
    `mod_dl_src:${valid.mac(mac)}`,
    'load:0x2->NXM_OF_ARP_OP[]',
    'move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]',
    'move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]',
    `load:${macHex(mac)}->NXM_NX_ARP_SHA[]`,
    `load:${ipHex(ip)}->NXM_OF_ARP_SPA[]`,
    'in_port',
  ].join(',');
}

export interface FlowInput {
  state: HostState;
  plan: SwitchPlan;
  /** The snapshot after the plan's first OVSDB changes (for OpenFlow port numbers). */
  snap: OvsSnapshot;
  o: OvsAgentOptions;
  cookie: string;
  /** Extra br-int flows (the firewall's), and the ports they cover. */
  extraIntFlows?: string[];
}

export function buildFlows({ state, plan, snap, o, cookie: c, extraIntFlows = [] }: FlowInput): FlowPlan {
  const problems: string[] = [];
  const ofport = (name: string): number | undefined => {
    const n = snap.interfaces.get(name)?.ofport;
    return n !== null && n !== undefined && n > 0 ? n : undefined;
  };
  const int: string[] = [
    flow(c, INT.LOCAL_SWITCHING, 65535, `dl_vlan=${DEAD_VLAN}`, 'drop'),
    flow(c, INT.LOCAL_SWITCHING, 0, '', `goto_table:${INT.PACKET_RATE_LIMIT}`),
    flow(c, INT.CANARY, 0, '', 'drop'),
    flow(c, INT.ARP_SPOOF, 0, '', 'drop'),
    flow(c, INT.MAC_SPOOF, 0, '', 'drop'),
    flow(c, INT.LOCAL_EGRESS, 0, '', `goto_table:${INT.PACKET_RATE_LIMIT}`),
    flow(c, INT.LOCAL_IP, 0, '', `goto_table:${INT.PACKET_RATE_LIMIT}`),
    flow(c, INT.PACKET_RATE_LIMIT, 0, '', `goto_table:${INT.BANDWIDTH_RATE_LIMIT}`),
    flow(c, INT.BANDWIDTH_RATE_LIMIT, 0, '', `goto_table:${INT.TRANSIENT}`),
    flow(c, INT.TRANSIENT, 1, '', 'NORMAL'),
    flow(c, INT.TRANSIENT_EGRESS, 3, '', 'NORMAL'),
    ...extraIntFlows,
  ];
  const bridges = new Map<string, string[]>([[o.integrationBridge, int]]);
  /** Networks whose bridge-to-bridge path is complete. */
  const carried = new Set<string>();
  const netBridge = new Map<string, string>();

  // Physical networks: patch ports int-<br> / phy-<br>.
  for (const [physnet, br] of Object.entries(o.bridgeMappings)) {
    if (!snap.bridges.has(br)) continue;
    const phys: string[] = [flow(c, 0, 0, '', 'NORMAL')];
    bridges.set(br, phys);
    const intPort = ofport(intPeerName(br));
    const phyPort = ofport(phyPeerName(br));
    if (!intPort || !phyPort) {
      problems.push(`physical network '${physnet}': patch ports ${intPeerName(br)}/${phyPeerName(br)} have no OpenFlow port yet`);
      continue;
    }
    int.push(flow(c, INT.LOCAL_SWITCHING, 2, `in_port=${intPort}`, 'drop'));
    phys.push(flow(c, 0, 2, `in_port=${phyPort}`, 'drop'));
    for (const n of plan.networks.values()) {
      if (n.physnet !== physnet || (n.type !== 'flat' && n.type !== 'vlan')) continue;
      const vlan = n.type === 'vlan';
      int.push(
        flow(
          c,
          INT.LOCAL_SWITCHING,
          3,
          `in_port=${intPort},${vlan ? `dl_vlan=${n.segid}` : 'vlan_tci=0x0000/0x1fff'}`,
          `mod_vlan_vid:${n.lvid},goto_table:${INT.PACKET_RATE_LIMIT}`,
        ),
      );
      phys.push(
        flow(c, 0, 4, `in_port=${phyPort},dl_vlan=${n.lvid}`, vlan ? `mod_vlan_vid:${n.segid},NORMAL` : 'strip_vlan,NORMAL'),
      );
      carried.add(n.id);
      netBridge.set(n.id, br);
    }
  }

  // Tunnels.
  if (tunnelling(o)) {
    const tun: string[] = [];
    bridges.set(o.tunnelBridge, tun);
    const patch = ofport(o.tunPeerPatchPort);
    const arp = o.arpResponder && o.l2Population;
    tun.push(
      flow(c, TUN.LOCAL_SWITCHING, 0, '', 'drop'),
      flow(c, TUN.PATCH_LV_TO_TUN, 0, 'dl_dst=00:00:00:00:00:00/01:00:00:00:00:00', `goto_table:${TUN.UCAST_TO_TUN}`),
      flow(c, TUN.PATCH_LV_TO_TUN, 0, 'dl_dst=01:00:00:00:00:00/01:00:00:00:00:00', `goto_table:${TUN.FLOOD_TO_TUN}`),
      flow(c, TUN.GRE_TUN_TO_LV, 0, '', 'drop'),
      flow(c, TUN.VXLAN_TUN_TO_LV, 0, '', 'drop'),
      flow(c, TUN.GENEVE_TUN_TO_LV, 0, '', 'drop'),
      flow(c, TUN.UCAST_TO_TUN, 0, '', `goto_table:${TUN.FLOOD_TO_TUN}`),
      flow(c, TUN.FLOOD_TO_TUN, 0, '', 'drop'),
    );
    if (arp) {
      tun.push(
        flow(c, TUN.PATCH_LV_TO_TUN, 1, 'arp,dl_dst=ff:ff:ff:ff:ff:ff', `goto_table:${TUN.ARP_RESPONDER}`),
        flow(c, TUN.ARP_RESPONDER, 0, '', `goto_table:${TUN.FLOOD_TO_TUN}`),
      );
    }
    const byIp = new Map<string, { name: string; type: TunnelType; ofport: number }>();
    for (const [name, t] of plan.tunnels) {
      const n = ofport(name);
      if (!n) {
        problems.push(`tunnel port ${name} to ${t.remoteIp} has no OpenFlow port yet`);
        continue;
      }
      byIp.set(`${t.type}/${t.remoteIp}`, { name, type: t.type, ofport: n });
      tun.push(flow(c, TUN.LOCAL_SWITCHING, 1, `in_port=${n}`, `goto_table:${TUN_TABLE[t.type]}`));
    }
    if (!patch) problems.push(`patch port ${o.tunPeerPatchPort} on ${o.tunnelBridge} has no OpenFlow port yet`);
    else {
      tun.push(flow(c, TUN.LOCAL_SWITCHING, 1, `in_port=${patch}`, `goto_table:${TUN.PATCH_LV_TO_TUN}`));
      // Remote MACs are learnt from incoming frames into table 20 (with l2population they are
      // also there, statically, at a higher priority).
      const learn =
        `learn(table=${TUN.UCAST_TO_TUN},priority=1,hard_timeout=300,cookie=${c},NXM_OF_VLAN_TCI[0..11],` +
        'NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:0->NXM_OF_VLAN_TCI[],load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],' +
        'output:OXM_OF_IN_PORT[])';
      tun.push(flow(c, TUN.LEARN_FROM_TUN, 1, '', `${learn},output:${patch}`));
    }
    for (const n of plan.networks.values()) {
      if (!(n.type in TUN_TABLE)) continue;
      const type = n.type as TunnelType;
      const vni = n.segid!;
      const out = (ports: number[]) => `pop_vlan,set_field:${vni}->tun_id,${ports.map((p) => `output:${p}`).join(',')}`;
      tun.push(flow(c, TUN_TABLE[type], 1, `tun_id=${hex(vni)}`, `mod_vlan_vid:${n.lvid},goto_table:${TUN.LEARN_FROM_TUN}`));
      const flood = new Set<number>();
      const unicast = new Map<string, number>();
      if (o.l2Population) {
        const remote = state.fdb[n.id]?.ports ?? {};
        for (const vtep of Object.keys(remote).sort()) {
          const t = byIp.get(`${type}/${vtep}`);
          if (!t) continue;
          for (const [mac, ip] of remote[vtep]) {
            const m = mac.toLowerCase();
            if (m === ZERO_MAC) {
              flood.add(t.ofport);
              continue;
            }
            if (!unicast.has(m)) unicast.set(m, t.ofport);
            if (arp && isIPv4(ip) && ip !== '0.0.0.0')
              tun.push(flow(c, TUN.ARP_RESPONDER, 1, `arp,dl_vlan=${n.lvid},arp_tpa=${ip}`, arpResponderActions(m, ip)));
          }
        }
      } else for (const t of byIp.values()) if (t.type === type) flood.add(t.ofport);
      if (flood.size) tun.push(flow(c, TUN.FLOOD_TO_TUN, 1, `dl_vlan=${n.lvid}`, out([...flood].sort((a, b) => a - b))));
      for (const [mac, port] of unicast) tun.push(flow(c, TUN.UCAST_TO_TUN, 2, `dl_vlan=${n.lvid},dl_dst=${mac}`, out([port])));
      if (patch && ofport(o.intPeerPatchPort)) {
        carried.add(n.id);
        netBridge.set(n.id, o.tunnelBridge);
      }
    }
  }
  for (const n of plan.networks.values()) if (n.type === 'local') carried.add(n.id);

  // VM ports: anti-spoofing (and the firewall) for the live ones, a drop for the others.
  const wired = new Set<string>();
  const portBridges = new Map<string, string[]>();
  const fwPorts: FirewallPort[] = [];
  for (const p of state.ports) {
    const vif = plan.vifs.get(p.id);
    const n = plan.networks.get(p.network_id);
    const num = vif && ofport(vif.iface);
    if (!vif || !n || !num || !plan.live.has(vif.iface)) continue;
    if (secured(p, o)) int.push(...antispoofFlows(c, p, num));
    fwPorts.push({ port: p, ofport: num, lvid: n.lvid, secured: secured(p, o) });
    if (!carried.has(n.id)) continue;
    wired.add(p.id);
    const via = netBridge.get(n.id);
    portBridges.set(p.id, via ? [o.integrationBridge, via] : [o.integrationBridge]);
  }
  for (const vif of plan.allVifs.values()) {
    const num = ofport(vif.iface);
    if (num && !plan.live.has(vif.iface)) int.push(flow(c, INT.LOCAL_SWITCHING, 2, `in_port=${num}`, 'drop'));
  }
  if (o.firewall === 'openvswitch') {
    try {
      int.push(...firewallFlows(c, fwPorts, state));
    } catch (err) {
      // A rule that can't be expressed: secured ports carry nothing (and are not wired) rather
      // than pass unfiltered.
      problems.push(`security groups: ${(err as Error).message}`);
      for (const f of fwPorts) {
        if (!f.secured) continue;
        int.push(flow(c, INT.TRANSIENT, 100, `in_port=${f.ofport}`, 'drop'));
        wired.delete(f.port.id);
      }
    }
  }
  for (const [br, flows] of bridges) bridges.set(br, [...new Set(flows)].sort());
  return { bridges, wired, portBridges, problems };
}
