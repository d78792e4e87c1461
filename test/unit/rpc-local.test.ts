// The in-process transport against the shared conformance suite, plus what is local-only: named
// buses, and openTransport's choice of backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { AmqpTransport } from '../../src/rpc/amqp/index.js';
import { LocalBus, localTransport } from '../../src/rpc/local/index.js';
import { openTransport } from '../../src/rpc/open.js';
import { silentLogger } from '../../src/rpc/transport.js';
import { transportConformance, uniqueTopic } from '../rpc/transport.case.js';

const bus = new LocalBus();
transportConformance('local', {
  open: async (opts) => bus.connect({ ...opts, log: silentLogger }),
});

test('transports on different buses do not see each other; local://NAME names a bus', async () => {
  const topic = uniqueTopic('bus');
  const a = localTransport({ bus: new LocalBus(), timeoutMs: 100 });
  const b = localTransport({ bus: new LocalBus(), timeoutMs: 100 });
  await a.listen(topic, undefined, { ping: () => 'pong' });
  await assert.rejects(b.call({ topic }, 'ping'), { name: 'MessagingTimeout' });
  const c = await openTransport('local://bus-x');
  const d = await openTransport(loadConfig([], [['DEFAULT', 'transport_url', 'local://bus-x']]));
  await c.listen(topic, undefined, { ping: () => 'pong' });
  assert.equal(await d.call({ topic }, 'ping'), 'pong');
  await Promise.all([a, b, c, d].map((t) => t.close()));
});

test('openTransport: local without a transport_url, rabbit:// is RabbitMQ, others are refused', async () => {
  const cfg = loadConfig([], [['DEFAULT', 'rpc_response_timeout', '2']]);
  const local = await openTransport(cfg);
  assert.equal(local.kind, 'local');
  const t0 = Date.now();
  await assert.rejects(local.call({ topic: uniqueTopic('none') }, 'm'), { name: 'MessagingTimeout' });
  assert.ok(Date.now() - t0 >= 1900, 'rpc_response_timeout is the default deadline');
  await local.close();
  // Nothing listens on port 1 of loopback: the transport keeps retrying in the background until closed.
  const amqp = await openTransport('rabbit://u:p@127.0.0.1:1/', { log: silentLogger });
  assert.ok(amqp instanceof AmqpTransport);
  assert.equal(amqp.isConnected, false);
  await amqp.close();
  await assert.rejects(openTransport('kafka://127.0.0.1:9092'), /unsupported transport URL scheme/);
});
