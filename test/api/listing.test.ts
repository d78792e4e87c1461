// Lists: filters, fields=, sorting, pagination with links (as tempest walks them), the /tags
// sub-resource, tag filters and changed_since.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN, ALICE, type As, BOB, expectError, type Reply, TestServer } from '../helpers.js';

let s: TestServer;
before(async () => {
  s = await TestServer.start();
});
after(() => s.close());

const project = (name: string): As => ({ project: name, roles: ['member'] });
const names = (r: Reply, key = 'networks'): string[] => r.body[key].map((x: { name: string }) => x.name);
const ids = (r: Reply, key = 'networks'): string[] => r.body[key].map((x: { id: string }) => x.id);

describe('filters', () => {
  const P = project('filters-project');
  let a: { id: string };
  let b: { id: string };
  before(async () => {
    a = await s.network({ name: 'fa', admin_state_up: true }, P);
    b = await s.network({ name: 'fb', admin_state_up: false, description: 'second' }, P);
    await s.network({ name: 'fc', admin_state_up: false }, P);
  });

  test('single key', async () => {
    const r = await s.get('/v2.0/networks?name=fa', P);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['networks']);
    assert.deepEqual(ids(r), [a.id]);
  });

  test('repeated key is OR, different keys AND', async () => {
    assert.deepEqual(names(await s.get('/v2.0/networks?name=fa&name=fb&sort_key=name&sort_dir=asc', P)), ['fa', 'fb']);
    assert.deepEqual(ids(await s.get(`/v2.0/networks?id=${a.id}&id=${b.id}&sort_key=name&sort_dir=asc`, P)), [a.id, b.id]);
    assert.deepEqual(names(await s.get('/v2.0/networks?name=fa&name=fb&admin_state_up=false', P)), ['fb']);
    assert.deepEqual(names(await s.get('/v2.0/networks?name=fa&description=second', P)), []);
  });

  test('boolean filters accept True/true/1/false/False/0', async () => {
    for (const v of ['True', 'true', '1']) {
      assert.deepEqual(names(await s.get(`/v2.0/networks?admin_state_up=${v}`, P)), ['fa']);
    }
    for (const v of ['False', 'false', '0']) {
      assert.deepEqual(names(await s.get(`/v2.0/networks?admin_state_up=${v}&sort_key=name&sort_dir=asc`, P)), ['fb', 'fc']);
    }
    assert.deepEqual(names(await s.get('/v2.0/networks?shared=False&router%3Aexternal=False&sort_key=name&sort_dir=asc', P)), [
      'fa',
      'fb',
      'fc',
    ]);
    expectError(await s.get('/v2.0/networks?admin_state_up=maybe', P), 400, 'InvalidInput');
  });

  test('unknown filter is 400 (filter-validation)', async () => {
    const r = await s.get('/v2.0/networks?bogus=1', P);
    expectError(r, 400);
    assert.equal(r.body.NeutronError.message, "['bogus'] is invalid attribute for filtering");
    // Attributes that are not filters are also refused.
    expectError(await s.get('/v2.0/networks?subnets=x', P), 400);
  });

  test('an empty value is a value (empty-string-filtering)', async () => {
    const aliases = (await s.get('/v2.0/extensions', P)).body.extensions.map((e: { alias: string }) => e.alias);
    assert.ok(aliases.includes('empty-string-filtering'));
    assert.deepEqual(names(await s.get('/v2.0/networks?name=', P)), []);
    assert.deepEqual(names(await s.get('/v2.0/networks?description=&sort_key=name&sort_dir=asc', P)), ['fa', 'fc']);
    assert.deepEqual(names(await s.get('/v2.0/networks?description=&description=second&sort_key=name&sort_dir=asc', P)), [
      'fa',
      'fb',
      'fc',
    ]);
    const Q = project('empty-filter-project');
    const unnamed = await s.network({ name: '' }, Q);
    await s.network({ name: 'named' }, Q);
    assert.deepEqual(ids(await s.get('/v2.0/networks?name=', Q)), [unnamed.id]);
    const port = await s.port(unnamed.id, {}, Q);
    await s.port(unnamed.id, { device_id: 'vm-1' }, Q);
    assert.deepEqual(ids(await s.get(`/v2.0/ports?device_id=&network_id=${unnamed.id}`, Q), 'ports'), [port.id]);
    // Converted like any value: an empty string is neither a boolean nor an integer.
    expectError(await s.get('/v2.0/networks?admin_state_up=', P), 400, 'InvalidInput');
    expectError(await s.get('/v2.0/networks?mtu=', P), 400, 'InvalidInput');
  });

  test('tenant_id and project_id filters', async () => {
    assert.equal((await s.get(`/v2.0/networks?tenant_id=${P.project}`, ADMIN)).body.networks.length, 3);
    assert.equal((await s.get(`/v2.0/networks?project_id=${P.project}`, ADMIN)).body.networks.length, 3);
    assert.equal((await s.get('/v2.0/networks?tenant_id=nobody', ADMIN)).body.networks.length, 0);
    // Non-admin filtering on another project sees nothing of it.
    assert.equal((await s.get(`/v2.0/networks?tenant_id=${P.project}`, BOB)).body.networks.length, 0);
  });

  test('mtu and status filters are converted', async () => {
    assert.equal((await s.get('/v2.0/networks?mtu=1450&status=ACTIVE', P)).body.networks.length, 3);
    assert.equal((await s.get('/v2.0/networks?mtu=1400', P)).body.networks.length, 0);
  });
});

