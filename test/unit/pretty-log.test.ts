// Log lines for a terminal (src/cli/pretty-log.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prettyLine } from '../../src/cli/pretty-log.js';

const at = new Date(2026, 0, 2, 3, 4, 5, 6).getTime();

test('an access-log line reads as method, URL, status, time and the short request id', () => {
  const line = JSON.stringify({
    level: 30,
    time: at,
    pid: 1,
    hostname: 'h',
    reqId: 'req-0123456789abcdef',
    method: 'GET',
    url: '/v2.0/ports',
    status: 200,
    ms: 3.1,
    msg: 'request',
  });
  assert.equal(prettyLine(line, false), '03:04:05.006 INFO  GET /v2.0/ports 200 3.1 ms [req-01234567]');
});

test('other fields follow as key=value; an error brings its stack; colour only when asked', () => {
  const line = JSON.stringify({
    level: 50,
    time: at,
    msg: 'internal error',
    host: 'h 1',
    n: 2,
    err: { message: 'boom', stack: 'Error: boom\n    at x' },
  });
  assert.equal(prettyLine(line, false), '03:04:05.006 ERROR internal error host="h 1" n=2\nError: boom\n    at x');
  assert.ok(prettyLine(line, true).includes('\x1b[31mERROR\x1b[0m'));
  assert.equal(prettyLine('not json', false), 'not json');
});
