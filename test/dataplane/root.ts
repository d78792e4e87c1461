// What the data-plane tests share: they need root (network namespaces), and every name they create
// is unique to the run, so parallel runs and leftovers of a crashed one never collide.
import { randomBytes } from 'node:crypto';

export const notRoot: string | false =
  process.getuid?.() === 0 ? false : 'needs root: creates network namespaces (run as root, as CI does)';

/** A run-unique short tag (6 hex characters) to build namespace and device names from. */
export const runTag = (): string => randomBytes(3).toString('hex');

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, deadlineMs = 20_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
