// oslo.messaging's wire format, so that a message on the bus looks like Neutron's: the envelope
// {"oslo.version": "2.0", "oslo.message": "<JSON>"} around {method, args, version, _msg_id, _reply_q,
// _unique_id, _context_*}, and replies {result, failure, ending, _msg_id} where `failure` is a JSON
// string {class, module, message, tb, args, kwargs}. Both backends encode through here, so the local
// bus has the same JSON semantics (no shared objects, no undefined, no class instances) as RabbitMQ.
import { randomUUID } from 'node:crypto';
import { RpcRemoteError } from './errors.js';
import type { RpcArgs } from './transport.js';

const OSLO_VERSION = '2.0';

export const newId = (): string => randomUUID().replaceAll('-', '');

export interface Request {
  method: string;
  args: RpcArgs;
  version?: string;
  context: Record<string, unknown>;
  /** Set on calls: the id the reply carries, and the queue it goes to. */
  msgId?: string;
  replyQueue?: string;
}

export interface Reply {
  msgId: string;
  result: unknown;
  /** oslo's serialized remote exception (a JSON string), or null. */
  failure: string | null;
  /** False on the first half of an old-style two-message reply (result, then ending). */
  ending: boolean;
}

const wrap = (inner: Record<string, unknown>): string =>
  JSON.stringify({ 'oslo.version': OSLO_VERSION, 'oslo.message': JSON.stringify(inner) });

/** The inner message: unwrapped from the 2.0 envelope, or taken as is (oslo's 1.0 format had none). */
function unwrap(body: string): Record<string, unknown> {
  const outer = JSON.parse(body) as unknown;
  if (!outer || typeof outer !== 'object' || Array.isArray(outer)) throw new Error('not a JSON object');
  const o = outer as Record<string, unknown>;
  if (typeof o['oslo.message'] === 'string') {
    const inner = JSON.parse(o['oslo.message']) as unknown;
    if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw new Error('oslo.message is not a JSON object');
    return inner as Record<string, unknown>;
  }
  return o;
}

export function encodeRequest(req: Request): string {
  const inner: Record<string, unknown> = { method: req.method, args: req.args };
  if (req.version !== undefined) inner.version = req.version;
  for (const [k, v] of Object.entries(req.context)) inner[`_context_${k}`] = v;
  if (req.msgId !== undefined) {
    inner._msg_id = req.msgId;
    inner._reply_q = req.replyQueue;
  }
  inner._unique_id = newId();
  return wrap(inner);
}

export function decodeRequest(body: string): Request {
  const m = unwrap(body);
  if (typeof m.method !== 'string') throw new Error('message without a method');
  const args = m.args ?? {};
  if (typeof args !== 'object' || Array.isArray(args)) throw new Error('args is not an object');
  const context: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (k.startsWith('_context_')) context[k.slice(9)] = v;
  const req: Request = { method: m.method, args: args as RpcArgs, context };
  if (typeof m.version === 'string') req.version = m.version;
  if (typeof m._msg_id === 'string' && typeof m._reply_q === 'string') {
    req.msgId = m._msg_id;
    req.replyQueue = m._reply_q;
  }
  return req;
}

export function encodeReply(r: Omit<Reply, 'ending'>): string {
  return wrap({ result: r.result ?? null, failure: r.failure, ending: true, _msg_id: r.msgId, _unique_id: newId() });
}

export function decodeReply(body: string): Reply {
  const m = unwrap(body);
  if (typeof m._msg_id !== 'string') throw new Error('reply without _msg_id');
  const failure =
    m.failure === null || m.failure === undefined ? null : typeof m.failure === 'string' ? m.failure : JSON.stringify(m.failure);
  return { msgId: m._msg_id, result: m.result ?? null, failure, ending: m.ending === true };
}

/** A thrown value as oslo's serialize_remote_exception writes it. The type is an error's own `type`
 * (NeutronError, RemoteFault) or its name. No traceback crosses the wire. */
export function serializeFailure(err: unknown): string {
  const e = (err ?? {}) as { type?: unknown; name?: unknown; message?: unknown; module?: unknown };
  const type = typeof e.type === 'string' && e.type ? e.type : typeof e.name === 'string' && e.name ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const module = typeof e.module === 'string' ? e.module : 'neutrino';
  return JSON.stringify({ class: type, module, message, tb: [], args: [message], kwargs: {} });
}

export function failureToError(failure: string): RpcRemoteError {
  try {
    const f = JSON.parse(failure) as { class?: unknown; module?: unknown; message?: unknown };
    return new RpcRemoteError(
      typeof f.class === 'string' ? f.class : 'RemoteError',
      typeof f.message === 'string' ? f.message : String(f.message ?? ''),
      typeof f.module === 'string' ? f.module : null,
    );
  } catch {
    return new RpcRemoteError('RemoteError', failure);
  }
}