describe('fields', () => {
  const P = project('fields-project');
  let net: { id: string };
  before(async () => {
    net = await s.network({ name: 'fields-net' }, P);
  });

  test('no fields: both tenant_id and project_id', async () => {
    const r = await s.get('/v2.0/networks', P);
    assert.equal(r.body.networks.length, 1);
    assert.equal(r.body.networks[0].tenant_id, P.project);
    assert.equal(r.body.networks[0].project_id, P.project);
  });

  test('fields=tenant_id returns only tenant_id', async () => {
    assert.deepEqual((await s.get('/v2.0/networks?fields=tenant_id', P)).body.networks, [{ tenant_id: P.project }]);
    assert.deepEqual((await s.get('/v2.0/networks?fields=project_id', P)).body.networks, [{ project_id: P.project }]);
    assert.deepEqual((await s.get('/v2.0/networks?fields=tenant_id&fields=project_id', P)).body.networks, [
      { tenant_id: P.project, project_id: P.project },
    ]);
  });

  test('several fields; unknown ones are ignored', async () => {
    assert.deepEqual((await s.get('/v2.0/networks?fields=id&fields=name', P)).body.networks, [
      { id: net.id, name: 'fields-net' },
    ]);
    assert.deepEqual((await s.get('/v2.0/networks?fields=name&fields=bogus', P)).body.networks, [{ name: 'fields-net' }]);
  });

  test('fields with sorting and pagination still page correctly', async () => {
    await s.network({ name: 'fields-net-2' }, P);
    const r = await s.get('/v2.0/networks?fields=name&sort_key=name&sort_dir=asc&limit=1', P);
    assert.deepEqual(r.body.networks, [{ name: 'fields-net' }]);
    const next = r.body.networks_links.find((l: { rel: string }) => l.rel === 'next');
    assert.ok(next.href.includes(`marker=${net.id}`));
  });
});

describe('sorting', () => {
  const P = project('sort-project');
  before(async () => {
    for (const name of ['test1', 'abc1', 'test10', '123test', 'test1', 'Zed', '_x']) await s.network({ name }, P);
  });

  test('asc and desc use codepoint order', async () => {
    const expected = ['test1', 'abc1', 'test10', '123test', 'test1', 'Zed', '_x'].sort();
    assert.deepEqual(names(await s.get('/v2.0/networks?sort_key=name&sort_dir=asc', P)), expected);
    assert.deepEqual(names(await s.get('/v2.0/networks?sort_dir=desc&sort_key=name', P)), [...expected].reverse());
  });

  test('several keys', async () => {
    const r = await s.get('/v2.0/networks?sort_key=name&sort_dir=asc&sort_key=id&sort_dir=desc', P);
    const list = r.body.networks as Array<{ name: string; id: string }>;
    const dups = list.filter((n) => n.name === 'test1');
    assert.equal(dups.length, 2);
    assert.ok(dups[0].id > dups[1].id);
  });

  test('bad sort parameters are 400', async () => {
    const count = await s.get('/v2.0/networks?sort_key=name', P);
    expectError(count, 400);
    assert.equal(count.body.NeutronError.message, 'The number of sort_keys and sort_dirs must be same');
    const key = await s.get('/v2.0/networks?sort_key=bogus&sort_dir=asc', P);
    expectError(key, 400);
    assert.equal(key.body.NeutronError.message, "['bogus'] is invalid attribute for sort_keys");
    // shared is a filter but not a sort key.
    expectError(await s.get('/v2.0/networks?sort_key=shared&sort_dir=asc', P), 400);
    const dir = await s.get('/v2.0/networks?sort_key=name&sort_dir=up', P);
    expectError(dir, 400);
    assert.equal(dir.body.NeutronError.message, "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'");
  });
});

