// What a hostile or careless client sends, answered as Neutron Zed answers it (asked with
// ../shared/conformance/neutron-up.sh), or with a 4xx where Neutron itself fails with a 500;
// the same on SQLite and PostgreSQL (npm run test:pg runs this file again), and nothing stored
// changes on a refused request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, type Reply, TestServer } from '../helpers.js';

let s: TestServer;
// biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
let net: any;
// biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
let port: any;

before(async () => {
  s = await TestServer.start();
  net = await s.network({ name: 'base' });
  await s.subnet(net.id, '10.0.0.0/24');
  port = await s.port(net.id, { name: 'p' });
});
after(() => s.close());

async function snapshot(): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const c of ['networks', 'subnets', 'ports', 'subnetpools', 'security-groups'])
    out[c] = (await s.get(`/v2.0/${c}`, ADMIN)).body;
  out.tags = (await s.get(`/v2.0/networks/${net.id}/tags`, ADMIN)).body;
  return out;
}

/** Raw inject: any payload (string or bytes) and headers, as ALICE. */
async function raw(method: string, url: string, payload?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await s.neutrino.app.inject({
    method: method as 'POST',
    url,
    payload,
    headers: { 'x-project-id': ALICE.project as string, 'x-roles': 'member', 'content-type': 'application/json', ...headers },
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
}

function assertError(r: Reply, status: number, type: string, message?: string | RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body)?.slice(0, 500));
  assert.equal(r.body?.NeutronError?.type, type, JSON.stringify(r.body)?.slice(0, 500));
  if (typeof message === 'string') assert.equal(r.body.NeutronError.message, message);
  else if (message) assert.match(r.body.NeutronError.message, message);
}

/** A refused raw request that leaves everything stored as it was. */
async function refused(
  method: string,
  url: string,
  payload: string | Buffer | undefined,
  status: number,
  type: string,
  message?: string | RegExp,
): Promise<Reply> {
  const before = await snapshot();
  const r = await raw(method, url, payload);
  assertError(r, status, type, message);
  assert.deepEqual(await snapshot(), before, `${method} ${url} changed stored data`);
  return r;
}

