// A throwaway lab of simulated hosts on one machine: an underlay namespace holding a bridge, and
// per host a namespace linked to it by a veth with the host's tunnel address (192.0.2.x/24, TEST-NET-1,
// only ever inside the lab's namespaces). A second bridge there, `provider`, links every host's
// `eth1` (no address): the physical network a flat or VLAN provider network maps to. The `outside`
// namespace, plugged into that bridge too, stands for the internet: it holds the public network's
// gateway address (outside.ts). Every name starts with the lab's prefix, so `destroy()`
// removes the whole lab — hosts, VMs, links — by deleting the namespaces that carry it. An Open
// vSwitch host also runs its own ovsdb-server/ovs-vswitchd (ovs.ts, files under the lab's directory),
// with its VTEP address on br-phy and eth1 in br-eth1; destroy() stops them first.
import { join } from 'node:path';
import {
  addAddress,
  addBridge,
  addNetns,
  addVeth,
  delNetns,
  Ip,
  killProcess,
  linkSet,
  listNetns,
  netnsPids,
  txChecksumOff,
} from '../system/index.js';
import { setupOvsHost, startOvs, stopLabOvs } from './ovs.js';

/** The L2 agent a simulated host runs. */
export type L2Kind = 'linuxbridge' | 'openvswitch';
export const L2_KINDS: readonly L2Kind[] = ['linuxbridge', 'openvswitch'];

export interface LabHost {
  /** The host name agents report and ports are bound to. */
  name: string;
  netns: string;
  /** Its VTEP address on the underlay. */
  localIp: string;
  /** Its underlay interface (inside its namespace). */
  uplink: string;
  /** Its interface on the lab's flat provider network (inside its namespace, for
   * `physical_interface_mappings`): every host's is on one bridge in the underlay namespace. */
  provider: string;
  /** Its L2 agent (default linuxbridge). */
  l2?: L2Kind;
  /** Open vSwitch hosts: the OVSDB connection of its ovsdb-server, and ovs-vswitchd's run directory. */
  ovsdb?: string;
  ovsRundir?: string;
}

const UNDERLAY_BRIDGE = 'underlay';
const HOST_UPLINK = 'eth0';
const PROVIDER_BRIDGE = 'provider';
const HOST_PROVIDER = 'eth1';
const OUTSIDE_PORT = 'outside';

export class LabTopology {
  readonly underlay: string;
  readonly hosts: LabHost[] = [];

  /** `prefix`: unique per lab (e.g. `nt-1a2b3c`), at most 40 characters of [A-Za-z0-9_.-];
   * `dir`: where Open vSwitch hosts keep their daemons' files (needed for them). */
  constructor(
    readonly prefix: string,
    readonly dir?: string,
  ) {
    if (!/^[A-Za-z0-9_.-]{1,40}$/.test(prefix)) throw new Error(`bad lab prefix: ${prefix}`);
    this.underlay = `${prefix}-underlay`;
  }

  /** The namespace of the lab's outside world (the internet beyond the public network). */
  get outsideNetns(): string {
    return `${this.prefix}-outside`;
  }

  /** The namespace name of a VM of this lab. */
  vmNetns(name: string): string {
    if (!/^[A-Za-z0-9_.-]{1,20}$/.test(name)) throw new Error(`bad VM name: ${name}`);
    return `${this.prefix}-vm-${name}`;
  }

  async createUnderlay(): Promise<void> {
    await addNetns(this.underlay);
    await new Ip({ netns: this.underlay }).batch(
      [
        addBridge(UNDERLAY_BRIDGE),
        linkSet(UNDERLAY_BRIDGE, { up: true }),
        addBridge(PROVIDER_BRIDGE),
        linkSet(PROVIDER_BRIDGE, { addrgenmode: 'none', up: true }),
      ],
      { force: false },
    );
  }

