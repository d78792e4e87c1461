// Bad input over HTTP: every failure is a NeutronError with Neutron's status, type and message,
// served as JSON, and leaves what is stored exactly as it was.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, type As, type Reply, TestServer } from '../helpers.js';

let s: TestServer;
// biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
let net: any;
// biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
let sub: any;
// biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
let port: any;

before(async () => {
  s = await TestServer.start();
  net = await s.network({ name: 'base' });
  sub = await s.subnet(net.id, '10.0.0.0/24');
  port = await s.port(net.id, { name: 'p' });
});
after(() => s.close());

/** Everything stored, as admin sees it. */
async function snapshot(): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const c of ['networks', 'subnets', 'ports', 'subnetpools', 'address-scopes']) {
    const r = await s.get(`/v2.0/${c}`, ADMIN);
    assert.equal(r.status, 200);
    out[c] = r.body;
  }
  return out;
}

/** Asserts the exact NeutronError shape, type, message and a JSON content type. */
function assertError(r: Reply, status: number, type: string, message?: string | RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.deepEqual(Object.keys(r.body), ['NeutronError'], JSON.stringify(r.body));
  assert.deepEqual(Object.keys(r.body.NeutronError).sort(), ['detail', 'message', 'type']);
  assert.equal(r.body.NeutronError.type, type, JSON.stringify(r.body));
  assert.equal(typeof r.body.NeutronError.message, 'string');
  assert.equal(typeof r.body.NeutronError.detail, 'string');
  if (typeof message === 'string') assert.equal(r.body.NeutronError.message, message);
  else if (message) assert.match(r.body.NeutronError.message, message);
}

/** Sends a bad request and checks the error and that nothing stored changed. */
async function bad(
  method: string,
  url: string,
  body: unknown,
  status: number,
  type: string,
  message?: string | RegExp,
  as: As = ALICE,
): Promise<void> {
  const before = await snapshot();
  const r = await s.request(method, url, body, as);
  assertError(r, status, type, message);
  assert.deepEqual(await snapshot(), before, `${method} ${url} changed stored data`);
}

