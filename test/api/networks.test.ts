// Networks: CRUD, defaults, admin-only attributes, visibility, project ownership, MTU, deletion
// rules, bulk atomicity, revisions (and If-Match), timestamps, `.json` URLs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, type As, BOB, expectError, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('create and defaults', () => {
  test('a network gets Neutron defaults', async () => {
    const r = await s.post('/v2.0/networks', { network: { name: 'defaults' } }, ALICE);
    assert.equal(r.status, 201);
    const n = r.body.network;
    assert.deepEqual(Object.keys(r.body), ['network']);
    assert.match(n.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(n.name, 'defaults');
    assert.equal(n.admin_state_up, true);
    assert.equal(n.shared, false);
    assert.equal(n['router:external'], false);
    assert.equal(n.status, 'ACTIVE');
    assert.equal(n.mtu, 1450);
    assert.equal(n.port_security_enabled, true);
    assert.deepEqual(n.subnets, []);
    assert.deepEqual(n.tags, []);
    assert.equal(n.description, '');
    assert.equal(n.tenant_id, ALICE.project);
    assert.equal(n.project_id, ALICE.project);
    assert.equal(n.ipv4_address_scope, null);
    assert.equal(n.ipv6_address_scope, null);
    assert.equal(typeof n.revision_number, 'number');
    assert.match(n.created_at, TIMESTAMP);
    assert.match(n.updated_at, TIMESTAMP);
  });

  test('name defaults to the empty string and explicit values are kept', async () => {
    const r = await s.post(
      '/v2.0/networks',
      { network: { admin_state_up: false, port_security_enabled: false, description: 'd1', mtu: 68 } },
      ALICE,
    );
    assert.equal(r.status, 201);
    const n = r.body.network;
    assert.equal(n.name, '');
    assert.equal(n.admin_state_up, false);
    assert.equal(n.port_security_enabled, false);
    assert.equal(n.description, 'd1');
    assert.equal(n.mtu, 68);
  });

  test('string booleans are converted', async () => {
    const n = await s.network({ admin_state_up: 'False' });
    assert.equal(n.admin_state_up, false);
  });

  test('bad input is 400 with Neutron messages', async () => {
    expectError(await s.post('/v2.0/networks', { network: { name: 'x'.repeat(256) } }, ALICE), 400);
    expectError(await s.post('/v2.0/networks', { network: { admin_state_up: 'maybe' } }, ALICE), 400);
    const unk = await s.post('/v2.0/networks', { network: { bogus: 1 } }, ALICE);
    expectError(unk, 400);
    assert.match(unk.body.NeutronError.message, /Unrecognized attribute\(s\) 'bogus'/);
    const ro = await s.post('/v2.0/networks', { network: { status: 'DOWN' } }, ALICE);
    expectError(ro, 400);
    assert.match(ro.body.NeutronError.message, /Attribute 'status' not allowed in POST/);
    const wrong = await s.post('/v2.0/networks', { port: {} }, ALICE);
    expectError(wrong, 400);
    assert.match(wrong.body.NeutronError.message, /Unable to find 'network' in request body/);
    expectError(await s.post('/v2.0/networks', undefined, ALICE), 400);
  });

  test('MTU: above the vxlan maximum is 400, within is kept, update works', async () => {
    expectError(await s.post('/v2.0/networks', { network: { mtu: 1451 } }, ALICE), 400, 'InvalidInput');
    expectError(await s.post('/v2.0/networks', { network: { mtu: 1501 } }, ALICE), 400, 'InvalidInput');
    const n = await s.network({ mtu: 1450 });
    assert.equal(n.mtu, 1450);
    const u = await s.put(`/v2.0/networks/${n.id}`, { network: { mtu: 1280 } }, ALICE);
    assert.equal(u.status, 200);
    assert.equal(u.body.network.mtu, 1280);
    assert.equal((await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network.mtu, 1280);
    expectError(await s.put(`/v2.0/networks/${n.id}`, { network: { mtu: 1451 } }, ALICE), 400, 'InvalidInput');
    assert.equal((await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network.mtu, 1280);
  });

  test('read-only attributes cannot be updated', async () => {
    const n = await s.network();
    const r = await s.put(`/v2.0/networks/${n.id}`, { network: { status: 'DOWN' } }, ALICE);
    expectError(r, 400);
    assert.match(r.body.NeutronError.message, /Cannot update read-only attribute status/);
    expectError(await s.put(`/v2.0/networks/${n.id}`, { network: { tenant_id: 'x' } }, ADMIN), 400);
    expectError(await s.put(`/v2.0/networks/${n.id}`, { network: { id: n.id } }, ADMIN), 400);
  });
});

describe('admin-only attributes', () => {
  test('non-admin cannot create shared or external networks', async () => {
    const r1 = await s.post('/v2.0/networks', { network: { shared: true } }, ALICE);
    expectError(r1, 403, 'PolicyNotAuthorized');
    const r2 = await s.post('/v2.0/networks', { network: { 'router:external': true } }, ALICE);
    expectError(r2, 403, 'PolicyNotAuthorized');
  });

  test('non-admin may pass the default values explicitly', async () => {
    const r = await s.post('/v2.0/networks', { network: { shared: false, 'router:external': false } }, ALICE);
    assert.equal(r.status, 201);
    assert.equal(r.body.network.shared, false);
  });

  test('non-admin cannot update shared or router:external; admin can', async () => {
    const n = await s.network();
    expectError(await s.put(`/v2.0/networks/${n.id}`, { network: { shared: true } }, ALICE), 403, 'PolicyNotAuthorized');
    expectError(
      await s.put(`/v2.0/networks/${n.id}`, { network: { 'router:external': true } }, ALICE),
      403,
      'PolicyNotAuthorized',
    );
    const u = await s.put(`/v2.0/networks/${n.id}`, { network: { shared: true, 'router:external': true } }, ADMIN);
    assert.equal(u.status, 200);
    assert.equal(u.body.network.shared, true);
    assert.equal(u.body.network['router:external'], true);
  });

  test('admin creates shared and external networks', async () => {
    const n = await s.network({ shared: true, 'router:external': true }, ADMIN);
    assert.equal(n.shared, true);
    assert.equal(n['router:external'], true);
    assert.equal(n.project_id, ADMIN.project);
  });
});

describe('visibility', () => {
  const CAROL: As = { project: 'carol-project', roles: ['member'] };
  let priv: { id: string };
  let shared: { id: string };
  let ext: { id: string };
  before(async () => {
    priv = await s.network({ name: 'vis-private' }, CAROL);
    shared = await s.network({ name: 'vis-shared', shared: true, tenant_id: CAROL.project }, ADMIN);
    ext = await s.network({ name: 'vis-ext', 'router:external': true }, ADMIN);
  });

  test('others see shared and external networks, not private ones', async () => {
    const names = (await s.get('/v2.0/networks?name=vis-private&name=vis-shared&name=vis-ext', BOB)).body.networks
      .map((n: { name: string }) => n.name)
      .sort();
    assert.deepEqual(names, ['vis-ext', 'vis-shared']);
    const mine = (await s.get('/v2.0/networks?name=vis-private&name=vis-shared&name=vis-ext', CAROL)).body.networks
      .map((n: { name: string }) => n.name)
      .sort();
    assert.deepEqual(mine, ['vis-ext', 'vis-private', 'vis-shared']);
    const all = (await s.get('/v2.0/networks?name=vis-private&name=vis-shared&name=vis-ext', ADMIN)).body.networks;
    assert.equal(all.length, 3);
  });

  test("others' private network is 404 on show, update and delete", async () => {
    expectError(await s.get(`/v2.0/networks/${priv.id}`, BOB), 404, 'NetworkNotFound');
    expectError(await s.put(`/v2.0/networks/${priv.id}`, { network: { name: 'x' } }, BOB), 404, 'NetworkNotFound');
    expectError(await s.del(`/v2.0/networks/${priv.id}`, BOB), 404, 'NetworkNotFound');
    assert.equal((await s.get(`/v2.0/networks/${priv.id}`, CAROL)).status, 200);
  });

  test('shared and external networks are readable but not writable by others', async () => {
    assert.equal((await s.get(`/v2.0/networks/${shared.id}`, BOB)).status, 200);
    assert.equal((await s.get(`/v2.0/networks/${ext.id}`, BOB)).status, 200);
    expectError(await s.put(`/v2.0/networks/${shared.id}`, { network: { name: 'x' } }, BOB), 403);
    expectError(await s.del(`/v2.0/networks/${ext.id}`, BOB), 403);
    // The owner of the shared network may rename it.
    assert.equal((await s.put(`/v2.0/networks/${shared.id}`, { network: { name: 'vis-shared' } }, CAROL)).status, 200);
  });

  test('unknown and non-UUID ids are 404', async () => {
    expectError(await s.get('/v2.0/networks/00000000-0000-0000-0000-000000000000', ADMIN), 404, 'NetworkNotFound');
    expectError(await s.get('/v2.0/networks/not-a-uuid', ADMIN), 404);
    expectError(await s.del('/v2.0/networks/not-a-uuid', ADMIN), 404);
  });
});

describe('tenant_id and project_id', () => {
  test('responses carry both, equal', async () => {
    const n = await s.network();
    assert.equal(n.tenant_id, ALICE.project);
    assert.equal(n.project_id, ALICE.project);
    const shown = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network;
    assert.equal(shown.tenant_id, ALICE.project);
    assert.equal(shown.project_id, ALICE.project);
  });

  test('non-admin may name their own project with project_id or tenant_id', async () => {
    const a = await s.network({ project_id: ALICE.project });
    assert.equal(a.tenant_id, ALICE.project);
    const b = await s.network({ tenant_id: ALICE.project });
    assert.equal(b.project_id, ALICE.project);
    const found = (await s.get(`/v2.0/networks?id=${a.id}`, ALICE)).body.networks;
    assert.equal(found.length, 1);
    const u = await s.put(`/v2.0/networks/${a.id}`, { network: { name: 'renamed' } }, ALICE);
    assert.equal(u.body.network.project_id, ALICE.project);
    assert.equal(u.body.network.tenant_id, ALICE.project);
  });

  test('project_id and tenant_id must match', async () => {
    const r = await s.post('/v2.0/networks', { network: { project_id: 'p-a', tenant_id: 'p-b' } }, ADMIN);
    expectError(r, 400);
    assert.match(r.body.NeutronError.message, /'project_id' and 'tenant_id' do not match/);
  });

  test('non-admin cannot create in another project', async () => {
    expectError(await s.post('/v2.0/networks', { network: { project_id: BOB.project } }, ALICE), 400);
    expectError(await s.post('/v2.0/networks', { network: { tenant_id: BOB.project } }, ALICE), 400);
  });

  test('admin creates in another project', async () => {
    const n = await s.network({ tenant_id: BOB.project }, ADMIN);
    assert.equal(n.project_id, BOB.project);
    assert.equal((await s.get(`/v2.0/networks/${n.id}`, BOB)).status, 200);
  });

  test('an admin without a project must give tenant_id', async () => {
    const noProject: As = { roles: ['admin'] };
    const r = await s.post('/v2.0/networks', { network: { name: 'x' } }, noProject);
    expectError(r, 400);
    assert.match(r.body.NeutronError.message, /Running without keystone AuthN requires that tenant_id is specified/);
    const ok = await s.post('/v2.0/networks', { network: { name: 'x', tenant_id: 'some-project' } }, noProject);
    assert.equal(ok.status, 201);
    assert.equal(ok.body.network.project_id, 'some-project');
  });
});

describe('delete', () => {
  test('delete returns 204 with an empty body, then 404', async () => {
    const n = await s.network();
    const r = await s.del(`/v2.0/networks/${n.id}`, ALICE);
    assert.equal(r.status, 204);
    assert.equal(r.body, undefined);
    expectError(await s.get(`/v2.0/networks/${n.id}`, ALICE), 404, 'NetworkNotFound');
    expectError(await s.del(`/v2.0/networks/${n.id}`, ALICE), 404, 'NetworkNotFound');
  });

  test('a compute port makes the network in use', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.10.0.0/24');
    const p = await s.port(n.id, { device_owner: 'compute:nova' });
    expectError(await s.del(`/v2.0/subnets/${sub.id}`, ALICE), 409, 'SubnetInUse');
    const r = await s.del(`/v2.0/networks/${n.id}`, ALICE);
    expectError(r, 409, 'NetworkInUse');
    assert.match(r.body.NeutronError.message, /There are one or more ports still in use on the network/);
    assert.equal((await s.get(`/v2.0/networks/${n.id}`, ALICE)).status, 200);
    assert.equal((await s.del(`/v2.0/ports/${p.id}`, ALICE)).status, 204);
    assert.equal((await s.del(`/v2.0/networks/${n.id}`, ALICE)).status, 204);
    expectError(await s.get(`/v2.0/subnets/${sub.id}`, ALICE), 404, 'SubnetNotFound');
  });

  test('a port without an IP also blocks deletion', async () => {
    const n = await s.network();
    await s.port(n.id);
    expectError(await s.del(`/v2.0/networks/${n.id}`, ALICE), 409, 'NetworkInUse');
  });

  test('DHCP ports and subnets are deleted with the network', async () => {
    const n = await s.network();
    const sub4 = await s.subnet(n.id, '10.11.0.0/24');
    const sub6 = await s.subnet(n.id, '2001:db8:11::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    const dhcp = await s.port(n.id, { device_owner: 'network:dhcp', device_id: 'dhcp-agent' }, ADMIN);
    assert.equal(dhcp.fixed_ips.length, 2);
    assert.equal((await s.del(`/v2.0/networks/${n.id}`, ALICE)).status, 204);
    expectError(await s.get(`/v2.0/ports/${dhcp.id}`, ADMIN), 404, 'PortNotFound');
    expectError(await s.get(`/v2.0/subnets/${sub4.id}`, ADMIN), 404, 'SubnetNotFound');
    expectError(await s.get(`/v2.0/subnets/${sub6.id}`, ADMIN), 404, 'SubnetNotFound');
    const left = await s.get(`/v2.0/ports?network_id=${n.id}`, ADMIN);
    assert.deepEqual(left.body.ports, []);
    // The addresses are free again: a new network may reuse the same CIDR and a port may take the same IP.
    const n2 = await s.network();
    const sub = await s.subnet(n2.id, '10.11.0.0/24');
    const p = await s.port(n2.id, { fixed_ips: [{ subnet_id: sub.id, ip_address: dhcp.fixed_ips[0].ip_address }] });
    assert.equal(p.fixed_ips[0].ip_address, dhcp.fixed_ips[0].ip_address);
  });
});

describe('bulk create', () => {
  test('creates every item, in order', async () => {
    const r = await s.post('/v2.0/networks', { networks: [{ name: 'bulk-a' }, { name: 'bulk-b', mtu: 1400 }] }, ALICE);
    assert.equal(r.status, 201);
    assert.deepEqual(Object.keys(r.body), ['networks']);
    assert.deepEqual(
      r.body.networks.map((n: { name: string }) => n.name),
      ['bulk-a', 'bulk-b'],
    );
    assert.equal(r.body.networks[1].mtu, 1400);
    assert.equal(r.body.networks[0].project_id, ALICE.project);
  });

  test('is atomic: one bad item creates nothing', async () => {
    const validation = await s.post(
      '/v2.0/networks',
      { networks: [{ name: 'atomic-1' }, { name: 'atomic-2', bogus: 1 }] },
      ALICE,
    );
    expectError(validation, 400);
    const plugin = await s.post('/v2.0/networks', { networks: [{ name: 'atomic-1' }, { name: 'atomic-2', mtu: 9000 }] }, ALICE);
    expectError(plugin, 400, 'InvalidInput');
    const policy = await s.post(
      '/v2.0/networks',
      { networks: [{ name: 'atomic-1' }, { name: 'atomic-2', shared: true }] },
      ALICE,
    );
    expectError(policy, 403, 'PolicyNotAuthorized');
    const left = await s.get('/v2.0/networks?name=atomic-1&name=atomic-2', ADMIN);
    assert.deepEqual(left.body.networks, []);
  });

  test('an empty list is 400', async () => {
    expectError(await s.post('/v2.0/networks', { networks: [] }, ALICE), 400);
  });
});

describe('revisions', () => {
  test('update bumps revision_number', async () => {
    const n = await s.network();
    const u = await s.put(`/v2.0/networks/${n.id}`, { network: { name: 'r1' } }, ALICE);
    assert.equal(u.status, 200);
    assert.ok(u.body.network.revision_number > n.revision_number);
    const u2 = await s.put(`/v2.0/networks/${n.id}`, { network: { name: 'r2' } }, ALICE);
    assert.ok(u2.body.network.revision_number > u.body.network.revision_number);
  });

  test('If-Match constrains update and delete', async () => {
    const n = await s.network();
    const rev = n.revision_number;
    const stale = await s.request(
      'PUT',
      `/v2.0/networks/${n.id}`,
      { network: { name: 'x' } },
      {
        ...ALICE,
        headers: { 'if-match': `revision_number=${rev + 1}` },
      },
    );
    expectError(stale, 412, 'RevisionNumberConstraintFailed');
    assert.match(stale.body.NeutronError.message, new RegExp(`Constrained to ${rev + 1}, but current revision is ${rev}`));
    assert.equal((await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network.name, 'net');

    const ok = await s.request(
      'PUT',
      `/v2.0/networks/${n.id}`,
      { network: { name: 'y' } },
      {
        ...ALICE,
        headers: { 'if-match': `revision_number=${rev}` },
      },
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.body.network.name, 'y');
    const now = ok.body.network.revision_number;
    assert.ok(now > rev);

    const old = await s.request(
      'PUT',
      `/v2.0/networks/${n.id}`,
      { network: { name: 'z' } },
      {
        ...ALICE,
        headers: { 'if-match': `revision_number=${rev}` },
      },
    );
    expectError(old, 412, 'RevisionNumberConstraintFailed');

    const malformed = await s.request(
      'PUT',
      `/v2.0/networks/${n.id}`,
      { network: { name: 'z' } },
      {
        ...ALICE,
        headers: { 'if-match': 'revision_number=abc' },
      },
    );
    expectError(malformed, 400);
    assert.match(malformed.body.NeutronError.message, /Revision number etag must be in the format of revision_number=<int>/);

    const twice = await s.request(
      'PUT',
      `/v2.0/networks/${n.id}`,
      { network: { name: 'z' } },
      {
        ...ALICE,
        headers: { 'if-match': `revision_number=${now}, revision_number=${now}` },
      },
    );
    expectError(twice, 400);

    const delStale = await s.request('DELETE', `/v2.0/networks/${n.id}`, undefined, {
      ...ALICE,
      headers: { 'if-match': `revision_number=${now + 5}` },
    });
    expectError(delStale, 412, 'RevisionNumberConstraintFailed');
    const del = await s.request('DELETE', `/v2.0/networks/${n.id}`, undefined, {
      ...ALICE,
      headers: { 'if-match': `revision_number=${now}` },
    });
    assert.equal(del.status, 204);
  });

  test('creating and deleting a subnet bumps the network', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.12.0.0/24');
    const after1 = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network;
    assert.ok(after1.revision_number > n.revision_number);
    assert.deepEqual(after1.subnets, [sub.id]);
    assert.equal((await s.del(`/v2.0/subnets/${sub.id}`, ALICE)).status, 204);
    const after2 = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network;
    assert.ok(after2.revision_number > after1.revision_number);
    assert.deepEqual(after2.subnets, []);
  });

  test('admin changing router:external bumps the revision', async () => {
    const n = await s.network();
    const u = await s.put(`/v2.0/networks/${n.id}`, { network: { 'router:external': true } }, ADMIN);
    assert.ok(u.body.network.revision_number > n.revision_number);
  });

  test('port_security_enabled updates bump the revision', async () => {
    const n = await s.network({ port_security_enabled: false });
    const u1 = await s.put(`/v2.0/networks/${n.id}`, { network: { port_security_enabled: true } }, ALICE);
    assert.equal(u1.body.network.port_security_enabled, true);
    assert.ok(u1.body.network.revision_number > n.revision_number);
    const u2 = await s.put(`/v2.0/networks/${n.id}`, { network: { port_security_enabled: false } }, ALICE);
    assert.ok(u2.body.network.revision_number > u1.body.network.revision_number);
  });
});

describe('timestamps', () => {
  test('show returns exactly the create timestamps; update keeps created_at', async () => {
    const n = await s.network();
    assert.match(n.created_at, TIMESTAMP);
    assert.equal(n.created_at, n.updated_at);
    const shown = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network;
    assert.equal(shown.created_at, n.created_at);
    assert.equal(shown.updated_at, n.updated_at);
    await sleep(1100);
    const u = (await s.put(`/v2.0/networks/${n.id}`, { network: { name: 'ts' } }, ALICE)).body.network;
    assert.equal(u.created_at, n.created_at);
    assert.match(u.updated_at, TIMESTAMP);
    assert.ok(u.updated_at > n.updated_at);
  });
});

describe('URLs', () => {
  test('.json suffix on collection and member', async () => {
    const n = await s.network({ name: 'json-suffix' });
    const list = await s.get('/v2.0/networks.json?name=json-suffix', ALICE);
    assert.equal(list.status, 200);
    assert.equal(list.body.networks.length, 1);
    const one = await s.get(`/v2.0/networks/${n.id}.json`, ALICE);
    assert.equal(one.status, 200);
    assert.equal(one.body.network.id, n.id);
    const c = await s.post('/v2.0/networks.json', { network: { name: 'json-post' } }, ALICE);
    assert.equal(c.status, 201);
    const u = await s.put(`/v2.0/networks/${n.id}.json`, { network: { name: 'json-put' } }, ALICE);
    assert.equal(u.status, 200);
    assert.equal((await s.del(`/v2.0/networks/${c.body.network.id}.json`, ALICE)).status, 204);
  });

  test('show with fields', async () => {
    const n = await s.network();
    const t = await s.get(`/v2.0/networks/${n.id}?fields=tenant_id`, ALICE);
    assert.deepEqual(t.body.network, { tenant_id: ALICE.project });
    const p = await s.get(`/v2.0/networks/${n.id}?fields=project_id`, ALICE);
    assert.deepEqual(p.body.network, { project_id: ALICE.project });
    const both = await s.get(`/v2.0/networks/${n.id}?fields=project_id&fields=tenant_id&fields=id`, ALICE);
    assert.deepEqual(both.body.network, { project_id: ALICE.project, tenant_id: ALICE.project, id: n.id });
  });

  test('unknown path is 404 NeutronError', async () => {
    expectError(await s.get('/v2.0/nonsense', ALICE), 404);
  });
});
