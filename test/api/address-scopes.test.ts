// Address scopes: CRUD, sharing rules (admin-only, no unsharing), visibility, deletion in use.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, BOB, expectError, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

const base = '/v2.0/address-scopes';
const create = (attrs: Record<string, unknown>, as = ALICE) =>
  s.post(base, { address_scope: { name: 'scope', ip_version: 4, ...attrs } }, as);
const upd = (id: string, attrs: Record<string, unknown>, as = ALICE) => s.put(`${base}/${id}`, { address_scope: attrs }, as);

describe('CRUD', () => {
  test('create, list, show, update, delete', async () => {
    const r = await create({ name: 'mine' });
    assert.equal(r.status, 201);
    const sc = r.body.address_scope;
    assert.equal(sc.name, 'mine');
    assert.equal(sc.ip_version, 4);
    assert.equal(sc.shared, false);
    assert.equal(sc.tenant_id, ALICE.project);
    assert.equal(sc.project_id, ALICE.project);
    assert.equal(sc.description, '');
    assert.deepEqual(sc.tags, []);
    assert.match(sc.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    const list = await s.get(base, ALICE);
    assert.equal(list.status, 200);
    assert.ok(list.body.address_scopes.some((x: { id: string; name: string }) => x.id === sc.id && x.name === 'mine'));

    const shown = await s.get(`${base}/${sc.id}`, ALICE);
    assert.equal(shown.body.address_scope.shared, false);
    assert.equal(shown.body.address_scope.project_id, ALICE.project);
    assert.equal(shown.body.address_scope.tenant_id, ALICE.project);

    const u = await upd(sc.id, { name: 'renamed' });
    assert.equal(u.status, 200);
    assert.equal(u.body.address_scope.name, 'renamed');
    assert.ok(u.body.address_scope.revision_number > sc.revision_number);

    const d = await s.del(`${base}/${sc.id}`, ALICE);
    assert.equal(d.status, 204);
    assert.equal(d.body, undefined);
    expectError(await s.get(`${base}/${sc.id}`, ALICE), 404, 'AddressScopeNotFound');
  });

  test('ip_version is required and must be 4 or 6; it is read-only', async () => {
    expectError(await s.post(base, { address_scope: { name: 'x' } }, ALICE), 400);
    const r = await create({ ip_version: 5 });
    expectError(r, 400);
    assert.match(r.body.NeutronError.message, /Invalid input for ip_version/);
    const v6 = (await create({ ip_version: '6' })).body.address_scope;
    assert.equal(v6.ip_version, 6);
    expectError(await upd(v6.id, { ip_version: 4 }), 400);
  });

  test('non-UUID and unknown ids are 404', async () => {
    for (const id of ['address_scope-123', '00000000-0000-0000-0000-000000000000']) {
      expectError(await s.get(`${base}/${id}`, ALICE), 404, 'AddressScopeNotFound');
      expectError(await upd(id, { name: 'x' }), 404, 'AddressScopeNotFound');
      expectError(await s.del(`${base}/${id}`, ALICE), 404, 'AddressScopeNotFound');
    }
  });
});

describe('sharing', () => {
  test('admin creates a shared scope; tenants see it but cannot change it', async () => {
    const sc = (await create({ shared: true }, ADMIN)).body.address_scope;
    assert.equal(sc.shared, true);
    const seen = await s.get(`${base}/${sc.id}`, BOB);
    assert.equal(seen.status, 200);
    assert.equal(seen.body.address_scope.shared, true);
    expectError(await upd(sc.id, { name: 'x' }, BOB), 403);
    expectError(await s.del(`${base}/${sc.id}`, BOB), 403);
  });

  test('admin shares an unshared scope', async () => {
    const sc = (await create({}, ADMIN)).body.address_scope;
    const u = await upd(sc.id, { name: 'new_name', shared: true }, ADMIN);
    assert.equal(u.status, 200);
    assert.equal(u.body.address_scope.shared, true);
    assert.equal(u.body.address_scope.name, 'new_name');
  });

  test('a shared scope cannot be unshared', async () => {
    const sc = (await create({ shared: true }, ADMIN)).body.address_scope;
    const r = await upd(sc.id, { name: 'x', shared: false }, ADMIN);
    expectError(r, 400, 'AddressScopeUpdateError');
    assert.equal(
      r.body.NeutronError.message,
      `Unable to update address scope ${sc.id} : Shared address scope can't be unshared.`,
    );
    assert.equal((await s.get(`${base}/${sc.id}`, ADMIN)).body.address_scope.name, 'scope');
  });

  test('tenants may not set shared, not even to false', async () => {
    expectError(await create({ shared: true }), 403, 'PolicyNotAuthorized');
    const sc = (await create({})).body.address_scope;
    expectError(await upd(sc.id, { name: 'x', shared: true }), 403, 'PolicyNotAuthorized');
    expectError(await upd(sc.id, { name: 'x', shared: false }), 403, 'PolicyNotAuthorized');
    assert.equal((await s.get(`${base}/${sc.id}`, ALICE)).body.address_scope.name, 'scope');
  });

  test("tenants don't see others' private scopes", async () => {
    const sc = (await create({}, ADMIN)).body.address_scope;
    expectError(await s.get(`${base}/${sc.id}`, ALICE), 404, 'AddressScopeNotFound');
    expectError(await upd(sc.id, { name: 'x' }), 404, 'AddressScopeNotFound');
    assert.ok(!(await s.get(base, ALICE)).body.address_scopes.some((x: { id: string }) => x.id === sc.id));
  });

  test('filters and sorting', async () => {
    const P = { project: 'scopes-filter', roles: ['member'] };
    await create({ name: 'b', ip_version: 6 }, P);
    await create({ name: 'a' }, P);
    const r = await s.get(`${base}?shared=False&sort_key=name&sort_dir=asc`, P);
    assert.deepEqual(
      r.body.address_scopes.map((x: { name: string }) => x.name),
      ['a', 'b'],
    );
    const v6 = await s.get(`${base}?ip_version=6`, P);
    assert.deepEqual(
      v6.body.address_scopes.map((x: { name: string }) => x.name),
      ['b'],
    );
    expectError(await s.get(`${base}?bogus=1`, P), 400);
  });
});

describe('in use', () => {
  test('a scope referenced by a subnet pool cannot be deleted', async () => {
    const sc = (await create({})).body.address_scope;
    const pool = await s.create(
      'subnetpools',
      'subnetpool',
      { name: 'p', prefixes: ['10.11.12.0/24'], min_prefixlen: '29', address_scope_id: sc.id },
      ALICE,
    );
    const r = await s.del(`${base}/${sc.id}`, ALICE);
    expectError(r, 409, 'AddressScopeInUse');
    assert.equal(
      r.body.NeutronError.message,
      `Unable to complete operation on address scope ${sc.id}. There are one or more subnet pools in use on the address scope.`,
    );
    assert.equal((await s.put(`/v2.0/subnetpools/${pool.id}`, { subnetpool: { address_scope_id: null } }, ALICE)).status, 200);
    assert.equal((await s.del(`${base}/${sc.id}`, ALICE)).status, 204);
  });

  test('tags on address scopes', async () => {
    const sc = (await create({})).body.address_scope;
    const r = await s.put(`${base}/${sc.id}/tags`, { tags: ['red'] }, ALICE);
    assert.equal(r.status, 200);
    assert.deepEqual(
      (await s.get(`${base}?tags=red`, ALICE)).body.address_scopes.map((x: { id: string }) => x.id),
      [sc.id],
    );
  });
});
