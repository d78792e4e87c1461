// Subnets: gateway and allocation pool defaults, validation of pools, gateways, IPv6 modes,
// DNS servers and host routes, overlap rules, SubnetInUse, updates, service types, SLAAC.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, type As, BOB, expectError, type Reply, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

const post = (attrs: Record<string, unknown>, as = ALICE): Promise<Reply> =>
  s.post('/v2.0/subnets', { subnet: { ip_version: String(attrs.cidr ?? '').includes(':') ? 6 : 4, ...attrs } }, as);

describe('gateway and allocation pool defaults', () => {
  test('IPv4 /24: gateway .1, pool .2-.254, defaults', async () => {
    const n = await s.network();
    const r = await post({ network_id: n.id, cidr: '10.0.0.0/24' });
    assert.equal(r.status, 201);
    const sub = r.body.subnet;
    assert.equal(sub.gateway_ip, '10.0.0.1');
    assert.deepEqual(sub.allocation_pools, [{ start: '10.0.0.2', end: '10.0.0.254' }]);
    assert.equal(sub.enable_dhcp, true);
    assert.deepEqual(sub.dns_nameservers, []);
    assert.deepEqual(sub.host_routes, []);
    assert.deepEqual(sub.service_types, []);
    assert.equal(sub.ipv6_ra_mode, null);
    assert.equal(sub.ipv6_address_mode, null);
    assert.equal(sub.subnetpool_id, null);
    assert.equal(sub.ip_version, 4);
    assert.equal(sub.name, '');
    assert.equal(sub.description, '');
    assert.equal(sub.network_id, n.id);
    assert.equal(sub.tenant_id, ALICE.project);
    assert.equal(sub.project_id, ALICE.project);
    assert.equal('shared' in sub, false);
    assert.equal('prefixlen' in sub, false);
  });

  test('host bits in the CIDR are dropped', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.0.1.77/24');
    assert.equal(sub.cidr, '10.0.1.0/24');
  });

  test('IPv4 /30 keeps one address; /31 and /32 without DHCP use every address', async () => {
    const n = await s.network();
    const s30 = await s.subnet(n.id, '10.1.0.0/30');
    assert.equal(s30.gateway_ip, '10.1.0.1');
    assert.deepEqual(s30.allocation_pools, [{ start: '10.1.0.2', end: '10.1.0.2' }]);
    const s31 = await s.subnet(n.id, '10.1.1.0/31', { enable_dhcp: false, gateway_ip: null });
    assert.equal(s31.gateway_ip, null);
    assert.deepEqual(s31.allocation_pools, [{ start: '10.1.1.0', end: '10.1.1.1' }]);
    const s32 = await s.subnet(n.id, '10.1.2.0/32', { enable_dhcp: false });
    assert.deepEqual(s32.allocation_pools, [{ start: '10.1.2.0', end: '10.1.2.0' }]);
  });

  test('/31 and /32 IPv4 (and /127 IPv6) subnets cannot have DHCP', async () => {
    const n = await s.network();
    for (const cidr of ['10.2.0.0/31', '10.2.1.0/32', '2001:db8:2::/127']) {
      const r = await post({ network_id: n.id, cidr });
      expectError(r, 400, 'InvalidInput');
      assert.match(r.body.NeutronError.message, /prefix length that is incompatible with DHCP service enabled/);
    }
    const ok = await post({ network_id: n.id, cidr: '2001:db8:2::/126' });
    assert.equal(ok.status, 201);
  });

  test('/31 default gateway cannot be allocated', async () => {
    const n = await s.network();
    const r = await post({ network_id: n.id, cidr: '10.2.2.0/31', enable_dhcp: false });
    expectError(r, 409, 'IpamValueInvalid');
    assert.match(r.body.NeutronError.message, /Gateway IP 10\.2\.2\.1 cannot be allocated in CIDR 10\.2\.2\.0\/31/);
  });

  test('IPv6: gateway is the subnet-router anycast address, pool from ::1', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '2001:db8:1::/64');
    assert.equal(sub.ip_version, 6);
    assert.equal(sub.gateway_ip, '2001:db8:1::');
    assert.deepEqual(sub.allocation_pools, [{ start: '2001:db8:1::1', end: '2001:db8:1:0:ffff:ffff:ffff:ffff' }]);
    const p = await s.port(n.id);
    assert.equal(p.fixed_ips.length, 1);
    assert.equal(p.fixed_ips[0].subnet_id, sub.id);
    assert.match(p.fixed_ips[0].ip_address, /^2001:db8:1:/);
    assert.notEqual(p.fixed_ips[0].ip_address, '2001:db8:1::');
  });

  test('explicit gateway_ip null: no gateway, pool starts at network+1', async () => {
    const n = await s.network();
    const v4 = await s.subnet(n.id, '10.3.0.0/24', { gateway_ip: null });
    assert.equal(v4.gateway_ip, null);
    assert.deepEqual(v4.allocation_pools, [{ start: '10.3.0.1', end: '10.3.0.254' }]);
    const v6 = await s.subnet(n.id, '2001:db8:3::/64', { gateway_ip: null });
    assert.equal(v6.gateway_ip, null);
    assert.deepEqual(v6.allocation_pools, [{ start: '2001:db8:3::1', end: '2001:db8:3:0:ffff:ffff:ffff:ffff' }]);
  });

  test('explicit gateway splits the default pool; outside the CIDR is allowed', async () => {
    const n = await s.network();
    const top = await s.subnet(n.id, '10.4.0.0/24', { gateway_ip: '10.4.0.254' });
    assert.deepEqual(top.allocation_pools, [{ start: '10.4.0.1', end: '10.4.0.253' }]);
    const mid = await s.subnet(n.id, '10.4.1.0/24', { gateway_ip: '10.4.1.100' });
    assert.deepEqual(mid.allocation_pools, [
      { start: '10.4.1.1', end: '10.4.1.99' },
      { start: '10.4.1.101', end: '10.4.1.254' },
    ]);
    const outside = await s.subnet(n.id, '10.4.2.0/24', { gateway_ip: '10.99.0.1' });
    assert.equal(outside.gateway_ip, '10.99.0.1');
    assert.deepEqual(outside.allocation_pools, [{ start: '10.4.2.1', end: '10.4.2.254' }]);
  });

  test('gateway on the network or broadcast address is 400', async () => {
    const n = await s.network();
    for (const gw of ['10.5.0.0', '10.5.0.255']) {
      const r = await post({ network_id: n.id, cidr: '10.5.0.0/24', gateway_ip: gw });
      expectError(r, 400, 'InvalidInput');
      assert.match(r.body.NeutronError.message, /Gateway is not valid on subnet/);
    }
    expectError(await post({ network_id: n.id, cidr: '10.5.0.0/24', gateway_ip: '2001:db8::1' }), 400);
    expectError(await post({ network_id: n.id, cidr: '10.5.0.0/24', gateway_ip: 'bogus' }), 400);
  });
});

