// The address picker: random first, a scan when the pools are dense, requests' own choices
// excluded, null when full.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AllocationSource, pickAddress, randomBigint } from '../../src/ipam/allocator.js';

/** A source over a set of taken addresses that counts the calls made to it. */
function source(taken: Iterable<string> = []) {
  const set = new Set(taken);
  const calls = { isTaken: 0, allTaken: 0 };
  const src: AllocationSource = {
    isTaken: async (ip) => {
      calls.isTaken++;
      return set.has(ip);
    },
    allTaken: async () => {
      calls.allTaken++;
      return [...set];
    },
  };
  return { src, calls, set };
}

const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

describe('pickAddress', () => {
  test('an empty pool gives a random address from it without scanning', async () => {
    const { src, calls } = source();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const ip = await pickAddress(4, [{ start: '10.0.0.2', end: '10.0.0.254' }], src);
      assert.ok(ip !== null && /^10\.0\.0\.\d+$/.test(ip));
      const last = Number(ip.split('.')[3]);
      assert.ok(last >= 2 && last <= 254, ip);
      seen.add(ip);
    }
    assert.equal(calls.allTaken, 0);
    assert.equal(calls.isTaken, 200);
    // Random, not sequential: 200 draws from 253 addresses land on many distinct ones.
    assert.ok(seen.size > 50, String(seen.size));
  });

  test('a dense pool falls back to a scan that finds the only free address', async () => {
    const free = '10.0.0.77';
    const { src, calls } = source(range('10.0.0.', 2, 254).filter((ip) => ip !== free));
    for (let i = 0; i < 20; i++) assert.equal(await pickAddress(4, [{ start: '10.0.0.2', end: '10.0.0.254' }], src), free);
    assert.ok(calls.allTaken >= 1);
  });

  test('full pools → null', async () => {
    const { src } = source(range('10.0.0.', 2, 14));
    assert.equal(await pickAddress(4, [{ start: '10.0.0.2', end: '10.0.0.14' }], src), null);
    assert.equal(await pickAddress(4, [], source().src), null);
  });

  test('exclude holds addresses this request already chose', async () => {
    const pools = [{ start: '10.0.0.2', end: '10.0.0.4' }];
    const { src } = source(['10.0.0.2']);
    assert.equal(await pickAddress(4, pools, src, new Set(['10.0.0.3'])), '10.0.0.4');
    assert.equal(await pickAddress(4, pools, src, new Set(['10.0.0.3', '10.0.0.4'])), null);
    // Excluded but free in the store still counts as taken.
    assert.equal(await pickAddress(4, pools, source().src, new Set(['10.0.0.2', '10.0.0.3', '10.0.0.4'])), null);
  });

  test('several pools: every address of every pool is reachable, nothing outside', async () => {
    const pools = [
      { start: '192.168.0.2', end: '192.168.0.3' },
      { start: '192.168.0.10', end: '192.168.0.10' },
      { start: '192.168.0.20', end: '192.168.0.21' },
    ];
    const all = ['192.168.0.2', '192.168.0.3', '192.168.0.10', '192.168.0.20', '192.168.0.21'];
    const { src, set } = source();
    const got: string[] = [];
    for (let i = 0; i < all.length; i++) {
      const ip = await pickAddress(4, pools, src);
      assert.ok(ip !== null);
      got.push(ip);
      set.add(ip);
    }
    assert.deepEqual(got.sort(), [...all].sort());
    assert.equal(await pickAddress(4, pools, src), null);
  });

  test('IPv6: wide /64 pools work and answers are canonical', async () => {
    const { src } = source();
    for (let i = 0; i < 50; i++) {
      const ip = await pickAddress(6, [{ start: '2001:db8::1', end: '2001:db8::ffff:ffff:ffff:ffff' }], src);
      assert.ok(ip?.startsWith('2001:db8::') || /^2001:db8:0:0:/.test(ip ?? ''), ip ?? 'null');
      assert.ok(!/(^|:)0[0-9a-f]/.test(ip ?? ''), `not canonical: ${ip}`);
    }
    // Even wider: a /48-sized pool.
    const wide = await pickAddress(6, [{ start: '2001:db8::', end: '2001:db8:0:ffff:ffff:ffff:ffff:ffff' }], src);
    assert.ok(wide?.startsWith('2001:db8:'));
    // A tiny IPv6 pool is scanned like IPv4.
    const { src: dense } = source(['2001:db8::1', '2001:db8::2']);
    assert.equal(await pickAddress(6, [{ start: '2001:db8::1', end: '2001:db8::3' }], dense), '2001:db8::3');
  });
});

describe('randomBigint', () => {
  test('stays below its bound for narrow and wide ranges', () => {
    for (const below of [1n, 2n, 13n, 2n ** 48n - 1n, 2n ** 48n, 2n ** 64n, 2n ** 128n]) {
      for (let i = 0; i < 50; i++) {
        const v = randomBigint(below);
        assert.ok(v >= 0n && v < below, `${v} !< ${below}`);
      }
    }
    assert.equal(randomBigint(1n), 0n);
  });

  test('wide ranges use high bits too', () => {
    let high = false;
    for (let i = 0; i < 20 && !high; i++) high = randomBigint(2n ** 128n) >= 2n ** 100n;
    assert.ok(high);
  });
});