describe('pagination', () => {
  const P = project('page-project');
  const NAMES = ['test1', 'abc1', 'test10', '123test', 'test1'];
  let sorted: Array<{ id: string; name: string }>;
  before(async () => {
    for (const name of NAMES) await s.network({ name }, P);
    sorted = (await s.get('/v2.0/networks?sort_key=name&sort_dir=asc', P)).body.networks;
  });

  const rel = (r: Reply, which: string): string | undefined =>
    (r.body.networks_links as Array<{ rel: string; href: string }> | undefined)?.find((l) => l.rel === which)?.href;
  const follow = (href: string) => {
    assert.ok(href.startsWith('http://localhost'), href);
    const u = new URL(href);
    assert.equal(u.pathname, '/v2.0/networks');
    return s.get(`${u.pathname}${u.search}`, P);
  };

  test('limit N returns N items', async () => {
    for (let n = 1; n <= 5; n++) {
      const r = await s.get(`/v2.0/networks?limit=${n}`, P);
      assert.equal(r.status, 200);
      assert.equal(r.body.networks.length, n);
    }
  });

  test('limit=0 means no pagination and no links', async () => {
    const r = await s.get('/v2.0/networks?limit=0', P);
    assert.equal(r.body.networks.length, 5);
    assert.equal(r.body.networks_links, undefined);
    assert.equal((await s.get('/v2.0/networks', P)).body.networks_links, undefined);
  });

  test('bad limit is 400', async () => {
    for (const v of ['-1', 'abc']) {
      const r = await s.get(`/v2.0/networks?limit=${v}`, P);
      expectError(r, 400, 'BadRequest');
      assert.equal(r.body.NeutronError.message, `Bad limit request: Limit must be an integer 0 or greater and not '${v}'.`);
    }
  });

  test('marker walks in the same order as the unpaged sorted list (duplicates tie on id)', async () => {
    for (const dir of ['asc', 'desc']) {
      const full = ids(await s.get(`/v2.0/networks?sort_key=name&sort_dir=${dir}`, P));
      const seen: string[] = [];
      let marker = '';
      for (let i = 0; i < 6; i++) {
        const r = await s.get(`/v2.0/networks?sort_dir=${dir}&sort_key=name&limit=1${marker ? `&marker=${marker}` : ''}`, P);
        if (r.body.networks.length === 0) break;
        seen.push(r.body.networks[0].id);
        marker = r.body.networks[0].id;
      }
      assert.deepEqual(seen, full, dir);
    }
  });

  test('links: next and previous as Neutron builds them', async () => {
    const r = await s.get('/v2.0/networks?sort_key=name&sort_dir=asc&limit=2', P);
    assert.deepEqual(ids(r), [sorted[0].id, sorted[1].id]);
    const links = r.body.networks_links as Array<{ rel: string; href: string }>;
    assert.deepEqual(
      links.map((l) => l.rel),
      ['next', 'previous'],
    );
    const next = new URL(links[0].href);
    assert.equal(next.searchParams.get('marker'), sorted[1].id);
    assert.equal(next.searchParams.get('limit'), '2');
    assert.deepEqual(next.searchParams.getAll('sort_key'), ['name']);
    assert.equal(next.searchParams.get('page_reverse'), null);
    const prev = new URL(links[1].href);
    assert.equal(prev.searchParams.get('marker'), sorted[0].id);
    assert.equal(prev.searchParams.get('page_reverse'), 'True');
    // A short last page has no next link.
    const last = await s.get(`/v2.0/networks?sort_key=name&sort_dir=asc&limit=2&marker=${sorted[3].id}`, P);
    assert.deepEqual(ids(last), [sorted[4].id]);
    assert.equal(rel(last, 'next'), undefined);
    assert.ok(rel(last, 'previous'));
  });

  test('walking next then previous links visits every item both ways', async () => {
    for (const dir of ['asc', 'desc']) {
      const order = ids(await s.get(`/v2.0/networks?sort_key=name&sort_dir=${dir}`, P));
      let r = await s.get(`/v2.0/networks?sort_key=name&sort_dir=${dir}&limit=1`, P);
      const forward: string[] = [];
      for (let i = 0; i < 5; i++) {
        assert.equal(r.body.networks.length, 1);
        forward.push(r.body.networks[0].id);
        const next = rel(r, 'next');
        assert.ok(next);
        r = await follow(next);
      }
      assert.deepEqual(forward, order);
      // Past the end: empty page, no next, a previous without marker.
      assert.deepEqual(r.body.networks, []);
      assert.equal(rel(r, 'next'), undefined);
      const prevHref = rel(r, 'previous');
      assert.ok(prevHref);
      const pu = new URL(prevHref);
      assert.equal(pu.searchParams.get('marker'), null);
      assert.equal(pu.searchParams.get('page_reverse'), 'True');
      const backward: string[] = [];
      r = await follow(prevHref);
      for (let i = 0; i < 5; i++) {
        assert.equal(r.body.networks.length, 1, `${dir} step ${i}`);
        backward.push(r.body.networks[0].id);
        const prev = rel(r, 'previous');
        assert.ok(prev);
        r = await follow(prev);
      }
      assert.deepEqual(backward, [...order].reverse());
      // Before the start: empty reverse page with no previous link.
      assert.deepEqual(r.body.networks, []);
      assert.equal(rel(r, 'previous'), undefined);
    }
  });

  test('page_reverse returns the items before the marker in forward order', async () => {
    for (const dir of ['asc', 'desc']) {
      const order = ids(await s.get(`/v2.0/networks?sort_key=name&sort_dir=${dir}`, P));
      const r = await s.get(`/v2.0/networks?sort_dir=${dir}&sort_key=name&limit=2&marker=${order[2]}&page_reverse=True`, P);
      assert.deepEqual(ids(r), order.slice(0, 2));
      const noMarker = await s.get(`/v2.0/networks?sort_dir=${dir}&sort_key=name&limit=2&page_reverse=True`, P);
      assert.deepEqual(ids(noMarker), order.slice(3));
    }
  });

  test('unknown marker is 404', async () => {
    expectError(await s.get('/v2.0/networks?limit=1&marker=00000000-0000-0000-0000-000000000000', P), 404, 'NetworkNotFound');
  });

  test('works on subnets, with the shared filter kept in links', async () => {
    const n = await s.network({}, P);
    for (const [i, name] of NAMES.entries()) await s.subnet(n.id, `10.100.${i}.0/28`, { name }, P);
    const full = (await s.get('/v2.0/subnets?shared=False&sort_key=name&sort_dir=asc', P)).body.subnets;
    assert.deepEqual(
      full.map((x: { name: string }) => x.name),
      [...NAMES].sort(),
    );
    const r = await s.get('/v2.0/subnets?shared=False&sort_key=name&sort_dir=asc&limit=2', P);
    const next = (r.body.subnets_links as Array<{ rel: string; href: string }>).find((l) => l.rel === 'next');
    assert.ok(next?.href.includes('shared=False'));
  });
});

