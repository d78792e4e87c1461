// The RabbitMQ backend, on amqplib: one connection with a confirm channel for publishing and a
// channel for consuming, oslo.messaging's exchanges and queues (./topology.ts, ../broker.ts), heartbeats, and
// recovery when the broker goes away:
//  - reconnection with exponential back-off, trying the URL's hosts in turn; after it, the exchanges,
//    queues and consumers are declared again;
//  - publishing is confirmed by the broker. A message published while disconnected waits in a bounded
//    outbox and is sent after reconnecting; one published but not yet confirmed when the connection
//    drops is sent again (at least once), except a call's request (at most once: it is failed, since
//    it may have run). Every message has a deadline, past which its publish rejects;
//  - lost connections are reported (onConnectionLost) so that calls waiting for a reply fail at once
//    instead of at their timeout.
import { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, connect } from 'amqplib';
import type { Broker, Destination, OnMessage, PublishOptions, QueueSpec, Subscription } from '../broker.js';
import { newId } from '../envelope.js';
import { RpcTransportError } from '../errors.js';
import type { AmqpBrokerOptions } from './options.js';
import { declareDestination, declareExchange, declareSubscription, publishProperties, route } from './topology.js';

export type { AmqpBrokerOptions } from './options.js';

interface Outgoing {
  dest: Destination;
  body: Buffer;
  opts: PublishOptions;
  resolve(): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
  state: 'queued' | 'sending' | 'unconfirmed' | 'done';
  /** The connection generation it was published on. */
  gen: number;
}

interface Sub {
  spec: QueueSpec;
  queue: string;
  onMessage: OnMessage;
  /** Consumer tag on the connection of generation `gen`. */
  tag?: string;
  gen: number;
}

interface Conn {
  model: ChannelModel;
  pub: ConfirmChannel;
  sub: Channel;
  gen: number;
}

