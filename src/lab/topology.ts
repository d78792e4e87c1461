// A throwaway lab of simulated hosts on one machine: an underlay namespace holding a bridge, and
// per host a namespace linked to it by a veth with the host's tunnel address (192.0.2.x/24, TEST-NET-1,
// only ever inside the lab's namespaces). A second bridge there, `provider`, links every host's
// `eth1` (no address): the physical network a flat or VLAN provider network maps to. Every name starts with the lab's prefix, so `destroy()`
// removes the whole lab — hosts, VMs, links — by deleting the namespaces that carry it.
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
} from '../system/index.js';

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
}

const UNDERLAY_BRIDGE = 'underlay';
const HOST_UPLINK = 'eth0';
const PROVIDER_BRIDGE = 'provider';
const HOST_PROVIDER = 'eth1';

export class LabTopology {
  readonly underlay: string;
  readonly hosts: LabHost[] = [];

  /** `prefix`: unique per lab (e.g. `nt-1a2b3c`), at most 40 characters of [A-Za-z0-9_.-]. */
  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_.-]{1,40}$/.test(prefix)) throw new Error(`bad lab prefix: ${prefix}`);
    this.underlay = `${prefix}-underlay`;
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
  async addHost(index: number, name = `${this.prefix}-h${index}`): Promise<LabHost> {
    if (!Number.isInteger(index) || index < 1 || index > 200) throw new Error(`host index ${index} out of range`);
    const host: LabHost = {
      name,
      netns: `${this.prefix}-h${index}`,
      localIp: `192.0.2.${10 + index}`,
      uplink: HOST_UPLINK,
      provider: HOST_PROVIDER,
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
    return host;
  }

  /** Deletes every namespace of the lab (hosts, VMs, underlay); their links go with them. */
  async destroy(): Promise<void> {
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
