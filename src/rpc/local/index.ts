// The in-process bus, for the all-in-one and for tests: a small model of the RabbitMQ layout in
// broker.ts, so that it behaves as the amqp backend does. Topic queues outlive their consumers and
// keep messages until one comes; consumers of one queue take turns; every fanout listener has its
// own queue; a reply to a caller that has gone is dropped. Delivery is always asynchronous (never
// in the publisher's stack), and messages are JSON text, as on the wire.
import type { Broker, Destination, OnMessage, PublishOptions, QueueSpec, Subscription } from '../broker.js';
import { BrokerTransport } from '../engine.js';
import { newId } from '../envelope.js';
import { RpcTransportError } from '../errors.js';
import { type RpcLogger, stderrLogger, type Transport } from '../transport.js';

interface Message {
  body: string;
  expiresAt: number | null;
}

interface Consumer {
  onMessage: OnMessage;
  active: boolean;
}

class Queue {
  readonly consumers: Consumer[] = [];
  readonly backlog: Message[] = [];
  next = 0;
  constructor(readonly name: string) {}
}

export interface LocalOptions {
  /** Default call deadline (ms); 60 s as [DEFAULT] rpc_response_timeout. */
  timeoutMs?: number;
  log?: RpcLogger;
}

/** One bus: the queues that every transport connected to it shares (one "broker"). */
export class LocalBus {
  private readonly queues = new Map<string, Queue>();
  private readonly fanouts = new Map<string, Set<Queue>>();

  /** A transport on this bus, as a process's connection to a broker. */
  connect(opts: LocalOptions = {}): Transport {
    const log = opts.log ?? stderrLogger;
    return new BrokerTransport('local', new LocalBroker(this, log), { timeoutMs: opts.timeoutMs ?? 60_000, log });
  }

  /** @internal */
  topicQueue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name);
      this.queues.set(name, q);
    }
    return q;
  }

  /** @internal */
  replyQueue(name: string): Queue | undefined {
    return this.queues.get(name);
  }

  /** @internal */
  deleteQueue(q: Queue): void {
    if (this.queues.get(q.name) === q) this.queues.delete(q.name);
  }

  /** @internal */
  bindFanout(topic: string, q: Queue): void {
    let set = this.fanouts.get(topic);
    if (!set) {
      set = new Set();
      this.fanouts.set(topic, set);
    }
    set.add(q);
  }

  /** @internal */
  unbindFanout(topic: string, q: Queue): void {
    const set = this.fanouts.get(topic);
    set?.delete(q);
    if (set?.size === 0) this.fanouts.delete(topic);
  }

  /** @internal */
  fanoutQueues(topic: string): Iterable<Queue> {
    return this.fanouts.get(topic) ?? [];
  }

  /** @internal */
  enqueue(q: Queue, msg: Message): void {
    if (q.consumers.length === 0) {
      q.backlog.push(msg);
      return;
    }
    const consumer = q.consumers[q.next++ % q.consumers.length];
    setImmediate(() => {
      if (msg.expiresAt !== null && Date.now() > msg.expiresAt) return;
      // Cancelled meanwhile: back to the queue, as RabbitMQ requeues an unacknowledged delivery.
      if (!consumer.active) this.enqueue(q, msg);
      else consumer.onMessage(msg.body);
    });
  }

  /** @internal */
  addConsumer(q: Queue, consumer: Consumer): void {
    q.consumers.push(consumer);
    for (const msg of q.backlog.splice(0)) this.enqueue(q, msg);
  }

  /** @internal */
  removeConsumer(q: Queue, consumer: Consumer): void {
    consumer.active = false;
    const i = q.consumers.indexOf(consumer);
    if (i >= 0) q.consumers.splice(i, 1);
  }
}

const buses = new Map<string, LocalBus>();

/** The process-wide bus called `name` (`local://name`; '' for plain `local://`). */
export function localBus(name = ''): LocalBus {
  let bus = buses.get(name);
  if (!bus) {
    bus = new LocalBus();
    buses.set(name, bus);
  }
  return bus;
}

/** A transport on a bus of this process (default: the unnamed one). */
export function localTransport(opts: LocalOptions & { bus?: LocalBus | string } = {}): Transport {
  const bus = opts.bus instanceof LocalBus ? opts.bus : localBus(opts.bus ?? '');
  return bus.connect(opts);
}

class LocalBroker implements Broker {
  private readonly subs = new Set<Subscription>();
  private closed = false;

  constructor(
    private readonly bus: LocalBus,
    private readonly log: RpcLogger,
  ) {}

  async publish(dest: Destination, body: string, opts: PublishOptions): Promise<void> {
    if (this.closed) throw new RpcTransportError('the RPC transport is closed');
    const msg: Message = { body, expiresAt: opts.ttlMs === undefined ? null : Date.now() + opts.ttlMs };
    switch (dest.kind) {
      case 'topic':
        // As the amqp backend, the publisher declares the queue: a cast waits for its listener.
        this.bus.enqueue(this.bus.topicQueue(dest.queue), msg);
        break;
      case 'fanout':
        for (const q of this.bus.fanoutQueues(dest.topic)) this.bus.enqueue(q, msg);
        break;
      case 'reply': {
        const q = this.bus.replyQueue(dest.queue);
        if (q) this.bus.enqueue(q, msg);
        else this.log.debug(`reply queue ${dest.queue} is gone: reply dropped`);
        break;
      }
    }
  }

  async subscribe(spec: QueueSpec, onMessage: OnMessage): Promise<Subscription> {
    if (this.closed) throw new RpcTransportError('the RPC transport is closed');
    const consumer: Consumer = { onMessage, active: true };
    let q: Queue;
    let unbind = () => {};
    switch (spec.kind) {
      case 'topic':
        q = this.bus.topicQueue(spec.queue);
        break;
      case 'reply':
        q = this.bus.topicQueue(spec.queue);
        unbind = () => this.bus.deleteQueue(q);
        break;
      case 'fanout':
        q = new Queue(`${spec.topic}_fanout_${newId()}`);
        this.bus.bindFanout(spec.topic, q);
        unbind = () => this.bus.unbindFanout(spec.topic, q);
        break;
    }
    this.bus.addConsumer(q, consumer);
    const sub: Subscription = {
      cancel: async () => {
        if (!this.subs.delete(sub)) return;
        this.bus.removeConsumer(q, consumer);
        unbind();
      },
    };
    this.subs.add(sub);
    return sub;
  }

  onConnectionLost(): void {
    // An in-process bus never loses its connection.
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.cancel()));
  }
}
