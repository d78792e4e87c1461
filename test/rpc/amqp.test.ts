// The RabbitMQ transport against a real, private broker (scripts/rabbitmq.sh run sets
// NEUTRINO_TEST_RABBIT_URL): the shared conformance suite, oslo.messaging's wire layout as a raw
// AMQP client sees it, host failover, and behaviour without a broker.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Channel, type ChannelModel, connect } from 'amqplib';
import { AmqpTransport, type AmqpTransportOptions } from '../../src/rpc/amqp/index.js';
import { RpcTimeoutError, RpcTransportError } from '../../src/rpc/errors.js';
import { silentLogger } from '../../src/rpc/transport.js';
import { freePort } from '../fixtures/process.js';
import { transportConformance, uniqueTopic, until } from './transport.case.js';

const URL = process.env.NEUTRINO_TEST_RABBIT_URL;
const skip = URL ? false : 'NEUTRINO_TEST_RABBIT_URL is not set (run through scripts/rabbitmq.sh run …)';

const FAST: AmqpTransportOptions = { retryIntervalMs: 100, maxIntervalMs: 1000, log: silentLogger };

const amqpUrl = (url: string) => url.replace(/^rabbit:/, 'amqp:');

if (URL) {
  transportConformance('amqp', {
    open: async (opts) => {
      const t = new AmqpTransport(URL, { ...FAST, ...opts });
      await t.connected();
      return t;
    },
  });
}

describe('amqp: oslo.messaging wire layout', { skip }, () => {
  let raw: ChannelModel;
  let ch: Channel;
  let t: AmqpTransport;
  before(async () => {
    raw = await connect(amqpUrl(URL!));
    ch = await raw.createChannel();
    t = new AmqpTransport(URL!, FAST);
    await t.connected();
  });
  after(async () => {
    await t.close();
    await raw.close();
  });

  /** The next message on `queue`, as the raw client receives it. */
  async function nextMessage(queue: string) {
    // Declared as the transport declares it (a get on a missing queue would close the channel).
    await ch.assertQueue(queue, { durable: false, autoDelete: false });
    for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
      const m = await ch.get(queue, { noAck: true });
      if (m) return m;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`nothing on ${queue}`);
  }

  test('a cast is an oslo 2.0 envelope on the neutron topic exchange, in a queue named after its target', async () => {
    const topic = uniqueTopic('wire');
    await t.cast(
      { topic, server: 'host1' },
      'port_update',
      { port: { id: 'p1' } },
      { context: { request_id: 'req-9' }, version: '1.4' },
    );
    // The publisher declared the queue `<topic>.<server>` and bound it to the exchange `neutron`.
    const m = await nextMessage(`${topic}.host1`);
    assert.equal(m.fields.exchange, 'neutron');
    assert.equal(m.fields.routingKey, `${topic}.host1`);
    assert.equal(m.properties.contentType, 'application/json');
    const outer = JSON.parse(m.content.toString());
    assert.equal(outer['oslo.version'], '2.0');
    const inner = JSON.parse(outer['oslo.message']);
    assert.equal(inner.method, 'port_update');
    assert.deepEqual(inner.args, { port: { id: 'p1' } });
    assert.equal(inner.version, '1.4');
    assert.equal(inner._context_request_id, 'req-9');
    assert.match(inner._unique_id, /^[0-9a-f]{32}$/);
    assert.equal(inner._msg_id, undefined);
    await ch.checkExchange('neutron');
  });

  test('a call carries _msg_id and _reply_q; a reply {result, failure, ending, _msg_id} on the default exchange answers it', async () => {
    const topic = uniqueTopic('wirecall');
    const answer = t.call({ topic }, 'get_host_state', { host: 'h' }, { timeoutMs: 5000 });
    const m = await nextMessage(topic);
    assert.ok(
      Number(m.properties.expiration) > 0 && Number(m.properties.expiration) <= 5000,
      'the request expires with the call',
    );
    const inner = JSON.parse(JSON.parse(m.content.toString())['oslo.message']);
    assert.match(inner._msg_id, /^[0-9a-f]{32}$/);
    assert.match(inner._reply_q, /^reply_[0-9a-f]{32}$/);
    // As an old oslo server answers: the result, then a separate ending.
    const send = (body: object) =>
      ch.publish(
        '',
        inner._reply_q,
        Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(body) })),
      );
    send({ result: { ports: [] }, failure: null, _msg_id: inner._msg_id });
    send({ result: null, failure: null, ending: true, _msg_id: inner._msg_id });
    assert.deepEqual(await answer, { ports: [] });
  });

  test('a remote failure in oslo form becomes RpcRemoteError', async () => {
    const topic = uniqueTopic('wirefail');
    const answer = t.call({ topic }, 'm', {}, { timeoutMs: 5000 });
    const inner = JSON.parse(JSON.parse((await nextMessage(topic)).content.toString())['oslo.message']);
    const failure = JSON.stringify({
      class: 'PortNotFound',
      module: 'neutron_lib.exceptions',
      message: 'Port p could not be found.',
      tb: ['Traceback …'],
      args: [],
      kwargs: {},
    });
    ch.publish(
      '',
      inner._reply_q,
      Buffer.from(
        JSON.stringify({
          'oslo.version': '2.0',
          'oslo.message': JSON.stringify({ result: null, failure, ending: true, _msg_id: inner._msg_id }),
        }),
      ),
    );
    await assert.rejects(answer, (e: unknown) => {
      const err = e as { name: string; type: string; module: string; remoteMessage: string };
      assert.equal(err.name, 'RpcRemoteError');
      assert.equal(err.type, 'PortNotFound');
      assert.equal(err.module, 'neutron_lib.exceptions');
      assert.equal(err.remoteMessage, 'Port p could not be found.');
      return true;
    });
  });

  test('fanout goes through the <topic>_fanout exchange to a queue per listener', async () => {
    const topic = uniqueTopic('wirefan');
    const got: unknown[] = [];
    const l = await t.fanoutListen(topic, { network_delete: (args: unknown) => void got.push(args) });
    await ch.checkExchange(`${topic}_fanout`);
    // A raw oslo-style fanout publish reaches it.
    const body = { method: 'network_delete', args: { network_id: 'n1' }, _unique_id: 'u' };
    ch.publish(
      `${topic}_fanout`,
      topic,
      Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(body) })),
    );
    await until(() => got.length === 1, 5000, 'the raw fanout');
    assert.deepEqual(got, [{ network_id: 'n1' }]);
    await l.stop();
  });

  test('a listener with a server consumes <topic> and <topic>.<server>, bound to neutron', async () => {
    const topic = uniqueTopic('wireq');
    const l = await t.listen(topic, 'hostz', { m: () => 1 });
    await ch.checkQueue(topic);
    await ch.checkQueue(`${topic}.hostz`);
    await l.stop();
  });
});

