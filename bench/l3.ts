// The L3 agent's latencies, on a lab of one simulated Linux bridge host with an L2 and an L3 agent
// process (test/dataplane/lab.ts: a private RabbitMQ, `neutrino all-in-one`), a flat external
// network and an "outside" namespace on it (needs root, rabbitmq-server, nft, arping):
//  - floating IP association → reachable from outside: a VM's port gets one of --samples floating IPs
//    after the other (the previous one disassociated first), until outside opens a TCP connection to
//    the new address and the VM echoes it;
//  - many floating IPs on one router: --fips ports behind the router each get a floating IP (created
//    associated, concurrency 8): the time until all are ACTIVE (applied: the agent reports statuses
//    after writing the NAT table), then one more, on the VM, until outside reaches it.
// Figures, not pass/fail; the machine's load average is printed with them.
//
//   sudo npx tsx bench/l3.ts [--samples 20] [--fips 100]
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { DataplaneLab } from '../test/dataplane/lab.js';
import { VmTcp } from '../test/dataplane/tcp.js';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely
type Json = Record<string, any>;

const SAMPLES = Number(flag('--samples', '20'));
const FIPS = Number(flag('--fips', '100'));
const PORT = 8080;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
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
    const ext = await lab.create('network', {
      name: 'public',
      'router:external': true,
      'provider:network_type': 'flat',
      'provider:physical_network': 'physnet1',
    });
    await lab.create('subnet', {
      network_id: ext.id,
      cidr: '203.0.113.0/24',
      ip_version: 4,
      gateway_ip: '203.0.113.1',
      enable_dhcp: false,
    });
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
        fip_association_to_reachable: stats(toReach),
        many_fips: { fips: FIPS, created_s: created / 1000, all_active_s: applied / 1000, one_more_ms: oneMore },
        loadavg: loadavg(),
      }),
    );
  } finally {
    await Promise.allSettled(helpers.map((t) => t.stop()));
    await lab.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
