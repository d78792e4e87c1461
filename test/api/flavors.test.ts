// Flavors, service profiles and service providers (flavors, l3-flavors, service-type), routers of a
// flavor, the auto-allocated topology ("get me a network"), and external networks shared by RBAC
// (access_as_external) and made the default (is_default).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, ALICE, type As, BOB, expectError, type Reply, TestServer } from '../helpers.js';

const SINGLE = 'neutron.services.l3_router.service_providers.single_node.SingleNodeDriver';
const DVR = 'neutron.services.l3_router.service_providers.dvr.DvrDriver';

describe('flavors, service profiles, auto-allocated topology, external networks', () => {
  let s: TestServer;
  const message = (r: Reply) => r.body.NeutronError.message as string;
  /** POST /v2.0/service_profiles (an underscore in its path, unlike most). */
  const profile = async (attrs: Record<string, unknown>) => {
    const r = await s.post('/v2.0/service_profiles', { service_profile: attrs }, ADMIN);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.service_profile;
  };

  before(async () => {
    s = await TestServer.start();
  });
  after(() => s?.close());

  it('lists the L3 service providers to anyone with a role', async () => {
    const r = await s.get('/v2.0/service-providers', ALICE);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.service_providers.map((p: { name: string }) => p.name),
      ['dvrha', 'dvr', 'ha', 'single_node'],
    );
    assert.ok(
      r.body.service_providers.every((p: Record<string, unknown>) => p.service_type === 'L3_ROUTER_NAT' && p.default === false),
    );
    assert.equal((await s.get('/v2.0/service-providers?name=dvr', ALICE)).body.service_providers.length, 1);
  });

  it('manages flavors and service profiles as the admin; others read flavors only', async () => {
    const f = await s.create('flavors', 'flavor', { name: 'gold', service_type: 'L3_ROUTER_NAT', description: 'd' }, ADMIN);
    assert.deepEqual(f, {
      id: f.id,
      name: 'gold',
      description: 'd',
      service_type: 'L3_ROUTER_NAT',
      enabled: true,
      service_profiles: [],
    });
    expectError(await s.post('/v2.0/flavors', { flavor: { name: 'x', service_type: 'L3_ROUTER_NAT' } }, ALICE), 403);
    const bad = await s.post('/v2.0/flavors', { flavor: { name: 'x', service_type: 'NOPE' } }, ADMIN);
    expectError(bad, 400, 'InvalidServiceType');
    assert.equal((await s.get(`/v2.0/flavors/${f.id}`, ALICE)).body.flavor.name, 'gold');
    assert.equal((await s.get('/v2.0/flavors?id=33', ADMIN)).body.flavors.length, 0);
    const u = await s.put(`/v2.0/flavors/${f.id}`, { flavor: { enabled: false } }, ADMIN);
    assert.equal(u.body.flavor.enabled, false);
    expectError(await s.put(`/v2.0/flavors/${f.id}`, { flavor: { service_type: 'FLAVORS' } }, ADMIN), 400);

    const empty = await s.post('/v2.0/service_profiles', { service_profile: { description: 'x' } }, ADMIN);
    expectError(empty, 400, 'ServiceProfileEmpty');
    assert.equal(message(empty), 'Service Profile needs either a driver or metainfo.');
    const unknown = await s.post('/v2.0/service_profiles', { service_profile: { driver: 'a.b.C' } }, ADMIN);
    expectError(unknown, 404, 'ServiceProfileDriverNotFound');
    const sp = await profile({ metainfo: '{"data": "value"}', driver: '' });
    assert.equal(sp.enabled, true);
    assert.equal(sp.metainfo, '{"data": "value"}');
    expectError(await s.get(`/v2.0/service_profiles/${sp.id}`, ALICE), 404);
    assert.equal((await s.get('/v2.0/service_profiles', ALICE)).body.service_profiles.length, 0);

    const bind = await s.post(`/v2.0/flavors/${f.id}/service_profiles`, { service_profile: { id: sp.id } }, ADMIN);
    assert.equal(bind.status, 201);
    expectError(await s.post(`/v2.0/flavors/${f.id}/service_profiles`, { service_profile: { id: sp.id } }, ADMIN), 409);
    assert.deepEqual((await s.get(`/v2.0/flavors/${f.id}`, ADMIN)).body.flavor.service_profiles, [sp.id]);
    expectError(await s.del(`/v2.0/service_profiles/${sp.id}`, ADMIN), 409, 'ServiceProfileInUse');
    assert.deepEqual((await s.get(`/v2.0/flavors/${f.id}/service_profiles/${sp.id}`, ADMIN)).body.service_profile, {
      service_profile_id: sp.id,
      flavor_id: f.id,
    });
    assert.equal((await s.del(`/v2.0/flavors/${f.id}/service_profiles/${sp.id}`, ADMIN)).status, 204);
    expectError(
      await s.del(`/v2.0/flavors/${f.id}/service_profiles/${sp.id}`, ADMIN),
      404,
      'FlavorServiceProfileBindingNotFound',
    );
    assert.equal((await s.del(`/v2.0/service_profiles/${sp.id}`, ADMIN)).status, 204);
    assert.equal((await s.del(`/v2.0/flavors/${f.id}`, ADMIN)).status, 204);
    expectError(await s.get(`/v2.0/flavors/${f.id}`, ADMIN), 404, 'FlavorNotFound');
  });

  it('creates routers of a flavor, whose provider decides what ha/distributed may be', async () => {
    const single = await profile({ driver: SINGLE });
    const dvr = await profile({ driver: DVR });
    const economy = await s.create('flavors', 'flavor', { name: 'economy', service_type: 'L3_ROUTER_NAT' }, ADMIN);
    const comfort = await s.create('flavors', 'flavor', { name: 'comfort', service_type: 'L3_ROUTER_NAT' }, ADMIN);
    await s.post(`/v2.0/flavors/${economy.id}/service_profiles`, { service_profile: { id: single.id } }, ADMIN);
    await s.post(`/v2.0/flavors/${comfort.id}/service_profiles`, { service_profile: { id: dvr.id } }, ADMIN);
    assert.deepEqual((await s.get(`/v2.0/flavors/${economy.id}/next_providers`, ALICE)).body.next_providers, [
      { driver: SINGLE, provider: 'single_node' },
    ]);
    const r = await s.create('routers', 'router', { name: 'r', flavor_id: economy.id }, ALICE);
    assert.equal(r.flavor_id, economy.id);
    assert.equal((await s.create('routers', 'router', { name: 'r', flavor_id: comfort.id }, ALICE)).flavor_id, comfort.id);
    const flags = await s.post('/v2.0/routers', { router: { name: 'x', flavor_id: economy.id, distributed: true } }, ADMIN);
    expectError(flags, 400, 'InvalidInput');
    assert.equal(message(flags), 'Invalid input for operation: Provider single_node does not support distributed=True.');
    expectError(await s.post('/v2.0/routers', { router: { name: 'x', flavor_id: 'nope' } }, ALICE), 404, 'FlavorNotFound');
    const inUse = await s.del(`/v2.0/flavors/${economy.id}`, ADMIN);
    expectError(inUse, 409, 'FlavorInUse');
    assert.equal(message(inUse), `Flavor ${economy.id} is used by some service instance.`);
    expectError(await s.put(`/v2.0/routers/${r.id}`, { router: { flavor_id: comfort.id } }, ALICE), 400);
    await s.put(`/v2.0/routers/${r.id}`, { router: { admin_state_up: false } }, ADMIN);
    const migrate = await s.put(`/v2.0/routers/${r.id}`, { router: { distributed: true } }, ADMIN);
    expectError(migrate, 400, 'InvalidInput');
  });

  it('shares an external network by RBAC with the projects whose routers use it', async () => {
    const net = await s.create('networks', 'network', { name: 'ext-rbac' }, ADMIN);
    await s.create('subnets', 'subnet', { network_id: net.id, cidr: '100.64.10.0/24', ip_version: 4, enable_dhcp: false }, ADMIN);
    const gwOf = (id: string) => ({ router: { name: 'r', external_gateway_info: { network_id: id } } });
    expectError(await s.post('/v2.0/routers', gwOf(net.id), BOB), 404, 'NetworkNotFound');
    const wildcard = await s.create(
      'rbac_policies',
      'rbac_policy',
      { object_type: 'network', object_id: net.id, action: 'access_as_external', target_tenant: '*' },
      ADMIN,
    );
    assert.equal((await s.get(`/v2.0/networks/${net.id}`, ADMIN)).body.network['router:external'], true);
    const r = await s.post('/v2.0/routers', gwOf(net.id), BOB);
    assert.equal(r.status, 201);
    const blocked = await s.del(`/v2.0/rbac-policies/${wildcard.id}`, ADMIN);
    expectError(blocked, 409, 'RbacPolicyInUse');
    assert.match(message(blocked), /There are routers attached to this network that depend on this policy for access\.$/);
    const bobs = await s.create(
      'rbac_policies',
      'rbac_policy',
      { object_type: 'network', object_id: net.id, action: 'access_as_external', target_tenant: 'bob-project' },
      ADMIN,
    );
    assert.equal((await s.del(`/v2.0/rbac-policies/${wildcard.id}`, ADMIN)).status, 204);
    expectError(await s.del(`/v2.0/rbac-policies/${bobs.id}`, ADMIN), 409, 'RbacPolicyInUse');
    assert.equal((await s.post('/v2.0/floatingips', { floatingip: { floating_network_id: net.id } }, BOB)).status, 201);
    expectError(
      await s.post('/v2.0/floatingips', { floatingip: { floating_network_id: net.id } }, ALICE),
      404,
      'NetworkNotFound',
    );
    assert.equal((await s.del(`/v2.0/routers/${r.body.router.id}`, BOB)).status, 204);
  });

  it('keeps one default external network, shared with everyone', async () => {
    const a = await s.create('networks', 'network', { name: 'pub-a', 'router:external': true, is_default: true }, ADMIN);
    assert.equal(a.is_default, true);
    const internal = await s.network({}, ALICE);
    assert.ok(!('is_default' in internal), 'is_default exists on external networks only');
    expectError(await s.post('/v2.0/networks', { network: { name: 'x', is_default: true } }, ALICE), 403);
    const b = await s.create('networks', 'network', { name: 'pub-b', 'router:external': true }, ADMIN);
    assert.equal(b.is_default, false);
    const second = await s.put(`/v2.0/networks/${b.id}`, { network: { is_default: true } }, ADMIN);
    expectError(second, 409, 'DefaultExternalNetworkExists');
    assert.equal(message(second), `A default external network already exists: ${a.id}.`);
    assert.equal(
      (await s.put(`/v2.0/networks/${a.id}`, { network: { description: 'kept' } }, ADMIN)).body.network.is_default,
      true,
    );
    const [policy] = (await s.get(`/v2.0/rbac-policies?object_id=${a.id}&action=access_as_external`, ADMIN)).body.rbac_policies;
    const del = await s.del(`/v2.0/rbac-policies/${policy.id}`, ADMIN);
    expectError(del, 409, 'RbacPolicyInUse');
    assert.match(message(del), /Default external networks must be shared to everyone\.$/);
    assert.equal((await s.get('/v2.0/networks?is_default=true', ADMIN)).body.networks.length, 1);
  });

  it('auto-allocates a project’s topology once, and deletes it', async () => {
    const p: As = { project: 'gman', roles: ['member'] };
    const pool = await s.create(
      'subnetpools',
      'subnetpool',
      { name: 'default-v4', prefixes: ['10.128.0.0/16'], default_prefixlen: 26, is_default: true, shared: true },
      ADMIN,
    );
    const ext = (await s.get('/v2.0/networks?is_default=true', ADMIN)).body.networks[0];
    await s.create('subnets', 'subnet', { network_id: ext.id, cidr: '192.0.2.0/24', ip_version: 4 }, ADMIN);
    const dry = await s.get('/v2.0/auto-allocated-topology/gman?fields=dry-run', p);
    assert.deepEqual(dry.body, { auto_allocated_topology: { id: 'dry-run=pass', tenant_id: 'gman' } });
    expectError(await s.get('/v2.0/auto-allocated-topology/gman?fields=name', p), 400);
    expectError(await s.get('/v2.0/auto-allocated-topology/someone-else', p), 403);
    const first = await s.get('/v2.0/auto-allocated-topology/gman', p);
    assert.equal(first.status, 200);
    const netId = first.body.auto_allocated_topology.id;
    assert.equal(first.body.auto_allocated_topology.tenant_id, 'gman');
    const again = await s.get('/v2.0/auto-allocated-topology/None', p);
    assert.equal(again.body.auto_allocated_topology.id, netId, 'idempotent');
    const net = (await s.get(`/v2.0/networks/${netId}`, p)).body.network;
    assert.equal(net.name, 'auto_allocated_network');
    assert.equal(net.admin_state_up, true);
    const subnets = (await s.get(`/v2.0/subnets?network_id=${netId}`, p)).body.subnets;
    assert.deepEqual(
      subnets.map((x: { name: string; subnetpool_id: string }) => [x.name, x.subnetpool_id]),
      [['auto_allocated_subnet_v4', pool.id]],
    );
    const routers = (await s.get('/v2.0/routers?name=auto_allocated_router', p)).body.routers;
    assert.equal(routers.length, 1);
    assert.equal(routers[0].external_gateway_info.network_id, ext.id);
    assert.equal((await s.get(`/v2.0/ports?device_id=${routers[0].id}&network_id=${netId}`, p)).body.ports.length, 1);
    assert.equal((await s.del('/v2.0/auto-allocated-topology/gman', p)).status, 204);
    expectError(await s.get(`/v2.0/networks/${netId}`, p), 404);
    assert.equal((await s.get('/v2.0/routers', p)).body.routers.length, 0);
  });

  it('fails the auto-allocation without a default external network', async () => {
    const nets = (await s.get('/v2.0/networks?is_default=true', ADMIN)).body.networks;
    for (const n of nets) await s.put(`/v2.0/networks/${n.id}`, { network: { is_default: false } }, ADMIN);
    const r = await s.get('/v2.0/auto-allocated-topology/None', BOB);
    expectError(r, 409, 'AutoAllocationFailure');
    assert.equal(message(r), 'Deployment error: No default router:external network.');
  });
});