describe('amqp: connection', { skip }, () => {
  test('several hosts in the URL: an unreachable one is skipped', async () => {
    const dead = await freePort();
    const u = new globalThis.URL(amqpUrl(URL!));
    const t = new AmqpTransport(`rabbit://guest:guest@127.0.0.1:${dead},guest:guest@127.0.0.1:${u.port}/`, FAST);
    const topic = uniqueTopic('failover');
    await t.listen(topic, undefined, { ping: () => 'pong' });
    assert.equal(await t.call({ topic }, 'ping', {}, { timeoutMs: 10_000 }), 'pong');
    await t.close();
  });

  test('without a broker: calls time out, casts fail at their deadline, the outbox is bounded; never a hang', async () => {
    const dead = await freePort();
    const t = new AmqpTransport(`rabbit://guest:guest@127.0.0.1:${dead}/`, { ...FAST, maxOutbox: 3 });
    let t0 = Date.now();
    await assert.rejects(t.call({ topic: 'x' }, 'm', {}, { timeoutMs: 300 }), RpcTimeoutError);
    assert.ok(Date.now() - t0 < 1500);
    t0 = Date.now();
    const casts = [1, 2, 3].map((i) => assert.rejects(t.cast({ topic: 'x' }, 'm', { i }, { timeoutMs: 300 }), RpcTransportError));
    // A fourth finds the outbox full and fails at once (the timed-out call's request was withdrawn).
    await assert.rejects(t.cast({ topic: 'x' }, 'm', {}, { timeoutMs: 300 }), /already wait/);
    await Promise.all(casts);
    assert.ok(Date.now() - t0 < 1500);
    t0 = Date.now();
    const pending = assert.rejects(t.call({ topic: 'x' }, 'm', {}, { timeoutMs: 10_000 }), RpcTransportError);
    await t.close();
    await pending;
    assert.ok(Date.now() - t0 < 1000);
  });

  test('wrong credentials: retried in the background, calls still end at their deadline', async () => {
    const t = new AmqpTransport(URL!.replace('guest:guest@', 'guest:wrong@'), FAST);
    await assert.rejects(t.call({ topic: 'x' }, 'm', {}, { timeoutMs: 500 }), RpcTimeoutError);
    assert.equal(t.isConnected, false);
    await t.close();
  });
});
