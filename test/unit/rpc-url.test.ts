// oslo.messaging transport URLs for RabbitMQ, and the oslo envelope.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAmqpUrl, redactUrl, TransportUrlError } from '../../src/rpc/amqp/url.js';
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  failureToError,
  serializeFailure,
} from '../../src/rpc/envelope.js';
import { RemoteFault } from '../../src/rpc/errors.js';

test('transport URLs: credentials, hosts, ports, virtual host', () => {
  assert.deepEqual(parseAmqpUrl('rabbit://openstack:s%40cret@10.0.0.1:5673/neutron?heartbeat=30'), {
    hosts: [{ hostname: '10.0.0.1', port: 5673, username: 'openstack', password: 's@cret' }],
    vhost: 'neutron',
    query: { heartbeat: '30' },
  });
  // Several hosts (oslo's round-robin failover); one without credentials takes the previous host's.
  assert.deepEqual(parseAmqpUrl('rabbit://u1:p1@h1,u2:p2@h2:5673,[::1]:5674/').hosts, [
    { hostname: 'h1', port: 5672, username: 'u1', password: 'p1' },
    { hostname: 'h2', port: 5673, username: 'u2', password: 'p2' },
    { hostname: '::1', port: 5674, username: 'u2', password: 'p2' },
  ]);
  assert.deepEqual(parseAmqpUrl('rabbit://localhost'), {
    hosts: [{ hostname: 'localhost', port: 5672, username: 'guest', password: 'guest' }],
    vhost: '/',
    query: {},
  });
  assert.equal(parseAmqpUrl('amqp://h/%2F').vhost, '/');
  for (const bad of ['http://h/', 'rabbit://', 'rabbit://h1,,h2/', 'rabbit://h:99999/', 'rabbit:/h', 'rabbit://u:%zz@h/']) {
    assert.throws(() => parseAmqpUrl(bad), TransportUrlError, bad);
  }
  assert.equal(redactUrl('rabbit://u:secret@h1,v:other@h2/x'), 'rabbit://u:***@h1,v:***@h2/x');
});

test('oslo envelope: requests, replies and failures round-trip', () => {
  const body = encodeRequest({
    method: 'm',
    args: { a: 1 },
    version: '1.1',
    context: { request_id: 'r' },
    msgId: 'id1',
    replyQueue: 'reply_x',
  });
  const outer = JSON.parse(body);
  assert.deepEqual(Object.keys(outer).sort(), ['oslo.message', 'oslo.version']);
  assert.deepEqual(decodeRequest(body), {
    method: 'm',
    args: { a: 1 },
    version: '1.1',
    context: { request_id: 'r' },
    msgId: 'id1',
    replyQueue: 'reply_x',
  });
  // oslo's 1.0 format had no envelope.
  assert.equal(decodeRequest(JSON.stringify({ method: 'x', args: {} })).method, 'x');
  assert.throws(() => decodeRequest('[1]'));
  assert.throws(() => decodeRequest(JSON.stringify({ args: {} })));
  assert.deepEqual(decodeReply(encodeReply({ msgId: 'id1', result: [1], failure: null })), {
    msgId: 'id1',
    result: [1],
    failure: null,
    ending: true,
  });
  const err = failureToError(serializeFailure(new RemoteFault('NetworkNotFound', 'Network n could not be found.')));
  assert.equal(err.type, 'NetworkNotFound');
  assert.equal(err.remoteMessage, 'Network n could not be found.');
  assert.equal(failureToError('not json').type, 'RemoteError');
});
