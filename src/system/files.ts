// Files other programs read while we change them (dnsmasq's hosts and options files): each is
// written whole to a temporary file beside it and renamed over the old one, so a reader sees the
// old content or the new, never half of either.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as v from './validate.js';

/** Replaces `path` with `content` atomically (write, fsync, rename). */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  v.path(path);
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, content, { mode, flush: true });
    chmodSync(tmp, mode); // whatever the umask
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The file's content, or undefined when it does not exist. */
export function readFileOr(path: string): string | undefined {
  try {
    return readFileSync(v.path(path), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Creates the directory (and its parents) unless it exists, with `mode` whatever the umask. */
export function ensureDir(path: string, mode = 0o755): void {
  if (existsSync(v.path(path))) return;
  const created = mkdirSync(path, { recursive: true, mode });
  // mkdir's mode is masked by the umask: set it on every directory made here.
  for (let d = path; created && d.length >= created.length; d = dirname(d)) chmodSync(d, mode);
}

/** The first directory on the way to `path` (or `path` itself, when it exists) that users other
 * than its owner cannot traverse, or undefined. A daemon that drops root (dnsmasq runs as nobody)
 * cannot read files below such a directory. */
export function untraversable(path: string): string | undefined {
  const dirs: string[] = [];
  for (let d = v.path(path); ; d = dirname(d)) {
    dirs.unshift(d);
    if (d === '/') break;
  }
  for (const d of dirs) {
    let mode: number;
    try {
      mode = statSync(d).mode;
    } catch {
      return undefined; // created later, 0755
    }
    if ((mode & 0o001) === 0) return d;
  }
  return undefined;
}

export function removeTree(path: string): void {
  rmSync(v.path(path), { recursive: true, force: true });
}
