// The primary of `neutrino server` with `[DEFAULT] api_workers = N > 1`: forks N workers that
// share the listening port (node:cluster), restarts a worker that crashes, and on SIGTERM or
// SIGINT stops them all (each finishes its requests) and exits. It serves nothing itself.
import cluster, { type Worker } from 'node:cluster';

const STOP_GRACE_MS = 15_000;
const MAX_RESTART_DELAY_MS = 30_000;

const say = (msg: string) => console.error(`neutrino[${process.pid}]: ${msg}`);

export function superviseWorkers(count: number, where: string): Promise<void> {
  let stopping = false;
  let exitCode = 0;
  let crashes = 0;
  let announced = false;
  const listened = new Set<number>();
  const startedAt = new Map<number, number>();
  const firstGeneration = new Set<number>();

  const fork = (first: boolean): Worker => {
    const w = cluster.fork();
    startedAt.set(w.id, Date.now());
    if (first) firstGeneration.add(w.id);
    w.on('listening', () => {
      listened.add(w.id);
      if (!announced && [...firstGeneration].every((id) => listened.has(id))) {
        announced = true;
        say(`${count} API workers listening on ${where}`);
      }
    });
    return w;
  };

  const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);

  const stopAll = (code: number) => {
    exitCode = Math.max(exitCode, code);
    if (stopping) return;
    stopping = true;
    for (const w of alive()) w.process.kill('SIGTERM');
    if (alive().length === 0) process.exit(exitCode);
    setTimeout(() => {
      for (const w of alive()) w.process.kill('SIGKILL');
      process.exit(exitCode || 1);
    }, STOP_GRACE_MS).unref();
  };

  cluster.on('exit', (w, code, signal) => {
    const pid = w.process.pid;
    const how = signal ? `signal ${signal}` : `status ${code}`;
    const wasListening = listened.delete(w.id);
    const ranMs = Date.now() - (startedAt.get(w.id) ?? Date.now());
    startedAt.delete(w.id);
    if (stopping || (code === 0 && !signal)) {
      // Told to stop (by us, or directly by a signal to the process group or to it).
      if (!stopping) say(`worker ${pid} stopped`);
      if (alive().length === 0) process.exit(exitCode);
      return;
    }
    if (!wasListening && firstGeneration.has(w.id)) {
      // A first worker that cannot start (database gone, port taken …) will not do better on
      // a restart: stop, with its message on stderr above.
      say(`worker ${pid} exited with ${how} before listening; stopping`);
      stopAll(1);
      return;
    }
    crashes = ranMs < 10_000 ? crashes + 1 : 0;
    const delay = crashes ? Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** crashes) : 0;
    say(`worker ${pid} exited with ${how}; starting another${delay ? ` in ${delay} ms` : ''}`);
    setTimeout(() => {
      if (!stopping) fork(false);
    }, delay);
  });

  process.on('SIGTERM', () => stopAll(0));
  process.on('SIGINT', () => stopAll(0));
  for (let i = 0; i < count; i++) fork(true);
  // The process lives on through the workers' IPC channels and the signal handlers.
  return Promise.resolve();
}
