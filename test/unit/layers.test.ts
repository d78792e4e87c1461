// The layering rules of docs/architecture.md, checked on every import of src/: who may import whom.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of src/: [importing file, imported file, type-only], paths relative to src/. */
const imports: Array<[string, string, boolean]> = files(SRC).flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  const out: Array<[string, string, boolean]> = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms)) {
    const target = relative(SRC, resolve(dirname(file), m[2] as string)).replace(/\.js$/, '.ts');
    out.push([relative(SRC, file), target, Boolean(m[1])]);
  }
  return out;
});

const top = (path: string) => path.split('/')[0] as string;
const violations = (from: (f: string) => boolean, allowed: (target: string, typeOnly: boolean) => boolean) =>
  imports.filter(([f, t, typeOnly]) => from(f) && !allowed(t, typeOnly)).map(([f, t]) => `${f} → ${t}`);

test('the import scan sees the code', () => {
  assert.ok(imports.length > 200, `only ${imports.length} imports found`);
});

test('plugins do not import the API layer', () => {
  assert.deepEqual(
    violations(
      (f) => top(f) === 'plugins',
      (t) => top(t) !== 'api',
    ),
    [],
  );
});

test('the API layer reaches the database only through the plugins (listing, body, routes)', () => {
  assert.deepEqual(
    violations(
      (f) => top(f) === 'api',
      (t) => top(t) !== 'db',
    ),
    [],
  );
});

test('validation sits below api and plugins', () => {
  assert.deepEqual(
    violations(
      (f) => top(f) === 'validation',
      (t) => ['validation', 'common', 'ipam', 'resources'].includes(top(t)),
    ),
    [],
  );
});

test('resource definitions import nothing but definitions and types', () => {
  assert.deepEqual(
    violations(
      (f) => top(f) === 'resources',
      (t) => top(t) === 'resources',
    ),
    [],
  );
});

test('agents import only the RPC contract and clients and the system layer', () => {
  assert.deepEqual(
    violations(
      (f) => top(f) === 'agents',
      (t) => ['agents', 'rpc', 'system'].includes(top(t)),
    ),
    [],
  );
});

test('the system layer imports nothing of ours', () => {
  assert.deepEqual(
    violations(
      (f) => top(f) === 'system',
      (t) => top(t) === 'system',
    ),
    [],
  );
});

test('no import cycles in src/ (security-group groups and rules once imported each other)', () => {
  const graph = new Map<string, string[]>();
  for (const [f, t] of imports) graph.set(f, [...(graph.get(f) ?? []), t]);
  // Tarjan's strongly connected components: any of more than one file is a cycle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) cycles.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  assert.deepEqual(cycles, []);
});
