// The Linux bridge agent's diff: from a host's desired state and what the kernel shows
// (`ip -d -j link`, `bridge -j fdb`), the commands that make the kernel match and nothing more.
// Pure: unit tests feed it JSON and read the commands back. What is already right yields no
// command, so a restarted agent changes nothing on a converged host (DESIGN.md principle 3).
import type { HostPort, HostState } from '../../rpc/contract.js';
import {
  addBridge,
  addVlan,
  addVxlan,
  type Command,
  delLink,
  type FdbRow,
  fdbAppend,
  fdbDel,
  fdbReplace,
  isUp,
  kindOf,
  type Link,
  linkSet,
} from '../../system/index.js';
import {
  BRIDGE_PREFIX,
  bridgeName,
  OWNED_ALIAS_PREFIX,
  ownedAlias,
  TAP_PREFIX,
  tapName,
  VXLAN_PREFIX,
  vlanName,
  vxlanName,
} from './names.js';

export interface LinuxBridgeOptions {
  /** This host's VTEP address; VXLAN networks need it. */
  localIp: string | null;
  enableVxlan: boolean;
  l2Population: boolean;
  /** physnet → interface enslaved to the network's bridge (flat) or parent of `<iface>.<vid>` (vlan). */
  interfaceMappings: Record<string, string>;
  /** physnet → an existing bridge used as is (not created, never deleted). */
  bridgeMappings: Record<string, string>;
  vxlanPort?: number;
  /** Without l2population: the multicast group of broadcast/unknown traffic ([vxlan] vxlan_group). */
  vxlanGroup?: string | null;
  /** The interface holding local_ip (read from the kernel), which the multicast group is joined on. */
  vtepDevice?: string;
}

/** What one network needs on this host. */
export interface NetworkPlan {
  id: string;
  bridge: string;
  /** Whether the agent creates (and may delete) the bridge; false for bridge_mappings. */
  owned: boolean;
  mtu: number;
  /** The device linking the bridge to the physical network or the tunnel, if any. */
  uplink?: { name: string; kind: 'vxlan' | 'vlan' | 'physical'; vni?: number; parent?: string; vid?: number };
  ports: HostPort[];
}

export interface Plan {
  networks: Map<string, NetworkPlan>;
  /** Networks that can't be wired here, with the reason (their ports are not reported up). */
  problems: Map<string, string>;
  /** One `ip -batch`. */
  ip: Command[];
  /** One `bridge -batch`, after the links exist. */
  fdb: Command[];
  /** Devices the `ip` batch creates. */
  created: string[];
}

const ZERO_MAC = '00:00:00:00:00:00';

/** How each network with ports here is to be wired, or why it can't be. */
export function networkPlans(state: HostState, o: LinuxBridgeOptions, links: Map<string, Link>) {
  const networks = new Map<string, NetworkPlan>();
  const problems = new Map<string, string>();
  const mtus = new Map(state.networks.map((n) => [n.id, n.mtu]));
  for (const p of state.ports) {
    const known = networks.get(p.network_id);
    if (known) {
      known.ports.push(p);
      continue;
    }
    if (problems.has(p.network_id)) continue;
    const base = {
      id: p.network_id,
      bridge: bridgeName(p.network_id),
      owned: true,
      mtu: mtus.get(p.network_id) ?? p.mtu,
      ports: [p],
    };
    const fail = (why: string) => problems.set(p.network_id, `network ${p.network_id} (${p.network_type}): ${why}`);
    const physnet = p.physical_network ?? '';
    switch (p.network_type) {
      case 'local':
        networks.set(p.network_id, base);
        break;
      case 'vxlan': {
        if (!o.enableVxlan || !o.localIp) fail('VXLAN is not enabled on this agent ([vxlan] enable_vxlan, local_ip)');
        else if (p.segmentation_id === null) fail('no VNI');
        else if (!o.l2Population && !(o.vxlanGroup && o.vtepDevice))
          fail(
            o.vxlanGroup
              ? `no interface holds local_ip ${o.localIp} (the multicast group is joined there)`
              : 'without l2_population VXLAN needs [vxlan] vxlan_group',
          );
        else
          networks.set(p.network_id, {
            ...base,
            uplink: { name: vxlanName(p.segmentation_id), kind: 'vxlan', vni: p.segmentation_id },
          });
        break;
      }
      case 'flat': {
        if (o.bridgeMappings[physnet]) networks.set(p.network_id, { ...base, bridge: o.bridgeMappings[physnet], owned: false });
        else if (!o.interfaceMappings[physnet]) fail(`physical network '${physnet}' is not in this agent's mappings`);
        else if (!links.has(o.interfaceMappings[physnet])) fail(`interface ${o.interfaceMappings[physnet]} does not exist`);
        else networks.set(p.network_id, { ...base, uplink: { name: o.interfaceMappings[physnet], kind: 'physical' } });
        break;
      }
      case 'vlan': {
        const parent = o.interfaceMappings[physnet];
        const vid = p.segmentation_id;
        const name = parent && vid !== null ? vlanName(parent, vid) : undefined;
        if (!parent) fail(`physical network '${physnet}' is not in this agent's interface mappings`);
        else if (vid === null || !name) fail(`no usable VLAN sub-interface name for ${parent} VLAN ${vid}`);
        else if (!links.has(parent)) fail(`interface ${parent} does not exist`);
        else networks.set(p.network_id, { ...base, uplink: { name, kind: 'vlan', parent, vid } });
        break;
      }
      default:
        fail(`the Linux bridge agent does not support network type ${p.network_type}`);
    }
  }
  return { networks, problems };
}

