import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ALICE, BOB, expectError, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

test('a project creates a network, subnet and port and sees only its own', async () => {
  const net = await s.network({ name: 'n1' });
  const sub = await s.subnet(net.id, '10.0.0.5/24');
  assert.equal(sub.cidr, '10.0.0.0/24');
  assert.equal(sub.gateway_ip, '10.0.0.1');
  assert.deepEqual(sub.allocation_pools, [{ start: '10.0.0.2', end: '10.0.0.254' }]);
  const port = await s.port(net.id);
  assert.equal(port.fixed_ips.length, 1);
  assert.equal(port.fixed_ips[0].subnet_id, sub.id);
  assert.match(port.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  expectError(await s.get(`/v2.0/networks/${net.id}`, BOB), 404, 'NetworkNotFound');
  const r = await s.get('/v2.0/ports', BOB);
  assert.deepEqual(r.body.ports, []);
  expectError(await s.del(`/v2.0/networks/${net.id}`, ALICE), 409, 'NetworkInUse');
});
