// JSON-RPC 1.0 over a stream, as RFC 7047 (OVSDB) speaks it: JSON texts back to back with no
// framing, requests and replies matched by id, server notifications (`update`), and `echo` both
// ways — answered when the server asks, sent by us every `probeMs` so a dead peer is noticed.
import { connect, type Socket } from 'node:net';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An `error` member of a reply: OVSDB's errors are objects `{error, details}` or strings. */
export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly error: Json,
  ) {
    super(`${method}: ${typeof error === 'string' ? error : JSON.stringify(error)}`);
    this.name = 'RpcError';
  }
}

/** The connection closed (or never opened) before the reply came. */
export class ConnectionClosed extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'ConnectionClosed';
  }
}

/** Splits a stream of concatenated JSON texts into complete texts (objects or arrays). */
export class JsonSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Where the scan stopped in `buf` (so a text that arrives in pieces is scanned once). */
  private pos = 0;

  /** Feeds a chunk; returns the texts it completed. */
  push(chunk: string): string[] {
    const out: string[] = [];
    this.buf += chunk;
    let start = 0;
    for (let i = this.pos; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.buf.slice(start, i + 1).trim());
          start = i + 1;
        } else if (this.depth < 0) throw new Error('unbalanced JSON from the peer');
      } else if (this.depth === 0 && !/\s/.test(c)) throw new Error(`unexpected ${JSON.stringify(c)} between JSON texts`);
    }
    this.buf = this.buf.slice(start);
    this.pos = this.buf.length;
    return out;
  }
}

/** `unix:PATH`, `tcp:HOST:PORT` (OVSDB's connection syntax). */
export function parseTarget(target: string): { path: string } | { host: string; port: number } {
  if (target.startsWith('unix:') && target.length > 5) return { path: target.slice(5) };
  const m = /^tcp:(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(target);
  if (m && Number(m[2]) > 0 && Number(m[2]) < 65536) return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  throw new Error(`not an OVSDB connection (unix:PATH or tcp:HOST:PORT): ${JSON.stringify(target)}`);
}

export interface RpcConnectionOptions {
  /** Send an echo after this long without traffic from the peer; close when the next interval
   * also passes in silence. 0 = never. */
  probeMs?: number;
  /** Called with each notification (a request with id null). */
  onNotification?: (method: string, params: Json[]) => void;
  /** Called once when the connection ends, with why. */
  onClose?: (why: string) => void;
}

interface Pending {
  method: string;
  resolve: (result: Json) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

export class RpcConnection {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly splitter = new JsonSplitter();
  private closed?: string;
  private lastHeard = Date.now();
  private probe?: NodeJS.Timeout;

  private constructor(
    private readonly socket: Socket,
    private readonly o: RpcConnectionOptions,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.close(err.message));
    socket.on('close', () => this.close('connection closed by the peer'));
    if (o.probeMs) {
      this.probe = setInterval(() => this.keepalive(o.probeMs!), o.probeMs);
      this.probe.unref();
    }
  }

  /** Opens a connection to `target` within `timeoutMs`. */
  static open(target: string, o: RpcConnectionOptions & { timeoutMs?: number } = {}): Promise<RpcConnection> {
    const where = parseTarget(target);
    return new Promise((resolve, reject) => {
      const socket = 'path' in where ? connect(where.path) : connect(where.port, where.host);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ConnectionClosed(`${target}: no connection within ${o.timeoutMs ?? 10_000} ms`));
      }, o.timeoutMs ?? 10_000);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new ConnectionClosed(`${target}: ${err.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RpcConnection(socket, o));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  private keepalive(probeMs: number): void {
    const silent = Date.now() - this.lastHeard;
    if (silent >= 2 * probeMs) this.close(`no answer to echo within ${probeMs} ms`);
    else if (silent >= probeMs) this.request('echo', []).catch(() => undefined);
  }

  private onData(chunk: string): void {
    this.lastHeard = Date.now();
    let texts: string[];
    try {
      texts = this.splitter.push(chunk);
    } catch (err) {
      this.close((err as Error).message);
      return;
    }
    for (const text of texts) {
      let msg: { id?: Json; method?: string; params?: Json[]; result?: Json; error?: Json };
      try {
        msg = JSON.parse(text);
      } catch {
        this.close('the peer sent text that is not JSON');
        return;
      }
      if (typeof msg.method === 'string') {
        if (msg.method === 'echo' && msg.id !== null && msg.id !== undefined) {
          this.send({ id: msg.id, result: msg.params ?? [], error: null });
        } else if (msg.id === null || msg.id === undefined) this.o.onNotification?.(msg.method, msg.params ?? []);
        else this.send({ id: msg.id, result: null, error: `unknown method ${msg.method}` });
        continue;
      }
      const p = this.pending.get(String(msg.id));
      if (!p) continue;
      this.pending.delete(String(msg.id));
      clearTimeout(p.timer);
      if (msg.error !== null && msg.error !== undefined) p.reject(new RpcError(p.method, msg.error));
      else p.resolve(msg.result ?? null);
    }
  }

  private send(msg: Record<string, Json>): void {
    if (this.closed) return;
    this.socket.write(JSON.stringify(msg));
  }

  /** Sends a request; resolves with its result, rejects with RpcError or ConnectionClosed (also
   * after `timeoutMs`, which leaves the connection open). */
  request(method: string, params: Json[], timeoutMs?: number): Promise<Json> {
    if (this.closed) return Promise.reject(new ConnectionClosed(this.closed));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { method, resolve, reject };
      if (timeoutMs) {
        p.timer = setTimeout(() => {
          this.pending.delete(String(id));
          reject(new ConnectionClosed(`${method}: no reply within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(String(id), p);
      this.send({ method, params, id });
    });
  }

  close(why = 'closed'): void {
    if (this.closed) return;
    this.closed = why;
    clearInterval(this.probe);
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ConnectionClosed(why));
    }
    this.pending.clear();
    this.o.onClose?.(why);
  }
}
