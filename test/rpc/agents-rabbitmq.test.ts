// Server and agent as separate processes over a real RabbitMQ: `neutrino server` with
// transport_url, and `neutrino agent noop` (the whole L2 agent protocol, no kernel state). The
// agent registers and heartbeats, ML2 binds ports to its host, the agent reports them up and they
// turn ACTIVE; both survive a broker restart; an agent that stops heartbeating turns dead and new
// bindings to its host fail.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, run, ServerProcess } from '../fixtures/process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/neutrino.js');
const RABBIT = join(ROOT, 'scripts/rabbitmq.sh');
const HOST = 'agent-host-1';
const HEADERS = { 'content-type': 'application/json' };

const installed = (await run('bash', ['-c', 'test -x /usr/lib/rabbitmq/bin/rabbitmq-server'])).code === 0;
const skip =
  !installed && process.env.CI !== 'true' ? 'rabbitmq-server is not installed (apt-get install rabbitmq-server)' : false;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, deadlineMs = 30_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('server and agent over RabbitMQ', { skip }, () => {
  let dir: string;
  let brokerDir: string;
  let server: ServerProcess;
  let agent: ServerProcess;
  let url: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}/v2.0/${path}`, { method, headers: HEADERS, body: body ? JSON.stringify(body) : undefined });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const broker = async (cmd: 'start' | 'stop') => {
    const r = await run('bash', [RABBIT, cmd, brokerDir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `rabbitmq.sh ${cmd}: ${r.stderr}`);
    return r.stdout.trim().split('\n').pop() ?? '';
  };
  const portOnHost = async (networkId: string) => {
    const r = await api('POST', 'ports', {
      port: { network_id: networkId, 'binding:host_id': HOST, device_owner: 'compute:nova' },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.port;
  };
  const activeSoon = (id: string) =>
    until(`port ${id} ACTIVE`, async () => {
      const p = (await api('GET', `ports/${id}`)).body.port;
      return p.status === 'ACTIVE' && p;
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'neutrino-rmq-'));
    brokerDir = join(dir, 'broker');
    const rabbit = await broker('start');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // Quick reconnection, a short agent_down_time: the test waits seconds, not minutes.
    const rabbitOpts = `[oslo_messaging_rabbit]\nrabbit_retry_interval = 1\nrabbit_retry_backoff = 1\nrabbit_interval_max = 1\nheartbeat_timeout_threshold = 10\n`;
    const common = `${rabbitOpts}[DEFAULT]\ntransport_url = ${rabbit}\nrpc_response_timeout = 10\n`;
    writeFileSync(
      join(dir, 'server.conf'),
      `${common}bind_port = ${port}\nagent_down_time = 4\nstate_path = ${dir}\n[ml2]\nmechanism_drivers = linuxbridge,l2population\n[ml2_type_vxlan]\nvni_ranges = 500:510\n`,
    );
    writeFileSync(
      join(dir, 'agent.conf'),
      `${common}host = ${HOST}\n[agent]\nreport_interval = 1\npolling_interval = 1\n[vxlan]\nlocal_ip = 192.0.2.10\nl2_population = true\n[linux_bridge]\nphysical_interface_mappings = physnet1:eth9\n`,
    );
    server = await ServerProcess.start(['node', BIN, 'all-in-one', '--config-file', join(dir, 'server.conf')], {
      url,
      env: { ...process.env, NEUTRINO_HOME: dir },
    });
    agent = ServerProcess.spawn(['node', BIN, 'agent', 'noop', '--config-file', join(dir, 'agent.conf')]);
  });

  after(async () => {
    await agent?.stop();
    await server?.stop();
    if (brokerDir) await run('bash', [RABBIT, 'stop', brokerDir], { timeoutMs: 60_000 });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let networkId: string;

  it('the agent registers with its configuration and stays alive', async () => {
    const a = await until('the agent in /v2.0/agents', async () => {
      const list = (await api('GET', `agents?host=${HOST}`)).body.agents;
      return list.length === 1 && list[0].alive && list[0];
    });
    assert.equal(a.agent_type, 'Linux bridge agent');
    assert.equal(a.binary, 'neutrino-noop-agent');
    assert.deepEqual(a.configurations.tunnel_types, ['vxlan']);
    assert.equal(a.configurations.tunneling_ip, '192.0.2.10');
    assert.deepEqual(a.configurations.interface_mappings, { physnet1: 'eth9' });
  });

  it('a port bound to its host turns ACTIVE once the agent reports it up', async () => {
    const net = (await api('POST', 'networks', { network: { name: 'rmq' } })).body.network;
    networkId = net.id;
    assert.equal(
      (await api('POST', 'subnets', { subnet: { network_id: net.id, cidr: '10.9.0.0/24', ip_version: 4 } })).status,
      201,
    );
    const p = await portOnHost(net.id);
    assert.equal(p['binding:vif_type'], 'bridge');
    assert.equal(p.status, 'DOWN');
    const active = await activeSoon(p.id);
    assert.deepEqual(active.provisioning_blocks, []);
  });

  it('both sides survive a RabbitMQ restart', async () => {
    await broker('stop');
    await broker('start');
    // The outage may outlast agent_down_time (4 s here): the agent is alive again once its
    // reconnected transport carries a heartbeat.
    await until('the agent alive again', async () => (await api('GET', `agents?host=${HOST}`)).body.agents[0]?.alive === true);
    const p = await portOnHost(networkId);
    assert.equal(p['binding:vif_type'], 'bridge');
    await activeSoon(p.id);
  });

  it('an agent that stops heartbeating turns dead, and its host gets no new bindings', async () => {
    agent.signal('SIGKILL');
    await agent.wait();
    await until('the agent dead', async () => (await api('GET', `agents?host=${HOST}`)).body.agents[0]?.alive === false, 20_000);
    const p = await portOnHost(networkId);
    assert.equal(p['binding:vif_type'], 'binding_failed');
    assert.match(p.binding_failure_reason, /dead/);
  });
});
