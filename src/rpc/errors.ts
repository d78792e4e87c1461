// What an RPC can fail with, as oslo.messaging distinguishes it: no reply in time (MessagingTimeout),
// the bus itself failed (connection lost, broker refused, transport closed), or the remote handler
// raised, which comes back with the remote error's type name and message.

export class RpcError extends Error {}

/** No reply within the call's deadline (oslo's MessagingTimeout). The request may or may not have run. */
export class RpcTimeoutError extends RpcError {
  override readonly name = 'MessagingTimeout';
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
    detail = '',
  ) {
    super(`Timed out waiting for a reply to ${method} after ${timeoutMs} ms${detail ? ` (${detail})` : ''}`);
  }
}

/** The transport could not carry the message: connection lost with the outcome unknown, the broker
 * refused it, too many messages waiting for a reconnection, or the transport was closed. */
export class RpcTransportError extends RpcError {
  override readonly name = 'RpcTransportError';
}

/** The remote handler failed; `type` is its error's type name (a NeutronError's type such as
 * 'PortNotFound', 'NoSuchMethod' for an unknown method, or a JavaScript/Python class name). */
export class RpcRemoteError extends RpcError {
  override readonly name = 'RpcRemoteError';
  constructor(
    readonly type: string,
    readonly remoteMessage: string,
    /** Where the error class lives remotely (oslo's `module`), when the sender said. */
    readonly module: string | null = null,
  ) {
    super(`Remote error: ${type} ${remoteMessage}`);
  }
}

/** A handler throws this (or any error with a string `type`) to give the caller a specific error type. */
export class RemoteFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}
