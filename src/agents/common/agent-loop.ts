// What agents share of their life: the state reporter every agent runs (register with report_state
// as a call, then heartbeat with casts; a first report that fails is tried again with backoff), and a
// reconcile loop (runs at once when poked, else every interval, so a missed notification heals within
// one; with `minGapMs`, pokes arriving while a run is recent wait and are served together by one run)
// — the DHCP and L3 agents', started once the server has the agent's registration; the L2 agent
// keeps its own, which also knows firewall-only refreshes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentState } from '../../rpc/contract.js';
import type { ServerRpcClient } from '../../rpc/index.js';

/** Runs `fn` on every item, at most `limit` at once; the first failure is thrown after all ended. */
export async function each<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const errors: unknown[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (errors.length) throw errors[0];
}

export class StateReporter {
  registered = false;
  private markRegistered!: () => void;
  /** Settles once the server has accepted the first report. */
  readonly registration = new Promise<void>((resolve) => {
    this.markRegistered = resolve;
  });
  private stopped = false;
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;

  constructor(
    private readonly client: ServerRpcClient,
    private readonly state: (startFlag: boolean) => AgentState,
    private readonly o: { reportIntervalSec: number; log?: (msg: string) => void },
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  private pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { ref: false, signal: this.stopping.signal }).catch(() => undefined);
  }

  private async run(): Promise<void> {
    let delay = 1000;
    while (!this.stopped) {
      try {
        if (!this.registered) {
          const status = await this.client.reportState(this.state(true));
          this.registered = true;
          this.markRegistered();
          delay = 1000;
          this.o.log?.(`registered with the server: ${status}`);
        } else await this.client.castReportState(this.state(false));
      } catch (err) {
        this.o.log?.(`report_state failed: ${(err as Error).message}`);
        if (!this.registered) {
          await this.pause(delay);
          delay = Math.min(delay * 2, 30_000);
          continue;
        }
      }
      if (this.o.reportIntervalSec === 0 && this.registered) return;
      await this.pause(this.o.reportIntervalSec * 1000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.loop;
  }
}

const RETRY_MS = 500;

export interface ReconcileLoopOptions {
  /** A run at least this often, poked or not. */
  intervalMs: number;
  /** After a run, pokes wait until this long has passed since it ended (batching); default 0. */
  minGapMs?: number;
  log?: (msg: string) => void;
}

export class ReconcileLoop {
  private dirty = true;
  private stopped = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  /** Completed runs (tests and benchmarks wait on it). */
  runs = 0;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly o: ReconcileLoopOptions,
  ) {}

  start(): void {
    this.loop ??= this.main();
  }

  /** Starts once `ready` settles (unless stopped by then). Agents pass their StateReporter's
   * registration: until the server has it, it answers an agent's "what is mine" calls with nothing,
   * and a full pass would take that for "nothing here" and remove what a restart should adopt. */
  startAfter(ready: Promise<unknown>): void {
    void ready.then(() => {
      if (!this.stopped) this.start();
    });
  }

  /** Something changed: run now (or, within minGapMs of the last run, as soon as that has passed). */
  poke(): void {
    this.dirty = true;
    this.wake?.();
  }

  private wait(ms: number, wakeable: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.wake = wakeable ? done : undefined;
      if (wakeable && this.dirty) done();
      if (this.stopped) done();
    }).finally(() => {
      this.wake = undefined;
    });
  }

  private async main(): Promise<void> {
    while (!this.stopped) {
      if (this.dirty) {
        this.dirty = false;
        try {
          await this.run();
          this.runs++;
        } catch (err) {
          this.dirty = true;
          this.o.log?.(`reconcile failed: ${(err as Error).message}`);
          // Again soon, not in a tight loop (a failure may be instant: a missing program, …).
          await this.stoppable(Math.max(this.o.minGapMs ?? 0, RETRY_MS));
        }
        if (this.stopped) return;
        // Batching: what arrives now waits for the gap; a stop still ends the wait.
        if (this.o.minGapMs) await this.stoppable(this.o.minGapMs);
      }
      if (this.stopped) return;
      await this.wait(this.o.intervalMs, true);
      // Polling: every interval runs, so a missed notification heals within one.
      this.dirty = true;
    }
  }

  private stoppable(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        if (!this.stopped) return;
        clearTimeout(t);
        resolve();
      };
      if (this.stopped) resolve();
    }).finally(() => {
      this.wake = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }
}
