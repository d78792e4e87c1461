// The settings of the RabbitMQ backend, from the transport URL and [oslo_messaging_rabbit].
import type { RpcLogger } from '../transport.js';
import type { AmqpHost } from './url.js';

export interface AmqpBrokerOptions {
  hosts: AmqpHost[];
  vhost: string;
  /** The topic exchange of topic queues ([DEFAULT] control_exchange, 'neutron'). */
  exchange: string;
  /** Negotiated AMQP heartbeat, s; 0 disables ([oslo_messaging_rabbit] heartbeat_timeout_threshold). */
  heartbeatSec: number;
  /** First reconnection delay, ms ([oslo_messaging_rabbit] rabbit_retry_interval). */
  retryIntervalMs: number;
  /** Each further delay is the previous one times this ([oslo_messaging_rabbit] rabbit_retry_backoff). */
  retryBackoff: number;
  /** Longest delay between attempts, ms ([oslo_messaging_rabbit] rabbit_interval_max). */
  maxIntervalMs: number;
  /** Topic exchange and queues survive a broker restart ([oslo_messaging_rabbit] amqp_durable_queues). */
  durableQueues: boolean;
  /** Topic exchange and queues go when their last consumer does ([oslo_messaging_rabbit] amqp_auto_delete). */
  autoDelete: boolean;
  /** Unused reply and fanout queues expire after this long, ms (rabbit_transient_queues_ttl). */
  transientQueueTtlMs: number;
  /** Most messages waiting for a connection (or a confirm) at a time; beyond it publishing fails. */
  maxOutbox: number;
  /** Giving up on one connection attempt (TCP and AMQP handshake), ms. */
  connectTimeoutMs: number;
  log: RpcLogger;
}
