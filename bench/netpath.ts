// The benches' helpers for throughput and loss: iperf3 between two namespaces, the same paths built
// by hand (a bridge on one host; vxlan devices with static FDB entries across two hosts on the lab's
// underlay; a VM routed to an outside namespace through a router namespace's SNAT) and a continuous ping. Everything runs inside the caller's namespaces; processes are ended
// by their PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { execRunner } from '../src/system/index.js';

async function sh(args: string[], timeoutMs = 30_000): Promise<string> {
  const r = await execRunner(args[0], args.slice(1), { timeoutMs });
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}
const ipn = (ns: string, ...args: string[]) => sh(['ip', '-n', ns, ...args]);

/** Turns off TX checksum offload on veth `dev` in `ns` (TCP over veths may stall otherwise). */
export const txOff = (ns: string, dev: string) => sh(['ip', 'netns', 'exec', ns, 'ethtool', '-K', dev, 'tx', 'off']);

/** iperf3 from `client` to a server in `server` listening on `address`; Mbit/s received. */
export async function iperf(server: string, client: string, address: string, seconds = 5): Promise<number> {
  const srv = spawn('ip', ['netns', 'exec', server, 'iperf3', '-s', '-1', '-p', '5201'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const out = await sh(
      [
        'ip',
        'netns',
        'exec',
        client,
        'iperf3',
        '-c',
        address,
        '-p',
        '5201',
        '-t',
        String(seconds),
        '-J',
        '--connect-timeout',
        '3000',
      ],
      (seconds + 15) * 1000,
    );
    return JSON.parse(out).end.sum_received.bits_per_second / 1e6;
  } finally {
    end(srv);
  }
}

/** iperf3 on each of `paths` ([server namespace, client namespace, server address]) once a round,
 * interleaved for `rounds` rounds of `seconds` each, so a change in the machine's load hits them
 * alike; Mbit/s per path and round. */
export async function iperfRounds(paths: Array<[string, string, string]>, rounds: number, seconds: number): Promise<number[][]> {
  const mbit: number[][] = paths.map(() => []);
  for (let k = 0; k < rounds; k++)
    for (const [i, [server, client, address]] of paths.entries()) mbit[i].push(await iperf(server, client, address, seconds));
  return mbit;
}

function end(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) {
    try {
      process.kill(p.pid, signal);
    } catch {
      // gone already
    }
  }
}

/** A VM namespace `vm` on a veth (MTU `mtu`) whose host end `hostDev` sits on bridge `br` in `host`. */
async function vmOn(host: string, br: string, vm: string, hostDev: string, cidr: string, mtu: number): Promise<void> {
  await sh(['ip', 'netns', 'add', vm]);
  await ipn(host, 'link', 'add', hostDev, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vm);
  await ipn(host, 'link', 'set', hostDev, 'master', br, 'up');
  await ipn(vm, 'link', 'set', 'eth0', 'mtu', String(mtu), 'up');
  await ipn(vm, 'link', 'set', 'lo', 'up');
  await ipn(vm, 'addr', 'add', cidr, 'dev', 'eth0');
}

/** The hand-made paths, every namespace named `<prefix>-…`; remove() deletes them (also half-built). */
export class HandMade {
  readonly made: string[] = [];
  constructor(readonly prefix: string) {}

  private async netns(name: string): Promise<string> {
    const ns = `${this.prefix}-${name}`;
    this.made.push(ns);
    await sh(['ip', 'netns', 'add', ns]);
    return ns;
  }

  /** One host: a bridge and two VMs on it; returns [vmA, vmB, address of vmB]. */
  async oneHost(mtu: number): Promise<[string, string, string]> {
    const h = await this.netns('h1');
    await ipn(h, 'link', 'add', 'br0', 'type', 'bridge');
    await ipn(h, 'link', 'set', 'br0', 'up');
    const a = `${this.prefix}-va`;
    const b = `${this.prefix}-vb`;
    this.made.push(a, b);
    await vmOn(h, 'br0', a, 'tapa', '10.99.0.1/24', mtu);
    await vmOn(h, 'br0', b, 'tapb', '10.99.0.2/24', mtu);
    return [a, b, '10.99.0.2'];
  }