/** Raw inject: any payload and headers. */
async function raw(method: string, url: string, payload: string | undefined, headers: Record<string, string>): Promise<Reply> {
  const res = await s.neutrino.app.inject({
    method: method as 'POST',
    url,
    payload,
    headers: { 'x-project-id': ALICE.project as string, 'x-roles': 'member', ...headers },
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
}

describe('malformed bodies', () => {
  test('malformed JSON → 400 Body contains invalid data', async () => {
    for (const text of ['{bad json', '{"network": {"name": "x"}', "{'network': {}}", 'nul']) {
      await bad('POST', '/v2.0/networks', text, 400, 'HTTPBadRequest', 'Body contains invalid data');
      await bad('PUT', `/v2.0/networks/${net.id}`, text, 400, 'HTTPBadRequest', 'Body contains invalid data');
    }
  });

  test('a body that is not an object → 400 Body contains invalid data', async () => {
    for (const body of [[1, 2], '"x"', 42, 'true', [{ network: { name: 'x' } }]]) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      await bad('POST', '/v2.0/networks', text, 400, 'HTTPBadRequest', 'Body contains invalid data');
      await bad('PUT', `/v2.0/ports/${port.id}`, text, 400, 'HTTPBadRequest', 'Body contains invalid data');
    }
  });

  test('no body → 400', async () => {
    await bad('POST', '/v2.0/networks', undefined, 400, 'HTTPBadRequest');
    await bad('PUT', `/v2.0/networks/${net.id}`, undefined, 400, 'HTTPBadRequest');
    await bad('POST', '/v2.0/networks', '   ', 400, 'HTTPBadRequest');
  });

  test('member key missing → 400 Unable to find', async () => {
    await bad('POST', '/v2.0/networks', { netw: {} }, 400, 'HTTPBadRequest', "Unable to find 'network' in request body");
    await bad('POST', '/v2.0/ports', {}, 400, 'HTTPBadRequest', "Unable to find 'port' in request body");
    await bad(
      'PUT',
      `/v2.0/subnets/${sub.id}`,
      { network: { name: 'x' } },
      400,
      'HTTPBadRequest',
      "Unable to find 'subnet' in request body",
    );
  });

  test('member not an object → 400', async () => {
    for (const v of ['x', 1, [], null]) {
      await bad(
        'POST',
        '/v2.0/networks',
        { network: v },
        400,
        'HTTPBadRequest',
        /^(Object 'network' contains invalid data|Unable to find 'network' in request body)$/,
      );
      await bad(
        'PUT',
        `/v2.0/networks/${net.id}`,
        { network: v },
        400,
        'HTTPBadRequest',
        /^(Object 'network' contains invalid data|Unable to find 'network' in request body)$/,
      );
    }
    await bad('POST', '/v2.0/networks', { network: 'x' }, 400, 'HTTPBadRequest', "Object 'network' contains invalid data");
  });

  test('bulk: empty list or non-object items → 400', async () => {
    await bad('POST', '/v2.0/networks', { networks: [] }, 400, 'HTTPBadRequest');
    await bad('POST', '/v2.0/networks', { networks: [1] }, 400, 'HTTPBadRequest');
    await bad('POST', '/v2.0/networks', { networks: { name: 'x' } }, 400, 'HTTPBadRequest');
    await bad('POST', '/v2.0/networks', { networks: [{ name: 'ok' }, { name: 5 }] }, 400, 'HTTPBadRequest');
  });
});

describe('attribute checks', () => {
  test('wrong types → 400 with Neutron messages', async () => {
    await bad(
      'POST',
      '/v2.0/networks',
      { network: { name: 123 } },
      400,
      'HTTPBadRequest',
      "Invalid input for name. Reason: '123' is not a valid string.",
    );
    await bad(
      'POST',
      '/v2.0/networks',
      { network: { admin_state_up: 'maybe' } },
      400,
      'InvalidInput',
      "Invalid input for operation: 'maybe' cannot be converted to boolean.",
    );
    await bad(
      'POST',
      '/v2.0/networks',
      { network: { mtu: 'x' } },
      400,
      'InvalidInput',
      "Invalid input for operation: 'x' is not an integer.",
    );
    await bad(
      'PUT',
      `/v2.0/networks/${net.id}`,
      { network: { mtu: 'x' } },
      400,
      'InvalidInput',
      "Invalid input for operation: 'x' is not an integer.",
    );
    await bad(
      'PUT',
      `/v2.0/networks/${net.id}`,
      { network: { name: ['a'] } },
      400,
      'HTTPBadRequest',
      "Invalid input for name. Reason: '['a']' is not a valid string.",
    );
    await bad(
      'PUT',
      `/v2.0/ports/${port.id}`,
      { port: { admin_state_up: null } },
      400,
      'InvalidInput',
      "Invalid input for operation: 'None' cannot be converted to boolean.",
    );
    await bad(
      'POST',
      '/v2.0/subnets',
      { subnet: { network_id: net.id, cidr: '10.1.0.0/24', ip_version: 5 } },
      400,
      'HTTPBadRequest',
      'Invalid input for ip_version. Reason: 5 is not in valid_values.',
    );
  });

  test('unknown attribute → 400 Unrecognized attribute(s)', async () => {
    await bad('POST', '/v2.0/networks', { network: { x: 1 } }, 400, 'HTTPBadRequest', "Unrecognized attribute(s) 'x'");
    await bad(
      'PUT',
      `/v2.0/ports/${port.id}`,
      { port: { name: 'n', bogus: true } },
      400,
      'HTTPBadRequest',
      "Unrecognized attribute(s) 'bogus'",
    );
    await bad(
      'POST',
      '/v2.0/networks',
      { network: { x: 1, y: 2 } },
      400,
      'HTTPBadRequest',
      /^Unrecognized attribute\(s\) '(x, y|y, x)'$/,
    );
  });

  test('read-only attribute in PUT → 400 Cannot update read-only attribute', async () => {
    for (const [k, v] of [
      ['status', 'DOWN'],
      ['id', '3f0c7f5e-0b1e-4d6c-9f3a-2b1c0d9e8f7a'],
      ['tenant_id', 'x'],
      ['project_id', 'x'],
      ['network_id', net.id],
      ['revision_number', 5],
      ['created_at', '2020-01-01T00:00:00Z'],
    ] as const) {
      await bad(
        'PUT',
        `/v2.0/ports/${port.id}`,
        { port: { [k]: v } },
        400,
        'HTTPBadRequest',
        `Cannot update read-only attribute ${k}`,
      );
    }
    await bad(
      'PUT',
      `/v2.0/subnets/${sub.id}`,
      { subnet: { cidr: '10.9.0.0/24' } },
      400,
      'HTTPBadRequest',
      'Cannot update read-only attribute cidr',
    );
  });

  test('allow_post=false attribute in POST → 400 not allowed in POST', async () => {
    await bad(
      'POST',
      '/v2.0/networks',
      { network: { status: 'DOWN' } },
      400,
      'HTTPBadRequest',
      "Attribute 'status' not allowed in POST",
    );
    await bad(
      'POST',
      '/v2.0/networks',
      { network: { id: '3f0c7f5e-0b1e-4d6c-9f3a-2b1c0d9e8f7a' } },
      400,
      'HTTPBadRequest',
      "Attribute 'id' not allowed in POST",
    );
    await bad(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net.id, status: 'ACTIVE' } },
      400,
      'HTTPBadRequest',
      "Attribute 'status' not allowed in POST",
    );
    await bad(
      'POST',
      '/v2.0/networks',
      { network: { subnets: [] } },
      400,
      'HTTPBadRequest',
      "Attribute 'subnets' not allowed in POST",
    );
  });

  test('required attribute missing → 400', async () => {
    await bad(
      'POST',
      '/v2.0/subnets',
      { subnet: { cidr: '10.1.0.0/24', ip_version: 4 } },
      400,
      'HTTPBadRequest',
      "Failed to parse request. Required attribute 'network_id' not specified",
    );
    await bad(
      'POST',
      '/v2.0/subnets',
      { subnet: { network_id: net.id, cidr: '10.1.0.0/24' } },
      400,
      'HTTPBadRequest',
      "Failed to parse request. Required attribute 'ip_version' not specified",
    );
    await bad(
      'POST',
      '/v2.0/ports',
      { port: {} },
      400,
      'HTTPBadRequest',
      "Failed to parse request. Required attribute 'network_id' not specified",
    );
  });

  test('strings longer than 255 code points → 400; 255 multibyte code points pass', async () => {
    const long = 'é'.repeat(256);
    await bad(
      'POST',
      '/v2.0/networks',
      { network: { name: long } },
      400,
      'HTTPBadRequest',
      `Invalid input for name. Reason: '${long}' exceeds maximum length of 255.`,
    );
    await bad('POST', '/v2.0/networks', { network: { name: '😀'.repeat(256) } }, 400, 'HTTPBadRequest');
    await bad('POST', '/v2.0/ports', { port: { network_id: net.id, description: 'd'.repeat(1025) } }, 400, 'HTTPBadRequest');
    await bad('POST', '/v2.0/ports', { port: { network_id: net.id, description: 'd'.repeat(256) } }, 400, 'HTTPBadRequest');
    await bad('PUT', `/v2.0/ports/${port.id}`, { port: { device_id: 'x'.repeat(256) } }, 400, 'HTTPBadRequest');
    await bad('PUT', `/v2.0/ports/${port.id}`, { port: { name: 'n'.repeat(256) } }, 400, 'HTTPBadRequest');
    // 255 code points: 510 UTF-16 units for the emoji, 510 UTF-8 bytes for é; both fit.
    const emoji = await s.network({ name: '😀'.repeat(255) });
    assert.equal(emoji.name, '😀'.repeat(255));
    const acc = await s.network({ name: 'é'.repeat(255) });
    assert.equal(acc.name, 'é'.repeat(255));
    for (const n of [emoji, acc]) assert.equal((await s.del(`/v2.0/networks/${n.id}`, ALICE)).status, 204);
  });

  test('invalid CIDR, IP, MAC, UUID → 400', async () => {
    for (const cidr of ['foo', '10.0.0.0/33', '10.0.0.256/24']) {
      await bad(
        'POST',
        '/v2.0/subnets',
        { subnet: { network_id: net.id, cidr, ip_version: 4 } },
        400,
        'InvalidInput',
        `Invalid input for operation: ${cidr} is not in a CIDR format.`,
      );
    }
    await bad(
      'POST',
      '/v2.0/subnets',
      { subnet: { network_id: net.id, cidr: '10.77.0.0/24', ip_version: 4, gateway_ip: '10.77.0.300' } },
      400,
      'HTTPBadRequest',
      "Invalid input for gateway_ip. Reason: '10.77.0.300' is not a valid IP address.",
    );
    await bad(
      'PUT',
      `/v2.0/subnets/${sub.id}`,
      { subnet: { gateway_ip: 'x' } },
      400,
      'HTTPBadRequest',
      "Invalid input for gateway_ip. Reason: 'x' is not a valid IP address.",
    );
    await bad(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net.id, mac_address: 'zz:zz' } },
      400,
      'HTTPBadRequest',
      "Invalid input for mac_address. Reason: 'zz:zz' is not a valid MAC address.",
    );
    await bad(
      'PUT',
      `/v2.0/ports/${port.id}`,
      { port: { mac_address: 'ff:ff:ff:ff:ff:ff' } },
      400,
      'HTTPBadRequest',
      "Invalid input for mac_address. Reason: 'ff:ff:ff:ff:ff:ff' is not a valid MAC address.",
    );
    await bad(
      'POST',
      '/v2.0/subnets',
      { subnet: { network_id: 'abc', cidr: '10.1.0.0/24', ip_version: 4 } },
      400,
      'HTTPBadRequest',
      "Invalid input for network_id. Reason: 'abc' is not a valid UUID.",
    );
    await bad(
      'POST',
      '/v2.0/ports',
      { port: { network_id: 12 } },
      400,
      'HTTPBadRequest',
      "Invalid input for network_id. Reason: '12' is not a valid UUID.",
    );
    await bad(
      'POST',
      '/v2.0/ports',
      { port: { network_id: net.id, fixed_ips: [{ ip_address: '1.2.3' }] } },
      400,
      'HTTPBadRequest',
      "Invalid input for fixed_ips. Reason: '1.2.3' is not a valid IP address.",
    );
  });

  test('foreign project_id by a non-admin → 400; mismatching ids → 400', async () => {
    await bad('POST', '/v2.0/ports', { port: { network_id: net.id, project_id: 'other' } }, 400, 'HTTPBadRequest');
    await bad(
      'POST',
      '/v2.0/networks',
      { network: { project_id: 'a', tenant_id: 'b' } },
      400,
      'HTTPBadRequest',
      "'project_id' and 'tenant_id' do not match",
      ADMIN,
    );
  });
});