describe('allocation pool validation', () => {
  let netId: string;
  before(async () => {
    netId = (await s.network()).id;
  });
  const pools = (...p: Array<[string, string]>) => p.map(([start, end]) => ({ start, end }));

  test('explicit pools are kept', async () => {
    const r = await post({ network_id: netId, cidr: '10.6.0.0/24', allocation_pools: pools(['10.6.0.10', '10.6.0.20']) });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.subnet.allocation_pools, [{ start: '10.6.0.10', end: '10.6.0.20' }]);
    assert.equal(r.body.subnet.gateway_ip, '10.6.0.1');
  });

  test('out of bounds is 400', async () => {
    const low = await post({ network_id: netId, cidr: '10.6.1.0/24', allocation_pools: pools(['10.6.1.0', '10.6.1.10']) });
    expectError(low, 400, 'OutOfBoundsAllocationPool');
    assert.equal(
      low.body.NeutronError.message,
      'The allocation pool 10.6.1.0-10.6.1.10 spans beyond the subnet cidr 10.6.1.0/24.',
    );
    const high = await post({ network_id: netId, cidr: '10.6.1.0/24', allocation_pools: pools(['10.6.1.2', '10.6.1.255']) });
    expectError(high, 400, 'OutOfBoundsAllocationPool');
    const other = await post({ network_id: netId, cidr: '10.6.1.0/24', allocation_pools: pools(['10.7.0.2', '10.7.0.9']) });
    expectError(other, 400, 'OutOfBoundsAllocationPool');
  });

  test('reversed and wrong-version pools are 400 InvalidAllocationPool', async () => {
    const rev = await post({ network_id: netId, cidr: '10.6.1.0/24', allocation_pools: pools(['10.6.1.20', '10.6.1.10']) });
    expectError(rev, 400, 'InvalidAllocationPool');
    const v6 = await post({ network_id: netId, cidr: '10.6.1.0/24', allocation_pools: pools(['2001:db8::2', '2001:db8::9']) });
    expectError(v6, 400, 'InvalidAllocationPool');
    const bad = await post({ network_id: netId, cidr: '10.6.1.0/24', allocation_pools: pools(['10.6.1.2', '10.6.1.300']) });
    expectError(bad, 400);
  });

  test('overlapping pools are 409', async () => {
    const r = await post({
      network_id: netId,
      cidr: '10.6.1.0/24',
      allocation_pools: pools(['10.6.1.2', '10.6.1.10'], ['10.6.1.5', '10.6.1.20']),
    });
    expectError(r, 409, 'OverlappingAllocationPools');
    assert.equal(
      r.body.NeutronError.message,
      'Found overlapping allocation pools: 10.6.1.2-10.6.1.10 10.6.1.5-10.6.1.20 for subnet 10.6.1.0/24.',
    );
  });

  test('gateway inside a pool is 409', async () => {
    const r = await post({ network_id: netId, cidr: '10.6.1.0/24', allocation_pools: pools(['10.6.1.1', '10.6.1.10']) });
    expectError(r, 409, 'GatewayConflictWithAllocationPools');
    assert.equal(r.body.NeutronError.message, 'Gateway ip 10.6.1.1 conflicts with allocation pool 10.6.1.1-10.6.1.10.');
  });

  test('nothing was created by the failures', async () => {
    const r = await s.get(`/v2.0/subnets?network_id=${netId}`, ALICE);
    assert.deepEqual(
      r.body.subnets.map((x: { cidr: string }) => x.cidr),
      ['10.6.0.0/24'],
    );
  });
});

