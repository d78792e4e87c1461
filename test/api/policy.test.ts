import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ALICE, type As, BOB, expectError, TestServer } from '../helpers.js';

const READER: As = { project: ALICE.project, roles: ['reader'] };

describe('default policy', () => {
  let s: TestServer;
  before(async () => {
    s = await TestServer.start();
  });
  after(() => s.close());

  test('a project reader reads but cannot write', async () => {
    const net = await s.network({ name: 'alice-net' });
    const shown = await s.get(`/v2.0/networks/${net.id}`, READER);
    assert.equal(shown.status, 200);
    expectError(await s.post('/v2.0/networks', { network: { name: 'x' } }, READER), 403, 'PolicyNotAuthorized');
    expectError(await s.put(`/v2.0/networks/${net.id}`, { network: { name: 'y' } }, READER), 403, 'PolicyNotAuthorized');
    expectError(await s.del(`/v2.0/networks/${net.id}`, READER), 403, 'PolicyNotAuthorized');
    expectError(await s.post('/v2.0/ports', { port: { network_id: net.id } }, READER), 403, 'PolicyNotAuthorized');
    expectError(await s.put(`/v2.0/networks/${net.id}/tags/red`, undefined, READER), 403, 'PolicyNotAuthorized');
    assert.equal((await s.get(`/v2.0/networks/${net.id}`, READER)).body.network.name, 'alice-net');
  });

  test('hide, do not forbid: another project gets 404 on update and delete', async () => {
    const net = await s.network();
    expectError(await s.put(`/v2.0/networks/${net.id}`, { network: { name: 'z' } }, BOB), 404, 'NetworkNotFound');
    expectError(await s.del(`/v2.0/networks/${net.id}`, BOB), 404, 'NetworkNotFound');
  });

  test('subnets on another project’s shared network: visible, not manageable', async () => {
    const shared = await s.network({ shared: true }, { project: 'admin-project', roles: ['admin'] });
    expectError(
      await s.post('/v2.0/subnets', { subnet: { network_id: shared.id, cidr: '10.9.0.0/24', ip_version: 4 } }, BOB),
      403,
      'PolicyNotAuthorized',
    );
    expectError(
      await s.post(
        '/v2.0/subnets',
        { subnet: { network_id: '6a3b9a0e-4f0b-4c1e-9d61-000000000000', cidr: '10.9.0.0/24', ip_version: 4 } },
        BOB,
      ),
      404,
      'NetworkNotFound',
    );
  });
});

describe('an operator policy file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'neutrino-policy-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('overrides default rules', async () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, '"create_network": "role:admin"\n');
    const s = await TestServer.start([['oslo_policy', 'policy_file', file]]);
    try {
      expectError(await s.post('/v2.0/networks', { network: { name: 'n' } }, ALICE), 403, 'PolicyNotAuthorized');
      assert.equal((await s.post('/v2.0/networks', { network: { name: 'n' } }, { project: 'p', roles: ['admin'] })).status, 201);
    } finally {
      await s.close();
    }
  });

  test('an invalid file stops startup', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, '"create_network": "role:admin or"\n');
    await assert.rejects(TestServer.start([['oslo_policy', 'policy_file', file]]), /create_network/);
    await assert.rejects(TestServer.start([['oslo_policy', 'policy_file', join(dir, 'missing.yaml')]]), /not found/);
  });
});
