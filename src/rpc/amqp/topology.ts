// oslo.messaging's layout on RabbitMQ: the topic exchange, topic queues bound by their name, a
// fanout exchange per topic with a queue per listener, direct reply queues; what a subscription
// declares before it consumes and what a publisher declares before it sends.
import type { Channel, Options } from 'amqplib';
import type { Destination, PublishOptions, QueueSpec } from '../broker.js';
import type { AmqpBrokerOptions } from './options.js';

type Layout = Pick<AmqpBrokerOptions, 'exchange' | 'durableQueues' | 'autoDelete' | 'transientQueueTtlMs'>;

export function declareExchange(ch: Channel, o: Layout): Promise<unknown> {
  return ch.assertExchange(o.exchange, 'topic', { durable: o.durableQueues, autoDelete: o.autoDelete });
}

const topicQueueOptions = (o: Layout): Options.AssertQueue => ({ durable: o.durableQueues, autoDelete: o.autoDelete });

/** Declares the queue a subscription consumes (and its exchange and binding). */
export async function declareSubscription(ch: Channel, spec: QueueSpec, queue: string, o: Layout): Promise<void> {
  switch (spec.kind) {
    case 'topic':
      await ch.assertQueue(queue, topicQueueOptions(o));
      await ch.bindQueue(queue, o.exchange, queue);
      break;
    case 'fanout': {
      const exchange = `${spec.topic}_fanout`;
      await ch.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
      await ch.assertQueue(queue, { durable: false, autoDelete: false, expires: o.transientQueueTtlMs });
      await ch.bindQueue(queue, exchange, spec.topic);
      break;
    }
    case 'reply':
      await ch.assertQueue(queue, { durable: false, autoDelete: false, expires: o.transientQueueTtlMs });
      break;
  }
}

/** What a publisher declares before sending to `dest`: the fanout exchange, or a topic queue with
 * its binding (so that a cast made while its listener is down waits for it). Replies need nothing. */
export function declareDestination(ch: Channel, dest: Destination, o: Layout): Promise<void> {
  if (dest.kind === 'reply') return Promise.resolve();
  if (dest.kind === 'topic') {
    return ch
      .assertQueue(dest.queue, topicQueueOptions(o))
      .then(() => ch.bindQueue(dest.queue, o.exchange, dest.queue))
      .then(() => {});
  }
  return ch.assertExchange(`${dest.topic}_fanout`, 'fanout', { durable: false, autoDelete: true }).then(() => {});
}

/** [exchange, routing key] of a destination. */
export function route(dest: Destination, exchange: string): [string, string] {
  switch (dest.kind) {
    case 'topic':
      return [exchange, dest.queue];
    case 'fanout':
      return [`${dest.topic}_fanout`, dest.topic];
    case 'reply':
      return ['', dest.queue];
  }
}

export function publishProperties(dest: Destination, opts: PublishOptions, o: Layout): Options.Publish {
  const props: Options.Publish = {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    deliveryMode: o.durableQueues && dest.kind === 'topic' ? 2 : 1,
    // A reply to a caller that has gone comes back (basic.return) rather than vanishing silently.
    mandatory: dest.kind === 'reply',
  };
  if (opts.ttlMs !== undefined) props.expiration = String(Math.max(1, Math.round(opts.ttlMs)));
  return props;
}
