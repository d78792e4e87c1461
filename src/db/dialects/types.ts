// What differs between the databases Neutrino runs on, behind one small interface: how a
// connection opens, how booleans are stored, how a long IN-list is bound, how NULLs sort, and
// which errors mean "another transaction got there first" (retry) rather than a bug.
import type { Kysely, RawBuilder } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: tables are derived from resource definitions at run time
export type DB = Kysely<any>;

export type DialectName = 'sqlite' | 'postgresql';

export interface Dialect {
  readonly name: DialectName;
  /** The stored form of a boolean: 1/0 in SQLite, true/false in PostgreSQL's boolean columns. */
  bool(v: boolean): number | boolean;
  /** The right-hand side of `column IN (…)` for many strings, as one bound parameter, so the
   * statement text (and its prepared form) is the same whatever the count. */
  anyOf(values: string[]): RawBuilder<string>;
  /** Case-insensitive LIKE: SQLite's `like` already is for ASCII (as MySQL's, Neutron's usual
   * database); PostgreSQL's is not. */
  readonly likeOp: 'like' | 'ilike';
  /** Whether NULLs need an explicit place in ORDER BY to sort as the smallest value, as they do
   * in SQLite and MySQL (PostgreSQL sorts them as the largest). */
  readonly nullsAsSmallest: boolean;
  /** Runs `fn` on one connection that holds, across processes, an exclusive lock on each of
   * `keys` (taken in a fixed order before `fn` starts its transaction, released after it ends):
   * writers that contend (ports of one network, creates counted against one quota) queue, and
   * each sees what the previous one committed. Absent where writers are serialised anyway
   * (SQLite). `shared` takes them shared: holders of shared locks run side by side, and only
   * exclude (and are excluded by) exclusive holders. */
  withLocks?<T>(db: DB, keys: string[], fn: (conn: DB) => Promise<T>, shared?: boolean): Promise<T>;
}

/** Why a statement or commit failed, when the reason is a concurrent transaction (or a key). */
export type DbErrorKind = 'unique' | 'foreign_key' | 'serialization' | 'busy';

export interface Database {
  db: DB;
  dialect: DialectName;
  close(): Promise<void>;
}
