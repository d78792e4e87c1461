// Files other programs read while we change them (dnsmasq's hosts and options files): each is
// written whole to a temporary file beside it and renamed over the old one, so a reader sees the
// old content or the new, never half of either.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as v from './validate.js';

/** Replaces `path` with `content` atomically (write, fsync, rename). */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  v.path(path);
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, content, { mode, flush: true });
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

/** Creates the directory (and its parents) unless it exists. */
export function ensureDir(path: string, mode = 0o755): void {
  if (!existsSync(v.path(path))) mkdirSync(path, { recursive: true, mode });
}

export function removeTree(path: string): void {
  rmSync(v.path(path), { recursive: true, force: true });
}
