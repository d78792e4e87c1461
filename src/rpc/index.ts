// The RPC bus: transports (local, amqp), the server↔agent contract and its typed clients.

export { AmqpTransport } from './amqp/index.js';
export * from './clients.js';
export * from './contract.js';
export * from './dhcp.js';
export { RemoteFault, RpcError, RpcRemoteError, RpcTimeoutError, RpcTransportError } from './errors.js';
export { LocalBus, localBus, localTransport } from './local/index.js';
export { type OpenTransportOptions, openTransport } from './open.js';
export * from './transport.js';