describe('overlap', () => {
  test('overlapping CIDR on the same network is 400, allowed on another network', async () => {
    const n = await s.network();
    await s.subnet(n.id, '10.7.0.0/16');
    const r = await post({ network_id: n.id, cidr: '10.7.5.0/24' });
    expectError(r, 400, 'InvalidInput');
    assert.match(r.body.NeutronError.message, /overlaps with another subnet/);
    assert.equal(
      r.body.NeutronError.message,
      `Invalid input for operation: Requested subnet with cidr: 10.7.5.0/24 for network: ${n.id} overlaps with another subnet.`,
    );
    const n2 = await s.network();
    const ok = await post({ network_id: n2.id, cidr: '10.7.5.0/24' });
    assert.equal(ok.status, 201);
    const other = await s.network({}, BOB);
    assert.equal((await post({ network_id: other.id, cidr: '10.7.0.0/16' }, BOB)).status, 201);
  });

  test("cidr must match ip_version; network must exist and be the caller's", async () => {
    const n = await s.network();
    expectError(await s.post('/v2.0/subnets', { subnet: { network_id: n.id, cidr: '10.8.0.0/24', ip_version: 6 } }, ALICE), 400);
    expectError(await s.post('/v2.0/subnets', { subnet: { network_id: n.id, cidr: '10.8.0.0/24', ip_version: 5 } }, ALICE), 400);
    expectError(await s.post('/v2.0/subnets', { subnet: { network_id: n.id, ip_version: 4 } }, ALICE), 400);
    expectError(await s.post('/v2.0/subnets', { subnet: { network_id: n.id, cidr: 'nonsense', ip_version: 4 } }, ALICE), 400);
    expectError(await s.post('/v2.0/subnets', { subnet: { cidr: '10.8.0.0/24', ip_version: 4 } }, ALICE), 400);
    expectError(await post({ network_id: '00000000-0000-0000-0000-000000000000', cidr: '10.8.0.0/24' }), 404, 'NetworkNotFound');
    expectError(await post({ network_id: n.id, cidr: '10.8.0.0/24' }, BOB), 404, 'NetworkNotFound');
  });
});