/** Links of `networks` that are missing or wrong, and what no longer belongs here. */
function linkCommands(networks: Map<string, NetworkPlan>, o: LinuxBridgeOptions, links: Map<string, Link>): Command[] {
  const removals: Command[] = [];
  const adds: Command[] = [];
  const wantedBridges = new Set([...networks.values()].map((n) => n.bridge));
  const wantedUplinks = new Set([...networks.values()].flatMap((n) => (n.uplink ? [n.uplink.name] : [])));
  const wantedTaps = new Map<string, string>();
  for (const n of networks.values()) for (const p of n.ports) wantedTaps.set(tapName(p.id), n.bridge);
  const ownedBridge = (l: Link) =>
    kindOf(l) === 'bridge' && l.ifname.startsWith(BRIDGE_PREFIX) && (l.ifalias ?? '').startsWith(OWNED_ALIAS_PREFIX);
  const ourBridges = new Set(
    [...links.values()]
      .filter((l) => ownedBridge(l))
      .map((l) => l.ifname)
      .concat(Object.values(o.bridgeMappings)),
  );
  const mappedParents = new Set(Object.values(o.interfaceMappings));

  for (const l of links.values()) {
    // Stale devices: only what matches our names and, for bridges, carries our mark.
    if (ownedBridge(l) && !wantedBridges.has(l.ifname)) removals.push(delLink(l.ifname));
    else if (kindOf(l) === 'vxlan' && l.ifname.startsWith(VXLAN_PREFIX) && !wantedUplinks.has(l.ifname))
      removals.push(delLink(l.ifname));
    else if (
      kindOf(l) === 'vlan' &&
      l.link &&
      mappedParents.has(l.link) &&
      l.ifname.startsWith(`${l.link}.`) &&
      !wantedUplinks.has(l.ifname)
    )
      removals.push(delLink(l.ifname));
    // A tap of a port no longer here is cut off its bridge (the tap itself is Nova's to delete).
    else if (l.ifname.startsWith(TAP_PREFIX) && l.master && ourBridges.has(l.master) && !wantedTaps.has(l.ifname))
      removals.push(linkSet(l.ifname, { master: null, up: false }));
  }

  for (const n of networks.values()) {
    const br = links.get(n.bridge);
    if (n.owned) {
      // The bridge only switches: no address of its own, so it sends nothing into the network.
      if (!br) adds.push(addBridge(n.bridge), linkSet(n.bridge, { alias: ownedAlias(n.id), addrgenmode: 'none', up: true }));
      else {
        if (br.ifalias !== ownedAlias(n.id)) adds.push(linkSet(n.bridge, { alias: ownedAlias(n.id) }));
        if (!isUp(br)) adds.push(linkSet(n.bridge, { up: true }));
      }
    }
    const up = n.uplink;
    if (up) {
      let cur = links.get(up.name);
      if (cur && up.kind === 'vxlan') {
        const d = cur.linkinfo?.info_data ?? {};
        const right =
          kindOf(cur) === 'vxlan' &&
          d.id === up.vni &&
          d.local === o.localIp &&
          (d.port ?? 4789) === (o.vxlanPort ?? 4789) &&
          (o.l2Population ? d.learning === false && !d.group : d.group === o.vxlanGroup && d.link === o.vtepDevice);
        if (!right) {
          adds.push(delLink(up.name));
          cur = undefined;
        }
      }
      if (!cur) {
        if (up.kind === 'vxlan') {
          const group = o.l2Population ? undefined : { address: o.vxlanGroup!, dev: o.vtepDevice! };
          adds.push(addVxlan(up.name, up.vni!, o.localIp!, { mtu: n.mtu, dstport: o.vxlanPort, group }));
        }
        if (up.kind === 'vlan') adds.push(addVlan(up.name, up.parent!, up.vid!));
        adds.push(linkSet(up.name, { master: n.bridge, addrgenmode: up.kind === 'physical' ? undefined : 'none', up: true }));
      } else {
        const s: Parameters<typeof linkSet>[1] = {};
        if (cur.master !== n.bridge) s.master = n.bridge;
        if (up.kind === 'vxlan' && cur.mtu !== n.mtu) s.mtu = n.mtu;
        if (!isUp(cur)) s.up = true;
        if (Object.keys(s).length) adds.push(linkSet(up.name, s));
      }
    }
    for (const p of n.ports) {
      const tap = links.get(tapName(p.id));
      if (!tap) continue; // not plugged yet: Nova (or `neutrino vif plug`) creates it
      const s: Parameters<typeof linkSet>[1] = {};
      if (tap.master !== n.bridge) s.master = n.bridge;
      if (tap.mtu !== n.mtu) s.mtu = n.mtu;
      if (isUp(tap) !== p.admin_state_up) s.up = p.admin_state_up;
      if (Object.keys(s).length) adds.push(linkSet(tap.ifname, s));
    }
  }
  return [...removals, ...adds];
}