describe('tags', () => {
  test('sub-resource: replace, add, show one, remove, clear', async () => {
    const n = await s.network();
    const base = `/v2.0/networks/${n.id}/tags`;
    const put = await s.put(base, { tags: ['a', 'b'] }, ALICE);
    assert.equal(put.status, 200);
    assert.deepEqual([...put.body.tags].sort(), ['a', 'b']);
    const get = await s.get(base, ALICE);
    assert.equal(get.status, 200);
    assert.deepEqual([...get.body.tags].sort(), ['a', 'b']);
    const post = await s.post(base, { tags: ['c'] }, ALICE);
    assert.equal(post.status, 200);
    assert.deepEqual([...post.body.tags].sort(), ['a', 'b', 'c']);

    const one = await s.get(`${base}/a`, ALICE);
    assert.equal(one.status, 204);
    assert.equal(one.body, undefined);
    expectError(await s.get(`${base}/zzz`, ALICE), 404, 'TagNotFound');

    const add = await s.put(`${base}/d`, undefined, ALICE);
    assert.equal(add.status, 201);
    assert.equal((await s.put(`${base}/d`, undefined, ALICE)).status, 201);
    assert.deepEqual([...(await s.get(base, ALICE)).body.tags].sort(), ['a', 'b', 'c', 'd']);

    const del = await s.del(`${base}/a`, ALICE);
    assert.equal(del.status, 204);
    assert.equal(del.body, undefined);
    expectError(await s.del(`${base}/a`, ALICE), 404, 'TagNotFound');

    const shown = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network;
    assert.deepEqual([...shown.tags].sort(), ['b', 'c', 'd']);

    const clear = await s.del(base, ALICE);
    assert.equal(clear.status, 204);
    assert.deepEqual((await s.get(base, ALICE)).body.tags, []);
  });

  test('tags with dots are not a format suffix', async () => {
    const n = await s.network();
    assert.equal((await s.put(`/v2.0/networks/${n.id}/tags/black.or.white`, undefined, ALICE)).status, 201);
    assert.equal((await s.get(`/v2.0/networks/${n.id}/tags/black.or.white`, ALICE)).status, 204);
    assert.deepEqual((await s.get(`/v2.0/networks/${n.id}/tags`, ALICE)).body.tags, ['black.or.white']);
    assert.equal((await s.del(`/v2.0/networks/${n.id}/tags/black.or.white`, ALICE)).status, 204);
  });

  test('limits and validation', async () => {
    const n = await s.network();
    const base = `/v2.0/networks/${n.id}/tags`;
    const many = Array.from({ length: 51 }, (_, i) => `t${i}`);
    expectError(await s.put(base, { tags: many }, ALICE), 400);
    assert.equal((await s.put(base, { tags: many.slice(0, 50) }, ALICE)).status, 200);
    expectError(await s.put(`${base}/one-too-many`, undefined, ALICE), 400);
    expectError(await s.post(base, { tags: ['another'] }, ALICE), 400);
    assert.equal((await s.get(base, ALICE)).body.tags.length, 50);
    expectError(await s.put(base, { tags: ['x'.repeat(256)] }, ALICE), 400);
    expectError(await s.put(base, { tags: 'notalist' }, ALICE), 400);
    expectError(await s.put(base, { tags: ['a', 'a'] }, ALICE), 400);
    expectError(await s.put(base, { nottags: [] }, ALICE), 400);
  });

  test('tag changes bump the revision; tags of one resource do not touch another', async () => {
    const n = await s.network();
    const other = await s.network();
    await s.put(`/v2.0/networks/${other.id}/tags`, { tags: ['keep'] }, ALICE);
    const r1 = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network.revision_number;
    await s.put(`/v2.0/networks/${n.id}/tags`, { tags: ['x'] }, ALICE);
    const r2 = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network.revision_number;
    assert.ok(r2 > r1);
    await s.put(`/v2.0/networks/${n.id}/tags/y`, undefined, ALICE);
    const r3 = (await s.get(`/v2.0/networks/${n.id}`, ALICE)).body.network.revision_number;
    assert.ok(r3 > r2);
    await s.del(`/v2.0/networks/${n.id}/tags`, ALICE);
    assert.deepEqual((await s.get(`/v2.0/networks/${other.id}/tags`, ALICE)).body.tags, ['keep']);
  });

  test('others cannot see or change tags', async () => {
    const n = await s.network();
    expectError(await s.get(`/v2.0/networks/${n.id}/tags`, BOB), 404, 'NetworkNotFound');
    expectError(await s.put(`/v2.0/networks/${n.id}/tags`, { tags: ['x'] }, BOB), 404, 'NetworkNotFound');
    expectError(await s.put(`/v2.0/networks/${n.id}/tags/x`, undefined, BOB), 404, 'NetworkNotFound');
    expectError(await s.get('/v2.0/networks/00000000-0000-0000-0000-000000000000/tags', ALICE), 404);
  });

  test('works on subnets, ports and subnetpools', async () => {
    const n = await s.network();
    const sub = await s.subnet(n.id, '10.60.0.0/24');
    const port = await s.port(n.id);
    const pool = await s.create('subnetpools', 'subnetpool', { name: 'tp', prefixes: ['10.61.0.0/16'] }, ALICE);
    for (const [path, id] of [
      ['subnets', sub.id],
      ['ports', port.id],
      ['subnetpools', pool.id],
    ]) {
      assert.equal((await s.put(`/v2.0/${path}/${id}/tags`, { tags: ['red'] }, ALICE)).status, 200);
      assert.equal((await s.put(`/v2.0/${path}/${id}/tags/blue`, undefined, ALICE)).status, 201);
      const r = await s.get(`/v2.0/${path}?tags=red,blue`, ALICE);
      assert.deepEqual(ids(r, path), [id]);
    }
  });
});

