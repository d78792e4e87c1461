// SQLite through better-sqlite3: the embedded default. One connection; Kysely's driver runs one
// transaction at a time, so writers are serialised in-process.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement, sql } from 'kysely';
import { nulGuarded } from './nul-guard.js';
import type { Database, DB, Dialect } from './types.js';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  bool: (v) => (v ? 1 : 0),
  anyOf: (values) => sql<string>`(select value from json_each(${JSON.stringify(values)}))`,
  likeOp: 'like',
  nullsAsSmallest: false,
};

/** Kysely prepares every query anew; preparing costs more than running most of ours, so
 * statements are reused by SQL text (a bounded cache: the SQL of IN-lists varies). */
function cachingPrepare(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = sqlite.prepare(text);
        if (cache.size >= 500) cache.delete(cache.keys().next().value as string);
        cache.set(text, stmt);
      }
      return stmt as unknown as SqliteStatement;
    },
  };
}

export async function openSqlite(path: string): Promise<Database> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // WAL lets readers run beside the single writer; NORMAL sync is durable across process crashes.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db: DB = new Kysely({ dialect: nulGuarded(new SqliteDialect({ database: cachingPrepare(sqlite) })) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}
