// The `neutrino` command as a newcomer meets it (the built bin/neutrino.js): --version, help that
// lists what each command takes, a server that says on start what it serves and logs its stop,
// --debug lines, JSON logs when stdout is not a terminal, and `neutrino openapi`.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, run, ServerProcess } from '../fixtures/process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin/neutrino.js');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const neutrino = (args: string[]) => run(process.execPath, [BIN, ...args], { cwd: ROOT });

test('--version prints package.json’s version', async () => {
  const r = await neutrino(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
});

test('agent commands list only agent options, --transport-url among them', async () => {
  for (const kind of ['noop', 'linuxbridge']) {
    const r = await neutrino(['agent', kind, '--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const flag of ['--config-file', '--transport-url', '--host', '--debug']) assert.match(r.stdout, new RegExp(flag), kind);
    for (const flag of ['--bind-port', '--bind-host', '--connection', '--auth-strategy']) {
      assert.doesNotMatch(r.stdout, new RegExp(flag), `${kind} lists the server's ${flag}`);
    }
  }
  // The flag is the option: without any broker the agent gets as far as trying to reach it.
  const noUrl = await neutrino(['agent', 'noop', '--host', 'h1']);
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.stderr, /transport_url is required/);
});

test('a server states what it serves, logs debug lines with --debug, and logs its stop (JSON off a terminal)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'neutrino-cli-'));
  dirs.push(dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await ServerProcess.start(
    [process.execPath, BIN, 'all-in-one', '--bind-port', String(port), '--state-path', dir, '--debug'],
    { url, cwd: ROOT },
  );
  const r = await fetch(`${url}/v2.0/networks`, { headers: { 'x-project-id': 'p1', 'x-roles': 'member' } });
  assert.equal(r.status, 200);
  await server.stop();
  const lines = server.log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const start = lines.find((l) => /serving the Networking API/.test(l.msg));
  assert.ok(start, server.log);
  assert.match(start.msg, new RegExp(`on ${url} `));
  assert.match(start.msg, new RegExp(`database sqlite:///${dir}/neutrino.sqlite`));
  assert.match(start.msg, /bus in-process/);
  assert.match(start.msg, /auth_strategy noauth/);
  assert.match(start.msg, /extensions: .*\bsecurity-group\b/);
  assert.ok(
    lines.some((l) => l.level === 20 && l.msg === 'received GET /v2.0/networks from project p1'),
    'no debug line',
  );
  assert.ok(lines.some((l) => /^SIGTERM: stopping/.test(l.msg)));
  assert.equal(lines.at(-1)?.msg, 'stopped');
});

test('`neutrino openapi` prints a document of every resource', async () => {
  const r = await neutrino(['openapi']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  for (const p of ['/v2.0/networks', '/v2.0/ports/{id}', '/v2.0/security-groups', '/v2.0/quotas/{id}'])
    assert.ok(doc.paths[p], p);
});