describe('IPv6 modes', () => {
  let netId: string;
  before(async () => {
    netId = (await s.network()).id;
  });

  test('ra_mode and address_mode must be equal when both set', async () => {
    const r = await post({
      network_id: netId,
      cidr: '2001:db8:10::/64',
      ipv6_ra_mode: 'slaac',
      ipv6_address_mode: 'dhcpv6-stateful',
    });
    expectError(r, 400, 'InvalidInput');
    assert.match(
      r.body.NeutronError.message,
      /ipv6_ra_mode set to 'slaac' with ipv6_address_mode set to 'dhcpv6-stateful' is not valid. If both attributes are set, they must be the same value/,
    );
  });

  test('slaac and dhcpv6-stateless need a /64; stateful does not', async () => {
    for (const mode of ['slaac', 'dhcpv6-stateless']) {
      const r = await post({ network_id: netId, cidr: '2001:db8:11::/80', ipv6_address_mode: mode });
      expectError(r, 400, 'InvalidInput');
      assert.match(r.body.NeutronError.message, /Invalid CIDR 2001:db8:11::\/80 for IPv6 address mode/);
      const ra = await post({ network_id: netId, cidr: '2001:db8:11::/80', ipv6_ra_mode: mode });
      expectError(ra, 400, 'InvalidInput');
    }
    const ok = await post({ network_id: netId, cidr: '2001:db8:11::/80', ipv6_address_mode: 'dhcpv6-stateful' });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.subnet.ipv6_address_mode, 'dhcpv6-stateful');
    assert.equal(ok.body.subnet.ipv6_ra_mode, null);
  });

  test('modes on IPv4 are 400', async () => {
    const r = await post({ network_id: netId, cidr: '10.9.0.0/24', ipv6_address_mode: 'slaac' });
    expectError(r, 400, 'InvalidInput');
    assert.match(r.body.NeutronError.message, /ipv6_address_mode is not valid when ip_version is 4/);
    const ra = await post({ network_id: netId, cidr: '10.9.0.0/24', ipv6_ra_mode: 'slaac' });
    expectError(ra, 400, 'InvalidInput');
    assert.match(ra.body.NeutronError.message, /ipv6_ra_mode is not valid when ip_version is 4/);
  });

  test('modes with DHCP disabled are 400, also on update', async () => {
    const r = await post({ network_id: netId, cidr: '2001:db8:12::/64', ipv6_address_mode: 'slaac', enable_dhcp: false });
    expectError(r, 400, 'InvalidInput');
    assert.match(r.body.NeutronError.message, /ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False/);
    const sub = await s.subnet(netId, '2001:db8:12::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    expectError(await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { enable_dhcp: false } }, ALICE), 400, 'InvalidInput');
  });

  test('bad mode value is 400; modes are read-only', async () => {
    expectError(await post({ network_id: netId, cidr: '2001:db8:13::/64', ipv6_address_mode: 'magic' }), 400);
    const sub = await s.subnet(netId, '2001:db8:13::/64');
    expectError(await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { ipv6_address_mode: 'slaac' } }, ALICE), 400);
  });
});

