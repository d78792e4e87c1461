import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, expectError, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

/** The raw JSON text, to see integers JSON.parse would round. */
const raw = async (url: string) =>
  (await s.neutrino.app.inject({ method: 'GET', url, headers: { 'x-project-id': 'admin-project', 'x-roles': 'admin' } })).body;

const find = (list: Array<{ network_id: string; network_name: string }>, id: string) => list.find((x) => x.network_id === id);

describe('network-ip-availability', () => {
  test('a network without subnets: zeros', async () => {
    const net = await s.network({ name: 'empty' });
    const r = await s.get(`/v2.0/network-ip-availabilities/${net.id}`, ADMIN);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      network_ip_availability: {
        network_id: net.id,
        network_name: 'empty',
        tenant_id: 'alice-project',
        project_id: 'alice-project',
        total_ips: 0,
        used_ips: 0,
        subnet_ip_availability: [],
      },
    });
    const list = await s.get('/v2.0/network-ip-availabilities', ADMIN);
    assert.equal(find(list.body.network_ip_availabilities, net.id)?.network_name, 'empty');
  });

  test('IPv4: total from the pools (cidr - 3), used = fixed IPs; deleting a port frees one', async () => {
    const net = await s.network({ name: 'v4' });
    const sub = await s.subnet(net.id, '10.20.0.0/28', { name: 'v4-sub', enable_dhcp: false });
    const before = (await s.get(`/v2.0/network-ip-availabilities/${net.id}`, ADMIN)).body.network_ip_availability;
    assert.equal(before.total_ips, 13);
    assert.equal(before.used_ips, 0);
    const port = await s.port(net.id);
    await s.port(net.id);
    const r = (await s.get(`/v2.0/network-ip-availabilities/${net.id}`, ADMIN)).body.network_ip_availability;
    assert.equal(r.used_ips, 2);
    assert.deepEqual(r.subnet_ip_availability, [
      { subnet_id: sub.id, subnet_name: 'v4-sub', cidr: '10.20.0.0/28', ip_version: 4, total_ips: 13, used_ips: 2 },
    ]);
    assert.equal((await s.del(`/v2.0/ports/${port.id}`)).status, 204);
    assert.equal((await s.get(`/v2.0/network-ip-availabilities/${net.id}`, ADMIN)).body.network_ip_availability.used_ips, 1);
  });

  test('explicit pools count, not the CIDR', async () => {
    const net = await s.network({ name: 'pools' });
    await s.subnet(net.id, '10.30.0.0/24', {
      allocation_pools: [
        { start: '10.30.0.10', end: '10.30.0.19' },
        { start: '10.30.0.100', end: '10.30.0.104' },
      ],
    });
    assert.equal((await s.get(`/v2.0/network-ip-availabilities/${net.id}`, ADMIN)).body.network_ip_availability.total_ips, 15);
  });

  test('IPv6 /64 with gateway ::1 (as tempest makes it): exact 2^64 - 2 in the JSON; sums over both subnets', async () => {
    const net = await s.network({ name: 'dual' });
    await s.subnet(net.id, '2001:db8:1::/64', { enable_dhcp: false, gateway_ip: '2001:db8:1::1' });
    await s.subnet(net.id, '10.40.0.0/24', { enable_dhcp: false });
    await s.port(net.id);
    const text = await raw(`/v2.0/network-ip-availabilities/${net.id}`);
    const v6 = 2n ** 64n - 2n;
    assert.ok(text.includes(`"total_ips":${v6}`), text);
    assert.ok(text.includes(`"total_ips":${v6 + 253n}`), text);
    const body = JSON.parse(text).network_ip_availability;
    assert.equal(body.used_ips, 2);
    assert.deepEqual(
      body.subnet_ip_availability.map((x: { ip_version: number; used_ips: number }) => [x.ip_version, x.used_ips]).sort(),
      [
        [4, 1],
        [6, 1],
      ],
    );
    // ip_version filter keeps only that version's subnets, and drops networks without one.
    const only4 = await s.get(`/v2.0/network-ip-availabilities?ip_version=4&network_id=${net.id}`, ADMIN);
    const entry = only4.body.network_ip_availabilities[0];
    assert.equal(entry.subnet_ip_availability.length, 1);
    assert.equal(entry.total_ips, 253);
    const empty = await s.network({ name: 'nothing' });
    const none = await s.get(`/v2.0/network-ip-availabilities?ip_version=6&network_id=${empty.id}`, ADMIN);
    assert.deepEqual(none.body.network_ip_availabilities, []);
  });

  test('IPv6 /64 with the default gateway (the subnet-router anycast address): 2^64 - 1', async () => {
    const net = await s.network({ name: 'v6' });
    await s.subnet(net.id, '2001:db8:2::/64', { enable_dhcp: false });
    assert.ok((await raw(`/v2.0/network-ip-availabilities/${net.id}`)).includes(`"total_ips":${2n ** 64n - 1n},`));
  });

  test('filters and fields', async () => {
    const mine = await s.network({ name: 'filter-me' }, { project: 'carol-project', roles: ['member'] });
    const byName = await s.get('/v2.0/network-ip-availabilities?network_name=filter-me', ADMIN);
    assert.deepEqual(
      byName.body.network_ip_availabilities.map((x: { network_id: string }) => x.network_id),
      [mine.id],
    );
    for (const key of ['tenant_id', 'project_id']) {
      const r = await s.get(`/v2.0/network-ip-availabilities?${key}=carol-project`, ADMIN);
      assert.deepEqual(
        r.body.network_ip_availabilities.map((x: { network_id: string }) => x.network_id),
        [mine.id],
      );
    }
    const f = await s.get(`/v2.0/network-ip-availabilities/${mine.id}?fields=network_id&fields=used_ips`, ADMIN);
    assert.deepEqual(f.body, { network_ip_availability: { network_id: mine.id, used_ips: 0 } });
    expectError(await s.get('/v2.0/network-ip-availabilities?colour=blue', ADMIN), 400);
  });

  test('admin only: a member lists nothing and cannot show; unknown network 404', async () => {
    const net = await s.network({ name: 'hidden' });
    const list = await s.get('/v2.0/network-ip-availabilities', ALICE);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { network_ip_availabilities: [] });
    expectError(await s.get(`/v2.0/network-ip-availabilities/${net.id}`, ALICE), 404);
    expectError(
      await s.get('/v2.0/network-ip-availabilities/4c1b4a44-5d1d-4c6a-9d2c-6a0a1f6d6a11', ADMIN),
      404,
      'NetworkNotFound',
    );
  });
});
