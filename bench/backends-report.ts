// bench/backends.ts's figures: the runs of each backend summarized (medians of the rounds), the
// side-by-side table, Keystone's overhead against its noauth twin, and the issue 3 targets.
import { availableParallelism } from 'node:os';
import type { PhaseResult } from './phases.js';

export interface Backend {
  name: string;
  /** The column heading. */
  label: string;
  db: 'sqlite' | 'postgresql';
  workers: number;
  auth: 'noauth' | 'keystone';
}

export interface ProcMemory {
  /** 'server' (api_workers = 1: the one process serves the API), or 'primary' / 'worker N'. */
  role: string;
  pid: number;
  start_mb: number;
  peak_mb: number;
  after_mb: number;
}

export interface RunResult {
  phases: PhaseResult[];
  processes: ProcMemory[];
  /** The first API call (with Keystone: the token's validation, uncached). */
  first_request_ms: number;
  /** With Keystone: the CPU seconds Keystone used during the phases. */
  keystone_cpu_s?: number;
}

/** What the report needs of the command line. */
export interface ReportSettings {
  ports: number;
  rounds: number;
  /** The noauth backend the keystone run is compared with. */
  keystoneOn: string;
  /** Whether the database's CPU time is measured (a private PostgreSQL cluster). */
  databaseCpu: boolean;
}

export interface Summary {
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

export function summarize(b: Backend, rounds: RunResult[]): Summary {
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

export function printTable(sums: Summary[], cfg: ReportSettings): void {
  const first = 30;
  const width = Math.max(24, ...sums.map((s) => s.backend.label.length + 2));
  const line = (label: string, cells: string[]) => console.log(label.padEnd(first) + cells.map((c) => c.padEnd(width)).join(''));
  console.log(
    `\nside by side: ${cfg.ports} ports${cfg.rounds > 1 ? `, median of ${cfg.rounds} rounds (memory: highest)` : ''}; each cell: ops/s  p50/p99 ms`,
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
  if (cfg.rounds > 1) {
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
    `\nCPU ms per call: server (all its processes) / database (${cfg.databaseCpu ? 'the PostgreSQL cluster' : 'not measured'}) / this client` +
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

export const CPUS = availableParallelism();

/** port create c=16: the throughput its CPU per call allows on an idle machine, and what binds first. */
export function ceiling(s: Summary): { ops_s: number; bound: string } | undefined {
  const c = s.phases.find((p) => p.name === 'port create c=16')?.cpu_ms_per_op;
  if (!c?.server) return undefined;
  const all = Object.values(c).reduce((t, v) => t + v, 0);
  const byServer = (s.backend.workers * 1000) / c.server;
  const byMachine = (CPUS * 1000) / all;
  return byServer < byMachine
    ? { ops_s: +byServer.toFixed(0), bound: `${s.backend.workers} API process${s.backend.workers > 1 ? 'es' : ''}` }
    : { ops_s: +byMachine.toFixed(0), bound: `${CPUS} CPUs` };
}

export interface Overhead {
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

export function keystoneOverhead(sums: Summary[], cfg: ReportSettings): Overhead | undefined {
  const ks = sums.find((s) => s.backend.auth === 'keystone');
  if (!ks) return undefined;
  const base = sums.find((s) => s.backend.auth === 'noauth' && s.backend.name === cfg.keystoneOn);
  if (!base) {
    console.log(`\nkeystone: no overhead figure without a noauth run on ${cfg.keystoneOn} (add it to --backends)`);
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
      (cfg.rounds > 1 ? `   round by round: ${o.round_slower_pct.map(pct).join(', ')}` : ''),
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

export interface Target {
  target: string;
  value: string;
  /** 'unclear': some rounds meet it, others do not. */
  verdict: 'met' | 'NOT met' | 'unclear';
}

export function targets(sums: Summary[], cfg: ReportSettings, overhead?: Overhead): Target[] {
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
        (cfg.rounds > 1 ? ` (round by round ${overhead.round_slower_pct.map(pct).join(', ')})` : '') +
        `; server CPU ${pct(overhead.server_cpu_more_pct)}`,
      verdict: below === overhead.round_slower_pct.length ? 'met' : below === 0 ? 'NOT met' : 'unclear',
    });
  }
  console.log('\ntargets (issue 3)');
  for (const t of out) console.log(`  ${t.verdict.padEnd(7)}  ${t.target}: ${t.value}`);
  return out;
}
