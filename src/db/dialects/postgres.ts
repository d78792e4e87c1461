// PostgreSQL through node-postgres (`pg`), for several API workers or hosts on one database.
// `pg` is loaded only when a PostgreSQL URL is opened, so SQLite deployments never load it.
import { Kysely, PostgresDialect, sql } from 'kysely';
import { nulGuarded } from './nul-guard.js';
import type { Database, DB, Dialect } from './types.js';

export const postgresDialect: Dialect = {
  name: 'postgresql',
  bool: (v) => v,
  anyOf: (values) => sql<string>`(select unnest(${values}::text[]))`,
  likeOp: 'ilike',
  nullsAsSmallest: true,
  // Session-level advisory locks, taken before BEGIN and released after COMMIT, so that the
  // whole transaction runs after the previous holder's is committed.
  withLocks: (db, keys, fn, shared = false) =>
    db.connection().execute(async (conn) => {
      try {
        for (const key of [...new Set(keys)].sort()) {
          if (shared) await sql`select pg_advisory_lock_shared(hashtextextended(${key}, 0))`.execute(conn);
          else await sql`select pg_advisory_lock(hashtextextended(${key}, 0))`.execute(conn);
        }
        return await fn(conn);
      } finally {
        await sql`select pg_advisory_unlock_all()`.execute(conn).catch(() => {});
      }
    }),
};

const INT8_OID = 20;

export async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // bigint (revision_number, count(*)) as a JS number rather than a string: our values stay
    // far below 2**53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its server (restart, failover) must not crash the process; the pool
  // drops it and the next query opens a new connection.
  pool.on('error', () => {});
  const db: DB = new Kysely({ dialect: nulGuarded(new PostgresDialect({ pool })) });
  // Fail at start, with the server's own words, rather than on the first request.
  await sql`select 1`.execute(db).catch(async (err) => {
    await db.destroy();
    throw err;
  });
  return { db, dialect: 'postgresql', close: () => db.destroy() };
}