describe('dns_nameservers and host_routes', () => {
  let netId: string;
  before(async () => {
    netId = (await s.network()).id;
  });

  test('valid values are kept in order', async () => {
    const sub = await s.subnet(netId, '10.20.0.0/24', {
      dns_nameservers: ['8.8.8.8', '1.1.1.1'],
      host_routes: [{ destination: '10.50.0.0/24', nexthop: '10.20.0.5' }],
    });
    assert.deepEqual(sub.dns_nameservers, ['8.8.8.8', '1.1.1.1']);
    assert.deepEqual(sub.host_routes, [{ destination: '10.50.0.0/24', nexthop: '10.20.0.5' }]);
  });

  test('more than 5 nameservers is 400 DNSNameServersExhausted', async () => {
    const six = ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6'];
    const r = await post({ network_id: netId, cidr: '10.20.1.0/24', dns_nameservers: six });
    expectError(r, 400, 'DNSNameServersExhausted');
    assert.equal(
      r.body.NeutronError.message,
      'Unable to complete operation for new subnet. The number of DNS nameservers exceeds the limit 5.',
    );
    const sub = await s.subnet(netId, '10.20.1.0/24', { dns_nameservers: six.slice(0, 5) });
    const u = await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { dns_nameservers: six } }, ALICE);
    expectError(u, 400, 'DNSNameServersExhausted');
    assert.equal(
      u.body.NeutronError.message,
      `Unable to complete operation for ${sub.id}. The number of DNS nameservers exceeds the limit 5.`,
    );
  });

  test('duplicate, malformed or wrong-version nameservers are 400', async () => {
    const dup = await post({ network_id: netId, cidr: '10.20.2.0/24', dns_nameservers: ['1.1.1.1', '1.1.1.1'] });
    expectError(dup, 400);
    assert.match(dup.body.NeutronError.message, /Duplicate nameserver '1\.1\.1\.1'/);
    expectError(await post({ network_id: netId, cidr: '10.20.2.0/24', dns_nameservers: ['foo'] }), 400);
    const v6 = await post({ network_id: netId, cidr: '10.20.2.0/24', dns_nameservers: ['2001:db8::1'] });
    expectError(v6, 400, 'InvalidInput');
    assert.match(v6.body.NeutronError.message, /dns_nameserver '2001:db8::1' does not match the ip_version '4'/);
  });

  test('more than 20 host routes is 400 HostRoutesExhausted', async () => {
    const routes = Array.from({ length: 21 }, (_, i) => ({ destination: `10.60.${i}.0/24`, nexthop: '10.20.3.5' }));
    const r = await post({ network_id: netId, cidr: '10.20.3.0/24', host_routes: routes });
    expectError(r, 400, 'HostRoutesExhausted');
    assert.equal(
      r.body.NeutronError.message,
      'Unable to complete operation for new subnet. The number of host routes exceeds the limit 20.',
    );
    const ok = await post({ network_id: netId, cidr: '10.20.3.0/24', host_routes: routes.slice(0, 20) });
    assert.equal(ok.status, 201);
  });

  test('bad host routes are 400', async () => {
    const route = { destination: '10.70.0.0/24', nexthop: '10.20.4.5' };
    expectError(await post({ network_id: netId, cidr: '10.20.4.0/24', host_routes: [route, route] }), 400);
    expectError(await post({ network_id: netId, cidr: '10.20.4.0/24', host_routes: [{ destination: '10.0.0.0/8' }] }), 400);
    const v6 = await post({
      network_id: netId,
      cidr: '10.20.4.0/24',
      host_routes: [{ destination: '2001:db8::/64', nexthop: '10.20.4.1' }],
    });
    expectError(v6, 400, 'InvalidInput');
    assert.match(v6.body.NeutronError.message, /destination '2001:db8::\/64' does not match the ip_version '4'/);
  });
});