/** l2population's static entries on each VXLAN device: unicast MACs and one flooding entry per
 * remote VTEP. Only entries with a `dst` (ours) are compared; what the bridge learns is left alone. */
function fdbCommands(state: HostState, networks: Map<string, NetworkPlan>, o: LinuxBridgeOptions, fdb: FdbRow[]): Command[] {
  const out: Command[] = [];
  const actual = new Map<string, Map<string, string[]>>(); // dev → mac → dsts
  for (const r of fdb) {
    if (!r.dst || !r.ifname.startsWith(VXLAN_PREFIX)) continue;
    const macs = actual.get(r.ifname) ?? new Map<string, string[]>();
    actual.set(r.ifname, macs);
    macs.set(r.mac, [...(macs.get(r.mac) ?? []), r.dst]);
  }
  for (const n of networks.values()) {
    if (n.uplink?.kind !== 'vxlan') continue;
    const dev = n.uplink.name;
    const want = new Map<string, Set<string>>(); // mac → dsts
    for (const [vtep, entries] of Object.entries(state.fdb[n.id]?.ports ?? {})) {
      if (vtep === o.localIp) continue;
      for (const [mac] of entries) {
        const m = mac.toLowerCase();
        want.set(m, (want.get(m) ?? new Set()).add(vtep));
      }
    }
    const have = actual.get(dev) ?? new Map<string, string[]>();
    for (const [mac, dsts] of want) {
      const cur = have.get(mac) ?? [];
      const extra = cur.filter((d) => !dsts.has(d));
      const missing = [...dsts].filter((d) => !cur.includes(d));
      if (mac !== ZERO_MAC && missing.length === 1 && extra.length > 0) {
        // A MAC that moved to another VTEP: replace in place, no moment without an entry.
        out.push(fdbReplace(mac, dev, missing[0]));
        extra.shift();
      } else for (const d of missing) out.push(fdbAppend(mac, dev, d));
      for (const d of extra) out.push(fdbDel(mac, dev, d));
    }
    for (const [mac, dsts] of have) if (!want.has(mac)) for (const d of dsts) out.push(fdbDel(mac, dev, d));
  }
  return out;
}

export function plan(state: HostState, o: LinuxBridgeOptions, links: Link[], fdb: FdbRow[]): Plan {
  const byName = new Map(links.map((l) => [l.ifname, l]));
  const { networks, problems } = networkPlans(state, o, byName);
  const ip = linkCommands(networks, o, byName);
  return {
    networks,
    problems,
    ip,
    created: ip.filter((c) => c[0] === 'link' && c[1] === 'add').map((c) => c[c.indexOf('name') + 1]),
    fdb: o.l2Population ? fdbCommands(state, networks, o, fdb) : [],
  };
}

/** Ports whose tap exists on their network's bridge (what the agent reports up). `links` is what
 * the kernel showed; with `applied`, the plan's batch has since succeeded, so a tap that existed is
 * now on its bridge and a planned uplink exists. */
export function wiredPorts(networks: Map<string, NetworkPlan>, links: Link[], applied = false): Set<string> {
  const byName = new Map(links.map((l) => [l.ifname, l]));
  const out = new Set<string>();
  for (const n of networks.values()) {
    if (n.uplink && !applied && !byName.has(n.uplink.name)) continue;
    for (const p of n.ports) {
      const tap = byName.get(tapName(p.id));
      if (tap && (applied || tap.master === n.bridge)) out.add(p.id);
    }
  }
  return out;
}
