// Runs a program with an argument array, never through a shell, optionally feeding stdin. Every
// wrapper in src/system takes a Runner so unit tests can replace the kernel with a recording fake.
import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the program's stdin (e.g. `ip -batch -`). */
  input?: string;
  /** Killed after this long; default 30 s. */
  timeoutMs?: number;
  /** The program's environment; default this process's. */
  env?: NodeJS.ProcessEnv;
}

export type Runner = (file: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;

/** A command that failed: its command line (for the log) and what it said. */
export class SystemError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${command}: ${stderr.trim() || `exit status ${code}`}`);
    this.name = 'SystemError';
  }
}

/** The real runner: child_process.spawn with `shell: false`. */
export const execRunner: Runner = (file, args, { input, timeoutMs = 30_000, env } = {}) =>
  new Promise((resolve) => {
    const child = spawn(file, args, { shell: false, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('error', (err) => resolve({ code: null, stdout, stderr: stderr + err.message }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the program may exit before reading everything
    child.stdin.end(input ?? '');
  });

/** Runs and throws SystemError unless the exit status is 0; returns stdout. */
export async function check(run: Runner, file: string, args: readonly string[], opts?: ExecOptions): Promise<string> {
  const r = await run(file, args, opts);
  if (r.code !== 0) throw new SystemError([file, ...args].join(' '), r.code, r.stderr);
  return r.stdout;
}
