// The Open vSwitch agent's diff for the switch's configuration (OVSDB): from a host's desired
// state and a snapshot of the Open_vSwitch database, the networks wired here with their local
// VLAN ids (LVIDs), and the OVSDB changes that make the switch match — bridges, patch ports, tunnel
// ports, VM port tags — and nothing more. Pure: unit tests feed it snapshots. The flows that go
// with it are flows.ts's; backend.ts applies both.
import { isIPv4 } from 'node:net';
import type { HostPort, HostState } from '../../rpc/contract.js';
import type { OvsSnapshot, VsOp } from '../../system/index.js';
import {
  DEAD_VLAN,
  intPeerName,
  MAX_LVID,
  MIN_LVID,
  NONEXISTENT_PEER,
  phyPeerName,
  TUNNEL_TYPES,
  type TunnelType,
  tunnelPortName,
} from './names.js';

export interface OvsAgentOptions {
  integrationBridge: string;
  tunnelBridge: string;
  /** The patch port on br-int towards br-tun, and its peer on br-tun. */
  intPeerPatchPort: string;
  tunPeerPatchPort: string;
  /** physnet → the physical bridge of that network (created by the operator). */
  bridgeMappings: Record<string, string>;
  /** This host's tunnel endpoint; tunnelling needs it. */
  localIp: string | null;
  tunnelTypes: string[];
  vxlanUdpPort: number;
  l2Population: boolean;
  /** Answer ARP for remote ports from br-tun (needs l2population). */
  arpResponder: boolean;
  datapathType: string;
  dontFragment: boolean;
  /** MAC/IP/ARP anti-spoofing flows for ports with port security. */
  portSecurity: boolean;
  /** Security groups: Neutron's native OVS firewall (conntrack in flows), or none. */
  firewall?: 'openvswitch' | 'noop';
  /** sFlow export on br-int (targets `host:port`), or none. */
  sflow?: { targets: string[]; sampling: number; polling: number } | null;
  /** NetFlow export on br-int, or none. */
  netflow?: { targets: string[]; activeTimeout: number } | null;
}

/** A network with ports on this host, and how it is carried. */
export interface LocalNetwork {
  id: string;
  lvid: number;
  type: string;
  physnet: string | null;
  segid: number | null;
  ports: HostPort[];
}

/** A VM port (`external_ids:iface-id`) on br-int. */
export interface Vif {
  portId: string;
  iface: string;
  ofport: number | null;
}

export interface SwitchPlan {
  networks: Map<string, LocalNetwork>;
  /** Bound ports whose VIF is on br-int, by port id. */
  vifs: Map<string, Vif>;
  /** Every iface-id interface on br-int (bound here or not), by interface name. */
  allVifs: Map<string, Vif>;
  /** The LVID of each network wired here (to keep for the next plan). */
  lvids: Map<string, number>;
  /** The tunnel ports br-tun should have: name → remote endpoint and type. */
  tunnels: Map<string, { remoteIp: string; type: TunnelType }>;
  /** Networks that can't be wired here, and other trouble, for the log. */
  problems: string[];
  /** The OVSDB changes before the flows: bridges, patch and tunnel ports (one transaction). */
  ops: VsOp[];
  /** VM port interfaces that carry their network's traffic (their flows go in before their tag). */
  live: Set<string>;
  /** The OVSDB changes after the flows: VM port tags (and what Neutron records with them). */
  portOps: VsOp[];
}

export const OPENFLOW_PROTOCOLS = ['OpenFlow10', 'OpenFlow13', 'OpenFlow14'];

export const tunnelling = (o: OvsAgentOptions): boolean => o.tunnelTypes.length > 0 && !!o.localIp;

const bridgeOf = (snap: OvsSnapshot, iface: string): string | undefined => snap.portBridge.get(iface);

/** The iface-id interfaces on br-int: by port id (the one with an OpenFlow port wins) and all. */
export function findVifs(snap: OvsSnapshot, o: OvsAgentOptions): { byPort: Map<string, Vif>; all: Map<string, Vif> } {
  const byPort = new Map<string, Vif>();
  const all = new Map<string, Vif>();
  for (const i of snap.interfaces.values()) {
    const portId = i.external_ids['iface-id'];
    if (!portId || bridgeOf(snap, i.name) !== o.integrationBridge) continue;
    const vif = { portId, iface: i.name, ofport: i.ofport };
    all.set(i.name, vif);
    const known = byPort.get(portId);
    if (!known || (!(known.ofport && known.ofport > 0) && vif.ofport && vif.ofport > 0)) byPort.set(portId, vif);
  }
  return { byPort, all };
}