describe('delete', () => {
  test('a port with an IP blocks deletion; DHCP ports do not', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.21.0.0/24');
    const dhcp = await s.port(n.id, { device_owner: 'network:dhcp' }, ADMIN);
    const p = await s.port(n.id);
    const r = await s.del(`/v2.0/subnets/${sub.id}`, ALICE);
    expectError(r, 409, 'SubnetInUse');
    assert.equal(
      r.body.NeutronError.message,
      `Unable to complete operation on subnet ${sub.id}: One or more ports have an IP allocation from this subnet.`,
    );
    assert.equal((await s.del(`/v2.0/ports/${p.id}`, ALICE)).status, 204);
    assert.equal((await s.del(`/v2.0/subnets/${sub.id}`, ALICE)).status, 204);
    const d = await s.get(`/v2.0/ports/${dhcp.id}`, ADMIN);
    assert.deepEqual(d.body.port.fixed_ips, []);
    expectError(await s.get(`/v2.0/subnets/${sub.id}`, ALICE), 404, 'SubnetNotFound');
  });

  test('others cannot delete; unknown is 404', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.22.0.0/24');
    expectError(await s.del(`/v2.0/subnets/${sub.id}`, BOB), 404, 'SubnetNotFound');
    expectError(await s.del('/v2.0/subnets/00000000-0000-0000-0000-000000000000', ALICE), 404, 'SubnetNotFound');
  });
});

describe('update', () => {
  test('name, gateway and pools', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.23.0.0/24');
    const u = await s.put(
      `/v2.0/subnets/${sub.id}`,
      { subnet: { name: 'x', gateway_ip: '10.23.0.254', allocation_pools: [{ start: '10.23.0.2', end: '10.23.0.100' }] } },
      ALICE,
    );
    assert.equal(u.status, 200);
    assert.equal(u.body.subnet.name, 'x');
    assert.equal(u.body.subnet.gateway_ip, '10.23.0.254');
    assert.deepEqual(u.body.subnet.allocation_pools, [{ start: '10.23.0.2', end: '10.23.0.100' }]);
    assert.ok(u.body.subnet.revision_number > sub.revision_number);
    const none = await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { gateway_ip: null } }, ALICE);
    assert.equal(none.body.subnet.gateway_ip, null);
  });

  test('gateway inside the pools is 409; bad pools are rejected', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.24.0.0/24');
    const r = await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { gateway_ip: '10.24.0.50' } }, ALICE);
    expectError(r, 409, 'GatewayConflictWithAllocationPools');
    expectError(
      await s.put(
        `/v2.0/subnets/${sub.id}`,
        { subnet: { allocation_pools: [{ start: '10.24.0.2', end: '10.24.1.10' }] } },
        ALICE,
      ),
      400,
      'OutOfBoundsAllocationPool',
    );
    expectError(
      await s.put(
        `/v2.0/subnets/${sub.id}`,
        { subnet: { allocation_pools: [{ start: '10.24.0.1', end: '10.24.0.10' }] } },
        ALICE,
      ),
      409,
      'GatewayConflictWithAllocationPools',
    );
    expectError(await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { gateway_ip: '10.24.0.255' } }, ALICE), 400, 'InvalidInput');
    expectError(await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { cidr: '10.25.0.0/24' } }, ALICE), 400);
    expectError(await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { network_id: n.id } }, ALICE), 400);
  });

  test('a gateway held by a router port cannot be moved (GatewayIpInUse)', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.26.0.0/24', { allocation_pools: [{ start: '10.26.0.2', end: '10.26.0.100' }] });
    const rp = await s.port(
      n.id,
      { device_owner: 'network:router_interface', device_id: 'r1', fixed_ips: [{ subnet_id: sub.id, ip_address: '10.26.0.1' }] },
      ADMIN,
    );
    const r = await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { gateway_ip: '10.26.0.254' } }, ALICE);
    expectError(r, 409, 'GatewayIpInUse');
    assert.equal(r.body.NeutronError.message, `Current gateway ip 10.26.0.1 already in use by port ${rp.id}. Unable to update.`);
    // Any other change is fine.
    assert.equal((await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { name: 'y' } }, ALICE)).status, 200);
  });

  test('a new gateway outside the pools may be an address a plain port holds', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.27.0.0/24');
    await s.port(n.id, { fixed_ips: [{ subnet_id: sub.id, ip_address: '10.27.0.200' }] });
    const u = await s.put(
      `/v2.0/subnets/${sub.id}`,
      { subnet: { allocation_pools: [{ start: '10.27.0.2', end: '10.27.0.100' }] } },
      ALICE,
    );
    assert.equal(u.status, 200);
    const g = await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { gateway_ip: '10.27.0.200' } }, ALICE);
    assert.equal(g.status, 200);
    assert.equal(g.body.subnet.gateway_ip, '10.27.0.200');
  });

  test('enable_dhcp can be toggled; ports can be created after', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.28.0.0/24', { enable_dhcp: false });
    await s.port(n.id);
    const u = await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { enable_dhcp: true } }, ALICE);
    assert.equal(u.status, 200);
    assert.equal(u.body.subnet.enable_dhcp, true);
    const p = await s.port(n.id);
    assert.equal(p.fixed_ips[0].subnet_id, sub.id);
  });
});

