// Subnet pools: rendering, prefix merge and bounds, prefix operations, address scope rules,
// default pools, quotas and subnets allocated from pools.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, BOB, expectError, type Reply, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

const pool = (attrs: Record<string, unknown>, as = ALICE): Promise<Reply> =>
  s.post('/v2.0/subnetpools', { subnetpool: { name: 'sp', ...attrs } }, as);
const mk = async (attrs: Record<string, unknown>, as = ALICE) => {
  const r = await pool(attrs, as);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.subnetpool;
};
const scope = (attrs: Record<string, unknown>, as = ALICE) =>
  s.create('address_scopes', 'address_scope', { name: 'as', ...attrs }, as);
const upd = (id: string, attrs: Record<string, unknown>, as = ALICE) =>
  s.put(`/v2.0/subnetpools/${id}`, { subnetpool: attrs }, as);

describe('create, show, update', () => {
  test('prefix lengths render as strings; defaults', async () => {
    const p = await mk({ prefixes: ['10.11.12.0/24'], min_prefixlen: '29' });
    assert.equal(p.min_prefixlen, '29');
    assert.equal(p.default_prefixlen, '29');
    assert.equal(p.max_prefixlen, '32');
    assert.equal(p.ip_version, 4);
    assert.equal(p.shared, false);
    assert.equal(p.is_default, false);
    assert.equal(p.default_quota, null);
    assert.equal(p.address_scope_id, null);
    assert.deepEqual(p.prefixes, ['10.11.12.0/24']);
    assert.equal(p.tenant_id, ALICE.project);
    assert.equal(p.project_id, ALICE.project);
    const shown = (await s.get(`/v2.0/subnetpools/${p.id}`, ALICE)).body.subnetpool;
    assert.equal(shown.min_prefixlen, '29');
    assert.equal(shown.created_at, p.created_at);
    assert.equal(shown.updated_at, p.updated_at);
    const v6 = await mk({ prefixes: ['2001:db8:3::/48'] });
    assert.equal(v6.ip_version, 6);
    assert.equal(v6.min_prefixlen, '64');
    assert.equal(v6.default_prefixlen, '64');
    assert.equal(v6.max_prefixlen, '128');
    const ints = await mk({ prefixes: ['192.168.0.0/16'], min_prefixlen: 21, max_prefixlen: 32, default_quota: 100 });
    assert.equal(ints.min_prefixlen, '21');
    assert.equal(ints.default_quota, 100);
  });

  test('name and prefixes are required', async () => {
    expectError(await s.post('/v2.0/subnetpools', { subnetpool: { prefixes: ['10.0.0.0/8'] } }, ALICE), 400);
    expectError(await pool({}), 400);
    expectError(await pool({ prefixes: ['nonsense'] }), 400);
  });

  test('prefixes are canonicalised, merged and sorted', async () => {
    const p = await mk({ prefixes: ['10.68.0.0/16', '10.67.1.0/24', '10.67.0.0/16', '10.1.0.0/16', '10.70.0.5/24'] });
    assert.deepEqual(p.prefixes, ['10.1.0.0/16', '10.67.0.0/16', '10.68.0.0/16', '10.70.0.0/24']);
    const adj = await mk({ prefixes: ['10.90.1.0/24', '10.90.0.0/24'] });
    assert.deepEqual(adj.prefixes, ['10.90.0.0/23']);
    expectError(await pool({ prefixes: ['10.0.0.0/16', '2001:db8::/48'] }), 400, 'PrefixVersionMismatch');
  });

  test('prefix bounds', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ max_prefixlen: 33 }, 'Illegal prefix bounds: max_prefixlen=33, ip_version_max=32.'],
      [{ min_prefixlen: 33 }, 'Illegal prefix bounds: min_prefixlen=33, max_prefixlen=32.'],
      [{ min_prefixlen: 29, max_prefixlen: 28 }, 'Illegal prefix bounds: min_prefixlen=29, max_prefixlen=28.'],
      [{ min_prefixlen: '29', default_prefixlen: '28' }, 'Illegal prefix bounds: default_prefixlen=28, min_prefixlen=29.'],
      [{ default_prefixlen: 31, max_prefixlen: 30 }, 'Illegal prefix bounds: default_prefixlen=31, max_prefixlen=30.'],
    ];
    for (const [attrs, msg] of cases) {
      const r = await pool({ prefixes: ['10.67.0.0/16'], ...attrs });
      expectError(r, 400, 'IllegalSubnetPoolPrefixBounds');
      assert.equal(r.body.NeutronError.message, msg);
    }
    // A min_prefixlen shorter than the prefixes is fine.
    assert.equal((await mk({ prefixes: ['10.61.0.0/16'] })).min_prefixlen, '8');
    assert.equal(
      (await mk({ prefixes: ['10.64.0.0/24'], min_prefixlen: 16, default_prefixlen: 28, max_prefixlen: 30 })).default_prefixlen,
      '28',
    );
  });

  test('update: name, prefix lengths, description; bumps revision', async () => {
    const p = await mk({ prefixes: ['10.11.12.0/24'], min_prefixlen: '29', description: 'd1' });
    const u = await upd(p.id, { name: 'new', min_prefixlen: '28', max_prefixlen: '30', description: 'd2' });
    assert.equal(u.status, 200);
    assert.ok(u.body.subnetpool.revision_number > p.revision_number);
    const shown = (await s.get(`/v2.0/subnetpools/${p.id}`, ALICE)).body.subnetpool;
    assert.equal(shown.name, 'new');
    assert.equal(shown.min_prefixlen, '28');
    assert.equal(shown.max_prefixlen, '30');
    assert.equal(shown.description, 'd2');
    assert.equal(shown.shared, false);
    assert.equal(shown.created_at, p.created_at);
    const listed = (await s.get('/v2.0/subnetpools?description=d2', ALICE)).body.subnetpools;
    assert.deepEqual(
      listed.map((x: { id: string }) => x.id),
      [p.id],
    );
    // Admin updating a tenant's pool bumps it too.
    const a = await upd(p.id, { name: 'by-admin' }, ADMIN);
    assert.ok(a.body.subnetpool.revision_number > u.body.subnetpool.revision_number);
  });

  test('shared and tenant_id are read-only, even for admin', async () => {
    const p = await mk({ prefixes: ['10.11.12.0/24'] }, ADMIN);
    const r = await upd(p.id, { shared: true }, ADMIN);
    expectError(r, 400);
    assert.equal(r.body.NeutronError.message, 'Cannot update read-only attribute shared');
    expectError(await upd(p.id, { tenant_id: ADMIN.project }, ADMIN), 400);
  });

  test('prefixes: append and extend; shrink is 400', async () => {
    const p = await mk({ prefixes: ['10.11.12.0/24'], min_prefixlen: '29' });
    const a = await upd(p.id, { prefixes: ['10.11.12.0/24', '10.11.15.0/24'] });
    assert.equal(a.status, 200);
    assert.deepEqual(a.body.subnetpool.prefixes, ['10.11.12.0/24', '10.11.15.0/24']);
    const e = await upd(p.id, { prefixes: ['10.11.0.0/16'] });
    assert.deepEqual(e.body.subnetpool.prefixes, ['10.11.0.0/16']);
    const shrink = await upd(p.id, { prefixes: ['10.11.12.0/26'] });
    expectError(shrink, 400, 'IllegalSubnetPoolPrefixUpdate');
    assert.equal(
      shrink.body.NeutronError.message,
      'Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.',
    );
    assert.deepEqual((await s.get(`/v2.0/subnetpools/${p.id}`, ALICE)).body.subnetpool.prefixes, ['10.11.0.0/16']);
  });
});

