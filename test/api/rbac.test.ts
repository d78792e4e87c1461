// RBAC policies: the /v2.0/rbac-policies resource, and what sharing means for networks,
// subnets, subnet pools, address scopes and security groups (shared, router:external).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, type As, BOB, expectError, TestServer } from '../helpers.js';

const CAROL: As = { project: 'carol-project', roles: ['member'] };
const ADMIN_P = ADMIN.project as string;
const ALICE_P = ALICE.project as string;
const BOB_P = BOB.project as string;
const CAROL_P = CAROL.project as string;

let s: TestServer;
before(async () => {
  // Many policies per project here; the quota itself is tested apart.
  s = await TestServer.start([['quotas', 'quota_rbac_policy', '-1']]);
});
after(() => s.close());

const base = '/v2.0/rbac-policies';
const policy = (attrs: Record<string, unknown>, as: As = ADMIN) =>
  s.post(base, { rbac_policy: { object_type: 'network', action: 'access_as_shared', ...attrs } }, as);
const share = async (objectId: string, target: string, as: As = ADMIN, extra: Record<string, unknown> = {}) => {
  const r = await policy({ object_id: objectId, target_tenant: target, ...extra }, as);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.rbac_policy;
};
const ids = (list: Array<{ id: string }>) => list.map((x) => x.id);
let cidr = 0;
const nextCidr = () => `10.${100 + Math.floor(cidr / 250)}.${cidr++ % 250}.0/24`;

/** An admin-owned network with a subnet, as tempest's RBAC tests make them. */
async function adminNet(attrs: Record<string, unknown> = {}) {
  const net = await s.network(attrs, ADMIN);
  const subnet = await s.subnet(net.id, nextCidr(), {}, ADMIN);
  return { net, subnet };
}