const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('deeply nested JSON', () => {
  test('3000 levels in an attribute → 400 Body contains invalid data (Neutron: 500, a RecursionError)', async () => {
    for (const [url, body] of [
      ['/v2.0/networks', `{"network":{"name":${nest(3000)}}}`],
      ['/v2.0/networks', `{"network":{"description":${nest(3000)}}}`],
      ['/v2.0/networks', `{"network":{"name":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}}`],
      ['/v2.0/ports', `{"port":{"network_id":"${net.id}","fixed_ips":${nest(3000)}}}`],
      ['/v2.0/networks', nest(3000)],
    ]) {
      const r = await refused('POST', url as string, body, 400, 'HTTPBadRequest', 'Body contains invalid data');
      assert.match(r.body.NeutronError.detail, /deeper than 1000 levels/);
    }
    await refused('PUT', `/v2.0/ports/${port.id}`, `{"port":{"fixed_ips":${nest(1001)}}}`, 400, 'HTTPBadRequest');
  });

  test('900 levels are read and refused by the validators in Neutron’s words', async () => {
    const r = await refused('POST', '/v2.0/networks', `{"network":{"name":${nest(900)}}}`, 400, 'HTTPBadRequest');
    assert.equal(r.body.NeutronError.message, `Invalid input for name. Reason: '${nest(900)}' is not a valid string.`);
    const f = await refused(
      'POST',
      '/v2.0/ports',
      `{"port":{"network_id":"${net.id}","fixed_ips":${nest(900)}}}`,
      400,
      'HTTPBadRequest',
    );
    assert.equal(
      f.body.NeutronError.message,
      `Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '${nest(899)}'.`,
    );
  });

  test('brackets inside strings are not nesting', async () => {
    const r = await raw(
      'POST',
      '/v2.0/networks',
      JSON.stringify({ network: { name: '['.repeat(200), description: '{'.repeat(255) } }),
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal((await s.del(`/v2.0/networks/${r.body.network.id}`, ALICE)).status, 204);
  });
});

describe('limit', () => {
  test('≥ 2^63 lists like any large limit (Neutron: 500 from 2^63 on)', async () => {
    for (const limit of ['9223372036854775807', '9223372036854775808', '1'.padEnd(40, '0')]) {
      const r = await s.get(`/v2.0/networks?limit=${limit}`, ALICE);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(
        r.body.networks.map((n: { id: string }) => n.id),
        [net.id],
      );
      assert.deepEqual(
        r.body.networks_links.map((l: { rel: string }) => l.rel),
        ['previous'],
      );
    }
  });

  test("Python's int(): blanks and a sign pass, as in Neutron; fractions and negatives do not", async () => {
    assert.equal((await s.get('/v2.0/networks?limit=%205', ALICE)).status, 200);
    assert.equal((await s.get('/v2.0/networks?limit=%2B5', ALICE)).status, 200);
    for (const bad of ['1.5', '-1', 'abc', '']) {
      if (bad === '') continue;
      const r = await s.get(`/v2.0/networks?limit=${encodeURIComponent(bad)}`, ALICE);
      assertError(r, 400, 'BadRequest', `Bad limit request: Limit must be an integer 0 or greater and not '${bad}'.`);
    }
  });
});

describe('NUL characters (PostgreSQL cannot store them; Neutron on it answers 500)', () => {
  test('in a stored string → 400 naming the attribute', async () => {
    await refused(
      'POST',
      '/v2.0/networks',
      JSON.stringify({ network: { name: 'a\u0000b' } }),
      400,
      'HTTPBadRequest',
      "Invalid input for name. Reason: 'a\u0000b' contains a NUL character.",
    );
    await refused('POST', '/v2.0/networks', JSON.stringify({ network: { description: '\u0000' } }), 400, 'HTTPBadRequest');
    await refused('PUT', `/v2.0/networks/${net.id}`, JSON.stringify({ network: { name: 'a\u0000' } }), 400, 'HTTPBadRequest');
    await refused('PUT', `/v2.0/ports/${port.id}`, JSON.stringify({ port: { device_id: 'a\u0000b' } }), 400, 'HTTPBadRequest');
    await refused('PUT', `/v2.0/networks/${net.id}/tags`, JSON.stringify({ tags: ['ok', 'a\u0000b'] }), 400, 'HTTPBadRequest');
    await refused('PUT', `/v2.0/networks/${net.id}/tags/a%00b`, undefined, 400, 'HTTPBadRequest');
    const admin = await s.request('POST', '/v2.0/networks', { network: { tenant_id: 'a\u0000b' } }, ADMIN);
    assertError(admin, 400, 'HTTPBadRequest', /^Invalid input for tenant_id\. Reason: .* contains a NUL character\.$/);
  });

  test('inside a dict kept as JSON it is stored, as Neutron stores it (binding:profile)', async () => {
    const p = await s.port(net.id, { 'binding:profile': { key: 'a\u0000b' } }, ADMIN);
    assert.deepEqual(p['binding:profile'], { key: 'a\u0000b' });
    assert.deepEqual((await s.get(`/v2.0/ports/${p.id}`, ADMIN)).body.port['binding:profile'], { key: 'a\u0000b' });
    assert.equal((await s.del(`/v2.0/ports/${p.id}`, ADMIN)).status, 204);
  });

  test('in what a read looks for, it matches nothing stored', async () => {
    for (const q of ['name=a%00b', 'id=a%00b', 'tags=a%00b', 'tags-any=a%00b', 'device_id=%00', 'fixed_ips=ip_address%3D10%00']) {
      const r = await s.get(`/v2.0/ports?${q}`, ALICE);
      assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body.ports, [], q);
    }
    // …and leaves the rest of the filter as it was.
    const some = await s.get(`/v2.0/ports?name=a%00b&name=p`, ALICE);
    assert.deepEqual(
      some.body.ports.map((x: { id: string }) => x.id),
      [port.id],
    );
    const notAny = await s.get(`/v2.0/ports?not-tags-any=a%00b`, ALICE);
    assert.deepEqual(
      notAny.body.ports.map((x: { id: string }) => x.id),
      [port.id],
    );
    assertError(await s.get('/v2.0/networks/a%00b', ALICE), 404, 'NetworkNotFound', 'Network a\u0000b could not be found.');
    assertError(await s.get('/v2.0/networks?limit=1&marker=a%00b', ALICE), 404, 'NetworkNotFound');
    assertError(await s.del('/v2.0/ports/a%00b', ALICE), 404, 'PortNotFound');
    assertError(await s.get(`/v2.0/networks/${net.id}/tags/a%00b`, ALICE), 404, 'TagNotFound');
    const quota = await s.get('/v2.0/quotas/a%00b', ADMIN);
    assert.equal(quota.status, 200, JSON.stringify(quota.body));
    assert.equal(quota.body.quota.network, 100);
    const avail = await s.get('/v2.0/network-ip-availabilities?network_name=a%00b', ADMIN);
    assert.deepEqual(avail.body, { network_ip_availabilities: [] });
  });

  test('a write the validators do not see is refused all the same (quota of a project id with NUL)', async () => {
    const r = await s.put('/v2.0/quotas/a%00b', { quota: { network: 5 } }, ADMIN);
    assertError(r, 400, 'InvalidInput', 'Invalid input for operation: strings may not contain NUL characters (U+0000).');
  });
});