describe('visibility and policy', () => {
  test('non-UUID and unknown ids are 404', async () => {
    for (const id of ['subnetpool-12345', '00000000-0000-0000-0000-000000000000']) {
      expectError(await s.get(`/v2.0/subnetpools/${id}`, ALICE), 404, 'SubnetPoolNotFound');
      expectError(await s.del(`/v2.0/subnetpools/${id}`, ALICE), 404, 'SubnetPoolNotFound');
      expectError(await upd(id, { name: 'x' }), 404, 'SubnetPoolNotFound');
    }
  });

  test("tenants don't see admin's private pools but see shared ones", async () => {
    const priv = await mk({ prefixes: ['10.12.0.0/16'] }, ADMIN);
    expectError(await s.get(`/v2.0/subnetpools/${priv.id}`, ALICE), 404, 'SubnetPoolNotFound');
    const shared = await mk({ prefixes: ['10.13.0.0/16'], shared: true }, ADMIN);
    const r = await s.get(`/v2.0/subnetpools/${shared.id}`, ALICE);
    assert.equal(r.status, 200);
    assert.equal(r.body.subnetpool.shared, true);
    const notShared = (await s.get('/v2.0/subnetpools?shared=False', ALICE)).body.subnetpools;
    assert.ok(!notShared.some((x: { id: string }) => x.id === shared.id));
    expectError(await upd(shared.id, { name: 'x' }), 403);
  });

  test('tenants cannot create shared or default pools', async () => {
    expectError(await pool({ prefixes: ['10.14.0.0/16'], shared: true }), 403, 'PolicyNotAuthorized');
    expectError(await pool({ prefixes: ['10.14.0.0/16'], is_default: true }), 403, 'PolicyNotAuthorized');
    const p = await mk({ prefixes: ['10.14.0.0/16'], is_default: false });
    assert.equal(p.is_default, false);
  });

  test('one default pool per IP version', async () => {
    const d4 = await mk({ prefixes: ['10.200.0.0/16'], is_default: true }, ADMIN);
    assert.equal(d4.is_default, true);
    const r = await pool({ prefixes: ['10.201.0.0/16'], is_default: true }, ADMIN);
    expectError(r, 400, 'InvalidInput');
    assert.match(r.body.NeutronError.message, /A default subnetpool for this IP family has already been set/);
    const d6 = await mk({ prefixes: ['2001:db8:200::/48'], is_default: true }, ADMIN);
    assert.equal(d6.is_default, true);
    const other = await mk({ prefixes: ['10.202.0.0/16'] }, ADMIN);
    expectError(await upd(other.id, { is_default: true }, ADMIN), 400, 'InvalidInput');
    assert.equal((await upd(d4.id, { is_default: false }, ADMIN)).status, 200);
    assert.equal((await upd(other.id, { is_default: true }, ADMIN)).status, 200);
  });
});

