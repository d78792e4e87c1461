// The API phases on several backends in one run, side by side (issue 3): SQLite (one process),
// PostgreSQL with api_workers = 1 and = N (pg1, pg2, …), and Keystone auth (a real token from a private
// Keystone, validated by Neutrino and then cached) against the same backend without auth.
//
//   npx tsx bench/backends.ts [--backends sqlite,keystone,pg1,pg2] [--ports 1000] [--rounds 1]
//                             [--keystone-on sqlite|pgN] [--log PREFIX]
//
// Each run is a fresh `neutrino server` (the built dist/, through bin/neutrino.js) after
// `neutrino db upgrade`, on a free port, with a fresh database: a temporary SQLite file, or a database
// created for it (CREATE DATABASE) on one PostgreSQL server and dropped afterwards. It measures the phases
// of bench/phases.ts (those of the shared api-bench), then the resident memory of every process of the
// server: the server itself, or with api_workers > 1 the cluster primary and each worker (VmRSS at start
// and after, peak from VmHWM and 50 ms samples). Each phase also reports CPU milliseconds per call of the
// server's processes, of the private PostgreSQL cluster, of this client and of Keystone: on a busy machine
// ops/s swing between rounds, CPU per call less so (though contention inflates it too); from it, a CPU-bound
// ceiling for port create c=16.
//
// PostgreSQL: the server named by NEUTRINO_TEST_DB (postgresql://…, a role allowed to create databases);
// without it the bench runs itself under scripts/test-postgres.sh, which starts a private throw-away
// cluster (test settings: fsync and synchronous_commit off). Keystone: scripts/keystone.sh starts a private
// one on a free port for the run; the bench authenticates as its admin and sends that token. Without
// PostgreSQL's or Keystone's packages the runs that need them are skipped with a message.
//
// The runs go in the order of --backends (the default puts keystone right after its noauth twin).
// --rounds N runs the whole list N times, interleaved, and reports each figure's median (memory: the
// highest); Keystone's target is unclear when some rounds meet it and others do not. --log PREFIX keeps the
// servers' logs as PREFIX.<backend>[.r<round>].
// Prints each run as it goes, then the side-by-side table, Keystone's overhead, the issue's targets, and
// last one JSON object with every figure.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { answers, childEnv, freePort, keystoneMissing, run, ServerProcess } from '../test/fixtures/process.js';
import {
  apiPhases,
  BIN,
  Client,
  type CpuProbe,
  childPids,
  NOAUTH_HEADERS,
  type PhaseResult,
  printHeader,
  procRss,
  ROOT,
  sampleRss,
  setClockTicks,
  treeCpuMs,
} from './phases.js';

const USAGE = `usage: npx tsx bench/backends.ts [--backends sqlite,keystone,pg1,pg2] [--ports 1000] [--rounds 1]
                                [--keystone-on sqlite|pgN] [--log PREFIX]
  sqlite     SQLite, one process
  pgN        PostgreSQL, [DEFAULT] api_workers = N (pg1, pg2, …)
  keystone   auth_strategy = keystone on the --keystone-on backend (default sqlite), a real token`;

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
const FLAGS = ['--backends', '--ports', '--rounds', '--keystone-on', '--log'];

function usageError(message: string): never {
  console.error(`backends: ${message}\n${USAGE}`);
  process.exit(2);
}

