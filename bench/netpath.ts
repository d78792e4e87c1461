// bench/wiring.ts's helpers for throughput and loss: iperf3 between two namespaces, the same paths built
// by hand (a bridge on one host; vxlan devices with static FDB entries across two hosts on the lab's
// underlay) and a continuous ping. Everything runs inside the caller's namespaces; processes are ended
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
