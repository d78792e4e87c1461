// The built `neutrino` command, driven as an operator and a user would: the real `openstack` CLI
// (python3-openstackclient) against `neutrino all-in-one`, a bad config file, `neutrino db upgrade`.
// Runs the compiled CLI (bin/neutrino.js → dist/), which `npm ci` builds through the prepare script.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { childEnv, freePort, run, ServerProcess } from '../fixtures/process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin/neutrino.js');
const BUILT = join(ROOT, 'dist/cli/main.js');
const IN_CI = process.env.CI === 'true';

function assertBuilt(): void {
  if (!existsSync(BUILT)) {
    assert.fail(`${BUILT} is missing: the CLI is not built. Run \`npm ci\` (prepare script) or \`npm run build\` first.`);
  }
}

/** Names the src/ files changed since dist/ was built: these tests would run stale code. */
function staleSources(): string[] {
  const built = statSync(BUILT).mtimeMs;
  const src = join(ROOT, 'src');
  return readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && statSync(join(src, f)).mtimeMs > built)
    .map((f) => `src/${f}`);
}

before(() => {
  if (!existsSync(BUILT)) return;
  const stale = staleSources();
  if (stale.length) {
    console.warn(
      `warning: dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}: run \`npm run build\``,
    );
  }
});

const neutrino = (args: string[], timeoutMs?: number) => run(process.execPath, [BIN, ...args], { timeoutMs });

/** Starts `neutrino <args> --bind-port <free port>` on 127.0.0.1 and waits until it answers GET /. */
async function startServer(args: string[]): Promise<ServerProcess> {
  const port = await freePort();
  return ServerProcess.start([process.execPath, BIN, ...args, '--bind-host', '127.0.0.1', '--bind-port', String(port)], {
    url: `http://127.0.0.1:${port}`,
    label: `neutrino ${args.join(' ')}`,
  });
}

function hasOpenstack(): boolean {
  const r = spawnSync('openstack', ['--version'], { env: childEnv(), stdio: 'ignore', timeout: 60_000 });
  return !r.error && r.status === 0;
}

function ipv4ToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  assert.equal(parts.length, 4, `not an IPv4 address: ${ip}`);
  return parts.reduce((acc, p) => {
    assert.ok(Number.isInteger(p) && p >= 0 && p <= 255, `not an IPv4 address: ${ip}`);
    return acc * 256 + p;
  }, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  const base = ipv4ToInt(net);
  const n = ipv4ToInt(ip);
  return n >= base && n < base + size;
}

const OPENSTACK_PRESENT = hasOpenstack();
const OPENSTACK_SKIP =
  !OPENSTACK_PRESENT && !IN_CI ? 'the `openstack` CLI is not installed (apt-get install python3-openstackclient)' : false;

