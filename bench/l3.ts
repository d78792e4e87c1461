// The L3 agent's latencies, on a lab of one simulated Linux bridge host with an L2 and an L3 agent
// process (test/dataplane/lab.ts: a private RabbitMQ, `neutrino all-in-one`), a flat external
// network and an "outside" namespace on it (needs root, rabbitmq-server, nft, arping, iperf3):
//  - routed throughput: iperf3 from the VM to a server in outside, through the router's SNAT (VM
//    tap → tenant bridge → qr- → nft SNAT → qg- → external bridge → provider bridge → outside),
//    against the same path built by hand (bench/netpath.ts: veths and Linux bridges in namespaces of
//    this run, a router namespace with forwarding and one nft SNAT rule), --iperf-rounds interleaved
//    rounds of --iperf-seconds each, medians and their ratio (target ≥ 90 %). Outside has no route
//    to either VM's subnet, so an answered connection is a translated one. Run before any floating
//    IP exists, so the VM leaves by the router's gateway address;
//  - floating IP association → reachable from outside: a VM's port gets one of --samples floating IPs
//    after the other (the previous one disassociated first), until outside opens a TCP connection to
//    the new address and the VM echoes it;
//  - many floating IPs on one router: --fips ports behind the router each get a floating IP (created
//    associated, concurrency 8): the time until all are ACTIVE (applied: the agent reports statuses
//    after writing the NAT table), then one more, on the VM, until outside reaches it.
// Figures, not pass/fail; the machine's load average is printed with them.
//
//   sudo npx tsx bench/l3.ts [--samples 20] [--fips 100] [--iperf-seconds 5] [--iperf-rounds 3]
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { DataplaneLab } from '../test/dataplane/lab.js';
import { VmTcp } from '../test/dataplane/tcp.js';
import { flag, pct } from './args.js';
import { HandMade, iperfRounds } from './netpath.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely
type Json = Record<string, any>;

const SAMPLES = Number(flag('--samples', '20'));
const FIPS = Number(flag('--fips', '100'));
const IPERF_SECONDS = Number(flag('--iperf-seconds', '5'));
const IPERF_ROUNDS = Number(flag('--iperf-rounds', '3'));
const PORT = 8080;

