// Agents (/v2.0/agents) as they register through report_state, and the availability zones
// derived from them (/v2.0/availability_zones); what neutron-tempest-plugin's
// admin/test_agent_management and test_availability_zones check, and more.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentState } from '../../src/plugins/agents/agents.js';
import { ADMIN, ALICE, expectError, TestServer } from '../helpers.js';

/** The time an agent sends with a report: oslo's strtime, UTC without a zone. */
const reportTime = (ms = Date.now()) => `${new Date(ms).toISOString().slice(0, 23)}000`;

let hostSeq = 0;
const ovs = (extra: Partial<AgentState> = {}): AgentState => ({
  agent_type: 'Open vSwitch agent',
  binary: 'neutron-openvswitch-agent',
  topic: 'N/A',
  host: `host-${++hostSeq}`,
  configurations: { devices: 0, bridge_mappings: { public: 'br-ex' }, tunnel_types: ['vxlan'] },
  start_flag: true,
  ...extra,
});

const STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

describe('agents', () => {
  let s: TestServer;
  before(async () => {
    s = await TestServer.start();
  });
  after(() => s.close());

  const report = (state: AgentState, time: string | Date = reportTime()) => s.neutrino.agents.reportState(state, time);
  const agentOn = async (host: string) => {
    const r = await s.get(`/v2.0/agents?host=${host}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.agents.length, 1, JSON.stringify(r.body));
    return r.body.agents[0];
  };

  test('extensions are advertised', async () => {
    const aliases = (await s.get('/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
    for (const a of ['agent', 'agent-resources-synced', 'agent_sort_key', 'availability_zone', 'availability_zone_filter'])
      assert.ok(aliases.includes(a), a);
    const agent = (await s.get('/v2.0/extensions/agent')).body.extension;
    assert.deepEqual(agent, {
      alias: 'agent',
      name: 'agent',
      description: 'The agent management extension.',
      updated: '2013-02-03T10:00:00-00:00',
      links: [],
    });
  });

  test('no agents: empty lists', async () => {
    assert.deepEqual((await s.get('/v2.0/agents')).body, { agents: [] });
    assert.deepEqual((await s.get('/v2.0/availability_zones')).body, { availability_zones: [] });
  });

  test('a first report registers the agent; later ones refresh it', async () => {
    const state = ovs({ availability_zone: 'nova' });
    assert.equal(await report(state), 'AGENT_NEW');
    const a = await agentOn(state.host);
    assert.deepEqual(Object.keys(a).sort(), [
      'admin_state_up',
      'agent_type',
      'alive',
      'availability_zone',
      'binary',
      'configurations',
      'created_at',
      'description',
      'heartbeat_timestamp',
      'host',
      'id',
      'resources_synced',
      'started_at',
      'topic',
    ]);
    assert.equal(a.agent_type, 'Open vSwitch agent');
    assert.equal(a.binary, 'neutron-openvswitch-agent');
    assert.equal(a.topic, 'N/A');
    assert.equal(a.admin_state_up, true);
    assert.equal(a.alive, true);
    assert.equal(a.availability_zone, 'nova');
    assert.equal(a.description, null);
    assert.equal(a.resources_synced, null);
    assert.deepEqual(a.configurations, state.configurations);
    for (const k of ['created_at', 'started_at', 'heartbeat_timestamp']) assert.match(a[k], STAMP, k);
    assert.equal(a.created_at, a.started_at);

    const again = { ...state, start_flag: false, configurations: { devices: 3 } };
    assert.equal(await report(again), 'AGENT_ALIVE');
    const b = await agentOn(state.host);
    assert.equal(b.id, a.id);
    assert.deepEqual(b.configurations, { devices: 3 });
    assert.equal(b.started_at, a.started_at);
    assert.equal(b.created_at, a.created_at);
    assert.equal((await s.get(`/v2.0/agents/${a.id}`)).body.agent.id, a.id);
    // The same host runs agents of other types: one row each.
    assert.equal(
      await report({ ...state, agent_type: 'DHCP agent', binary: 'neutron-dhcp-agent', topic: 'dhcp_agent' }),
      'AGENT_NEW',
    );
    assert.equal((await s.get(`/v2.0/agents?host=${state.host}`)).body.agents.length, 2);
  });

  test('a report sent before the server started is stale and ignored', async () => {
    const state = ovs();
    assert.equal(await report(state, reportTime(s.neutrino.agents.startedAt - 60_000)), null);
    assert.deepEqual((await s.get(`/v2.0/agents?host=${state.host}`)).body.agents, []);
    assert.equal(await report(state, new Date()), 'AGENT_NEW');
  });

  test('update admin_state_up and description; everything else is read-only; no POST', async () => {
    const state = ovs();
    await report(state);
    const a = await agentOn(state.host);
    let r = await s.put(`/v2.0/agents/${a.id}`, { agent: { admin_state_up: false, description: 'in maintenance' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.agent.admin_state_up, false);
    assert.equal(r.body.agent.description, 'in maintenance');
    assert.equal((await agentOn(state.host)).admin_state_up, false);
    // A report does not undo what the admin set.
    assert.equal(await report(state), 'AGENT_ALIVE');
    assert.equal((await agentOn(state.host)).admin_state_up, false);
    r = await s.put(`/v2.0/agents/${a.id}`, { agent: { description: null, admin_state_up: 'true' } });
    assert.equal(r.status, 200);
    assert.equal(r.body.agent.description, null);
    assert.equal(r.body.agent.admin_state_up, true);

    expectError(await s.put(`/v2.0/agents/${a.id}`, { agent: { host: 'elsewhere' } }), 400);
    expectError(await s.put(`/v2.0/agents/${a.id}`, { agent: { description: 'x'.repeat(256) } }), 400);
    r = await s.post('/v2.0/agents', { agent: {} });
    expectError(r, 400, 'BadRequest');
    assert.equal(r.body.NeutronError.message, 'Bad agents request: Agent creation using API is not supported..');
    expectError(await s.post('/v2.0/agents', { agent: { host: 'h' } }), 400);
    expectError(await s.post('/v2.0/agents', { agent: {} }, ALICE), 403, 'PolicyNotAuthorized');
  });

  test('delete: 204, then AgentNotFound', async () => {
    const state = ovs();
    await report(state);
    const a = await agentOn(state.host);
    assert.equal((await s.del(`/v2.0/agents/${a.id}`)).status, 204);
    const r = await s.get(`/v2.0/agents/${a.id}`);
    expectError(r, 404, 'AgentNotFound');
    assert.equal(r.body.NeutronError.message, `Agent ${a.id} could not be found.`);
    expectError(await s.del(`/v2.0/agents/${a.id}`), 404, 'AgentNotFound');
    expectError(await s.del('/v2.0/agents/3bd9a7a2-0e8f-4b8e-9a43-8f2f2a4f8e11'), 404, 'AgentNotFound');
    // A live agent simply registers again with its next report.
    assert.equal(await report(state), 'AGENT_NEW');
  });

  test('non-admins see no agents and may touch none', async () => {
    const state = ovs();
    await report(state);
    const a = await agentOn(state.host);
    assert.deepEqual((await s.get('/v2.0/agents', ALICE)).body, { agents: [] });
    expectError(await s.get(`/v2.0/agents/${a.id}`, ALICE), 404, 'HTTPNotFound');
    expectError(await s.put(`/v2.0/agents/${a.id}`, { agent: { description: 'x' } }, ALICE), 404, 'HTTPNotFound');
    expectError(await s.del(`/v2.0/agents/${a.id}`, ALICE), 404, 'HTTPNotFound');
    assert.equal((await s.get(`/v2.0/agents/${a.id}`, ADMIN)).body.agent.description, null);
  });

  test('filters, fields and sorting', async () => {
    const host = `filters-${++hostSeq}`;
    await report(ovs({ host }));
    await report(ovs({ host, agent_type: 'L3 agent', binary: 'neutron-l3-agent', topic: 'l3_agent' }));
    let r = await s.get(`/v2.0/agents?host=${host}&agent_type=L3+agent`);
    assert.deepEqual(
      r.body.agents.map((a: { binary: string }) => a.binary),
      ['neutron-l3-agent'],
    );
    r = await s.get(`/v2.0/agents?host=${host}&alive=true&fields=binary&fields=alive&sort_key=binary&sort_dir=desc`);
    assert.deepEqual(r.body.agents, [
      { binary: 'neutron-openvswitch-agent', alive: true },
      { binary: 'neutron-l3-agent', alive: true },
    ]);
    assert.deepEqual((await s.get(`/v2.0/agents?host=${host}&alive=False`)).body.agents, []);
    expectError(await s.get('/v2.0/agents?alive=maybe'), 400);
    expectError(await s.get('/v2.0/agents?configurations=x'), 400);
    expectError(await s.get('/v2.0/agents?sort_key=configurations&sort_dir=asc'), 400);
    r = await s.get('/v2.0/agents?sort_key=alive&sort_dir=asc');
    expectError(r, 400, 'BadRequest');
    r = await s.get(`/v2.0/agents?host=${host}&limit=1&sort_key=agent_type&sort_dir=asc`);
    assert.equal(r.body.agents.length, 1);
    assert.equal(r.body.agents[0].agent_type, 'L3 agent');
    assert.ok(r.body.agents_links.some((l: { rel: string }) => l.rel === 'next'));
  });

  test('the service API for the RPC layer', async () => {
    const agents = s.neutrino.agents;
    const host = `rpc-${++hostSeq}`;
    await report(ovs({ host }));
    await report(ovs({ host, agent_type: 'DHCP agent', binary: 'neutron-dhcp-agent', topic: 'dhcp_agent' }));
    const db = s.neutrino.database.db;
    assert.equal((await agents.aliveAgentsOnHost(db, host)).length, 2);
    const [dhcp] = await agents.aliveAgentsOnHost(db, host, 'DHCP agent');
    assert.equal(dhcp.binary, 'neutron-dhcp-agent');
    assert.equal(agents.isAlive(dhcp), true);
    assert.equal(agents.isAlive({ heartbeat_timestamp: '2000-01-01 00:00:00' }), false);
    assert.equal((await agents.getAgents({ host, agent_type: ['Open vSwitch agent', 'DHCP agent'] })).length, 2);
    assert.deepEqual(await agents.getAgents({ host, alive: false }), []);
    assert.equal(await agents.deleteAgentOnHost('DHCP agent', host), true);
    assert.equal(await agents.deleteAgentOnHost('DHCP agent', host), false);
    assert.equal((await agents.getAgents({ host })).length, 1);
    await assert.rejects(agents.reportState({ ...ovs(), host: '' }, reportTime()), TypeError);
    await assert.rejects(agents.reportState(ovs(), 'yesterday'), TypeError);
  });

  test('concurrent first reports of one agent register it once', async () => {
    const state = ovs();
    const statuses = await Promise.all(Array.from({ length: 12 }, () => report({ ...state })));
    assert.equal(statuses.filter((x) => x === 'AGENT_NEW').length, 1, statuses.join());
    assert.equal(statuses.filter((x) => x === 'AGENT_ALIVE').length, 11, statuses.join());
    assert.equal((await s.get(`/v2.0/agents?host=${state.host}`)).body.agents.length, 1);
    // And many new agents at once.
    const many = Array.from({ length: 10 }, () => ovs());
    assert.deepEqual(await Promise.all(many.map((m) => report(m))), Array(10).fill('AGENT_NEW'));
  });
});

describe('availability zones', () => {
  let s: TestServer;
  before(async () => {
    s = await TestServer.start();
    const r = (state: Partial<AgentState>) =>
      s.neutrino.agents.reportState({ binary: 'b', topic: 't', host: `az-${++hostSeq}`, ...state } as AgentState, new Date());
    await r({ agent_type: 'DHCP agent', availability_zone: 'nova' });
    await r({ agent_type: 'DHCP agent', availability_zone: 'nova' });
    await r({ agent_type: 'L3 agent', availability_zone: 'nova' });
    await r({ agent_type: 'DHCP agent', availability_zone: 'az2' });
    await r({ agent_type: 'L3 agent', availability_zone: 'az3' });
    // Zones of other agent types, or none at all, are no zones.
    await r({ agent_type: 'Open vSwitch agent', availability_zone: 'ovs-zone' });
    await r({ agent_type: 'DHCP agent' });
    // A zone whose agents are all administratively down is unavailable.
    const [down] = await s.neutrino.agents.getAgents({ availability_zone: 'az3' });
    assert.equal((await s.put(`/v2.0/agents/${down.id}`, { agent: { admin_state_up: false } })).status, 200);
  });
  after(() => s.close());

  const zones = async (query = '', as = ADMIN) => {
    const r = await s.get(`/v2.0/availability_zones${query}`, as);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.availability_zones;
  };

  test('derived from the agents', async () => {
    assert.deepEqual(await zones(), [
      { name: 'az2', resource: 'network', state: 'available' },
      { name: 'az3', resource: 'router', state: 'unavailable' },
      { name: 'nova', resource: 'network', state: 'available' },
      { name: 'nova', resource: 'router', state: 'available' },
    ]);
    // Any project member may list them (tempest's test_list_available_zones).
    assert.equal((await zones('', ALICE)).length, 4);
  });

  test('filters and fields', async () => {
    assert.deepEqual(await zones('?name=nova&resource=router'), [{ name: 'nova', resource: 'router', state: 'available' }]);
    assert.deepEqual(await zones('?state=unavailable&fields=name'), [{ name: 'az3' }]);
    assert.deepEqual(
      (await zones('?resource=network')).map((z: { name: string }) => z.name),
      ['az2', 'nova'],
    );
    assert.deepEqual(await zones('?resource=port'), []);
    assert.deepEqual(await zones('?name=ovs-zone'), []);
    expectError(await s.get('/v2.0/availability_zones?zone=nova'), 400);
  });

  test('read-only', async () => {
    expectError(await s.get('/v2.0/availability_zones/nova'), 404);
    expectError(await s.del('/v2.0/availability_zones/nova'), 404);
  });
});

describe('agent liveness', () => {
  // Agents die two seconds after their last heartbeat here.
  let s: TestServer;
  before(async () => {
    s = await TestServer.start([['DEFAULT', 'agent_down_time', '2']]);
  });
  after(() => s.close());

  test('an agent without heartbeats dies, and revives with the next report', async () => {
    const state = ovs();
    assert.equal(await s.neutrino.agents.reportState(state, reportTime()), 'AGENT_NEW');
    const alive = async () => (await s.get(`/v2.0/agents?host=${state.host}`)).body.agents[0].alive as boolean;
    assert.equal(await alive(), true);
    const deadline = Date.now() + 10_000;
    while (await alive()) {
      assert.ok(Date.now() < deadline, 'agent still alive 10 s after its only heartbeat');
      await new Promise((ok) => setTimeout(ok, 200));
    }
    assert.equal((await s.get(`/v2.0/agents?host=${state.host}&alive=true`)).body.agents.length, 0);
    assert.equal((await s.get(`/v2.0/agents?host=${state.host}&alive=false`)).body.agents.length, 1);
    assert.deepEqual(await s.neutrino.agents.aliveAgentsOnHost(s.neutrino.database.db, state.host), []);
    assert.equal(await s.neutrino.agents.reportState({ ...state, start_flag: false }, reportTime()), 'AGENT_REVIVED');
    assert.equal(await alive(), true);
  });
});
