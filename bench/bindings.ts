// How long N port bindings take to reach ACTIVE with one agent acknowledging them (issue 4): a
// server in this process (SQLite file, or PostgreSQL with --pg URL) and one `noop` L2 agent (the
// whole agent protocol, no kernel state) on its bus: the in-process bus, or RabbitMQ with
// --rabbit URL (e.g. from `scripts/rabbitmq.sh start DIR`). Creates N ports bound to the agent's
// host at concurrency 16, then waits until every one is ACTIVE. Figures, not pass/fail.
//
//   npx tsx bench/bindings.ts [--ports 1000] [--rabbit rabbit://…] [--pg postgresql://…]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { L2Agent } from '../src/agents/common/l2-agent.js';
import { NoopBackend } from '../src/agents/noop/backend.js';
import { buildNeutrino } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { openTransport, type Transport } from '../src/rpc/index.js';
import { flag } from './args.js';

const N = Number(flag('--ports', '1000'));
const RABBIT = flag('--rabbit', '');
const PG = flag('--pg', '');
const HOST = 'bench-host';

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'neutrino-bind-bench-'));
  const overrides: Array<[string, string, unknown]> = [
    ['database', 'connection', PG || `sqlite:///${dir}/neutrino.sqlite`],
    ['ml2', 'mechanism_drivers', ['linuxbridge', 'l2population']],
    ['quotas', 'quota_port', -1],
  ];
  if (RABBIT) overrides.push(['DEFAULT', 'transport_url', RABBIT]);
  const neutrino = await buildNeutrino(loadConfig([], overrides), { migrate: true });
  // The agent gets a transport of its own when the bus is RabbitMQ, as a separate process would.
  const agentTransport: Transport = RABBIT ? await openTransport(RABBIT) : neutrino.transport;
  const agent = new L2Agent(
    agentTransport,
    new NoopBackend({ tunnel_types: ['vxlan'], tunneling_ip: '192.0.2.1', l2_population: true, interface_mappings: {} }),
    { host: HOST, agentType: 'Linux bridge agent', binary: 'neutrino-noop-agent', reportIntervalSec: 30, pollingIntervalSec: 2 },
  );
  const inject = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const r = await neutrino.app.inject({ method, url, payload: body as object | undefined });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  try {
    await agent.start();
    for (let i = 0; ; i++) {
      if ((await inject('GET', `/v2.0/agents?host=${HOST}`)).agents.length) break;
      if (i > 200) throw new Error('the agent did not register');
      await new Promise((r) => setTimeout(r, 50));
    }
    const net = (await inject('POST', '/v2.0/networks', { network: { name: 'bench' } })).network;
    await inject('POST', '/v2.0/subnets', { subnet: { network_id: net.id, cidr: '10.0.0.0/16', ip_version: 4 } });

    const created = new Map<string, number>();
    const activeAt = new Map<string, number>();
    neutrino.ml2.events.on('port-status', (e: { port_id: string; status: string }) => {
      if (e.status === 'ACTIVE' && !activeAt.has(e.port_id)) activeAt.set(e.port_id, performance.now());
    });
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) {
          next++;
          const p = (
            await inject('POST', '/v2.0/ports', {
              port: { network_id: net.id, 'binding:host_id': HOST, device_owner: 'compute:nova' },
            })
          ).port;
          created.set(p.id, performance.now());
        }
      }),
    );
    const createdAll = performance.now();
    const deadline = Date.now() + 600_000;
    while (activeAt.size < N) {
      if (Date.now() > deadline) throw new Error(`only ${activeAt.size} of ${N} ports ACTIVE after 10 minutes`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const done = performance.now();
    const lat = [...created].map(([id, t]) => (activeAt.get(id) ?? done) - t).sort((a, b) => a - b);
    const figures = {
      ports: N,
      bus: RABBIT ? 'rabbitmq' : 'in-process',
      database: PG ? 'postgresql' : 'sqlite',
      create_s: +((createdAll - t0) / 1000).toFixed(2),
      all_active_s: +((done - t0) / 1000).toFixed(2),
      create_to_active_p50_ms: +pct(lat, 50).toFixed(1),
      create_to_active_p99_ms: +pct(lat, 99).toFixed(1),
      agent_syncs: agent.syncs,
    };
    console.log(
      `${N} bound ports (${figures.bus} bus, ${figures.database}): created in ${figures.create_s} s, all ACTIVE after ` +
        `${figures.all_active_s} s; create→ACTIVE p50 ${figures.create_to_active_p50_ms} ms, p99 ${figures.create_to_active_p99_ms} ms; ` +
        `${figures.agent_syncs} agent reconciliations`,
    );
    console.log(JSON.stringify(figures));
  } finally {
    await agent.stop();
    if (RABBIT) await agentTransport.close();
    await neutrino.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
