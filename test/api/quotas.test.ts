import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, type As, expectError, type Reply, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start([['quotas', 'quota_router', '12']]);
});
after(() => s.close());

let n = 0;
/** A fresh member project, as tempest makes one per test. */
const project = (): As & { project: string } => ({ project: `quota-p${++n}`, roles: ['member'] });
const setQuota = async (p: string, quota: Record<string, unknown>) => {
  const r = await s.put(`/v2.0/quotas/${p}`, { quota }, ADMIN);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.quota;
};

const DEFAULTS = {
  network: 100,
  subnet: 100,
  subnetpool: -1,
  port: 500,
  router: 12,
  floatingip: 50,
  rbac_policy: 10,
  security_group: 10,
  security_group_rule: 100,
};

describe('quotas API', () => {
  test('extensions are advertised', async () => {
    const r = await s.get('/v2.0/extensions');
    const aliases = r.body.extensions.map((e: { alias: string }) => e.alias);
    for (const a of ['quotas', 'quota_details', 'quota-check-limit', 'network-ip-availability'])
      assert.ok(aliases.includes(a), a);
  });

  test('show: defaults from [quotas], own project readable, others need admin', async () => {
    const p = project();
    const own = await s.get(`/v2.0/quotas/${p.project}`, p);
    assert.equal(own.status, 200);
    assert.deepEqual(own.body, { quota: DEFAULTS });
    assert.deepEqual((await s.get(`/v2.0/quotas/${p.project}/default`, p)).body, { quota: DEFAULTS });
    expectError(await s.get('/v2.0/quotas/someone-else', p), 403, 'PolicyNotAuthorized');
    expectError(await s.get('/v2.0/quotas/someone-else/default', p), 403, 'PolicyNotAuthorized');
    expectError(await s.get('/v2.0/quotas/someone-else/details', p), 403, 'AdminRequired');
    expectError(await s.get('/v2.0/quotas', p), 403, 'PolicyNotAuthorized');
    expectError(await s.put(`/v2.0/quotas/${p.project}`, { quota: { network: 1 } }, p), 403, 'PolicyNotAuthorized');
    expectError(await s.del(`/v2.0/quotas/${p.project}`, p), 403, 'PolicyNotAuthorized');
    assert.equal((await s.get('/v2.0/quotas/someone-else', ADMIN)).status, 200);
  });

  test('who am I: /quotas/project and /quotas/tenant', async () => {
    const p = project();
    assert.deepEqual((await s.get('/v2.0/quotas/project', p)).body, { project: { project_id: p.project } });
    assert.deepEqual((await s.get('/v2.0/quotas/tenant', p)).body, { tenant: { tenant_id: p.project } });
  });

  test('update, list non-default projects, reset (tempest test_quotas)', async () => {
    const p = project().project;
    const q = await setQuota(p, { network: 0, security_group: 0 });
    assert.deepEqual(q, { ...DEFAULTS, network: 0, security_group: 0 });
    const list = await s.get('/v2.0/quotas', ADMIN);
    const mine = list.body.quotas.find((x: { project_id: string }) => x.project_id === p);
    assert.deepEqual(mine, { ...DEFAULTS, network: 0, security_group: 0, project_id: p, tenant_id: p });
    assert.equal((await s.get(`/v2.0/quotas/${p}`, ADMIN)).body.quota.network, 0);
    // The default action still says the defaults.
    assert.equal((await s.get(`/v2.0/quotas/${p}/default`, ADMIN)).body.quota.network, 100);
    const del = await s.del(`/v2.0/quotas/${p}`, ADMIN);
    assert.equal(del.status, 204);
    assert.equal(del.body, undefined);
    const after = await s.get('/v2.0/quotas', ADMIN);
    assert.ok(!after.body.quotas.some((x: { project_id: string }) => x.project_id === p));
    expectError(await s.del(`/v2.0/quotas/${p}`, ADMIN), 404, 'TenantQuotaNotFound');
  });

  test('values: -1 … 2^31-1, integers as strings; others 400', async () => {
    const p = project().project;
    for (const v of [-1, 0, 10, 2147483647]) assert.equal((await setQuota(p, { security_group: v })).security_group, v);
    assert.equal((await setQuota(p, { port: '7' })).port, 7);
    for (const bad of [-2, 2147483648, 'abc', null, [1]]) {
      expectError(await s.put(`/v2.0/quotas/${p}`, { quota: { network: bad } }, ADMIN), 400);
    }
    const unknown = await s.put(`/v2.0/quotas/${p}`, { quota: { widget: 1 } }, ADMIN);
    expectError(unknown, 400);
    assert.equal(unknown.body.NeutronError.message, "Unrecognized attribute(s) 'widget'");
    expectError(await s.put(`/v2.0/quotas/${p}`, { quota: { tenant_id: p } }, ADMIN), 400);
    expectError(await s.put(`/v2.0/quotas/${p}`, { quotas: { network: 1 } }, ADMIN), 400);
    expectError(await s.put(`/v2.0/quotas/${p}`, undefined, ADMIN), 400);
  });

  test('POST is not implemented', async () => {
    const r = await s.post('/v2.0/quotas', { quota: { network: 1 } }, ADMIN);
    expectError(r, 501, 'HTTPNotImplemented');
  });

  test('lowering below usage: allowed by default and with force, 400 with check_limit', async () => {
    const p = project();
    await s.network({}, p);
    await s.network({}, p);
    assert.equal((await setQuota(p.project, { network: 1 })).network, 1);
    assert.equal((await setQuota(p.project, { network: 1, force: true })).network, 1);
    const r = await s.put(`/v2.0/quotas/${p.project}`, { quota: { network: 1, check_limit: true } }, ADMIN);
    expectError(r, 400);
    assert.equal(r.body.NeutronError.message, 'Quota limit 1 for network must be greater than or equal to already used 2');
    assert.equal((await setQuota(p.project, { network: 2, check_limit: true })).network, 2);
    assert.equal((await setQuota(p.project, { network: -1, check_limit: true })).network, -1);
  });

  test('details: limit, used, reserved (tempest test_detail_quotas)', async () => {
    const p = project();
    const net = await s.network({}, p);
    await s.port(net.id, {}, p);
    await setQuota(p.project, { network: 2, port: 2 });
    const d = await s.get(`/v2.0/quotas/${p.project}/details`, p);
    assert.equal(d.status, 200);
    assert.deepEqual(d.body.quota.network, { limit: 2, used: 1, reserved: 0 });
    assert.deepEqual(d.body.quota.port, { limit: 2, used: 1, reserved: 0 });
    assert.deepEqual(d.body.quota.router, { limit: 12, used: 0, reserved: 0 });
    assert.deepEqual(Object.keys(d.body.quota).sort(), Object.keys(DEFAULTS).sort());
    assert.equal((await s.get(`/v2.0/quotas/${p.project}/details.json`, ADMIN)).body.quota.network.used, 1);
  });
});