  /** Adds host number `index` (1…200): namespace `<prefix>-h<index>`, address 192.0.2.<10+index>. */
  async addHost(index: number, name = `${this.prefix}-h${index}`, l2: L2Kind = 'linuxbridge'): Promise<LabHost> {
    if (!Number.isInteger(index) || index < 1 || index > 200) throw new Error(`host index ${index} out of range`);
    const host: LabHost = {
      name,
      netns: `${this.prefix}-h${index}`,
      localIp: `192.0.2.${10 + index}`,
      uplink: HOST_UPLINK,
      provider: HOST_PROVIDER,
      l2,
    };
    await addNetns(host.netns);
    const port = `h${index}`;
    await new Ip({ netns: this.underlay }).batch(
      [
        addVeth(port, HOST_UPLINK, { peerNetns: host.netns }),
        linkSet(port, { master: UNDERLAY_BRIDGE, up: true }),
        addVeth(`p${index}`, HOST_PROVIDER, { peerNetns: host.netns }),
        linkSet(`p${index}`, { master: PROVIDER_BRIDGE, up: true }),
      ],
      { force: false },
    );
    await new Ip({ netns: host.netns }).batch(
      [addAddress(`${host.localIp}/24`, HOST_UPLINK), linkSet(HOST_UPLINK, { up: true })],
      {
        force: false,
      },
    );
    this.hosts.push(host);
    if (l2 === 'openvswitch') {
      if (!this.dir) throw new Error('an Open vSwitch host needs the lab directory (LabTopology dir)');
      // Frames reaching ovs-vswitchd (AF_PACKET) must carry complete checksums: a checksum left to
      // offload by another host's kernel (a Linux bridge host's VXLAN packets) is otherwise seen
      // as bad and dropped. Without TX offload on the underlay's ends, the kernel completes them.
      for (const [dev, ns] of [
        [port, this.underlay],
        [`p${index}`, this.underlay],
        [HOST_UPLINK, host.netns],
        [HOST_PROVIDER, host.netns],
      ])
        await txChecksumOff(dev, { netns: ns });
      const d = await startOvs(join(this.dir, `ovs-h${index}`), host.netns);
      host.ovsdb = d.db;
      host.ovsRundir = d.rundir;
      await setupOvsHost(d, host.netns, HOST_UPLINK, `${host.localIp}/24`, HOST_PROVIDER);
    }
    return host;
  }

  /** The outside world: namespace `<prefix>-outside` on the provider bridge (physnet1, where the
   * lab's public network is), its `eth0` holding `address` (a CIDR). TX checksum offload is off on
   * both ends: an Open vSwitch host reads the provider bridge's frames with AF_PACKET (see addHost). */
  async addOutside(address: string): Promise<string> {
    const netns = this.outsideNetns;
    await addNetns(netns);
    await new Ip({ netns: this.underlay }).batch(
      [addVeth(OUTSIDE_PORT, HOST_UPLINK, { peerNetns: netns }), linkSet(OUTSIDE_PORT, { master: PROVIDER_BRIDGE, up: true })],
      { force: false },
    );
    await new Ip({ netns }).batch([addAddress(address, HOST_UPLINK), linkSet(HOST_UPLINK, { up: true })], { force: false });
    await txChecksumOff(OUTSIDE_PORT, { netns: this.underlay });
    await txChecksumOff(HOST_UPLINK, { netns });
    return netns;
  }

  /** Stops the Open vSwitch daemons, then deletes every namespace of the lab (hosts, VMs,
   * underlay); their links go with them. */
  async destroy(): Promise<void> {
    if (this.dir) await stopLabOvs(this.dir);
    await destroyLab(this.prefix);
  }
}

/** Removes the namespaces of the lab named `prefix` (also one left by a crashed run), after
 * stopping, by PID, the processes the lab started in them (dnsmasq in its DHCP namespaces, the VMs'
 * DHCP clients): a namespace lives on as long as a process holds it. */
export async function destroyLab(prefix: string): Promise<void> {
  const namespaces = (await listNetns()).filter((ns) => ns === prefix || ns.startsWith(`${prefix}-`));
  const pids = (await Promise.all(namespaces.map((ns) => netnsPids(ns)))).flat();
  await Promise.all(pids.map((pid) => killProcess(pid, 2000)));
  for (const ns of namespaces) await delNetns(ns);
}
