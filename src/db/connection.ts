// Opens the database named by an SQLAlchemy-style URL behind Kysely: SQLite (embedded, the
// default) or PostgreSQL (several workers or hosts). What differs between them lives in dialects/.
import type { Database } from './dialects/index.js';
import { openPostgres } from './dialects/postgres.js';
import { openSqlite } from './dialects/sqlite.js';

export type { Database, DB } from './dialects/index.js';

export class DatabaseUrlError extends Error {}

/** `sqlite://` (memory), `sqlite:///rel/path`, `sqlite:////abs/path`, `postgresql://…` */
export function parseDbUrl(url: string): { dialect: 'sqlite'; path: string } | { dialect: 'postgresql'; url: string } {
  const m = /^([a-z0-9+]+):\/\/(.*)$/i.exec(url);
  if (!m) throw new DatabaseUrlError(`[database] connection: '${url}' is not a database URL`);
  const scheme = m[1].toLowerCase().split('+')[0];
  if (scheme === 'sqlite') {
    const rest = m[2];
    if (rest === '' || rest === '/' || rest === '/:memory:') return { dialect: 'sqlite', path: ':memory:' };
    if (!rest.startsWith('/')) throw new DatabaseUrlError(`[database] connection: '${url}' has a host; use sqlite:////abs/path`);
    return { dialect: 'sqlite', path: rest.slice(1) };
  }
  // postgresql+psycopg2:// and the like name a Python driver; the server is the same.
  if (scheme === 'postgresql' || scheme === 'postgres') return { dialect: 'postgresql', url: `postgresql://${m[2]}` };
  throw new DatabaseUrlError(`[database] connection: unsupported database '${scheme}' (use sqlite or postgresql)`);
}

export interface OpenOptions {
  /** PostgreSQL connections per process ([database] max_pool_size). */
  poolSize?: number;
}

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  const target = parseDbUrl(url);
  if (target.dialect === 'postgresql') return openPostgres(target.url, options.poolSize ?? 5);
  return openSqlite(target.path);
}
