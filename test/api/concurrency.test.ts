// Many clients at once against a small subnet: IPAM and MAC allocation must never hand out a
// duplicate, never 500, and fail the losers with Neutron's 409s.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, type As, BOB, type Reply, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

// biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
type Obj = any;

const POOL_28 = Array.from({ length: 13 }, (_, i) => `10.28.0.${i + 2}`);

function statuses(rs: Reply[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) {
    const k = r.status < 300 ? String(r.status) : `${r.status} ${r.body?.NeutronError?.type}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

async function portsOf(networkId: string): Promise<Obj[]> {
  const r = await s.get(`/v2.0/ports?network_id=${networkId}`, ADMIN);
  assert.equal(r.status, 200);
  return r.body.ports;
}

function assertUnique(ports: Obj[]): void {
  const ips = ports.flatMap((p) => p.fixed_ips.map((f: Obj) => f.ip_address));
  assert.equal(new Set(ips).size, ips.length, `duplicate IPs: ${ips.join(' ')}`);
  const macs = ports.map((p) => p.mac_address);
  assert.equal(new Set(macs).size, macs.length, 'duplicate MACs');
}

async function smallNet(cidr = '10.28.0.0/28') {
  const net = await s.network();
  const sub = await s.subnet(net.id, cidr);
  return { net, sub };
}

describe('concurrent port creation on a /28', () => {
  test('40 parallel creates: exactly 13 succeed with distinct IPs and MACs, 27 get 409', async () => {
    const { net, sub } = await smallNet();
    assert.deepEqual(sub.allocation_pools, [{ start: '10.28.0.2', end: '10.28.0.14' }]);
    const who: As[] = [ALICE, BOB];
    // Bob may use Alice's network only when it is shared; make it so through admin.
    assert.equal((await s.put(`/v2.0/networks/${net.id}`, { network: { shared: true } }, ADMIN)).status, 200);
    const rs = await Promise.all(
      Array.from({ length: 40 }, (_, i) => s.post('/v2.0/ports', { port: { network_id: net.id, name: `c${i}` } }, who[i % 2])),
    );
    assert.deepEqual(statuses(rs), { '201': 13, '409 IpAddressGenerationFailure': 27 });
    for (const r of rs.filter((x) => x.status === 409)) {
      assert.equal(r.body.NeutronError.message, `No more IP addresses available on network ${net.id}.`);
    }
    const created = rs.filter((r) => r.status === 201).map((r) => r.body.port);
    assertUnique(created);
    assert.deepEqual(created.map((p) => p.fixed_ips[0].ip_address).sort(), [...POOL_28].sort());
    // What is stored agrees with what was answered.
    const stored = await portsOf(net.id);
    assert.equal(stored.length, 13);
    assertUnique(stored);
    assert.deepEqual(stored.map((p) => p.id).sort(), created.map((p) => p.id).sort());
  });

  test('parallel deletes and creates: freed addresses are reused, never doubled', async () => {
    const { net } = await smallNet('10.29.0.0/28');
    const first = await Promise.all(Array.from({ length: 13 }, () => s.port(net.id)));
    const victims = first.slice(0, 6);
    const rs = await Promise.all([
      ...victims.map((p) => s.del(`/v2.0/ports/${p.id}`, ALICE)),
      ...Array.from({ length: 12 }, () => s.post('/v2.0/ports', { port: { network_id: net.id } }, ALICE)),
    ]);
    const dels = rs.slice(0, 6);
    const creates = rs.slice(6);
    assert.ok(dels.every((r) => r.status === 204));
    for (const r of creates)
      assert.ok(
        r.status === 201 || (r.status === 409 && r.body.NeutronError.type === 'IpAddressGenerationFailure'),
        JSON.stringify(r.body),
      );
    const ok = creates.filter((r) => r.status === 201).length;
    assert.ok(ok <= 6);
    const stored = await portsOf(net.id);
    assert.equal(stored.length, 13 - 6 + ok);
    assertUnique(stored);
  });

  test('parallel requests for one explicit IP: one 201, the rest 409 IpAddressAlreadyAllocated', async () => {
    const { net, sub } = await smallNet('10.30.0.0/28');
    const rs = await Promise.all(
      Array.from({ length: 20 }, () =>
        s.post('/v2.0/ports', { port: { network_id: net.id, fixed_ips: [{ ip_address: '10.30.0.5' }] } }, ALICE),
      ),
    );
    assert.deepEqual(statuses(rs), { '201': 1, '409 IpAddressAlreadyAllocated': 19 });
    for (const r of rs.filter((x) => x.status === 409)) {
      assert.equal(r.body.NeutronError.message, `IP address 10.30.0.5 already allocated in subnet ${sub.id}`);
    }
    assert.equal((await portsOf(net.id)).length, 1);
  });

  test('parallel requests for one MAC: one 201, the rest 409 MacAddressInUse', async () => {
    const { net } = await smallNet('10.31.0.0/28');
    const rs = await Promise.all(
      Array.from({ length: 20 }, () =>
        s.post('/v2.0/ports', { port: { network_id: net.id, mac_address: 'fa:16:3e:11:22:33' } }, ALICE),
      ),
    );
    assert.deepEqual(statuses(rs), { '201': 1, '409 MacAddressInUse': 19 });
    const stored = await portsOf(net.id);
    assert.equal(stored.length, 1);
    assertUnique(stored);
  });

  test('parallel fixed_ips updates adding addresses never exceed the pool', async () => {
    const { net, sub } = await smallNet('10.32.0.0/28');
    const ports = await Promise.all(Array.from({ length: 5 }, () => s.port(net.id)));
    // Each port asks for two more addresses, 10 in all, but only 8 are left.
    const rs = await Promise.all(
      ports.map((p) =>
        s.put(
          `/v2.0/ports/${p.id}`,
          { port: { fixed_ips: [...p.fixed_ips, { subnet_id: sub.id }, { subnet_id: sub.id }] } },
          ALICE,
        ),
      ),
    );
    assert.deepEqual(statuses(rs), { '200': 4, '409 IpAddressGenerationFailure': 1 });
    const stored = await portsOf(net.id);
    assertUnique(stored);
    assert.equal(stored.flatMap((p) => p.fixed_ips).length, 13);
  });
});

describe('concurrent bulk creation', () => {
  test('8 parallel bulks of 5 on a /28: exactly 2 succeed whole, 6 fail whole', async () => {
    const { net } = await smallNet('10.33.0.0/28');
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, b) =>
        s.post(
          '/v2.0/ports',
          { ports: Array.from({ length: 5 }, (_, i) => ({ network_id: net.id, name: `b${b}-${i}` })) },
          ALICE,
        ),
      ),
    );
    assert.deepEqual(statuses(rs), { '201': 2, '409 IpAddressGenerationFailure': 6 });
    const created = rs.filter((r) => r.status === 201).flatMap((r) => r.body.ports);
    assert.equal(created.length, 10);
    assertUnique(created);
    const stored = await portsOf(net.id);
    assert.deepEqual(stored.map((p) => p.id).sort(), created.map((p) => p.id).sort());
    // Nothing half-made: every stored port belongs to a successful bulk, whole.
    const batches = new Set(stored.map((p) => p.name.split('-')[0]));
    assert.equal(batches.size, 2);
    // The 3 addresses left are still allocatable.
    const rest = await Promise.all(
      Array.from({ length: 4 }, () => s.post('/v2.0/ports', { port: { network_id: net.id } }, ALICE)),
    );
    assert.deepEqual(statuses(rest), { '201': 3, '409 IpAddressGenerationFailure': 1 });
    assertUnique(await portsOf(net.id));
  });

  test('mixed singles and bulks: no 500, no duplicates, totals match the pool', async () => {
    const { net } = await smallNet('10.34.0.0/28');
    const rs = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 3 === 0
          ? s.post('/v2.0/ports', { ports: [{ network_id: net.id }, { network_id: net.id }] }, ALICE)
          : s.post('/v2.0/ports', { port: { network_id: net.id } }, ALICE),
      ),
    );
    for (const r of rs) {
      assert.ok(
        r.status === 201 || (r.status === 409 && r.body.NeutronError.type === 'IpAddressGenerationFailure'),
        `${r.status} ${JSON.stringify(r.body)}`,
      );
    }
    const answered = rs.filter((r) => r.status === 201).flatMap((r) => r.body.ports ?? [r.body.port]);
    const stored = await portsOf(net.id);
    assert.equal(stored.length, answered.length);
    assert.ok(stored.length >= 12 && stored.length <= 13, String(stored.length));
    assertUnique(stored);
  });
});
