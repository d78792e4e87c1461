// fast-check arbitraries read from OpenAPI schemas: values a schema allows (valid), values one
// step from it (near-valid: one property wrong, an extra key, a required key missing), and hostile
// values (deep nesting, huge numbers, NUL and other control characters, lone surrogates, huge
// strings, wrong types). test/api/fuzz.test.ts drives every operation of the document with them.
import fc from 'fast-check';

// biome-ignore lint/suspicious/noExplicitAny: JSON Schemas, read loosely
export type Schema = Record<string, any>;

/** Strings that broke or could break a server: NUL, controls, line separators, quotes, paths, SQL. */
const NASTY_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  '\u0001\u001f\u007f',
  'line\nbreak',
  '\u2028\u2029',
  '\ud800',
  'x\udfffy',
  '😀'.repeat(300),
  "' OR 1=1 --",
  '"; DROP TABLE networks; --',
  '../../etc/passwd',
  '%00',
  `${'$'}{jndi:x}`,
  'default',
  'DEFAULT',
  'None',
  'null',
  'true',
  '-1',
  '1e400',
  '9223372036854775808',
  '0x10',
  '10.0.0.0/33',
  '::ffff:300.1.1.1',
  'ff:ff:ff:ff:ff:ff',
  '00000000-0000-0000-0000-000000000000',
  'prefix_delegation',
  'a'.repeat(256),
];

const nested = (depth: number): unknown => {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

/** Any JSON value at all, small. */
const anyJson = fc.jsonValue({ maxDepth: 3 });

/** Values no well-behaved client sends. */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.constantFrom(
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53 + 2,
    1e20,
    -1e20,
    1.5,
    -0,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    0,
    -1,
    65536,
    true,
    false,
    null,
  ),
  fc.constantFrom([], {}, [null], [[]], { '': '' }, { '\u0000': 1 }),
  fc.integer({ min: 10, max: 1200 }).map(nested),
  fc.integer({ min: 256, max: 40_000 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\u0001', '\u001b', '\ufeff', 'a', '/', '%'), maxLength: 8 }),
  anyJson,
);

/** A value `schema` allows; `pool` gives known ids for uuid strings (mostly hitting real objects). */
export function valid(schema: Schema | undefined, pool: string[] = []): fc.Arbitrary<unknown> {
  if (!schema || Object.keys(schema).filter((k) => !k.startsWith('x-') && k !== 'description').length === 0) return anyJson;
  let arb: fc.Arbitrary<unknown>;
  if (schema.oneOf) arb = fc.oneof(...(schema.oneOf as Schema[]).map((s) => valid(s, pool)));
  else if (schema.enum) arb = fc.constantFrom(...(schema.enum as unknown[]));
  else if (schema.type === 'boolean') arb = fc.boolean();
  else if (schema.type === 'integer') {
    const min = typeof schema.minimum === 'number' ? schema.minimum : -5;
    const max = typeof schema.maximum === 'number' ? schema.maximum : Math.max(min + 5000, 4096);
    arb = fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
  } else if (schema.type === 'string') {
    const maxLength = Math.min(typeof schema.maxLength === 'number' ? schema.maxLength : 40, 64);
    const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
    if (schema.format === 'uuid') arb = pool.length ? fc.oneof(fc.constantFrom(...pool), fc.uuid()) : fc.uuid();
    else if (/IPv4 or IPv6 address/.test(schema.description ?? '')) arb = fc.oneof(fc.ipV4(), fc.ipV6());
    else if (/CIDR/.test(schema.description ?? ''))
      arb = fc.tuple(fc.ipV4(), fc.integer({ min: 8, max: 32 })).map(([ip, n]) => `${ip}/${n}`);
    else if (schema.pattern?.includes('[0-9A-Fa-f]{2}'))
      arb = fc
        .array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 })
        .map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));
    else arb = fc.string({ minLength, maxLength });
  } else if (schema.type === 'array') {
    const items = valid(schema.items as Schema, pool);
    arb = schema.uniqueItems
      ? fc.uniqueArray(items, { maxLength: 3, selector: (v) => JSON.stringify(v) })
      : fc.array(items, { minLength: schema.minItems ?? 0, maxLength: 3 });
  } else if (schema.type === 'object' && schema.properties) {
    const props = schema.properties as Record<string, Schema>;
    const required = (schema.required ?? []) as string[];
    arb = fc.record(Object.fromEntries(Object.entries(props).map(([k, s]) => [k, valid(s, pool)])), { requiredKeys: required });
  } else if (schema.type === 'object') arb = fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 3 });
  else arb = anyJson;
  return schema.nullable ? fc.option(arb, { nil: null, freq: 5 }) : arb;
}

/** One step from `schema`: a property wrong (hostile or of another type), an unknown key, a
 * required key missing; inside objects, the step is taken at any depth. */
export function nearValid(schema: Schema | undefined, pool: string[] = []): fc.Arbitrary<unknown> {
  if (schema?.oneOf) return fc.oneof(...(schema.oneOf as Schema[]).map((s) => nearValid(s, pool)));
  if (schema?.type !== 'object' || !schema.properties) return hostile;
  const props = schema.properties as Record<string, Schema>;
  const keys = Object.keys(props);
  const base = valid(schema, pool) as fc.Arbitrary<Record<string, unknown>>;
  const steps: Array<fc.Arbitrary<unknown>> = [
    fc.tuple(base, fc.string({ maxLength: 12 }), hostile).map(([o, k, v]) => ({ ...o, [k || 'x']: v })),
  ];
  if (keys.length) {
    steps.push(
      fc
        .tuple(base, fc.constantFrom(...keys))
        .chain(([o, k]) => fc.oneof(hostile, nearValid(props[k], pool)).map((v) => ({ ...o, [k]: v }))),
    );
  }
  const required = (schema.required ?? []) as string[];
  if (required.length) {
    steps.push(
      fc.tuple(base, fc.constantFrom(...required)).map(([o, k]) => {
        const copy = { ...o };
        delete copy[k];
        return copy;
      }),
    );
  }
  return fc.oneof(...steps);
}

/** A request body for `schema`: valid, near-valid or hostile, in about equal parts. */
export function body(schema: Schema | undefined, pool: string[]): fc.Arbitrary<unknown> {
  return fc.oneof(valid(schema, pool), nearValid(schema, pool), nearValid(schema, pool), hostile);
}

/** A query value for a parameter of `schema`: as a client would write it, or hostile. */
export function queryValue(schema: Schema | undefined, pool: string[]): fc.Arbitrary<string> {
  const item = schema?.type === 'array' ? (schema.items as Schema) : schema;
  const plain = valid(item, pool).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return fc.oneof(
    plain,
    plain,
    hostile.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'))),
  );
}