/** Why a network can't be wired by this agent, or null. */
function networkProblem(p: HostPort, o: OvsAgentOptions, snap: OvsSnapshot): string | null {
  const where = `network ${p.network_id} (${p.network_type})`;
  switch (p.network_type) {
    case 'local':
      return null;
    case 'flat':
    case 'vlan': {
      const br = p.physical_network ? o.bridgeMappings[p.physical_network] : undefined;
      if (!br) return `${where}: physical network '${p.physical_network}' is not in this agent's bridge_mappings`;
      if (!snap.bridges.has(br)) return `${where}: bridge ${br} of physical network '${p.physical_network}' does not exist`;
      if (p.network_type === 'vlan' && p.segmentation_id === null) return `${where}: no VLAN id`;
      return null;
    }
    default:
      if (!(TUNNEL_TYPES as readonly string[]).includes(p.network_type))
        return `${where}: the Open vSwitch agent does not support network type ${p.network_type}`;
      if (!tunnelling(o) || !o.tunnelTypes.includes(p.network_type))
        return `${where}: tunnelling of type ${p.network_type} is not enabled on this agent ([agent] tunnel_types, [ovs] local_ip)`;
      if (p.segmentation_id === null) return `${where}: no tunnel id`;
      return null;
  }
}

/** LVIDs: a network keeps its id (from the last plan, else from the `tag`/`net_uuid` Neutron's
 * agent records in the other_config of its ports, so a restarted agent keeps them); a new one
 * takes the lowest free id. */
