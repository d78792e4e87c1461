// Transport on top of a Broker backend: call (request, reply matched by _msg_id, deadline), cast,
// fanout, and listeners that dispatch to handlers and reply, the way oslo.messaging's AMQP driver
// and RPC dispatcher do. Written once, so the local and the RabbitMQ backends behave alike.
import type { Broker, Destination, Subscription, Withdrawal } from './broker.js';
import { decodeReply, decodeRequest, encodeReply, encodeRequest, failureToError, newId, serializeFailure } from './envelope.js';
import { RpcError, RpcTimeoutError, RpcTransportError } from './errors.js';
import type { Handlers, Listener, MessageOptions, RpcArgs, RpcLogger, Target, Transport } from './transport.js';

export interface EngineOptions {
  /** Default deadline of calls, and of casts waiting for a connection ([DEFAULT] rpc_response_timeout). */
  timeoutMs: number;
  log: RpcLogger;
}

interface PendingCall {
  method: string;
  /** The broker confirmed the request: only a reply (or a timeout) can settle it now. */
  sent: boolean;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  /** Withdraws the request from the backend's outbox once the call has ended. */
  withdrawal: Withdrawal;
  /** First half of an old-style two-message reply. */
  partial?: { result: unknown; failure: string | null };
}

// Topic and host names become queue names and routing keys: no AMQP wildcards, no spaces, ≤ 255 bytes.
const NAME_RE = /^[A-Za-z0-9_.:@-]{1,200}$/;

function checkName(what: string, name: string): void {
  if (!NAME_RE.test(name)) throw new RpcError(`invalid RPC ${what} '${name}'`);
}

function destination(target: Target): Destination {
  checkName('topic', target.topic);
  if (target.server === undefined) return { kind: 'topic', queue: target.topic };
  checkName('server', target.server);
  return { kind: 'topic', queue: `${target.topic}.${target.server}` };
}

const transportError = (err: unknown): Error =>
  err instanceof RpcError ? err : new RpcTransportError(err instanceof Error ? err.message : String(err));

const NO_SUCH_METHOD_MODULE = 'oslo_messaging.rpc.dispatcher';

export class BrokerTransport implements Transport {
  private readonly replyQueue = `reply_${newId()}`;
  private replySub: Promise<Subscription> | null = null;
  private readonly pending = new Map<string, PendingCall>();
  private readonly listeners = new Set<Listener>();
  private closed = false;

  constructor(
    readonly kind: 'local' | 'amqp',
    private readonly broker: Broker,
    private readonly opts: EngineOptions,
  ) {
    broker.onConnectionLost((reason) => {
      for (const [id, p] of this.pending) {
        if (p.sent) {
          this.finish(
            id,
            new RpcTransportError(`connection to the message broker lost while waiting for the reply to ${p.method} (${reason})`),
          );
        }
      }
    });
  }

