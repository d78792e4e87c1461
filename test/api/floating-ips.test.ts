// Floating IPs through the API: allocation on an external network (any address, a given one, from a
// given subnet), association with a port that a router connects to that network, Neutron's rules
// and errors around it, port_details, pools, what happens when the fixed port or the external
// network goes, quotas, and concurrent creates on a small external subnet.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, ALICE, type As, BOB, expectError, type Reply, TestServer } from '../helpers.js';

describe('floating IPs', () => {
  let s: TestServer;
  let ext: { id: string };
  let net: { id: string };
  let sub: { id: string; cidr: string; gateway_ip: string };
  let router: { id: string };
  const message = (r: Reply) => r.body.NeutronError.message as string;
  const fip = (attrs: Record<string, unknown> = {}, as: As = ALICE) =>
    s.post('/v2.0/floatingips', { floatingip: { floating_network_id: ext.id, ...attrs } }, as);

  before(async () => {
    s = await TestServer.start();
    ext = await s.create('networks', 'network', { name: 'public', 'router:external': true }, ADMIN);
    await s.create('subnets', 'subnet', { network_id: ext.id, cidr: '203.0.113.0/24', ip_version: 4 }, ADMIN);
    net = await s.network({}, ALICE);
    sub = await s.subnet(net.id, '10.0.0.0/24', {}, ALICE);
    router = await s.create('routers', 'router', { name: 'r', external_gateway_info: { network_id: ext.id } }, ALICE);
    const r = await s.put(`/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub.id }, ALICE);
    assert.equal(r.status, 200);
  });
  after(() => s?.close());

  it('allocates an address of the external network, DOWN until an agent reports it', async () => {
    const r = await fip({ description: 'd1' });
    assert.equal(r.status, 201);
    const f = r.body.floatingip;
    assert.equal(f.status, 'DOWN');
    assert.equal(f.floating_network_id, ext.id);
    assert.match(f.floating_ip_address, /^203\.0\.113\.\d+$/);
    assert.equal(f.port_id, null);
    assert.equal(f.fixed_ip_address, null);
    assert.equal(f.router_id, null);
    assert.equal(f.port_details, null);
    assert.equal(f.description, 'd1');
    assert.equal(f.tenant_id, 'alice-project');
    assert.deepEqual(f.tags, []);
    assert.ok(!('subnet_id' in f), 'subnet_id is input only');
    const ports = (await s.get(`/v2.0/ports?device_id=${f.id}`, ADMIN)).body.ports;
    assert.equal(ports.length, 1);
    assert.equal(ports[0].device_owner, 'network:floatingip');
    assert.equal(ports[0].status, 'N/A');
    assert.equal(ports[0].tenant_id, '');
    const direct = await s.del(`/v2.0/ports/${ports[0].id}`, ADMIN);
    expectError(direct, 409, 'ServicePortInUse');
    expectError(await s.get(`/v2.0/floatingips/${f.id}`, BOB), 404, 'FloatingIPNotFound');
    assert.equal(message(await s.get(`/v2.0/floatingips/${f.id}`, BOB)), `Floating IP ${f.id} could not be found`);
    assert.equal((await s.del(`/v2.0/floatingips/${f.id}`, ALICE)).status, 204);
    expectError(await s.get(`/v2.0/ports/${ports[0].id}`, ADMIN), 404, 'PortNotFound');
  });

  it('refuses internal, invisible and IPv6-only networks, and given addresses to non-admins', async () => {
    const internal = await fip({ floating_network_id: net.id });
    expectError(internal, 400, 'BadRequest');
    assert.equal(message(internal), `Bad floatingip request: Network ${net.id} is not a valid external network.`);
    const bobs = await s.network({}, BOB);
    expectError(await fip({ floating_network_id: bobs.id }), 404, 'NetworkNotFound');
    const v6 = await s.create('networks', 'network', { name: 'v6pub', 'router:external': true }, ADMIN);
    await s.create('subnets', 'subnet', { network_id: v6.id, cidr: '2001:db8:ff::/64', ip_version: 6 }, ADMIN);
    const noV4 = await fip({ floating_network_id: v6.id });
    assert.equal(message(noV4), `Bad floatingip request: Network ${v6.id} does not contain any IPv4 subnet.`);
    expectError(await fip({ floating_ip_address: '203.0.113.50' }), 403, 'PolicyNotAuthorized');
    const given = await fip({ floating_ip_address: '203.0.113.50', tenant_id: 'alice-project' }, ADMIN);
    assert.equal(given.status, 201);
    assert.equal(given.body.floatingip.floating_ip_address, '203.0.113.50');
    expectError(await fip({ floating_ip_address: '203.0.113.50' }, ADMIN), 409, 'IpAddressAlreadyAllocated');
    expectError(await fip({ floating_ip_address: '192.0.2.1' }, ADMIN), 400, 'InvalidIpForNetwork');
    expectError(await s.post('/v2.0/floatingips', { floatingip: {} }, ALICE), 400);
    expectError(await s.post('/v2.0/floatingips', { floatingips: [{ floating_network_id: ext.id }] }, ALICE), 400);
  });

  it('allocates from a given subnet (floatingip_pools)', async () => {
    const second = await s.create('subnets', 'subnet', { network_id: ext.id, cidr: '192.0.2.0/24', ip_version: 4 }, ADMIN);
    const pools = (await s.get('/v2.0/floatingip-pools', BOB)).body.floatingip_pools;
    assert.deepEqual((await s.get('/v2.0/floatingip_pools', BOB)).body.floatingip_pools, pools, 'the issue’s name answers too');
    const mine = pools.filter((p: { network_id: string }) => p.network_id === ext.id);
    assert.deepEqual(mine.map((p: { cidr: string }) => p.cidr).sort(), ['192.0.2.0/24', '203.0.113.0/24']);
    assert.ok(mine.every((p: { project_id: string }) => p.project_id === 'bob-project'));
    const r = await fip({ subnet_id: second.id }, BOB);
    assert.equal(r.status, 201);
    assert.match(r.body.floatingip.floating_ip_address, /^192\.0\.2\./);
    const other = await fip({ subnet_id: sub.id }, BOB);
    expectError(other, 400, 'InvalidInput');
  });

  it('associates with a port through a router, one floating IP per fixed IP', async () => {
    const port = await s.port(net.id, { name: 'vm' }, ALICE);
    const r = await fip({ port_id: port.id });
    assert.equal(r.status, 201);
    const f = r.body.floatingip;
    assert.equal(f.port_id, port.id);
    assert.equal(f.fixed_ip_address, port.fixed_ips[0].ip_address);
    assert.equal(f.router_id, router.id);
    assert.deepEqual(f.port_details, {
      name: 'vm',
      network_id: net.id,
      mac_address: port.mac_address,
      admin_state_up: true,
      status: 'DOWN',
      device_id: '',
      device_owner: '',
    });
    const second = (await fip()).body.floatingip;
    const taken = await s.put(`/v2.0/floatingips/${second.id}`, { floatingip: { port_id: port.id } }, ALICE);
    expectError(taken, 409, 'FloatingIPPortAlreadyAssociated');
    assert.equal(
      message(taken),
      `Cannot associate floating IP ${second.floating_ip_address} (${second.id}) with port ${port.id} using fixed IP ${f.fixed_ip_address}, as that fixed IP already has a floating IP on external network ${ext.id}.`,
    );
    const noPort = await s.put(`/v2.0/floatingips/${second.id}`, { floatingip: { fixed_ip_address: '10.0.0.9' } }, ALICE);
    assert.equal(message(noPort), 'Bad floatingip request: fixed_ip_address cannot be specified without a port_id.');
    const wrongIp = await s.put(
      `/v2.0/floatingips/${second.id}`,
      { floatingip: { port_id: port.id, fixed_ip_address: '10.0.0.250' } },
      ALICE,
    );
    assert.equal(message(wrongIp), `Bad floatingip request: Port ${port.id} does not have fixed ip 10.0.0.250.`);

    // Updating the description keeps the association; an empty update clears it.
    let u = await s.put(`/v2.0/floatingips/${f.id}`, { floatingip: { description: 'd2' } }, ALICE);
    assert.equal(u.body.floatingip.port_id, port.id);
    assert.ok(u.body.floatingip.revision_number > f.revision_number);
    u = await s.put(`/v2.0/floatingips/${f.id}`, { floatingip: {} }, ALICE);
    assert.equal(u.body.floatingip.port_id, null);
    assert.equal(u.body.floatingip.router_id, null);
    assert.equal(u.body.floatingip.port_details, null);
    assert.equal(u.body.floatingip.description, 'd2');
    u = await s.put(`/v2.0/floatingips/${second.id}`, { floatingip: { port_id: port.id } }, ALICE);
    assert.equal(u.body.floatingip.router_id, router.id);
    u = await s.put(`/v2.0/floatingips/${second.id}`, { floatingip: { port_id: null } }, ALICE);
    assert.equal(u.body.floatingip.port_id, null);
    // Filters on the association.
    await s.put(`/v2.0/floatingips/${f.id}`, { floatingip: { port_id: port.id } }, ALICE);
    const byPort = (await s.get(`/v2.0/floatingips?port_id=${port.id}`, ALICE)).body.floatingips;
    assert.deepEqual(
      byPort.map((x: { id: string }) => x.id),
      [f.id],
    );
    assert.equal((await s.get(`/v2.0/floatingips?router_id=${router.id}`, ALICE)).body.floatingips.length, 1);
    // The port goes: its floating IP stays, disassociated.
    assert.equal((await s.del(`/v2.0/ports/${port.id}`, ALICE)).status, 204);
    const shown = (await s.get(`/v2.0/floatingips/${f.id}`, ALICE)).body.floatingip;
    assert.equal(shown.port_id, null);
    assert.equal(shown.router_id, null);
    assert.equal(shown.fixed_ip_address, null);
  });

  it('needs a router from the port’s subnet to the external network', async () => {
    const lonely = await s.network({}, ALICE);
    const lonelySub = await s.subnet(lonely.id, '10.9.0.0/24', {}, ALICE);
    const port = await s.port(lonely.id, {}, ALICE);
    const r = await fip({ port_id: port.id });
    expectError(r, 404, 'ExternalGatewayForFloatingIPNotFound');
    assert.equal(
      message(r),
      `External network ${ext.id} is not reachable from subnet ${lonelySub.id}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`,
    );
    const v6only = await s.network({}, ALICE);
    await s.subnet(v6only.id, '2001:db8:9::/64', {}, ALICE);
    const p6 = await s.port(v6only.id, {}, ALICE);
    assert.equal(
      message(await fip({ port_id: p6.id })),
      `Bad floatingip request: Cannot add floating IP to port ${p6.id} that has no fixed IPv4 addresses.`,
    );
    // Another project's port on Alice's network (Alice sees it) is not Alice's to use.
    const theirs = await s.port(net.id, { tenant_id: 'bob-project' }, ADMIN);
    const other = await fip({ port_id: theirs.id });
    expectError(other, 400, 'BadRequest');
    assert.equal(
      message(other),
      `Bad floatingip request: Cannot process floating IP association with Port ${theirs.id}, since that port is owned by a different tenant.`,
    );
  });

  it('holds the router’s interface and gateway while it serves a floating IP', async () => {
    const n2 = await s.network({}, ALICE);
    const s2 = await s.subnet(n2.id, '10.2.0.0/24', {}, ALICE);
    const r2 = await s.create('routers', 'router', { name: 'r2', external_gateway_info: { network_id: ext.id } }, ALICE);
    await s.put(`/v2.0/routers/${r2.id}/add_router_interface`, { subnet_id: s2.id }, ALICE);
    const port = await s.port(n2.id, {}, ALICE);
    const f = (await fip({ port_id: port.id })).body.floatingip;
    assert.equal(f.router_id, r2.id);
    const iface = await s.put(`/v2.0/routers/${r2.id}/remove_router_interface`, { subnet_id: s2.id }, ALICE);
    expectError(iface, 409, 'RouterInterfaceInUseByFloatingIP');
    assert.equal(
      message(iface),
      `Router interface for subnet ${s2.id} on router ${r2.id} cannot be deleted, as it is required by one or more floating IPs.`,
    );
    const gw = await s.put(`/v2.0/routers/${r2.id}`, { router: { external_gateway_info: {} } }, ALICE);
    expectError(gw, 409, 'RouterExternalGatewayInUseByFloatingIp');
    assert.equal(
      message(gw),
      `Gateway cannot be updated for router ${r2.id}, since a gateway to external network ${ext.id} is required by one or more floating IPs.`,
    );
    // The external network can't stop being external, nor go, while routers use it.
    expectError(
      await s.put(`/v2.0/networks/${ext.id}`, { network: { 'router:external': false } }, ADMIN),
      409,
      'ExternalNetworkInUse',
    );
    await s.put(`/v2.0/floatingips/${f.id}`, { floatingip: { port_id: null } }, ALICE);
    assert.equal((await s.put(`/v2.0/routers/${r2.id}/remove_router_interface`, { subnet_id: s2.id }, ALICE)).status, 200);
    assert.equal((await s.del(`/v2.0/routers/${r2.id}`, ALICE)).status, 204);
  });

  it('goes with its external network when it serves nothing', async () => {
    const pub = await s.create('networks', 'network', { name: 'pub2', 'router:external': true }, ADMIN);
    await s.create('subnets', 'subnet', { network_id: pub.id, cidr: '100.64.0.0/24', ip_version: 4 }, ADMIN);
    const f = (await fip({ floating_network_id: pub.id }, ADMIN)).body.floatingip;
    assert.equal((await s.del(`/v2.0/networks/${pub.id}`, ADMIN)).status, 204);
    expectError(await s.get(`/v2.0/floatingips/${f.id}`, ADMIN), 404, 'FloatingIPNotFound');
  });

  it('counts floating IPs against the project’s quota', async () => {
    const p: As = { project: 'fip-quota', roles: ['member'] };
    await s.put('/v2.0/quotas/fip-quota', { quota: { floatingip: 2 } }, ADMIN);
    assert.equal((await fip({}, p)).status, 201);
    assert.equal((await fip({}, p)).status, 201);
    const over = await fip({}, p);
    expectError(over, 409, 'OverQuota');
    assert.equal(message(over), "Quota exceeded for resources: ['floatingip'].");
  });

  it('hands out a small external subnet exactly under concurrent creates', async () => {
    const small = await s.create('networks', 'network', { name: 'small', 'router:external': true }, ADMIN);
    await s.create(
      'subnets',
      'subnet',
      {
        network_id: small.id,
        cidr: '198.18.0.0/29',
        ip_version: 4,
        allocation_pools: [{ start: '198.18.0.2', end: '198.18.0.6' }],
      },
      ADMIN,
    );
    const p: As = { project: 'crowd', roles: ['member'] };
    const replies = await Promise.all(Array.from({ length: 9 }, () => fip({ floating_network_id: small.id }, p)));
    const ok = replies.filter((r) => r.status === 201);
    assert.equal(ok.length, 5, JSON.stringify(replies.map((r) => [r.status, r.body?.NeutronError?.type])));
    for (const r of replies.filter((x) => x.status !== 201)) expectError(r, 409, 'IpAddressGenerationFailure');
    const addresses = ok.map((r) => r.body.floatingip.floating_ip_address).sort();
    assert.deepEqual(addresses, ['198.18.0.2', '198.18.0.3', '198.18.0.4', '198.18.0.5', '198.18.0.6']);
    const ports = (await s.get(`/v2.0/ports?network_id=${small.id}`, ADMIN)).body.ports;
    assert.equal(ports.length, 5, 'no port left behind by a refused create');
  });
});
