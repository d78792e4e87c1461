// The data path's latencies and throughput, the Linux bridge agent and the Open vSwitch agent side by
// side (issues 5 and 12): for each of --l2 (default both) a lab of two simulated hosts running that
// agent (src/lab: server and agents in this process, hosts and VMs in namespaces; OVS hosts with their
// own ovsdb-server/ovs-vswitchd on the userspace datapath; needs root), measuring:
//  - plug → ACTIVE and plug → first ping: `vif plug` of a VM on host 1 (tap, binding, agent wiring,
//    port ACTIVE), then pings to a VM on host 2 until one answers; p50/p99 over --samples VMs;
//  - bound port: tap → ACTIVE: a port bound to host 1 first, then its tap created (Nova's order; on
//    OVS also added to br-int with its iface-id, as os-vif does), until the port is ACTIVE: how soon
//    the agent notices a new tap;
//  - convergence: --ports taps bound at once (concurrency 16) until every port is ACTIVE;
//  - restart: host 1's agent replaced by a new one; time to its first reconcile and what that
//    reconcile changed (nothing, on a converged host), and what a continuous `ping -i 0.01` from a VM on
//    host 1 to one on host 2 lost meanwhile;
//  - throughput: iperf3 VM↔VM on one host and across the two hosts, through Neutrino's wiring and
//    through the same path built by hand (bench/netpath.ts — Linux bridge: a bridge; vxlan devices
//    with static FDB entries between two more host namespaces on the lab's underlay; OVS: a standalone
//    NORMAL bridge on the lab's OVS hosts, with a fixed-key VXLAN port across them), and their ratio.
// Figures, not pass/fail; a table side by side at the end. Host 1 holds --ports/2 + 2 × --samples
// ports at the restart (--ports 320: 200). Needs iperf3 and ethtool (--tx-off: TX checksum offload off
// on the Linux bridge VMs' veths too; OVS ones always have it off).
//
//   sudo npx tsx bench/wiring.ts [--l2 linuxbridge,openvswitch] [--samples 20] [--ports 200] [--iperf-seconds 5] [--tx-off]
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tapName } from '../src/agents/linuxbridge/names.js';
import { plugOvsPort, withVSwitch } from '../src/agents/openvswitch/plug.js';
import { plugVif } from '../src/cli/vif.js';
import { labUp } from '../src/lab/run.js';
import type { L2Kind, LabHost } from '../src/lab/topology.js';
import { addTap, execRunner, Ip } from '../src/system/index.js';
import { argv, flag, pct } from './args.js';
import { HandMade, HandMadeOvs, iperf, pingFlood, txOff } from './netpath.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely
type Json = Record<string, any>;

const SAMPLES = Number(flag('--samples', '20'));
const PORTS = Number(flag('--ports', '200'));
const IPERF_SECONDS = Number(flag('--iperf-seconds', '5'));
const TX_OFF = argv.includes('--tx-off');
const KINDS = flag('--l2', 'linuxbridge,openvswitch').split(',') as L2Kind[];