if (argv.includes('--help') || argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
for (let i = 0; i < argv.length; i += 2) {
  if (!FLAGS.includes(argv[i])) usageError(`unexpected argument ${argv[i]}`);
  if (argv[i + 1] === undefined) usageError(`${argv[i]} wants a value`);
}
const flag = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const atLeast = (min: number, name: string, dflt: string): number => {
  const n = Number(flag(name, dflt));
  if (!Number.isInteger(n) || n < min) usageError(`${name} wants an integer of ${min} or more`);
  return n;
};
const NPORTS = atLeast(2, '--ports', '1000');
const ROUNDS = atLeast(1, '--rounds', '1');
const LOG = flag('--log', '');
const KEYSTONE_ON = flag('--keystone-on', 'sqlite');

interface Backend {
  name: string;
  /** The column heading. */
  label: string;
  db: 'sqlite' | 'postgresql';
  workers: number;
  auth: 'noauth' | 'keystone';
}

function noauthBackend(name: string): Backend | undefined {
  if (name === 'sqlite') return { name, label: 'sqlite', db: 'sqlite', workers: 1, auth: 'noauth' };
  const pgN = /^pg([1-9]\d*)$/.exec(name);
  if (!pgN) return undefined;
  const workers = Number(pgN[1]);
  return { name, label: `pg, ${workers} worker${workers > 1 ? 's' : ''}`, db: 'postgresql', workers, auth: 'noauth' };
}

function backendOf(name: string): Backend {
  const plain = noauthBackend(name);
  if (plain) return plain;
  if (name !== 'keystone') usageError(`unknown backend ${name}`);
  const on = noauthBackend(KEYSTONE_ON);
  if (!on) usageError(`--keystone-on ${KEYSTONE_ON}: not sqlite or pgN`);
  return { ...on, name, label: `keystone, ${on.label}`, auth: 'keystone' };
}

const names = [
  ...new Set(
    flag('--backends', 'sqlite,keystone,pg1,pg2')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ),
];
if (names.length === 0) usageError('--backends names no backend');
let backends = names.map(backendOf);
if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
  console.error('backends: dist/ is missing: run `npm ci` or `npm run build` first');
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Cleaning up, also on SIGINT / SIGTERM: what the bench started is stopped by PID, what it made is removed.

const cleanups = new Set<() => Promise<void>>();

/** Registers an undo step; returns the function that runs it (once) and unregisters it. */
function hold(undo: () => Promise<void> | void): () => Promise<void> {
  const step = async () => {
    if (!cleanups.delete(step)) return;
    await undo();
  };
  cleanups.add(step);
  return step;
}

async function cleanUpAll(): Promise<void> {
  for (const step of [...cleanups].reverse()) {
    try {
      await step();
    } catch (err) {
      console.error(`backends: cleaning up: ${(err as Error).message}`);
    }
  }
}

/** Set on SIGINT / SIGTERM: the clean-up under way, after which the bench exits 130. */
let interrupted: Promise<never> | null = null;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    console.error(`\nbackends: ${sig}: stopping what the bench started`);
    interrupted = cleanUpAll().then(() => process.exit(130));
  });
}

const skipped: Array<{ backend: string; reason: string }> = [];
function skip(which: (b: Backend) => boolean, reason: string): void {
  for (const b of backends.filter(which)) {
    skipped.push({ backend: b.name, reason });
    console.log(`backends: skipping ${b.name} (${b.label}): ${reason}`);
  }
  backends = backends.filter((b) => !which(b));
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: NEUTRINO_TEST_DB, or a private cluster from scripts/test-postgres.sh

const isPostgresUrl = (url: string | undefined) => !!url && /^postgres(ql)?(\+\w+)?:\/\//i.test(url);

/** As scripts/test-postgres.sh looks for the server binaries: $PG_BIN, else /usr/lib/postgresql/<version>/bin. */
function postgresInstalled(): boolean {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb'));
  if (!existsSync('/usr/lib/postgresql')) return false;
  return readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
}

/** Runs this same bench (same Node flags, same arguments) under scripts/test-postgres.sh; exits with its status. */
async function rerunUnderPrivatePostgres(): Promise<never> {
  const child = spawn('bash', [TEST_POSTGRES, process.execPath, ...process.execArgv, process.argv[1], ...argv], {
    // Its own process group, so that a signal reaches the script, the bench and their servers alike.
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NEUTRINO_BENCH_UNDER_TEST_POSTGRES: '1' },
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(sig);
    process.on(sig, () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, sig);
    });
  }
  const code = await new Promise<number>((ok) => child.once('exit', (c, s) => ok(c ?? (s ? 130 : 1))));
  process.exit(code);
}

const TEST_POSTGRES = join(ROOT, 'scripts/test-postgres.sh');
const pgServer = process.env.NEUTRINO_TEST_DB;
if (backends.some((b) => b.db === 'postgresql') && !isPostgresUrl(pgServer)) {
  if (process.env.NEUTRINO_BENCH_UNDER_TEST_POSTGRES) {
    console.error('backends: scripts/test-postgres.sh did not set NEUTRINO_TEST_DB');
    process.exit(1);
  }
  if (postgresInstalled()) await rerunUnderPrivatePostgres();
  skip((b) => b.db === 'postgresql', 'PostgreSQL is not installed (apt-get install postgresql) and NEUTRINO_TEST_DB is not set');
}

