// Routers through the API: attributes and their policy (ha/distributed admin-only), the external
// gateway (ext-gw-mode), interfaces by subnet and by port with Neutron's rules and errors, extra
// routes (extraroute, extraroute-atomic), router ports treated as Neutron treats them, listing,
// tags, revisions, quotas, and two concurrent interface additions of overlapping subnets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, ALICE, type As, BOB, expectError, type Reply, TestServer } from '../helpers.js';

const READER: As = { project: 'alice-project', roles: ['reader'] };

describe('routers', () => {
  let s: TestServer;
  let ext: { id: string };
  let extSubnet: { id: string; gateway_ip: string };

  before(async () => {
    s = await TestServer.start([['ml2_type_flat', 'flat_networks', 'physnet1']]);
    ext = await s.create(
      'networks',
      'network',
      { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' },
      ADMIN,
    );
    extSubnet = await s.create('subnets', 'subnet', { network_id: ext.id, cidr: '198.51.100.0/24', ip_version: 4 }, ADMIN);
  });
  after(() => s?.close());

  const router = async (attrs: Record<string, unknown> = {}, as: As = ALICE) =>
    s.create('routers', 'router', { name: 'r', ...attrs }, as);
  const add = (id: string, body: unknown, as: As = ALICE) => s.put(`/v2.0/routers/${id}/add_router_interface`, body, as);
  const remove = (id: string, body: unknown, as: As = ALICE) => s.put(`/v2.0/routers/${id}/remove_router_interface`, body, as);
  const message = (r: Reply) => r.body.NeutronError.message as string;
  let n = 0;
  /** A network of Alice's with one subnet on a fresh /24 (or `cidr`). */
  const tenantSubnet = async (cidr = `10.${++n}.0.0/24`, as: As = ALICE) => {
    const net = await s.network({}, as);
    return s.subnet(net.id, cidr, {}, as);
  };

  it('creates a router with Neutron’s attributes; ha and distributed are the admin’s to set and see', async () => {
    const r = await router({ description: 'd1' });
    assert.equal(r.status, 'ACTIVE');
    assert.equal(r.admin_state_up, true);
    assert.equal(r.external_gateway_info, null);
    assert.deepEqual(r.routes, []);
    assert.deepEqual(r.availability_zone_hints, []);
    assert.deepEqual(r.availability_zones, []);
    assert.equal(r.flavor_id, null);
    assert.equal(r.description, 'd1');
    assert.equal(r.revision_number, 0);
    assert.ok(r.created_at && r.updated_at);
    assert.equal(r.tenant_id, 'alice-project');
    assert.ok(!('ha' in r) && !('distributed' in r), 'a member sees neither ha nor distributed');
    assert.ok(!('gw_port_id' in r) && !('enable_snat' in r), 'internal columns are never shown');
    const asAdmin = (await s.get(`/v2.0/routers/${r.id}`, ADMIN)).body.router;
    assert.equal(asAdmin.ha, false);
    assert.equal(asAdmin.distributed, false);
    expectError(await s.post('/v2.0/routers', { router: { name: 'x', ha: true } }, ALICE), 403, 'PolicyNotAuthorized');
    expectError(await s.post('/v2.0/routers', { router: { name: 'x', distributed: false } }, ALICE), 403, 'PolicyNotAuthorized');
    const ha = await router({ ha: true, tenant_id: 'alice-project' }, ADMIN);
    assert.equal(ha.ha, true);
    expectError(await s.post('/v2.0/routers', { router: { name: 'x' } }, READER), 403, 'PolicyNotAuthorized');
    expectError(await s.get(`/v2.0/routers/${r.id}`, BOB), 404, 'RouterNotFound');
    assert.equal(message(await s.get(`/v2.0/routers/${r.id}`, BOB)), `Router ${r.id} could not be found`);
    expectError(await s.post('/v2.0/routers', { routers: [{ name: 'a' }] }, ALICE), 400);
  });

  it('sets, changes and clears the gateway; enable_snat and external_fixed_ips are the admin’s', async () => {
    const r = await router({ external_gateway_info: { network_id: ext.id } });
    const gw = r.external_gateway_info;
    assert.equal(gw.network_id, ext.id);
    assert.equal(gw.enable_snat, true);
    assert.equal(gw.external_fixed_ips.length, 1);
    assert.equal(gw.external_fixed_ips[0].subnet_id, extSubnet.id);
    const ports = (await s.get(`/v2.0/ports?device_id=${r.id}`, ADMIN)).body.ports;
    assert.equal(ports.length, 1);
    assert.equal(ports[0].device_owner, 'network:router_gateway');
    assert.equal(ports[0].tenant_id, '', 'the gateway port belongs to no project');
    assert.equal(ports[0].fixed_ips[0].ip_address, gw.external_fixed_ips[0].ip_address);
    assert.equal((await s.get(`/v2.0/ports?device_id=${r.id}`, ALICE)).body.ports.length, 0, 'hidden from the owner');

    const forbidden = { external_gateway_info: { network_id: ext.id, enable_snat: false } };
    expectError(await s.put(`/v2.0/routers/${r.id}`, { router: forbidden }, ALICE), 403, 'PolicyNotAuthorized');
    const fixed = { network_id: ext.id, external_fixed_ips: [{ ip_address: '198.51.100.77' }] };
    expectError(await s.put(`/v2.0/routers/${r.id}`, { router: { external_gateway_info: fixed } }, ALICE), 403);
    let u = await s.put(`/v2.0/routers/${r.id}`, { router: forbidden }, ADMIN);
    assert.equal(u.status, 200);
    assert.equal(u.body.router.external_gateway_info.enable_snat, false);
    assert.equal(
      u.body.router.external_gateway_info.external_fixed_ips[0].ip_address,
      gw.external_fixed_ips[0].ip_address,
      'same network: the port stays',
    );
    u = await s.put(`/v2.0/routers/${r.id}`, { router: { external_gateway_info: fixed } }, ADMIN);
    assert.equal(u.body.router.external_gateway_info.external_fixed_ips[0].ip_address, '198.51.100.77');
    assert.equal(u.body.router.external_gateway_info.enable_snat, true, 'without enable_snat, the default again');
    const bad = { network_id: ext.id, external_fixed_ips: [{ ip_address: extSubnet.gateway_ip }] };
    const same = await s.put(`/v2.0/routers/${r.id}`, { router: { external_gateway_info: bad } }, ADMIN);
    expectError(same, 400, 'BadRequest');
    assert.equal(message(same), `Bad router request: External IP ${extSubnet.gateway_ip} is the same as the gateway IP.`);

    u = await s.put(`/v2.0/routers/${r.id}`, { router: { external_gateway_info: {} } }, ALICE);
    assert.equal(u.body.router.external_gateway_info, null);
    assert.equal((await s.get(`/v2.0/ports?device_id=${r.id}`, ADMIN)).body.ports.length, 0, 'the gateway port is gone');
    assert.ok(u.body.router.revision_number > r.revision_number);
  });

  it('refuses a gateway on an internal or invisible network, and bad gateway bodies', async () => {
    const mine = await s.network({}, ALICE);
    const r = await router();
    const internal = await s.put(`/v2.0/routers/${r.id}`, { router: { external_gateway_info: { network_id: mine.id } } }, ALICE);
    expectError(internal, 400, 'BadRequest');
    assert.equal(message(internal), `Bad router request: Network ${mine.id} is not an external network.`);
    const bobs = await s.network({}, BOB);
    expectError(
      await s.put(`/v2.0/routers/${r.id}`, { router: { external_gateway_info: { network_id: bobs.id } } }, ALICE),
      404,
      'NetworkNotFound',
    );
    expectError(await s.put(`/v2.0/routers/${r.id}`, { router: { external_gateway_info: { foo: 1 } } }, ALICE), 400);
    expectError(await s.put(`/v2.0/routers/${r.id}`, { router: { external_gateway_info: { network_id: 'x' } } }, ALICE), 400);
    expectError(
      await s.put(
        `/v2.0/routers/${r.id}`,
        { router: { external_gateway_info: { network_id: ext.id, enable_snat: 'maybe' } } },
        ADMIN,
      ),
      400,
    );
  });

  it('adds and removes interfaces by subnet with Neutron’s rules and answers', async () => {
    const sub = await tenantSubnet();
    const r = await router();
    const added = await add(r.id, { subnet_id: sub.id });
    assert.equal(added.status, 200);
    assert.deepEqual(Object.keys(added.body).sort(), ['id', 'network_id', 'port_id', 'subnet_id', 'subnet_ids', 'tenant_id']);
    assert.equal(added.body.id, r.id);
    assert.equal(added.body.subnet_id, sub.id);
    assert.deepEqual(added.body.subnet_ids, [sub.id]);
    const port = (await s.get(`/v2.0/ports/${added.body.port_id}`, ALICE)).body.port;
    assert.equal(port.device_owner, 'network:router_interface');
    assert.equal(port.device_id, r.id);
    assert.equal(port.tenant_id, 'alice-project');
    assert.deepEqual(port.fixed_ips, [{ subnet_id: sub.id, ip_address: sub.gateway_ip }]);
    assert.ok((await s.get(`/v2.0/routers/${r.id}`, ALICE)).body.router.revision_number > r.revision_number);

    const again = await add(r.id, { subnet_id: sub.id });
    expectError(again, 400, 'BadRequest');
    assert.equal(message(again), `Bad router request: Router already has a port on subnet ${sub.id}.`);
    const overlapping = await tenantSubnet(`10.${n}.0.128/25`);
    const ov = await add(r.id, { subnet_id: overlapping.id });
    expectError(ov, 400, 'BadRequest');
    assert.equal(
      message(ov),
      `Bad router request: Cidr 10.${n}.0.128/25 of subnet ${overlapping.id} overlaps with cidr 10.${n}.0.0/24 of subnet ${sub.id}.`,
    );
    const net = await s.network({}, ALICE);
    const noGw = await s.subnet(net.id, '10.250.0.0/24', { gateway_ip: null }, ALICE);
    const ng = await add(r.id, { subnet_id: noGw.id });
    expectError(ng, 400);
    assert.equal(message(ng), 'Bad router request: Subnet for router interface must have a gateway IP.');
    assert.equal(message(await add(r.id, {})), 'Bad router request: Either subnet_id or port_id must be specified.');
    assert.equal(message(await add(r.id, { port_id: 'port-x' })), "Bad router request: 'port-x' is not a valid UUID.");
    assert.equal(
      message(await add(r.id, { port_id: sub.id, subnet_id: sub.id })),
      'Bad router request: Cannot specify both subnet-id and port-id.',
    );
    expectError(await add(r.id, { subnet_id: sub.id }, BOB), 404, 'RouterNotFound');
    expectError(await add(r.id, { subnet_id: sub.id }, READER), 403, 'PolicyNotAuthorized');
    const bobs = await tenantSubnet(undefined, BOB);
    expectError(await add(r.id, { subnet_id: bobs.id }), 404, 'SubnetNotFound');

    // The network and the subnet are in use; the interface port can't be deleted directly.
    expectError(await s.del(`/v2.0/networks/${sub.network_id}`, ALICE), 409, 'NetworkInUse');
    expectError(await s.del(`/v2.0/subnets/${sub.id}`, ALICE), 409, 'SubnetInUse');
    const direct = await s.del(`/v2.0/ports/${added.body.port_id}`, ADMIN);
    expectError(direct, 409, 'ServicePortInUse');
    assert.equal(
      message(direct),
      `Port ${added.body.port_id} cannot be deleted directly via the port API: has device owner network:router_interface.`,
    );
    const busy = await s.del(`/v2.0/routers/${r.id}`, ALICE);
    expectError(busy, 409, 'RouterInUse');
    assert.equal(message(busy), `Router ${r.id} has ports still attached: ${added.body.port_id}`);
    // IPv4 addresses of a router interface never change.
    const ipChange = await s.put(`/v2.0/ports/${added.body.port_id}`, { port: { fixed_ips: [{ subnet_id: sub.id }] } }, ADMIN);
    expectError(ipChange, 400, 'IPAddressChangeNotAllowed');

    const removed = await remove(r.id, { subnet_id: sub.id });
    assert.equal(removed.status, 200);
    assert.equal(removed.body.port_id, added.body.port_id);
    expectError(await s.get(`/v2.0/ports/${added.body.port_id}`, ALICE), 404);
    const gone = await remove(r.id, { subnet_id: sub.id });
    expectError(gone, 404, 'RouterInterfaceNotFoundForSubnet');
    assert.equal(message(gone), `Router ${r.id} has no interface on subnet ${sub.id}`);
    assert.equal((await s.del(`/v2.0/routers/${r.id}`, ALICE)).status, 204);
    expectError(await s.get(`/v2.0/routers/${r.id}`, ALICE), 404);
  });

  it('adds and removes interfaces by port', async () => {
    const sub = await tenantSubnet();
    const r1 = await router();
    const r2 = await router();
    const p = await s.port(sub.network_id, { name: 'by-port' }, ALICE);
    const added = await add(r1.id, { port_id: p.id });
    assert.equal(added.status, 200);
    assert.equal(added.body.port_id, p.id);
    const shown = (await s.get(`/v2.0/ports/${p.id}`, ALICE)).body.port;
    assert.equal(shown.device_id, r1.id);
    assert.equal(shown.device_owner, 'network:router_interface');
    const inUse = await add(r2.id, { port_id: p.id });
    expectError(inUse, 409, 'PortInUse');
    assert.equal(
      message(inUse),
      `Unable to complete operation on port ${p.id} for network ${sub.network_id}. Port already has an attached device ${r1.id}.`,
    );
    expectError(await add(r1.id, { port_id: p.id }), 409, 'PortInUse');
    const noIp = await s.port(sub.network_id, { fixed_ips: [] }, ALICE);
    assert.equal(
      message(await add(r2.id, { port_id: noIp.id })),
      'Bad router request: Router port must have at least one fixed IP.',
    );
    expectError(await remove(r2.id, { port_id: p.id }), 404, 'RouterInterfaceNotFound');
    const other = await tenantSubnet();
    const mismatch = await remove(r1.id, { port_id: p.id, subnet_id: other.id });
    expectError(mismatch, 400, 'SubnetMismatchForPort');
    const removed = await remove(r1.id, { port_id: p.id });
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.body.subnet_ids, [sub.id]);
    expectError(await s.get(`/v2.0/ports/${p.id}`, ALICE), 404, 'PortNotFound');
  });

  it('keeps one IPv6 interface per network, adding prefixes to it', async () => {
    const net = await s.network({}, ALICE);
    const v6a = await s.subnet(net.id, '2001:db8:1::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' }, ALICE);
    const v6b = await s.subnet(net.id, '2001:db8:2::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' }, ALICE);
    const r = await router();
    const a = await add(r.id, { subnet_id: v6a.id });
    const b = await add(r.id, { subnet_id: v6b.id });
    assert.equal(a.body.port_id, b.body.port_id, 'the second prefix joins the first port');
    const port = (await s.get(`/v2.0/ports/${a.body.port_id}`, ALICE)).body.port;
    assert.deepEqual(
      port.fixed_ips.map((f: { ip_address: string }) => f.ip_address).sort(),
      [v6a.gateway_ip, v6b.gateway_ip].sort(),
      'at each subnet’s gateway address',
    );
    const ra = await s.subnet(net.id, '2001:db8:3::/64', { ipv6_address_mode: 'slaac' }, ALICE);
    const refused = await add(r.id, { subnet_id: ra.id });
    assert.equal(
      message(refused),
      // Neutron's message ends in a full stop, and BadRequest adds another.
      `Bad router request: IPv6 subnet ${ra.id} configured to receive RAs from an external router cannot be added to Neutron Router..`,
    );
    await remove(r.id, { subnet_id: v6a.id });
    const after1 = (await s.get(`/v2.0/ports/${a.body.port_id}`, ALICE)).body.port;
    assert.deepEqual(after1.fixed_ips, [{ subnet_id: v6b.id, ip_address: v6b.gateway_ip }]);
  });

  it('sets extra routes through connected next hops, atomically too, and bumps revisions', async () => {
    const sub = await tenantSubnet();
    const r = await router();
    await add(r.id, { subnet_id: sub.id });
    const base = sub.cidr.replace(/0\/24$/, '');
    const routes = [{ destination: '172.16.0.0/24', nexthop: `${base}10` }];
    let u = await s.put(`/v2.0/routers/${r.id}`, { router: { routes } }, ALICE);
    assert.equal(u.status, 200);
    assert.deepEqual(u.body.router.routes, routes);
    const rev = u.body.router.revision_number;
    const far = [{ destination: '172.16.0.0/24', nexthop: '192.0.2.10' }];
    const bad = await s.put(`/v2.0/routers/${r.id}`, { router: { routes: far } }, ALICE);
    expectError(bad, 400, 'InvalidRoutes');
    assert.equal(
      message(bad),
      "Invalid format for routes: [{'destination': '172.16.0.0/24', 'nexthop': '192.0.2.10'}], the nexthop is not connected with router",
    );
    const own = [{ destination: '172.16.0.0/24', nexthop: sub.gateway_ip }];
    assert.match(
      message(await s.put(`/v2.0/routers/${r.id}`, { router: { routes: own } }, ALICE)),
      /the nexthop is used by router$/,
    );
    const dup = [routes[0], routes[0]];
    expectError(await s.put(`/v2.0/routers/${r.id}`, { router: { routes: dup } }, ALICE), 400);

    const more = [
      { destination: '172.16.0.0/24', nexthop: `${base}10` },
      { destination: '172.16.1.0/24', nexthop: `${base}11` },
    ];
    let a = await s.put(`/v2.0/routers/${r.id}/add_extraroutes`, { router: { routes: more } }, ALICE);
    assert.equal(a.status, 200);
    assert.equal(a.body.router.routes.length, 2, 'duplicates merge');
    assert.ok(a.body.router.revision_number > rev);
    a = await s.put(
      `/v2.0/routers/${r.id}/remove_extraroutes`,
      { router: { routes: [more[1], { destination: '172.16.9.0/24', nexthop: `${base}12` }] } },
      ALICE,
    );
    assert.deepEqual(a.body.router.routes, [routes[0]], 'a missing route is no error');
    expectError(await s.put(`/v2.0/routers/${r.id}/add_extraroutes`, { router: {} }, ALICE), 400);
    expectError(await s.put(`/v2.0/routers/${r.id}/add_extraroutes`, { router: { routes: more } }, BOB), 404, 'RouterNotFound');

    const inUse = await remove(r.id, { subnet_id: sub.id });
    expectError(inUse, 409, 'RouterInterfaceInUseByRoute');
    u = await s.put(`/v2.0/routers/${r.id}`, { router: { routes: null } }, ALICE);
    assert.deepEqual(u.body.router.routes, []);
    assert.equal((await remove(r.id, { subnet_id: sub.id })).status, 200);
  });

  it('changes ha and distributed only on a router that is administratively down', async () => {
    const r = await router({ tenant_id: 'alice-project', distributed: false, ha: false }, ADMIN);
    const dvr = await s.put(`/v2.0/routers/${r.id}`, { router: { distributed: true } }, ADMIN);
    expectError(dvr, 400, 'BadRequest');
    assert.equal(
      message(dvr),
      "Bad router request: Cannot change the 'distributed' attribute of active routers. Please set router admin_state_up to False prior to upgrade.",
    );
    expectError(await s.put(`/v2.0/routers/${r.id}`, { router: { ha: true } }, ADMIN), 400, 'BadRequest');
    expectError(await s.put(`/v2.0/routers/${r.id}`, { router: { ha: true, admin_state_up: false } }, ALICE), 403);
    let u = await s.put(`/v2.0/routers/${r.id}`, { router: { admin_state_up: false } }, ADMIN);
    u = await s.put(`/v2.0/routers/${r.id}`, { router: { distributed: true } }, ADMIN);
    assert.equal(u.body.router.distributed, true);
    u = await s.put(`/v2.0/routers/${r.id}`, { router: { ha: true } }, ADMIN);
    assert.equal(u.body.router.ha, true);
    u = await s.put(`/v2.0/routers/${r.id}`, { router: { admin_state_up: true } }, ADMIN);
    expectError(await s.put(`/v2.0/routers/${r.id}`, { router: { distributed: false } }, ADMIN), 400);
    const shown = (await s.get(`/v2.0/routers/${r.id}`, ALICE)).body.router;
    assert.ok(!('ha' in shown) && !('distributed' in shown));
  });

  it('lists with filters, sorting, pagination, fields and tags', async () => {
    const names = ['list-c', 'list-a', 'list-b'];
    for (const name of names) await router({ name }, BOB);
    const r = await s.get('/v2.0/routers?sort_key=name&sort_dir=desc&fields=name&fields=id', BOB);
    assert.deepEqual(
      r.body.routers.map((x: { name: string }) => x.name),
      ['list-c', 'list-b', 'list-a'],
    );
    assert.deepEqual(Object.keys(r.body.routers[0]).sort(), ['id', 'name']);
    const page = await s.get('/v2.0/routers?limit=2&sort_key=name&sort_dir=asc', BOB);
    assert.equal(page.body.routers.length, 2);
    assert.ok(page.body.routers_links.some((l: { rel: string }) => l.rel === 'next'));
    const one = (await s.get('/v2.0/routers?name=list-b', BOB)).body.routers;
    assert.equal(one.length, 1);
    expectError(await s.get('/v2.0/routers?status=ACTIVE', BOB), 400);
    const t = await s.put(`/v2.0/routers/${one[0].id}/tags`, { tags: ['red', 'blue'] }, BOB);
    assert.deepEqual(t.body.tags, ['blue', 'red']);
    assert.equal((await s.get('/v2.0/routers?tags=red', BOB)).body.routers.length, 1);
    assert.equal((await s.get('/v2.0/routers?not-tags=red', BOB)).body.routers.length, 2);
    const before = one[0].revision_number;
    assert.ok((await s.get(`/v2.0/routers/${one[0].id}`, BOB)).body.router.revision_number > before);
    const ifMatch = await s.request(
      'PUT',
      `/v2.0/routers/${one[0].id}`,
      { router: { name: 'x' } },
      {
        ...BOB,
        headers: { 'if-match': `revision_number=${before}` },
      },
    );
    expectError(ifMatch, 412, 'RevisionNumberConstraintFailed');
  });

  it('counts routers against the project’s quota', async () => {
    const p: As = { project: 'quota-project', roles: ['member'] };
    assert.equal((await s.put('/v2.0/quotas/quota-project', { quota: { router: 1 } }, ADMIN)).status, 200);
    await router({}, p);
    const over = await s.post('/v2.0/routers', { router: { name: 'two' } }, p);
    expectError(over, 409, 'OverQuota');
    assert.equal(message(over), "Quota exceeded for resources: ['router'].");
    const details = (await s.get('/v2.0/quotas/quota-project/details', ADMIN)).body.quota;
    assert.deepEqual(details.router, { limit: 1, used: 1, reserved: 0 });
  });

  it('knows the router extensions', async () => {
    const aliases = (await s.get('/v2.0/extensions', ALICE)).body.extensions.map((e: { alias: string }) => e.alias);
    for (const a of [
      'router',
      'ext-gw-mode',
      'extraroute',
      'extraroute-atomic',
      'l3-ha',
      'dvr',
      'l3_agent_scheduler',
      'router_availability_zone',
      'l3-flavors',
      'flavors',
      'service-type',
      'floatingip-pools',
      'fip-port-details',
      'auto-allocated-topology',
      'router-admin-state-down-before-update',
      'l3-port-ip-change-not-allowed',
    ]) {
      assert.ok(aliases.includes(a), a);
    }
  });

  it('adds overlapping subnets to one router concurrently: exactly one wins, the other is refused, none fails', async () => {
    const carol: As = { project: 'carol-project', roles: ['member'] };
    for (let round = 0; round < 3; round++) {
      const r = await router({}, carol);
      const a = await tenantSubnet(`10.20${round}.0.0/24`, carol);
      const b = await tenantSubnet(`10.20${round}.0.0/25`, carol);
      const c = await tenantSubnet(`10.20${round}.0.128/25`, carol);
      const replies = await Promise.all([a, b, c].map((x) => add(r.id, { subnet_id: x.id }, carol)));
      const codes = replies.map((x) => x.status).sort();
      assert.ok(!codes.includes(500), JSON.stringify(replies.map((x) => x.body)));
      const ok = replies.filter((x) => x.status === 200);
      // /24 overlaps both /25s; the two /25s do not overlap each other.
      assert.ok(ok.length === 1 || ok.length === 2, JSON.stringify(codes));
      for (const x of replies.filter((y) => y.status !== 200)) expectError(x, 400, 'BadRequest');
      const ports = (await s.get(`/v2.0/ports?device_id=${r.id}`, carol)).body.ports;
      assert.equal(ports.length, ok.length);
      const cidrs = ok.map((x) => [a, b, c].find((y) => y.id === x.body.subnet_id)?.cidr);
      if (ok.length === 2) assert.deepEqual(cidrs.sort(), [`10.20${round}.0.0/25`, `10.20${round}.0.128/25`]);
    }
  });
});
