// ML2's type layer over HTTP: tenant networks take segments from the configured pools (503 when
// they run out, never a duplicate under concurrency), provider networks reserve what they name
// (409 when taken, 400 when invalid, in Neutron's words), delete gives ids back, the provider and
// multi-provider attributes are admin-only, and the MTU follows the segments.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, type Reply, TestServer } from '../helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
type Obj = any;

const NT = 'provider:network_type';
const PN = 'provider:physical_network';
const SI = 'provider:segmentation_id';

const BASE: Array<[string, string, unknown]> = [
  ['ml2', 'tenant_network_types', 'vxlan'],
  ['ml2_type_vxlan', 'vni_ranges', '100:199'],
  ['ml2_type_vlan', 'network_vlan_ranges', 'physnet1:100:102,physnet2'],
  ['ml2_type_flat', 'flat_networks', 'physnet1,physnet3'],
  ['ml2_type_gre', 'tunnel_id_ranges', '1:10'],
];

function expectNeutron(r: Reply, status: number, type: string, message?: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.NeutronError.type, type);
  if (message !== undefined) assert.equal(r.body.NeutronError.message, message);
}

const invalid = (reason: string) => `Invalid input for operation: ${reason}.`;

let s: TestServer;
before(async () => {
  s = await TestServer.start(BASE);
});
after(() => s.close());

const create = (attrs: Obj, as = ADMIN) => s.post('/v2.0/networks', { network: { name: 'n', ...attrs } }, as);

async function created(attrs: Obj): Promise<Obj> {
  const r = await create(attrs);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.network;
}

describe('extensions', () => {
  test('provider and multi-provider are advertised', async () => {
    const aliases = (await s.get('/v2.0/extensions')).body.extensions.map((e: Obj) => e.alias);
    assert.ok(aliases.includes('provider'));
    assert.ok(aliases.includes('multi-provider'));
    const ext = (await s.get('/v2.0/extensions/provider')).body.extension;
    assert.equal(ext.name, 'Provider Network');
    assert.equal(ext.updated, '2012-09-07T10:00:00-00:00');
  });
});

describe('tenant networks', () => {
  test('take a VNI of the range; admins see it, owners do not', async () => {
    const r = await create({}, ALICE);
    assert.equal(r.status, 201);
    const mine = r.body.network;
    for (const k of [NT, PN, SI, 'segments']) assert.ok(!(k in mine), `${k} shown to a member`);
    assert.equal(mine.mtu, 1450);
    const seen = (await s.get(`/v2.0/networks/${mine.id}`, ADMIN)).body.network;
    assert.equal(seen[NT], 'vxlan');
    assert.equal(seen[PN], null);
    assert.ok(seen[SI] >= 100 && seen[SI] <= 199, String(seen[SI]));
    assert.ok(!('segments' in seen), 'a single-segment network shows no segments');
    const listed = (await s.get(`/v2.0/networks?id=${mine.id}`, ALICE)).body.networks[0];
    assert.ok(!(NT in listed));
  });

  test('members may not set provider attributes or segments (403)', async () => {
    expectNeutron(await create({ [NT]: 'vxlan' }, ALICE), 403, 'PolicyNotAuthorized');
    expectNeutron(await create({ [SI]: 150 }, ALICE), 403, 'PolicyNotAuthorized');
    expectNeutron(await create({ segments: [] }, ALICE), 403, 'PolicyNotAuthorized');
    const n = (await create({}, ALICE)).body.network;
    expectNeutron(await s.put(`/v2.0/networks/${n.id}`, { network: { [SI]: 120 } }, ALICE), 403, 'PolicyNotAuthorized');
  });

  test('a partial vxlan provider network takes a VNI of the pool', async () => {
    const n = await created({ [NT]: 'vxlan' });
    assert.equal(n[NT], 'vxlan');
    assert.ok(n[SI] >= 100 && n[SI] <= 199);
  });
});

