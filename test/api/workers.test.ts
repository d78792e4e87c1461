// Several API worker processes on one PostgreSQL: a real `neutrino server` with api_workers = 2
// (node:cluster), many clients at once over HTTP on 127.0.0.1, and two `neutrino db upgrade` at
// once. Runs the command from src/ (test/fixtures/neutrino.ts). On PostgreSQL only (NEUTRINO_TEST_DB,
// set by scripts/test-postgres.sh); on SQLite it checks that api_workers > 1 is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, run, ServerProcess } from '../fixtures/process.js';
import { freshPostgresDatabase, isPostgresUrl } from '../helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NEUTRINO = [process.execPath, '--import', 'tsx', join(ROOT, 'test/fixtures/neutrino.ts')];
const PG = process.env.NEUTRINO_TEST_DB && isPostgresUrl(process.env.NEUTRINO_TEST_DB) ? process.env.NEUTRINO_TEST_DB : null;

// biome-ignore lint/suspicious/noExplicitAny: bodies are read loosely
type Obj = any;

const neutrino = (args: string[]) => run(NEUTRINO[0], [...NEUTRINO.slice(1), ...args], { cwd: ROOT });

/** Worker processes of the primary `pid`, from /proc (tsx's esbuild helpers are children too). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('fixtures/neutrino.ts')) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('api_workers > 1 on SQLite is a configuration error', { skip: PG ? 'on PostgreSQL' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'neutrino-workers-'));
  try {
    const conf = join(dir, 'neutrino.conf');
    writeFileSync(conf, `[DEFAULT]\napi_workers = 2\n[database]\nconnection = sqlite:///${dir}/n.sqlite\n`);
    const r = await neutrino(['server', '--config-file', conf, '--bind-port', String(await freePort())]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /api_workers = 2 needs PostgreSQL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('several workers on PostgreSQL', {
  skip: PG ? false : 'NEUTRINO_TEST_DB is not PostgreSQL (scripts/test-postgres.sh)',
}, () => {
  let dir: string;
  let url: string;
  let drop: () => Promise<void>;
  let server: ServerProcess | undefined;
  let base: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'neutrino-workers-'));
    ({ url, drop } = await freshPostgresDatabase(PG as string));
  });
  after(async () => {
    if (server?.pid && server.exitStatus === null) {
      for (const pid of childrenOf(server.pid)) process.kill(pid, 'SIGKILL');
      server.signal('SIGKILL');
    }
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  test('two `neutrino db upgrade` at once on a fresh database both succeed', async () => {
    const [a, b] = await Promise.all([
      neutrino(['db', 'upgrade', '--connection', url]),
      neutrino(['db', 'upgrade', '--connection', url]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const outs = [a.stdout.trim(), b.stdout.trim()].sort();
    // One applied the migrations; the other waited for its lock and found nothing left to do.
    assert.match(outs[0], /^applied: 001_core, 002_security_groups/);
    assert.equal(outs[1], 'database is up to date');
  });

  test('`neutrino server` with api_workers = 2 starts two workers sharing the port', async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const conf = join(dir, 'neutrino.conf');
    writeFileSync(conf, `[DEFAULT]\napi_workers = 2\nbind_port = ${port}\n[database]\nconnection = ${url}\nmax_pool_size = 4\n`);
    server = ServerProcess.spawn([...NEUTRINO, 'server', '--config-file', conf], { cwd: ROOT, stdout: 'ignore' });
    await until('2 workers listening', () => server?.log.includes('2 API workers listening') || server?.exitStatus !== null);
    assert.equal(server.exitStatus, null, server.log);
    assert.equal(childrenOf(server.pid as number).length, 2);
    assert.equal((await fetch(`${base}/v2.0/networks`)).status, 200);
  });

  test('16 clients create ports on a /27 until exhausted: unique IPs and MACs, then 409s, no 500', async () => {
    const H = { 'content-type': 'application/json', 'x-project-id': 'p1', 'x-roles': 'member' };
    const post = async (path: string, body: Obj) => {
      const r = await fetch(`${base}${path}`, { method: 'POST', headers: H, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Obj };
    };
    const net = await post('/v2.0/networks', { network: { name: 'w' } });
    assert.equal(net.status, 201);
    const sub = await post('/v2.0/subnets', { subnet: { network_id: net.body.network.id, cidr: '10.27.0.0/27', ip_version: 4 } });
    assert.equal(sub.status, 201);
    assert.deepEqual(sub.body.subnet.allocation_pools, [{ start: '10.27.0.2', end: '10.27.0.30' }]);
    const POOL = 29;

    const created: Obj[] = [];
    const others: Array<{ status: number; body: Obj }> = [];
    const enders: Obj[] = [];
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        for (let i = 0; i < 64; i++) {
          const r = await post('/v2.0/ports', { port: { network_id: net.body.network.id, name: `c${c}-${i}` } });
          if (r.status === 201) created.push(r.body.port);
          else if (r.status === 409 && r.body.NeutronError?.type === 'IpAddressGenerationFailure') {
            enders.push(r.body);
            return;
          } else others.push(r);
        }
      }),
    );
    const ms = Date.now() - t0;
    console.log(`# ${created.length} ports by 16 clients through 2 workers in ${ms} ms`);
    assert.deepEqual(others, [], 'only 201s and the final 409s');
    assert.equal(enders.length, 16, 'every client ends on IpAddressGenerationFailure');
    assert.equal(created.length, POOL, 'exactly as many ports as addresses');
    const ips = created.map((p) => p.fixed_ips[0].ip_address);
    assert.equal(new Set(ips).size, POOL, 'distinct IPs');
    assert.deepEqual(new Set(ips), new Set(Array.from({ length: POOL }, (_, i) => `10.27.0.${i + 2}`)));
    assert.equal(new Set(created.map((p) => p.mac_address)).size, POOL, 'distinct MACs');
    // What is stored agrees: list through the API as admin.
    const list = (await (await fetch(`${base}/v2.0/ports?network_id=${net.body.network.id}`)).json()) as Obj;
    assert.equal(list.ports.length, POOL);
    // One default security group for the project, though its first ports were created at once.
    const sgs = (await (await fetch(`${base}/v2.0/security-groups?project_id=p1&name=default`)).json()) as Obj;
    assert.equal(sgs.security_groups.length, 1);
  });

  test('a crashed worker is replaced; SIGTERM stops the primary and its workers', async () => {
    const primary = server?.pid as number;
    const [victim] = childrenOf(primary);
    process.kill(victim, 'SIGKILL');
    await until('a replacement worker', () => {
      const kids = childrenOf(primary);
      return kids.length === 2 && !kids.includes(victim) && server?.log.includes(`worker ${victim} exited`);
    });
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${base}/v2.0/networks`)).status, 200);
    const workers = childrenOf(primary);
    const exited = server?.wait();
    server?.signal('SIGTERM');
    assert.equal((await exited)?.code, 0, server?.log);
    await until('workers gone', () => workers.every((p) => !alive(p)), 15_000);
  });
});