export function assignLvids(wanted: string[], previous: ReadonlyMap<string, number>, snap: OvsSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  const hints = new Map<string, number>();
  for (const port of snap.ports.values()) {
    const net = port.other_config.net_uuid;
    const tag = port.tag;
    if (net && tag !== null && tag >= MIN_LVID && tag <= MAX_LVID && !hints.has(net)) hints.set(net, tag);
  }
  const claim = (net: string, lvid: number | undefined) => {
    if (lvid === undefined || used.has(lvid)) return false;
    out.set(net, lvid);
    used.add(lvid);
    return true;
  };
  const rest: string[] = [];
  for (const net of wanted) if (!claim(net, previous.get(net))) rest.push(net);
  const later: string[] = [];
  for (const net of rest) if (!claim(net, hints.get(net))) later.push(net);
  let next = MIN_LVID;
  for (const net of later) {
    while (used.has(next)) next++;
    if (next > MAX_LVID) throw new Error('no local VLAN id left (4094 networks on this host)');
    claim(net, next);
  }
  return out;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
const sameMap = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** Ensures a bridge of the agent's (secure fail mode, OpenFlow 1.0/1.3/1.4, the datapath type);
 * `create` false only sets an existing one up (physical bridges are the operator's). */
function bridgeOps(name: string, o: OvsAgentOptions, snap: OvsSnapshot, create: boolean): VsOp[] {
  const b = snap.bridges.get(name);
  if (!b) {
    return create
      ? [{ op: 'addBridge', name, datapathType: o.datapathType, failMode: 'secure', protocols: OPENFLOW_PROTOCOLS }]
      : [];
  }
  const set: VsOp & { op: 'setBridge' } = { op: 'setBridge', name };
  if (b.datapath_type !== o.datapathType) set.datapathType = o.datapathType;
  if (b.fail_mode !== 'secure') set.failMode = 'secure';
  const protocols = [...new Set([...b.protocols, ...OPENFLOW_PROTOCOLS])].sort();
  if (!sameSet(protocols, b.protocols)) set.protocols = protocols;
  return Object.keys(set).length > 2 ? [set] : [];
}

/** A patch port `name` on `bridge` towards `peer` (or, while its flows are not there yet, a
 * peer that does not exist). Existing patch ports are left to planConnect. */
function patchOps(bridge: string, name: string, peer: string, snap: OvsSnapshot): VsOp[] {
  const i = snap.interfaces.get(name);
  if (i && bridgeOf(snap, name) === bridge && i.type === 'patch') return [];
  const ops: VsOp[] = [];
  const elsewhere = snap.portBridge.get(name);
  if (elsewhere) ops.push({ op: 'delPort', bridge: elsewhere, name });
  ops.push({ op: 'addPort', bridge, name, type: 'patch', options: { peer } });
  return ops;
}

/** The patch ports' real peers, set once the flows that guard them are installed. */
export function planConnect(snap: OvsSnapshot, o: OvsAgentOptions): VsOp[] {
  const want: Array<[string, string]> = [];
  if (tunnelling(o)) want.push([o.intPeerPatchPort, o.tunPeerPatchPort], [o.tunPeerPatchPort, o.intPeerPatchPort]);
  for (const br of Object.values(o.bridgeMappings)) {
    if (!snap.bridges.has(br)) continue;
    want.push([intPeerName(br), phyPeerName(br)], [phyPeerName(br), intPeerName(br)]);
  }
  const ops: VsOp[] = [];
  for (const [name, peer] of want) {
    const i = snap.interfaces.get(name);
    if (i && i.type === 'patch' && i.options.peer !== peer)
      ops.push({ op: 'setInterface', name, options: { ...i.options, peer } });
  }
  return ops;
}

function tunnelOptions(o: OvsAgentOptions, type: TunnelType, remoteIp: string): Record<string, string> {
  const opts: Record<string, string> = {
    df_default: String(o.dontFragment),
    egress_pkt_mark: '0',
    in_key: 'flow',
    local_ip: o.localIp!,
    out_key: 'flow',
    remote_ip: remoteIp,
  };
  if (type === 'vxlan' && o.vxlanUdpPort !== 4789) opts.dst_port = String(o.vxlanUdpPort);
  return opts;
}

export interface PlanInput {
  state: HostState;
  snap: OvsSnapshot;
  o: OvsAgentOptions;
  /** The LVIDs of the last plan. */
  lvids: ReadonlyMap<string, number>;
  /** Without l2population: every tunnel endpoint of each type (tunnel_sync), to mesh with. */
  endpoints?: Partial<Record<TunnelType, string[]>>;
}

export function planSwitch({ state, snap, o, lvids: previous, endpoints = {} }: PlanInput): SwitchPlan {
  const problems: string[] = [];
  const ops: VsOp[] = [];
  const { byPort, all } = findVifs(snap, o);
  const bound = new Map(state.ports.map((p) => [p.id, p]));

  // Networks with a port plugged here.
  const byNetwork = new Map<string, HostPort[]>();
  const refused = new Set<string>();
  const vifs = new Map<string, Vif>();
  for (const p of state.ports) {
    const vif = byPort.get(p.id);
    if (!vif || refused.has(p.network_id)) continue;
    if (!byNetwork.has(p.network_id)) {
      const why = networkProblem(p, o, snap);
      if (why) {
        refused.add(p.network_id);
        problems.push(why);
        continue;
      }
      byNetwork.set(p.network_id, []);
    }
    byNetwork.get(p.network_id)!.push(p);
    vifs.set(p.id, vif);
  }
  const lvids = assignLvids([...byNetwork.keys()].sort(), previous, snap);
  const networks = new Map<string, LocalNetwork>();
  for (const [id, ports] of byNetwork) {
    const p = ports[0];
    networks.set(id, {
      id,
      lvid: lvids.get(id)!,
      type: p.network_type,
      physnet: p.physical_network,
      segid: p.segmentation_id,
      ports,
    });
  }

  // Bridges and the patch ports joining them.
  ops.push(...bridgeOps(o.integrationBridge, o, snap, true));
  if (tunnelling(o)) {
    ops.push(...bridgeOps(o.tunnelBridge, o, snap, true));
    ops.push(...patchOps(o.integrationBridge, o.intPeerPatchPort, o.tunPeerPatchPort, snap));
    ops.push(...patchOps(o.tunnelBridge, o.tunPeerPatchPort, o.intPeerPatchPort, snap));
  }
  for (const [physnet, br] of Object.entries(o.bridgeMappings)) {
    if (!snap.bridges.has(br)) {
      problems.push(`bridge ${br} of physical network '${physnet}' (bridge_mappings) does not exist`);
      continue;
    }
    ops.push(...bridgeOps(br, o, snap, false));
    ops.push(...patchOps(o.integrationBridge, intPeerName(br), NONEXISTENT_PEER, snap));
    ops.push(...patchOps(br, phyPeerName(br), NONEXISTENT_PEER, snap));
  }

  // Tunnel ports: with l2population, one per remote VTEP with ports on a network wired here;
  // without, one per known endpoint of each tunnel type.
  const tunnels = new Map<string, { remoteIp: string; type: TunnelType }>();
  const addTunnel = (type: TunnelType, ip: string) => {
    if (ip === o.localIp || isIPv4(ip) !== isIPv4(o.localIp ?? '')) return;
    tunnels.set(tunnelPortName(type, ip), { remoteIp: ip, type });
  };
  if (tunnelling(o)) {
    if (o.l2Population) {
      for (const n of networks.values()) {
        if (!(TUNNEL_TYPES as readonly string[]).includes(n.type)) continue;
        for (const vtep of Object.keys(state.fdb[n.id]?.ports ?? {})) addTunnel(n.type as TunnelType, vtep);
      }
    } else {
      for (const type of o.tunnelTypes) for (const ip of endpoints[type as TunnelType] ?? []) addTunnel(type as TunnelType, ip);
    }
    for (const i of snap.interfaces.values()) {
      if (!(TUNNEL_TYPES as readonly string[]).includes(i.type) || bridgeOf(snap, i.name) !== o.tunnelBridge) continue;
      const want = tunnels.get(i.name);
      if (!want || want.type !== i.type) ops.push({ op: 'delPort', bridge: o.tunnelBridge, name: i.name });
      else {
        const opts = tunnelOptions(o, want.type, want.remoteIp);
        if (!sameMap(opts, i.options)) ops.push({ op: 'setInterface', name: i.name, options: opts });
      }
    }
    for (const [name, t] of tunnels) {
      const i = snap.interfaces.get(name);
      if (i && i.type === t.type && bridgeOf(snap, name) === o.tunnelBridge) continue;
      ops.push({ op: 'addPort', bridge: o.tunnelBridge, name, type: t.type, options: tunnelOptions(o, t.type, t.remoteIp) });
    }
  }

  // VM ports: the network's LVID (with what Neutron records in other_config), else the dead VLAN.
  // A port joins its VLAN only after its flows (anti-spoofing) are in, so these come last.
  const live = new Set<string>();
  const portOps: VsOp[] = [];
  for (const vif of all.values()) {
    const port = snap.ports.get(vif.iface);
    if (!port) continue;
    const p = bound.get(vif.portId);
    const n = p ? networks.get(p.network_id) : undefined;
    if (!p || !n || !p.admin_state_up || vifs.get(p.id)?.iface !== vif.iface || !(vif.ofport && vif.ofport > 0)) {
      if (port.tag !== DEAD_VLAN) portOps.push({ op: 'setPort', name: vif.iface, tag: DEAD_VLAN });
      continue;
    }
    live.add(vif.iface);
    const otherConfig: Record<string, string> = {
      ...port.other_config,
      net_uuid: n.id,
      network_type: n.type,
      physical_network: String(n.physnet),
      tag: String(n.lvid),
    };
    if (n.segid !== null) otherConfig.segmentation_id = String(n.segid);
    else delete otherConfig.segmentation_id;
    if (port.tag !== n.lvid || !sameMap(otherConfig, port.other_config))
      portOps.push({ op: 'setPort', name: vif.iface, tag: n.lvid, otherConfig });
  }

  // Monitoring exports on br-int.
  const br = snap.bridges.get(o.integrationBridge);
  const sflow = o.sflow?.targets.length
    ? { targets: [...o.sflow.targets].sort(), sampling: o.sflow.sampling, polling: o.sflow.polling, header: null, agent: null }
    : null;
  const cur = br?.sflow ?? null;
  const sameSflow =
    sflow === null
      ? cur === null
      : !!cur && sameSet(cur.targets, sflow.targets) && cur.sampling === sflow.sampling && cur.polling === sflow.polling;
  if (!sameSflow) ops.push({ op: 'setSflow', bridge: o.integrationBridge, sflow });
  const netflow = o.netflow?.targets.length
    ? { targets: [...o.netflow.targets].sort(), active_timeout: o.netflow.activeTimeout }
    : null;
  if (JSON.stringify(netflow) !== JSON.stringify(br?.netflow ?? null))
    ops.push({ op: 'setNetflow', bridge: o.integrationBridge, netflow });

  return { networks, vifs, allVifs: all, lvids, tunnels, problems, ops, live, portOps };
}
