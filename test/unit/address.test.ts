import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalCidr,
  checkSubnetIp,
  cidrContains,
  cidrContainsCidr,
  cidrSize,
  cidrsOverlap,
  defaultAllocationPools,
  defaultGateway,
  eui64,
  firstAddress,
  formatIp,
  gatewayInvalidInSubnet,
  ipToBigint,
  lastAddress,
  normalizeIp,
  parseCidr,
  parseIp,
  validateAllocationPools,
} from '../../src/ipam/address.js';

test('parseIp: strict dotted-quad IPv4', () => {
  assert.deepEqual(parseIp('10.0.0.1'), { version: 4, value: 0x0a000001n });
  assert.deepEqual(parseIp('0.0.0.0'), { version: 4, value: 0n });
  assert.deepEqual(parseIp('255.255.255.255'), { version: 4, value: 0xffffffffn });
  for (const bad of [
    '1.1.1',
    '1.1.1.1.1',
    '01.1.1.1',
    '1.1.1.00',
    '256.1.1.1',
    ' 1.1.1.1',
    '1.1.1.1 ',
    '1.1.1.1\n',
    '',
    '1..1.1',
    '+1.1.1.1',
    '0x1.1.1.1',
    '1'.repeat(59),
  ]) {
    assert.equal(parseIp(bad), null, bad);
  }
});

test('parseIp: IPv6 textual forms, no zone ids', () => {
  assert.equal(parseIp('::')?.value, 0n);
  assert.equal(parseIp('::1')?.value, 1n);
  assert.equal(parseIp('2001:DB8:0:0:0:0:0:1')?.value, (0x20010db8n << 96n) | 1n);
  assert.equal(parseIp('::ffff:1.2.3.4')?.value, 0xffff01020304n);
  assert.equal(parseIp('1:2:3:4:5:6:7::')?.value, parseIp('1:2:3:4:5:6:7:0')?.value);
  assert.equal(parseIp('fe80:0:0:0:0:0:0:0001')?.version, 6);
  for (const bad of [
    'fe80::1%eth0',
    '1::2::3',
    ':1::',
    '1:2:3:4:5:6:7:8::',
    '1:2:3:4:5:6:7',
    '12345::',
    '::ffff:01.2.3.4',
    '1.2.3.4::',
    '::g',
    ':::',
  ]) {
    assert.equal(parseIp(bad), null, bad);
  }
  assert.equal(normalizeIp('1::'), '1::');
});