// A function, so that TypeScript does not narrow `state` across awaits.
const isDone = (o: Outgoing): boolean => o.state === 'done';

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class AmqpBroker implements Broker {
  private conn: Conn | null = null;
  private gen = 0;
  private state: 'connecting' | 'open' | 'closed' = 'connecting';
  private attempt = 0;
  private nextHost = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly subs = new Set<Sub>();
  private outbox: Outgoing[] = [];
  private readonly unconfirmed = new Set<Outgoing>();
  /** Publisher-side declarations made on the current connection. */
  private declared = new Map<string, Promise<void>>();
  private readonly lostCallbacks: Array<(reason: string) => void> = [];
  private readonly openWaiters: Array<{ ok: () => void; fail: (err: Error) => void }> = [];
  private flushing = false;

  constructor(private readonly o: AmqpBrokerOptions) {
    if (o.hosts.length === 0) throw new RpcTransportError('no RabbitMQ host in the transport URL');
    void this.tryConnect();
  }

  /** Resolves once connected (now, or after the next successful reconnection). */
  connected(): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(new RpcTransportError('the RPC transport is closed'));
    return new Promise((ok, fail) => this.openWaiters.push({ ok, fail }));
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  get isConnected(): boolean {
    return this.state === 'open';
  }

  onConnectionLost(cb: (reason: string) => void): void {
    this.lostCallbacks.push(cb);
  }

  // ------------------------------------------------------------------ connection lifecycle

  private async tryConnect(): Promise<void> {
    this.retryTimer = null;
    if (this.state === 'closed') return;
    const host = this.o.hosts[this.nextHost++ % this.o.hosts.length];
    const where = `${host.hostname}:${host.port}`;
    const gen = ++this.gen;
    let model: ChannelModel | null = null;
    try {
      model = await connect(
        {
          protocol: 'amqp',
          hostname: host.hostname,
          port: host.port,
          username: host.username,
          password: host.password,
          vhost: this.o.vhost,
          heartbeat: this.o.heartbeatSec,
        },
        { timeout: this.o.connectTimeoutMs, noDelay: true, clientProperties: { connection_name: `neutrino:${process.pid}` } },
      );
      const m = model;
      m.on('error', (err: Error) => this.o.log.debug(`connection to ${where}: ${err.message}`));
      m.on('close', (err?: Error) => this.lost(gen, err ? errText(err) : 'connection closed'));
      m.on('blocked', (reason: string) => this.o.log.warn(`RabbitMQ at ${where} blocks publishing: ${reason}`));
      const pub = await m.createConfirmChannel();
      const sub = await m.createChannel();
      for (const [name, ch] of [
        ['publishing', pub],
        ['consuming', sub],
      ] as const) {
        ch.on('error', (err: Error) => this.o.log.warn(`${name} channel to ${where}: ${err.message}`));
        // A channel the broker closed (a refused declaration, say) takes the connection with it:
        // the next one starts clean and declares everything again.
        ch.on('close', () => {
          if (this.gen === gen && this.state !== 'closed') m.close().catch(() => {});
        });
      }
      pub.on('return', (msg: ConsumeMessage) =>
        this.o.log.debug(`undeliverable message to ${msg.fields.routingKey} returned (its receiver has gone)`),
      );
      if (this.gen !== gen || this.isClosed()) throw new Error('superseded');
      this.conn = { model: m, pub, sub, gen };
      await declareExchange(this.conn.pub, this.o);
      for (const s of this.subs) await this.establish(s, this.conn);
      if (this.gen !== gen || this.isClosed()) throw new Error('superseded');
      this.state = 'open';
      if (this.attempt > 0) this.o.log.info(`reconnected to RabbitMQ at ${where}`);
      this.attempt = 0;
      for (const w of this.openWaiters.splice(0)) w.ok();
      void this.flush();
    } catch (err) {
      if (this.gen === gen) this.conn = null;
      if (model) await model.close().catch(() => {});
      if (this.isClosed() || this.gen !== gen) return;
      this.scheduleReconnect(`cannot connect to RabbitMQ at ${where}: ${errText(err)}`);
    }
  }

  private lost(gen: number, reason: string): void {
    if (gen !== this.gen) return; // a connection already given up
    this.gen++;
    this.conn = null;
    this.declared = new Map();
    for (const s of this.subs) s.tag = undefined;
    const resend: Outgoing[] = [];
    for (const o of this.unconfirmed) {
      if (o.opts.atMostOnce)
        this.settle(o, new RpcTransportError(`connection to RabbitMQ lost before the broker confirmed the message (${reason})`));
      else {
        o.state = 'queued';
        resend.push(o);
      }
    }
    this.unconfirmed.clear();
    this.outbox = [...resend, ...this.outbox];
    if (this.isClosed()) return;
    const wasOpen = this.state === 'open';
    this.state = 'connecting';
    if (wasOpen) {
      this.o.log.warn(`connection to RabbitMQ lost: ${reason}; reconnecting`);
      for (const cb of this.lostCallbacks) cb(reason);
    }
    this.scheduleReconnect(reason, wasOpen);
  }

  private scheduleReconnect(reason: string, immediately = false): void {
    if (this.retryTimer || this.state === 'closed') return;
    this.state = 'connecting';
    // First retry at once after a drop (a blip), then rabbit_retry_interval × rabbit_retry_backoff^n,
    // capped at rabbit_interval_max, with ±20 % jitter so that many agents do not retry in step.
    const base = Math.min(this.o.maxIntervalMs, this.o.retryIntervalMs * Math.max(1, this.o.retryBackoff) ** this.attempt);
    const delay = immediately ? 0 : Math.round(base * (0.8 + 0.4 * Math.random()));
    if (!immediately) {
      this.attempt++;
      const log = this.attempt === 1 || this.attempt % 10 === 0 ? this.o.log.warn : this.o.log.debug;
      log(`${reason}; retrying in ${delay} ms (attempt ${this.attempt})`);
    }
    this.retryTimer = setTimeout(() => void this.tryConnect(), delay);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const err = new RpcTransportError('the RPC transport was closed');
    for (const w of this.openWaiters.splice(0)) w.fail(err);
    for (const o of [...this.outbox, ...this.unconfirmed]) this.settle(o, err);
    this.outbox = [];
    this.unconfirmed.clear();
    const conn = this.conn;
    this.conn = null;
    this.gen++;
    if (conn) {
      // Fanout and reply queues are this process's own: delete them rather than wait for them to expire.
      await Promise.allSettled([...this.subs].filter((s) => s.spec.kind !== 'topic').map((s) => conn.sub.deleteQueue(s.queue)));
      await conn.model.close().catch(() => {});
    }
    this.subs.clear();
  }

  // ------------------------------------------------------------------ topology

  /** Declares a subscription's queue (exchange, binding) on connection `c` and consumes it. */
  private async establish(s: Sub, c: Conn): Promise<void> {
    await declareSubscription(c.sub, s.spec, s.queue, this.o);
    // Acknowledged on receipt (noAck), as oslo acknowledges an RPC message before dispatching it.
    const { consumerTag } = await c.sub.consume(s.queue, (msg) => this.deliver(s, c, msg), { noAck: true });
    s.tag = consumerTag;
    s.gen = c.gen;
  }

  private deliver(s: Sub, c: Conn, msg: ConsumeMessage | null): void {
    if (msg) {
      s.onMessage(msg.content.toString('utf8'));
      return;
    }
    // The broker cancelled the consumer (its queue was deleted): declare and consume again.
    if (!this.subs.has(s) || c.gen !== this.gen) return;
    this.o.log.warn(`RabbitMQ cancelled the consumer of ${s.queue}; consuming it again`);
    this.establish(s, c).catch((err) => {
      this.o.log.warn(`cannot consume ${s.queue} again: ${errText(err)}`);
      c.model.close().catch(() => {});
    });
  }

  async subscribe(spec: QueueSpec, onMessage: OnMessage): Promise<Subscription> {
    if (this.state === 'closed') throw new RpcTransportError('the RPC transport is closed');
    const queue = spec.kind === 'fanout' ? `${spec.topic}_fanout_${newId()}` : spec.queue;
    const s: Sub = { spec, queue, onMessage, gen: -1 };
    this.subs.add(s);
    const c = this.conn;
    // Connected: consume now. Otherwise the (re)connection declares and consumes it before it
    // sends anything waiting in the outbox.
    if (c && this.state === 'open') {
      try {
        await this.establish(s, c);
      } catch (err) {
        if (c.gen === this.gen) {
          this.subs.delete(s);
          throw new RpcTransportError(`cannot consume ${queue}: ${errText(err)}`);
        }
      }
    }
    return { cancel: () => this.unsubscribe(s) };
  }

  private async unsubscribe(s: Sub): Promise<void> {
    if (!this.subs.delete(s)) return;
    const c = this.conn;
    if (!c || s.gen !== c.gen) return;
    try {
      if (s.tag) await c.sub.cancel(s.tag);
      if (s.spec.kind !== 'topic') await c.sub.deleteQueue(s.queue);
    } catch (err) {
      this.o.log.debug(`stopping the consumer of ${s.queue}: ${errText(err)}`);
    }
  }

  // ------------------------------------------------------------------ publishing

  publish(dest: Destination, body: string, opts: PublishOptions): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new RpcTransportError('the RPC transport is closed'));
    if (this.outbox.length + this.unconfirmed.size >= this.o.maxOutbox) {
      return Promise.reject(
        new RpcTransportError(`${this.o.maxOutbox} messages already wait for RabbitMQ to take them (${this.state})`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const o: Outgoing = {
        dest,
        body: Buffer.from(body, 'utf8'),
        opts,
        resolve,
        reject,
        state: 'queued',
        gen: -1,
      };
      if (opts.deadline !== undefined) {
        o.timer = setTimeout(
          () => {
            const waiting =
              o.state === 'queued' ? 'waiting for a connection to RabbitMQ' : 'waiting for the broker to confirm it';
            this.settle(o, new RpcTransportError(`message not sent: its deadline passed ${waiting}`));
          },
          Math.max(0, opts.deadline - Date.now()),
        );
      }
      if (opts.withdrawal) opts.withdrawal.withdraw = () => this.settle(o, new RpcTransportError('message withdrawn'));
      if (this.state === 'open' && this.outbox.length === 0 && !this.flushing) void this.send(o);
      else this.outbox.push(o);
    });
  }

  /** Sends what waited for the connection, in order, once it is open. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.state === 'open' && this.outbox.length > 0) {
        const o = this.outbox.shift()!;
        if (o.state === 'queued') await this.send(o);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async send(o: Outgoing): Promise<void> {
    const c = this.conn;
    if (!c || this.state !== 'open') {
      this.outbox.unshift(o);
      return;
    }
    o.state = 'sending';
    try {
      await this.declareFor(o.dest, c);
    } catch (err) {
      if (isDone(o)) return;
      if (c.gen !== this.gen) {
        // The connection went while declaring: send it on the next one.
        o.state = 'queued';
        this.outbox.unshift(o);
        if (this.state === 'open') void this.flush();
      } else this.settle(o, new RpcTransportError(`cannot declare the destination of a message: ${errText(err)}`));
      return;
    }
    if (isDone(o)) return; // its deadline passed meanwhile
    if (c.gen !== this.gen) {
      o.state = 'queued';
      this.outbox.unshift(o);
      if (this.state === 'open') void this.flush();
      return;
    }
    const [exchange, routingKey] = route(o.dest, this.o.exchange);
    const props = publishProperties(o.dest, o.opts, this.o);
    o.state = 'unconfirmed';
    o.gen = c.gen;
    this.unconfirmed.add(o);
    try {
      c.pub.publish(exchange, routingKey, o.body, props, (err: unknown) => {
        if (o.gen !== this.gen || o.state === 'done') return; // settled by lost() or the deadline
        // 'channel closed' is not an answer: the connection goes with the channel, and lost()
        // sends the message again or fails it.
        if (err && errText(err) !== 'message nacked') return;
        if (err) this.settle(o, new RpcTransportError('RabbitMQ refused the message (nack)'));
        else this.settle(o);
      });
    } catch (err) {
      // The channel closed under us; lost() requeues it (or fails it, at most once) shortly.
      this.o.log.debug(`publish on a closing channel: ${errText(err)}`);
    }
  }

  /** The publisher declares what it sends to, once per connection: the fanout exchange, and a topic
   * queue with its binding, so that a cast made while its listener is down (a server restarting, or
   * a broker that restarted and lost its non-durable queues) waits for it instead of being dropped. */
  private declareFor(dest: Destination, c: Conn): Promise<void> {
    if (dest.kind === 'reply') return Promise.resolve();
    const key = dest.kind === 'topic' ? `q:${dest.queue}` : `f:${dest.topic}`;
    let p = this.declared.get(key);
    if (!p) {
      p = declareDestination(c.pub, dest, this.o);
      if (c.gen === this.gen) this.declared.set(key, p);
      p.catch(() => {
        if (this.declared.get(key) === p) this.declared.delete(key);
      });
    }
    return p;
  }

  private settle(o: Outgoing, err?: Error): void {
    if (o.state === 'done') return;
    o.state = 'done';
    clearTimeout(o.timer);
    this.unconfirmed.delete(o);
    const i = this.outbox.indexOf(o);
    if (i >= 0) this.outbox.splice(i, 1);
    if (err) o.reject(err);
    else o.resolve();
  }
}