/** One statement on the PostgreSQL server's maintenance database. */
async function pgAdmin(statement: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: pgServer });
  await client.connect();
  try {
    return await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The private cluster's postmaster (its backends are its children), for CPU time; unset on a server of NEUTRINO_TEST_DB's own. */
let postmaster: number | undefined;
async function findPostmaster(): Promise<void> {
  if (!process.env.NEUTRINO_BENCH_UNDER_TEST_POSTGRES) return;
  const dataDir = String((await pgAdmin('show data_directory')).rows[0].data_directory);
  postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** A fresh database for one run, dropped by the returned release. */
async function freshDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `neutrino_bench_${label}_${randomBytes(4).toString('hex')}`;
  await pgAdmin(`create database ${name}`);
  const url = new URL((pgServer as string).replace(/^postgres(ql)?(\+\w+)?:/i, 'postgresql:'));
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: hold(() => pgAdmin(`drop database if exists ${name} with (force)`).then(() => {})) };
}

// ---------------------------------------------------------------------------------------------
// Keystone: a private one from scripts/keystone.sh, and an admin token from it

const KEYSTONE_SH = join(ROOT, 'scripts/keystone.sh');
/** This bench's passwords for the private Keystone's users (see scripts/keystone.sh's header). */
const KEYSTONE_PASSWORDS = { admin: 'bench-admin-pw', service: 'bench-neutron-pw', user: 'bench-user-pw' };
const keystoneEnv = () =>
  childEnv({
    KEYSTONE_ADMIN_PASSWORD: KEYSTONE_PASSWORDS.admin,
    KEYSTONE_SERVICE_PASSWORD: KEYSTONE_PASSWORDS.service,
    KEYSTONE_USER_PASSWORD: KEYSTONE_PASSWORDS.user,
  });

interface Keystone {
  url: string;
  token: string;
  /** Where scripts/keystone.sh keeps its state (uwsgi.pid among it). */
  dir: string;
}

/** The Keystone's uwsgi master (its workers are its children). */
function keystoneMaster(k: Keystone): number {
  return Number(readFileSync(join(k.dir, 'uwsgi.pid'), 'utf8').trim());
}

async function startKeystone(): Promise<Keystone> {
  const dir = mkdtempSync(join(tmpdir(), 'neutrino-bench-keystone-'));
  const port = await freePort();
  const stop = hold(async () => {
    const r = await run('bash', [KEYSTONE_SH, 'stop', dir], { env: keystoneEnv(), timeoutMs: 60_000 });
    if (r.code !== 0) console.error(`backends: scripts/keystone.sh stop ${dir} → ${r.code ?? r.signal}: ${r.stderr}`);
    rmSync(dir, { recursive: true, force: true });
  });
  const t0 = performance.now();
  console.log(`starting a private Keystone on 127.0.0.1:${port} (scripts/keystone.sh) …`);
  const r = await run('bash', [KEYSTONE_SH, 'start', dir, String(port)], { env: keystoneEnv(), timeoutMs: 300_000 });
  if (r.code !== 0) {
    await stop();
    throw new Error(`scripts/keystone.sh start → ${r.code ?? r.signal}\n${r.stdout}${r.stderr}`);
  }
  const url = `http://127.0.0.1:${port}/v3`;
  // The admin of project admin, as `openstack` would authenticate with admin-openrc.
  const res = await fetch(`${url}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: KEYSTONE_PASSWORDS.admin } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  const token = res.headers.get('x-subject-token');
  const text = await res.text();
  if (res.status !== 201 || !token) {
    await stop();
    throw new Error(`Keystone refused the admin's password: ${res.status} ${text.slice(0, 300)}`);
  }
  console.log(`Keystone up in ${((performance.now() - t0) / 1000).toFixed(1)} s; admin token obtained`);
  return { url, token, dir };
}

// ---------------------------------------------------------------------------------------------
// One run: a fresh server on a fresh database, the phases, its processes' memory

interface ProcMemory {
  /** 'server' (api_workers = 1: the one process serves the API), or 'primary' / 'worker N'. */
  role: string;
  pid: number;
  start_mb: number;
  peak_mb: number;
  after_mb: number;
}

interface RunResult {
  phases: PhaseResult[];
  processes: ProcMemory[];
  /** The first API call (with Keystone: the token's validation, uncached). */
  first_request_ms: number;
  /** With Keystone: the CPU seconds Keystone used during the phases. */
  keystone_cpu_s?: number;
}