const ms = (x: number) => `${x.toFixed(0)} ms`;

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => ok(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** One kind's figures. */
interface Figures {
  plugActive: number[];
  plugPing: number[];
  tapActive: number[];
  bound: number;
  converged: number;
  restartStart: number;
  restartReconcile: number;
  restartChanged: string;
  lost: string;
  iperf: { oneN: number; oneH: number; twoN: number; twoH: number; mtu: number };
}

/** Creates taps for `ports` on `h` (and, on an OVS host, their br-int ports with iface-ids, in one
 * transaction per batch, as os-vif would one by one). */
async function taps(h: LabHost, ports: Json[]): Promise<void> {
  await new Ip({ netns: h.netns }).batch(ports.map((p) => addTap(tapName(p.id))));
  if (h.l2 !== 'openvswitch') return;
  await withVSwitch(h.ovsdb!, async (vs) => {
    for (const p of ports) await plugOvsPort(vs, { bridge: 'br-int', device: tapName(p.id), portId: p.id, mac: p.mac_address });
  });
}

async function measure(kind: L2Kind): Promise<Figures> {
  const port = await freePort();
  const lab = await labUp({ name: `bench${randomBytes(2).toString('hex')}`, hosts: 2, port, l2: [kind, kind] });
  const { url, hosts, prefix } = lab.state;
  const handMade = new HandMade(`${prefix}-hm`);
  const handMadeOvs = new HandMadeOvs(`${prefix}-hm`);
  let flood: ReturnType<typeof pingFlood> | undefined;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}/v2.0/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Json>;
  };
  const plug = (portId: string, h: LabHost, vm: string) =>
    plugVif(portId, { url, host: h.name, netns: vm, hostNetns: h.netns, ovsdb: h.ovsdb });
  try {
    console.log(`== ${kind}`);
    const net = (await api('POST', 'networks', { network: { name: 'bench' } })).network;
    await api('POST', 'subnets', { subnet: { network_id: net.id, cidr: '10.50.0.0/16', ip_version: 4 } });
    const newPort = async () => (await api('POST', 'ports', { port: { network_id: net.id } })).port;
    const anchor = await newPort();
    await plug(anchor.id, hosts[1], `${prefix}-vm-anchor`);
    const anchorIp = anchor.fixed_ips[0].ip_address;

    const plugActive: number[] = [];
    const plugPing: number[] = [];
    const sampleIps: string[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const p = await newPort();
      sampleIps.push(p.fixed_ips[0].ip_address);
      const vm = `${prefix}-vm-s${i}`;
      const t0 = performance.now();
      await plug(p.id, hosts[0], vm);
      plugActive.push(performance.now() - t0);
      for (;;) {
        const r = await execRunner('ip', ['netns', 'exec', vm, 'ping', '-c1', '-W0.2', '-q', anchorIp]);
        if (r.code === 0) break;
        if (performance.now() - t0 > 30_000) throw new Error(`no ping from ${vm} within 30 s`);
      }
      plugPing.push(performance.now() - t0);
    }
    console.log(`vif plug → ACTIVE      p50 ${ms(pct(plugActive, 50))}  p99 ${ms(pct(plugActive, 99))}  (${SAMPLES} VMs)`);
    console.log(`vif plug → first ping  p50 ${ms(pct(plugPing, 50))}  p99 ${ms(pct(plugPing, 99))}`);

    // Throughput: Neutrino's wiring (vm-s0 → vm-s1 on host 1; vm-s0 → anchor on host 2) against the
    // same paths built by hand with the network's MTU.
    if (SAMPLES < 2) throw new Error('throughput needs --samples 2 or more');
    const mtu = Number(net.mtu ?? 1450);
    const [s0, s1, anchorNs] = [`${prefix}-vm-s0`, `${prefix}-vm-s1`, `${prefix}-vm-anchor`];
    const ovs = kind === 'openvswitch';
    const ovsHosts = hosts.map((h) => ({ netns: h.netns, ovsdb: h.ovsdb!, localIp: h.localIp }));
    const [ha, hb, hbIp] = ovs ? await handMadeOvs.oneHost(ovsHosts[0], mtu) : await handMade.oneHost(mtu);
    const [xa, xb, xbIp] = ovs ? await handMadeOvs.twoHosts(ovsHosts, mtu) : await handMade.twoHosts(`${prefix}-underlay`, mtu);
    if (TX_OFF && !ovs) for (const ns of [s0, s1, anchorNs, ha, hb, xa, xb]) await txOff(ns, 'eth0');
    const mbit = (x: number) => `${x.toFixed(0)} Mbit/s`;
    const oneN = await iperf(s1, s0, sampleIps[1], IPERF_SECONDS);
    const oneH = await iperf(hb, ha, hbIp, IPERF_SECONDS);
    const twoN = await iperf(anchorNs, s0, anchorIp, IPERF_SECONDS);
    const twoH = await iperf(xb, xa, xbIp, IPERF_SECONDS);
    const ratio = (a: number, b: number) => `${((100 * a) / b).toFixed(0)} %`;
    console.log(`iperf3 one host (MTU ${mtu}): Neutrino ${mbit(oneN)}, by hand ${mbit(oneH)}: ${ratio(oneN, oneH)}`);
    console.log(`iperf3 two hosts (VXLAN): Neutrino ${mbit(twoN)}, by hand ${mbit(twoH)}: ${ratio(twoN, twoH)}`);
    await handMade.remove();
    await handMadeOvs.remove();

    // Nova's order: the port is bound to the host first, the tap appears afterwards; nothing tells
    // the agent but the host (its link monitor, or OVSDB's) or its next poll.
    const tapActive: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const p = await newPort();
      await api('PUT', `ports/${p.id}`, {
        port: { 'binding:host_id': hosts[0].name, device_owner: 'compute:nova', device_id: p.id },
      });
      // Let the reconciles the binding's notifications cause pass (until none for 150 ms), so none
      // of them finds the tap by chance.
      const agent = lab.agents.get(hosts[0].name)!.agent;
      const bound = agent.syncs;
      let seen = agent.syncs;
      let quietSince = performance.now();
      while (agent.syncs === bound || performance.now() - quietSince < 150) {
        if (agent.syncs !== seen) [seen, quietSince] = [agent.syncs, performance.now()];
        await new Promise((r) => setTimeout(r, 5));
      }
      const t0 = performance.now();
      await taps(hosts[0], [p]);
      for (;;) {
        if ((await api('GET', `ports/${p.id}?fields=status`)).port.status === 'ACTIVE') break;
        if (performance.now() - t0 > 30_000) throw new Error(`port ${p.id} not ACTIVE within 30 s of its tap`);
        await new Promise((r) => setTimeout(r, 5));
      }
      tapActive.push(performance.now() - t0);
    }
    console.log(`bound port: tap → ACTIVE  p50 ${ms(pct(tapActive, 50))}  p99 ${ms(pct(tapActive, 99))}`);

    // Convergence: taps first (as Nova would have them), then every binding at once.
    const many: Json[] = [];
    await pool(
      Array.from({ length: PORTS }, (_, i) => i),
      16,
      async () => {
        many.push(await newPort());
      },
    );
    for (const [i, h] of hosts.entries())
      await taps(
        h,
        many.filter((_, k) => k % hosts.length === i),
      );
    const t0 = performance.now();
    await pool(many, 16, async (p) => {
      const h = hosts[many.indexOf(p) % hosts.length];
      await api('PUT', `ports/${p.id}`, { port: { 'binding:host_id': h.name, device_owner: 'compute:nova', device_id: p.id } });
    });
    const bound = performance.now() - t0;
    for (;;) {
      const active = (await api('GET', `ports?network_id=${net.id}&status=ACTIVE&fields=id`)).ports.length;
      if (active >= PORTS + 2 * SAMPLES + 1) break;
      if (performance.now() - t0 > 300_000) throw new Error(`only ${active} ports ACTIVE after 300 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const converged = performance.now() - t0;
    console.log(`${PORTS} ports bound at once: bound in ${ms(bound)}, all ACTIVE in ${ms(converged)}`);

    flood = pingFlood(`${prefix}-vm-s0`, anchorIp);
    await new Promise((r) => setTimeout(r, 1000));
    const t1 = performance.now();
    const restarted = await lab.restartAgent(hosts[0].name);
    const t2 = performance.now();
    while (restarted.agent.syncs === 0) await new Promise((r) => setTimeout(r, 10));
    const t3 = performance.now();
    const last = restarted.backend.last;
    const changed =
      'ipCommands' in last
        ? `${last.ipCommands} links, ${last.fdbCommands} FDB entries, nft ${last.nftApplied ? 'replaced' : 'untouched'}`
        : `${last.ovsdbOps + last.portOps} OVSDB changes, flows of ${last.flowsReplaced.join('+') || 'no bridge'} to the new cookie (${last.flowCount} flows)`;
    await new Promise((r) => setTimeout(r, 1000));
    const { sent, received } = await flood.stop();
    flood = undefined;
    console.log(
      `agent restart on host 1 (${PORTS / 2 + 2 * SAMPLES} ports): old agent stopped and new one started in ${ms(t2 - t1)}, ` +
        `its first reconcile done ${ms(t3 - t2)} later (${ms(t3 - t1)} from the stop); it changed ${changed}; ` +
        `ping -i 0.01 host 1 → host 2 from 1 s before to 1 s after: ${sent - received} of ${sent} lost`,
    );
    return {
      plugActive,
      plugPing,
      tapActive,
      bound,
      converged,
      restartStart: t2 - t1,
      restartReconcile: t3 - t2,
      restartChanged: changed,
      lost: `${sent - received} of ${sent}`,
      iperf: { oneN, oneH, twoN, twoH, mtu },
    };
  } finally {
    await flood?.stop().catch(() => undefined);
    await handMade.remove();
    await handMadeOvs.remove();
    await lab.stop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/wiring.ts needs root (network namespaces)');
  const load = (await execRunner('uptime', [])).stdout.trim();
  console.log(`uptime at start: ${load}`);
  const results = new Map<L2Kind, Figures>();
  for (const kind of KINDS) results.set(kind, await measure(kind));
  const p = (xs: number[]) => `${ms(pct(xs, 50))} / ${ms(pct(xs, 99))}`;
  const mb = (a: number, b: number) => `${a.toFixed(0)} / ${b.toFixed(0)} (${((100 * a) / b).toFixed(0)} %)`;
  const rows: Array<[string, (f: Figures) => string]> = [
    ['vif plug → ACTIVE p50 / p99', (f) => p(f.plugActive)],
    ['vif plug → first ping p50 / p99', (f) => p(f.plugPing)],
    ['bound port: tap → ACTIVE p50 / p99', (f) => p(f.tapActive)],
    [`${PORTS} ports bound at once → all ACTIVE`, (f) => ms(f.converged)],
    ['agent restart → first reconcile', (f) => ms(f.restartStart + f.restartReconcile)],
    ['ping -i 0.01 lost across the restart', (f) => f.lost],
    ['iperf3 one host, Mbit/s: Neutrino / by hand', (f) => mb(f.iperf.oneN, f.iperf.oneH)],
    ['iperf3 two hosts (VXLAN): Neutrino / by hand', (f) => mb(f.iperf.twoN, f.iperf.twoH)],
  ];
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  const col = 30;
  console.log(`\n${''.padEnd(width)}${KINDS.map((k) => k.padEnd(col)).join('')}`);
  for (const [label, fn] of rows)
    console.log(`${label.padEnd(width)}${KINDS.map((k) => fn(results.get(k)!).padEnd(col)).join('')}`);
  for (const k of KINDS) console.log(`${k} restart changed: ${results.get(k)!.restartChanged}`);
  console.log(`uptime at end: ${(await execRunner('uptime', [])).stdout.trim()}`);
  console.log(JSON.stringify(Object.fromEntries(results)));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