describe('URLs', () => {
  test('non-UUID id in the URL → 404 <Resource>NotFound', async () => {
    for (const [path, type, label, member] of [
      ['networks', 'NetworkNotFound', 'Network', 'network'],
      ['subnets', 'SubnetNotFound', 'Subnet', 'subnet'],
      ['ports', 'PortNotFound', 'Port', 'port'],
    ]) {
      const msg = `${label} not-a-uuid could not be found.`;
      await bad('GET', `/v2.0/${path}/not-a-uuid`, undefined, 404, type, msg);
      await bad('PUT', `/v2.0/${path}/not-a-uuid`, { [member]: { name: 'x' } }, 404, type, msg);
      await bad('DELETE', `/v2.0/${path}/not-a-uuid`, undefined, 404, type, msg);
    }
  });

  test('unknown URL → 404 HTTPNotFound NeutronError', async () => {
    for (const [m, url] of [
      ['GET', '/v2.0/foobars'],
      ['POST', '/v2.0/foobars'],
      ['GET', '/v3/networks'],
      ['GET', `/v2.0/networks/${'3f0c7f5e-0b1e-4d6c-9f3a-2b1c0d9e8f7a'}/nothing`],
      ['PATCH', '/v2.0/foobars'],
    ]) {
      await bad(m, url, m === 'POST' ? { foobar: {} } : undefined, 404, 'HTTPNotFound', 'The resource could not be found.');
    }
  });

  test('PUT or DELETE on a collection → 404 of a member without an id, as Neutron Zed answers', async () => {
    await bad('DELETE', '/v2.0/networks', undefined, 404, 'NetworkNotFound', 'Network None could not be found.');
    await bad('PUT', '/v2.0/ports', { port: { name: 'x' } }, 404, 'PortNotFound', 'Port None could not be found.');
  });

  test('a served path with a method it does not serve → 405 HTTPMethodNotAllowed, as Neutron Zed answers', async () => {
    const message = 'The server could not comply with the request since it is either malformed or otherwise incorrect.';
    for (const [m, url] of [
      ['PATCH', `/v2.0/networks/${net.id}`],
      ['PATCH', `/v2.0/networks/${'3f0c7f5e-0b1e-4d6c-9f3a-2b1c0d9e8f7a'}`],
      ['PATCH', '/v2.0/subnets'],
      ['PATCH', '/v2.0'],
      ['POST', `/v2.0/networks/${net.id}`],
      ['PATCH', `/v2.0/quotas/${ALICE.project}`],
      ['PATCH', `/v2.0/ports/${port.id}/tags`],
    ]) {
      await bad(
        m,
        url,
        m === 'POST' || m === 'PATCH' ? { network: { name: 'p' } } : undefined,
        405,
        'HTTPMethodNotAllowed',
        message,
      );
    }
    const r = await raw('PATCH', `/v2.0/networks/${net.id}`, '{"network": {"name": "p"}}', {});
    assert.equal(r.headers.allow, 'GET, PUT, DELETE');
    // HEAD is not a GET without a body: Neutron answers 405 with no body.
    const head = await s.neutrino.app.inject({ method: 'HEAD', url: `/v2.0/networks/${net.id}` });
    assert.equal(head.statusCode, 405);
    assert.equal(head.body, '');
  });

  test('bad list parameters → 400', async () => {
    const r = await s.get('/v2.0/ports?limit=-1', ALICE);
    assert.equal(r.status, 400);
    assert.match(r.body.NeutronError.message, /Limit must be an integer 0 or greater and not '-1'/);
    await bad(
      'GET',
      '/v2.0/ports?unknown_filter=1',
      undefined,
      400,
      'HTTPBadRequest',
      "['unknown_filter'] is invalid attribute for filtering",
    );
    await bad(
      'GET',
      '/v2.0/ports?sort_key=name',
      undefined,
      400,
      'HTTPBadRequest',
      'The number of sort_keys and sort_dirs must be same',
    );
  });
});

