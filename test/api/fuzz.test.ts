// Property-based fuzzing of every operation of the OpenAPI document (GET /v2.0/openapi.json):
// creates, updates, list filters, actions, tags, quotas … driven with valid, near-valid and hostile
// bodies, query strings and path ids (test/fuzz/arbitraries.ts), as an admin and as a project
// member. It passes when no answer is a 5xx the document does not declare, the server keeps
// answering, and a refused request (4xx) leaves every stored record as it was. A resource added to
// the registry is fuzzed without a new test. On SQLite here, on PostgreSQL under npm run test:pg.
//
// Seeded and bounded: FUZZ_SEED (default fixed, so CI is repeatable; any integer explores anew),
// FUZZ_RUNS runs per operation (default 12). A failure prints the seed, the path and the request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { body, queryValue, type Schema } from '../fuzz/arbitraries.js';
import { ADMIN, ALICE, type As, TestServer } from '../helpers.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);

let s: TestServer;
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document, read loosely
let doc: any;
/** Ids of what exists, per collection path (`/v2.0/networks`), for path parameters and uuids. */
const ids = new Map<string, string[]>();
const allIds = () => [...ids.values()].flat();

async function fixtures(): Promise<void> {
  const net = await s.network({ name: 'fz' }, ALICE);
  const sub = await s.subnet(net.id, '10.77.0.0/24', {}, ALICE);
  await s.port(net.id, { name: 'fz-port' }, ALICE);
  await s.port(net.id, { fixed_ips: [{ subnet_id: sub.id }] }, ADMIN);
  const scope = await s.create('address_scopes', 'address_scope', { name: 'fz', ip_version: 4 }, ALICE);
  await s.create('subnetpools', 'subnetpool', { name: 'fz', prefixes: ['10.80.0.0/16'], address_scope_id: scope.id }, ALICE);
  const sg = await s.create('security_groups', 'security_group', { name: 'fz' }, ALICE);
  await s.create('security_group_rules', 'security_group_rule', { security_group_id: sg.id, direction: 'ingress' }, ALICE);
  await s.create(
    'rbac_policies',
    'rbac_policy',
    { object_type: 'network', object_id: net.id, action: 'access_as_shared', target_tenant: 'bob-project' },
    ALICE,
  );
}

async function refreshIds(): Promise<void> {
  for (const def of s.neutrino.registry.resources) {
    const r = await s.get(`/v2.0/${def.path}`, ADMIN);
    ids.set(`/v2.0/${def.path}`, (r.body?.[def.collection] ?? []).map((o: { id?: string }) => o.id).filter(Boolean));
  }
}

/** Every row of every table (the migrations' bookkeeping aside), order-free: what "nothing
 * stored changed" compares. Read from the database itself, below the API. */
async function snapshot(): Promise<string> {
  const { db, dialect } = s.neutrino.database;
  const names =
    dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(db);
  const out: string[] = [];
  for (const { name } of names.rows.sort((a, b) => a.name.localeCompare(b.name))) {
    if (name.startsWith('kysely_')) continue;
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    out.push(name, ...rows.rows.map((r) => JSON.stringify(r)).sort());
  }
  return out.join('\n');
}

interface Op {
  method: string;
  path: string;
  // biome-ignore lint/suspicious/noExplicitAny: an OpenAPI operation, read loosely
  op: any;
}

function operations(): Op[] {
  const out: Op[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const [method, op] of Object.entries(ops)) out.push({ method: method.toUpperCase(), path, op });
  }
  return out;
}

/** Percent-encoding of the UTF-8 bytes (a lone surrogate goes as U+FFFD's, as any client sends it). */
const pct = (v: string) =>
  [...Buffer.from(v, 'utf8')]
    .map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`))
    .join('');

/** The collection a path's {id} belongs to: `/v2.0/networks/{id}/tags` → `/v2.0/networks`. */
const collectionOf = (path: string) => path.split('/{')[0] as string;

function pathArb(o: Op): fc.Arbitrary<string> {
  const names = [...o.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  if (names.length === 0) return fc.constant(o.path);
  const known = ids.get(collectionOf(o.path)) ?? [];
  const value = (name: string) =>
    fc
      .oneof(
        ...(known.length ? [fc.constantFrom(...known), fc.constantFrom(...known)] : []),
        fc.uuid(),
        fc.constantFrom('alice-project', 'admin-project', 'x', 'a\u0000b', '..', '%', 'a'.repeat(300), ' '),
        fc.string({ minLength: 1, maxLength: 10 }),
      )
      .map((v) => (name === 'id' || name === 'tag' || name === 'alias' ? v : v));
  return fc.tuple(...names.map(value)).map((vals) => {
    let p = o.path;
    names.forEach((n, i) => {
      p = p.replace(`{${n}}`, pct(vals[i] as string));
    });
    return p;
  });
}

function queryArb(o: Op): fc.Arbitrary<string> {
  const params = ((o.op.parameters ?? []) as Array<{ name: string; in: string; schema: Schema }>).filter((p) => p.in === 'query');
  const pool = allIds();
  const pair = fc.oneof(
    ...(params.length
      ? [fc.constantFrom(...params).chain((p) => queryValue(p.schema, pool).map((v) => [p.name, v] as const))]
      : []),
    fc.tuple(fc.constantFrom('bogus', 'sort_key', 'limit', 'marker', 'fields', 'page_reverse', 'changed_since'), fc.string()),
  );
  return fc
    .array(pair, { maxLength: 4 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}` : ''));
}

function requestArb(o: Op) {
  const schema = o.op.requestBody?.content?.['application/json']?.schema as Schema | undefined;
  const hasBody = o.method === 'POST' || o.method === 'PUT';
  return fc.record({
    path: pathArb(o),
    query: o.method === 'GET' ? queryArb(o) : fc.constant(''),
    body: hasBody ? body(schema, allIds()) : fc.constant(undefined),
    as: fc.constantFrom<As>(ADMIN, ALICE),
  });
}

before(async () => {
  s = await TestServer.start();
  await fixtures();
  await refreshIds();
  doc = (await s.get('/v2.0/openapi.json', ADMIN)).body;
});
after(() => s.close());

describe(`fuzzing every operation of the OpenAPI document (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`, () => {
  test('the document has operations to fuzz', () => {
    assert.ok(operations().length > 60, `${operations().length} operations`);
  });

  test('no 5xx, the server keeps answering, and refused requests change nothing', async (t) => {
    for (const o of operations()) {
      const declared = new Set(Object.keys(o.op.responses ?? {}).filter((c) => c.startsWith('5')));
      const write = o.method !== 'GET';
      await t.test(`${o.method} ${o.path}`, async () => {
        await fc.assert(
          fc.asyncProperty(requestArb(o), async (req) => {
            const before = write ? await snapshot() : '';
            const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
            const r = await s.request(o.method, `${req.path}${req.query}`, payload, req.as);
            assert.ok(
              r.status < 500 || declared.has(String(r.status)),
              `${o.method} ${req.path}${req.query} → ${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`,
            );
            if (write && r.status >= 400) {
              assert.equal(await snapshot(), before, `${o.method} ${req.path} → ${r.status} changed what is stored`);
            }
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
        // Still up, and answering.
        assert.equal((await s.get('/v2.0/networks', ADMIN)).status, 200);
        if (write) await refreshIds();
      });
    }
  });
});