describe('prefix operations', () => {
  test('add and remove return {"prefixes": [...]}', async () => {
    const p = await mk({ prefixes: ['192.168.1.0/24', '10.10.10.0/24'], min_prefixlen: 16 });
    const add = await s.put(`/v2.0/subnetpools/${p.id}/add_prefixes`, { prefixes: ['192.168.2.0/24'] }, ALICE);
    assert.equal(add.status, 200);
    assert.deepEqual(add.body, { prefixes: ['10.10.10.0/24', '192.168.1.0/24', '192.168.2.0/24'] });
    const rm = await s.put(`/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: ['192.168.2.0/24'] }, ALICE);
    assert.equal(rm.status, 200);
    assert.deepEqual(rm.body, { prefixes: ['10.10.10.0/24', '192.168.1.0/24'] });
    const over = await s.put(`/v2.0/subnetpools/${p.id}/add_prefixes`, { prefixes: ['10.10.0.0/16'] }, ALICE);
    assert.deepEqual(over.body, { prefixes: ['10.10.0.0/16', '192.168.1.0/24'] });
    assert.deepEqual((await s.get(`/v2.0/subnetpools/${p.id}`, ALICE)).body.subnetpool.prefixes, [
      '10.10.0.0/16',
      '192.168.1.0/24',
    ]);
    const hole = await s.put(`/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: ['10.10.0.0/24'] }, ALICE);
    assert.deepEqual(hole.body.prefixes, [
      '10.10.1.0/24',
      '10.10.2.0/23',
      '10.10.4.0/22',
      '10.10.8.0/21',
      '10.10.16.0/20',
      '10.10.32.0/19',
      '10.10.64.0/18',
      '10.10.128.0/17',
      '192.168.1.0/24',
    ]);
  });

  test('IPv6 add and overlapping add', async () => {
    const p = await mk({ prefixes: ['2001:db8:1234::/48', '2001:db8:1235::/48'], min_prefixlen: 48 });
    const add = await s.put(`/v2.0/subnetpools/${p.id}/add_prefixes`, { prefixes: ['2001:db8:4321::/48'] }, ALICE);
    assert.deepEqual(add.body.prefixes, ['2001:db8:1234::/47', '2001:db8:4321::/48']);
    const over = await s.put(`/v2.0/subnetpools/${p.id}/add_prefixes`, { prefixes: ['2001:db8:1234:1::/64'] }, ALICE);
    assert.deepEqual(over.body.prefixes, ['2001:db8:1234::/47', '2001:db8:4321::/48']);
    expectError(await s.put(`/v2.0/subnetpools/${p.id}/add_prefixes`, { prefixes: ['10.0.0.0/8'] }, ALICE), 400);
  });

  test('bad bodies and other projects', async () => {
    const p = await mk({ prefixes: ['10.15.0.0/16'] });
    expectError(await s.put(`/v2.0/subnetpools/${p.id}/add_prefixes`, { nope: [] }, ALICE), 400);
    expectError(await s.put(`/v2.0/subnetpools/${p.id}/add_prefixes`, { prefixes: ['bogus'] }, ALICE), 400);
    expectError(await s.put(`/v2.0/subnetpools/${p.id}/add_prefixes`, { prefixes: ['10.16.0.0/16'] }, BOB), 404);
  });

  test('a prefix in use cannot be removed', async () => {
    const p = await mk({ prefixes: ['10.17.0.0/16', '10.18.0.0/16'], min_prefixlen: 16 });
    const n = await s.network();
    await s.create('subnets', 'subnet', { network_id: n.id, ip_version: 4, subnetpool_id: p.id, cidr: '10.17.1.0/24' }, ALICE);
    expectError(await s.put(`/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: ['10.17.0.0/16'] }, ALICE), 400);
    const ok = await s.put(`/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: ['10.18.0.0/16'] }, ALICE);
    assert.deepEqual(ok.body.prefixes, ['10.17.0.0/16']);
  });
});