describe('request size (oslo sizelimit: [oslo_middleware] max_request_body_size, default 114688)', () => {
  const bodyOf = (size: number) => {
    const empty = JSON.stringify({ network: { name: '' } });
    return JSON.stringify({ network: { name: 'x'.repeat(size - empty.length) } });
  };

  test('a body of exactly the limit is read; one byte more is 413 HTTPRequestEntityTooLarge', async () => {
    const at = await refused('POST', '/v2.0/networks', bodyOf(114688), 400, 'HTTPBadRequest');
    // The invalid value comes back whole, as Neutron echoes it: the limit bounds it.
    assert.match(at.body.NeutronError.message, /^Invalid input for name\. Reason: 'x{114000,}' exceeds maximum length of 255\.$/);
    const over = await refused(
      'POST',
      '/v2.0/networks',
      bodyOf(114689),
      413,
      'HTTPRequestEntityTooLarge',
      'Request is too large. Larger than max_request_body_size (114688).',
    );
    assert.ok(JSON.stringify(over.body).length < 300);
  });

  test('2 MB and 12 MB bodies are refused unread, with a short answer', async () => {
    for (const mb of [2, 12]) {
      const r = await refused('POST', '/v2.0/networks', bodyOf(mb * 1024 * 1024), 413, 'HTTPRequestEntityTooLarge');
      assert.ok(JSON.stringify(r.body).length < 300);
      const u = await refused('PUT', `/v2.0/ports/${port.id}`, bodyOf(mb * 1024 * 1024), 413, 'HTTPRequestEntityTooLarge');
      assert.ok(JSON.stringify(u.body).length < 300);
    }
  });

  test('the option moves the limit', async () => {
    const big = await TestServer.start([['oslo_middleware', 'max_request_body_size', 300000]]);
    try {
      const n = await big.request('POST', '/v2.0/networks', bodyOf(200000), ALICE);
      assertError(n, 400, 'HTTPBadRequest', /exceeds maximum length of 255/);
      const o = await big.request('POST', '/v2.0/networks', bodyOf(300001), ALICE);
      assertError(o, 413, 'HTTPRequestEntityTooLarge', 'Request is too large. Larger than max_request_body_size (300000).');
    } finally {
      await big.close();
    }
  });
});

describe('other findings, matched to Neutron Zed', () => {
  test('a body that is not UTF-8 → 400 in webob’s words', async () => {
    const bytes = Buffer.concat([Buffer.from('{"network":{"name":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    await refused(
      'POST',
      '/v2.0/networks',
      bytes,
      400,
      'HTTPBadRequest',
      'The server could not comply with the request since it is either malformed or otherwise incorrect.',
    );
  });

  test('marker=zzz without a limit lists everything; with a limit it is the resource’s 404', async () => {
    const all = await s.get('/v2.0/networks', ALICE);
    const r = await s.get('/v2.0/networks?marker=zzz', ALICE);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, all.body);
    assertError(
      await s.get('/v2.0/networks?marker=zzz&limit=2', ALICE),
      404,
      'NetworkNotFound',
      'Network zzz could not be found.',
    );
  });

  test('fields=security_group_ids (what `openstack port list --long` asks) names no port attribute: {} per port', async () => {
    const r = await s.get(`/v2.0/ports?id=${port.id}&fields=security_group_ids`, ALICE);
    assert.deepEqual(r.body, { ports: [{}] });
    const long = await s.get(`/v2.0/ports?id=${port.id}&fields=id&fields=security_group_ids&fields=tags`, ALICE);
    assert.deepEqual(long.body, { ports: [{ id: port.id, tags: [] }] });
  });

  test('integers no column holds: refused when stored, matching nothing when filtered', async () => {
    await refused(
      'POST',
      '/v2.0/subnetpools',
      '{"subnetpool":{"name":"sp","prefixes":["10.50.0.0/16"],"default_quota":99999999999999999999}}',
      400,
      'HTTPBadRequest',
      "Invalid input for default_quota. Reason: '100000000000000000000' is too large - must be no larger than '2147483647'.",
    );
    await refused(
      'POST',
      '/v2.0/subnetpools',
      '{"subnetpool":{"name":"sp","prefixes":["10.50.0.0/16"],"default_quota":2147483648}}',
      400,
      'HTTPBadRequest',
    );
    for (const q of [
      'networks?revision_number=99999999999999999999',
      'networks?mtu=2147483648',
      'subnets?ip_version=99999999999999999999',
      'networks?mtu=99999999999999999999&mtu=1450',
    ]) {
      const r = await s.get(`/v2.0/${q}`, ALICE);
      assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
    }
    assert.deepEqual((await s.get('/v2.0/networks?revision_number=99999999999999999999', ALICE)).body, { networks: [] });
    const avail = await s.get('/v2.0/network-ip-availabilities?ip_version=99999999999999999999', ADMIN);
    assert.deepEqual(avail.body, { network_ip_availabilities: [] });
  });
});