describe('provider networks', () => {
  test('vlan: reserve, 409 VlanIdInUse, ids outside the pool, partial from the pool', async () => {
    const n = await created({ [NT]: 'vlan', [PN]: 'physnet1', [SI]: 150 });
    assert.deepEqual([n[NT], n[PN], n[SI], n.mtu], ['vlan', 'physnet1', 150, 1500]);
    expectNeutron(
      await create({ [NT]: 'vlan', [PN]: 'physnet1', [SI]: 150 }),
      409,
      'VlanIdInUse',
      'Unable to create the network. The VLAN 150 on physical network physnet1 is in use.',
    );
    // The same tag on another physical network is another VLAN.
    assert.equal((await created({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 150 }))[SI], 150);
    const partial = await created({ [NT]: 'vlan', [PN]: 'physnet1' });
    assert.ok([100, 101, 102].includes(partial[SI]));
  });

  test('vlan: invalid requests are 400 with the type driver’s reason', async () => {
    expectNeutron(
      await create({ [NT]: 'vlan', [PN]: 'physnet9', [SI]: 10 }),
      400,
      'InvalidInput',
      invalid("physical_network 'physnet9' unknown for VLAN provider network"),
    );
    for (const id of [0, 4095, 5000]) {
      expectNeutron(
        await create({ [NT]: 'vlan', [PN]: 'physnet1', [SI]: id }),
        400,
        'InvalidInput',
        invalid('segmentation_id out of range (1 through 4094)'),
      );
    }
    expectNeutron(
      await create({ [NT]: 'vlan', [SI]: 10 }),
      400,
      'InvalidInput',
      invalid('segmentation_id requires physical_network for VLAN provider network'),
    );
    expectNeutron(await create({ [PN]: 'physnet1' }), 400, 'InvalidInput', invalid('network_type required'));
    expectNeutron(await create({ [NT]: 'foo' }), 400, 'InvalidInput', invalid("network_type value 'foo' not supported"));
    expectNeutron(await create({ [NT]: 'vlan', [PN]: 'physnet1', [SI]: 'abc' }), 400, 'InvalidInput');
  });

  test('flat: one network per physical network (409 FlatNetworkInUse), delete frees it', async () => {
    const n = await created({ [NT]: 'flat', [PN]: 'physnet3' });
    assert.deepEqual([n[NT], n[PN], n[SI], n.mtu], ['flat', 'physnet3', null, 1500]);
    expectNeutron(
      await create({ [NT]: 'flat', [PN]: 'physnet3' }),
      409,
      'FlatNetworkInUse',
      'Unable to create the flat network. Physical network physnet3 is in use.',
    );
    assert.equal((await s.del(`/v2.0/networks/${n.id}`)).status, 204);
    await created({ [NT]: 'flat', [PN]: 'physnet3' });
    expectNeutron(
      await create({ [NT]: 'flat', [PN]: 'physnet2' }),
      400,
      'InvalidInput',
      invalid("physical_network 'physnet2' unknown for flat provider network"),
    );
    expectNeutron(
      await create({ [NT]: 'flat' }),
      400,
      'InvalidInput',
      invalid('physical_network required for flat provider network'),
    );
    expectNeutron(
      await create({ [NT]: 'flat', [PN]: 'physnet1', [SI]: 3 }),
      400,
      'InvalidInput',
      invalid('segmentation_id prohibited for flat provider network'),
    );
  });

  test('vxlan and gre: 409 TunnelIdInUse, out of range and physical network are 400', async () => {
    const n = await created({ [NT]: 'vxlan', [SI]: 5000 });
    assert.deepEqual([n[NT], n[PN], n[SI], n.mtu], ['vxlan', null, 5000, 1450]);
    expectNeutron(
      await create({ [NT]: 'vxlan', [SI]: 5000 }),
      409,
      'TunnelIdInUse',
      'Unable to create the network. The tunnel ID 5000 is in use.',
    );
    expectNeutron(
      await create({ [NT]: 'vxlan', [SI]: 2 ** 24 }),
      400,
      'InvalidInput',
      invalid('segmentation_id out of range (1 through 16777215)'),
    );
    expectNeutron(
      await create({ [NT]: 'vxlan', [PN]: 'physnet1' }),
      400,
      'InvalidInput',
      invalid('provider:physical_network specified for vxlan network'),
    );
    const gre = await created({ [NT]: 'gre', [SI]: 2 ** 32 - 1 });
    assert.deepEqual([gre[SI], gre.mtu], [2 ** 32 - 1, 1458]);
    expectNeutron(await create({ [NT]: 'gre', [SI]: 2 ** 32 - 1 }), 409, 'TunnelIdInUse');
  });

  test('local: nothing to reserve, physical network and id prohibited', async () => {
    const n = await created({ [NT]: 'local' });
    assert.deepEqual([n[NT], n[PN], n[SI], n.mtu], ['local', null, null, 1500]);
    expectNeutron(
      await create({ [NT]: 'local', [PN]: 'physnet1' }),
      400,
      'InvalidInput',
      invalid('physical_network prohibited for local provider network'),
    );
  });

  test('delete gives the id back, to the pool or not', async () => {
    // Ids of the pools are found by a partial request (others' tests take random ones).
    for (const attrs of [
      { [NT]: 'vlan', [PN]: 'physnet1' },
      { [NT]: 'vlan', [PN]: 'physnet1', [SI]: 3000 },
      { [NT]: 'vxlan' },
      { [NT]: 'vxlan', [SI]: 7000 },
    ]) {
      const n = await created(attrs);
      const full = { ...attrs, [SI]: n[SI] };
      assert.equal((await create(full)).status, 409);
      assert.equal((await s.del(`/v2.0/networks/${n.id}`)).status, 204);
      assert.equal((await created(full))[SI], n[SI]);
    }
  });

  test('an MTU above what the segments allow is 400', async () => {
    expectNeutron(
      await create({ [NT]: 'vxlan', mtu: 1500 }),
      400,
      'InvalidInput',
      invalid('Requested MTU is too big, maximum is 1450'),
    );
    const vlan = await created({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2600, mtu: 1500 });
    assert.equal(vlan.mtu, 1500);
    expectNeutron(await s.put(`/v2.0/networks/${vlan.id}`, { network: { mtu: 1501 } }), 400, 'InvalidInput');
    assert.equal((await s.put(`/v2.0/networks/${vlan.id}`, { network: { mtu: 1400 } })).body.network.mtu, 1400);
    // 0 asks for the largest again.
    assert.equal((await s.put(`/v2.0/networks/${vlan.id}`, { network: { mtu: 0 } })).body.network.mtu, 1500);
  });
});