  /** Two hosts on the lab's `underlay` bridge (namespace `underlayNs`), each a bridge with a vxlan
   * device (static FDB to the other host, no learning) and one VM; returns [vmA, vmB, address of vmB]. */
  async twoHosts(underlayNs: string, mtu: number): Promise<[string, string, string]> {
    const vms: string[] = [];
    const ips = ['192.0.2.201', '192.0.2.202'];
    const macs = ['02:99:00:00:00:01', '02:99:00:00:00:02'];
    const hosts: string[] = [];
    for (const i of [0, 1]) {
      const h = await this.netns(`x${i}`);
      hosts.push(h);
      const up = `hm${this.prefix.slice(-4)}${i}`;
      await ipn(underlayNs, 'link', 'add', up, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h);
      await ipn(underlayNs, 'link', 'set', up, 'master', 'underlay', 'up');
      await ipn(h, 'addr', 'add', `${ips[i]}/24`, 'dev', 'eth0');
      await ipn(h, 'link', 'set', 'eth0', 'up');
      await ipn(h, 'link', 'add', 'vx', 'type', 'vxlan', 'id', '4242', 'local', ips[i], 'dstport', '4789', 'nolearning');
      await ipn(h, 'link', 'add', 'br0', 'type', 'bridge');
      await ipn(h, 'link', 'set', 'vx', 'master', 'br0', 'up');
      await ipn(h, 'link', 'set', 'br0', 'up');
      const vm = `${this.prefix}-x${i}vm`;
      this.made.push(vm);
      await vmOn(h, 'br0', vm, 'tap', `10.99.1.${i + 1}/24`, mtu);
      await ipn(vm, 'link', 'set', 'eth0', 'address', macs[i]);
      vms.push(vm);
    }
    for (const i of [0, 1]) {
      const other = 1 - i;
      await sh(['bridge', '-n', hosts[i], 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx', 'dst', ips[other]]);
      await sh(['bridge', '-n', hosts[i], 'fdb', 'append', macs[other], 'dev', 'vx', 'dst', ips[other]]);
    }
    return [vms[0], vms[1], '10.99.1.2'];
  }

  /** bench/l3.ts's path, the lab's host's device kinds: a VM on a veth to a tenant bridge (MTU
   * `tenantMtu`) in a host namespace, a router namespace (forwarding on, one nft SNAT rule to its
   * gateway address) on a veth to that bridge and on another to an external bridge, the host's
   * uplink veth from that bridge to a provider bridge in a wire namespace, and an outside namespace
   * on a veth to it holding 203.0.113.1 (external MTU `externalMtu`). The tenant bridge carries no
   * vxlan device: a one-host path never crosses it. Returns [VM, outside, outside's address]. */
  async routed(tenantMtu: number, externalMtu: number): Promise<[string, string, string]> {
    const host = await this.netns('rh');
    const wire = await this.netns('rw');
    const router = await this.netns('rr');
    const outside = await this.netns('ro');
    for (const br of ['brt', 'bre']) {
      await ipn(host, 'link', 'add', br, 'type', 'bridge');
      await ipn(host, 'link', 'set', br, 'addrgenmode', 'none', 'up');
    }
    await ipn(wire, 'link', 'add', 'provider', 'type', 'bridge');
    await ipn(wire, 'link', 'set', 'provider', 'addrgenmode', 'none', 'up');
    const vm = `${this.prefix}-rv`;
    this.made.push(vm);
    await vmOn(host, 'brt', vm, 'tapvm', '10.97.0.10/24', tenantMtu);
    await ipn(vm, 'route', 'add', 'default', 'via', '10.97.0.1');
    // The router's legs: veths whose host ends sit on the bridges, as the interface driver makes them.
    for (const [dev, br, mtu, cidr] of [
      ['qr', 'brt', tenantMtu, '10.97.0.1/24'],
      ['qg', 'bre', externalMtu, '203.0.113.50/24'],
    ] as const) {
      await ipn(host, 'link', 'add', `tap${dev}`, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', dev, 'netns', router);
      await ipn(host, 'link', 'set', `tap${dev}`, 'master', br, 'up');
      await ipn(router, 'link', 'set', dev, 'mtu', String(mtu), 'up');
      await ipn(router, 'addr', 'add', cidr, 'dev', dev);
    }
    await ipn(router, 'link', 'set', 'lo', 'up');
    await ipn(router, 'route', 'add', 'default', 'via', '203.0.113.1');
    await sh(['ip', 'netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const nft = (...args: string[]) => sh(['ip', 'netns', 'exec', router, 'nft', ...args]);
    await nft('add', 'table', 'ip', 'hm');
    await nft('add', 'chain', 'ip', 'hm', 'post', '{ type nat hook postrouting priority srcnat; }');
    await nft('add', 'rule', 'ip', 'hm', 'post', 'oifname', '"qg"', 'snat', 'to', '203.0.113.50');
    // The host's uplink on the provider bridge, and outside on it.
    await ipn(wire, 'link', 'add', 'p1', 'mtu', String(externalMtu), 'type', 'veth', 'peer', 'name', 'eth1', 'netns', host);
    await ipn(wire, 'link', 'set', 'p1', 'master', 'provider', 'up');
    await ipn(host, 'link', 'set', 'eth1', 'master', 'bre', 'up');
    await ipn(wire, 'link', 'add', 'po', 'mtu', String(externalMtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside);
    await ipn(wire, 'link', 'set', 'po', 'master', 'provider', 'up');
    await ipn(outside, 'link', 'set', 'eth0', 'up');
    await ipn(outside, 'link', 'set', 'lo', 'up');
    await ipn(outside, 'addr', 'add', '203.0.113.1/24', 'dev', 'eth0');
    return [vm, outside, '203.0.113.1'];
  }

  async remove(): Promise<void> {
    for (const ns of this.made.reverse()) await execRunner('ip', ['netns', 'del', ns]).catch(() => undefined);
    this.made.length = 0;
  }
}

/** A continuous `ping -i 0.01` from `vm` to `address`; stop() ends it (SIGINT, by PID) and returns its counts. */
export function pingFlood(vm: string, address: string): { stop(): Promise<{ sent: number; received: number }> } {
  const p = spawn('ip', ['netns', 'exec', vm, 'ping', '-i', '0.01', '-q', '-W', '1', address], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  p.stdout?.on('data', (d) => {
    out += d;
  });
  const done = new Promise<void>((r) => p.on('close', () => r()));
  return {
    async stop() {
      end(p, 'SIGINT');
      const t = setTimeout(() => end(p, 'SIGKILL'), 5000);
      await done;
      clearTimeout(t);
      const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
      if (!m) throw new Error(`ping gave no summary: ${out}`);
      return { sent: Number(m[1]), received: Number(m[2]) };
    },
  };
}

/** The same paths on Open vSwitch, built by hand on the lab's OVS hosts (their own ovsdb-server and
 * ovs-vswitchd): a standalone bridge `br-hm` (NORMAL switching, no agent flows) with VM veths (TX
 * checksum offload off, as vif plug does on the userspace datapath), and for two hosts a VXLAN port
 * with a fixed key to the other host's VTEP; remove() deletes the bridges and VM namespaces. */
export class HandMadeOvs {
  private readonly bridges: Array<{ ovsdb: string }> = [];
  private readonly vms: string[] = [];
  constructor(readonly prefix: string) {}

  private vsctl(ovsdb: string, ...args: string[]): Promise<string> {
    return sh(['ovs-vsctl', `--db=${ovsdb}`, '--timeout=20', ...args]);
  }

  private async bridge(ovsdb: string): Promise<void> {
    await this.vsctl(ovsdb, '--may-exist', 'add-br', 'br-hm', '--', 'set', 'bridge', 'br-hm', 'datapath_type=netdev');
    this.bridges.push({ ovsdb });
  }

  private async vm(
    host: { netns: string; ovsdb: string },
    name: string,
    dev: string,
    cidr: string,
    mtu: number,
  ): Promise<string> {
    const vm = `${this.prefix}-${name}`;
    await sh(['ip', 'netns', 'add', vm]);
    this.vms.push(vm);
    await ipn(host.netns, 'link', 'add', dev, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vm);
    await ipn(host.netns, 'link', 'set', dev, 'up');
    await txOff(host.netns, dev);
    await txOff(vm, 'eth0');
    await ipn(vm, 'link', 'set', 'eth0', 'mtu', String(mtu), 'up');
    await ipn(vm, 'link', 'set', 'lo', 'up');
    await ipn(vm, 'addr', 'add', cidr, 'dev', 'eth0');
    await this.vsctl(host.ovsdb, 'add-port', 'br-hm', dev);
    return vm;
  }

  async oneHost(host: { netns: string; ovsdb: string }, mtu: number): Promise<[string, string, string]> {
    await this.bridge(host.ovsdb);
    const a = await this.vm(host, 'oa', 'hma', '10.98.0.1/24', mtu);
    const b = await this.vm(host, 'ob', 'hmb', '10.98.0.2/24', mtu);
    return [a, b, '10.98.0.2'];
  }

  /** `hosts`: the lab's two OVS hosts (their VTEPs are on br-phy). */
  async twoHosts(
    hosts: Array<{ netns: string; ovsdb: string; localIp: string }>,
    mtu: number,
  ): Promise<[string, string, string]> {
    const vms: string[] = [];
    for (const i of [0, 1]) {
      const h = hosts[i];
      await this.bridge(h.ovsdb);
      const remote = hosts[1 - i].localIp;
      await this.vsctl(
        h.ovsdb,
        'add-port',
        'br-hm',
        'vxhm',
        '--',
        'set',
        'interface',
        'vxhm',
        'type=vxlan',
        `options:remote_ip=${remote}`,
        `options:local_ip=${h.localIp}`,
        'options:key=4242',
      );
      vms.push(await this.vm(h, `ox${i}`, `hmx${i}`, `10.98.1.${i + 1}/24`, mtu));
    }
    return [vms[0], vms[1], '10.98.1.2'];
  }

  async remove(): Promise<void> {
    for (const b of this.bridges.splice(0)) await execRunner('ovs-vsctl', [`--db=${b.ovsdb}`, '--if-exists', 'del-br', 'br-hm']);
    for (const vm of this.vms.splice(0)) await execRunner('ip', ['netns', 'del', vm]).catch(() => undefined);
  }
}
