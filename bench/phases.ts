// What the API benchmarks share: an HTTP client that times each call, a phase runner (n calls on c
// concurrent loops: ops/s, p50, p99), the phases of the shared Neutron API benchmark
// (../shared/conformance/api-bench.mjs), and the resident memory of a server's processes from /proc.
// Used by bench/api.ts (SQLite, all-in-one) and bench/backends.ts (SQLite, PostgreSQL, Keystone side by side).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin/neutrino.js');

/** The project every benchmark resource belongs to (tenant_id in bodies, X-Project-Id with noauth). */
export const PROJECT = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
/** noauth: the identity is in the headers, as api-bench.mjs sends it. */
export const NOAUTH_HEADERS: Record<string, string> = {
  'Content-Type': 'application/json',
  'X-Project-Id': PROJECT,
  'X-Roles': 'admin,member,reader',
};

// ---------------------------------------------------------------------------------------------
// Calls and phases

export interface Call {
  ms: number;
  // biome-ignore lint/suspicious/noExplicitAny: API bodies are read loosely
  json: any;
}

/** One server's API with one identity (noauth headers, or a Keystone token). */
export class Client {
  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = NOAUTH_HEADERS,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<Call> {
    const t0 = performance.now();
    const r = await fetch(this.base + path, {
      method,
      headers: this.headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const ms = performance.now() - t0;
    if (r.status >= 400) throw new Error(`${method} ${path} → ${r.status} ${text.slice(0, 300)}`);
    return { ms, json: text ? JSON.parse(text) : undefined };
  }
}

export interface PhaseResult {
  name: string;
  n: number;
  conc: number;
  ops_s: number;
  p50_ms: number;
  p99_ms: number;
  /** With a probe: CPU milliseconds per call, by whom (e.g. server, db, client). */
  cpu_ms_per_op?: Record<string, number>;
}

/** Called as a phase starts; what it returns is called as the phase ends and gives CPU ms spent, by whom. */
export type CpuProbe = () => () => Record<string, number>;

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Runs fn(0..n-1) on `conc` loops; latency per call, throughput over the phase; prints its row. */
export async function phase(
  name: string,
  n: number,
  conc: number,
  fn: (i: number) => Promise<Call>,
  probe?: CpuProbe,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  const cpuDone = probe?.();
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
  const cpu = cpuDone?.();
  latencies.sort((a, b) => a - b);
  const result: PhaseResult = {
    name,
    n,
    conc,
    ops_s: +(n / secs).toFixed(1),
    p50_ms: +percentile(latencies, 50).toFixed(2),
    p99_ms: +percentile(latencies, 99).toFixed(2),
  };
  if (cpu) result.cpu_ms_per_op = Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [k, +(ms / n).toFixed(3)]));
  printRow(result);
  return result;
}

export function printHeader(title: string): void {
  console.log(`\n${title}`);
  console.log(
    `${'phase'.padEnd(40)}${'n'.padStart(7)}${'conc'.padStart(6)}${'ops/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`,
  );
}

export function printRow(r: PhaseResult): void {
  const cpu = r.cpu_ms_per_op
    ? `   CPU ms/op: ${Object.entries(r.cpu_ms_per_op)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`
    : '';
  console.log(
    `${r.name.padEnd(40)}${String(r.n).padStart(7)}${String(r.conc).padStart(6)}${String(r.ops_s).padStart(10)}${String(r.p50_ms).padStart(10)}${String(r.p99_ms).padStart(10)}${cpu}`,
  );
}

/**
 * The phases of the shared Neutron API benchmark, in its order: 200 network creates (c=1); `nports` ports
 * on a /16 subnet, half created at concurrency 1 and half at 16; listing them all; listing by device_id;
 * 200 updates; deleting the ports (c=16) and the networks. Leaves nothing behind. With a probe, the CPU time
 * of each phase too.
 */
