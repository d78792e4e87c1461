// The RabbitMQ transport: the shared engine on the amqplib backend.
import { BrokerTransport } from '../engine.js';
import { type RpcLogger, stderrLogger } from '../transport.js';
import { AmqpBroker, type AmqpBrokerOptions } from './broker.js';
import { parseAmqpUrl } from './url.js';

export type { AmqpBrokerOptions } from './broker.js';
export { parseAmqpUrl, redactUrl, TransportUrlError } from './url.js';

export interface AmqpTransportOptions extends Partial<Omit<AmqpBrokerOptions, 'hosts' | 'vhost' | 'log'>> {
  /** Default call deadline, ms ([DEFAULT] rpc_response_timeout). */
  timeoutMs?: number;
  log?: RpcLogger;
}

/** oslo.messaging's defaults, in ms where oslo has seconds. */
export const AMQP_DEFAULTS = {
  exchange: 'neutron',
  heartbeatSec: 60,
  retryIntervalMs: 1000,
  retryBackoff: 2,
  maxIntervalMs: 30_000,
  durableQueues: false,
  autoDelete: false,
  transientQueueTtlMs: 1_800_000,
  maxOutbox: 10_000,
  connectTimeoutMs: 10_000,
} satisfies Omit<AmqpBrokerOptions, 'hosts' | 'vhost' | 'log'>;

export class AmqpTransport extends BrokerTransport {
  private readonly amqp: AmqpBroker;

  constructor(url: string, opts: AmqpTransportOptions = {}) {
    const { hosts, vhost } = parseAmqpUrl(url);
    const log = opts.log ?? stderrLogger;
    const tuning = Object.fromEntries(
      Object.entries(opts).filter(([k, v]) => v !== undefined && k !== 'timeoutMs' && k !== 'log'),
    );
    const broker = new AmqpBroker({ ...AMQP_DEFAULTS, ...tuning, hosts, vhost, log });
    const timeoutMs = opts.timeoutMs ?? 60_000;
    super('amqp', broker, { timeoutMs, log });
    this.amqp = broker;
  }

  /** Resolves once connected to the broker (at once if it is). */
  connected(): Promise<void> {
    return this.amqp.connected();
  }

  get isConnected(): boolean {
    return this.amqp.isConnected;
  }
}