function configFile(b: Backend, dir: string, port: number, connection: string, keystone?: Keystone): string {
  const lines = [
    '[DEFAULT]',
    'bind_host = 127.0.0.1',
    `bind_port = ${port}`,
    `state_path = ${dir}`,
    `api_workers = ${b.workers}`,
    `auth_strategy = ${b.auth}`,
    '[database]',
    `connection = ${connection}`,
    // As the reference Neutron of these figures runs: no quotas in the way of thousands of ports.
    '[quotas]',
    'quota_network = -1',
    'quota_subnet = -1',
    'quota_port = -1',
  ];
  if (keystone) {
    // token_cache_time: the default (300 s), longer than a run.
    lines.push(
      '[keystone_authtoken]',
      `auth_url = ${keystone.url}`,
      'username = neutron',
      `password = ${KEYSTONE_PASSWORDS.service}`,
      'project_name = service',
      'user_domain_name = Default',
      'project_domain_name = Default',
    );
  }
  const file = join(dir, 'neutrino.conf');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function runBackend(b: Backend, round: number, keystone?: Keystone): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), `neutrino-bench-${b.name}-`));
  const removeDir = hold(() => rmSync(dir, { recursive: true, force: true }));
  try {
    let connection = `sqlite:///${dir}/neutrino.sqlite`;
    let dropDb = async () => {};
    if (b.db === 'postgresql') {
      const fresh = await freshDatabase(b.name);
      connection = fresh.url;
      dropDb = fresh.drop;
    }
    try {
      const port = await freePort();
      const conf = configFile(b, dir, port, connection, keystone);
      const upgrade = await run(BIN, ['db', 'upgrade', '--config-file', conf], { timeoutMs: 120_000 });
      if (upgrade.code !== 0) throw new Error(`neutrino db upgrade → ${upgrade.code ?? upgrade.signal}\n${upgrade.stderr}`);

      const logFile = LOG ? `${LOG}.${b.name}${ROUNDS > 1 ? `.r${round}` : ''}` : join(dir, 'server.log');
      const out = openSync(logFile, 'w');
      const serverLog = () => readFileSync(logFile, 'utf8');
      let server: ServerProcess;
      try {
        server = await ServerProcess.start([BIN, 'server', '--config-file', conf], {
          url: `http://127.0.0.1:${port}`,
          stdout: out,
          stderr: out,
          deadlineMs: 60_000,
          // With workers: all of them listening, as the primary announces.
          ready: async (s) => (await answers(s.url)) && (b.workers === 1 || /API workers listening/.test(serverLog())),
          exitedMessage: () => `neutrino server (${b.label}) exited at start:\n${serverLog()}`,
          timeoutMessage: () => `neutrino server (${b.label}) did not answer within 60 s:\n${serverLog()}`,
        });
      } finally {
        closeSync(out);
      }
      const stopServer = hold(() => server.stop());
      try {
        return await measure(b, server, keystone);
      } finally {
        await stopServer();
      }
    } finally {
      await dropDb();
    }
  } finally {
    await removeDir();
  }
}

