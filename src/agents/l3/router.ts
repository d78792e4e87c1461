// One router on this host, made to match its plan (plan.ts): the namespace `qrouter-<id>` with
// forwarding on, a device per port put there by the interface driver (the host's L2 agent wires
// its tap), addresses and routes diffed against what the namespace holds (so a restarted agent
// adopts what its predecessor made: nothing is deleted and made again), the NAT table replaced
// atomically when its hash differs from the one the kernel holds, and gratuitous ARPs for the
// gateway and floating addresses that appear. remove() takes it all away.
import {
  addAddress,
  addNetns,
  Conntrack,
  delAddress,
  delLink,
  delNetns,
  delRoute,
  execRunner,
  Ip,
  Nft,
  netnsExists,
  type Route,
  type Runner,
  replaceRoute,
  sendGratuitousArp,
  setSysctls,
} from '../../system/index.js';
import type { InterfaceDriver } from '../common/interface.js';
import { EXTERNAL_DEV_PREFIX, INTERNAL_DEV_PREFIX, NAT_TABLE, namespaceName } from './names.js';
import { natTable } from './nat.js';
import type { PlannedRoute, RouterPlan } from './plan.js';

export interface RouterOptions {
  /** The namespace standing for this host ([agent] host_namespace); '' = this host. */
  hostNamespace: string;
  driver: InterfaceDriver;
  /** Gratuitous ARPs per new address ([DEFAULT] send_arp_for_ha); 0 = none. */
  garpCount: number;
  log: (msg: string) => void;
  run?: Runner;
}

export interface RouterApplyResult {
  /** Whether the NAT table was written. */
  natWritten: boolean;
  /** IPv4 addresses added to the gateway device (announced by gratuitous ARP). */
  announced: string[];
}

/** Kernel parameters of a router's namespace (Neutron's RouterNamespace). */
const SYSCTLS = {
  'net.ipv4.ip_forward': 1,
  // Removing one address of a subnet keeps the others (the first is the primary).
  'net.ipv4.conf.all.promote_secondaries': 1,
  'net.ipv6.conf.all.forwarding': 1,
  'net.ipv6.conf.default.forwarding': 1,
  // Addresses are set, not learnt.
  'net.ipv6.conf.all.accept_ra': 0,
  'net.ipv6.conf.default.accept_ra': 0,
};

/** The port id part of a router device's name (`qr-`/`qg-` + the id's first 11 characters), which
 * its tap's name (`tap` + the same) shares. */
const idOf = (ifname: string) => ifname.slice(3);
const ownDevice = (name: string) => name.startsWith(INTERNAL_DEV_PREFIX) || name.startsWith(EXTERNAL_DEV_PREFIX);
const routeKey = (r: { destination: string; via?: string }) => `${r.destination} via ${r.via ?? ''}`;

