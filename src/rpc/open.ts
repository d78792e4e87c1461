// Which transport a configuration asks for: `[DEFAULT] transport_url` unset or local:// → the
// in-process bus (local://NAME: a bus of that name), rabbit:// → RabbitMQ with the
// [oslo_messaging_rabbit] options; `rpc_response_timeout` is every call's default deadline.
import type { Config } from '../config/load.js';
import { AmqpTransport, type AmqpTransportOptions } from './amqp/index.js';
import { TransportUrlError } from './amqp/url.js';
import { localTransport } from './local/index.js';
import type { RpcLogger, Transport } from './transport.js';

export interface OpenTransportOptions {
  log?: RpcLogger;
  /** RabbitMQ settings beyond the configuration's, in ms (tests shorten the reconnection delays). */
  amqp?: AmqpTransportOptions;
}

const isConfig = (x: unknown): x is Config => typeof x === 'object' && x !== null;

function num(cfg: Config, section: string, name: string, dflt: number): number {
  const v = cfg[section]?.[name];
  return typeof v === 'number' ? v : dflt;
}

function flag(cfg: Config, section: string, name: string, dflt: boolean): boolean {
  const v = cfg[section]?.[name];
  return typeof v === 'boolean' ? v : dflt;
}

/** The transport of a configuration (or of a bare transport URL, with defaults for the rest). It
 * returns at once: a RabbitMQ transport connects, and reconnects, in the background, and messages
 * sent meanwhile wait for it within their deadlines. */
export async function openTransport(
  source: Config | string | null | undefined,
  opts: OpenTransportOptions = {},
): Promise<Transport> {
  const cfg = isConfig(source) ? source : null;
  const url = (isConfig(source) ? (source.DEFAULT?.transport_url as string | null | undefined) : source) ?? 'local://';
  const timeoutMs = cfg ? num(cfg, 'DEFAULT', 'rpc_response_timeout', 60) * 1000 : 60_000;
  const scheme = /^([a-z0-9+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'local') {
    return localTransport({ bus: decodeURIComponent(url.slice('local://'.length).replace(/\/$/, '')), timeoutMs, log: opts.log });
  }
  if (scheme === 'rabbit' || scheme === 'amqp' || scheme === 'kombu+rabbit') {
    const r = 'oslo_messaging_rabbit';
    const fromConfig: AmqpTransportOptions = cfg
      ? {
          exchange: (cfg.DEFAULT?.control_exchange as string | undefined) ?? 'neutron',
          heartbeatSec: num(cfg, r, 'heartbeat_timeout_threshold', 60),
          retryIntervalMs: num(cfg, r, 'rabbit_retry_interval', 1) * 1000,
          retryBackoff: num(cfg, r, 'rabbit_retry_backoff', 2),
          maxIntervalMs: num(cfg, r, 'rabbit_interval_max', 30) * 1000,
          durableQueues: flag(cfg, r, 'amqp_durable_queues', false),
          autoDelete: flag(cfg, r, 'amqp_auto_delete', false),
          transientQueueTtlMs: num(cfg, r, 'rabbit_transient_queues_ttl', 1800) * 1000,
        }
      : {};
    return new AmqpTransport(url, { timeoutMs, log: opts.log, ...fromConfig, ...opts.amqp });
  }
  throw new TransportUrlError(
    `unsupported transport URL scheme in '${url.replace(/:[^:@/]*@/, ':***@')}' (local:// or rabbit://)`,
  );
}