describe('rbac-policies resource', () => {
  test('extensions are advertised', async () => {
    const aliases = (await s.get('/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
    for (const a of ['rbac-policies', 'rbac-security-groups', 'rbac-subnetpool', 'rbac-address-scope'])
      assert.ok(aliases.includes(a), a);
    assert.equal((await s.get('/v2.0/extensions/rbac-policies')).status, 200);
  });

  test('create, show, list, update, delete; exact shape', async () => {
    const { net } = await adminNet();
    const r = await policy({ object_type: 'NETWORK', object_id: net.id, target_tenant: ALICE_P });
    assert.equal(r.status, 201);
    const p = r.body.rbac_policy;
    assert.deepEqual(Object.keys(p).sort(), [
      'action',
      'id',
      'object_id',
      'object_type',
      'project_id',
      'target_tenant',
      'tenant_id',
    ]);
    assert.equal(p.object_type, 'network');
    assert.equal(p.object_id, net.id);
    assert.equal(p.action, 'access_as_shared');
    assert.equal(p.target_tenant, ALICE_P);
    assert.equal(p.project_id, ADMIN_P);
    assert.equal(p.tenant_id, ADMIN_P);

    assert.deepEqual((await s.get(`${base}/${p.id}`)).body.rbac_policy, p);
    assert.ok(ids((await s.get(base)).body.rbac_policies).includes(p.id));

    const u = await s.put(`${base}/${p.id}`, { rbac_policy: { target_tenant: BOB_P } });
    assert.equal(u.status, 200);
    assert.deepEqual(u.body.rbac_policy, { ...p, target_tenant: BOB_P });

    const d = await s.del(`${base}/${p.id}`);
    assert.equal(d.status, 204);
    assert.equal(d.body, undefined);
    expectError(await s.get(`${base}/${p.id}`), 404, 'RbacPolicyNotFound');
    expectError(await s.del(`${base}/${p.id}`), 404, 'RbacPolicyNotFound');
  });

  test('only target_tenant can be updated', async () => {
    const { net } = await adminNet();
    const p = await share(net.id, ALICE_P);
    for (const k of ['object_id', 'object_type', 'action', 'tenant_id']) {
      expectError(await s.put(`${base}/${p.id}`, { rbac_policy: { [k]: 'x' } }), 400);
    }
  });

  test('input validation: 400s', async () => {
    const { net } = await adminNet();
    expectError(await policy({ object_id: net.id }), 400); // target_tenant required
    expectError(await policy({ object_id: net.id, target_tenant: null }), 400);
    expectError(await policy({ object_id: net.id, target_tenant: '1234'.repeat(100) }), 400);
    expectError(await policy({ object_id: net.id, target_tenant: 'x', object_type: 'router' }), 400);
    expectError(await policy({ object_id: 'not-a-uuid', target_tenant: 'x' }), 400);
    expectError(
      await policy({ object_id: net.id, target_tenant: 'x', action: 'access_as_nothing' }),
      400,
      'InvalidActionForType',
    );
    expectError(await policy({ object_id: net.id, target_tenant: 'x', unknown: 1 }), 400);
    const pool = await s.create('subnetpools', 'subnetpool', { name: 'p', prefixes: ['10.200.0.0/16'] }, ADMIN);
    const r = await policy({ object_type: 'subnetpool', object_id: pool.id, target_tenant: 'x', action: 'access_as_external' });
    expectError(r, 400, 'InvalidActionForType');
    assert.equal(
      r.body.NeutronError.message,
      "Invalid action 'access_as_external' for object type 'subnetpool'. Valid actions: ('access_as_shared',)",
    );
  });

  test('the shared object must exist and be visible: type-specific 404', async () => {
    const missing = '11111111-2222-3333-4444-555555555555';
    expectError(await policy({ object_id: missing, target_tenant: 'x' }), 404, 'NetworkNotFound');
    const types: Array<[string, string]> = [
      ['subnetpool', 'SubnetPoolNotFound'],
      ['address_scope', 'AddressScopeNotFound'],
      ['security_group', 'SecurityGroupNotFound'],
    ];
    for (const [t, err] of types) expectError(await policy({ object_type: t, object_id: missing, target_tenant: 'x' }), 404, err);
    // Someone else's private network is as good as missing.
    const { net } = await adminNet();
    expectError(await policy({ object_id: net.id, target_tenant: BOB_P }, ALICE), 404, 'NetworkNotFound');
  });

  test('only the owner or an admin may share; sharing to * is admin-only', async () => {
    const { net } = await adminNet();
    await share(net.id, ALICE_P);
    // Alice sees the network but does not own it: Neutron answers InvalidInput.
    const r = await policy({ object_id: net.id, target_tenant: ALICE_P }, ALICE);
    expectError(r, 400, 'InvalidInput');
    assert.match(r.body.NeutronError.message, /Only admins can manipulate policies on networks they do not own/);

    const own = await s.network({}, ALICE);
    expectError(await policy({ object_id: own.id, target_tenant: '*' }, ALICE), 403, 'PolicyNotAuthorized');
    expectError(await policy({ object_id: own.id, target_tenant: '*', action: 'access_as_external' }, ALICE), 403);
    const p = await share(own.id, BOB_P, ALICE);
    assert.equal(p.project_id, ALICE_P);
    expectError(await s.put(`${base}/${p.id}`, { rbac_policy: { target_tenant: '*' } }, ALICE), 403, 'PolicyNotAuthorized');
    // The admin may.
    assert.equal((await s.put(`${base}/${p.id}`, { rbac_policy: { target_tenant: '*' } })).status, 200);
  });

  test('duplicates are 409 DuplicateRbacPolicy, on create and on update', async () => {
    const { net } = await adminNet();
    await share(net.id, ALICE_P);
    expectError(await policy({ object_id: net.id, target_tenant: ALICE_P }), 409, 'DuplicateRbacPolicy');
    const p2 = await share(net.id, BOB_P);
    expectError(await s.put(`${base}/${p2.id}`, { rbac_policy: { target_tenant: ALICE_P } }), 409, 'DuplicateRbacPolicy');
    // Same target with the other action is another policy.
    await share(net.id, ALICE_P, ADMIN, { action: 'access_as_external' });
  });

  test('policies are visible to their owner only, not to their target', async () => {
    const own = await s.network({}, ALICE);
    const p = await share(own.id, BOB_P, ALICE);
    assert.ok(ids((await s.get(base, ALICE)).body.rbac_policies).includes(p.id));
    assert.ok(!ids((await s.get(base, BOB)).body.rbac_policies).includes(p.id));
    expectError(await s.get(`${base}/${p.id}`, BOB), 404, 'RbacPolicyNotFound');
    expectError(await s.put(`${base}/${p.id}`, { rbac_policy: { target_tenant: BOB_P } }, BOB), 404);
    expectError(await s.del(`${base}/${p.id}`, BOB), 404);
    assert.ok(ids((await s.get(base)).body.rbac_policies).includes(p.id));
  });

  test('fields, filters and sorting; pagination is off', async () => {
    const own = await s.network({}, CAROL);
    const p1 = await share(own.id, BOB_P, CAROL);
    const p2 = await share(own.id, CAROL_P, CAROL);
    for (const fields of [['id'], ['id', 'action'], ['object_type', 'object_id'], ['project_id', 'target_tenant']]) {
      const q = fields.map((f) => `fields=${f}`).join('&');
      const list = (await s.get(`${base}?${q}`, CAROL)).body.rbac_policies;
      assert.deepEqual(Object.keys(list[0]).sort(), [...fields].sort());
    }
    assert.deepEqual(ids((await s.get(`${base}?id=${p1.id}`, CAROL)).body.rbac_policies), [p1.id]);
    assert.deepEqual(ids((await s.get(`${base}?target_tenant=${CAROL_P}`, CAROL)).body.rbac_policies), [p2.id]);
    assert.equal((await s.get(`${base}?object_id=${own.id}&action=access_as_external`, CAROL)).body.rbac_policies.length, 0);
    const sorted = (await s.get(`${base}?sort_key=target_tenant&sort_dir=desc`, CAROL)).body.rbac_policies;
    assert.deepEqual(
      sorted.map((p: { target_tenant: string }) => p.target_tenant),
      [CAROL_P, BOB_P],
    );
    const paged = await s.get(`${base}?limit=1`, CAROL);
    assert.equal(paged.status, 200);
    assert.equal(paged.body.rbac_policies.length, 2);
    assert.deepEqual(Object.keys(paged.body), ['rbac_policies']);
    expectError(await s.get(`${base}?bogus=1`, CAROL), 400);
  });

  test('deleting the object deletes its policies', async () => {
    const own = await s.network({}, ALICE);
    const p = await share(own.id, BOB_P, ALICE);
    assert.equal((await s.del(`/v2.0/networks/${own.id}`, ALICE)).status, 204);
    expectError(await s.get(`${base}/${p.id}`), 404, 'RbacPolicyNotFound');
  });
});

describe('networks shared with one project', () => {
  test('visible and usable by the target only', async () => {
    const { net, subnet } = await adminNet();
    expectError(await s.get(`/v2.0/networks/${net.id}`, ALICE), 404, 'NetworkNotFound');
    await share(net.id, ALICE_P);
    const seen = (await s.get(`/v2.0/networks/${net.id}`, ALICE)).body.network;
    assert.equal(seen.shared, true); // shared with the caller's project
    assert.equal((await s.get(`/v2.0/subnets/${subnet.id}`, ALICE)).status, 200);
    expectError(await s.get(`/v2.0/networks/${net.id}`, BOB), 404, 'NetworkNotFound');
    expectError(await s.get(`/v2.0/subnets/${subnet.id}`, BOB), 404, 'SubnetNotFound');
    // Only a '*' policy or one to the caller makes it "shared" for the caller.
    assert.equal((await s.get(`/v2.0/networks/${net.id}`)).body.network.shared, false);
    assert.ok(ids((await s.get('/v2.0/networks?shared=True', ALICE)).body.networks).includes(net.id));
    assert.ok(!ids((await s.get('/v2.0/networks?shared=False', ALICE)).body.networks).includes(net.id));
    assert.ok(ids((await s.get('/v2.0/subnets?shared=True', ALICE)).body.subnets).includes(subnet.id));
    const port = await s.port(net.id, {}, ALICE);
    assert.equal(port.fixed_ips.length, 1);
    expectError(await s.post('/v2.0/ports', { port: { network_id: net.id } }, BOB), 404, 'NetworkNotFound');
    // Tenants may not add subnets to a network they don't own.
    expectError(await s.post('/v2.0/subnets', { subnet: { network_id: net.id, cidr: nextCidr(), ip_version: 4 } }, ALICE), 403);
  });

  test('a port of the target project prevents deleting or retargeting the policy', async () => {
    const { net } = await adminNet();
    const p = await share(net.id, ALICE_P);
    const port = await s.port(net.id, {}, ALICE);
    const r = await s.del(`${base}/${p.id}`);
    expectError(r, 409, 'RbacPolicyInUse');
    assert.match(r.body.NeutronError.message, new RegExp(`RBAC policy on object ${net.id} cannot be removed`));
    expectError(await s.put(`${base}/${p.id}`, { rbac_policy: { target_tenant: BOB_P } }), 409, 'RbacPolicyInUse');
    // Widening to everyone is fine; a wildcard covers Alice, so the specific one can go.
    const wild = await share(net.id, '*');
    assert.equal((await s.del(`${base}/${p.id}`)).status, 204);
    expectError(await s.del(`${base}/${wild.id}`), 409, 'RbacPolicyInUse');
    const again = await share(net.id, ALICE_P);
    assert.equal((await s.del(`${base}/${wild.id}`)).status, 204);
    assert.equal((await s.del(`/v2.0/ports/${port.id}`, ALICE)).status, 204);
    assert.equal((await s.del(`${base}/${again.id}`)).status, 204);
  });

  test('self-sharing never blocks; the network owner may delete ports on it', async () => {
    const own = await s.network({}, ALICE);
    const self = await share(own.id, ALICE_P, ALICE);
    const port = await s.port(own.id, {}, ALICE);
    assert.equal((await s.put(`${base}/${self.id}`, { rbac_policy: { target_tenant: BOB_P } }, ALICE)).status, 200);
    assert.equal((await s.del(`/v2.0/ports/${port.id}`, ALICE)).status, 204);
    const bobs = await s.port(own.id, {}, BOB);
    expectError(await s.del(`/v2.0/ports/${bobs.id}`, CAROL), 404);
    assert.equal((await s.del(`/v2.0/ports/${bobs.id}`, ALICE)).status, 204);
  });

  test('allowed address pairs stay with the network owner', async () => {
    const { net } = await adminNet();
    await share(net.id, ALICE_P);
    const pairs = [{ ip_address: '1.1.1.1' }];
    expectError(await s.post('/v2.0/ports', { port: { network_id: net.id, allowed_address_pairs: pairs } }, ALICE), 403);
    const port = await s.port(net.id, {}, ALICE);
    expectError(await s.put(`/v2.0/ports/${port.id}`, { port: { allowed_address_pairs: pairs } }, ALICE), 403);
    assert.equal((await s.put(`/v2.0/ports/${port.id}`, { port: { allowed_address_pairs: pairs } })).status, 200);
    await s.del(`/v2.0/ports/${port.id}`, ALICE);
  });

  test('policies bump the network revision', async () => {
    const { net } = await adminNet();
    const rev = (await s.get(`/v2.0/networks/${net.id}`)).body.network.revision_number;
    const p = await share(net.id, '*');
    const rev2 = (await s.get(`/v2.0/networks/${net.id}`)).body.network.revision_number;
    assert.ok(rev2 > rev);
    await s.del(`${base}/${p.id}`);
    assert.ok((await s.get(`/v2.0/networks/${net.id}`)).body.network.revision_number > rev2);
  });
});

describe('shared attribute = wildcard access_as_shared policy', () => {
  test('shared=true creates the * policy, false removes it', async () => {
    const net = await s.network({ shared: true }, ADMIN);
    assert.equal(net.shared, true);
    const wild = (await s.get(`${base}?object_id=${net.id}`)).body.rbac_policies;
    assert.equal(wild.length, 1);
    assert.equal(wild[0].target_tenant, '*');
    assert.equal(wild[0].action, 'access_as_shared');
    assert.equal((await s.get(`/v2.0/networks/${net.id}`, BOB)).body.network.shared, true);

    const u = await s.put(`/v2.0/networks/${net.id}`, { network: { shared: false, name: 'n2' } });
    assert.equal(u.status, 200);
    assert.equal(u.body.network.shared, false);
    assert.equal((await s.get(`${base}?object_id=${net.id}`)).body.rbac_policies.length, 0);
    expectError(await s.get(`/v2.0/networks/${net.id}`, BOB), 404);

    // Back to shared through the API, then a * policy made by hand is the same thing.
    assert.equal((await s.put(`/v2.0/networks/${net.id}`, { network: { shared: true } })).body.network.shared, true);
    const p = (await s.get(`${base}?object_id=${net.id}`)).body.rbac_policies[0];
    assert.equal((await s.del(`${base}/${p.id}`)).status, 204);
    assert.equal((await s.get(`/v2.0/networks/${net.id}`)).body.network.shared, false);
    await share(net.id, '*');
    assert.equal((await s.get(`/v2.0/networks/${net.id}`)).body.network.shared, true);
    assert.ok(ids((await s.get('/v2.0/networks?shared=True')).body.networks).includes(net.id));
  });

  test('unsharing while another project has ports: 409 InvalidSharedSetting', async () => {
    const net = await s.network({ shared: true }, ADMIN);
    await s.subnet(net.id, nextCidr(), {}, ADMIN);
    const port = await s.port(net.id, {}, BOB);
    expectError(await s.put(`/v2.0/networks/${net.id}`, { network: { shared: false } }), 409, 'InvalidSharedSetting');
    // A policy for Bob keeps him covered.
    await share(net.id, BOB_P);
    assert.equal((await s.put(`/v2.0/networks/${net.id}`, { network: { shared: false } })).status, 200);
    assert.equal((await s.get(`/v2.0/networks/${net.id}`, BOB)).body.network.shared, true);
    assert.equal((await s.get(`/v2.0/networks/${net.id}`, CAROL)).status, 404);
    await s.del(`/v2.0/ports/${port.id}`, BOB);
  });

  test('shared filter with policies to several projects present', async () => {
    const { net, subnet } = await adminNet();
    await share(net.id, ALICE_P);
    await share(net.id, '*');
    for (const [res, id] of [
      ['subnets', subnet.id],
      ['networks', net.id],
    ]) {
      assert.ok(!ids((await s.get(`/v2.0/${res}?shared=False`)).body[res]).includes(id));
      assert.ok(ids((await s.get(`/v2.0/${res}?shared=True`)).body[res]).includes(id));
    }
    const mine = await s.network({}, ADMIN);
    const shared = (await s.get('/v2.0/networks?shared=True')).body.networks;
    assert.ok(shared.every((n: { shared: boolean }) => n.shared === true));
    assert.ok(!ids(shared).includes(mine.id));
    const unshared = (await s.get('/v2.0/networks?shared=False', ALICE)).body.networks;
    assert.ok(unshared.every((n: { shared: boolean }) => n.shared === false));
  });
});

describe('router:external = access_as_external policies', () => {
  const external = (id: string) => s.get(`${base}?object_id=${id}&action=access_as_external&target_tenant=*`);

  test('external networks make and clear the * policy; visible to all, their subnets are not', async () => {
    const net = await s.network({ 'router:external': true }, ADMIN);
    const sub = await s.subnet(net.id, nextCidr(), { enable_dhcp: false }, ADMIN);
    assert.equal((await external(net.id)).body.rbac_policies.length, 1);
    const seen = (await s.get(`/v2.0/networks/${net.id}`, BOB)).body.network;
    assert.equal(seen['router:external'], true);
    assert.equal(seen.shared, false);
    expectError(await s.get(`/v2.0/subnets/${sub.id}`, BOB), 404);
    assert.ok(!ids((await s.get('/v2.0/networks?router%3Aexternal=False', BOB)).body.networks).includes(net.id));
    assert.ok(ids((await s.get('/v2.0/networks?router%3Aexternal=True', BOB)).body.networks).includes(net.id));

    await s.put(`/v2.0/networks/${net.id}`, { network: { 'router:external': false } });
    assert.equal((await external(net.id)).body.rbac_policies.length, 0);
    expectError(await s.get(`/v2.0/networks/${net.id}`, BOB), 404);

    const plain = await s.network({}, ADMIN);
    assert.equal((await external(plain.id)).body.rbac_policies.length, 0);
    await s.put(`/v2.0/networks/${plain.id}`, { network: { 'router:external': true } });
    assert.equal((await external(plain.id)).body.rbac_policies.length, 1);
  });

  test('an access_as_external policy converts the network; the last one going converts it back', async () => {
    const net = await s.network({}, ADMIN);
    const p1 = await share(net.id, ADMIN_P, ADMIN, { action: 'access_as_external' });
    assert.equal((await s.get(`/v2.0/networks/${net.id}`)).body.network['router:external'], true);
    // Only the target project sees it.
    expectError(await s.get(`/v2.0/networks/${net.id}`, BOB), 404);
    const p2 = await share(net.id, BOB_P, ADMIN, { action: 'access_as_external' });
    assert.equal((await s.get(`/v2.0/networks/${net.id}`, BOB)).body.network['router:external'], true);
    assert.equal((await s.del(`${base}/${p2.id}`)).status, 204);
    assert.equal((await s.get(`/v2.0/networks/${net.id}`)).body.network['router:external'], true);
    assert.equal((await s.del(`${base}/${p1.id}`)).status, 204);
    assert.equal((await s.get(`/v2.0/networks/${net.id}`)).body.network['router:external'], false);
  });

  test('deleting the * shared policy leaves an external network external', async () => {
    const net = await s.network({ 'router:external': true }, ADMIN);
    const p = await share(net.id, '*');
    assert.equal((await s.del(`${base}/${p.id}`)).status, 204);
    const shown = (await s.get(`/v2.0/networks/${net.id}`)).body.network;
    assert.equal(shown['router:external'], true);
    assert.equal(shown.shared, false);
  });

  test('a tenant may share its own network as external with another project, not with *', async () => {
    const own = await s.network({}, ALICE);
    expectError(await policy({ object_id: own.id, target_tenant: '*', action: 'access_as_external' }, ALICE), 403);
    await share(own.id, BOB_P, ALICE, { action: 'access_as_external' });
    assert.ok(ids((await s.get('/v2.0/networks', BOB)).body.networks).includes(own.id));
  });
});

describe('subnet pools', () => {
  const mkPool = (attrs: Record<string, unknown>, as: As = ADMIN) =>
    s.create('subnetpools', 'subnetpool', { name: 'pool', min_prefixlen: 24, ...attrs }, as);

  test('shared with one project: visible, usable, and the policy stays while subnets use it', async () => {
    const pool = await mkPool({ prefixes: ['10.210.0.0/16'] });
    expectError(await s.get(`/v2.0/subnetpools/${pool.id}`, BOB), 404, 'SubnetPoolNotFound');
    const p = await share(pool.id, BOB_P, ADMIN, { object_type: 'subnetpool' });
    const seen = (await s.get(`/v2.0/subnetpools/${pool.id}`, BOB)).body.subnetpool;
    assert.equal(seen.shared, true);
    expectError(await s.get(`/v2.0/subnetpools/${pool.id}`, ALICE), 404);
    assert.ok(ids((await s.get('/v2.0/subnetpools?shared=True', BOB)).body.subnetpools).includes(pool.id));
    const net = await s.network({}, BOB);
    const sub = await s.create('subnets', 'subnet', { network_id: net.id, ip_version: 4, subnetpool_id: pool.id }, BOB);
    expectError(await s.del(`${base}/${p.id}`), 409, 'RbacPolicyInUse');
    assert.equal((await s.del(`/v2.0/subnets/${sub.id}`, BOB)).status, 204);
    assert.equal((await s.del(`${base}/${p.id}`)).status, 204);
  });

  test('shared=true on create makes the * policy', async () => {
    const pool = await mkPool({ prefixes: ['10.211.0.0/16'], shared: true });
    assert.equal(pool.shared, true);
    const list = (await s.get(`${base}?object_id=${pool.id}`)).body.rbac_policies;
    assert.deepEqual(
      list.map((p: Record<string, string>) => [p.object_type, p.target_tenant, p.action]),
      [['subnetpool', '*', 'access_as_shared']],
    );
    assert.equal((await s.get(`/v2.0/subnetpools/${pool.id}`, CAROL)).body.subnetpool.shared, true);
  });

  test('a pool cannot be shared with a project that has no access to its address scope', async () => {
    const scope = await s.create('address_scopes', 'address_scope', { name: 'as', ip_version: 4 }, ADMIN);
    const sp = await share(scope.id, ALICE_P, ADMIN, { object_type: 'address_scope' });
    const pool = await mkPool({ prefixes: ['10.212.0.0/16'], address_scope_id: scope.id }, ALICE);
    const r = await policy({ object_type: 'subnetpool', object_id: pool.id, target_tenant: BOB_P }, ALICE);
    expectError(r, 400, 'InvalidInput');
    // Once Bob may use the scope, the pool can be shared with him.
    await share(scope.id, BOB_P, ADMIN, { object_type: 'address_scope' });
    const pp = await share(pool.id, BOB_P, ALICE, { object_type: 'subnetpool' });
    assert.equal(pp.project_id, ALICE_P);
    // Alice's pool in the scope pins her access to it.
    expectError(await s.del(`${base}/${sp.id}`), 409, 'RbacPolicyInUse');
  });

  test('a regular client cannot share a pool it does not own', async () => {
    const pool = await mkPool({ prefixes: ['10.213.0.0/16'] });
    await share(pool.id, ALICE_P, ADMIN, { object_type: 'subnetpool' });
    expectError(await policy({ object_type: 'subnetpool', object_id: pool.id, target_tenant: BOB_P }, ALICE), 400);
  });
});

describe('address scopes', () => {
  test('shared with one project: visible; a pool in it pins the policy', async () => {
    const scope = await s.create('address_scopes', 'address_scope', { name: 'as', ip_version: 4 }, ADMIN);
    expectError(await s.get(`/v2.0/address-scopes/${scope.id}`, BOB), 404, 'AddressScopeNotFound');
    const p = await share(scope.id, BOB_P, ADMIN, { object_type: 'address_scope' });
    assert.equal((await s.get(`/v2.0/address-scopes/${scope.id}`, BOB)).body.address_scope.shared, true);
    assert.equal((await s.get(`/v2.0/address-scopes/${scope.id}`)).body.address_scope.shared, false);
    expectError(await s.get(`/v2.0/address-scopes/${scope.id}`, ALICE), 404);
    const pool = await s.create(
      'subnetpools',
      'subnetpool',
      { name: 'p', prefixes: ['10.0.0.0/8'], default_prefixlen: 24, address_scope_id: scope.id },
      BOB,
    );
    expectError(await s.del(`${base}/${p.id}`), 409, 'RbacPolicyInUse');
    // Retargeting to Alice would strand Bob's pool too.
    expectError(await s.put(`${base}/${p.id}`, { rbac_policy: { target_tenant: ALICE_P } }), 409, 'RbacPolicyInUse');
    assert.equal((await s.del(`/v2.0/subnetpools/${pool.id}`, BOB)).status, 204);
    assert.equal((await s.put(`${base}/${p.id}`, { rbac_policy: { target_tenant: ALICE_P } })).status, 200);
    assert.equal((await s.del(`${base}/${p.id}`)).status, 204);
  });

  test('shared=true (create or update) is the * policy; it cannot be undone by update', async () => {
    const scope = await s.create('address_scopes', 'address_scope', { name: 'as', ip_version: 6 }, ADMIN);
    const u = await s.put(`/v2.0/address-scopes/${scope.id}`, { address_scope: { shared: true } });
    assert.equal(u.body.address_scope.shared, true);
    assert.equal((await s.get(`${base}?object_id=${scope.id}&target_tenant=*`)).body.rbac_policies.length, 1);
    expectError(await s.put(`/v2.0/address-scopes/${scope.id}`, { address_scope: { shared: false } }), 400);
    assert.ok(ids((await s.get('/v2.0/address-scopes?shared=True', CAROL)).body.address_scopes).includes(scope.id));
  });
});

describe('security groups', () => {
  test('shared with one project: visible, usable by its ports, pinned by them', async () => {
    const sg = await s.create('security_groups', 'security_group', { name: 'shared-sg' }, ADMIN);
    expectError(await s.get(`/v2.0/security-groups/${sg.id}`, BOB), 404, 'SecurityGroupNotFound');
    const p = await share(sg.id, BOB_P, ADMIN, { object_type: 'security_group' });
    const seen = (await s.get(`/v2.0/security-groups/${sg.id}`, BOB)).body.security_group;
    assert.equal(seen.shared, true);
    assert.ok(ids((await s.get('/v2.0/security-groups?shared=True', BOB)).body.security_groups).includes(sg.id));
    assert.ok(!ids((await s.get('/v2.0/security-groups?shared=False', BOB)).body.security_groups).includes(sg.id));
    expectError(await s.get(`/v2.0/security-groups/${sg.id}`, ALICE), 404);

    const net = await s.network({}, BOB);
    const port = await s.port(net.id, { security_groups: [sg.id] }, BOB);
    assert.deepEqual(port.security_groups, [sg.id]);
    expectError(await s.del(`${base}/${p.id}`), 409, 'RbacPolicyInUse');
    assert.equal((await s.del(`/v2.0/ports/${port.id}`, BOB)).status, 204);
    assert.equal((await s.del(`${base}/${p.id}`)).status, 204);
    expectError(await s.get(`/v2.0/security-groups/${sg.id}`, BOB), 404);
  });

  test('a regular client cannot share a group it does not own; deleting the group drops its policies', async () => {
    const sg = await s.create('security_groups', 'security_group', { name: 'g' }, ADMIN);
    const p = await share(sg.id, ALICE_P, ADMIN, { object_type: 'security_group' });
    expectError(await policy({ object_type: 'security_group', object_id: sg.id, target_tenant: BOB_P }, ALICE), 400);
    assert.ok(!ids((await s.get(base, ALICE)).body.rbac_policies).includes(p.id));
    assert.equal((await s.del(`/v2.0/security-groups/${sg.id}`)).status, 204);
    expectError(await s.get(`${base}/${p.id}`), 404, 'RbacPolicyNotFound');
  });
});

describe('quota', () => {
  test('rbac_policy quota (default 10) → 409 OverQuota', async () => {
    const q = await TestServer.start();
    try {
      const net = await q.network({}, ALICE);
      let last = 0;
      for (let i = 0; i < 11; i++) {
        const r = await q.post(base, {
          rbac_policy: { object_type: 'network', object_id: net.id, action: 'access_as_shared', target_tenant: `p${i}` },
        });
        last = r.status;
        if (r.status !== 201) {
          expectError(r, 409, 'OverQuota');
          break;
        }
      }
      assert.equal(last, 409);
    } finally {
      await q.close();
    }
  });
});