describe('service types', () => {
  test('ports get addresses from the subnet whose service_types match their device_owner', async () => {
    const n = await s.network({}, ADMIN);
    const s1 = await s.subnet(n.id, '192.168.1.0/24', { service_types: ['test:type_1', 'network:distributed'] }, ADMIN);
    const s2 = await s.subnet(n.id, '192.168.2.0/24', { service_types: ['test:type_2', 'network:distributed'] }, ADMIN);
    assert.deepEqual(s1.service_types, ['test:type_1', 'network:distributed']);
    const p1 = await s.port(n.id, { device_owner: 'test:type_1' }, ADMIN);
    assert.equal(p1.fixed_ips.length, 1);
    assert.equal(p1.fixed_ips[0].subnet_id, s1.id);
    assert.match(p1.fixed_ips[0].ip_address, /^192\.168\.1\./);
    const p2 = await s.port(n.id, { device_owner: 'test:type_2' }, ADMIN);
    assert.equal(p2.fixed_ips.length, 1);
    assert.equal(p2.fixed_ips[0].subnet_id, s2.id);
    const u = await s.put(`/v2.0/subnets/${s1.id}`, { subnet: { service_types: ['compute:'] } }, ADMIN);
    assert.deepEqual(u.body.subnet.service_types, ['compute:']);
    assert.ok(u.body.subnet.revision_number > s1.revision_number);
    const u2 = await s.put(`/v2.0/subnets/${s1.id}`, { subnet: { service_types: [] } }, ADMIN);
    assert.ok(u2.body.subnet.revision_number > u.body.subnet.revision_number);
  });
});