describe('address scopes', () => {
  test('associate on create and update, switch, disassociate', async () => {
    const s1 = await scope({ ip_version: 4 });
    const s2 = await scope({ ip_version: 4 });
    const p = await mk({ prefixes: ['10.20.0.0/16'], address_scope_id: s1.id });
    assert.equal(p.address_scope_id, s1.id);
    const q = await mk({ prefixes: ['10.21.0.0/16'] });
    assert.equal((await upd(q.id, { address_scope_id: s1.id })).body.subnetpool.address_scope_id, s1.id);
    assert.equal((await upd(q.id, { address_scope_id: s2.id })).body.subnetpool.address_scope_id, s2.id);
    const none = await upd(q.id, { address_scope_id: null });
    assert.equal(none.status, 200);
    assert.equal((await s.get(`/v2.0/subnetpools/${q.id}`, ALICE)).body.subnetpool.address_scope_id, null);
  });

  test('invalid, unknown and invisible scopes', async () => {
    expectError(await pool({ prefixes: ['10.22.0.0/16'], address_scope_id: 'foo-addr-scope' }), 400);
    expectError(
      await pool({ prefixes: ['10.22.0.0/16'], address_scope_id: '00000000-0000-0000-0000-000000000000' }),
      404,
      'AddressScopeNotFound',
    );
    const adminScope = await scope({ ip_version: 4 }, ADMIN);
    expectError(await pool({ prefixes: ['10.22.0.0/16'], address_scope_id: adminScope.id }), 404, 'AddressScopeNotFound');
    const p = await mk({ prefixes: ['10.22.0.0/16'] });
    expectError(await upd(p.id, { address_scope_id: adminScope.id }), 404, 'AddressScopeNotFound');
  });

  test('wrong IP version is 400', async () => {
    const s6 = await scope({ ip_version: 6 });
    const r = await pool({ prefixes: ['10.23.0.0/16'], address_scope_id: s6.id });
    expectError(r, 400, 'IllegalSubnetPoolIpVersionAssociationToAddressScope');
    const p = await mk({ prefixes: ['10.23.0.0/16'] });
    const u = await upd(p.id, { address_scope_id: s6.id });
    expectError(u, 400, 'IllegalSubnetPoolIpVersionAssociationToAddressScope');
    assert.match(u.body.NeutronError.message, /because subnetpool ip_version is not 6/);
  });

  test('overlapping prefixes within a scope are 409; without a scope they are fine', async () => {
    const sc = await scope({ ip_version: 4 });
    await mk({ prefixes: ['10.11.12.0/24'], address_scope_id: sc.id });
    expectError(await pool({ prefixes: ['10.11.12.13/24'], address_scope_id: sc.id }), 409, 'AddressScopePrefixConflict');
    assert.deepEqual((await mk({ prefixes: ['10.11.12.13/24'] })).prefixes, ['10.11.12.0/24']);

    const sc2 = await scope({ ip_version: 4 });
    const a = await mk({ prefixes: ['20.0.0.0/18', '30.0.0.0/18'], address_scope_id: sc2.id });
    expectError(
      await pool({ prefixes: ['40.0.0.0/18', '50.0.0.0/18', '30.0.0.0/12'], address_scope_id: sc2.id }),
      409,
      'AddressScopePrefixConflict',
    );
    const b = await mk({ prefixes: ['20.0.10.0/24'] });
    expectError(await upd(b.id, { address_scope_id: sc2.id }), 409, 'AddressScopePrefixConflict');
    await mk({ prefixes: ['20.10.0.0/24'], address_scope_id: sc2.id });
    expectError(await upd(a.id, { prefixes: ['20.0.0.0/12', '30.0.0.0/18'] }), 409, 'AddressScopePrefixConflict');
    const c = await mk({ prefixes: ['50.0.0.0/18'], address_scope_id: sc2.id });
    expectError(await upd(a.id, { prefixes: ['20.0.0.0/18', '30.0.0.0/18', '50.0.0.0/12'] }), 409, 'AddressScopePrefixConflict');
    expectError(await s.put(`/v2.0/subnetpools/${a.id}/add_prefixes`, { prefixes: ['50.0.0.0/12'] }, ALICE), 409);
    assert.ok(c.id);
  });

  test("a tenant cannot change prefixes of its pool in an admin's shared scope", async () => {
    const shared = await scope({ ip_version: 4, shared: true }, ADMIN);
    const p = await mk({ prefixes: ['20.0.0.0/18', '30.0.0.0/18'] });
    assert.equal((await upd(p.id, { address_scope_id: shared.id }, ADMIN)).status, 200);
    const next = ['20.0.0.0/18', '30.0.0.0/18', '40.0.0.0/18'];
    expectError(await upd(p.id, { prefixes: next }), 400, 'IllegalSubnetPoolPrefixUpdate');
    assert.equal((await upd(p.id, { prefixes: next }, ADMIN)).status, 200);
    assert.deepEqual((await s.get(`/v2.0/subnetpools/${p.id}`, ALICE)).body.subnetpool.prefixes, next);
  });

  test('the network shows the address scope of its pool subnets', async () => {
    const sc = await scope({ ip_version: 4 });
    const p = await mk({ prefixes: ['10.30.0.0/16'], address_scope_id: sc.id, min_prefixlen: 24, default_prefixlen: 24 });
    const n = await s.network();
    await s.create('subnets', 'subnet', { network_id: n.id, ip_version: 4, subnetpool_id: p.id }, ALICE);
    const net = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network;
    assert.equal(net.ipv4_address_scope, sc.id);
    assert.equal(net.ipv6_address_scope, null);
  });
});

