// API benchmark: starts the built `neutrino all-in-one` (node bin/neutrino.js) on a free port with a
// temporary SQLite file and measures it over HTTP. Figures, not pass/fail.
//
//   npx tsx bench/api.ts [--ports N] [--table-ports N] [--log FILE]   (--log keeps the servers' logs as FILE.phases, FILE.table)
//
// Run 1 — the phases of the shared Neutron API benchmark (network create; N ports at concurrency 1
// and 16 on a /16 subnet; list all; list by device_id; update; delete), then the server's RSS.
// Run 2 — a fresh server with --table-ports ports (default 10,000: 10 networks × 1,000) in the table:
// filtered lists (device_id; network_id + device_id), one page of 1,000, a full list of one network.
// The last line printed is one JSON object with every figure. The same phases on PostgreSQL (1 and N
// workers) and with Keystone, side by side: bench/backends.ts.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServerProcess } from '../test/fixtures/process.js';
import { flag } from './args.js';
import {
  apiPhases,
  BIN,
  Client,
  type PhaseResult,
  PROJECT,
  phase,
  printHeader,
  procRss,
  ROOT,
  type Rss,
  sampleRss,
} from './phases.js';

const NPORTS = Number(flag('--ports', '1000'));
const TABLE_PORTS = Number(flag('--table-ports', '10000'));
const LOG = flag('--log', '');
const PER_NETWORK = 1000;

// ---------------------------------------------------------------------------------------------
// The server under test

class Server {
  private constructor(
    private readonly proc: ServerProcess,
    private readonly dir: string,
    readonly logFile: string,
  ) {}

  get url(): string {
    return this.proc.url;
  }

  get pid(): number {
    return this.proc.pid as number;
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
    return procRss(this.pid);
  }

  async stop(): Promise<void> {
    await this.proc.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Run 1: the shared benchmark's phases

async function runPhases() {
  const server = await Server.start('phases');
  const base = server.url;
  const atStart = server.rss();
  const sampler = sampleRss(() => [server.pid]);
  let results: PhaseResult[] = [];
  let rss = { start_mb: atStart.rss_mb, peak_mb: atStart.peak_mb, after_mb: atStart.rss_mb };
  try {
    printHeader(`run 1: API phases, ${NPORTS} ports (${base})`);
    results = await apiPhases(new Client(base), NPORTS);
  } finally {
    const sampled = sampler.stop().get(server.pid) ?? 0;
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
  const api = new Client(base);
  const results: PhaseResult[] = [];
  const nNets = Math.max(1, Math.ceil(TABLE_PORTS / PER_NETWORK));
  let rss: Rss;
  try {
    console.log(`\nrun 2: lists with ${TABLE_PORTS} ports in the table (${nNets} networks × ≤${PER_NETWORK}) (${base})`);
    const nets: string[] = [];
    for (let k = 0; k < nNets; k++) {
      const net = (await api.call('POST', '/v2.0/networks', { network: { name: `table-n${k}`, tenant_id: PROJECT } })).json
        .network.id;
      await api.call('POST', '/v2.0/subnets', {
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
      return api.call('POST', '/v2.0/ports', { ports });
    });
    console.log(`  = ${+(fill.ops_s * BULK).toFixed(0)} ports/s`);
    const total = (await api.call('GET', '/v2.0/ports?fields=id')).json.ports.length;
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
        const r = await api.call('GET', `/v2.0/ports?device_id=${pick(i).dev}`);
        if (r.json.ports.length !== 1) throw new Error(`device_id filter returned ${r.json.ports.length} ports`);
        return r;
      }),
    );
    results.push(
      await phase('port list by network_id+device_id', N, 1, async (i) => {
        const { k, dev } = pick(i);
        const r = await api.call('GET', `/v2.0/ports?network_id=${nets[k]}&device_id=${dev}`);
        if (r.json.ports.length !== 1) throw new Error(`network_id+device_id filter returned ${r.json.ports.length} ports`);
        return r;
      }),
    );
    const pageSize = Math.min(1000, TABLE_PORTS);
    results.push(
      await phase(`port list ?limit=${pageSize} (first page)`, 50, 1, async () => {
        const r = await api.call('GET', `/v2.0/ports?limit=${pageSize}`);
        if (r.json.ports.length !== pageSize) throw new Error(`page holds ${r.json.ports.length} ports`);
        return r;
      }),
    );
    const fullNet = nets[0];
    const onFullNet = Math.min(PER_NETWORK, TABLE_PORTS);
    results.push(
      await phase(`port list network_id (${onFullNet} ports)`, 50, 1, async () => {
        const r = await api.call('GET', `/v2.0/ports?network_id=${fullNet}`);
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
