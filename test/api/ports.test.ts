// Ports over HTTP: defaults, IPAM (default, explicit and updated fixed IPs), MACs, port
// security, allowed address pairs, extra DHCP options, policy, visibility, filters, revisions,
// tags at creation and bulk atomicity. Expected texts are Neutron's (checked against a reference
// Neutron where its answer is not obvious).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, type As, BOB, expectError, type Reply, TestServer } from '../helpers.js';

const CAROL: As = { project: 'carol-project', roles: ['member'] };
const MAC_RE = /^fa:16:3e(:[0-9a-f]{2}){3}$/;
const STAMP_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

// biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
type Obj = any;

/** The EUI-64 address of `mac` on the /64 whose first four groups are `prefix` (e.g. '2001:db8:1:0'). */
function eui64(prefix: string, mac: string): string {
  const o = mac.split(':').map((x) => parseInt(x, 16));
  const g = (a: number, b: number) => ((a << 8) | b).toString(16);
  return `${prefix}:${g(o[0] ^ 2, o[1])}:${g(o[2], 0xff)}:${g(0xfe, o[3])}:${g(o[4], o[5])}`;
}

const ipToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const inRange = (ip: string, start: string, end: string) => ipToInt(ip) >= ipToInt(start) && ipToInt(ip) <= ipToInt(end);

async function postPort(attrs: Record<string, unknown>, as: As = ALICE): Promise<Reply> {
  return s.post('/v2.0/ports', { port: attrs }, as);
}
async function putPort(id: string, attrs: Record<string, unknown>, as: As = ALICE): Promise<Reply> {
  return s.put(`/v2.0/ports/${id}`, { port: attrs }, as);
}
async function showPort(id: string, as: As = ALICE): Promise<Obj> {
  const r = await s.get(`/v2.0/ports/${id}`, as);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.port;
}
async function portIds(query = '', as: As = ADMIN): Promise<string[]> {
  const r = await s.get(`/v2.0/ports${query}`, as);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.ports.map((p: Obj) => p.id).sort();
}
/** A network with one IPv4 subnet. */
async function netWithSubnet(cidr = '10.0.0.0/24', netAttrs: Record<string, unknown> = {}, as: As = ALICE) {
  const net = await s.network(netAttrs, as);
  const sub = await s.subnet(net.id, cidr, {}, as);
  return { net, sub };
}