describe('SLAAC', () => {
  test('a new SLAAC subnet gives existing ports their EUI-64 addresses', async () => {
    const n = await s.network();
    const v4 = await s.subnet(n.id, '10.29.0.0/24');
    const p = await s.port(n.id);
    assert.equal(p.fixed_ips.length, 1);
    const v6 = await s.subnet(n.id, '2001:db8:29::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    const shown = (await s.get(`/v2.0/ports/${p.id}`, ALICE)).body.port;
    assert.equal(shown.fixed_ips.length, 2);
    assert.equal(shown.fixed_ips[0].subnet_id, v4.id);
    const mac = (shown.mac_address as string).split(':').map((h) => Number.parseInt(h, 16));
    const hx = (a: number, b: number) => ((a << 8) | b).toString(16);
    const expected = `2001:db8:29:0:${hx(mac[0] ^ 2, mac[1])}:${hx(mac[2], 0xff)}:${hx(0xfe, mac[3])}:${hx(mac[4], mac[5])}`;
    assert.deepEqual(shown.fixed_ips[1], { subnet_id: v6.id, ip_address: expected });
    // A new port gets both too; a fixed IP on the SLAAC subnet is refused.
    const p2 = await s.port(n.id);
    assert.equal(p2.fixed_ips.length, 2);
    const bad = await s.post(
      '/v2.0/ports',
      { port: { network_id: n.id, fixed_ips: [{ subnet_id: v6.id, ip_address: '2001:db8:29::55' }] } },
      ALICE,
    );
    expectError(bad, 400, 'AllocationOnAutoAddressSubnet');
    // Deleting a SLAAC subnet in use is allowed: the addresses go with it.
    assert.equal((await s.del(`/v2.0/subnets/${v6.id}`, ALICE)).status, 204);
    assert.equal((await s.get(`/v2.0/ports/${p.id}`, ALICE)).body.port.fixed_ips.length, 1);
  });
});

describe('shared filter and visibility', () => {
  const CAROL: As = { project: 'carol-project', roles: ['member'] };
  test('subnets of shared networks are visible to all; ?shared= filters', async () => {
    const shared = await s.network({ shared: true, name: 'sh' }, ADMIN);
    const ss = await s.subnet(shared.id, '10.40.0.0/24', { name: 'shared-sub' }, ADMIN);
    const ext = await s.network({ 'router:external': true }, ADMIN);
    const es = await s.subnet(ext.id, '10.41.0.0/24', { name: 'ext-sub' }, ADMIN);
    const own = await s.network({}, CAROL);
    const os = await s.subnet(own.id, '10.42.0.0/24', { name: 'own-sub' }, CAROL);
    const ids = (r: Reply) => r.body.subnets.map((x: { id: string }) => x.id).sort();
    assert.equal((await s.get(`/v2.0/subnets/${ss.id}`, CAROL)).status, 200);
    expectError(await s.get(`/v2.0/subnets/${es.id}`, CAROL), 404, 'SubnetNotFound');
    assert.deepEqual(ids(await s.get('/v2.0/subnets', CAROL)), [ss.id, os.id].sort());
    assert.deepEqual(ids(await s.get('/v2.0/subnets?shared=False', CAROL)), [os.id]);
    assert.deepEqual(ids(await s.get('/v2.0/subnets?shared=true', CAROL)), [ss.id]);
    const adminShared = ids(await s.get('/v2.0/subnets?shared=True', ADMIN));
    assert.ok(adminShared.includes(ss.id));
    assert.ok(!adminShared.includes(es.id));
    expectError(await s.put(`/v2.0/subnets/${ss.id}`, { subnet: { name: 'x' } }, CAROL), 403);
    expectError(await post({ network_id: shared.id, cidr: '10.43.0.0/24' }, CAROL), 403);
  });
});

describe('revisions and timestamps', () => {
  test('update bumps; show equals create', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.44.0.0/24');
    const shown = (await s.get(`/v2.0/subnets/${sub.id}`, ALICE)).body.subnet;
    assert.equal(shown.created_at, sub.created_at);
    assert.equal(shown.updated_at, sub.updated_at);
    assert.equal(shown.revision_number, sub.revision_number);
    const u = (await s.put(`/v2.0/subnets/${sub.id}`, { subnet: { name: 'z' } }, ALICE)).body.subnet;
    assert.ok(u.revision_number > sub.revision_number);
    assert.equal(u.created_at, sub.created_at);
  });
});
