// The L3 agent's pure part: a router from sync_routers as devices, addresses, routes and floating
// IPs (plan.ts), checked before anything reaches a command line, and its NAT table (nat.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { natTable } from '../../src/agents/l3/nat.js';
import { contains, parseAddress, parseNetwork, planRouter } from '../../src/agents/l3/plan.js';
import type { RouterPort, SyncRouter } from '../../src/rpc/contract.js';

const R = '11111111-2222-4333-8444-555555555555';
const GW = 'aaaaaaaa-0000-4000-8000-000000000001';
const IF1 = 'bbbbbbbb-0000-4000-8000-000000000002';
const IF2 = 'cccccccc-0000-4000-8000-000000000003';
const FIP = 'dddddddd-0000-4000-8000-000000000004';
const FIP2 = 'eeeeeeee-0000-4000-8000-000000000005';

function port(id: string, owner: string, ip: string, cidr: string, gateway: string | null, mtu = 1450): RouterPort {
  const subnet = {
    id: `${id}-s`,
    cidr,
    gateway_ip: gateway,
    ip_version: 4 as const,
    dns_nameservers: [],
    ipv6_ra_mode: null,
    subnetpool_id: null,
  };
  return {
    id,
    name: '',
    network_id: `${id}-n`,
    mac_address: 'fa:16:3e:00:00:01',
    fixed_ips: [{ subnet_id: subnet.id, ip_address: ip, prefixlen: Number(cidr.split('/')[1]) }],
    subnets: [subnet],
    extra_subnets: [],
    address_scopes: { '4': null, '6': null },
    mtu,
    device_owner: owner,
    device_id: R,
    admin_state_up: true,
    status: 'ACTIVE',
    project_id: 'p',
    tenant_id: 'p',
    'binding:host_id': 'h',
    revision_number: 1,
  };
}

function router(over: Partial<SyncRouter> = {}): SyncRouter {
  return {
    id: R,
    name: 'r',
    description: '',
    project_id: 'p',
    tenant_id: 'p',
    admin_state_up: true,
    status: 'ACTIVE',
    ha: false,
    distributed: false,
    flavor_id: null,
    availability_zone_hints: [],
    external_gateway_info: { network_id: 'ext', enable_snat: true, external_fixed_ips: [] },
    gw_port_id: GW,
    gw_port: port(GW, 'network:router_gateway', '203.0.113.10', '203.0.113.0/24', '203.0.113.1', 1500),
    routes: [{ destination: '172.16.5.9/16', nexthop: '10.0.0.200' }],
    _interfaces: [
      port(IF1, 'network:router_interface', '10.0.0.1', '10.0.0.0/24', '10.0.0.1'),
      port(IF2, 'network:router_interface', '10.1.0.1', '10.1.0.0/24', '10.1.0.1'),
    ],
    _floatingips: [
      {
        id: FIP,
        floating_ip_address: '203.0.113.20',
        floating_network_id: 'ext',
        port_id: 'x',
        fixed_ip_address: '10.0.0.5',
        router_id: R,
        status: 'DOWN',
        project_id: 'p',
        tenant_id: 'p',
        fixed_ip_address_scope: null,
        revision_number: 1,
      },
    ],
    revision_number: 3,
    ...over,
  };
}