describe('media', () => {
  test('Content-Type is ignored: text/plain, form-encoded and none are read as JSON', async () => {
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', undefined]) {
      const headers: Record<string, string> = ct ? { 'content-type': ct } : {};
      const r = await raw('POST', '/v2.0/networks', JSON.stringify({ network: { name: `ct-${ct}` } }), headers);
      assert.equal(r.status, 201, `${ct}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.network.name, `ct-${ct}`);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      const u = await raw(
        'PUT',
        `/v2.0/networks/${r.body.network.id}`,
        JSON.stringify({ network: { name: 'renamed' } }),
        headers,
      );
      assert.equal(u.status, 200, JSON.stringify(u.body));
      assert.equal(u.body.network.name, 'renamed');
      assert.equal((await s.del(`/v2.0/networks/${r.body.network.id}`, ALICE)).status, 204);
    }
    const r = await raw('POST', '/v2.0/networks', '{oops', { 'content-type': 'text/plain' });
    assertError(r, 400, 'HTTPBadRequest', 'Body contains invalid data');
  });

  test('.json suffix is accepted', async () => {
    const r = await s.get(`/v2.0/networks/${net.id}.json`, ALICE);
    assert.equal(r.status, 200);
    assert.equal(r.body.network.id, net.id);
    const l = await s.get('/v2.0/ports.json?name=p', ALICE);
    assert.deepEqual(
      l.body.ports.map((p: { id: string }) => p.id),
      [port.id],
    );
  });

  test('errors carry a request id header', async () => {
    const r = await s.get('/v2.0/networks/not-a-uuid', ALICE);
    assert.match(String(r.headers['x-openstack-request-id']), /^req-/);
  });
});