describe('quota enforcement', () => {
  const over = (r: Reply, resource: string) => {
    expectError(r, 409, 'OverQuota');
    assert.equal(r.body.NeutronError.message, `Quota exceeded for resources: ['${resource}'].`);
  };

  test('networks, subnets, ports (admin creating for the project too)', async () => {
    const p = project();
    await setQuota(p.project, { network: 1, subnet: 1, port: 1 });
    const net = await s.network({}, p);
    over(await s.post('/v2.0/networks', { network: { name: 'x' } }, p), 'network');
    over(await s.post('/v2.0/networks', { network: { name: 'x', tenant_id: p.project } }, ADMIN), 'network');
    await s.subnet(net.id, '10.0.0.0/24', { enable_dhcp: false }, p);
    over(await s.post('/v2.0/subnets', { subnet: { network_id: net.id, cidr: '10.1.0.0/24', ip_version: 4 } }, p), 'subnet');
    await s.port(net.id, {}, p);
    over(await s.post('/v2.0/ports', { port: { network_id: net.id } }, p), 'port');
    // Deleting frees the slot.
    const ports = (await s.get(`/v2.0/ports?network_id=${net.id}`, p)).body.ports;
    assert.equal((await s.del(`/v2.0/ports/${ports[0].id}`, p)).status, 204);
    await s.port(net.id, {}, p);
  });

  test('quota 0 refuses the first, -1 never refuses', async () => {
    const p = project();
    await setQuota(p.project, { network: 0 });
    over(await s.post('/v2.0/networks', { network: {} }, p), 'network');
    await setQuota(p.project, { network: -1 });
    for (let i = 0; i < 3; i++) await s.network({}, p);
  });

  test('bulk creates count every item and are all-or-nothing', async () => {
    const p = project();
    await setQuota(p.project, { network: 3 });
    await s.network({}, p);
    over(await s.post('/v2.0/networks', { networks: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }, p), 'network');
    assert.equal((await s.get('/v2.0/networks', p)).body.networks.length, 1);
    const ok = await s.post('/v2.0/networks', { networks: [{ name: 'a' }, { name: 'b' }] }, p);
    assert.equal(ok.status, 201);
    over(await s.post('/v2.0/networks', { networks: [{ name: 'd' }] }, p), 'network');
  });

  test('subnet pools', async () => {
    const p = project();
    await setQuota(p.project, { subnetpool: 1 });
    const body = (name: string, prefix: string) => ({ subnetpool: { name, prefixes: [prefix], default_prefixlen: 26 } });
    assert.equal((await s.post('/v2.0/subnetpools', body('a', '10.10.0.0/16'), p)).status, 201);
    over(await s.post('/v2.0/subnetpools', body('b', '10.11.0.0/16'), p), 'subnetpool');
  });

  test('security groups: the default group is exempt but counts (tempest)', async () => {
    const p = project();
    // Admin listing for the project does not create its default group.
    const listed = (await s.get(`/v2.0/security-groups?tenant_id=${p.project}`, ADMIN)).body.security_groups;
    assert.equal(listed.length, 0);
    await setQuota(p.project, { security_group: 1 });
    // Creating one makes the default group too (uncounted against this create) …
    assert.equal(
      (await s.post('/v2.0/security-groups', { security_group: { name: 'a', tenant_id: p.project } }, ADMIN)).status,
      201,
    );
    // … which then counts.
    over(await s.post('/v2.0/security-groups', { security_group: { name: 'b' } }, p), 'security_group');
    const d = await s.get(`/v2.0/quotas/${p.project}/details`, p);
    assert.deepEqual(d.body.quota.security_group, { limit: 1, used: 2, reserved: 0 });
    assert.equal(d.body.quota.security_group_rule.used, 6);
  });

  test('security groups: quota = count allows exactly up to it (tempest SecGroupQuotaTest)', async () => {
    const p = project();
    const have = (await s.get(`/v2.0/security-groups?project_id=${p.project}`, p)).body.security_groups.length;
    assert.equal(have, 1);
    for (let i = have; i < 10; i++)
      assert.equal((await s.post('/v2.0/security-groups', { security_group: { name: `g${i}` } }, p)).status, 201);
    over(await s.post('/v2.0/security-groups', { security_group: { name: 'x' } }, p), 'security_group');
    // Lowering below usage is allowed (test_sg_quota_decrease_less_than_created).
    assert.equal((await setQuota(p.project, { security_group: 5 })).security_group, 5);
  });

  test('security group rules, single and bulk; a new group needs room for its two rules', async () => {
    const p = project();
    const g = (await s.post('/v2.0/security-groups', { security_group: { name: 'web' } }, p)).body.security_group;
    const count = (await s.get(`/v2.0/security-group-rules?tenant_id=${p.project}`, ADMIN)).body.security_group_rules.length;
    assert.equal(count, 6);
    await setQuota(p.project, { security_group_rule: count + 2 });
    const rule = (port: number) => ({
      security_group_id: g.id,
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: port,
      port_range_max: port,
    });
    over(
      await s.post('/v2.0/security-group-rules', { security_group_rules: [rule(1), rule(2), rule(3)] }, p),
      'security_group_rule',
    );
    assert.equal((await s.post('/v2.0/security-group-rules', { security_group_rules: [rule(1), rule(2)] }, p)).status, 201);
    over(await s.post('/v2.0/security-group-rules', { security_group_rule: rule(3) }, p), 'security_group_rule');
    // A new group's two egress rules count (tempest's test_sg_creation_with_insufficient_sg_rules_quota);
    // the default group's, made on first need, do not.
    over(await s.post('/v2.0/security-groups', { security_group: { name: 'db' } }, p), 'security_group_rule');
    await setQuota(p.project, { security_group_rule: 10 });
    const g2 = await s.post('/v2.0/security-groups', { security_group: { name: 'db' } }, p);
    assert.equal(g2.status, 201);
    assert.equal(g2.body.security_group.security_group_rules.length, 2);
  });

  test('concurrent creates never overshoot: 30 parallel against a quota of 7', async () => {
    const p = project();
    await setQuota(p.project, { network: 7 });
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) => s.post('/v2.0/networks', { network: { name: `c${i}` } }, p)),
    );
    const created = replies.filter((r) => r.status === 201).length;
    assert.equal(created, 7);
    for (const r of replies.filter((x) => x.status !== 201)) assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal((await s.get('/v2.0/networks', p)).body.networks.length, 7);
    assert.equal((await s.get(`/v2.0/quotas/${p.project}/details`, p)).body.quota.network.used, 7);
  });

  test('concurrent ports across two networks against a quota of 5', async () => {
    const p = project();
    const a = await s.network({}, p);
    const b = await s.network({}, p);
    await setQuota(p.project, { port: 5 });
    const replies = await Promise.all(
      Array.from({ length: 16 }, (_, i) => s.post('/v2.0/ports', { port: { network_id: i % 2 ? a.id : b.id } }, p)),
    );
    assert.equal(replies.filter((r) => r.status === 201).length, 5);
    assert.ok(replies.every((r) => r.status === 201 || r.status === 409));
  });
});
