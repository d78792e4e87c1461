// RPC bus benchmark: for the local (in-process) transport and for RabbitMQ, the round trip of one
// call (p50/p99 of sequential calls), call throughput with 64 outstanding, and fanout to 100
// listeners, each on a connection of its own as 100 agents would be (time until all 100 have it).
// Figures, not pass/fail.
//
//   npx tsx bench/rpc.ts [--url rabbit://…] [--calls N] [--fanouts N]
//
// Without --url (or NEUTRINO_TEST_RABBIT_URL), a private broker is started with scripts/rabbitmq.sh
// when RabbitMQ is installed, and stopped afterwards. The last line printed is one JSON object.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AmqpTransport } from '../src/rpc/amqp/index.js';
import { LocalBus } from '../src/rpc/local/index.js';
import { silentLogger, type Transport } from '../src/rpc/transport.js';
import { flag } from './args.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CALLS = Number(flag('--calls', '2000'));
const FANOUTS = Number(flag('--fanouts', '50'));
const LISTENERS = 100;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (ns: bigint) => Number(ns) / 1e6;
const round = (x: number) => Math.round(x * 1000) / 1000;

interface Figures {
  call_p50_ms: number;
  call_p99_ms: number;
  calls_per_s_64: number;
  fanout100_p50_ms: number;
  fanout100_p99_ms: number;
}

async function measure(label: string, open: () => Promise<Transport>): Promise<Figures> {
  const server = await open();
  const client = await open();
  const topic = `bench-${process.pid}-${label}`;
  await server.listen(topic, undefined, { echo: (a: unknown) => a });

  for (let i = 0; i < 200; i++) await client.call({ topic }, 'echo', { i });
  const lat: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = process.hrtime.bigint();
    await client.call({ topic }, 'echo', { i, port: 'p'.repeat(64) });
    lat.push(ms(process.hrtime.bigint() - t0));
  }
  lat.sort((a, b) => a - b);

  // Throughput: 64 calls outstanding at a time.
  const total = CALLS * 2;
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < total) await client.call({ topic }, 'echo', { i: next++ });
    }),
  );
  const perSec = total / (ms(process.hrtime.bigint() - t0) / 1000);

  // Fanout to 100 listeners, one connection each.
  const agents = await Promise.all(Array.from({ length: LISTENERS }, () => open()));
  let received = 0;
  let allIn: (() => void) | null = null;
  const fanTopic = `${topic}-fan`;
  for (const a of agents) {
    await a.fanoutListen(fanTopic, {
      ping: () => {
        if (++received === LISTENERS) allIn?.();
      },
    });
  }
  const fan: number[] = [];
  for (let i = 0; i < FANOUTS + 5; i++) {
    received = 0;
    const done = new Promise<void>((ok) => {
      allIn = ok;
    });
    const f0 = process.hrtime.bigint();
    await server.fanout(fanTopic, 'ping', { i });
    await done;
    if (i >= 5) fan.push(ms(process.hrtime.bigint() - f0));
  }
  fan.sort((a, b) => a - b);
  await Promise.all([server, client, ...agents].map((t) => t.close()));

  const f: Figures = {
    call_p50_ms: round(pct(lat, 50)),
    call_p99_ms: round(pct(lat, 99)),
    calls_per_s_64: Math.round(perSec),
    fanout100_p50_ms: round(pct(fan, 50)),
    fanout100_p99_ms: round(pct(fan, 99)),
  };
  console.log(
    `${label.padEnd(6)} call round trip p50 ${f.call_p50_ms} ms, p99 ${f.call_p99_ms} ms (${CALLS} sequential calls); ` +
      `${f.calls_per_s_64} calls/s with 64 outstanding; fanout to ${LISTENERS} listeners p50 ${f.fanout100_p50_ms} ms, ` +
      `p99 ${f.fanout100_p99_ms} ms (${FANOUTS} fanouts)`,
  );
  return f;
}

async function main(): Promise<void> {
  const results: Record<string, Figures | string> = {};
  const bus = new LocalBus();
  results.local = await measure('local', async () => bus.connect({ log: silentLogger }));

  let url = flag('--url', process.env.NEUTRINO_TEST_RABBIT_URL ?? '');
  let dir: string | null = null;
  const script = join(ROOT, 'scripts/rabbitmq.sh');
  try {
    if (!url && existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')) {
      dir = mkdtempSync(join(tmpdir(), 'neutrino-bench-rabbit-'));
      url = execFileSync('bash', [script, 'start', dir], { encoding: 'utf8' }).trim();
    }
    if (url) {
      results.amqp = await measure('amqp', async () => {
        const t = new AmqpTransport(url, { log: silentLogger });
        await t.connected();
        return t;
      });
    } else {
      results.amqp = 'skipped: no broker (--url, or install rabbitmq-server)';
      console.log(`amqp   ${results.amqp}`);
    }
  } finally {
    if (dir) {
      execFileSync('bash', [script, 'stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(JSON.stringify(results));
}

await main();