async function measure(b: Backend, server: ServerProcess, keystone?: Keystone): Promise<RunResult> {
  const primary = server.pid as number;
  const api = new Client(
    server.url,
    keystone ? { 'Content-Type': 'application/json', 'X-Auth-Token': keystone.token } : NOAUTH_HEADERS,
  );
  // One call alone (with Keystone the token's first validation), then a few at once so that every worker
  // has answered (and validated the token) once before the phases.
  const first = await api.call('GET', '/v2.0/networks?limit=1');
  await Promise.all(Array.from({ length: 2 * b.workers }, () => api.call('GET', '/v2.0/networks?limit=1')));

  const pids = () => (b.workers > 1 ? [primary, ...childPids(primary)] : [primary]);
  const atStart = new Map(pids().map((pid) => [pid, procRss(pid)]));
  const sampler = sampleRss(pids);
  // CPU time per phase: the server's processes, the database's (the private PostgreSQL cluster, all of it),
  // this bench (the HTTP client), Keystone. Steadier than ops/s under other load, yet inflated by it too.
  const cpuNow = (): Record<string, number> => {
    const now: Record<string, number> = { server: treeCpuMs(primary) };
    if (b.db === 'postgresql' && postmaster) now.db = treeCpuMs(postmaster);
    const client = process.cpuUsage();
    now.client = (client.user + client.system) / 1000;
    if (keystone) now.keystone = treeCpuMs(keystoneMaster(keystone));
    return now;
  };
  const probe: CpuProbe = () => {
    const t0 = cpuNow();
    return () => Object.fromEntries(Object.entries(cpuNow()).map(([k, ms]) => [k, ms - (t0[k] ?? 0)]));
  };
  let phases: PhaseResult[];
  let sampled = new Map<number, number>();
  const atEnd = new Map<number, { rss_mb: number; peak_mb: number }>();
  try {
    phases = await apiPhases(api, NPORTS, probe);
  } finally {
    sampled = sampler.stop();
    for (const pid of pids()) atEnd.set(pid, procRss(pid));
    // A worker that was replaced during the run: what the samples saw of it.
    for (const [pid, rss] of sampled) if (!atEnd.has(pid)) atEnd.set(pid, { rss_mb: rss, peak_mb: rss });
  }
  let worker = 0;
  const processes = [...atEnd].map(
    ([pid, end]): ProcMemory => ({
      role: b.workers === 1 ? 'server' : pid === primary ? 'primary' : `worker ${++worker}`,
      pid,
      start_mb: atStart.get(pid)?.rss_mb ?? Number.NaN,
      peak_mb: Math.max(end.peak_mb, sampled.get(pid) ?? 0),
      after_mb: end.rss_mb,
    }),
  );
  console.log(
    `memory (MiB, VmRSS at start / peak / after): ${processes
      .map((p) => `${p.role} [${p.pid}] ${p.start_mb} / ${p.peak_mb} / ${p.after_mb}`)
      .join('; ')}`,
  );
  const result: RunResult = { phases, processes, first_request_ms: +first.ms.toFixed(2) };
  if (keystone) {
    result.keystone_cpu_s = +(phases.reduce((t, p) => t + (p.cpu_ms_per_op?.keystone ?? 0) * p.n, 0) / 1000).toFixed(2);
    console.log(`Keystone's CPU time during the phases: ${result.keystone_cpu_s} s`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Summaries and the side-by-side table

interface Summary {
  backend: Backend;
  /** Per phase, the median of the rounds for each figure. */
  phases: PhaseResult[];
  /** Per role, the highest of the rounds. */
  processes: Array<Omit<ProcMemory, 'pid'>>;
  first_request_ms: number;
  /** Seconds the phases took (sum of n / ops/s). */
  total_s: number;
  /** The same, round by round. */
  round_total_s: number[];
  /** CPU milliseconds of the server's processes over all phases (from the medians per call). */
  server_cpu_ms: number;
  rounds: RunResult[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : +((s[m - 1] + s[m]) / 2).toFixed(2);
}

function summarize(b: Backend, rounds: RunResult[]): Summary {
  const phases = rounds[0].phases.map((p, i): PhaseResult => {
    const cpuKeys = Object.keys(p.cpu_ms_per_op ?? {});
    return {
      ...p,
      ops_s: median(rounds.map((r) => r.phases[i].ops_s)),
      p50_ms: median(rounds.map((r) => r.phases[i].p50_ms)),
      p99_ms: median(rounds.map((r) => r.phases[i].p99_ms)),
      cpu_ms_per_op: Object.fromEntries(
        cpuKeys.map((k) => [k, +median(rounds.map((r) => r.phases[i].cpu_ms_per_op?.[k] ?? 0)).toFixed(3)]),
      ),
    };
  });
  const roles = [...new Set(rounds.flatMap((r) => r.processes.map((p) => p.role)))];
  const processes = roles.map((role) => {
    const of = rounds.flatMap((r) => r.processes.filter((p) => p.role === role));
    const max = (k: 'start_mb' | 'peak_mb' | 'after_mb') => Math.max(...of.map((p) => p[k]));
    return { role, start_mb: max('start_mb'), peak_mb: max('peak_mb'), after_mb: max('after_mb') };
  });
  const totalS = (ps: PhaseResult[]) => +ps.reduce((s, p) => s + p.n / p.ops_s, 0).toFixed(2);
  return {
    backend: b,
    phases,
    processes,
    first_request_ms: median(rounds.map((r) => r.first_request_ms)),
    total_s: totalS(phases),
    round_total_s: rounds.map((r) => totalS(r.phases)),
    server_cpu_ms: +phases.reduce((t, p) => t + (p.cpu_ms_per_op?.server ?? 0) * p.n, 0).toFixed(0),
    rounds,
  };
}

const ops = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
/** How much longer a call takes with `slow` ops/s than with `fast`, in %. */
const slowerPct = (fast: number, slow: number) => +((fast / slow - 1) * 100).toFixed(1);

function printTable(sums: Summary[]): void {
  const first = 30;
  const width = Math.max(24, ...sums.map((s) => s.backend.label.length + 2));
  const line = (label: string, cells: string[]) => console.log(label.padEnd(first) + cells.map((c) => c.padEnd(width)).join(''));
  console.log(
    `\nside by side: ${NPORTS} ports${ROUNDS > 1 ? `, median of ${ROUNDS} rounds (memory: highest)` : ''}; each cell: ops/s  p50/p99 ms`,
  );
  line(
    'phase',
    sums.map((s) => s.backend.label),
  );
  sums[0].phases.forEach((p, i) => {
    line(
      `${p.name}${/c=\d/.test(p.name) ? '' : ` c=${p.conc}`}`,
      sums.map((s) => {
        const r = s.phases[i];
        return `${ops(r.ops_s).padStart(6)}  ${r.p50_ms.toFixed(2)}/${r.p99_ms.toFixed(2)}`;
      }),
    );
  });
  line(
    'all phases (s)',
    sums.map((s) => `${s.total_s.toFixed(2)}`.padStart(6)),
  );
  if (ROUNDS > 1) {
    line(
      '  round by round (s)',
      sums.map((s) => s.round_total_s.join(' ')),
    );
  }
  line(
    'first request (ms)',
    sums.map((s) => `${s.first_request_ms.toFixed(1)}`.padStart(6)),
  );
  console.log(
    `\nCPU ms per call: server (all its processes) / database (${postmaster ? 'the PostgreSQL cluster' : 'not measured'}) / this client` +
      `${sums.some((s) => s.backend.auth === 'keystone') ? ' (/ Keystone)' : ''}`,
  );
  sums[0].phases.forEach((p, i) => {
    line(
      p.name,
      sums.map((s) => {
        const c = s.phases[i].cpu_ms_per_op ?? {};
        const f = (k: string) => (c[k] === undefined ? '-' : c[k].toFixed(2));
        return `${f('server')} / ${f('db')} / ${f('client')}${c.keystone ? ` / ${f('keystone')}` : ''}`;
      }),
    );
  });
  line(
    'server CPU, all phases (s)',
    sums.map((s) => (s.server_cpu_ms / 1000).toFixed(2)),
  );
  line(
    'port create c=16 ceiling (/s)',
    sums.map((s) => {
      const c = ceiling(s);
      return c ? `${ops(c.ops_s)} (${c.bound})` : '-';
    }),
  );
  console.log(
    `  ceiling: what the CPU per call allows on an idle machine with ${CPUS} CPUs (this client included; ` +
      'each API process uses one CPU at most): an estimate, not a measurement; other load inflates CPU per call',
  );

  console.log('\nmemory, MiB: VmRSS at start / peak (VmHWM, 50 ms samples) / after the run');
  const maxWorkers = Math.max(...sums.map((s) => s.backend.workers));
  const mem = (s: Summary, role: string) => {
    const p = s.processes.find((x) => x.role === role);
    return p ? `${p.start_mb} / ${p.peak_mb} / ${p.after_mb}` : '-';
  };
  line(
    'API process 1',
    sums.map((s) => mem(s, s.backend.workers === 1 ? 'server' : 'worker 1')),
  );
  for (let k = 2; k <= maxWorkers; k++) {
    line(
      `API process ${k}`,
      sums.map((s) => mem(s, `worker ${k}`)),
    );
  }
  if (maxWorkers > 1) {
    line(
      'cluster primary (no requests)',
      sums.map((s) => mem(s, 'primary')),
    );
  }
  line(
    'all processes, peak sum',
    sums.map((s) => `${+s.processes.reduce((t, p) => t + p.peak_mb, 0).toFixed(1)}`),
  );
}

const CPUS = availableParallelism();

/** port create c=16: the throughput its CPU per call allows on an idle machine, and what binds first. */
function ceiling(s: Summary): { ops_s: number; bound: string } | undefined {
  const c = s.phases.find((p) => p.name === 'port create c=16')?.cpu_ms_per_op;
  if (!c?.server) return undefined;
  const all = Object.values(c).reduce((t, v) => t + v, 0);
  const byServer = (s.backend.workers * 1000) / c.server;
  const byMachine = (CPUS * 1000) / all;
  return byServer < byMachine
    ? { ops_s: +byServer.toFixed(0), bound: `${s.backend.workers} API process${s.backend.workers > 1 ? 'es' : ''}` }
    : { ops_s: +byMachine.toFixed(0), bound: `${CPUS} CPUs` };
}

interface Overhead {
  keystone: string;
  noauth: string;
  phases: Array<{ name: string; noauth_ops_s: number; keystone_ops_s: number; slower_pct: number }>;
  total_slower_pct: number;
  /** Round by round, each keystone run against the noauth run of the same round. */
  round_slower_pct: number[];
  /** The server's CPU time over all phases, keystone against noauth: steadier than wall time under other load. */
  server_cpu_more_pct: number;
  noauth_total_s: number;
  keystone_total_s: number;
  first_request_ms: { noauth: number; keystone: number };
  /** CPU seconds Keystone used during the phases (highest of the rounds). */
  keystone_cpu_s: number;
}

function keystoneOverhead(sums: Summary[]): Overhead | undefined {
  const ks = sums.find((s) => s.backend.auth === 'keystone');
  if (!ks) return undefined;
  const base = sums.find((s) => s.backend.auth === 'noauth' && s.backend.name === KEYSTONE_ON);
  if (!base) {
    console.log(`\nkeystone: no overhead figure without a noauth run on ${KEYSTONE_ON} (add it to --backends)`);
    return undefined;
  }
  const o: Overhead = {
    keystone: ks.backend.name,
    noauth: base.backend.name,
    phases: base.phases.map((p, i) => ({
      name: p.name,
      noauth_ops_s: p.ops_s,
      keystone_ops_s: ks.phases[i].ops_s,
      slower_pct: slowerPct(p.ops_s, ks.phases[i].ops_s),
    })),
    total_slower_pct: +((ks.total_s / base.total_s - 1) * 100).toFixed(1),
    round_slower_pct: ks.round_total_s.map((t, i) => +((t / base.round_total_s[i] - 1) * 100).toFixed(1)),
    server_cpu_more_pct: +((ks.server_cpu_ms / base.server_cpu_ms - 1) * 100).toFixed(1),
    noauth_total_s: base.total_s,
    keystone_total_s: ks.total_s,
    first_request_ms: { noauth: base.first_request_ms, keystone: ks.first_request_ms },
    keystone_cpu_s: Math.max(...ks.rounds.map((r) => r.keystone_cpu_s ?? 0)),
  };
  console.log(`\nkeystone overhead: ${ks.backend.label} against ${base.backend.label} (noauth); + = slower`);
  console.log(`${'phase'.padEnd(30)}${'noauth ops/s'.padStart(14)}${'keystone ops/s'.padStart(16)}${'slower by'.padStart(12)}`);
  for (const p of o.phases) {
    console.log(
      `${p.name.padEnd(30)}${ops(p.noauth_ops_s).padStart(14)}${ops(p.keystone_ops_s).padStart(16)}${pct(p.slower_pct).padStart(12)}`,
    );
  }
  console.log(
    `${'all phases (time)'.padEnd(30)}${`${o.noauth_total_s} s`.padStart(14)}${`${o.keystone_total_s} s`.padStart(16)}${pct(o.total_slower_pct).padStart(12)}` +
      (ROUNDS > 1 ? `   round by round: ${o.round_slower_pct.map(pct).join(', ')}` : ''),
  );
  console.log(
    `${'server CPU, all phases'.padEnd(30)}${`${(base.server_cpu_ms / 1000).toFixed(2)} s`.padStart(14)}` +
      `${`${(ks.server_cpu_ms / 1000).toFixed(2)} s`.padStart(16)}${pct(o.server_cpu_more_pct).padStart(12)}`,
  );
  console.log(
    `first request: ${o.first_request_ms.keystone} ms with Keystone (the token's validation, then cached for token_cache_time), ` +
      `${o.first_request_ms.noauth} ms noauth; Keystone's CPU time during the phases: ${o.keystone_cpu_s} s`,
  );
  return o;
}

interface Target {
  target: string;
  value: string;
  /** 'unclear': some rounds meet it, others do not. */
  verdict: 'met' | 'NOT met' | 'unclear';
}

function targets(sums: Summary[], overhead?: Overhead): Target[] {
  const out: Target[] = [];
  const pg2 = sums.find((s) => s.backend.name === 'pg2');
  if (pg2) {
    const c16 = pg2.phases.find((p) => p.name === 'port create c=16')!;
    const c = ceiling(pg2);
    out.push({
      target: 'port create c=16 on PostgreSQL, 2 workers: above 1,000/s',
      value: `${ops(c16.ops_s)}/s measured${c ? `; CPU-bound ceiling on an idle machine ${ops(c.ops_s)}/s (estimate)` : ''}`,
      verdict: c16.ops_s > 1000 ? 'met' : 'NOT met',
    });
  }
  const serving = sums.flatMap((s) =>
    s.processes.filter((p) => p.role !== 'primary').map((p) => ({ where: `${s.backend.name} ${p.role}`, mb: p.peak_mb })),
  );
  const top = serving.reduce((a, b) => (b.mb > a.mb ? b : a));
  out.push({
    target: 'RSS per API process (peak): under 80 MB',
    value: `${top.mb} MiB (${((top.mb * 1048576) / 1e6).toFixed(1)} MB), the highest: ${top.where}`,
    verdict: top.mb < 80 ? 'met' : 'NOT met',
  });
  if (overhead) {
    // Wall time on a busy machine swings by more than 5% between rounds: rounds on either side of the line
    // decide nothing.
    const below = overhead.round_slower_pct.filter((x) => x < 5).length;
    out.push({
      target: 'keystone auth (token validation cached): under 5% slower than noauth',
      value:
        `${pct(overhead.total_slower_pct)} over all phases` +
        (ROUNDS > 1 ? ` (round by round ${overhead.round_slower_pct.map(pct).join(', ')})` : '') +
        `; server CPU ${pct(overhead.server_cpu_more_pct)}`,
      verdict: below === overhead.round_slower_pct.length ? 'met' : below === 0 ? 'NOT met' : 'unclear',
    });
  }
  console.log('\ntargets (issue 3)');
  for (const t of out) console.log(`  ${t.verdict.padEnd(7)}  ${t.target}: ${t.value}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The run

setClockTicks(Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
// dist/ is built from the work tree: say so when src/ differs from the commit.
const head = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })).stdout.trim();
const srcDirty = (await run('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT })).stdout.trim() !== '';
const commit = head ? `${head}${srcDirty ? '+uncommitted src/' : ''}` : null;
const results = new Map<string, RunResult[]>(backends.map((b) => [b.name, []]));
let postgres: { version: string; fsync: string; synchronous_commit: string } | null = null;
let summaries: Summary[] = [];
const loadAtStart = loadavg();
try {
  if (backends.some((b) => b.auth === 'keystone')) {
    const missing = keystoneMissing();
    if (missing.length)
      skip((b) => b.auth === 'keystone', `not installed: ${missing.join(', ')} (apt-get install ${missing.join(' ')})`);
  }
  const keystone = backends.some((b) => b.auth === 'keystone') ? await startKeystone() : undefined;
  if (backends.some((b) => b.db === 'postgresql')) {
    const show = async (name: string) => String((await pgAdmin(`show ${name}`)).rows[0][name]);
    postgres = {
      version: await show('server_version'),
      fsync: await show('fsync'),
      synchronous_commit: await show('synchronous_commit'),
    };
    await findPostmaster();
  }
  if (backends.length === 0) throw new Error('no backend left to run');
  console.log(
    `\nAPI phases, ${NPORTS} ports, on ${backends.map((b) => b.name).join(', ')}${ROUNDS > 1 ? `, ${ROUNDS} rounds` : ''}; ` +
      `node ${process.version}, commit ${commit}, load average ${loadAtStart}`,
  );
  if (postgres) {
    console.log(
      `PostgreSQL ${postgres.version} (fsync ${postgres.fsync}, synchronous_commit ${postgres.synchronous_commit}), ` +
        `SQLite: WAL, synchronous NORMAL`,
    );
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const b of backends) {
      printHeader(`${b.label} (${b.name})${ROUNDS > 1 ? `, round ${round}/${ROUNDS}` : ''}: ${NPORTS} ports`);
      results.get(b.name)!.push(await runBackend(b, round, b.auth === 'keystone' ? keystone : undefined));
    }
  }
  summaries = backends.map((b) => summarize(b, results.get(b.name)!));
} finally {
  // Interrupted, the run fails as its servers go: let the clean-up finish, and exit 130 then.
  if (interrupted) await interrupted;
  await cleanUpAll();
}

printTable(summaries);
const overhead = keystoneOverhead(summaries);
const met = targets(summaries, overhead);
console.log(`\nload average at start ${loadAtStart}, at the end ${loadavg()} (2 figures above 1 per CPU mean a busy machine)`);
for (const s of skipped) console.log(`skipped ${s.backend}: ${s.reason}`);
console.log(
  JSON.stringify({
    bench: 'backends',
    node: process.version,
    commit,
    ports: NPORTS,
    rounds: ROUNDS,
    postgresql: postgres,
    keystone_on: KEYSTONE_ON,
    cpus: CPUS,
    load_average: { start: loadAtStart, end: loadavg() },
    backends: Object.fromEntries(
      summaries.map((s) => [
        s.backend.name,
        {
          db: s.backend.db,
          api_workers: s.backend.workers,
          auth: s.backend.auth,
          phases: s.phases,
          total_s: s.total_s,
          server_cpu_ms: s.server_cpu_ms,
          port_create_c16_ceiling: ceiling(s) ?? null,
          first_request_ms: s.first_request_ms,
          processes: s.processes,
          ...(ROUNDS > 1 ? { rounds: s.rounds } : {}),
        },
      ]),
    ),
    keystone_overhead: overhead ?? null,
    targets: met,
    skipped,
  }),
);
