// Opens the database named by an SQLAlchemy-style URL behind Kysely. SQLite is the embedded
// default; the dialect seam is where PostgreSQL plugs in.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: tables are derived from resource definitions at run time
export type DB = Kysely<any>;

export interface Database {
  db: DB;
  dialect: 'sqlite' | 'postgresql';
  close(): Promise<void>;
}

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
  if (scheme === 'postgresql' || scheme === 'postgres') return { dialect: 'postgresql', url: `postgresql://${m[2]}` };
  throw new DatabaseUrlError(`[database] connection: unsupported database '${scheme}' (use sqlite or postgresql)`);
}

/** Kysely prepares every query anew; preparing costs more than running most of ours, so
 * statements are reused by SQL text (a bounded cache: the SQL of IN-lists varies). */
function cachingPrepare(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        if (cache.size >= 500) cache.delete(cache.keys().next().value as string);
        cache.set(sql, stmt);
      }
      return stmt as unknown as SqliteStatement;
    },
  };
}

export async function openDatabase(url: string): Promise<Database> {
  const target = parseDbUrl(url);
  if (target.dialect === 'postgresql') {
    throw new DatabaseUrlError('[database] connection: PostgreSQL support is not built yet; use sqlite');
  }
  if (target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
  const sqlite = new SQLite(target.path);
  // WAL lets readers run beside the single writer; NORMAL sync is durable across process crashes.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db: DB = new Kysely({ dialect: new SqliteDialect({ database: cachingPrepare(sqlite) }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}