describe('multi-provider', () => {
  test('several segments show as `segments` (no provider:*), MTU the smallest', async () => {
    const n = await created({
      segments: [
        { [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2000 },
        { [NT]: 'vxlan', [SI]: 0 },
      ],
    });
    for (const k of [NT, PN, SI]) assert.ok(!(k in n), `${k} on a multi-segment network`);
    assert.equal(n.segments.length, 2);
    assert.deepEqual(n.segments[0], { [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2000 });
    assert.equal(n.segments[1][NT], 'vxlan');
    assert.ok(n.segments[1][SI] >= 100 && n.segments[1][SI] <= 199);
    assert.equal(n.mtu, 1450);
    const member = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).status;
    assert.equal(member, 404);
    // Updating provider attributes of a multi-segment network is refused.
    expectNeutron(
      await s.put(`/v2.0/networks/${n.id}`, { network: { [SI]: 5 } }),
      400,
      'InvalidInput',
      invalid('Provider network attributes can be updated only in provider networks with a single segment.'),
    );
    assert.equal((await s.del(`/v2.0/networks/${n.id}`)).status, 204);
    await created({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2000 });
  });

  test('a single segment shows as provider attributes; an empty list is a tenant network', async () => {
    const one = await created({ segments: [{ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2001 }] });
    assert.deepEqual([one[NT], one[PN], one[SI]], ['vlan', 'physnet2', 2001]);
    assert.ok(!('segments' in one));
    const none = await created({ segments: [] });
    assert.equal(none[NT], 'vxlan');
  });

  test('Neutron’s 400s: both forms, duplicates, unknown keys', async () => {
    expectNeutron(
      await create({ [NT]: 'vxlan', segments: [{ [NT]: 'vxlan' }] }),
      400,
      'SegmentsSetInConjunctionWithProviders',
      'Segments and provider values cannot both be set.',
    );
    const dup = { [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2100 };
    expectNeutron(
      await create({ segments: [dup, dup] }),
      400,
      'SegmentsContainDuplicateEntry',
      'Duplicate segment entry in request.',
    );
    // Partial segments may repeat: each takes its own id.
    const twice = await created({ segments: [{ [NT]: 'vxlan' }, { [NT]: 'vxlan' }] });
    assert.notEqual(twice.segments[0][SI], twice.segments[1][SI]);
    expectNeutron(
      await create({ segments: [{ [NT]: 'vxlan', foo: 1 }] }),
      400,
      'HTTPBadRequest',
      "Unrecognized attribute(s) 'foo'",
    );
    expectNeutron(await create({ segments: 'abc' }), 400, 'InvalidInput');
    expectNeutron(await create({ segments: [{ [SI]: 3 }] }), 400, 'InvalidInput', invalid('network_type required'));
  });
});

describe('updates', () => {
  test('network type and physical network cannot change; the same value is accepted', async () => {
    const n = await created({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2200 });
    const message = invalid(
      'Plugin does not support updating the following provider network attributes: provider:network_type, provider:physical_network',
    );
    expectNeutron(await s.put(`/v2.0/networks/${n.id}`, { network: { [NT]: 'vxlan' } }), 400, 'InvalidInput', message);
    expectNeutron(await s.put(`/v2.0/networks/${n.id}`, { network: { [PN]: 'physnet1' } }), 400, 'InvalidInput', message);
    const same = await s.put(`/v2.0/networks/${n.id}`, { network: { [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2200, name: 'x' } });
    assert.equal(same.status, 200);
    assert.equal(same.body.network.name, 'x');
  });

  test('a VLAN network moves to a free tag and frees the old one', async () => {
    const n = await created({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2300 });
    await created({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2301 });
    expectNeutron(await s.put(`/v2.0/networks/${n.id}`, { network: { [SI]: 2301 } }), 409, 'VlanIdInUse');
    expectNeutron(
      await s.put(`/v2.0/networks/${n.id}`, { network: { [SI]: 5000 } }),
      400,
      'InvalidInput',
      invalid('segmentation_id out of range (1 through 4094)'),
    );
    const moved = await s.put(`/v2.0/networks/${n.id}`, { network: { [SI]: 2302 } });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.network[SI], 2302);
    assert.equal((await s.get(`/v2.0/networks/${n.id}`)).body.network[SI], 2302);
    await created({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2300 });
    expectNeutron(await create({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2302 }), 409, 'VlanIdInUse');
  });

  test('only VLAN networks change their segmentation id', async () => {
    const n = await created({ [NT]: 'vxlan', [SI]: 8000 });
    expectNeutron(
      await s.put(`/v2.0/networks/${n.id}`, { network: { [SI]: 8001 } }),
      400,
      'InvalidInput',
      invalid('Only VLAN type networks can be updated.'),
    );
  });
});

describe('filters', () => {
  test('provider attributes filter lists (a multi-segment network matches any of its segments)', async () => {
    const a = await created({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2400 });
    const b = await created({ segments: [{ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2401 }, { [NT]: 'vxlan' }] });
    const ids = async (q: string) => (await s.get(`/v2.0/networks?${q}&fields=id`)).body.networks.map((n: Obj) => n.id);
    assert.deepEqual(await ids(`${SI}=2400`), [a.id]);
    assert.deepEqual((await ids(`${SI}=2400&${SI}=2401`)).sort(), [a.id, b.id].sort());
    const vlans = await ids(`${NT}=vlan&${PN}=physnet2`);
    assert.ok(vlans.includes(a.id) && vlans.includes(b.id));
    assert.ok(!(await ids(`${NT}=vxlan`)).includes(a.id));
    assert.equal((await s.get(`/v2.0/networks?${SI}=abc`)).status, 400);
  });
});

describe('pool exhaustion and concurrency', () => {
  test('tenant networks get distinct VNIs of a small range, then 503 NoNetworkAvailable', async () => {
    const small = await TestServer.start([['ml2_type_vxlan', 'vni_ranges', '7:9']]);
    try {
      const nets: Obj[] = [];
      for (let i = 0; i < 3; i++)
        nets.push((await small.post('/v2.0/networks', { network: { name: `t${i}` } }, ADMIN)).body.network);
      assert.deepEqual(nets.map((n) => n[SI]).sort(), [7, 8, 9]);
      expectNeutron(
        await small.post('/v2.0/networks', { network: { name: 'full' } }, ALICE),
        503,
        'NoNetworkAvailable',
        'Unable to create the network. No tenant network is available for allocation.',
      );
      assert.equal((await small.del(`/v2.0/networks/${nets[1].id}`)).status, 204);
      const again = (await small.post('/v2.0/networks', { network: { name: 'again' } }, ADMIN)).body.network;
      assert.equal(again[SI], nets[1][SI]);
    } finally {
      await small.close();
    }
  });

  test('concurrent creates on a range of N: exactly N succeed, each with its own VNI', async () => {
    const N = 8;
    const small = await TestServer.start([['ml2_type_vxlan', 'vni_ranges', `20:${20 + N - 1}`]]);
    try {
      const rs = await Promise.all(
        Array.from({ length: N + 6 }, (_, i) => small.post('/v2.0/networks', { network: { name: `c${i}` } }, ADMIN)),
      );
      const ok = rs.filter((r) => r.status === 201).map((r) => r.body.network[SI]);
      assert.equal(ok.length, N, JSON.stringify(rs.map((r) => r.status)));
      assert.equal(new Set(ok).size, N);
      for (const r of rs.filter((x) => x.status !== 201)) expectNeutron(r, 503, 'NoNetworkAvailable');
    } finally {
      await small.close();
    }
  });

  test('concurrent creates of one VLAN: one wins, the others get 409 VlanIdInUse', async () => {
    const rs = await Promise.all(Array.from({ length: 6 }, () => create({ [NT]: 'vlan', [PN]: 'physnet2', [SI]: 2500 })));
    assert.equal(rs.filter((r) => r.status === 201).length, 1);
    for (const r of rs.filter((x) => x.status !== 201)) expectNeutron(r, 409, 'VlanIdInUse');
  });
});

describe('MTU', () => {
  test('global_physnet_mtu, path_mtu and physical_network_mtus, less each overlay’s headers', async () => {
    const m = await TestServer.start([
      ['DEFAULT', 'global_physnet_mtu', 9000],
      ['ml2', 'path_mtu', 1600],
      ['ml2', 'physical_network_mtus', 'physnet1:1400'],
      ['ml2_type_vlan', 'network_vlan_ranges', 'physnet1,physnet2'],
      ['ml2_type_geneve', 'vni_ranges', '1:10'],
      ['ml2_type_geneve', 'max_header_size', 38],
      ['ml2_type_gre', 'tunnel_id_ranges', '1:10'],
    ]);
    try {
      const mtu = async (attrs: Obj) => {
        const r = await m.post('/v2.0/networks', { network: attrs }, ADMIN);
        assert.equal(r.status, 201, JSON.stringify(r.body));
        return r.body.network.mtu;
      };
      assert.equal(await mtu({}), 1600 - 20 - 30); // tenant vxlan over path_mtu
      assert.equal(await mtu({ [NT]: 'gre' }), 1600 - 20 - 22);
      assert.equal(await mtu({ [NT]: 'geneve' }), 1600 - 20 - 38);
      assert.equal(await mtu({ [NT]: 'vlan', [PN]: 'physnet1' }), 1400);
      assert.equal(await mtu({ [NT]: 'vlan', [PN]: 'physnet2' }), 9000);
      assert.equal(await mtu({ [NT]: 'flat', [PN]: 'physnet7' }), 9000);
      assert.equal(await mtu({ [NT]: 'local' }), 9000);
      assert.equal(
        await mtu({
          segments: [
            { [NT]: 'vlan', [PN]: 'physnet2' },
            { [NT]: 'vlan', [PN]: 'physnet1' },
          ],
        }),
        1400,
      );
    } finally {
      await m.close();
    }
  });

  test('an IPv6 overlay costs 20 more bytes', async () => {
    const m = await TestServer.start([['ml2', 'overlay_ip_version', 6]]);
    try {
      assert.equal((await m.post('/v2.0/networks', { network: {} }, ADMIN)).body.network.mtu, 1500 - 40 - 30);
    } finally {
      await m.close();
    }
  });
});

describe('other tenant and external types', () => {
  test('local tenant networks; external networks of external_network_type', async () => {
    const m = await TestServer.start([
      ['ml2', 'tenant_network_types', 'local'],
      ['ml2', 'external_network_type', 'vlan'],
    ]);
    try {
      const t = (await m.post('/v2.0/networks', { network: {} }, ADMIN)).body.network;
      assert.deepEqual([t[NT], t[SI], t.mtu], ['local', null, 1500]);
      const ext = (await m.post('/v2.0/networks', { network: { 'router:external': true } }, ADMIN)).body.network;
      assert.equal(ext[NT], 'vlan');
      assert.equal(ext[PN], 'physnet1');
      assert.ok(ext[SI] >= 100 && ext[SI] <= 200);
    } finally {
      await m.close();
    }
  });

  test('a tenant type with no pool left is skipped for the next', async () => {
    const m = await TestServer.start([
      ['ml2', 'tenant_network_types', 'gre,vxlan'],
      ['ml2_type_gre', 'tunnel_id_ranges', '5:5'],
    ]);
    try {
      const types = [];
      for (let i = 0; i < 2; i++) types.push((await m.post('/v2.0/networks', { network: {} }, ADMIN)).body.network[NT]);
      assert.deepEqual(types, ['gre', 'vxlan']);
    } finally {
      await m.close();
    }
  });

  test('a bad range stops startup with a configuration error', async () => {
    await assert.rejects(TestServer.start([['ml2_type_vxlan', 'vni_ranges', '10:5']]), /vni_ranges/);
    await assert.rejects(TestServer.start([['ml2', 'tenant_network_types', 'vxlan,foo']]), /tenant_network_types/);
  });
});
