// U+0000 in a query's parameters. PostgreSQL's text cannot hold it (it fails the whole statement:
// "invalid byte sequence for encoding UTF8: 0x00"), SQLite stores it; both databases must answer
// alike. The API refuses such strings in what it stores (validators); this guard, under every
// query of both databases, is what makes reads and any write the validators do not see behave the
// same way:
//  - a read (SELECT, DELETE, raw SQL) compares with NULL instead, which matches nothing, as the
//    string would match nothing stored;
//  - a write (INSERT, UPDATE) of such a string is refused as invalid input.
import {
  CompiledQuery as Compiled,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { invalidInput } from '../../common/errors.js';

const hasNul = (v: unknown): boolean => (typeof v === 'string' && v.includes('\u0000')) || (Array.isArray(v) && v.some(hasNul));

const withoutNul = (v: unknown): unknown =>
  typeof v === 'string' ? (v.includes('\u0000') ? null : v) : Array.isArray(v) ? v.map(withoutNul) : v;

/** The query to run instead of `q`, or `q` itself (the common case: nothing to do, nothing copied). */
export function guardQuery(q: CompiledQuery): CompiledQuery {
  if (!q.parameters.some(hasNul)) return q;
  const kind = q.query.kind;
  if (kind === 'InsertQueryNode' || kind === 'UpdateQueryNode') {
    throw invalidInput('strings may not contain NUL characters (U+0000)');
  }
  return Compiled.raw(q.sql, q.parameters.map(withoutNul));
}

class GuardedDriver implements Driver {
  private readonly inner = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(private readonly driver: Driver) {}

  private unwrap(c: DatabaseConnection): DatabaseConnection {
    return this.inner.get(c) ?? c;
  }

  init(): Promise<void> {
    return this.driver.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const conn = await this.driver.acquireConnection();
    const guarded: DatabaseConnection = {
      executeQuery: <R>(q: CompiledQuery) => conn.executeQuery<R>(guardQuery(q)),
      streamQuery: <R>(q: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> =>
        conn.streamQuery<R>(guardQuery(q), chunkSize),
    };
    this.inner.set(guarded, conn);
    return guarded;
  }

  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.driver.beginTransaction(this.unwrap(c), settings);
  }
  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.driver.commitTransaction(this.unwrap(c));
  }
  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return this.driver.rollbackTransaction(this.unwrap(c));
  }
  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.driver.releaseConnection(this.unwrap(c));
  }
  destroy(): Promise<void> {
    return this.driver.destroy();
  }
}

/** `dialect` with every query passing the guard. */
export function nulGuarded(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new GuardedDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}
