// Neutron's interface driver: puts a port's device into a namespace the agent owns (the DHCP
// agent's qdhcp-, the L3 agent's qrouter-), the way Nova/os-vif plugs a VM. On a Linux bridge host
// it is a veth: `tap<port-id[:11]>` stays on the host, where the L2 agent wires it like any VM's
// tap once the port is bound to the host, and the other end, named by the caller (`ns-…`, `qr-…`,
// `qg-…`), sits in the target namespace with the port's MAC and MTU. Addresses are the caller's
// business (Neutron's init_l3). On an Open vSwitch host (OvsVethInterfaceDriver, Neutron's
// OVSInterfaceDriver with ovs_use_veth) the tap also becomes a port of the integration bridge with
// the external_ids the OVS agent recognises a port by.

import { addNetns, addVeth, delLink, Ip, linkSet, netnsExists, txChecksumOff } from '../../system/index.js';
import { tapName } from '../linuxbridge/names.js';
import { plugOvsPort, unplugOvsPort, withVSwitch } from '../openvswitch/plug.js';

export interface PlugOptions {
  portId: string;
  mac: string;
  mtu: number;
  /** The namespace the device goes into (created when missing). */
  netns: string;
  /** The device's name there (at most 15 characters). */
  ifname: string;
  /** The (simulated) host's namespace, where the tap stays; default: this one. */
  hostNetns?: string;
}

export interface InterfaceDriver {
  /** Creates the device unless it exists; brings both ends up. Idempotent. */
  plug(o: PlugOptions): Promise<void>;
  /** Removes the device (both ends); a missing one is fine. */
  unplug(o: Pick<PlugOptions, 'portId' | 'hostNetns'>): Promise<void>;
  /** Whether the device's host end exists. */
  plugged(o: Pick<PlugOptions, 'portId' | 'hostNetns'>): Promise<boolean>;
}

/** The veth driver of Linux bridge hosts (Neutron's BridgeInterfaceDriver). */
export class VethInterfaceDriver implements InterfaceDriver {
  async plug(o: PlugOptions): Promise<void> {
    const host = new Ip({ netns: o.hostNetns });
    const tap = tapName(o.portId);
    if (!(await netnsExists(o.netns))) await addNetns(o.netns);
    const inside = new Ip({ netns: o.netns });
    if ((await host.link(tap)) && (await inside.link(o.ifname))) {
      await inside.batch([linkSet(o.ifname, { mtu: o.mtu, up: true })], { force: false });
      await this.attach(host, tap, o);
      return;
    }
    // A half-made pair (an agent killed mid-plug) is made again from scratch.
    if (await host.link(tap)) await host.batch([delLink(tap)], { force: false });
    if (await inside.link(o.ifname)) await inside.batch([delLink(o.ifname)], { force: false });
    // The peer is made on the host under a temporary name, moved, then renamed inside: a name free
    // in the target namespace may be taken on the host.
    const temp = `nt${o.portId.slice(0, 11)}`;
    await host.batch([addVeth(tap, temp, { mtu: o.mtu }), linkSet(temp, { netns: o.netns }), linkSet(tap, { up: true })], {
      force: false,
    });
    await inside.batch([linkSet(temp, { name: o.ifname, address: o.mac, mtu: o.mtu, up: true }), linkSet('lo', { up: true })], {
      force: false,
    });
    await this.attach(host, tap, o);
  }

  /** What the host's L2 backend needs beyond the tap existing; Linux bridge: nothing (its agent
   * puts the tap on the network's bridge when the port is bound here). */
  protected async attach(_host: Ip, _tap: string, _o: PlugOptions): Promise<void> {}

  async unplug(o: Pick<PlugOptions, 'portId' | 'hostNetns'>): Promise<void> {
    const host = new Ip({ netns: o.hostNetns });
    const tap = tapName(o.portId);
    if (await host.link(tap)) await host.batch([delLink(tap)], { force: false });
  }

  async plugged(o: Pick<PlugOptions, 'portId' | 'hostNetns'>): Promise<boolean> {
    return (await new Ip({ netns: o.hostNetns }).link(tapName(o.portId))) !== undefined;
  }
}

export interface OvsInterfaceOptions {
  /** The host's ovsdb-server (unix:PATH or tcp:HOST:PORT). */
  ovsdb: string;
  /** The integration bridge ([ovs] integration_bridge). */
  bridge: string;
  /** netdev (userspace datapath): TX checksum offload is turned off on both ends of the veth. */
  datapathType: string;
}

/** The driver of Open vSwitch hosts: the veth, its host end a port of the integration bridge. */
export class OvsVethInterfaceDriver extends VethInterfaceDriver {
  constructor(private readonly ovs: OvsInterfaceOptions) {
    super();
  }

  protected override async attach(host: Ip, tap: string, o: PlugOptions): Promise<void> {
    await withVSwitch(this.ovs.ovsdb, (vs) =>
      plugOvsPort(vs, { bridge: this.ovs.bridge, device: tap, portId: o.portId, mac: o.mac }),
    );
    if (this.ovs.datapathType === 'netdev') {
      await txChecksumOff(tap, { netns: host.netns });
      await txChecksumOff(o.ifname, { netns: o.netns });
    }
  }

  override async unplug(o: Pick<PlugOptions, 'portId' | 'hostNetns'>): Promise<void> {
    await withVSwitch(this.ovs.ovsdb, (vs) => unplugOvsPort(vs, tapName(o.portId)));
    await super.unplug(o);
  }
}
