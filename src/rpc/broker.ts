// The backend seam (a Kysely-style dialect for the bus): what a backend must do is move opaque
// message bodies between a few kinds of queue with AMQP's semantics. Calls, replies, timeouts and
// dispatch are written once on top of this (engine.ts), so every backend behaves alike.
//
// The layout is oslo.messaging's on RabbitMQ:
//  - topic queues `<topic>` and `<topic>.<server>`, bound by their own name to the control exchange
//    (`neutron`, a topic exchange); several consumers of one queue take turns;
//  - a fanout exchange `<topic>_fanout`, with one queue per fanout listener;
//  - each caller's reply queue `reply_<uuid>`, published to directly (the default exchange).

export type Destination = { kind: 'topic'; queue: string } | { kind: 'fanout'; topic: string } | { kind: 'reply'; queue: string };

export type QueueSpec = { kind: 'topic'; queue: string } | { kind: 'fanout'; topic: string } | { kind: 'reply'; queue: string };

export interface PublishOptions {
  /** Absolute time (ms since the epoch) by which the broker must have taken the message; after it
   * the publish rejects with RpcTransportError (while disconnected, messages wait until then).
   * Without one, only `withdrawal` ends the wait (a call's request: the call has its own deadline). */
  deadline?: number;
  /** Dropped by the broker if not consumed within this long (a call's request past its timeout). */
  ttlMs?: number;
  /** The message must not be sent twice: if the connection drops before the broker confirmed it,
   * reject instead of publishing it again after reconnecting (a call's request: it might have run). */
  atMostOnce?: boolean;
  /** For a message that may stop being wanted (a call that ended): the backend sets `withdraw`,
   * and calling it drops the message if it still waits to be sent (the publish then rejects).
   * Lighter than an AbortSignal, which costs a DOMException per call. */
  withdrawal?: Withdrawal;
}

export interface Withdrawal {
  withdraw?: () => void;
}

export interface Subscription {
  cancel(): Promise<void>;
}

export type OnMessage = (body: string) => void;

export interface Broker {
  /** Resolves once the broker has taken the message (publisher confirm). */
  publish(dest: Destination, body: string, opts: PublishOptions): Promise<void>;
  /** Declares the queue (and its exchange and binding) and consumes it until cancelled, again after
   * every reconnection. Deliveries are at most once (acknowledged on receipt, as oslo does). */
  subscribe(spec: QueueSpec, onMessage: OnMessage): Promise<Subscription>;
  /** `cb` runs whenever the connection to the broker is lost (replies to calls outstanding then
   * can no longer be counted on). */
  onConnectionLost(cb: (reason: string) => void): void;
  close(): Promise<void>;
}
