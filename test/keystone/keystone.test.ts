// Neutrino behind a real Keystone, end to end: scripts/keystone.sh starts a private Keystone (Debian's
// `keystone` package, Zed, on uwsgi, SQLite) with projects alpha and beta and users alice (member of
// alpha), bob (member of beta), rita (reader on alpha); `neutrino server` runs with auth_strategy =
// keystone; the real `openstack` CLI acts as each user through the catalog's `network` endpoint.
// Then, with fetch: a garbage token, a revoked token, and Keystone hanging or gone.
// Needs keystone, uwsgi-plugin-python3 and python3-openstackclient (apt); skipped without them,
// failed without them when CI is set. Runs the compiled CLI (bin/neutrino.js → dist/).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { childEnv, freePort, keystoneMissing, onPath, type RunResult, run, ServerProcess } from '../fixtures/process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin/neutrino.js');
const BUILT = join(ROOT, 'dist/cli/main.js');
const SCRIPT = join(ROOT, 'scripts/keystone.sh');
const IN_CI = !!process.env.CI && process.env.CI !== 'false';

// The passwords scripts/keystone.sh gives its users (test-only Keystone, set explicitly here).
const PASSWORDS = { admin: 'admin-pw-t', service: 'neutron-pw-t', user: 'user-pw-t' };
/** [keystone_authtoken] of the server under test: short, so the cache and timeout cases are quick. */
const TOKEN_CACHE_TIME = 1;
const HTTP_CONNECT_TIMEOUT = 5;

/** What this test needs that is not installed, as an apt-get hint; empty when all is there. */
function missingTools(): string[] {
  const missing = keystoneMissing();
  if (!onPath('openstack')) missing.push('python3-openstackclient');
  return missing;
}

const MISSING = missingTools();
const MISSING_REASON = MISSING.length
  ? `not installed: ${MISSING.join(', ')} (apt-get install ${MISSING.join(' ')}; .ci/run installs them)`
  : '';
const SKIP = MISSING.length && !IN_CI ? MISSING_REASON : false;

const keystoneEnv = () =>
  childEnv({
    KEYSTONE_ADMIN_PASSWORD: PASSWORDS.admin,
    KEYSTONE_SERVICE_PASSWORD: PASSWORDS.service,
    KEYSTONE_USER_PASSWORD: PASSWORDS.user,
  });