describe('subnets from pools', () => {
  const subnet = (attrs: Record<string, unknown>, as = ALICE) =>
    s.post('/v2.0/subnets', { subnet: { ip_version: 4, ...attrs } }, as);

  test('default prefixlen, explicit prefixlen, explicit cidr', async () => {
    const p = await mk({ prefixes: ['10.11.12.0/24'], min_prefixlen: '29', max_prefixlen: '30' });
    const n = await s.network();
    const d = await subnet({ network_id: n.id, subnetpool_id: p.id });
    assert.equal(d.status, 201);
    assert.equal(d.body.subnet.subnetpool_id, p.id);
    assert.equal(d.body.subnet.cidr, '10.11.12.0/29');
    assert.equal(d.body.subnet.gateway_ip, '10.11.12.1');
    const l = await subnet({ network_id: n.id, subnetpool_id: p.id, prefixlen: '30' });
    assert.equal(l.status, 201);
    assert.match(l.body.subnet.cidr, /\/30$/);
    const c = await subnet({ network_id: n.id, subnetpool_id: p.id, cidr: '10.11.12.64/29' });
    assert.equal(c.body.subnet.cidr, '10.11.12.64/29');
    const max = await subnet({ network_id: n.id, subnetpool_id: p.id, prefixlen: '31' });
    expectError(max, 400, 'MaxPrefixSubnetAllocationError');
    assert.equal(max.body.NeutronError.message, 'Unable to allocate subnet with prefix length 31, maximum allowed prefix is 30.');
    const min = await subnet({ network_id: n.id, subnetpool_id: p.id, prefixlen: '28' });
    expectError(min, 400, 'MinPrefixSubnetAllocationError');
    const both = await subnet({ network_id: n.id, subnetpool_id: p.id, cidr: '10.11.12.128/29', prefixlen: '29' });
    expectError(both, 400, 'BadRequest');
    assert.equal(both.body.NeutronError.message, 'Bad subnets request: cidr and prefixlen must not be supplied together.');
    const pools = await subnet({
      network_id: n.id,
      subnetpool_id: p.id,
      allocation_pools: [{ start: '10.11.12.66', end: '10.11.12.70' }],
    });
    expectError(pools, 400, 'BadRequest');
    assert.equal(
      pools.body.NeutronError.message,
      'Bad subnets request: allocation_pools allowed only for specific subnet requests..',
    );
    const v6 = await subnet({ network_id: n.id, subnetpool_id: p.id, ip_version: 6 });
    expectError(v6, 400, 'BadRequest');
    assert.equal(v6.body.NeutronError.message, 'Bad subnets request: Cannot allocate IPv6 subnet from IPv4 subnet pool.');
    const outside = await subnet({ network_id: n.id, subnetpool_id: p.id, cidr: '10.11.13.0/29' });
    expectError(outside, 400, 'SubnetAllocationError');
    const taken = await subnet({ network_id: n.id, subnetpool_id: p.id, cidr: '10.11.12.0/29' });
    assert.equal(taken.body.NeutronError.type, 'SubnetAllocationError');
  });

  test('pool space runs out', async () => {
    const p = await mk({ prefixes: ['10.40.0.0/29'], min_prefixlen: 30 });
    const n = await s.network();
    assert.equal((await subnet({ network_id: n.id, subnetpool_id: p.id })).status, 201);
    assert.equal((await subnet({ network_id: n.id, subnetpool_id: p.id })).status, 201);
    const r = await subnet({ network_id: n.id, subnetpool_id: p.id });
    assert.equal(r.body.NeutronError.type, 'SubnetAllocationError');
  });

  test('IPv6 from pool: default /64 and prefixlen', async () => {
    const p = await mk({ prefixes: ['2001:db8:3::/48'], min_prefixlen: '64' });
    const n = await s.network();
    const d = await subnet({ network_id: n.id, subnetpool_id: p.id, ip_version: 6 });
    assert.equal(d.status, 201);
    assert.equal(d.body.subnet.cidr, '2001:db8:3::/64');
    assert.equal(d.body.subnet.gateway_ip, '2001:db8:3::');
    const wrong = await subnet({ network_id: n.id, subnetpool_id: p.id, ip_version: 4 });
    expectError(wrong, 400);
  });

  test('default_quota counts addresses (IPv4) and /64s (IPv6)', async () => {
    const p = await mk({ prefixes: ['10.11.12.0/24'], min_prefixlen: '29', default_quota: 4 });
    const n = await s.network();
    assert.equal((await subnet({ network_id: n.id, subnetpool_id: p.id, prefixlen: '30' })).status, 201);
    const r = await subnet({ network_id: n.id, subnetpool_id: p.id, prefixlen: '30' });
    expectError(r, 409, 'SubnetPoolQuotaExceeded');
    assert.equal(r.body.NeutronError.message, 'Per-tenant subnet pool prefix quota exceeded.');
    // Another project has its own quota.
    const bn = await s.network({}, BOB);
    const shared = await mk({ prefixes: ['10.50.0.0/24'], min_prefixlen: 30, default_quota: 4, shared: true }, ADMIN);
    assert.equal((await subnet({ network_id: n.id, subnetpool_id: shared.id })).status, 400);
    assert.equal((await subnet({ network_id: bn.id, subnetpool_id: shared.id }, BOB)).status, 201);
    const n2 = await s.network();
    assert.equal((await subnet({ network_id: n2.id, subnetpool_id: shared.id })).status, 201);
    const v6 = await mk({ prefixes: ['2001:db8:9::/48'], min_prefixlen: '64', default_quota: 1 });
    const n3 = await s.network();
    assert.equal((await subnet({ network_id: n3.id, subnetpool_id: v6.id, ip_version: 6 })).status, 201);
    expectError(await subnet({ network_id: n3.id, subnetpool_id: v6.id, ip_version: 6 }), 409, 'SubnetPoolQuotaExceeded');
  });

  test('dual stack from two pools on one network', async () => {
    const p6 = await mk({ prefixes: ['2001:db8:77::/48'], min_prefixlen: '64' });
    const p4 = await mk({ prefixes: ['192.168.0.0/16'], min_prefixlen: 21, max_prefixlen: 32 });
    const n = await s.network();
    assert.equal((await subnet({ network_id: n.id, subnetpool_id: p6.id, ip_version: 6 })).status, 201);
    const r = await subnet({ network_id: n.id, subnetpool_id: p4.id });
    assert.equal(r.status, 201);
    assert.equal(r.body.subnet.cidr, '192.168.0.0/21');
  });

  test('a pool subnet cannot join a network with non-pool subnets', async () => {
    const n = await s.network({}, ADMIN);
    await s.subnet(n.id, '10.100.0.0/28', {}, ADMIN);
    const p = await mk({ prefixes: ['192.168.0.0/16'], min_prefixlen: 21 }, ADMIN);
    const r = await subnet({ network_id: n.id, subnetpool_id: p.id, cidr: '10.100.0.16/28' }, ADMIN);
    expectError(r, 400, 'NetworkSubnetPoolAffinityError');
  });

  test('a pool with subnets cannot be deleted', async () => {
    const p = await mk({ prefixes: ['10.60.0.0/16'], min_prefixlen: 24 });
    const n = await s.network();
    const sub = (await subnet({ network_id: n.id, subnetpool_id: p.id })).body.subnet;
    const r = await s.del(`/v2.0/subnetpools/${p.id}`, ALICE);
    expectError(r, 400, 'SubnetPoolDeleteError');
    assert.equal(r.body.NeutronError.message, 'Unable to delete subnet pool: Subnet pool has existing allocations.');
    assert.equal((await s.del(`/v2.0/subnets/${sub.id}`, ALICE)).status, 204);
    assert.equal((await s.del(`/v2.0/subnetpools/${p.id}`, ALICE)).status, 204);
    expectError(await s.get(`/v2.0/subnetpools/${p.id}`, ALICE), 404, 'SubnetPoolNotFound');
  });
});