describe('tag filters', () => {
  const SETS = [['red'], ['red', 'blue'], ['red', 'blue', 'green'], ['green'], []];
  const cases: Array<[string, number[]]> = [
    ['tags=red', [0, 1, 2]],
    ['tags=red,blue', [1, 2]],
    ['tags=red&tags=blue', [1, 2]],
    ['tags-any=blue', [1, 2]],
    ['tags-any=red,blue', [0, 1, 2]],
    ['tags-any=red&tags-any=blue', [0, 1, 2]],
    ['not-tags=red', [3, 4]],
    ['not-tags=red,blue', [0, 3, 4]],
    ['not-tags-any=blue', [0, 3, 4]],
    ['not-tags-any=red,blue', [3, 4]],
    ['tags=red&not-tags=green', [0, 1]],
  ];

  for (const [path, key] of [
    ['networks', 'networks'],
    ['subnets', 'subnets'],
    ['ports', 'ports'],
    ['subnetpools', 'subnetpools'],
  ]) {
    test(`on ${path}`, async () => {
      const P = project(`tagfilter-${path}`);
      const net = await s.network({}, P);
      const made: string[] = [];
      for (const [i, tags] of SETS.entries()) {
        let id: string;
        if (path === 'networks') id = (await s.network({}, P)).id;
        else if (path === 'subnets') id = (await s.subnet(net.id, `10.80.${i}.0/24`, {}, P)).id;
        else if (path === 'ports') id = (await s.port(net.id, {}, P)).id;
        else id = (await s.create('subnetpools', 'subnetpool', { name: `p${i}`, prefixes: [`10.81.${i}.0/24`] }, P)).id;
        if (tags.length) assert.equal((await s.put(`/v2.0/${path}/${id}/tags`, { tags }, P)).status, 200);
        made.push(id);
      }
      for (const [q, want] of cases) {
        const r = await s.get(`/v2.0/${path}?${q}`, P);
        assert.equal(r.status, 200, q);
        const got = ids(r, key).filter((x) => made.includes(x));
        assert.deepEqual(got.sort(), want.map((i) => made[i]).sort(), `${path}?${q}`);
      }
    });
  }
});

describe('changed_since', () => {
  test('returns objects updated at or after the time', async () => {
    const P = project('changed-project');
    const old = await s.network({ name: 'old' }, P);
    await new Promise((r) => setTimeout(r, 1100));
    const since = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const fresh = await s.network({ name: 'fresh' }, P);
    const r = await s.get(`/v2.0/networks?changed_since=${since}`, P);
    assert.equal(r.status, 200);
    assert.deepEqual(ids(r), [fresh.id]);
    await s.put(`/v2.0/networks/${old.id}`, { network: { name: 'old2' } }, P);
    const r2 = await s.get(`/v2.0/networks?changed_since=${since}&sort_key=name&sort_dir=asc`, P);
    assert.deepEqual(names(r2), ['fresh', 'old2']);
    assert.equal((await s.get('/v2.0/networks?changed_since=2000-01-01T00:00:00Z', P)).body.networks.length, 2);
    expectError(await s.get('/v2.0/networks?changed_since=garbage', P), 400);
  });
});
