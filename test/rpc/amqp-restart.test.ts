// The RabbitMQ transport across a broker restart (the same node stopped and started again, losing its
// non-durable queues): a call in flight fails at once with RpcTransportError, calls and casts made
// while the broker is down end at their deadlines or are sent after reconnecting, both sides
// re-declare their queues, and calls, casts and fanouts work afterwards. Needs the broker of
// scripts/rabbitmq.sh run (NEUTRINO_TEST_RABBIT_URL, NEUTRINO_TEST_RABBIT_DIR); run it alone, as
// `npm run test:rpc` does (--test-concurrency=1), since it restarts that broker.
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AmqpTransport } from '../../src/rpc/amqp/index.js';
import { RpcTimeoutError, RpcTransportError } from '../../src/rpc/errors.js';
import { silentLogger } from '../../src/rpc/transport.js';
import { run } from '../fixtures/process.js';
import { uniqueTopic, until } from './transport.case.js';

const URL = process.env.NEUTRINO_TEST_RABBIT_URL;
const DIR = process.env.NEUTRINO_TEST_RABBIT_DIR;
const SCRIPT = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'scripts/rabbitmq.sh');
const skip = URL && DIR ? false : 'needs NEUTRINO_TEST_RABBIT_URL and NEUTRINO_TEST_RABBIT_DIR (scripts/rabbitmq.sh run …)';

async function broker(action: 'start' | 'stop'): Promise<void> {
  const r = await run('bash', [SCRIPT, action, DIR!], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `rabbitmq.sh ${action}: ${r.stderr}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

test('broker restart: in-flight calls fail cleanly, waiting casts are delivered, both sides recover', { skip }, async () => {
  const opts = { retryIntervalMs: 100, maxIntervalMs: 500, log: silentLogger };
  const server = new AmqpTransport(URL!, opts);
  const agent = new AmqpTransport(URL!, opts);
  try {
    await Promise.all([server.connected(), agent.connected()]);
    const topic = uniqueTopic('restart');
    const fanTopic = uniqueTopic('restartfan');
    const notes: number[] = [];
    const fans: string[] = [];
    let slowStarted = false;
    await server.listen(topic, 'srv', {
      ping: () => 'pong',
      slow: async () => {
        slowStarted = true;
        await sleep(4000);
        return 'too late';
      },
      note: ({ i }: { i: number }) => void notes.push(i),
    });
    await agent.fanoutListen(fanTopic, { m: ({ v }: { v: string }) => void fans.push(v) });
    assert.equal(await agent.call({ topic }, 'ping'), 'pong');

    // A call in flight when the broker goes: it fails as soon as the connection drops, long
    // before its 30 s deadline.
    const inflight = agent.call({ topic }, 'slow', {}, { timeoutMs: 30_000 }).then(
      (v) => v,
      (err: unknown) => err,
    );
    await until(() => slowStarted, 5000, 'the slow call to start');
    const t0 = Date.now();
    await broker('stop');
    const outcome = await withDeadline(inflight, 5000, 'the in-flight call');
    assert.ok(outcome instanceof RpcTransportError, `in-flight call: ${outcome}`);
    assert.ok(Date.now() - t0 < 10_000);
    await until(() => !agent.isConnected && !server.isConnected, 5000, 'both sides to notice');

    // While it is down: a short call ends at its deadline; casts, a fanout and a longer call wait.
    const t1 = Date.now();
    await assert.rejects(agent.call({ topic }, 'ping', {}, { timeoutMs: 300 }), (err) => {
      assert.ok(err instanceof RpcTimeoutError, String(err));
      return true;
    });
    assert.ok(Date.now() - t1 < 2000);
    const casts = [1, 2, 3].map((i) => agent.cast({ topic }, 'note', { i }, { timeoutMs: 60_000 }));
    const patient = agent.call({ topic, server: 'srv' }, 'ping', {}, { timeoutMs: 60_000 });

    await broker('start');
    await withDeadline(Promise.all([server.connected(), agent.connected()]), 15_000, 'reconnection');
    await withDeadline(Promise.all(casts), 15_000, 'the waiting casts to be confirmed');
    assert.equal(await withDeadline(patient, 15_000, 'the call made while disconnected'), 'pong');
    await until(() => notes.length >= 3, 10_000, 'the casts made while disconnected');
    assert.deepEqual([...notes].sort(), [1, 2, 3]);

    // Everything works again, the fanout queue included (declared again by its listener).
    assert.equal(await agent.call({ topic, server: 'srv' }, 'ping'), 'pong');
    await agent.cast({ topic }, 'note', { i: 4 });
    await until(() => notes.includes(4), 5000, 'a cast after the restart');
    await server.fanout(fanTopic, 'm', { v: 'after' });
    await until(() => fans.includes('after'), 5000, 'a fanout after the restart');
  } finally {
    await Promise.all([server.close(), agent.close()]);
  }
});