/** A route read back from `ip -j route`, in the plan's terms. */
function readRoute(r: Route, family: 4 | 6): { destination: string; via?: string; family: 4 | 6 } {
  const host = family === 4 ? '/32' : '/128';
  const destination = r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}${host}`;
  return { destination, via: r.gateway, family };
}

export class RouterKernel {
  readonly namespace: string;
  /** Devices this run plugged (ifname → port id), so an unchanged one is not plugged again. */
  private readonly plugged = new Map<string, string>();
  /** What the last apply made (to skip reading the kernel when nothing changed). */
  private ipKey = '';
  private natHash = '';
  private readonly arps = new Set<Promise<void>>();

  constructor(
    readonly id: string,
    private readonly o: RouterOptions,
  ) {
    this.namespace = namespaceName(id, o.hostNamespace);
  }

  private get run(): Runner {
    return this.o.run ?? execRunner;
  }

  private ip(): Ip {
    return new Ip({ netns: this.namespace, run: this.run });
  }

  /** Makes the router match `plan`; `verify` reads the kernel's side whatever the last apply did. */
  async apply(plan: RouterPlan, verify: boolean): Promise<RouterApplyResult> {
    const ipKey = JSON.stringify([plan.devices, plan.routes]);
    let announced: string[] = [];
    if (verify || ipKey !== this.ipKey) {
      this.ipKey = '';
      if (!(await netnsExists(this.namespace, this.run))) await addNetns(this.namespace, this.run);
      if (verify || !this.plugged.size) await setSysctls(this.namespace, SYSCTLS, this.run);
      await this.plugDevices(plan, verify);
      announced = await this.setAddresses(plan);
      await this.setRoutes(plan.routes);
      this.ipKey = ipKey;
    }
    const natWritten = await this.setNat(plan, verify);
    if (announced.length && plan.gateway && this.o.garpCount > 0) this.announce(plan.gateway.ifname, announced);
    return { natWritten, announced };
  }

  private async plugDevices(plan: RouterPlan, verify: boolean): Promise<void> {
    const hostNetns = this.o.hostNamespace || undefined;
    for (const d of plan.devices) {
      if (!verify && this.plugged.get(d.ifname) === d.portId) continue;
      await this.o.driver.plug({ portId: d.portId, mac: d.mac, mtu: d.mtu, netns: this.namespace, ifname: d.ifname, hostNetns });
      this.plugged.set(d.ifname, d.portId);
    }
    // Devices of ports the router no longer has (an interface removed, the gateway cleared).
    const want = new Set(plan.devices.map((d) => d.ifname));
    const ip = this.ip();
    for (const l of await ip.links()) {
      if (!ownDevice(l.ifname) || want.has(l.ifname)) continue;
      this.plugged.delete(l.ifname);
      // Deleting the namespace's end of the veth removes the host's tap too; the driver removes
      // the rest (an OVS port), found by the port id's first 11 characters the names share.
      await ip.batch([delLink(l.ifname)], { force: false });
      await this.o.driver.unplug({ portId: idOf(l.ifname), hostNetns });
      this.o.log(`router ${this.id}: device ${l.ifname} removed`);
    }
  }

  /** Diffs each device's addresses; returns the IPv4 addresses added to the gateway device. */
  private async setAddresses(plan: RouterPlan): Promise<string[]> {
    const ip = this.ip();
    const have = new Map(
      (await ip.addresses()).map((l) => [
        l.ifname,
        l.addr_info.filter((a) => !(a.family === 'inet6' && a.local.startsWith('fe80:'))).map((a) => `${a.local}/${a.prefixlen}`),
      ]),
    );
    const cmds = [];
    const added: string[] = [];
    const gone: string[] = [];
    for (const d of plan.devices) {
      const current = have.get(d.ifname) ?? [];
      for (const a of current) {
        if (d.addresses.includes(a)) continue;
        cmds.push(delAddress(a, d.ifname));
        if (d.external && a.endsWith('/32')) gone.push(a.split('/')[0]);
      }
      for (const a of d.addresses) {
        if (current.includes(a)) continue;
        cmds.push(addAddress(a, d.ifname));
        if (d.external && !a.includes(':')) added.push(a.split('/')[0]);
      }
    }
    await ip.batch(cmds);
    // A floating address gone: its connections go too, both ways (Neutron's
    // delete_addr_and_conntrack_state), or an established one would outlive the association.
    const ct = new Conntrack({ netns: this.namespace, run: this.run });
    for (const a of gone) {
      await ct.delete({ dst: a });
      await ct.delete({ replyDst: a });
    }
    return added;
  }

  private async setRoutes(routes: PlannedRoute[]): Promise<void> {
    const ip = this.ip();
    const have = [...(await ip.routes(4)).map((r) => readRoute(r, 4)), ...(await ip.routes(6)).map((r) => readRoute(r, 6))];
    const want = new Set(routes.map(routeKey));
    const haveKeys = new Set(have.map(routeKey));
    const cmds = [
      ...have.filter((r) => !want.has(routeKey(r))).map((r) => delRoute(r.destination, { via: r.via, six: r.family === 6 })),
      ...routes.filter((r) => !haveKeys.has(routeKey(r))).map((r) => replaceRoute(r.destination, { via: r.via, dev: r.dev })),
    ];
    await ip.batch(cmds);
  }

  /** Replaces the NAT table unless the kernel holds this very one (its comment is the hash). */
  private async setNat(plan: RouterPlan, verify: boolean): Promise<boolean> {
    const table = natTable(plan);
    if (!verify && table.hash === this.natHash) return false;
    const nft = new Nft({ netns: this.namespace, run: this.run });
    if ((await nft.tableComment('ip', NAT_TABLE)) === table.hash) {
      this.natHash = table.hash;
      return false;
    }
    this.natHash = '';
    await nft.replaceTable('ip', NAT_TABLE, table.body, table.hash);
    this.natHash = table.hash;
    return true;
  }

  /** Gratuitous ARPs in the background (arping takes a second per packet); stop() waits for them. */
  private announce(dev: string, addresses: string[]): void {
    for (const a of addresses) {
      const p = sendGratuitousArp(this.namespace, dev, a, this.o.garpCount, this.run)
        .catch((err) => this.o.log(`router ${this.id}: gratuitous ARP for ${a}: ${(err as Error).message}`))
        .finally(() => this.arps.delete(p));
      this.arps.add(p);
    }
  }

  /** Takes the router away from this host: its devices (and their taps), its namespace. */
  async remove(): Promise<void> {
    await this.settle();
    const devices = new Set(this.plugged.keys());
    if (await netnsExists(this.namespace, this.run)) {
      const ip = this.ip();
      const found = (await ip.links()).filter((l) => ownDevice(l.ifname)).map((l) => l.ifname);
      if (found.length) await ip.batch(found.map((d) => delLink(d)));
      for (const d of found) devices.add(d);
      await delNetns(this.namespace, this.run);
    }
    const hostNetns = this.o.hostNamespace || undefined;
    for (const d of devices) await this.o.driver.unplug({ portId: idOf(d), hostNetns });
    this.plugged.clear();
    this.ipKey = '';
    this.natHash = '';
  }

  /** Waits for the gratuitous ARPs under way. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.arps]);
  }
}