/** `scripts/keystone.sh <args>`; fails with its output on a non-zero exit. */
async function keystoneScript(args: string[], timeoutMs = 240_000): Promise<void> {
  const r = await run('bash', [SCRIPT, ...args], { env: keystoneEnv(), timeoutMs });
  if (r.code !== 0) {
    assert.fail(`scripts/keystone.sh ${args.join(' ')} → ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** Starts `neutrino <args>` (listening on 127.0.0.1:port) and waits until GET / (no token needed) answers 200. */
function startServer(args: string[], port: number): Promise<ServerProcess> {
  const label = `neutrino ${args.join(' ')}`;
  return ServerProcess.start([process.execPath, BIN, ...args], {
    url: `http://127.0.0.1:${port}`,
    label,
    exitedMessage: (s) => `${label} exited (${JSON.stringify(s.exitStatus)}):\n${s.log}`,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type User = 'admin' | 'alice' | 'bob' | 'rita';
const PROJECT_OF: Record<User, string> = { admin: 'admin', alice: 'alpha', bob: 'beta', rita: 'alpha' };

describe('Neutrino with a real Keystone (auth_strategy = keystone)', { skip: SKIP, timeout: 300_000 }, () => {
  let dir = '';
  let ksDir = '';
  let ksUrl = '';
  let keystoneUp = false;
  let server: ServerProcess | undefined;
  /** Keystone's uwsgi processes while they are frozen with SIGSTOP (to thaw them whatever happens). */
  let frozen: number[] = [];
  const projectIds: Record<string, string> = {};
  // Resources made along the way, by the tests that follow.
  let aliceNet = '';
  let bobNet = '';

  before(async () => {
    if (MISSING.length) return; // CI: the first test fails with the reason
    if (!existsSync(BUILT)) {
      assert.fail(`${BUILT} is missing: the CLI is not built. Run \`npm ci\` (prepare script) or \`npm run build\` first.`);
    }
    dir = mkdtempSync(join(tmpdir(), 'neutrino-keystone-'));
    ksDir = join(dir, 'keystone');
    const ksPort = await freePort();
    let nPort = await freePort();
    while (nPort === ksPort) nPort = await freePort();
    ksUrl = `http://127.0.0.1:${ksPort}/v3`;
    const conf = join(dir, 'neutrino.conf');
    writeFileSync(
      conf,
      [
        '[DEFAULT]',
        'bind_host = 127.0.0.1',
        `bind_port = ${nPort}`,
        'auth_strategy = keystone',
        `state_path = ${dir}`,
        '[database]',
        `connection = sqlite:///${join(dir, 'neutrino.sqlite')}`,
        '[keystone_authtoken]',
        `www_authenticate_uri = http://127.0.0.1:${ksPort}`,
        `auth_url = http://127.0.0.1:${ksPort}`,
        'auth_type = password',
        'username = neutron',
        `password = ${PASSWORDS.service}`,
        'project_name = service',
        'user_domain_name = Default',
        'project_domain_name = Default',
        `token_cache_time = ${TOKEN_CACHE_TIME}`,
        `http_connect_timeout = ${HTTP_CONNECT_TIMEOUT}`,
        '',
      ].join('\n'),
    );
    // Keystone (the slow part) and the database migration side by side.
    const [, upgrade] = await Promise.all([
      keystoneScript(['start', ksDir, String(ksPort), `http://127.0.0.1:${nPort}`]).then(() => {
        keystoneUp = true;
      }),
      run(process.execPath, [BIN, 'db', 'upgrade', '--config-file', conf], { timeoutMs: 60_000 }),
    ]);
    assert.equal(upgrade.code, 0, `neutrino db upgrade failed: ${upgrade.stderr}`);
    server = await startServer(['server', '--config-file', conf], nPort);

    const admin = await issueToken('admin');
    const r = await fetch(`${ksUrl}/projects`, { headers: { 'x-auth-token': admin.token } });
    assert.equal(r.status, 200);
    for (const p of ((await r.json()) as { projects: Array<{ id: string; name: string }> }).projects) {
      projectIds[p.name] = p.id;
    }
  });

  after(async () => {
    for (const pid of frozen) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone already
      }
    }
    await server?.stop();
    if (keystoneUp) await keystoneScript(['stop', ksDir], 60_000).catch((e) => console.error(String(e)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A Keystone token of the user, scoped to the user's project, straight from Keystone's API. */
  async function issueToken(user: User): Promise<{ token: string; projectId: string }> {
    const password = user === 'admin' ? PASSWORDS.admin : PASSWORDS.user;
    const r = await fetch(`${ksUrl}/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
          scope: { project: { name: PROJECT_OF[user], domain: { id: 'default' } } },
        },
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const token = r.headers.get('x-subject-token');
    if (r.status !== 201 || !token) assert.fail(`Keystone refused ${user}: ${r.status} ${await r.text()}`);
    const body = (await r.json()) as { token: { project: { id: string } } };
    return { token, projectId: body.token.project.id };
  }

  /** `openstack <args>` as the user (password auth through Keystone; Neutrino found in the catalog). */
  function openstack(user: User, args: string[]): Promise<RunResult> {
    const env = childEnv({
      OS_AUTH_URL: ksUrl,
      OS_IDENTITY_API_VERSION: '3',
      OS_USERNAME: user,
      OS_PASSWORD: user === 'admin' ? PASSWORDS.admin : PASSWORDS.user,
      OS_PROJECT_NAME: PROJECT_OF[user],
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_REGION_NAME: 'RegionOne',
      OS_INTERFACE: 'public',
    });
    return run('openstack', args, { env, timeoutMs: 120_000 });
  }

  function explain(user: User, args: string[], r: RunResult): string {
    return `${user}: openstack ${args.join(' ')} → exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n--- neutrino log (tail):\n${server?.log.slice(-3000) ?? ''}`;
  }

  // biome-ignore lint/suspicious/noExplicitAny: CLI JSON output is read loosely
  async function openstackJson(user: User, args: string[]): Promise<any> {
    const full = [...args, '-f', 'json'];
    const r = await openstack(user, full);
    if (r.code !== 0) assert.fail(explain(user, full, r));
    return JSON.parse(r.stdout);
  }

  const networkIds = async (user: User): Promise<string[]> =>
    (await openstackJson(user, ['network', 'list'])).map((n: { ID: string }) => n.ID);

  function requireTools(): void {
    if (MISSING.length) assert.fail(`CI is set and this test needs ${MISSING_REASON}`);
  }

  test('alice (member of alpha) creates a network, a subnet and a port in alpha', async () => {
    requireTools();
    const net = await openstackJson('alice', ['network', 'create', 'alice-net']);
    assert.equal(net.name, 'alice-net');
    assert.equal(net.project_id, projectIds.alpha, `network is not in project alpha: ${JSON.stringify(net)}`);
    aliceNet = net.id;
    const subnet = await openstackJson('alice', [
      'subnet',
      'create',
      '--network',
      aliceNet,
      '--subnet-range',
      '10.10.0.0/24',
      'alice-subnet',
    ]);
    assert.equal(subnet.network_id, aliceNet);
    assert.equal(subnet.project_id, projectIds.alpha);
    const port = await openstackJson('alice', ['port', 'create', '--network', aliceNet, 'alice-port']);
    assert.equal(port.network_id, aliceNet);
    assert.equal(port.project_id, projectIds.alpha);
    assert.equal(port.fixed_ips.length, 1, JSON.stringify(port.fixed_ips));
    assert.match(port.fixed_ips[0].ip_address, /^10\.10\.0\./);
  });

  test("bob (member of beta) cannot see alice's network, and creates his own", async () => {
    requireTools();
    assert.ok(aliceNet, 'needs the network of the previous test');
    const show = await openstack('bob', ['network', 'show', aliceNet]);
    assert.notEqual(show.code, 0, `bob can show alice's network: ${show.stdout}`);
    assert.doesNotMatch(show.stdout, new RegExp(aliceNet));
    assert.match(show.stderr, /no network found|not found|404/i, show.stderr);
    assert.ok(!(await networkIds('bob')).includes(aliceNet), "alice's network is in bob's list");
    const net = await openstackJson('bob', ['network', 'create', 'bob-net']);
    assert.equal(net.project_id, projectIds.beta);
    bobNet = net.id;
  });

  test('admin sees both networks; alice sees only hers', async () => {
    requireTools();
    assert.ok(aliceNet && bobNet, 'needs the networks of the previous tests');
    const [adminSees, aliceSees] = await Promise.all([networkIds('admin'), networkIds('alice')]);
    assert.ok(adminSees.includes(aliceNet) && adminSees.includes(bobNet), `admin sees ${adminSees}`);
    assert.deepEqual(aliceSees, [aliceNet]);
  });

  test("rita (reader on alpha) lists and shows alpha's network", async () => {
    requireTools();
    assert.ok(aliceNet && bobNet, 'needs the networks of the previous tests');
    const [listed, shown] = await Promise.all([networkIds('rita'), openstackJson('rita', ['network', 'show', aliceNet])]);
    assert.deepEqual(listed, [aliceNet]);
    assert.equal(shown.id, aliceNet);
    assert.equal(shown.name, 'alice-net');
  });

  test('rita (reader) cannot create a network: 403', async () => {
    requireTools();
    const args = ['network', 'create', 'rita-net', '-f', 'json'];
    const r = await openstack('rita', args);
    if (r.code === 0) {
      // Created after all: remove it so it does not linger in alpha, then fail.
      const made = JSON.parse(r.stdout) as { id: string };
      await openstack('admin', ['network', 'delete', made.id]);
      assert.fail(`rita (reader) created a network: ${r.stdout}`);
    }
    assert.match(r.stderr, /403|forbidden|not authorized|disallowed by policy/i, explain('rita', args, r));
  });

  test('a garbage token or none is 401 with WWW-Authenticate naming Keystone, on all of /v2.0 but not on /', async () => {
    requireTools();
    assert.ok(server);
    const url = server.url;
    const root = await fetch(`${url}/`, { signal: AbortSignal.timeout(30_000) });
    assert.equal(root.status, 200, 'the version list needs no token, as in Neutron');
    const cases: Array<[string, Record<string, string>]> = [];
    for (const path of ['/v2.0/networks', '/v2.0/extensions', '/v2.0/extensions/binding', '/v2.0'])
      for (const headers of [{ 'x-auth-token': 'gAAAAAB-garbage-token' }, {}] as Array<Record<string, string>>)
        cases.push([path, headers]);
    for (const [path, headers] of cases) {
      const r = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(30_000) });
      const body = await r.text();
      assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)} → ${r.status} ${body}`);
      const www = r.headers.get('www-authenticate');
      assert.ok(www, 'no WWW-Authenticate header on a 401');
      assert.match(www, /^Keystone uri=/);
      assert.ok(www.includes(ksUrl.replace(/\/v3$/, '')), `WWW-Authenticate does not name this Keystone: ${www}`);
      assert.ok(JSON.parse(body).NeutronError, `not a NeutronError: ${body}`);
    }
  });

  test('a revoked token is refused once its cache entry expires (token_cache_time = 1)', async () => {
    requireTools();
    assert.ok(server);
    const { token } = await issueToken('alice');
    const get = () =>
      fetch(`${server?.url}/v2.0/networks`, { headers: { 'x-auth-token': token }, signal: AbortSignal.timeout(30_000) });
    const valid = await get();
    assert.equal(valid.status, 200, await valid.text());
    const revoke = await fetch(`${ksUrl}/auth/tokens`, {
      method: 'DELETE',
      headers: { 'x-auth-token': token, 'x-subject-token': token },
      signal: AbortSignal.timeout(30_000),
    });
    if (revoke.status !== 204) assert.fail(`Keystone did not revoke the token: ${revoke.status} ${await revoke.text()}`);
    await sleep(TOKEN_CACHE_TIME * 1000 + 300);
    const afterRevoke = await get();
    const body = await afterRevoke.text();
    assert.equal(afterRevoke.status, 401, body);
    assert.ok(afterRevoke.headers.get('www-authenticate'));
  });

  test('Keystone hanging, then stopped: 503 within http_connect_timeout, never a hang or a 500', async () => {
    requireTools();
    assert.ok(server);
    const { token } = await issueToken('bob');
    const get = async () => {
      const t0 = Date.now();
      const r = await fetch(`${server?.url}/v2.0/networks`, {
        headers: { 'x-auth-token': token },
        signal: AbortSignal.timeout((HTTP_CONNECT_TIMEOUT + 15) * 1000),
      });
      return { status: r.status, body: await r.text(), ms: Date.now() - t0 };
    };
    const ok = await get();
    assert.equal(ok.status, 200, ok.body);
    const limitMs = HTTP_CONNECT_TIMEOUT * 1000 + 2_000;

    // Hanging: uwsgi frozen with SIGSTOP. The kernel still accepts connections on its socket, but
    // nothing answers: Neutrino must give up after http_connect_timeout.
    const master = Number(readFileSync(join(ksDir, 'uwsgi.pid'), 'utf8').trim());
    const children = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    frozen = [master, ...children.map(Number)];
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      await sleep(TOKEN_CACHE_TIME * 1000 + 300); // past the token's cache entry
      const hung = await get();
      assert.equal(hung.status, 503, `Keystone hanging → ${hung.status} ${hung.body}`);
      assert.ok(JSON.parse(hung.body).NeutronError, hung.body);
      assert.ok(hung.ms >= HTTP_CONNECT_TIMEOUT * 1000 - 200, `503 after ${hung.ms} ms, before the timeout?`);
      assert.ok(hung.ms < limitMs, `503 took ${hung.ms} ms with http_connect_timeout = ${HTTP_CONNECT_TIMEOUT}`);
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      frozen = [];
    }

    // Gone: connections refused.
    await keystoneScript(['stop', ksDir], 60_000);
    keystoneUp = false;
    await sleep(TOKEN_CACHE_TIME * 1000 + 300);
    const url = server.url;
    for (const headers of [{ 'x-auth-token': token }, { 'x-auth-token': 'gAAAAAB-another-garbage-token' }]) {
      const t0 = Date.now();
      const r = await fetch(`${url}/v2.0/networks`, {
        headers,
        signal: AbortSignal.timeout((HTTP_CONNECT_TIMEOUT + 15) * 1000),
      });
      const body = await r.text();
      const ms = Date.now() - t0;
      assert.equal(r.status, 503, `Keystone stopped → ${r.status} ${body}`);
      assert.ok(JSON.parse(body).NeutronError, body);
      assert.ok(ms < limitMs, `503 took ${ms} ms with http_connect_timeout = ${HTTP_CONNECT_TIMEOUT}`);
    }
    // The server itself is fine.
    const root = await fetch(`${url}/`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(root.status, 200);
  });
});
