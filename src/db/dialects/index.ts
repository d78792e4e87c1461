// The dialect seam: which database a URL names, its Dialect, and what its errors mean.
import { postgresDialect } from './postgres.js';
import { sqliteDialect } from './sqlite.js';
import type { DbErrorKind, Dialect, DialectName } from './types.js';

export type { Database, DB, DbErrorKind, Dialect, DialectName } from './types.js';

export function dialectOf(name: DialectName): Dialect {
  return name === 'postgresql' ? postgresDialect : sqliteDialect;
}

interface DriverError {
  code?: unknown;
  message?: unknown;
  table?: unknown;
  constraint?: unknown;
  detail?: unknown;
}

/** Classifies a driver error of either database (SQLite's codes are `SQLITE_*` strings,
 * PostgreSQL's are SQLSTATEs, so they never collide); null for anything else. */
export function dbErrorKind(err: unknown): DbErrorKind | null {
  const code = String((err as DriverError | null)?.code ?? '');
  switch (code) {
    case '23505': // unique_violation
    case 'SQLITE_CONSTRAINT_PRIMARYKEY':
    case 'SQLITE_CONSTRAINT_UNIQUE':
      return 'unique';
    case '23503': // foreign_key_violation
    case 'SQLITE_CONSTRAINT_FOREIGNKEY':
      return 'foreign_key';
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
      return 'serialization';
    case 'SQLITE_BUSY':
    case 'SQLITE_BUSY_SNAPSHOT':
    case 'SQLITE_LOCKED':
      return 'busy';
    default:
      return null;
  }
}

/** For a unique violation: the table, and the key's values when the database names them
 * (PostgreSQL's detail `Key (a, b)=(x, y) already exists.`; SQLite names only the columns). */
export function uniqueViolationTarget(err: unknown): { table?: string; values?: Record<string, string> } {
  const e = (err ?? {}) as DriverError;
  if (typeof e.table === 'string') {
    const m = /^Key \((.+)\)=\((.+)\) already exists\.?$/.exec(String(e.detail ?? ''));
    if (!m) return { table: e.table };
    const cols = m[1].split(', ');
    const vals = m[2].split(', ');
    if (cols.length !== vals.length) return { table: e.table };
    return { table: e.table, values: Object.fromEntries(cols.map((c, i) => [c, vals[i]])) };
  }
  const m = /constraint failed: (\w+)\./.exec(String(e.message ?? ''));
  return m ? { table: m[1] } : {};
}
