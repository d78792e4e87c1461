import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMac, isMulticastMac, normalizeMac, parseMac, randomMac, sanitizeMac } from '../../src/ipam/mac.js';

test('parseMac: the forms netaddr reads', () => {
  const want = 0xaabbccddeeffn;
  for (const s of [
    'aa:bb:cc:dd:ee:ff',
    'AA-BB-CC-DD-EE-FF',
    'aabb.ccdd.eeff',
    'aabb:ccdd:eeff',
    'aabbcc-ddeeff',
    'aabbccddeeff',
  ]) {
    assert.equal(parseMac(s), want, s);
  }
  assert.equal(parseMac('a:b:c:d:e:f'), 0x0a0b0c0d0e0fn);
  for (const bad of [
    'aa:bb:cc:dd:ee',
    'aa:bb:cc:dd:ee:ff:00',
    'aa:bb:cc:dd:ee:fg',
    ' aa:bb:cc:dd:ee:ff',
    'aa:bb-cc:dd:ee:ff',
    '',
  ]) {
    assert.equal(parseMac(bad), null, bad);
  }
});

test('normalizeMac: lowercase colon form, refuses zero and broadcast', () => {
  assert.equal(normalizeMac('FA-16-3E-0A-0B-0C'), 'fa:16:3e:0a:0b:0c');
  assert.equal(normalizeMac('00:00:00:00:00:00'), null);
  assert.equal(normalizeMac('FF:FF:FF:FF:FF:FF'), null);
  assert.equal(normalizeMac('01:00:5e:00:00:01'), '01:00:5e:00:00:01'); // multicast passes, as in neutron-lib
  assert.equal(sanitizeMac('00-00-00-00-00-00'), '00:00:00:00:00:00');
  assert.equal(formatMac(1n), '00:00:00:00:00:01');
});

test('isMulticastMac: I/G bit', () => {
  assert.ok(isMulticastMac('01:00:5e:00:00:01'));
  assert.ok(isMulticastMac('33:33:00:00:00:01'));
  assert.ok(!isMulticastMac('fa:16:3e:00:00:01'));
});

test('randomMac: Neutron base_mac rules', () => {
  for (let i = 0; i < 50; i++) {
    const m = randomMac();
    assert.match(m, /^fa:16:3e:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$/);
    assert.match(randomMac('fa:16:3e:4f:00:00'), /^fa:16:3e:4f:[0-9a-f]{2}:[0-9a-f]{2}$/);
  }
  const seen = new Set(Array.from({ length: 100 }, () => randomMac()));
  assert.ok(seen.size > 90);
  assert.throws(() => randomMac('nope'));
});