  call<T = unknown>(target: Target, method: string, args: RpcArgs = {}, opts: MessageOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new RpcTransportError('the RPC transport is closed'));
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs;
    const msgId = newId();
    let dest: Destination;
    let body: string;
    try {
      dest = destination(target);
      body = encodeRequest({
        method,
        args,
        version: opts.version,
        context: opts.context ?? {},
        msgId,
        replyQueue: this.replyQueue,
      });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      const p: PendingCall = {
        method,
        sent: false,
        withdrawal: {},
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: setTimeout(() => this.finish(msgId, new RpcTimeoutError(method, timeoutMs, `message ID ${msgId}`)), timeoutMs),
      };
      this.pending.set(msgId, p);
      this.ensureReplyQueue()
        .then(() => this.broker.publish(dest, body, { ttlMs: timeoutMs, atMostOnce: true, withdrawal: p.withdrawal }))
        .then(
          () => {
            p.sent = true;
          },
          (err) => this.finish(msgId, transportError(err)),
        );
    });
  }

  cast(target: Target, method: string, args: RpcArgs = {}, opts: MessageOptions = {}): Promise<void> {
    return this.send(() => destination(target), method, args, opts);
  }

  fanout(topic: string, method: string, args: RpcArgs = {}, opts: MessageOptions = {}): Promise<void> {
    return this.send(
      () => {
        checkName('topic', topic);
        return { kind: 'fanout', topic };
      },
      method,
      args,
      opts,
    );
  }

  async listen(topic: string, server: string | undefined, handlers: Handlers): Promise<Listener> {
    this.assertOpen();
    checkName('topic', topic);
    if (server !== undefined) checkName('server', server);
    const queues = server === undefined ? [topic] : [topic, `${topic}.${server}`];
    const subs: Subscription[] = [];
    try {
      for (const queue of queues) {
        subs.push(
          await this.broker.subscribe({ kind: 'topic', queue }, (body) => {
            void this.dispatch(handlers, body, topic, queue, false);
          }),
        );
      }
    } catch (err) {
      await Promise.allSettled(subs.map((s) => s.cancel()));
      throw err;
    }
    return this.track(subs);
  }

  async fanoutListen(topic: string, handlers: Handlers): Promise<Listener> {
    this.assertOpen();
    checkName('topic', topic);
    const sub = await this.broker.subscribe({ kind: 'fanout', topic }, (body) => {
      void this.dispatch(handlers, body, topic, `${topic}_fanout`, true);
    });
    return this.track([sub]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.listeners].map((l) => l.stop()));
    for (const id of [...this.pending.keys()]) this.finish(id, new RpcTransportError('the RPC transport was closed'));
    const reply = this.replySub;
    this.replySub = null;
    if (reply) await reply.then((s) => s.cancel()).catch(() => {});
    await this.broker.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new RpcTransportError('the RPC transport is closed');
  }

  private async send(dest: () => Destination, method: string, args: RpcArgs, opts: MessageOptions): Promise<void> {
    this.assertOpen();
    const d = dest();
    const body = encodeRequest({ method, args, version: opts.version, context: opts.context ?? {} });
    await this.broker.publish(d, body, { deadline: Date.now() + (opts.timeoutMs ?? this.opts.timeoutMs) }).catch((err) => {
      throw transportError(err);
    });
  }

  private ensureReplyQueue(): Promise<Subscription> {
    if (!this.replySub) {
      const sub = this.broker.subscribe({ kind: 'reply', queue: this.replyQueue }, (body) => this.onReply(body));
      this.replySub = sub;
      sub.catch(() => {
        if (this.replySub === sub) this.replySub = null; // the next call tries again
      });
    }
    return this.replySub;
  }

  private onReply(body: string): void {
    let reply: ReturnType<typeof decodeReply>;
    try {
      reply = decodeReply(body);
    } catch (err) {
      this.opts.log.warn(`dropped an undecodable reply on ${this.replyQueue}: ${(err as Error).message}`);
      return;
    }
    const p = this.pending.get(reply.msgId);
    if (!p) {
      this.opts.log.debug(`reply to a call that has already ended (${reply.msgId})`);
      return;
    }
    if (!reply.ending) {
      p.partial = { result: reply.result, failure: reply.failure };
      return;
    }
    const failure = reply.failure ?? p.partial?.failure ?? null;
    if (failure !== null) this.finish(reply.msgId, failureToError(failure));
    else this.finish(reply.msgId, undefined, reply.result ?? p.partial?.result ?? null);
  }

  private finish(msgId: string, err: Error | undefined, value?: unknown): void {
    const p = this.pending.get(msgId);
    if (!p) return;
    this.pending.delete(msgId);
    clearTimeout(p.timer);
    p.withdrawal.withdraw?.();
    if (err) p.reject(err);
    else p.resolve(value);
  }

  private async dispatch(handlers: Handlers, body: string, topic: string, via: string, fanout: boolean): Promise<void> {
    let req: ReturnType<typeof decodeRequest>;
    try {
      req = decodeRequest(body);
    } catch (err) {
      this.opts.log.warn(`dropped an undecodable message on ${via}: ${(err as Error).message}`);
      return;
    }
    const { method } = req;
    const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
    let result: unknown = null;
    let failure: string | null = null;
    if (!handler) {
      failure = serializeFailure({
        type: 'NoSuchMethod',
        module: NO_SUCH_METHOD_MODULE,
        message: `Endpoint does not support RPC method ${method}`,
      });
      if (!req.msgId) this.opts.log.warn(`${via}: no handler for the cast ${method}`);
    } else {
      try {
        result = await handler(req.args as never, { method, context: req.context, topic, via, fanout });
      } catch (err) {
        failure = serializeFailure(err);
        if (!req.msgId) this.opts.log.error(`${via}: ${method} failed: ${(err as Error)?.message ?? err}`);
      }
    }
    if (!req.msgId || !req.replyQueue) return;
    let reply: string;
    try {
      reply = encodeReply({ msgId: req.msgId, result, failure });
    } catch (err) {
      const message = `the reply of ${method} is not JSON: ${(err as Error).message}`;
      reply = encodeReply({ msgId: req.msgId, result: null, failure: serializeFailure(new TypeError(message)) });
    }
    if (this.closed) return;
    await this.broker
      .publish({ kind: 'reply', queue: req.replyQueue }, reply, { deadline: Date.now() + this.opts.timeoutMs })
      .catch((err) => {
        if (!this.closed) this.opts.log.warn(`${via}: could not send the reply to ${method}: ${(err as Error).message}`);
      });
  }

  private track(subs: Subscription[]): Listener {
    let stopped: Promise<void> | null = null;
    const listener: Listener = {
      stop: () => {
        stopped ??= (async () => {
          this.listeners.delete(listener);
          await Promise.allSettled(subs.map((s) => s.cancel()));
        })();
        return stopped;
      },
    };
    this.listeners.add(listener);
    return listener;
  }
}
