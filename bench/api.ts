// API benchmark: starts the built `neutrino all-in-one` (node bin/neutrino.js) on a free port with a
// temporary SQLite file and measures it over HTTP. Figures, not pass/fail.
//
//   npx tsx bench/api.ts [--ports N] [--table-ports N] [--log FILE]   (--log keeps the servers' logs as FILE.phases, FILE.table)
//
// Run 1 — the phases of the shared Neutron API benchmark (network create; N ports at concurrency 1
// and 16 on a /16 subnet; list all; list by device_id; update; delete), then the server's RSS.
// Run 2 — a fresh server with --table-ports ports (default 10,000: 10 networks × 1,000) in the table:
// filtered lists (device_id; network_id + device_id), one page of 1,000, a full list of one network.
// The last line printed is one JSON object with every figure.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, ServerProcess } from '../test/fixtures/process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin/neutrino.js');

const argv = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const NPORTS = Number(flag('--ports', '1000'));
const TABLE_PORTS = Number(flag('--table-ports', '10000'));
const LOG = flag('--log', '');
const PER_NETWORK = 1000;

const PROJECT = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
const HEADERS = { 'Content-Type': 'application/json', 'X-Project-Id': PROJECT, 'X-Roles': 'admin,member,reader' };

// ---------------------------------------------------------------------------------------------
// The server under test

interface Rss {
  rss_mb: number;
  peak_mb: number;
}

class Server {
  private constructor(
    private readonly proc: ServerProcess,
    private readonly dir: string,
    readonly logFile: string,
  ) {}

  get url(): string {
    return this.proc.url;
  }