describe('L3 agent plan', () => {
  it('addresses parse strictly and come out canonical', () => {
    assert.deepEqual(parseAddress('10.0.0.1'), { address: '10.0.0.1', family: 4 });
    assert.equal(parseAddress('010.0.0.1'), undefined, 'no octal');
    assert.equal(parseAddress('0x7f.1'), undefined, 'no hex');
    assert.equal(parseAddress('10.0.0.1; reboot'), undefined);
    assert.deepEqual(parseAddress('2001:DB8:0::1'), { address: '2001:db8::1', family: 6 });
    assert.deepEqual(parseNetwork('172.16.5.9/16'), { cidr: '172.16.0.0/16', family: 4 });
    assert.equal(parseNetwork('10.0.0.0/33'), undefined);
    assert.ok(contains('10.0.0.0/24', '10.0.0.200'));
    assert.ok(!contains('10.0.0.0/24', '10.0.1.1'));
  });

  it('a router: namespace, qr-/qg- devices with MACs, MTUs, addresses, floating /32 on qg-, routes', () => {
    const p = planRouter(router(), 'nt-h1');
    assert.equal(p.namespace, `nt-h1-qrouter-${R}`);
    assert.deepEqual(
      p.devices.map((d) => [d.ifname, d.mtu, d.addresses, d.external]),
      [
        ['qr-bbbbbbbb-00', 1450, ['10.0.0.1/24'], false],
        ['qr-cccccccc-00', 1450, ['10.1.0.1/24'], false],
        ['qg-aaaaaaaa-00', 1500, ['203.0.113.10/24', '203.0.113.20/32'], true],
      ],
    );
    assert.deepEqual(p.gateway, { ifname: 'qg-aaaaaaaa-00', address: '203.0.113.10', enableSnat: true });
    assert.deepEqual(p.routes, [
      { destination: 'default', via: '203.0.113.1', dev: 'qg-aaaaaaaa-00', family: 4 },
      { destination: '172.16.0.0/16', via: '10.0.0.200', family: 4 },
    ]);
    assert.deepEqual(p.floatingIps, [{ id: FIP, floating: '203.0.113.20', fixed: '10.0.0.5' }]);
    assert.deepEqual(p.problems, []);
  });

  it('what cannot be served is left out and said; a floating IP that cannot is failed', () => {
    const bad = router({
      routes: [
        { destination: '172.16.0.0/16', nexthop: '198.51.100.1' },
        { destination: 'x', nexthop: '10.0.0.9' },
      ],
      _floatingips: [
        { ...router()._floatingips[0], id: FIP2, fixed_ip_address: '10.9.9.9' },
        { ...router()._floatingips[0], id: 'not-a-uuid' },
      ],
    });
    const p = planRouter(bad);
    assert.deepEqual(
      p.routes.map((r) => r.destination),
      ['default'],
    );
    assert.deepEqual(p.floatingIps, []);
    assert.deepEqual(p.failedFloatingIps, [FIP2]);
    assert.equal(p.problems.length, 4, p.problems.join('\n'));
    assert.throws(() => planRouter(router({ id: '../etc' })), /resource id/);
    const mac = router();
    mac._interfaces[0].mac_address = 'fa:16:3e:00:00:01 up';
    assert.deepEqual(
      planRouter(mac).devices.map((d) => d.ifname),
      ['qr-cccccccc-00', 'qg-aaaaaaaa-00'],
    );
  });

  it('an external gateway outside its subnet gives no default route (said), the rest is served', () => {
    const gw = port(GW, 'network:router_gateway', '203.0.113.10', '203.0.113.0/24', '198.51.100.1', 1500);
    const p = planRouter(router({ gw_port: gw }));
    assert.deepEqual(
      p.routes.map((x) => x.destination),
      ['172.16.0.0/16'],
    );
    assert.match(p.problems.join('\n'), /gateway 198\.51\.100\.1 is outside the external subnet/);
    assert.equal(p.floatingIps.length, 1);
  });

  it('without a gateway: no default route, no NAT rules, floating IPs failed', () => {
    const p = planRouter(router({ gw_port: null, gw_port_id: null, external_gateway_info: null }));
    assert.equal(p.gateway, null);
    assert.deepEqual(
      p.routes.map((r) => r.destination),
      ['172.16.0.0/16'],
    );
    assert.deepEqual(p.failedFloatingIps, [FIP]);
    assert.doesNotMatch(natTable(p).body, /nat to/);
  });
});

describe('L3 agent NAT table', () => {
  it('SNAT to the gateway address, floating IPs as DNAT/SNAT maps before it, the hairpin', () => {
    const t = natTable(planRouter(router()));
    const lines = t.body.split('\n').map((l) => l.trim());
    assert.ok(lines.includes('iifname "qg-aaaaaaaa-00" meta mark set meta mark & 0xffff0000 | 0x2'));
    assert.equal(
      lines.filter((l) => l === 'dnat to ip daddr map { 203.0.113.20 : 10.0.0.5 }').length,
      2,
      'prerouting and output',
    );
    const post = lines.slice(lines.indexOf('chain post_snat {'));
    assert.deepEqual(post.slice(2, 6), [
      'oifname != "qg-aaaaaaaa-00" ct status & dnat == 0 accept',
      'snat to ip saddr map { 10.0.0.5 : 203.0.113.20 }',
      'oifname "qg-aaaaaaaa-00" snat to 203.0.113.10 fully-random',
      'meta mark & 0xffff != 0x2 ct status dnat snat to 203.0.113.10 fully-random',
    ]);
    assert.match(t.hash, /^[0-9a-f]{32}$/);
  });

  it('enable_snat=false keeps the floating IPs and drops the gateway SNAT; the hash follows the text', () => {
    const on = natTable(planRouter(router()));
    const off = natTable(
      planRouter(router({ external_gateway_info: { network_id: 'ext', enable_snat: false, external_fixed_ips: [] } })),
    );
    assert.doesNotMatch(off.body, /snat to 203\.0\.113\.10/);
    assert.match(off.body, /snat to ip saddr map/);
    assert.notEqual(on.hash, off.hash);
    assert.equal(natTable(planRouter(router())).hash, on.hash, 'same router, same text');
  });

  it('a hundred floating IPs are two map rules, sorted (the same set in any order gives the same table)', () => {
    const fips = Array.from({ length: 100 }, (_, i) => ({
      ...router()._floatingips[0],
      id: `dddddddd-0000-4000-8000-${String(i).padStart(12, '0')}`,
      floating_ip_address: `203.0.113.${100 + i}`,
      fixed_ip_address: `10.0.0.${10 + i}`,
    }));
    const a = natTable(planRouter(router({ _floatingips: fips })));
    const b = natTable(planRouter(router({ _floatingips: [...fips].reverse() })));
    assert.equal(a.hash, b.hash);
    assert.equal(a.body.split('\n').filter((l) => l.includes('map {')).length, 3);
  });
});
