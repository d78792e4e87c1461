// The RPC bus between the server and its agents, as oslo.messaging shapes it: a `call` waits for one
// reply (or a timeout), a `cast` is delivered to one listener of a topic without a reply, a `fanout`
// to every listener of a topic. Listeners register async handlers per method. Every backend
// (local/ in-process, amqp/ over RabbitMQ) implements this and passes the same conformance suite.

/** Where a call or cast goes: a topic's shared queue (one listener of the topic takes each message),
 * or with `server`, the queue `<topic>.<server>` of that one host's listener. */
export interface Target {
  topic: string;
  server?: string;
}

/** Keyword arguments of a method, as a JSON object (oslo sends Python kwargs). */
export type RpcArgs = Record<string, unknown>;

/** What a handler learns about the message beside its arguments. */
export interface RpcContext {
  method: string;
  /** The caller's request context (oslo's `_context_*` keys without the prefix): request_id, … */
  context: Record<string, unknown>;
  /** The topic the listener was registered on. */
  topic: string;
  /** The queue or fanout topic the message came in on: `<topic>`, `<topic>.<server>` or `<topic>_fanout`. */
  via: string;
  fanout: boolean;
}

/** A method's implementation. Its result (JSON) is the reply to a call; what it throws comes back to
 * the caller as an RpcRemoteError with the error's `type` (or name) and message. */
// `never`: any handler whose args are typed more narrowly fits (parameters are contravariant).
export type Handler = (args: never, ctx: RpcContext) => unknown;

export type Handlers = Readonly<Record<string, Handler>>;

export interface MessageOptions {
  /** The request context sent along (`_context_*`). */
  context?: Record<string, unknown>;
  /** The API version the message is for (oslo's `version`). */
  version?: string;
  /** Call: how long to wait for the reply. Cast/fanout: how long the message may wait for a
   * connection to the broker before the send fails. Default: [DEFAULT] rpc_response_timeout. */
  timeoutMs?: number;
}

export interface Listener {
  /** Stops consuming; handlers already running finish on their own. */
  stop(): Promise<void>;
}

export interface Transport {
  readonly kind: 'local' | 'amqp';
  /** Calls `method` on one listener of `target` and resolves with its reply. Rejects with
   * RpcTimeoutError after the deadline, RpcRemoteError when the handler failed, RpcTransportError
   * when the connection to the broker was lost while the call was outstanding. */
  call<T = unknown>(target: Target, method: string, args?: RpcArgs, opts?: MessageOptions): Promise<T>;
  /** Sends `method` to one listener of `target` without a reply. Resolves once the bus has taken the
   * message (RabbitMQ: publisher-confirmed); while disconnected the message waits, bounded, for the
   * connection to come back, and the promise rejects (RpcTransportError) if it cannot be sent in time. */
  cast(target: Target, method: string, args?: RpcArgs, opts?: MessageOptions): Promise<void>;
  /** Sends `method` to every fanout listener of `topic` (no reply; as cast otherwise). */
  fanout(topic: string, method: string, args?: RpcArgs, opts?: MessageOptions): Promise<void>;
  /** Serves `handlers` on `topic`'s shared queue and, with `server`, on `<topic>.<server>` too, as an
   * oslo RPC server with `Target(topic, server)` does. Queues outlive their listeners, as in RabbitMQ:
   * a cast sent while no one listens waits for the next listener. */
  listen(topic: string, server: string | undefined, handlers: Handlers): Promise<Listener>;
  /** Serves `handlers` for fanouts to `topic`, on a queue of this listener's own. */
  fanoutListen(topic: string, handlers: Handlers): Promise<Listener>;
  /** Stops every listener, fails outstanding calls and unsent messages (RpcTransportError), and
   * disconnects. */
  close(): Promise<void>;
}

/** Where the bus reports what it cannot report to a caller (a cast's handler failing, a reply that
 * could not be delivered, reconnections). */
export interface RpcLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** The default logger: info (reconnections), warnings and errors on stderr; debug dropped. */
export const stderrLogger: RpcLogger = {
  debug() {},
  info: (msg) => process.stderr.write(`rpc: ${msg}\n`),
  warn: (msg) => process.stderr.write(`rpc: ${msg}\n`),
  error: (msg) => process.stderr.write(`rpc: ${msg}\n`),
};

export const silentLogger: RpcLogger = { debug() {}, info() {}, warn() {}, error() {} };
