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
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { answers, childEnv, freePort, keystoneMissing, run, ServerProcess } from '../test/fixtures/process.js';
import {
  type Backend,
  CPUS,
  ceiling,
  keystoneOverhead,
  type ProcMemory,
  printTable,
  type ReportSettings,
  type RunResult,
  type Summary,
  summarize,
  targets,
} from './backends-report.js';
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

const REPORT: ReportSettings = { ports: NPORTS, rounds: ROUNDS, keystoneOn: KEYSTONE_ON, databaseCpu: !!postmaster };
printTable(summaries, REPORT);
const overhead = keystoneOverhead(summaries, REPORT);
const met = targets(summaries, REPORT, overhead);
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