describe('default-subnetpools: use_default_subnetpool', () => {
  const subnet = (attrs: Record<string, unknown>, as = ALICE) =>
    s.post('/v2.0/subnets', { subnet: { ip_version: 4, ...attrs } }, as);

  test('a subnet takes its prefix from the default pool of its IP version the caller can see', async () => {
    const ext = (await s.get('/v2.0/extensions/default-subnetpools')).body.extension;
    assert.equal(ext.name, 'Default Subnetpools');
    // Earlier tests leave defaults behind: start from none.
    for (const p of (await s.get('/v2.0/subnetpools?is_default=True', ADMIN)).body.subnetpools) {
      assert.equal((await upd(p.id, { is_default: false }, ADMIN)).status, 200);
    }
    const n = await s.network();
    const none = await subnet({ network_id: n.id, use_default_subnetpool: true });
    expectError(none, 400, 'BadRequest');
    assert.equal(none.body.NeutronError.message, 'Bad subnets request: No default subnetpool found for IPv4.');

    // Another project's default pool that is not shared is not Alice's default.
    const hidden = await mk({ prefixes: ['10.210.0.0/16'], is_default: true, default_prefixlen: 24 }, ADMIN);
    expectError(await subnet({ network_id: n.id, use_default_subnetpool: true }), 400, 'BadRequest');
    const adminNet = await s.network({}, ADMIN);
    const mine = await subnet({ network_id: adminNet.id, use_default_subnetpool: 'true' }, ADMIN);
    assert.equal(mine.status, 201, JSON.stringify(mine.body));
    assert.equal(mine.body.subnet.subnetpool_id, hidden.id);
    assert.equal(mine.body.subnet.cidr, '10.210.0.0/24');
    assert.ok(!('use_default_subnetpool' in mine.body.subnet), 'the attribute is not visible');

    assert.equal((await upd(hidden.id, { is_default: false }, ADMIN)).status, 200);
    const shared = await mk({ prefixes: ['10.211.0.0/16'], is_default: true, shared: true, default_prefixlen: 26 }, ADMIN);
    const got = await subnet({ network_id: n.id, use_default_subnetpool: true });
    assert.equal(got.status, 201, JSON.stringify(got.body));
    assert.equal(got.body.subnet.subnetpool_id, shared.id);
    assert.equal(got.body.subnet.cidr, '10.211.0.0/26');
    const shown = await s.get(`/v2.0/subnets/${got.body.subnet.id}`, ALICE);
    assert.ok(!('use_default_subnetpool' in shown.body.subnet));
    // A prefix length of the caller's choosing, from the default pool.
    const sized = await subnet({ network_id: n.id, use_default_subnetpool: true, prefixlen: 28 });
    assert.equal(sized.status, 201, JSON.stringify(sized.body));
    assert.match(sized.body.subnet.cidr, /^10\.211\.\d+\.\d+\/28$/);

    // IPv6 looks for the IPv6 default.
    const v6 = await subnet({ network_id: n.id, ip_version: 6, use_default_subnetpool: true });
    assert.equal(v6.body.NeutronError.message, 'Bad subnets request: No default subnetpool found for IPv6.');
    const d6 = await mk({ prefixes: ['2001:db8:210::/48'], is_default: true, shared: true }, ADMIN);
    const got6 = await subnet({ network_id: n.id, ip_version: 6, use_default_subnetpool: true });
    assert.equal(got6.status, 201, JSON.stringify(got6.body));
    assert.equal(got6.body.subnet.subnetpool_id, d6.id);
    assert.match(got6.body.subnet.cidr, /^2001:db8:210:[0-9a-f:]*\/64$/);
  });

  test('not with subnetpool_id; false or absent means no pool', async () => {
    const p = await mk({ prefixes: ['10.212.0.0/16'], default_prefixlen: 24 });
    const n = await s.network();
    const both = await subnet({ network_id: n.id, subnetpool_id: p.id, use_default_subnetpool: true });
    expectError(both, 400, 'BadRequest');
    assert.equal(
      both.body.NeutronError.message,
      'Bad subnets request: subnetpool_id and use_default_subnetpool cannot both be specified.',
    );
    const off = await subnet({ network_id: n.id, use_default_subnetpool: false });
    expectError(off, 400, 'BadRequest');
    assert.equal(off.body.NeutronError.message, 'Bad subnets request: a subnetpool must be specified in the absence of a cidr.');
    const plain = await subnet({ network_id: n.id, cidr: '10.99.0.0/24', use_default_subnetpool: false });
    assert.equal(plain.status, 201);
    assert.equal(plain.body.subnet.subnetpool_id, null);
    expectError(await subnet({ network_id: n.id, use_default_subnetpool: 'maybe' }), 400, 'InvalidInput');
    const id = plain.body.subnet.id;
    expectError(await s.put(`/v2.0/subnets/${id}`, { subnet: { use_default_subnetpool: true } }, ALICE), 400);
  });
});