describe('port CRUD and defaults', () => {
  test('create gives Neutron defaults; show equals the create response; update and delete', async () => {
    const { net, sub } = await netWithSubnet();
    const r = await postPort({ network_id: net.id });
    assert.equal(r.status, 201);
    assert.deepEqual(Object.keys(r.body), ['port']);
    const p = r.body.port;
    assert.match(p.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(p.name, '');
    assert.equal(p.description, '');
    assert.equal(p.network_id, net.id);
    assert.equal(p.status, 'DOWN');
    assert.equal(p.admin_state_up, true);
    assert.match(p.mac_address, MAC_RE);
    assert.equal(p.device_id, '');
    assert.equal(p.device_owner, '');
    assert.equal(p.tenant_id, ALICE.project);
    assert.equal(p.project_id, ALICE.project);
    assert.equal(p.port_security_enabled, true);
    assert.deepEqual(p.allowed_address_pairs, []);
    assert.deepEqual(p.extra_dhcp_opts, []);
    assert.deepEqual(p.tags, []);
    assert.equal(p.revision_number, 0);
    assert.match(p.created_at, STAMP_RE);
    assert.equal(p.updated_at, p.created_at);
    assert.equal(p.fixed_ips.length, 1);
    assert.equal(p.fixed_ips[0].subnet_id, sub.id);
    assert.ok(inRange(p.fixed_ips[0].ip_address, '10.0.0.2', '10.0.0.254'), p.fixed_ips[0].ip_address);

    assert.deepEqual(await showPort(p.id), p);
    assert.deepEqual(await portIds(`?network_id=${net.id}`, ALICE), [p.id]);

    const u = await putPort(p.id, { name: 'renamed', admin_state_up: false, description: 'd2' });
    assert.equal(u.status, 200);
    assert.equal(u.body.port.name, 'renamed');
    assert.equal(u.body.port.admin_state_up, false);
    assert.equal(u.body.port.description, 'd2');
    assert.equal(u.body.port.created_at, p.created_at);
    assert.equal(u.body.port.mac_address, p.mac_address);
    assert.deepEqual(u.body.port.fixed_ips, p.fixed_ips);

    const d = await s.del(`/v2.0/ports/${p.id}`, ALICE);
    assert.equal(d.status, 204);
    assert.equal(d.body, undefined);
    const gone = await s.get(`/v2.0/ports/${p.id}`, ALICE);
    expectError(gone, 404, 'PortNotFound');
    assert.equal(gone.body.NeutronError.message, `Port ${p.id} could not be found.`);
    expectError(await s.del(`/v2.0/ports/${p.id}`, ALICE), 404, 'PortNotFound');
    expectError(await putPort(p.id, { name: 'x' }), 404, 'PortNotFound');
    // The address went back to the pool.
    const again = await postPort({ network_id: net.id, fixed_ips: [{ ip_address: p.fixed_ips[0].ip_address }] });
    assert.equal(again.status, 201, JSON.stringify(again.body));
  });

  test('numa_affinity_policy and device_profile: stored and shown as given (Nova, Cyborg)', async () => {
    const { net } = await netWithSubnet();
    const plain = (await postPort({ network_id: net.id })).body.port;
    assert.equal(plain.numa_affinity_policy, null);
    assert.equal(plain.device_profile, null);
    const r = await postPort({ network_id: net.id, numa_affinity_policy: 'required', device_profile: 'dp-gpu' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.port.numa_affinity_policy, 'required');
    assert.equal(r.body.port.device_profile, 'dp-gpu');
    assert.deepEqual(await showPort(r.body.port.id), r.body.port);
    for (const policy of ['preferred', 'legacy', null]) {
      const u = await putPort(r.body.port.id, { numa_affinity_policy: policy });
      assert.equal(u.status, 200, JSON.stringify(u.body));
      assert.equal(u.body.port.numa_affinity_policy, policy);
      assert.equal((await showPort(r.body.port.id)).numa_affinity_policy, policy);
    }
    const bad = await postPort({ network_id: net.id, numa_affinity_policy: 'socket' });
    expectError(bad, 400, 'HTTPBadRequest');
    assert.match(
      bad.body.NeutronError.message,
      /^Invalid input for numa_affinity_policy\. Reason: socket is not in valid_values\.$/,
    );
    expectError(await putPort(r.body.port.id, { device_profile: 'other' }), 400, 'HTTPBadRequest');
    expectError(await postPort({ network_id: net.id, device_profile: 'x'.repeat(256) }), 400, 'HTTPBadRequest');
    const aliases = (await s.get('/v2.0/extensions', ALICE)).body.extensions.map((e: Obj) => e.alias);
    assert.ok(aliases.includes('port-numa-affinity-policy') && aliases.includes('port-device-profile'));
  });

  test('a port on a network without subnets has no fixed IPs', async () => {
    const net = await s.network();
    const p = await s.port(net.id);
    assert.deepEqual(p.fixed_ips, []);
  });

  test('network_id is required and must exist', async () => {
    const r = await postPort({ name: 'x' });
    expectError(r, 400, 'HTTPBadRequest');
    assert.equal(r.body.NeutronError.message, "Failed to parse request. Required attribute 'network_id' not specified");
    const missing = '3f0c7f5e-0b1e-4d6c-9f3a-2b1c0d9e8f7a';
    const r2 = await postPort({ network_id: missing });
    expectError(r2, 404, 'NetworkNotFound');
    assert.equal(r2.body.NeutronError.message, `Network ${missing} could not be found.`);
  });

  test('another project cannot create a port on a private network (404)', async () => {
    const net = await s.network();
    expectError(await postPort({ network_id: net.id }, BOB), 404, 'NetworkNotFound');
  });
});

describe('default fixed IP allocation', () => {
  test('one IPv4 address, EUI-64 on every auto-address subnet, one stateful IPv6 address', async () => {
    const net = await s.network();
    const v4a = await s.subnet(net.id, '10.1.0.0/24');
    const v4b = await s.subnet(net.id, '10.2.0.0/24');
    const slaac = await s.subnet(net.id, '2001:db8:1::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    const stateless = await s.subnet(net.id, '2001:db8:2::/64', { ipv6_address_mode: 'dhcpv6-stateless' });
    const stateful = await s.subnet(net.id, '2001:db8:3::/64');
    const stateful2 = await s.subnet(net.id, '2001:db8:4::/64', { ipv6_address_mode: 'dhcpv6-stateful' });
    const p = await s.port(net.id);
    const bySubnet = new Map<string, string[]>();
    for (const ip of p.fixed_ips) bySubnet.set(ip.subnet_id, [...(bySubnet.get(ip.subnet_id) ?? []), ip.ip_address]);
    assert.equal(p.fixed_ips.length, 4, JSON.stringify(p.fixed_ips));
    // Exactly one IPv4 address, from one of the two IPv4 subnets.
    const v4 = p.fixed_ips.filter((ip: Obj) => !ip.ip_address.includes(':'));
    assert.equal(v4.length, 1);
    assert.ok([v4a.id, v4b.id].includes(v4[0].subnet_id));
    assert.deepEqual(bySubnet.get(slaac.id), [eui64('2001:db8:1:0', p.mac_address)]);
    assert.deepEqual(bySubnet.get(stateless.id), [eui64('2001:db8:2:0', p.mac_address)]);
    // Exactly one stateful IPv6 address.
    const st = [...(bySubnet.get(stateful.id) ?? []), ...(bySubnet.get(stateful2.id) ?? [])];
    assert.equal(st.length, 1);
    assert.ok(st[0].startsWith('2001:db8:3:') || st[0].startsWith('2001:db8:4:'), st[0]);
  });

  test('router interface ports get no SLAAC address', async () => {
    const net = await s.network();
    await s.subnet(net.id, '2001:db8:5::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    const p = await s.port(net.id, { device_owner: 'network:router_interface' });
    assert.deepEqual(p.fixed_ips, []);
  });

  test('a full subnet is skipped when another IPv4 subnet has room', async () => {
    const net = await s.network();
    const small = await s.subnet(net.id, '10.3.0.0/30'); // one address: 10.3.0.2
    const big = await s.subnet(net.id, '10.4.0.0/24');
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const p = await s.port(net.id);
      assert.equal(p.fixed_ips.length, 1);
      seen.add(p.fixed_ips[0].subnet_id);
    }
    assert.ok(seen.has(big.id));
    const onSmall = await portIds(`?fixed_ips=subnet_id=${small.id}`);
    assert.ok(onSmall.length <= 1);
  });
});

describe('explicit fixed IPs', () => {
  let net: Obj;
  let sub: Obj;
  let other: Obj;
  let slaac: Obj;
  before(async () => {
    net = await s.network();
    // Automatic addresses come from .2-.200 (randomly on PostgreSQL), so the explicit ones the
    // tests pick above .200 are never taken by chance.
    sub = await s.subnet(net.id, '10.20.0.0/24', { allocation_pools: [{ start: '10.20.0.2', end: '10.20.0.200' }] });
    slaac = await s.subnet(net.id, '2001:db8:20::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    const otherNet = await s.network();
    other = await s.subnet(otherNet.id, '10.21.0.0/24');
  });

  test('by ip_address, by subnet_id, by both, two on one subnet; SLAAC added anyway', async () => {
    const a = await s.port(net.id, { fixed_ips: [{ ip_address: '10.20.0.210' }] });
    assert.deepEqual(a.fixed_ips, [
      { subnet_id: sub.id, ip_address: '10.20.0.210' },
      { subnet_id: slaac.id, ip_address: eui64('2001:db8:20:0', a.mac_address) },
    ]);
    const b = await s.port(net.id, { fixed_ips: [{ subnet_id: sub.id }] });
    const v4b = b.fixed_ips.filter((x: Obj) => x.subnet_id === sub.id);
    assert.equal(v4b.length, 1);
    assert.ok(inRange(v4b[0].ip_address, '10.20.0.2', '10.20.0.200'));
    const c = await s.port(net.id, { fixed_ips: [{ subnet_id: sub.id, ip_address: '10.20.0.211' }, { subnet_id: sub.id }] });
    const v4c = c.fixed_ips.filter((x: Obj) => x.subnet_id === sub.id).map((x: Obj) => x.ip_address);
    assert.equal(v4c.length, 2);
    assert.ok(v4c.includes('10.20.0.211'));
    assert.notEqual(v4c[0], v4c[1]);
    // The gateway address is not reserved against explicit requests (Neutron allows it).
    const g = await s.port(net.id, { fixed_ips: [{ ip_address: '10.20.0.1' }] });
    assert.equal(g.fixed_ips[0].ip_address, '10.20.0.1');
    // Explicitly no address: only the auto address remains.
    const none = await s.port(net.id, { fixed_ips: [] });
    assert.deepEqual(none.fixed_ips, [{ subnet_id: slaac.id, ip_address: eui64('2001:db8:20:0', none.mac_address) }]);
  });

  test('address outside the named subnet → 400 InvalidIpForSubnet', async () => {
    const r = await postPort({ network_id: net.id, fixed_ips: [{ subnet_id: sub.id, ip_address: '10.21.0.5' }] });
    expectError(r, 400, 'InvalidIpForSubnet');
    assert.equal(r.body.NeutronError.message, 'IP address 10.21.0.5 is not a valid IP for the specified subnet.');
  });

  test('address on none of the network subnets → 400 InvalidIpForNetwork', async () => {
    const r = await postPort({ network_id: net.id, fixed_ips: [{ ip_address: '10.99.0.5' }] });
    expectError(r, 400, 'InvalidIpForNetwork');
    assert.equal(
      r.body.NeutronError.message,
      'IP address 10.99.0.5 is not a valid IP for any of the subnets on the specified network.',
    );
  });

  test('subnet of another network → 400 InvalidInput', async () => {
    const r = await postPort({ network_id: net.id, fixed_ips: [{ subnet_id: other.id }] });
    expectError(r, 400, 'InvalidInput');
    assert.equal(
      r.body.NeutronError.message,
      `Invalid input for operation: Failed to create port on network ${net.id}, because fixed_ips included invalid subnet ${other.id}.`,
    );
  });

  test('a fixed IP with neither subnet_id nor ip_address → 400', async () => {
    const r = await postPort({ network_id: net.id, fixed_ips: [{}] });
    expectError(r, 400, 'InvalidInput');
    assert.equal(r.body.NeutronError.message, 'Invalid input for operation: IP allocation requires subnet_id or ip_address.');
  });

  test('network and broadcast addresses are refused', async () => {
    for (const ip of ['10.20.0.0', '10.20.0.255']) {
      const r = await postPort({ network_id: net.id, fixed_ips: [{ subnet_id: sub.id, ip_address: ip }] });
      expectError(r, 400, 'InvalidIpForSubnet');
      assert.equal(r.body.NeutronError.message, `IP address ${ip} is not a valid IP for the specified subnet.`);
      // Without subnet_id no subnet accepts it, as Neutron's subnet lookup says.
      const r2 = await postPort({ network_id: net.id, fixed_ips: [{ ip_address: ip }] });
      expectError(r2, 400, 'InvalidIpForNetwork');
    }
  });

  test('duplicate address → 409 IpAddressAlreadyAllocated; duplicate in one request → 400', async () => {
    await s.port(net.id, { fixed_ips: [{ ip_address: '10.20.0.230' }] });
    const r = await postPort({ network_id: net.id, fixed_ips: [{ ip_address: '10.20.0.230' }] });
    expectError(r, 409, 'IpAddressAlreadyAllocated');
    assert.equal(r.body.NeutronError.message, `IP address 10.20.0.230 already allocated in subnet ${sub.id}`);
    const r2 = await postPort({ network_id: net.id, fixed_ips: [{ ip_address: '10.20.0.231' }, { ip_address: '10.20.0.231' }] });
    expectError(r2, 400, 'HTTPBadRequest');
    assert.equal(r2.body.NeutronError.message, "Invalid input for fixed_ips. Reason: Duplicate IP address '10.20.0.231'.");
  });

  test('explicit address on a SLAAC subnet → 400 AllocationOnAutoAddressSubnet', async () => {
    for (const fixed of [{ subnet_id: slaac.id, ip_address: '2001:db8:20::5' }, { ip_address: '2001:db8:20::5' }]) {
      const r = await postPort({ network_id: net.id, fixed_ips: [fixed] });
      expectError(r, 400, 'AllocationOnAutoAddressSubnet');
      assert.equal(
        r.body.NeutronError.message,
        `IPv6 address 2001:db8:20::5 cannot be directly assigned to a port on subnet ${slaac.id} as the subnet is configured for automatic addresses`,
      );
    }
  });

  test('invalid ip_address or subnet_id syntax → 400', async () => {
    const r = await postPort({ network_id: net.id, fixed_ips: [{ ip_address: '10.20.0.2300' }] });
    expectError(r, 400, 'HTTPBadRequest');
    assert.equal(r.body.NeutronError.message, "Invalid input for fixed_ips. Reason: '10.20.0.2300' is not a valid IP address.");
    const r2 = await postPort({ network_id: net.id, fixed_ips: [{ subnet_id: 'nope' }] });
    expectError(r2, 400, 'HTTPBadRequest');
    assert.equal(r2.body.NeutronError.message, "Invalid input for fixed_ips. Reason: 'nope' is not a valid UUID.");
  });

  test('IPv6 stateful subnet: explicit address and network address for an unowned port', async () => {
    const n6 = await s.network();
    const s6 = await s.subnet(n6.id, '2001:db8:30::/64');
    const p = await s.port(n6.id, { fixed_ips: [{ ip_address: '2001:db8:30::10' }] });
    assert.deepEqual(p.fixed_ips, [{ subnet_id: s6.id, ip_address: '2001:db8:30::10' }]);
    // Written long-hand, the address is stored compact.
    const q = await s.port(n6.id, { fixed_ips: [{ ip_address: '2001:0db8:0030:0000:0000:0000:0000:0011' }] });
    assert.equal(q.fixed_ips[0].ip_address, '2001:db8:30::11');
    const r = await s.port(n6.id, { fixed_ips: [{ subnet_id: s6.id, ip_address: '2001:db8:30::' }] });
    assert.equal(r.fixed_ips[0].ip_address, '2001:db8:30::');
    const bad = await postPort({
      network_id: n6.id,
      device_owner: 'compute:nova',
      fixed_ips: [{ subnet_id: s6.id, ip_address: '2001:db8:30::' }],
    });
    expectError(bad, 400, 'InvalidIpForSubnet');
  });
});

describe('fixed_ips update', () => {
  test('tempest add IPs: keep the listed address, add one from {subnet_id}', async () => {
    const { net, sub } = await netWithSubnet('10.30.0.0/24');
    const p = await s.port(net.id);
    const first = p.fixed_ips[0].ip_address;
    const r = await putPort(p.id, { fixed_ips: [{ subnet_id: sub.id, ip_address: first }, { subnet_id: sub.id }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const ips = r.body.port.fixed_ips;
    assert.deepEqual(
      ips.map((x: Obj) => x.subnet_id),
      [sub.id, sub.id],
    );
    assert.ok(ips.some((x: Obj) => x.ip_address === first));
    assert.equal(new Set(ips.map((x: Obj) => x.ip_address)).size, 2);
    assert.equal(r.body.port.revision_number, p.revision_number + 1);
    assert.deepEqual((await showPort(p.id)).fixed_ips, ips);
  });

  test('tempest add IPv6 IPs on a stateful subnet', async () => {
    const net = await s.network();
    const sub = await s.subnet(net.id, '2001:db8:31::/64');
    const p = await s.port(net.id);
    assert.equal(p.fixed_ips.length, 1);
    const r = await putPort(p.id, {
      fixed_ips: [{ subnet_id: sub.id, ip_address: p.fixed_ips[0].ip_address }, { subnet_id: sub.id }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.port.fixed_ips.map((x: Obj) => x.subnet_id),
      [sub.id, sub.id],
    );
  });

  test('unlisted addresses are dropped and released; SLAAC addresses stay', async () => {
    const net = await s.network();
    const sub = await s.subnet(net.id, '10.32.0.0/24');
    const slaac = await s.subnet(net.id, '2001:db8:32::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    const p = await s.port(net.id, { fixed_ips: [{ ip_address: '10.32.0.5' }, { ip_address: '10.32.0.6' }] });
    const auto = { subnet_id: slaac.id, ip_address: eui64('2001:db8:32:0', p.mac_address) };
    assert.equal(p.fixed_ips.length, 3);

    // {subnet_id} alone keeps one of the two existing addresses of that subnet.
    let r = await putPort(p.id, { fixed_ips: [{ subnet_id: sub.id }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    let v4 = r.body.port.fixed_ips.filter((x: Obj) => x.subnet_id === sub.id).map((x: Obj) => x.ip_address);
    assert.equal(v4.length, 1);
    assert.ok(['10.32.0.5', '10.32.0.6'].includes(v4[0]));
    assert.ok(r.body.port.fixed_ips.some((x: Obj) => x.ip_address === auto.ip_address));

    // Replace by a named address; the old one is free again.
    r = await putPort(p.id, { fixed_ips: [{ ip_address: '10.32.0.7' }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    v4 = r.body.port.fixed_ips.filter((x: Obj) => x.subnet_id === sub.id).map((x: Obj) => x.ip_address);
    assert.deepEqual(v4, ['10.32.0.7']);
    assert.deepEqual(
      r.body.port.fixed_ips.find((x: Obj) => x.subnet_id === slaac.id),
      auto,
    );
    const reuse = await s.port(net.id, { fixed_ips: [{ ip_address: '10.32.0.5' }, { ip_address: '10.32.0.6' }] });
    assert.equal(reuse.fixed_ips.length, 3);

    // An empty list drops every non-auto address.
    r = await putPort(p.id, { fixed_ips: [] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.port.fixed_ips, [auto]);
    assert.deepEqual(await portIds('?fixed_ips=ip_address=10.32.0.7'), []);
  });

  test('a failed fixed_ips update changes nothing', async () => {
    const { net, sub } = await netWithSubnet('10.33.0.0/24');
    const a = await s.port(net.id, { fixed_ips: [{ ip_address: '10.33.0.5' }] });
    const b = await s.port(net.id, { fixed_ips: [{ ip_address: '10.33.0.6' }] });
    const r = await putPort(b.id, { fixed_ips: [{ ip_address: '10.33.0.5' }] });
    expectError(r, 409, 'IpAddressAlreadyAllocated');
    assert.equal(r.body.NeutronError.message, `IP address 10.33.0.5 already allocated in subnet ${sub.id}`);
    const r2 = await putPort(b.id, { fixed_ips: [{ ip_address: '10.99.0.1' }] });
    expectError(r2, 400, 'InvalidIpForNetwork');
    const after = await showPort(b.id);
    assert.deepEqual(after, b);
    assert.deepEqual((await showPort(a.id)).fixed_ips, a.fixed_ips);
    // Explicit IP on the network address on update is refused as on create.
    expectError(await putPort(b.id, { fixed_ips: [{ subnet_id: sub.id, ip_address: '10.33.0.0' }] }), 400, 'InvalidIpForSubnet');
  });
});

describe('exhaustion', () => {
  test('a full subnet → 409 IpAddressGenerationFailure on create and on update', async () => {
    const { net, sub } = await netWithSubnet('10.40.0.0/29'); // pool 10.40.0.2 - .6
    const ips = new Set<string>();
    for (let i = 0; i < 5; i++) ips.add((await s.port(net.id)).fixed_ips[0].ip_address);
    assert.deepEqual([...ips].sort(), ['10.40.0.2', '10.40.0.3', '10.40.0.4', '10.40.0.5', '10.40.0.6']);
    const before = await portIds();
    const r = await postPort({ network_id: net.id });
    expectError(r, 409, 'IpAddressGenerationFailure');
    assert.equal(r.body.NeutronError.message, `No more IP addresses available on network ${net.id}.`);
    expectError(await postPort({ network_id: net.id, fixed_ips: [{ subnet_id: sub.id }] }), 409, 'IpAddressGenerationFailure');
    assert.deepEqual(await portIds(), before);
    // Adding a second address to an existing port fails the same way and leaves it unchanged.
    const [pid] = await portIds(`?network_id=${net.id}&limit=1`);
    const p = await showPort(pid, ADMIN);
    const u = await putPort(pid, { fixed_ips: [...p.fixed_ips, { subnet_id: sub.id }] });
    expectError(u, 409, 'IpAddressGenerationFailure');
    assert.deepEqual(await showPort(pid, ADMIN), p);
    // Free one, and it is allocatable again.
    assert.equal((await s.del(`/v2.0/ports/${pid}`, ALICE)).status, 204);
    const again = await s.port(net.id);
    assert.equal(again.fixed_ips[0].ip_address, p.fixed_ips[0].ip_address);
  });
});

describe('MAC addresses', () => {
  test('given MAC is sanitised; duplicates on a network → 409 MacAddressInUse; other networks may reuse', async () => {
    const { net } = await netWithSubnet('10.50.0.0/24');
    const p = await s.port(net.id, { mac_address: 'FA-16-3E-AA-BB-CC' });
    assert.equal(p.mac_address, 'fa:16:3e:aa:bb:cc');
    const r = await postPort({ network_id: net.id, mac_address: 'fa:16:3e:aa:bb:cc' });
    expectError(r, 409, 'MacAddressInUse');
    assert.equal(
      r.body.NeutronError.message,
      `Unable to complete operation for network ${net.id}. The mac address fa:16:3e:aa:bb:cc is in use.`,
    );
    const other = await s.network();
    const q = await s.port(other.id, { mac_address: 'fa:16:3e:aa:bb:cc' });
    assert.equal(q.mac_address, 'fa:16:3e:aa:bb:cc');
    expectError(await postPort({ network_id: net.id, mac_address: '00:00:00:00:00:00' }), 400, 'HTTPBadRequest');
  });

  test('update MAC: conflict 409, same value no-op, SLAAC address follows', async () => {
    const net = await s.network();
    const slaac = await s.subnet(net.id, '2001:db8:51::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    const a = await s.port(net.id, { mac_address: 'fa:16:3e:00:00:01' });
    const b = await s.port(net.id, { mac_address: 'fa:16:3e:00:00:02' });
    // Changing a MAC is for admins (update_port:mac_address).
    expectError(await putPort(b.id, { mac_address: 'fa:16:3e:00:00:09' }), 403, 'PolicyNotAuthorized');
    const r = await putPort(b.id, { mac_address: 'fa:16:3e:00:00:01' }, ADMIN);
    expectError(r, 409, 'MacAddressInUse');
    assert.deepEqual(await showPort(b.id), b);
    const same = await putPort(a.id, { mac_address: 'FA:16:3E:00:00:01' }, ADMIN);
    assert.equal(same.status, 200);
    assert.equal(same.body.port.mac_address, 'fa:16:3e:00:00:01');
    const u = await putPort(b.id, { mac_address: 'fa:16:3e:00:00:03' }, ADMIN);
    assert.equal(u.status, 200);
    assert.equal(u.body.port.mac_address, 'fa:16:3e:00:00:03');
    assert.deepEqual(u.body.port.fixed_ips, [{ subnet_id: slaac.id, ip_address: '2001:db8:51:0:f816:3eff:fe00:3' }]);
    assert.ok(u.body.port.revision_number > b.revision_number);
  });

  test('mac_address: null regenerates (port-mac-address-regenerate)', async () => {
    const net = await s.network();
    const p = await s.port(net.id, { mac_address: 'fa:16:3e:12:34:56' });
    const r = await putPort(p.id, { mac_address: null }, ADMIN);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.port.mac_address, MAC_RE);
    assert.notEqual(r.body.port.mac_address, 'fa:16:3e:12:34:56');
    const c = await postPort({ network_id: net.id, mac_address: null });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.match(c.body.port.mac_address, MAC_RE);
  });

  test('generated MACs are unique on a network', async () => {
    const net = await s.network();
    const macs = new Set<string>();
    for (let i = 0; i < 20; i++) macs.add((await s.port(net.id)).mac_address);
    assert.equal(macs.size, 20);
  });
});

describe('port security', () => {
  test('inherits the network value unless given', async () => {
    const off = await s.network({ port_security_enabled: false });
    assert.equal(off.port_security_enabled, false);
    assert.equal((await s.port(off.id)).port_security_enabled, false);
    assert.equal((await s.port(off.id, { port_security_enabled: true })).port_security_enabled, true);
    const on = await s.network();
    assert.equal(on.port_security_enabled, true);
    assert.equal((await s.port(on.id)).port_security_enabled, true);
    const p = await s.port(on.id, { port_security_enabled: false });
    assert.equal(p.port_security_enabled, false);
    const u = await putPort(p.id, { port_security_enabled: true });
    assert.equal(u.body.port.port_security_enabled, true);
    assert.equal(u.body.port.revision_number, p.revision_number + 1);
    expectError(await putPort(p.id, { port_security_enabled: 'maybe' }), 400, 'InvalidInput');
  });
});

describe('allowed address pairs', () => {
  let net: Obj;
  before(async () => {
    ({ net } = await netWithSubnet('10.60.0.0/24'));
  });

  test('mac defaults to the port MAC; a given MAC is kept; CIDRs allowed', async () => {
    const p = await s.port(net.id, {
      allowed_address_pairs: [{ ip_address: '10.0.0.1' }, { ip_address: '10.0.1.0/24', mac_address: 'fa:16:3e:00:00:99' }],
    });
    assert.deepEqual(p.allowed_address_pairs, [
      { ip_address: '10.0.0.1', mac_address: p.mac_address },
      { ip_address: '10.0.1.0/24', mac_address: 'fa:16:3e:00:00:99' },
    ]);
    const u = await putPort(p.id, { allowed_address_pairs: [{ ip_address: '1.1.1.1/32' }] });
    assert.equal(u.status, 200);
    assert.deepEqual(u.body.port.allowed_address_pairs, [{ ip_address: '1.1.1.1/32', mac_address: p.mac_address }]);
    assert.equal(u.body.port.revision_number, p.revision_number + 1);
    const cleared = await putPort(p.id, { allowed_address_pairs: [] });
    assert.deepEqual(cleared.body.port.allowed_address_pairs, []);
    assert.equal(cleared.body.port.revision_number, p.revision_number + 2);
  });

  test('duplicates → 400 DuplicateAddressPairInRequest', async () => {
    const r = await postPort({
      network_id: net.id,
      allowed_address_pairs: [{ ip_address: '10.0.0.1' }, { ip_address: '10.0.0.1' }],
    });
    expectError(r, 400, 'DuplicateAddressPairInRequest');
    assert.equal(r.body.NeutronError.message, 'Request contains duplicate address pair: mac_address None ip_address 10.0.0.1.');
  });

  test('more than 10 → 400 AllowedAddressPairExhausted', async () => {
    const pairs = Array.from({ length: 11 }, (_, i) => ({ ip_address: `10.0.0.${i + 1}` }));
    const r = await postPort({ network_id: net.id, allowed_address_pairs: pairs });
    expectError(r, 400, 'AllowedAddressPairExhausted');
    assert.equal(r.body.NeutronError.message, 'The number of allowed address pair exceeds the maximum 10.');
    const ten = await postPort({ network_id: net.id, allowed_address_pairs: pairs.slice(0, 10) });
    assert.equal(ten.status, 201);
    expectError(await putPort(ten.body.port.id, { allowed_address_pairs: pairs }), 400, 'AllowedAddressPairExhausted');
  });

  test('with port security off → 409 AddressPairAndPortSecurityRequired', async () => {
    const r = await postPort({
      network_id: net.id,
      port_security_enabled: false,
      allowed_address_pairs: [{ ip_address: '10.0.0.1' }],
    });
    expectError(r, 409, 'AddressPairAndPortSecurityRequired');
    assert.equal(r.body.NeutronError.message, 'Port Security must be enabled in order to have allowed address pairs on a port.');
    const p = await s.port(net.id, { port_security_enabled: false });
    const u = await putPort(p.id, { allowed_address_pairs: [{ ip_address: '10.0.0.1', mac_address: '00:25:64:e8:19:dd' }] });
    expectError(u, 409, 'AddressPairAndPortSecurityRequired');
    const q = await s.port(net.id, { allowed_address_pairs: [{ ip_address: '10.0.0.1' }], security_groups: [] });
    expectError(await putPort(q.id, { port_security_enabled: false }), 409, 'AddressPairAndPortSecurityRequired');
    const both = await putPort(q.id, { port_security_enabled: false, allowed_address_pairs: [] });
    assert.equal(both.status, 200);
    assert.equal(both.body.port.port_security_enabled, false);
  });

  test('invalid input → 400', async () => {
    const bad = await postPort({ network_id: net.id, allowed_address_pairs: [{ ip_address: '10.0.0.x' }] });
    expectError(bad, 400, 'HTTPBadRequest');
    assert.equal(bad.body.NeutronError.message, "'10.0.0.x' is not a valid IP address");
    const tempest = await postPort({ network_id: net.id, allowed_address_pairs: [['ip_address: 12.12.12.a']] });
    expectError(tempest, 400, 'HTTPBadRequest');
    assert.equal(
      tempest.body.NeutronError.message,
      "Invalid input for allowed_address_pairs. Reason: '['ip_address: 12.12.12.a']' is not a dictionary.",
    );
    expectError(await postPort({ network_id: net.id, allowed_address_pairs: [{ mac_address: 'fa:16:3e:00:00:01' }] }), 400);
    expectError(await postPort({ network_id: net.id, allowed_address_pairs: [{ ip_address: '224.0.0.1' }] }), 400);
    expectError(await postPort({ network_id: net.id, allowed_address_pairs: 'x' }), 400);
  });
});

describe('extra DHCP options', () => {
  const opts = [
    { opt_value: 'pxelinux.0', opt_name: 'bootfile-name' },
    { opt_value: '123.123.123.123', opt_name: 'tftp-server', ip_version: 4 },
    { opt_value: '2015::dead', opt_name: 'server-ip-address', ip_version: '6' },
  ];
  const sortOpts = (l: Obj[]) =>
    [...l].sort((a, b) => `${a.opt_name}${a.ip_version}`.localeCompare(`${b.opt_name}${b.ip_version}`));

  test('ip_version is an int defaulting to 4; update merges; null value deletes', async () => {
    const { net } = await netWithSubnet('10.70.0.0/24');
    const p = await s.port(net.id, { extra_dhcp_opts: opts });
    const want = [
      { opt_name: 'bootfile-name', opt_value: 'pxelinux.0', ip_version: 4 },
      { opt_name: 'server-ip-address', opt_value: '2015::dead', ip_version: 6 },
      { opt_name: 'tftp-server', opt_value: '123.123.123.123', ip_version: 4 },
    ];
    assert.deepEqual(sortOpts(p.extra_dhcp_opts), want);
    const listed = (await s.get('/v2.0/ports', ALICE)).body.ports.find((x: Obj) => x.id === p.id);
    assert.deepEqual(sortOpts(listed.extra_dhcp_opts), want);

    const u = await putPort(p.id, {
      name: 'new',
      extra_dhcp_opts: [
        { opt_name: 'bootfile-name', opt_value: 'changed.0' },
        { opt_name: 'server-ip-address', opt_value: null, ip_version: 6 },
        { opt_name: 'domain-name', opt_value: 'example.org' },
      ],
    });
    assert.equal(u.status, 200, JSON.stringify(u.body));
    assert.deepEqual(sortOpts(u.body.port.extra_dhcp_opts), [
      { opt_name: 'bootfile-name', opt_value: 'changed.0', ip_version: 4 },
      { opt_name: 'domain-name', opt_value: 'example.org', ip_version: 4 },
      { opt_name: 'tftp-server', opt_value: '123.123.123.123', ip_version: 4 },
    ]);
    assert.equal(u.body.port.revision_number, p.revision_number + 1);
    assert.deepEqual(sortOpts((await showPort(p.id)).extra_dhcp_opts), sortOpts(u.body.port.extra_dhcp_opts));
  });

  test('invalid options → 400 InvalidInput', async () => {
    const net = await s.network();
    const r = await postPort({ network_id: net.id, extra_dhcp_opts: [{ opt_name: 'a', opt_value: 'b', ip_version: 5 }] });
    expectError(r, 400, 'InvalidInput');
    assert.equal(
      r.body.NeutronError.message,
      "Invalid input for operation: No valid key specs matched for: {'opt_name': 'a', 'opt_value': 'b', 'ip_version': 5}.",
    );
    const r2 = await postPort({ network_id: net.id, extra_dhcp_opts: [{ opt_value: 'b' }] });
    expectError(r2, 400, 'InvalidInput');
    assert.equal(
      r2.body.NeutronError.message,
      "Invalid input for operation: No valid key specs matched for: {'opt_value': 'b'}.",
    );
  });
});

describe('device_owner policy', () => {
  test('network:* owners only for the network owner or admin (403 otherwise)', async () => {
    const shared = await s.network({ shared: true }, ADMIN);
    await s.subnet(shared.id, '10.80.0.0/24', {}, ADMIN);
    for (const owner of ['network:dhcp', 'network:router_interface']) {
      const r = await postPort({ network_id: shared.id, device_owner: owner }, BOB);
      expectError(r, 403, 'PolicyNotAuthorized');
      assert.equal(r.body.NeutronError.message, '(rule:create_port:device_owner) is disallowed by policy');
    }
    const p = await s.port(shared.id, { device_owner: 'compute:nova', device_id: 'vm-1' }, BOB);
    assert.equal(p.device_owner, 'compute:nova');
    const u = await putPort(p.id, { device_owner: 'network:dhcp' }, BOB);
    expectError(u, 403, 'PolicyNotAuthorized');
    assert.equal(u.body.NeutronError.message, '(rule:update_port:device_owner) is disallowed by policy');
    assert.equal((await showPort(p.id, BOB)).device_owner, 'compute:nova');
    // The network owner and admin may.
    const mine = await s.network();
    assert.equal((await s.port(mine.id, { device_owner: 'network:dhcp' })).device_owner, 'network:dhcp');
    assert.equal((await s.port(shared.id, { device_owner: 'network:dhcp' }, ADMIN)).device_owner, 'network:dhcp');
  });
});

describe('visibility', () => {
  test('a port on my network created by another project is visible to me; others see 404', async () => {
    // Sharing needs admin; the network belongs to Alice.
    const net = await s.network({ shared: true, name: 'alice-shared', tenant_id: ALICE.project }, ADMIN);
    assert.equal(net.project_id, ALICE.project);
    await s.subnet(net.id, '10.90.0.0/24');
    const bobs = await s.port(net.id, { name: 'bobs' }, BOB);
    const alices = await s.port(net.id, { name: 'alices' });
    assert.equal(bobs.project_id, BOB.project);
    // Alice owns the network: she sees Bob's port in show and list.
    assert.equal((await showPort(bobs.id, ALICE)).id, bobs.id);
    assert.deepEqual(await portIds(`?network_id=${net.id}`, ALICE), [alices.id, bobs.id].sort());
    // Bob sees only his own.
    assert.deepEqual(await portIds(`?network_id=${net.id}`, BOB), [bobs.id]);
    expectError(await s.get(`/v2.0/ports/${alices.id}`, BOB), 404, 'PortNotFound');
    expectError(await putPort(alices.id, { name: 'x' }, BOB), 404, 'PortNotFound');
    expectError(await s.del(`/v2.0/ports/${alices.id}`, BOB), 404, 'PortNotFound');
    // Carol sees neither.
    expectError(await s.get(`/v2.0/ports/${bobs.id}`, CAROL), 404, 'PortNotFound');
    assert.deepEqual(await portIds(`?network_id=${net.id}`, CAROL), []);
    expectError(await s.del(`/v2.0/ports/${bobs.id}`, CAROL), 404, 'PortNotFound');
    // The network owner may delete a port on her network.
    assert.equal((await s.del(`/v2.0/ports/${bobs.id}`, ALICE)).status, 204);
    // Admin sees everything.
    assert.deepEqual(await portIds(`?network_id=${net.id}`, ADMIN), [alices.id]);
  });
});

describe('filters', () => {
  test('fixed_ips ip_address / subnet_id / ip_address_substr, device_id, mac_address', async () => {
    const net = await s.network();
    const a = await s.subnet(net.id, '10.100.1.0/24');
    const b = await s.subnet(net.id, '10.100.2.0/24');
    const p1 = await s.port(net.id, { fixed_ips: [{ ip_address: '10.100.1.15' }], device_id: 'dev-1' });
    const p2 = await s.port(net.id, { fixed_ips: [{ ip_address: '10.100.2.15' }], device_id: 'dev-2' });
    const p3 = await s.port(net.id, { fixed_ips: [{ ip_address: '10.100.1.150' }, { ip_address: '10.100.2.150' }] });
    const ids = (...ps: Obj[]) => ps.map((p) => p.id).sort();
    assert.deepEqual(await portIds('?fixed_ips=ip_address%3D10.100.1.15'), ids(p1));
    assert.deepEqual(await portIds('?fixed_ips=ip_address=10.100.1.15&fixed_ips=ip_address=10.100.2.15'), ids(p1, p2));
    assert.deepEqual(await portIds(`?fixed_ips=subnet_id=${a.id}`), ids(p1, p3));
    assert.deepEqual(await portIds(`?fixed_ips=subnet_id=${b.id}&fixed_ips=ip_address=10.100.2.150`), ids(p3));
    assert.deepEqual(await portIds(`?fixed_ips=subnet_id=${b.id}&device_id=dev-2`), ids(p2));
    assert.deepEqual(await portIds('?fixed_ips=ip_address_substr=10.100.1.15'), ids(p1, p3));
    assert.deepEqual(await portIds('?fixed_ips=ip_address_substr=.2.1'), ids(p2, p3));
    assert.deepEqual(
      await portIds(`?network_id=${net.id}&fixed_ips=ip_address_substr=10.100.1.15&fixed_ips=subnet_id=${b.id}`),
      [],
    );
    assert.deepEqual(await portIds('?device_id=dev-1'), ids(p1));
    assert.deepEqual(await portIds('?device_id=dev-1&device_id=dev-2'), ids(p1, p2));
    assert.deepEqual(await portIds(`?mac_address=${p2.mac_address.toUpperCase()}`), ids(p2));
    assert.deepEqual(await portIds(`?network_id=${net.id}&name=nothing`), []);
    expectError(await s.get('/v2.0/ports?fixed_ips=foo'), 400, 'InvalidInput');
    expectError(await s.get('/v2.0/ports?bogus=1'), 400, 'HTTPBadRequest');
  });
});

describe('revisions', () => {
  test('every attribute update bumps revision_number by one', async () => {
    const net = await s.network();
    const sub = await s.subnet(net.id, '10.110.0.0/24');
    let p = await s.port(net.id);
    const changes: Array<Record<string, unknown>> = [
      { name: 'n1' },
      { description: 'd1' },
      { admin_state_up: false },
      { device_id: 'dev' },
      { device_owner: 'compute:nova' },
      { mac_address: 'fa:16:3e:01:02:03' },
      { fixed_ips: [{ subnet_id: sub.id, ip_address: '10.110.0.77' }] },
      { port_security_enabled: false, security_groups: [] },
      { port_security_enabled: true },
      { security_groups: [p.security_groups[0]] },
      { allowed_address_pairs: [{ ip_address: '1.1.1.1/32' }] },
      { allowed_address_pairs: [] },
      { extra_dhcp_opts: [{ opt_name: 'bootfile-name', opt_value: 'pxelinux.0' }] },
      { extra_dhcp_opts: [{ opt_name: 'bootfile-name', opt_value: 'other.0' }] },
    ];
    for (const c of changes) {
      const r = await putPort(p.id, c, 'mac_address' in c ? ADMIN : ALICE);
      assert.equal(r.status, 200, `${JSON.stringify(c)} → ${JSON.stringify(r.body)}`);
      assert.equal(r.body.port.revision_number, p.revision_number + 1, JSON.stringify(c));
      assert.equal(r.body.port.created_at, p.created_at);
      p = r.body.port;
    }
    assert.equal(p.revision_number, changes.length);
    // Tags bump it too.
    const t = await s.put(`/v2.0/ports/${p.id}/tags/red`, undefined, ALICE);
    assert.equal(t.status, 201);
    assert.equal((await showPort(p.id)).revision_number, p.revision_number + 1);
    // If-Match on the current revision passes, on another fails with 412.
    const cur = p.revision_number + 1;
    const stale = await s.request(
      'PUT',
      `/v2.0/ports/${p.id}`,
      { port: { name: 'x' } },
      {
        ...ALICE,
        headers: { 'if-match': `revision_number=${cur - 1}` },
      },
    );
    expectError(stale, 412, 'RevisionNumberConstraintFailed');
    const ok = await s.request(
      'PUT',
      `/v2.0/ports/${p.id}`,
      { port: { name: 'x' } },
      { ...ALICE, headers: { 'if-match': `revision_number=${cur}` } },
    );
    assert.equal(ok.status, 200);
  });
});

describe('tags at creation and bulk', () => {
  test('tags in POST, single and bulk; tag filters', async () => {
    const net = await s.network();
    const p = await s.port(net.id, { tags: ['red', 'blue'] });
    assert.deepEqual(p.tags, ['blue', 'red']);
    const r = await s.post(
      '/v2.0/ports',
      {
        ports: [
          { network_id: net.id, tags: ['green'] },
          { network_id: net.id, name: 'untagged' },
          { network_id: net.id, tags: ['red'] },
        ],
      },
      ALICE,
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body), ['ports']);
    assert.deepEqual(
      r.body.ports.map((x: Obj) => x.tags),
      [['green'], [], ['red']],
    );
    assert.equal(r.body.ports[1].name, 'untagged');
    const red = await portIds(`?network_id=${net.id}&tags=red`);
    assert.deepEqual(red, [p.id, r.body.ports[2].id].sort());
    expectError(await postPort({ network_id: net.id, tags: 'red' }), 400, 'HTTPBadRequest');
    expectError(await postPort({ network_id: net.id, tags: ['a', 'a'] }), 400, 'HTTPBadRequest');
  });

  test('bulk create is atomic: a failing item leaves nothing behind and releases IPs', async () => {
    const { net, sub } = await netWithSubnet('10.120.0.0/24');
    const before = await portIds();
    const bad = await s.post(
      '/v2.0/ports',
      {
        ports: [
          { network_id: net.id, fixed_ips: [{ ip_address: '10.120.0.10' }], mac_address: 'fa:16:3e:0a:0b:0c' },
          { network_id: net.id, fixed_ips: [{ ip_address: '10.99.0.1' }] },
        ],
      },
      ALICE,
    );
    expectError(bad, 400, 'InvalidIpForNetwork');
    assert.deepEqual(await portIds(), before);
    // Two items asking for the same address conflict inside the request.
    const dup = await s.post(
      '/v2.0/ports',
      {
        ports: [
          { network_id: net.id, fixed_ips: [{ ip_address: '10.120.0.10' }] },
          { network_id: net.id, fixed_ips: [{ ip_address: '10.120.0.10' }] },
        ],
      },
      ALICE,
    );
    expectError(dup, 409, 'IpAddressAlreadyAllocated');
    // Validation failures of a later item also abort the whole request.
    expectError(await s.post('/v2.0/ports', { ports: [{ network_id: net.id }, { network_id: net.id, name: 7 }] }, ALICE), 400);
    assert.deepEqual(await portIds(), before);
    // Address and MAC are free again.
    const ok = await s.port(net.id, { fixed_ips: [{ ip_address: '10.120.0.10' }], mac_address: 'fa:16:3e:0a:0b:0c' });
    assert.deepEqual(ok.fixed_ips, [{ subnet_id: sub.id, ip_address: '10.120.0.10' }]);
    // A good bulk returns the ports in order with distinct addresses.
    const good = await s.post('/v2.0/ports', { ports: [0, 1, 2, 3].map((i) => ({ network_id: net.id, name: `b${i}` })) }, ALICE);
    assert.equal(good.status, 201);
    assert.deepEqual(
      good.body.ports.map((x: Obj) => x.name),
      ['b0', 'b1', 'b2', 'b3'],
    );
    const addrs = good.body.ports.map((x: Obj) => x.fixed_ips[0].ip_address);
    assert.equal(new Set([...addrs, '10.120.0.10']).size, 5);
  });
});