describe('openstack CLI against neutrino all-in-one (noauth)', { skip: OPENSTACK_SKIP, timeout: 300_000 }, () => {
  let server: ServerProcess | undefined;
  let state: string;

  before(async () => {
    if (!OPENSTACK_PRESENT) return; // CI=true: the test fails with the reason
    assertBuilt();
    state = mkdtempSync(join(tmpdir(), 'neutrino-cli-'));
    server = await startServer(['all-in-one', '--state-path', state]);
  });

  after(async () => {
    await server?.stop();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  /** `openstack --os-auth-type none --os-endpoint URL <args>`; fails the test on a non-zero exit. */
  async function openstack(args: string[]): Promise<string> {
    assert.ok(server);
    const r = await run('openstack', ['--os-auth-type', 'none', '--os-endpoint', server.url, ...args], { timeoutMs: 120_000 });
    if (r.code !== 0) {
      assert.fail(`openstack ${args.join(' ')} → exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
    return r.stdout;
  }
  // biome-ignore lint/suspicious/noExplicitAny: CLI JSON output is read loosely
  const openstackJson = async (args: string[]): Promise<any> => JSON.parse(await openstack([...args, '-f', 'json']));

  test('network create, subnet create, port create, port list --long, network show, delete', async () => {
    if (!OPENSTACK_PRESENT) {
      assert.fail('the `openstack` CLI is required when CI=true: apt-get install python3-openstackclient (see .ci/run)');
    }
    const net = await openstackJson(['network', 'create', 'cli-net']);
    assert.equal(net.name, 'cli-net');
    assert.match(net.id, /^[0-9a-f-]{36}$/);

    const subnet = await openstackJson(['subnet', 'create', '--network', net.id, '--subnet-range', '10.0.0.0/24', 'cli-subnet']);
    assert.equal(subnet.cidr, '10.0.0.0/24');
    assert.equal(subnet.network_id, net.id);

    const port = await openstackJson(['port', 'create', '--network', net.id, 'cli-port']);
    assert.equal(port.network_id, net.id);

    const ports = await openstackJson(['port', 'list', '--long']);
    assert.ok(Array.isArray(ports), `port list is not a list: ${JSON.stringify(ports)}`);
    const listed = ports.find((p: { ID: string }) => p.ID === port.id);
    assert.ok(listed, `port ${port.id} is not in port list --long: ${JSON.stringify(ports)}`);
    assert.equal(listed.Name, 'cli-port');
    const fixedIps = listed['Fixed IP Addresses'];
    assert.ok(Array.isArray(fixedIps) && fixedIps.length === 1, `expected one fixed IP: ${JSON.stringify(listed)}`);
    assert.equal(fixedIps[0].subnet_id, subnet.id);
    assert.ok(inCidr(fixedIps[0].ip_address, '10.0.0.0/24'), `${fixedIps[0].ip_address} is not in 10.0.0.0/24`);
    assert.notEqual(fixedIps[0].ip_address, subnet.gateway_ip, 'the port got the gateway address');
    // openstackclient 6 asks fields=security_group_ids, which names no port attribute: Neutron Zed
    // returns no such field (checked with neutron-up.sh), so the column is empty there, and here.
    assert.equal(listed['Security Groups'], null, JSON.stringify(listed));

    const shown = await openstackJson(['network', 'show', net.id]);
    assert.equal(shown.id, net.id);
    assert.equal(shown.name, 'cli-net');
    const subnets = Array.isArray(shown.subnets) ? shown.subnets : String(shown.subnets).split(/[,\s]+/);
    assert.deepEqual(subnets, [subnet.id]);

    await openstack(['port', 'delete', port.id]);
    await openstack(['subnet', 'delete', subnet.id]);
    await openstack(['network', 'delete', net.id]);
    const left = await openstackJson(['network', 'list']);
    assert.deepEqual(
      left.filter((n: { ID: string }) => n.ID === net.id),
      [],
    );
  });
});

describe('neutrino command line', { timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), 'neutrino-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('an unknown option in a config file stops `neutrino server` with a clear message', async () => {
    const conf = join(dir, 'bad.conf');
    writeFileSync(
      conf,
      `[DEFAULT]\nbind_host = 127.0.0.1\nno_such_option = 1\n[database]\nconnection = sqlite:///${dir}/bad.sqlite\n`,
    );
    const port = await freePort();
    const r = await neutrino(['server', '--config-file', conf, '--bind-port', String(port)], 30_000);
    assert.equal(
      r.signal,
      null,
      `neutrino server did not exit by itself (killed by ${r.signal}): it is serving despite the bad option`,
    );
    assert.notEqual(r.code, 0, 'neutrino server exited 0 with an unknown option');
    assert.match(r.stderr, /no_such_option/, `stderr does not name the option: ${r.stderr}`);
    assert.match(r.stderr, /unknown option/i);
    assert.ok(r.stderr.includes(conf), `stderr does not name the file: ${r.stderr}`);
  });

  test('`neutrino db upgrade --connection sqlite:////…` migrates, is idempotent, and `neutrino server` serves the result', async () => {
    const file = join(dir, 'x.sqlite');
    const url = `sqlite:///${file}`; // file is absolute: sqlite:////tmp/…
    assert.match(url, /^sqlite:\/\/\/\//);
    const first = await neutrino(['db', 'upgrade', '--connection', url]);
    assert.equal(first.code, 0, `db upgrade failed: ${first.stderr}`);
    assert.match(first.stdout, /applied: /);
    assert.ok(existsSync(file), `${file} was not created`);
    const second = await neutrino(['db', 'upgrade', '--connection', url]);
    assert.equal(second.code, 0, `second db upgrade failed: ${second.stderr}`);
    assert.match(second.stdout, /up to date/);

    const server = await startServer(['server', '--connection', url]);
    try {
      const r = await fetch(`${server.url}/v2.0/networks`);
      assert.equal(r.status, 200, server.log);
      assert.deepEqual(await r.json(), { networks: [] });
    } finally {
      await server.stop();
    }
  });
});
