// Link events as the kernel announces them: `ip [-n NS] -o monitor link` as a child process (argument
// array, no shell), each one-line event handed to a callback. The process is started again if it
// dies (after a pause) and killed by its PID on stop(). Should this process be killed outright
// (SIGKILL), the orphaned monitor ends at the next link event, when writing to the closed pipe.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as v from './validate.js';

export interface LinkEvent {
  ifname: string;
  deleted: boolean;
  /** The master device named in the event, if any. */
  master?: string;
  line: string;
}

/** Parses one line of `ip -o monitor link` (`[Deleted ]IDX: NAME[@PEER]: <FLAGS> … [master M] …`). */
export function parseLinkEvent(line: string): LinkEvent | undefined {
  const m = /^(Deleted\s+)?\d+:\s+([^\s:@]+)(?:@[^\s:]*)?:\s/.exec(line);
  if (!m) return undefined;
  const master = / master (\S+)/.exec(line)?.[1];
  return { ifname: m[2], deleted: !!m[1], master, line };
}

export interface LinkMonitorOptions {
  /** Watch this network namespace; default: this one. */
  netns?: string;
  /** Pause before starting a monitor that died again; default 1 s. */
  restartDelayMs?: number;
  log?: (msg: string) => void;
  /** The program; default `ip` (tests give another). */
  command?: string;
}

export class LinkMonitor {
  private child?: ChildProcessWithoutNullStreams;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  /** How many times the monitor process was started again after it died. */
  restarts = 0;

  constructor(
    private readonly onEvent: (e: LinkEvent) => void,
    private readonly o: LinkMonitorOptions = {},
  ) {}

  /** The PID of the running monitor process, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (!this.stopped && !this.child) this.spawn();
  }

  private spawn(): void {
    const args = [...(this.o.netns ? ['-n', v.netns(this.o.netns)] : []), '-o', 'monitor', 'link'];
    const child = spawn(this.o.command ?? 'ip', args, { shell: false, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdin.end();
    let buf = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const e = parseLinkEvent(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (e) this.onEvent(e);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-500);
    });
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      this.restarts++;
      this.o.log?.(`link monitor (ip monitor link) ended (${why})${err.trim() ? `: ${err.trim()}` : ''}; restarting it`);
      this.timer = setTimeout(() => this.spawn(), this.o.restartDelayMs ?? 1000);
    };
    child.once('error', (e) => end(e.message));
    child.once('close', (code, signal) => end(signal ?? `exit status ${code}`));
  }

  /** Stops watching: kills the monitor process by PID and waits until it has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const c = this.child;
    this.child = undefined;
    if (!c || c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const closed = new Promise((ok) => c.once('close', ok));
    process.kill(c.pid, 'SIGTERM');
    await closed;
  }
}