test('formatIp / normalizeIp: compressed lowercase like inet_ntop', () => {
  const cases: Array<[string, string]> = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'], // longest run wins
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'], // single zero groups stay
    ['0:0:0:0:0:0:0:0', '::'],
    ['fe80::0', 'fe80::'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::ffff:0102:0304', '::ffff:1.2.3.4'],
    ['::ffff:0:0', '::ffff:0.0.0.0'],
    ['2001:db8::ffff:0:0', '2001:db8::ffff:0:0'],
    ['::0.0.0.1', '::1'],
    ['10.0.0.1', '10.0.0.1'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeIp(input), want, input);
  assert.equal(formatIp(6, 1n << 127n), '8000::');
  assert.equal(ipToBigint('0.0.1.0'), 256n);
  assert.throws(() => ipToBigint('nope'));
});

test('parseCidr: strict by default, options for netaddr leniency', () => {
  assert.deepEqual(parseCidr('10.0.0.5/24'), { version: 4, network: 0x0a000000n, prefixlen: 24, ip: 0x0a000005n });
  assert.equal(parseCidr('10.0.0.5'), null);
  assert.equal(parseCidr('10.0.0.5', { allowBareIp: true })?.prefixlen, 32);
  assert.equal(parseCidr('::1', { allowBareIp: true })?.prefixlen, 128);
  assert.equal(parseCidr('10.0.0.0/33'), null);
  assert.equal(parseCidr('10.0.0.0/024'), null);
  assert.equal(parseCidr('10.0.0.0/024', { loose: true })?.prefixlen, 24);
  assert.equal(parseCidr('10.0.0.0/255.255.255.0'), null);
  assert.equal(parseCidr('10.0.0.0/255.255.255.0', { loose: true })?.prefixlen, 24);
  assert.equal(parseCidr('10.0.0.0/0.0.0.255', { loose: true })?.prefixlen, 24);
  assert.equal(parseCidr('2001:db8::/129'), null);
  assert.equal(parseCidr('10/8'), null);
});

test('canonicalCidr and bounds', () => {
  assert.equal(canonicalCidr('10.0.0.5/24'), '10.0.0.0/24');
  assert.equal(canonicalCidr('2001:DB8::1/64'), '2001:db8::/64');
  assert.equal(canonicalCidr('garbage'), null);
  assert.equal(firstAddress('10.0.0.5/24'), '10.0.0.0');
  assert.equal(lastAddress('10.0.0.5/24'), '10.0.0.255');
  assert.equal(lastAddress('2001:db8::/64'), '2001:db8::ffff:ffff:ffff:ffff');
  assert.equal(cidrSize('10.0.0.0/31'), 2n);
  assert.equal(cidrSize('::/0'), 1n << 128n);
});

test('containment and overlap', () => {
  assert.ok(cidrContains('10.0.0.0/24', '10.0.0.255'));
  assert.ok(!cidrContains('10.0.0.0/24', '10.0.1.0'));
  assert.ok(!cidrContains('::/0', '10.0.0.1'));
  assert.ok(cidrContainsCidr('10.0.0.0/8', '10.1.0.0/16'));
  assert.ok(!cidrContainsCidr('10.1.0.0/16', '10.0.0.0/8'));
  assert.ok(cidrsOverlap('10.0.0.0/8', '10.1.0.0/16'));
  assert.ok(!cidrsOverlap('10.0.0.0/24', '10.0.1.0/24'));
  assert.ok(!cidrsOverlap('0.0.0.0/0', '::/0'));
});

test('defaultGateway: network + 1 for both versions', () => {
  assert.equal(defaultGateway('10.0.0.0/24'), '10.0.0.1');
  assert.equal(defaultGateway('2001:db8::/64'), '2001:db8::');
  assert.equal(defaultGateway('10.0.0.5/32'), '10.0.0.6');
  assert.equal(defaultGateway('255.255.255.255/32'), null);
});

test('defaultAllocationPools: Neutron generate_pools', () => {
  assert.deepEqual(defaultAllocationPools('10.0.0.0/24', '10.0.0.1'), [{ start: '10.0.0.2', end: '10.0.0.254' }]);
  assert.deepEqual(defaultAllocationPools('10.0.0.0/24', null), [{ start: '10.0.0.1', end: '10.0.0.254' }]);
  // the gateway splits the range
  assert.deepEqual(defaultAllocationPools('10.0.0.0/24', '10.0.0.100'), [
    { start: '10.0.0.1', end: '10.0.0.99' },
    { start: '10.0.0.101', end: '10.0.0.254' },
  ]);
  // gateway outside the subnet changes nothing
  assert.deepEqual(defaultAllocationPools('10.0.0.0/24', '192.168.0.1'), [{ start: '10.0.0.1', end: '10.0.0.254' }]);
  assert.deepEqual(defaultAllocationPools('10.0.0.0/30', '10.0.0.1'), [{ start: '10.0.0.2', end: '10.0.0.2' }]);
  // /31: both addresses usable, /32: the one address
  assert.deepEqual(defaultAllocationPools('10.0.0.0/31', '10.0.0.1'), [{ start: '10.0.0.0', end: '10.0.0.0' }]);
  assert.deepEqual(defaultAllocationPools('10.0.0.0/31', null), [{ start: '10.0.0.0', end: '10.0.0.1' }]);
  assert.deepEqual(defaultAllocationPools('10.0.0.7/32', '10.0.0.8'), [{ start: '10.0.0.7', end: '10.0.0.7' }]);
  // IPv6 keeps the last address, drops the subnet-router anycast address
  assert.deepEqual(defaultAllocationPools('2001:db8::/64', '2001:db8::1'), [
    { start: '2001:db8::2', end: '2001:db8::ffff:ffff:ffff:ffff' },
  ]);
  assert.deepEqual(defaultAllocationPools('2001:db8::/127', '2001:db8::1'), []);
  assert.deepEqual(defaultAllocationPools('2001:db8::/127', null), [{ start: '2001:db8::1', end: '2001:db8::1' }]);
  assert.deepEqual(defaultAllocationPools('2001:db8::5/128', null), [{ start: '2001:db8::5', end: '2001:db8::5' }]);
});

test('validateAllocationPools: Neutron errors and texts', () => {
  const cidr = '10.0.0.0/24';
  assert.equal(validateAllocationPools(cidr, [{ start: '10.0.0.2', end: '10.0.0.100' }], '10.0.0.1'), null);
  assert.deepEqual(validateAllocationPools(cidr, [{ start: '10.0.0.9', end: '10.0.0.2' }], null), {
    type: 'InvalidAllocationPool',
    status: 400,
    message: "The allocation pool {'start': '10.0.0.9', 'end': '10.0.0.2'} is not valid.",
  });
  assert.deepEqual(validateAllocationPools(cidr, [{ start: '2001:db8::2', end: '2001:db8::9' }], null), {
    type: 'InvalidAllocationPool',
    status: 400,
    message: 'The allocation pool 2001:db8::2-2001:db8::9 is not valid.',
  });
  assert.deepEqual(validateAllocationPools(cidr, [{ start: '10.0.0.0', end: '10.0.0.5' }], null), {
    type: 'OutOfBoundsAllocationPool',
    status: 400,
    message: 'The allocation pool 10.0.0.0-10.0.0.5 spans beyond the subnet cidr 10.0.0.0/24.',
  });
  assert.equal(
    validateAllocationPools(cidr, [{ start: '10.0.0.200', end: '10.0.0.255' }], null)?.type,
    'OutOfBoundsAllocationPool',
  );
  assert.deepEqual(
    validateAllocationPools(
      cidr,
      [
        { start: '10.0.0.2', end: '10.0.0.10' },
        { start: '10.0.0.20', end: '10.0.0.30' },
        { start: '10.0.0.10', end: '10.0.0.12' },
      ],
      null,
    ),
    {
      type: 'OverlappingAllocationPools',
      status: 409,
      message: 'Found overlapping allocation pools: 10.0.0.2-10.0.0.10 10.0.0.10-10.0.0.12 for subnet 10.0.0.0/24.',
    },
  );
  assert.deepEqual(validateAllocationPools(cidr, [{ start: '10.0.0.1', end: '10.0.0.10' }], '10.0.0.1'), {
    type: 'GatewayConflictWithAllocationPools',
    status: 409,
    message: 'Gateway ip 10.0.0.1 conflicts with allocation pool 10.0.0.1-10.0.0.10.',
  });
  // IPv6: the last address is usable
  assert.equal(validateAllocationPools('2001:db8::/126', [{ start: '2001:db8::1', end: '2001:db8::3' }], null), null);
});

test('checkSubnetIp and gatewayInvalidInSubnet', () => {
  assert.ok(checkSubnetIp('10.0.0.0/24', '10.0.0.5', false));
  assert.ok(!checkSubnetIp('10.0.0.0/24', '10.0.0.0', true));
  assert.ok(!checkSubnetIp('10.0.0.0/24', '10.0.0.255', true));
  assert.ok(!checkSubnetIp('2001:db8::/64', '2001:db8::', false));
  assert.ok(checkSubnetIp('2001:db8::/64', '2001:db8::', true));
  assert.ok(gatewayInvalidInSubnet('10.0.0.0/24', '10.0.0.255'));
  assert.ok(!gatewayInvalidInSubnet('10.0.0.0/24', '10.0.1.1'));
  assert.ok(!gatewayInvalidInSubnet('2001:db8::/64', '2001:db8::'));
});

test('eui64: known vectors', () => {
  assert.equal(eui64('2001:db8::/64', '00:16:3e:33:44:55'), '2001:db8::216:3eff:fe33:4455');
  assert.equal(eui64('2001:db8::', '00:16:3e:33:44:55'), '2001:db8::216:3eff:fe33:4455');
  assert.equal(eui64('fe80::/64', 'fa:16:3e:12:34:56'), 'fe80::f816:3eff:fe12:3456');
  assert.equal(eui64('2001:db8:1:2::/64', 'FA-16-3E-00-00-01'), '2001:db8:1:2:f816:3eff:fe00:1');
  assert.throws(() => eui64('10.0.0.0/24', '00:16:3e:33:44:55'), TypeError);
  assert.throws(() => eui64('2001:db8::/64', 'zz'), TypeError);
});
