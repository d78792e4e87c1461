// An OVSDB client (RFC 7047) for one database: `transact`, and a `monitor` that keeps a replica
// of the tables and columns asked for, so reads need no round trip. It connects again (with
// backoff) when the server goes away and re-monitors, replacing the replica; listeners hear of
// every update and of each fresh replica.
import { ConnectionClosed, type Json, RpcConnection } from './jsonrpc.js';

export type Row = Record<string, Json>;
/** `{table: {uuid: {old?, new?}}}`, a monitor update (RFC 7047 4.1.6). */
export type TableUpdates = Record<string, Record<string, { old?: Row; new?: Row }>>;

/** An operation's or the commit's failure, with OVSDB's error and details. */
export class OvsdbError extends Error {
  constructor(
    readonly error: string,
    readonly details: string,
  ) {
    super(details ? `${error}: ${details}` : error);
    this.name = 'OvsdbError';
  }
}

export interface OvsdbClientOptions {
  /** The database, e.g. Open_vSwitch. */
  database: string;
  /** Tables and the columns to replicate. */
  tables: Record<string, string[]>;
  /** Deadline of connects and transactions, ms. */
  timeoutMs?: number;
  /** Echo interval (inactivity probe), ms; 0 = none. */
  probeMs?: number;
  log?: (msg: string) => void;
}

/** What changed in the replica: a monitor update, or a whole fresh replica after (re)connecting. */
export type ReplicaChange = { kind: 'update'; updates: TableUpdates } | { kind: 'reset' };

export class OvsdbClient {
  private conn?: RpcConnection;
  private readonly replica = new Map<string, Map<string, Row>>();
  private readonly listeners = new Set<(c: ReplicaChange) => void>();
  private stopped = false;
  private retryMs = 250;
  private timer?: NodeJS.Timeout;
  private monitorSeq = 0;
  private connecting?: Promise<void>;
  /** How many times the client connected (1 after start). */
  connects = 0;

  constructor(
    readonly target: string,
    private readonly o: OvsdbClientOptions,
  ) {}

  private get timeoutMs(): number {
    return this.o.timeoutMs ?? 10_000;
  }

  /** Connects and loads the replica; rejects when the first attempt fails (later losses of the
   * connection are retried in the background). */
  async start(): Promise<void> {
    await this.connect();
  }

  get connected(): boolean {
    return !!this.conn && !this.conn.isClosed;
  }

  private connect(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const conn = await RpcConnection.open(this.target, {
      timeoutMs: this.timeoutMs,
      probeMs: this.o.probeMs,
      onNotification: (method, params) => {
        if (method === 'update' && conn === this.conn) this.apply(params[1] as TableUpdates);
      },
      onClose: (why) => {
        if (conn !== this.conn || this.stopped) return;
        this.o.log?.(`OVSDB ${this.target}: ${why}; connecting again`);
        this.conn = undefined;
        this.scheduleReconnect();
      },
    });
    try {
      const requests: Record<string, Json> = {};
      for (const [table, columns] of Object.entries(this.o.tables)) requests[table] = { columns };
      const id = `neutrino-${++this.monitorSeq}`;
      this.conn = conn;
      const initial = (await conn.request('monitor', [this.o.database, id, requests], this.timeoutMs)) as TableUpdates;
      this.replica.clear();
      for (const table of Object.keys(this.o.tables)) this.replica.set(table, new Map());
      this.merge(initial);
      this.retryMs = 250;
      this.connects++;
      for (const l of this.listeners) l({ kind: 'reset' });
    } catch (err) {
      if (this.conn === conn) this.conn = undefined;
      conn.close('monitor failed');
      throw err;
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A transaction may have connected meanwhile: a second connection would be left open.
      if (this.connected) return;
      this.connect().catch((err: Error) => {
        this.o.log?.(`OVSDB ${this.target}: ${err.message}`);
        this.retryMs = Math.min(this.retryMs * 2, 8000);
        this.scheduleReconnect();
      });
    }, this.retryMs);
    this.timer.unref();
  }

  private merge(updates: TableUpdates): void {
    for (const [table, rows] of Object.entries(updates)) {
      const t = this.replica.get(table) ?? new Map<string, Row>();
      this.replica.set(table, t);
      for (const [uuid, { new: row }] of Object.entries(rows)) {
        if (row) t.set(uuid, row);
        else t.delete(uuid);
      }
    }
  }

  private apply(updates: TableUpdates): void {
    this.merge(updates);
    for (const l of this.listeners) l({ kind: 'update', updates });
  }

  /** The replicated rows of `table`, by uuid (empty while disconnected before the first monitor). */
  rows(table: string): ReadonlyMap<string, Row> {
    return this.replica.get(table) ?? new Map();
  }

  /** Calls `fn` after every change of the replica; returns the unsubscribe function. */
  subscribe(fn: (c: ReplicaChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves once `pred` holds on the replica (checked now and after every change), or rejects
   * after `timeoutMs`. */
  waitFor(pred: () => boolean, timeoutMs = this.timeoutMs, what = 'the condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`OVSDB ${this.target}: ${what} not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.subscribe(() => {
        if (!pred()) return;
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /** Runs `ops` in one transaction; resolves with their results, or rejects with OvsdbError
   * (the transaction was not committed) or ConnectionClosed. */
  async transact(ops: Json[]): Promise<Json[]> {
    if (!this.conn || this.conn.isClosed) {
      if (this.stopped) throw new ConnectionClosed('client closed');
      await this.connect();
    }
    const results = (await this.conn!.request('transact', [this.o.database, ...ops], this.timeoutMs)) as Array<Row | null>;
    for (const r of results) {
      if (r && typeof r.error === 'string') throw new OvsdbError(r.error, typeof r.details === 'string' ? r.details : '');
    }
    return results as Json[];
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.conn?.close('client closed');
    this.conn = undefined;
  }
}