  static async start(label: string): Promise<Server> {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm ci` or `npm run build` first');
    const dir = mkdtempSync(join(tmpdir(), `neutrino-bench-${label}-`));
    const logFile = LOG ? `${LOG}.${label}` : join(dir, 'server.log');
    const port = await freePort();
    const out = openSync(logFile, 'w');
    // As the reference Neutron of these figures runs: no quotas in the way of thousands of ports.
    const conf = join(dir, 'bench.conf');
    writeFileSync(conf, '[quotas]\nquota_network = -1\nquota_subnet = -1\nquota_port = -1\n');
    try {
      const server = await ServerProcess.start(
        [
          // Run as an installed `neutrino` runs: through the bin's shebang and its Node flags.
          BIN,
          'all-in-one',
          '--config-file',
          conf,
          '--bind-host',
          '127.0.0.1',
          '--bind-port',
          String(port),
          '--state-path',
          dir,
        ],
        {
          url: `http://127.0.0.1:${port}`,
          env: process.env,
          stdout: out,
          stderr: out,
          exitedMessage: () => `server exited at start:\n${readFileSync(logFile, 'utf8')}`,
          timeoutMessage: () => `server did not answer within 30 s:\n${readFileSync(logFile, 'utf8')}`,
        },
      );
      return new Server(server, dir, logFile);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    } finally {
      closeSync(out);
    }
  }

  /** VmRSS now and VmHWM (the kernel's peak resident set) of the server process, in MiB. */
  rss(): Rss {
    const status = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss_mb: +(kb('VmRSS') / 1024).toFixed(1), peak_mb: +(kb('VmHWM') / 1024).toFixed(1) };
  }

  async stop(): Promise<void> {
    await this.proc.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Call {
  ms: number;
  // biome-ignore lint/suspicious/noExplicitAny: API bodies are read loosely
  json: any;
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<Call> {
  const t0 = performance.now();
  const r = await fetch(base + path, { method, headers: HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  const ms = performance.now() - t0;
  if (r.status >= 400) throw new Error(`${method} ${path} → ${r.status} ${text.slice(0, 300)}`);
  return { ms, json: text ? JSON.parse(text) : undefined };
}

interface PhaseResult {
  name: string;
  n: number;
  conc: number;
  ops_s: number;
  p50_ms: number;
  p99_ms: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Runs fn(0..n-1) on `conc` workers; latency per call, throughput over the phase. */
async function phase(name: string, n: number, conc: number, fn: (i: number) => Promise<Call>): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) {
        const i = next++;
        latencies.push((await fn(i)).ms);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const result = {
    name,
    n,
    conc,
    ops_s: +(n / secs).toFixed(1),
    p50_ms: +percentile(latencies, 50).toFixed(2),
    p99_ms: +percentile(latencies, 99).toFixed(2),
  };
  printRow(result);
  return result;
}

function printHeader(title: string): void {
  console.log(`\n${title}`);
  console.log(
    `${'phase'.padEnd(40)}${'n'.padStart(7)}${'conc'.padStart(6)}${'ops/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`,
  );
}

function printRow(r: PhaseResult): void {
  console.log(
    `${r.name.padEnd(40)}${String(r.n).padStart(7)}${String(r.conc).padStart(6)}${String(r.ops_s).padStart(10)}${String(r.p50_ms).padStart(10)}${String(r.p99_ms).padStart(10)}`,
  );
}

/** Samples the server's RSS every 50 ms while a run goes on (VmHWM gives the true peak anyway). */
function sampleRss(server: Server): { stop(): number } {
  let max = 0;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, server.rss().rss_mb);
    } catch {
      // process gone
    }
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return max;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Run 1: the shared benchmark's phases

async function runPhases() {
  const server = await Server.start('phases');
  const base = server.url;
  const atStart = server.rss();
  const sampler = sampleRss(server);
  const results: PhaseResult[] = [];
  let rss = { start_mb: atStart.rss_mb, peak_mb: atStart.peak_mb, after_mb: atStart.rss_mb };
  try {
    printHeader(`run 1: API phases, ${NPORTS} ports (${base})`);
    const nets: string[] = [];
    results.push(
      await phase('network create', 200, 1, async (i) => {
        const r = await call(base, 'POST', '/v2.0/networks', { network: { name: `bench-n${i}`, tenant_id: PROJECT } });
        nets.push(r.json.network.id);
        return r;
      }),
    );
    const net = (await call(base, 'POST', '/v2.0/networks', { network: { name: 'bench-ports', tenant_id: PROJECT } })).json
      .network.id;
    await call(base, 'POST', '/v2.0/subnets', {
      subnet: { network_id: net, cidr: '10.128.0.0/16', ip_version: 4, enable_dhcp: false, tenant_id: PROJECT },
    });
    const ports: string[] = [];
    const half = Math.floor(NPORTS / 2);
    results.push(
      await phase('port create c=1', half, 1, async (i) => {
        const r = await call(base, 'POST', '/v2.0/ports', {
          port: { network_id: net, name: `p${i}`, device_id: `dev-${i}`, tenant_id: PROJECT },
        });
        ports.push(r.json.port.id);
        return r;
      }),
    );
    results.push(
      await phase('port create c=16', NPORTS - half, 16, async (i) => {
        const r = await call(base, 'POST', '/v2.0/ports', {
          port: { network_id: net, name: `q${i}`, device_id: `dev-q${i}`, tenant_id: PROJECT },
        });
        ports.push(r.json.port.id);
        return r;
      }),
    );
    results.push(
      await phase(`port list all (${NPORTS})`, 20, 1, async () => {
        const r = await call(base, 'GET', `/v2.0/ports?network_id=${net}`);
        if (r.json.ports.length !== NPORTS) throw new Error(`listed ${r.json.ports.length} ports, expected ${NPORTS}`);
        return r;
      }),
    );
    results.push(
      await phase('port list by device_id', 50, 1, async (i) => {
        const r = await call(base, 'GET', `/v2.0/ports?device_id=dev-${i}`);
        if (r.json.ports.length !== 1) throw new Error(`device_id=dev-${i}: ${r.json.ports.length} ports`);
        return r;
      }),
    );
    results.push(
      await phase('port update c=1', Math.min(200, ports.length), 1, (i) =>
        call(base, 'PUT', `/v2.0/ports/${ports[i]}`, { port: { name: `upd-${i}` } }),
      ),
    );
    results.push(await phase('port delete c=16', ports.length, 16, (i) => call(base, 'DELETE', `/v2.0/ports/${ports[i]}`)));
    results.push(await phase('network delete c=1', nets.length, 1, (i) => call(base, 'DELETE', `/v2.0/networks/${nets[i]}`)));
    await call(base, 'DELETE', `/v2.0/networks/${net}`);
  } finally {
    const sampled = sampler.stop();
    const after = server.rss();
    await server.stop();
    rss = { start_mb: atStart.rss_mb, peak_mb: Math.max(after.peak_mb, sampled), after_mb: after.rss_mb };
  }
  console.log(`server RSS: at start ${rss.start_mb} MiB, peak ${rss.peak_mb} MiB, after the run ${rss.after_mb} MiB`);
  return { results, rss };
}

// ---------------------------------------------------------------------------------------------
// Run 2: lists with a big port table

async function runBigTable() {
  const server = await Server.start('table');
  const base = server.url;
  const results: PhaseResult[] = [];
  const nNets = Math.max(1, Math.ceil(TABLE_PORTS / PER_NETWORK));
  let rss: Rss;
  try {
    console.log(`\nrun 2: lists with ${TABLE_PORTS} ports in the table (${nNets} networks × ≤${PER_NETWORK}) (${base})`);
    const nets: string[] = [];
    for (let k = 0; k < nNets; k++) {
      const net = (await call(base, 'POST', '/v2.0/networks', { network: { name: `table-n${k}`, tenant_id: PROJECT } })).json
        .network.id;
      await call(base, 'POST', '/v2.0/subnets', {
        subnet: { network_id: net, cidr: `10.${k}.0.0/16`, ip_version: 4, enable_dhcp: false, tenant_id: PROJECT },
      });
      nets.push(net);
    }
    // Fill with bulk creates of 100 ports, 4 in flight; the fill itself is reported too.
    const BULK = 100;
    const batches: Array<{ net: number; from: number; count: number }> = [];
    for (let k = 0; k < nNets; k++) {
      const count = Math.min(PER_NETWORK, TABLE_PORTS - k * PER_NETWORK);
      for (let from = 0; from < count; from += BULK) batches.push({ net: k, from, count: Math.min(BULK, count - from) });
    }
    const fill = await phase(`fill: bulk port create ×${BULK} c=4`, batches.length, 4, (b) => {
      const { net, from, count } = batches[b];
      const ports = Array.from({ length: count }, (_, j) => ({
        network_id: nets[net],
        name: `t${net}-${from + j}`,
        device_id: `dev-${net}-${from + j}`,
        tenant_id: PROJECT,
      }));
      return call(base, 'POST', '/v2.0/ports', { ports });
    });
    console.log(`  = ${+(fill.ops_s * BULK).toFixed(0)} ports/s`);
    const total = (await call(base, 'GET', '/v2.0/ports?fields=id')).json.ports.length;
    if (total !== TABLE_PORTS) throw new Error(`table holds ${total} ports, expected ${TABLE_PORTS}`);

    printHeader(`lists over ${total} ports`);
    const N = 200;
    const pick = (i: number) => {
      const k = (i * 7) % nNets;
      const count = Math.min(PER_NETWORK, TABLE_PORTS - k * PER_NETWORK);
      return { k, dev: `dev-${k}-${(i * 37) % count}` };
    };
    results.push(
      await phase('port list by device_id', N, 1, async (i) => {
        const r = await call(base, 'GET', `/v2.0/ports?device_id=${pick(i).dev}`);
        if (r.json.ports.length !== 1) throw new Error(`device_id filter returned ${r.json.ports.length} ports`);
        return r;
      }),
    );
    results.push(
      await phase('port list by network_id+device_id', N, 1, async (i) => {
        const { k, dev } = pick(i);
        const r = await call(base, 'GET', `/v2.0/ports?network_id=${nets[k]}&device_id=${dev}`);
        if (r.json.ports.length !== 1) throw new Error(`network_id+device_id filter returned ${r.json.ports.length} ports`);
        return r;
      }),
    );
    const pageSize = Math.min(1000, TABLE_PORTS);
    results.push(
      await phase(`port list ?limit=${pageSize} (first page)`, 50, 1, async () => {
        const r = await call(base, 'GET', `/v2.0/ports?limit=${pageSize}`);
        if (r.json.ports.length !== pageSize) throw new Error(`page holds ${r.json.ports.length} ports`);
        return r;
      }),
    );
    const fullNet = nets[0];
    const onFullNet = Math.min(PER_NETWORK, TABLE_PORTS);
    results.push(
      await phase(`port list network_id (${onFullNet} ports)`, 50, 1, async () => {
        const r = await call(base, 'GET', `/v2.0/ports?network_id=${fullNet}`);
        if (r.json.ports.length !== onFullNet) throw new Error(`network list holds ${r.json.ports.length} ports`);
        return r;
      }),
    );
    rss = server.rss();
  } finally {
    await server.stop();
  }
  console.log(`server RSS with ${TABLE_PORTS} ports: now ${rss.rss_mb} MiB, peak ${rss.peak_mb} MiB`);
  return { table_ports: TABLE_PORTS, results, rss: { peak_mb: rss.peak_mb, after_mb: rss.rss_mb } };
}

const run1 = await runPhases();
const run2 = await runBigTable();
console.log(
  JSON.stringify({
    bench: 'api',
    node: process.version,
    ports: NPORTS,
    phases: run1.results,
    rss: run1.rss,
    table: run2,
  }),
);