const stats = (xs: number[]) => ({ p50_ms: Math.round(pct(xs, 50)), p99_ms: Math.round(pct(xs, 99)), n: xs.length });
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, deadlineMs = 60_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/l3.ts needs root (network namespaces)');
  const lab = await DataplaneLab.start(1, 'linuxbridge', { l3: 1 });
  const helpers: VmTcp[] = [];
  // Under the lab's prefix: the lab's stop() removes whatever remove() did not.
  const handMade = new HandMade(`${lab.topology.prefix}-hm`);
  try {
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await lab.api(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    await api('PUT', 'quotas/admin', { quota: { port: -1, floatingip: -1 } });
    const outsideNs = await lab.addOutside('203.0.113.1/24');
    const outside = await VmTcp.start(outsideNs, []);
    helpers.push(outside);
    const ext = await lab.externalNetwork('203.0.113.1');
    const { network, subnet } = await lab.network('bench', '10.90.0.0/22');
    const router = await lab.create('router', { name: 'r', external_gateway_info: { network_id: ext.id } });
    await api('PUT', `routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    const port = await lab.create('port', {
      network_id: network.id,
      device_owner: 'compute:nova',
      device_id: randomUUID(),
      port_security_enabled: false,
    });
    await lab.plug(port.id, lab.hosts[0], 'vm');
    helpers.push(await VmTcp.start(lab.topology.vmNetns('vm'), [PORT]));

    // 0. routed throughput through SNAT, Neutrino's path and the hand-made one, with the same MTUs.
    const gateway = (await api('GET', `routers/${router.id}`)).router.external_gateway_info.external_fixed_ips[0].ip_address;
    await until('the VM reaching outside through the router', () => lab.ping('vm', '203.0.113.1'));
    const [hmVm, hmOutside, hmServer] = await handMade.routed(Number(network.mtu), Number(ext.mtu));
    const [neutrino, byHand] = await iperfRounds(
      [
        [outsideNs, lab.topology.vmNetns('vm'), '203.0.113.1'],
        [hmOutside, hmVm, hmServer],
      ],
      IPERF_ROUNDS,
      IPERF_SECONDS,
    );
    await handMade.remove();
    const routed = {
      neutrino_mbit: Math.round(pct(neutrino, 50)),
      by_hand_mbit: Math.round(pct(byHand, 50)),
      ratio_pct: Math.round((1000 * pct(neutrino, 50)) / pct(byHand, 50)) / 10,
      neutrino_each: neutrino.map(Math.round),
      by_hand_each: byHand.map(Math.round),
      rounds: IPERF_ROUNDS,
      seconds: IPERF_SECONDS,
      mtu: { tenant: network.mtu, external: ext.mtu },
    };
    console.log(
      `iperf3 VM → outside through SNAT to ${gateway} (median of ${IPERF_ROUNDS} interleaved rounds of ${IPERF_SECONDS} s, ` +
        `MTU ${network.mtu}/${ext.mtu}): Neutrino ${routed.neutrino_mbit} Mbit/s ${JSON.stringify(routed.neutrino_each)}, ` +
        `by hand ${routed.by_hand_mbit} Mbit/s ${JSON.stringify(routed.by_hand_each)}: ${routed.ratio_pct} % ` +
        `(target ≥ 90 %: ${routed.ratio_pct >= 90 ? 'met' : 'missed'})   (load ${load()})`,
    );

    // 1. association → reachable from outside.
    const fips: Json[] = [];
    for (let i = 0; i < SAMPLES; i++) fips.push(await lab.create('floatingip', { floating_network_id: ext.id }));
    const toReach: number[] = [];
    for (const f of fips) {
      const t0 = performance.now();
      await api('PUT', `floatingips/${f.id}`, { floatingip: { port_id: port.id } });
      await until(`outside reaching ${f.floating_ip_address}`, () => outside.tryConnect(f.floating_ip_address, PORT, 300));
      toReach.push(performance.now() - t0);
      await api('PUT', `floatingips/${f.id}`, { floatingip: { port_id: null } });
    }
    console.log(`floating IP association → reachable from outside: ${JSON.stringify(stats(toReach))}   (load ${load()})`);

    // 2. many floating IPs on one router.
    const ports: Json[] = [];
    await pool(
      Array.from({ length: FIPS }, (_, i) => i),
      8,
      async () => {
        ports.push(await lab.create('port', { network_id: network.id, device_owner: 'compute:nova', device_id: randomUUID() }));
      },
    );
    const t0 = performance.now();
    await pool(ports, 8, async (p) => {
      await lab.create('floatingip', { floating_network_id: ext.id, port_id: p.id });
    });
    const created = performance.now() - t0;
    await until(
      `${FIPS} floating IPs ACTIVE`,
      async () => {
        const all = (await api('GET', `floatingips?router_id=${router.id}`)).floatingips as Json[];
        return all.length === FIPS && all.every((f) => f.status === 'ACTIVE');
      },
      300_000,
    );
    const applied = performance.now() - t0;
    const one = fips[0];
    const t1 = performance.now();
    await api('PUT', `floatingips/${one.id}`, { floatingip: { port_id: port.id } });
    await until('the one more reachable', () => outside.tryConnect(one.floating_ip_address, PORT, 300));
    const oneMore = performance.now() - t1;
    console.log(
      `${FIPS} floating IPs on one router: created in ${(created / 1000).toFixed(2)} s, all ACTIVE after ${(applied / 1000).toFixed(2)} s; ` +
        `one more → reachable: ${Math.round(oneMore)} ms   (load ${load()})`,
    );
    console.log(
      JSON.stringify({
        routed_throughput: routed,
        fip_association_to_reachable: stats(toReach),
        many_fips: { fips: FIPS, created_s: created / 1000, all_active_s: applied / 1000, one_more_ms: oneMore },
        loadavg: loadavg(),
      }),
    );
  } finally {
    await Promise.allSettled(helpers.map((t) => t.stop()));
    await handMade.remove();
    await lab.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