export async function apiPhases(api: Client, nports: number, probe?: CpuProbe): Promise<PhaseResult[]> {
  if (!(nports >= 2)) throw new Error(`the phases need 2 ports or more, not ${nports}`);
  const results: PhaseResult[] = [];
  const nets: string[] = [];
  results.push(
    await phase(
      'network create',
      200,
      1,
      async (i) => {
        const r = await api.call('POST', '/v2.0/networks', { network: { name: `bench-n${i}`, tenant_id: PROJECT } });
        nets.push(r.json.network.id);
        return r;
      },
      probe,
    ),
  );
  const net = (await api.call('POST', '/v2.0/networks', { network: { name: 'bench-ports', tenant_id: PROJECT } })).json.network
    .id;
  await api.call('POST', '/v2.0/subnets', {
    subnet: { network_id: net, cidr: '10.128.0.0/16', ip_version: 4, enable_dhcp: false, tenant_id: PROJECT },
  });
  const ports: string[] = [];
  const half = Math.floor(nports / 2);
  results.push(
    await phase(
      'port create c=1',
      half,
      1,
      async (i) => {
        const r = await api.call('POST', '/v2.0/ports', {
          port: { network_id: net, name: `p${i}`, device_id: `dev-${i}`, tenant_id: PROJECT },
        });
        ports.push(r.json.port.id);
        return r;
      },
      probe,
    ),
  );
  results.push(
    await phase(
      'port create c=16',
      nports - half,
      16,
      async (i) => {
        const r = await api.call('POST', '/v2.0/ports', {
          port: { network_id: net, name: `q${i}`, device_id: `dev-q${i}`, tenant_id: PROJECT },
        });
        ports.push(r.json.port.id);
        return r;
      },
      probe,
    ),
  );
  results.push(
    await phase(
      `port list all (${nports})`,
      20,
      1,
      async () => {
        const r = await api.call('GET', `/v2.0/ports?network_id=${net}`);
        if (r.json.ports.length !== nports) throw new Error(`listed ${r.json.ports.length} ports, expected ${nports}`);
        return r;
      },
      probe,
    ),
  );
  results.push(
    await phase(
      'port list by device_id',
      50,
      1,
      async (i) => {
        // dev-0 … dev-49 (with fewer than 100 ports, round again)
        const dev = `dev-${i % half}`;
        const r = await api.call('GET', `/v2.0/ports?device_id=${dev}`);
        if (r.json.ports.length !== 1) throw new Error(`device_id=${dev}: ${r.json.ports.length} ports`);
        return r;
      },
      probe,
    ),
  );
  results.push(
    await phase(
      'port update c=1',
      Math.min(200, ports.length),
      1,
      (i) => api.call('PUT', `/v2.0/ports/${ports[i]}`, { port: { name: `upd-${i}` } }),
      probe,
    ),
  );
  results.push(await phase('port delete c=16', ports.length, 16, (i) => api.call('DELETE', `/v2.0/ports/${ports[i]}`), probe));
  results.push(await phase('network delete c=1', nets.length, 1, (i) => api.call('DELETE', `/v2.0/networks/${nets[i]}`), probe));
  await api.call('DELETE', `/v2.0/networks/${net}`);
  return results;
}

// ---------------------------------------------------------------------------------------------
// Resident memory, from /proc

export interface Rss {
  /** VmRSS now, MiB. */
  rss_mb: number;
  /** VmHWM, the kernel's peak resident set of the process, MiB. */
  peak_mb: number;
}

const mib = (kb: number) => +(kb / 1024).toFixed(1);

/** VmRSS and VmHWM of a process; throws when it is gone. */
export function procRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss_mb: mib(kb('VmRSS')), peak_mb: mib(kb('VmHWM')) };
}

/** The PIDs whose parent is `pid` (a cluster primary's workers), ascending. */
export function childPids(pid: number): number[] {
  // Linux's /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN): a few small reads, not a scan of /proc.
  try {
    const found = new Set<number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) found.add(Number(c));
    }
    return [...found].sort((a, b) => a - b);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(`/proc/${pid}`)) return [];
  }
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return children.sort((a, b) => a - b);
}

/** Samples VmRSS of some processes every 50 ms while a run goes on: the highest value seen per PID. */
export function sampleRss(pids: () => number[]): { stop(): Map<number, number> } {
  const max = new Map<number, number>();
  const timer = setInterval(() => {
    for (const pid of pids()) {
      try {
        max.set(pid, Math.max(max.get(pid) ?? 0, procRss(pid).rss_mb));
      } catch {
        // process gone
      }
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
// CPU time, from /proc

let clockTicks = 100;
/** The kernel's clock ticks per second (getconf CLK_TCK), for cpuMs(); 100 unless told. */
export function setClockTicks(hz: number): void {
  clockTicks = hz;
}

/** User + system CPU milliseconds a process has used so far (with `reaped`, plus its exited children's); 0 when gone. */
export function cpuMs(pid: number, reaped = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // utime, stime, cutime, cstime: fields 14 to 17 of proc(5)
    return ((f[11] + f[12] + (reaped ? f[13] + f[14] : 0)) * 1000) / clockTicks;
  } catch {
    return 0;
  }
}

/**
 * CPU milliseconds of a process and its children so far, those that exited included (a PostgreSQL
 * backend that closed, a restarted worker): a difference of two readings is the time spent in between.
 */
export function treeCpuMs(pid: number): number {
  return childPids(pid).reduce((t, c) => t + cpuMs(c), cpuMs(pid, true));
}
