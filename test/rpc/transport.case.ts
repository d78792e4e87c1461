// The conformance suite every RPC transport must pass (Hono's common.case style): call and reply,
// deadlines, remote errors, casts, fanout, server-targeted delivery, concurrency, stopping and
// closing. A backend's test file calls transportConformance() with a way to open transports that
// share one bus (one broker).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { RemoteFault, RpcRemoteError, RpcTimeoutError, RpcTransportError } from '../../src/rpc/errors.js';
import type { RpcContext, Transport } from '../../src/rpc/transport.js';

export interface TransportFactory {
  /** A new transport on the shared bus; `timeoutMs` is its default call deadline. */
  open(opts?: { timeoutMs?: number }): Promise<Transport>;
}

/** A topic no other test uses. */
export const uniqueTopic = (label: string): string => `t-${label}-${randomBytes(4).toString('hex')}`;

/** Polls `cond` until it holds or `ms` pass. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rejectsWith<E extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => E, check?: (e: E) => void) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : err}`);
    check?.(err as E);
    return true;
  });
}

export function transportConformance(name: string, factory: TransportFactory): void {
  describe(`${name} transport conformance`, () => {
    const opened: Transport[] = [];
    const open = async (opts?: { timeoutMs?: number }) => {
      const t = await factory.open(opts);
      opened.push(t);
      return t;
    };
    after(async () => {
      await Promise.all(opened.map((t) => t.close()));
    });

    test('a call returns the reply of one listener, which sees the method, context and topic', async () => {
      const [server, client] = [await open(), await open()];
      const topic = uniqueTopic('call');
      const seen: RpcContext[] = [];
      await server.listen(topic, undefined, {
        add: (args: { a: number; b: number }, ctx) => {
          seen.push(ctx);
          return { sum: args.a + args.b };
        },
        echo: async (args: Record<string, unknown>) => args,
      });
      const reply = await client.call(
        { topic },
        'add',
        { a: 2, b: 3 },
        { context: { request_id: 'req-1', project_id: 'p1' }, version: '1.2' },
      );
      assert.deepEqual(reply, { sum: 5 });
      assert.equal(seen.length, 1);
      assert.equal(seen[0].method, 'add');
      assert.equal(seen[0].topic, topic);
      assert.equal(seen[0].via, topic);
      assert.equal(seen[0].fanout, false);
      assert.deepEqual(seen[0].context, { request_id: 'req-1', project_id: 'p1' });
      // Arguments and replies travel as JSON, on every backend.
      const echoed = await client.call({ topic }, 'echo', { d: new Date(0), u: undefined, n: null, list: [1, 'x'] });
      assert.deepEqual(echoed, { d: '1970-01-01T00:00:00.000Z', n: null, list: [1, 'x'] });
      // A handler returning nothing replies null.
      await server.listen(`${topic}-void`, undefined, { nothing: () => {} });
      assert.equal(await client.call({ topic: `${topic}-void` }, 'nothing'), null);
    });

    test('handlers never run in the caller’s stack', async () => {
      const [server, client] = [await open(), await open()];
      const topic = uniqueTopic('async');
      let ran = false;
      await server.listen(topic, undefined, {
        m: () => {
          ran = true;
        },
      });
      const p = client.cast({ topic }, 'm');
      assert.equal(ran, false);
      await p;
      await until(() => ran, 5000, 'the cast');
    });

    test('a call without a reply in time fails with RpcTimeoutError at its deadline', async () => {
      const [server, client] = [await open(), await open({ timeoutMs: 300 })];
      const topic = uniqueTopic('timeout');
      await server.listen(topic, undefined, { slow: () => sleep(2000) });
      let t0 = Date.now();
      await rejectsWith(client.call({ topic }, 'slow', {}, { timeoutMs: 200 }), RpcTimeoutError, (e) => {
        assert.equal(e.method, 'slow');
      });
      let elapsed = Date.now() - t0;
      assert.ok(elapsed >= 190 && elapsed < 1500, `timed out after ${elapsed} ms`);
      // The transport's default deadline, and a topic nobody listens to.
      t0 = Date.now();
      await rejectsWith(client.call({ topic: uniqueTopic('nobody') }, 'm'), RpcTimeoutError);
      elapsed = Date.now() - t0;
      assert.ok(elapsed >= 290 && elapsed < 1500, `timed out after ${elapsed} ms`);
    });

    test('what a handler throws comes back as RpcRemoteError with its type and message', async () => {
      const [server, client] = [await open(), await open()];
      const topic = uniqueTopic('error');
      await server.listen(topic, undefined, {
        typed: () => {
          throw new RemoteFault('PortNotFound', 'Port 42 could not be found.');
        },
        plain: async () => {
          throw new TypeError('bad thing');
        },
        unserializable: () => ({ n: 1n }),
      });
      await rejectsWith(client.call({ topic }, 'typed'), RpcRemoteError, (e) => {
        assert.equal(e.type, 'PortNotFound');
        assert.equal(e.remoteMessage, 'Port 42 could not be found.');
      });
      await rejectsWith(client.call({ topic }, 'plain'), RpcRemoteError, (e) => {
        assert.equal(e.type, 'TypeError');
        assert.equal(e.remoteMessage, 'bad thing');
      });
      await rejectsWith(client.call({ topic }, 'nope'), RpcRemoteError, (e) => {
        assert.equal(e.type, 'NoSuchMethod');
        assert.match(e.remoteMessage, /nope/);
      });
      // Not a method of the handlers object's prototype either.
      await rejectsWith(client.call({ topic }, 'toString'), RpcRemoteError, (e) => assert.equal(e.type, 'NoSuchMethod'));
      await rejectsWith(client.call({ topic }, 'unserializable'), RpcRemoteError, (e) => assert.equal(e.type, 'TypeError'));
    });

    test('a cast reaches exactly one listener of its topic', async () => {
      const [s1, s2, client] = [await open(), await open(), await open()];
      const topic = uniqueTopic('cast');
      const got: Array<[string, number]> = [];
      await s1.listen(topic, undefined, { m: ({ i }: { i: number }) => void got.push(['s1', i]) });
      await s2.listen(topic, undefined, { m: ({ i }: { i: number }) => void got.push(['s2', i]) });
      for (let i = 0; i < 20; i++) await client.cast({ topic }, 'm', { i });
      await until(() => got.length >= 20, 5000, '20 casts');
      await sleep(50);
      assert.equal(got.length, 20);
      assert.deepEqual(
        got.map(([, i]) => i).sort((a, b) => a - b),
        [...Array(20).keys()],
      );
      // Listeners of one queue take turns.
      assert.ok(got.some(([s]) => s === 's1') && got.some(([s]) => s === 's2'), JSON.stringify(got));
    });

    test('a fanout reaches every fanout listener of its topic once, and no one else', async () => {
      const [a, b, client] = [await open(), await open(), await open()];
      const topic = uniqueTopic('fanout');
      const got: string[] = [];
      const viaSeen = new Set<string>();
      for (const [t, names] of [
        [a, ['a1', 'a2', 'a3']],
        [b, ['b1', 'b2']],
      ] as const) {
        for (const n of names) {
          await t.fanoutListen(topic, {
            m: (_args: unknown, ctx) => {
              assert.equal(ctx.fanout, true);
              viaSeen.add(ctx.via);
              got.push(n);
            },
          });
        }
      }
      let plain = 0;
      await a.listen(topic, undefined, { m: () => void plain++ });
      await client.fanout(topic, 'm', { x: 1 });
      await until(() => got.length >= 5, 5000, 'five fanout deliveries');
      await sleep(50);
      assert.deepEqual([...got].sort(), ['a1', 'a2', 'a3', 'b1', 'b2']);
      assert.deepEqual([...viaSeen], [`${topic}_fanout`]);
      assert.equal(plain, 0, 'a fanout does not go to the topic queue');
      // A fanout nobody listens to is dropped without error.
      await client.fanout(uniqueTopic('nofan'), 'm');
    });

    test('a server-targeted call or cast reaches only that host’s listener', async () => {
      const [ha, hb, client] = [await open(), await open(), await open()];
      const topic = uniqueTopic('server');
      const got: string[] = [];
      const who = (name: string) => ({
        who: (_a: unknown, ctx: RpcContext) => {
          got.push(`${name}:${ctx.via}`);
          return name;
        },
      });
      await ha.listen(topic, 'host-a', who('a'));
      await hb.listen(topic, 'host-b.example.org', who('b'));
      for (let i = 0; i < 6; i++) assert.equal(await client.call({ topic, server: 'host-b.example.org' }, 'who'), 'b');
      assert.equal(await client.call({ topic, server: 'host-a' }, 'who'), 'a');
      await client.cast({ topic, server: 'host-a' }, 'who');
      await until(() => got.length >= 8, 5000, 'eight deliveries');
      assert.deepEqual(got.slice(0, 6), Array(6).fill(`b:${topic}.host-b.example.org`));
      assert.deepEqual(got.slice(6), [`a:${topic}.host-a`, `a:${topic}.host-a`]);
      // Untargeted: either host's listener, through the shared queue.
      const anyHost = await client.call({ topic }, 'who');
      assert.ok(anyHost === 'a' || anyHost === 'b');
      assert.match(got[8], new RegExp(`^[ab]:${topic}$`));
    });

    test('concurrent calls each get their own reply', async () => {
      const [s1, s2, client] = [await open(), await open(), await open()];
      const topic = uniqueTopic('concurrent');
      const handlers = {
        square: async ({ n }: { n: number }) => {
          await sleep((n * 7) % 23);
          return { n, square: n * n };
        },
      };
      await s1.listen(topic, undefined, handlers);
      await s2.listen(topic, undefined, handlers);
      const replies = await Promise.all(Array.from({ length: 100 }, (_, n) => client.call({ topic }, 'square', { n })));
      assert.deepEqual(
        replies,
        Array.from({ length: 100 }, (_, n) => ({ n, square: n * n })),
      );
    });

    test('a stopped listener gets nothing more; a cast waits in its topic queue for the next listener', async () => {
      const [server, client] = [await open(), await open()];
      const topic = uniqueTopic('stop');
      const got: string[] = [];
      const l1 = await server.listen(topic, undefined, { m: ({ v }: { v: string }) => void got.push(`1:${v}`) });
      await client.cast({ topic }, 'm', { v: 'x' });
      await until(() => got.length === 1, 5000, 'the first cast');
      await l1.stop();
      await l1.stop(); // idempotent
      await client.cast({ topic }, 'm', { v: 'y' });
      await sleep(100);
      assert.deepEqual(got, ['1:x']);
      await server.listen(topic, undefined, { m: ({ v }: { v: string }) => void got.push(`2:${v}`) });
      await until(() => got.length === 2, 5000, 'the queued cast');
      assert.deepEqual(got, ['1:x', '2:y']);
      // A stopped fanout listener's queue is gone: nothing queues up for it.
      const ftopic = uniqueTopic('fstop');
      const fl = await server.fanoutListen(ftopic, { m: () => void got.push('fan') });
      await fl.stop();
      await client.fanout(ftopic, 'm');
      await sleep(100);
      assert.equal(got.length, 2);
    });

    test('close fails outstanding calls at once, then refuses new messages', async () => {
      const [server, client] = [await open(), await open({ timeoutMs: 20_000 })];
      const topic = uniqueTopic('close');
      let started = 0;
      await server.listen(topic, undefined, {
        slow: async () => {
          started++;
          await sleep(3000);
        },
      });
      const pending = client.call({ topic }, 'slow');
      await until(() => started === 1, 5000, 'the call to start');
      const t0 = Date.now();
      const failed = rejectsWith(pending, RpcTransportError);
      await client.close();
      await failed;
      assert.ok(Date.now() - t0 < 2000);
      await rejectsWith(client.call({ topic }, 'slow'), RpcTransportError);
      await rejectsWith(client.cast({ topic }, 'slow'), RpcTransportError);
      await rejectsWith(client.fanout(topic, 'slow'), RpcTransportError);
      await rejectsWith(client.listen(topic, undefined, {}), RpcTransportError);
      await client.close(); // idempotent
      // The server's listener still serves others.
      const other = await open();
      await server.listen(`${topic}-2`, undefined, { ping: () => 'pong' });
      assert.equal(await other.call({ topic: `${topic}-2` }, 'ping'), 'pong');
    });

    test('names that are not valid topics or hosts are refused', async () => {
      const client = await open();
      await assert.rejects(client.call({ topic: 'a b' }, 'm'), /invalid RPC topic/);
      await assert.rejects(client.cast({ topic: 'x', server: 'h#' }, 'm'), /invalid RPC server/);
      await assert.rejects(client.listen('*', undefined, {}), /invalid RPC topic/);
    });
  });
}