describe('subnet_onboard: onboard_network_subnets', () => {
  const onboard = (poolId: string, body: unknown, as = ALICE) =>
    s.put(`/v2.0/subnetpools/${poolId}/onboard_network_subnets`, body, as);

  test("a network's subnets of the pool's IP version join it, their CIDRs added to its prefixes", async () => {
    const p = await mk({ prefixes: ['10.220.0.0/24'], min_prefixlen: 24 });
    const n = await s.network();
    const a = await s.subnet(n.id, '10.221.0.0/24');
    const b = await s.subnet(n.id, '10.221.1.0/25');
    const v6 = await s.subnet(n.id, '2001:db8:221::/64');
    const r = await onboard(p.id, { network_id: n.id });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : 1);
    assert.deepEqual(
      [...r.body].sort(byId),
      [
        { id: a.id, cidr: '10.221.0.0/24' },
        { id: b.id, cidr: '10.221.1.0/25' },
      ].sort(byId),
    );
    const shown = (await s.get(`/v2.0/subnetpools/${p.id}`, ALICE)).body.subnetpool;
    assert.deepEqual(shown.prefixes, ['10.220.0.0/24', '10.221.0.0/24', '10.221.1.0/25']);
    assert.equal(shown.revision_number, p.revision_number + 1);
    const sa = (await s.get(`/v2.0/subnets/${a.id}`, ALICE)).body.subnet;
    assert.equal(sa.subnetpool_id, p.id);
    assert.equal(sa.revision_number, a.revision_number + 1);
    assert.equal((await s.get(`/v2.0/subnets/${v6.id}`, ALICE)).body.subnet.subnetpool_id, null);
    // The pool now holds them: their prefixes cannot be removed while they are allocated.
    const rm = await s.put(`/v2.0/subnetpools/${p.id}/remove_prefixes`, { prefixes: ['10.221.0.0/24'] }, ALICE);
    expectError(rm, 400, 'IllegalSubnetPoolPrefixUpdate');
    // Onboarding again conflicts with what the pool has allocated.
    const again = await onboard(p.id, { network_id: n.id });
    expectError(again, 400, 'IllegalSubnetPoolUpdate');
    assert.match(
      again.body.NeutronError.message,
      new RegExp(
        `^Illegal subnetpool update : Onboarding subnet [0-9a-f-]{36}: 10\\.221\\.[01]\\.0/2[45] conflicts with allocated prefixes in subnet pool ${p.id}\\.$`,
      ),
    );
    const ext = (await s.get('/v2.0/extensions/subnet_onboard', ALICE)).body.extension;
    assert.equal(ext.name, 'Subnet Onboard');
  });

  test('network_id required and visible; only its owner moves its subnets; the pool must be writable', async () => {
    const p = await mk({ prefixes: ['10.230.0.0/24'] });
    const missing = await onboard(p.id, {});
    expectError(missing, 400, 'InvalidInput');
    assert.equal(missing.body.NeutronError.message, 'Invalid input for operation: network_id must be specified..');
    expectError(await onboard(p.id, { network_id: '6a1a3c1c-1111-4d3e-9f5e-000000000000' }), 404, 'NetworkNotFound');
    const bobs = await s.network({}, BOB);
    expectError(await onboard(p.id, { network_id: bobs.id }), 404, 'NetworkNotFound');
    // A shared network Alice sees but does not own.
    const shared = await s.network({ shared: true }, ADMIN);
    await s.subnet(shared.id, '10.231.0.0/24', {}, ADMIN);
    const foreign = await onboard(p.id, { network_id: shared.id });
    expectError(foreign, 403, 'NotAuthorized');
    assert.equal(foreign.body.NeutronError.message, 'Not authorized.');
    // Bob cannot touch Alice's pool.
    expectError(await onboard(p.id, { network_id: bobs.id }, BOB), 404, 'SubnetPoolNotFound');
    // An admin may onboard any network's subnets.
    const r = await onboard(p.id, { network_id: shared.id }, ADMIN);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.length, 1);
    assert.deepEqual((await s.get(`/v2.0/subnetpools/${p.id}`, ALICE)).body.subnetpool.prefixes, [
      '10.230.0.0/24',
      '10.231.0.0/24',
    ]);
  });
});
