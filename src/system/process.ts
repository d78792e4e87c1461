// Daemons an agent starts and supervises (dnsmasq; the L3 agent's keepalived or radvd alike), as
// Neutron's ProcessManager: started in a namespace with `ip netns exec` (an argument array, no
// shell), known afterwards by their pid file and by /proc/<pid>/cmdline, so that a restarted agent
// finds and adopts a daemon that still runs with the command line it would give it, and never
// signals a process that merely reuses the PID. Stopped by PID: SIGTERM, then SIGKILL.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { check, execRunner, type Runner, SystemError } from './exec.js';
import { inNetns } from './netns.js';
import * as v from './validate.js';

/** A command-line argument: no NUL (it would cut the argument) and no newline (pid files, logs). */
export function argument(value: string): string {
  if (/[\0\n\r]/.test(value) || value.length > 4096) throw new v.InvalidValue('argument', value);
  return value;
}

export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The argument vector of a running process, or undefined when there is none. */
export function cmdlineOf(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${v.uint(pid)}/cmdline`, 'utf8');
    if (raw === '') return undefined; // a zombie
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** The PID in a pid file, or undefined. */
export function readPidFile(path: string): number | undefined {
  try {
    const text = readFileSync(v.path(path), 'utf8').trim();
    return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** PIDs of the processes in a namespace (`ip netns pids`). */
export async function netnsPids(netns: string, run: Runner = execRunner): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', v.netns(netns)]);
  if (r.code !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/** Sends SIGTERM, waits up to `graceMs` for the process to go, then SIGKILL. */
export async function killProcess(pid: number, graceMs = 5000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  };
  if (!pidAlive(pid)) return;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && cmdlineOf(pid) !== undefined && Date.now() < deadline) await sleep(20);
  if (pidAlive(pid) && cmdlineOf(pid) !== undefined) signal('SIGKILL');
}

export interface DaemonSpec {
  /** The program and its arguments; the program must daemonize and write `pidFile`. */
  argv: string[];
  pidFile: string;
  /** The namespace it runs in; default: this one. */
  netns?: string;
}

/** What runs for a daemon's pid file: the process with exactly our command line, another one
 * that is ours by its command line naming our pid file (started with other arguments), or none. */
export type DaemonState = { state: 'running'; pid: number } | { state: 'stale'; pid: number } | { state: 'stopped' };

export class Daemon {
  readonly argv: string[];

  constructor(
    readonly spec: DaemonSpec,
    private readonly run: Runner = execRunner,
  ) {
    if (spec.argv.length === 0) throw new v.InvalidValue('command line', spec.argv);
    this.argv = spec.argv.map(argument);
    v.path(spec.pidFile);
    if (spec.netns !== undefined) v.netns(spec.netns);
  }

  /** The daemon's state, from its pid file and /proc. */
  state(): DaemonState {
    const pid = readPidFile(this.spec.pidFile);
    if (pid === undefined || !pidAlive(pid)) return { state: 'stopped' };
    const cmdline = cmdlineOf(pid);
    if (!cmdline) return { state: 'stopped' };
    if (cmdline.length === this.argv.length && cmdline.every((a, i) => a === this.argv[i])) return { state: 'running', pid };
    return cmdline.some((a) => a.includes(this.spec.pidFile)) ? { state: 'stale', pid } : { state: 'stopped' };
  }

  /** Starts the daemon and waits until it has daemonized (its startup errors become a SystemError);
   * returns its PID. */
  async start(): Promise<number> {
    const [file, args] = inNetns(this.spec.netns, this.argv[0], this.argv.slice(1));
    await check(this.run, file, args, { timeoutMs: 30_000 });
    const s = this.state();
    if (s.state !== 'running')
      throw new SystemError(this.argv[0], 0, `started, but ${this.spec.pidFile} names no running ${this.argv[0]}`);
    return s.pid;
  }

  /** SIGHUP to the running daemon; false when it is not running. */
  reload(): boolean {
    const s = this.state();
    if (s.state !== 'running') return false;
    try {
      process.kill(s.pid, 'SIGHUP');
      return true;
    } catch {
      return false;
    }
  }

  /** Stops whatever of ours runs for the pid file (with our command line or an older one). */
  async stop(graceMs = 5000): Promise<void> {
    const s = this.state();
    if (s.state !== 'stopped') await killProcess(s.pid, graceMs);
  }
}
