// Routers and L3 agents over the server's own bus: agents register as 'L3 agent', routers are
// scheduled to a live one when they change, sync_routers gives Neutron's router dicts and binds the
// routers' ports to the agent's host (whose L2 agent then reports them up: ACTIVE), floating IP
// statuses follow update_floatingip_statuses, the admin moves routers between agents
// (l3_agent_scheduler), a dead agent's routers move to a live one, a disabled agent gets nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEVICE_OWNER, type SyncRouter } from '../../src/rpc/contract.js';
import { ServerRpcClient } from '../../src/rpc/index.js';
import { NoopL3Agent } from '../fixtures/noop-l3-agent.js';
import { ADMIN, ALICE, expectError, TestServer } from '../helpers.js';

const lbState = (host: string) => ({
  binary: 'neutrino-linuxbridge-agent',
  host,
  topic: 'N/A',
  agent_type: 'Linux bridge agent',
  start_flag: true,
  configurations: {
    interface_mappings: { physnet1: 'eth1' },
    tunnel_types: ['vxlan'],
    tunneling_ip: '192.0.2.9',
    l2_population: false,
  },
});

async function until<T>(fn: () => Promise<T | undefined | false>, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('routers and L3 agents (RPC)', () => {
  let s: TestServer;
  let agentA: NoopL3Agent;
  let agentB: NoopL3Agent;
  let l2a: ServerRpcClient;
  let ext: { id: string };
  let router: { id: string };
  let iface: { port_id: string };
  let sub: { id: string; cidr: string };
  let net: { id: string };

  before(async () => {
    s = await TestServer.start([
      ['ml2_type_flat', 'flat_networks', 'physnet1'],
      ['ml2', 'mechanism_drivers', 'linuxbridge'],
    ]);
    const t = s.neutrino.transport;
    agentA = new NoopL3Agent(t, { host: 'net-a' });
    agentB = new NoopL3Agent(t, { host: 'net-b' });
    await agentA.register();
    l2a = new ServerRpcClient(t, { host: 'net-a', timeoutMs: 5000 });
    await l2a.reportState(lbState('net-a'));
    ext = await s.create(
      'networks',
      'network',
      { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' },
      ADMIN,
    );
    await s.create('subnets', 'subnet', { network_id: ext.id, cidr: '203.0.113.0/24', ip_version: 4 }, ADMIN);
    net = await s.network({}, ALICE);
    sub = await s.subnet(net.id, '10.0.0.0/24', {}, ALICE);
  });
  after(async () => {
    await agentA?.stop();
    await agentB?.stop();
    await s?.close();
  });

  const hosting = async (routerId: string) => (await s.get(`/v2.0/routers/${routerId}/l3-agents`, ADMIN)).body.agents;

  it('registers L3 agents and shows them in /v2.0/agents', async () => {
    const agents = (await s.get('/v2.0/agents?agent_type=L3%20agent', ADMIN)).body.agents;
    assert.equal(agents.length, 1);
    assert.equal(agents[0].host, 'net-a');
    assert.equal(agents[0].binary, 'neutron-l3-agent');
    assert.equal(agents[0].topic, 'l3_agent');
    assert.equal(agents[0].alive, true);
    assert.equal(agents[0].configurations.agent_mode, 'legacy');
    assert.deepEqual((await s.get('/v2.0/availability_zones?resource=router', ALICE)).body.availability_zones, [
      { name: 'nova', resource: 'router', state: 'available' },
    ]);
  });

  it('schedules a router to the live agent when it changes, and syncs it in Neutron’s shape', async () => {
    router = await s.create('routers', 'router', { name: 'r1' }, ALICE);
    assert.deepEqual(await hosting(router.id), [], 'a bare router is scheduled nowhere yet');
    const add = await s.put(`/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub.id }, ALICE);
    iface = add.body;
    const agents = await until(async () => {
      const a = await hosting(router.id);
      return a.length ? a : undefined;
    }, 'the router scheduled');
    assert.equal(agents[0].host, 'net-a');
    assert.equal(agents[0].agent_type, 'L3 agent');
    const onAgent = (await s.get(`/v2.0/agents/${agents[0].id}/l3-routers`, ADMIN)).body.routers;
    assert.deepEqual(
      onAgent.map((r: { id: string }) => r.id),
      [router.id],
    );
    await s.put(`/v2.0/routers/${router.id}`, { router: { external_gateway_info: { network_id: ext.id } } }, ALICE);
    const port = await s.port(net.id, {}, ALICE);
    const f = (await s.post('/v2.0/floatingips', { floatingip: { floating_network_id: ext.id, port_id: port.id } }, ALICE)).body
      .floatingip;
    await s.put(
      `/v2.0/routers/${router.id}`,
      { router: { routes: [{ destination: '172.16.0.0/16', nexthop: '10.0.0.200' }] } },
      ALICE,
    );

    assert.deepEqual(await agentA.plugin.getRouterIds(), [router.id]);
    const [r] = await agentA.plugin.syncRouters();
    assert.equal(r.id, router.id);
    assert.equal(r.project_id, 'alice-project');
    assert.equal(r.tenant_id, 'alice-project');
    assert.equal(r.admin_state_up, true);
    assert.equal(r.status, 'ACTIVE');
    assert.equal(r.ha, false);
    assert.equal(r.distributed, false);
    assert.equal(r.enable_snat, true);
    assert.equal(r.external_gateway_info?.network_id, ext.id);
    assert.deepEqual(r.routes, [{ destination: '172.16.0.0/16', nexthop: '10.0.0.200' }]);
    assert.ok(r.revision_number > 0);
    const gw = r.gw_port as NonNullable<SyncRouter['gw_port']>;
    assert.equal(gw.device_owner, DEVICE_OWNER.ROUTER_GW);
    assert.equal(gw.network_id, ext.id);
    assert.equal(gw.mtu, 1500);
    assert.equal(gw.fixed_ips[0].prefixlen, 24);
    assert.deepEqual(
      gw.subnets.map((x) => [x.cidr, x.gateway_ip, x.ip_version]),
      [['203.0.113.0/24', '203.0.113.1', 4]],
    );
    assert.equal(gw['binding:host_id'], 'net-a', 'sync_routers binds the gateway port to the asking host');
    assert.equal(r._interfaces.length, 1);
    const qr = r._interfaces[0];
    assert.equal(qr.id, iface.port_id);
    assert.deepEqual(qr.fixed_ips, [{ subnet_id: sub.id, ip_address: '10.0.0.1', prefixlen: 24 }]);
    assert.equal(qr.subnets[0].cidr, '10.0.0.0/24');
    assert.equal(qr.mtu, 1450, 'a VXLAN network’s MTU');
    assert.equal(qr['binding:host_id'], 'net-a');
    assert.deepEqual(r._floatingips, [
      {
        id: f.id,
        floating_ip_address: f.floating_ip_address,
        floating_network_id: ext.id,
        port_id: port.id,
        fixed_ip_address: port.fixed_ips[0].ip_address,
        router_id: router.id,
        status: 'DOWN',
        project_id: 'alice-project',
        tenant_id: 'alice-project',
        fixed_ip_address_scope: null,
        revision_number: f.revision_number,
      },
    ]);
    // The host's L2 agent wires the bound ports: the interface turns ACTIVE like any port.
    const qrPort = (await s.get(`/v2.0/ports/${iface.port_id}`, ADMIN)).body.port;
    assert.equal(qrPort['binding:host_id'], 'net-a');
    assert.equal(qrPort['binding:vif_type'], 'bridge');
    assert.equal(qrPort.status, 'DOWN');
    const up = await l2a.updateDeviceList([iface.port_id, gw.id], []);
    assert.deepEqual(up.failed_devices_up, []);
    assert.equal((await s.get(`/v2.0/ports/${iface.port_id}`, ALICE)).body.port.status, 'ACTIVE');
    // Floating IP statuses come from the agent; one no longer associated goes DOWN.
    assert.equal(await agentA.plugin.updateFloatingipStatuses(router.id, { [f.id]: 'ACTIVE' }), null);
    assert.equal((await s.get(`/v2.0/floatingips/${f.id}`, ALICE)).body.floatingip.status, 'ACTIVE');
    await s.put(`/v2.0/floatingips/${f.id}`, { floatingip: { port_id: null } }, ALICE);
    await agentA.plugin.updateFloatingipStatuses(router.id, {});
    assert.equal((await s.get(`/v2.0/floatingips/${f.id}`, ALICE)).body.floatingip.status, 'DOWN');
    assert.deepEqual(await agentA.plugin.syncRouters(['00000000-0000-0000-0000-000000000000']), []);
  });

  it('tells the hosting agent what changed, and every agent what was deleted', async () => {
    await agentA.stop();
    agentA = new NoopL3Agent(s.neutrino.transport, { host: 'net-a', intervalMs: 60_000 });
    await agentA.start();
    const heard = agentA.heard;
    heard.length = 0;
    const r2 = await s.create('routers', 'router', { name: 'r2', external_gateway_info: { network_id: ext.id } }, ALICE);
    await until(
      async () => heard.some(([m, a]) => m === 'routers_updated' && (a as { routers: string[] }).routers[0] === r2.id),
      'routers_updated',
    );
    await until(async () => agentA.routers.has(r2.id), 'the agent syncing the new router');
    await s.put(`/v2.0/routers/${r2.id}`, { router: { admin_state_up: false } }, ALICE);
    await until(async () => !agentA.routers.has(r2.id), 'an administratively down router left out of sync_routers');
    assert.equal((await s.del(`/v2.0/routers/${r2.id}`, ALICE)).status, 204);
    await until(
      async () => heard.some(([m, a]) => m === 'router_deleted' && (a as { router_id: string }).router_id === r2.id),
      'router_deleted',
    );
  });

  it('lets the admin move a router between agents (l3_agent_scheduler)', async () => {
    // Agent A only listens now: a sync of its own would schedule the router back to it.
    await agentA.stop();
    agentA = new NoopL3Agent(s.neutrino.transport, { host: 'net-a', intervalMs: 60_000, syncOnNotify: false });
    await agentA.start();
    await agentA.syncAll();
    await agentB.start();
    const [a] = await hosting(router.id);
    const b = (await s.get('/v2.0/agents?host=net-b&agent_type=L3%20agent', ADMIN)).body.agents[0];
    const hosted = await s.post(`/v2.0/agents/${b.id}/l3-routers`, { router_id: router.id }, ADMIN);
    expectError(hosted, 409, 'RouterHostedByL3Agent');
    assert.equal(hosted.body.NeutronError.message, `The router ${router.id} has been already hosted by the L3 Agent ${a.id}.`);
    expectError(await s.get(`/v2.0/agents/${a.id}/l3-routers`, ALICE), 403, 'PolicyNotAuthorized');
    expectError(await s.get(`/v2.0/routers/${router.id}/l3-agents`, ALICE), 403, 'PolicyNotAuthorized');
    assert.equal((await s.del(`/v2.0/agents/${a.id}/l3-routers/${router.id}`, ADMIN)).status, 204);
    assert.deepEqual(await hosting(router.id), []);
    await until(
      async () =>
        agentA.heard.some(
          ([m, x]) =>
            m === 'router_removed_from_agent' && JSON.stringify(x) === JSON.stringify({ payload: { router_id: router.id } }),
        ),
      'router_removed_from_agent',
    );
    const added = await s.post(`/v2.0/agents/${b.id}/l3-routers`, { router_id: router.id }, ADMIN);
    assert.equal(added.status, 201);
    assert.deepEqual(
      (await hosting(router.id)).map((x: { id: string }) => x.id),
      [b.id],
    );
    // Agent B hears router_added_to_agent, unless its own sync scheduled the unhosted router first.
    await until(async () => agentB.routers.has(router.id), 'agent B syncing the router');
    const port = (await s.get(`/v2.0/ports/${iface.port_id}`, ADMIN)).body.port;
    assert.equal(port['binding:host_id'], 'net-b', 'the new host’s sync binds the ports there');
    expectError(
      await s.post(`/v2.0/agents/${b.id}/l3-routers`, { router_id: '0b2c6b0e-9f0a-4a51-8d33-0c6a7d1f5a11' }, ADMIN),
      404,
      'RouterNotFound',
    );
    expectError(
      await s.post(`/v2.0/agents/0b2c6b0e-9f0a-4a51-8d33-0c6a7d1f5a11/l3-routers`, { router_id: router.id }, ADMIN),
      404,
    );
    const lb = (await s.get('/v2.0/agents?agent_type=Linux%20bridge%20agent', ADMIN)).body.agents[0];
    const r3 = await s.create('routers', 'router', { name: 'r3' }, ALICE);
    expectError(await s.post(`/v2.0/agents/${lb.id}/l3-routers`, { router_id: r3.id }, ADMIN), 404, 'InvalidL3Agent');
  });

  it('moves routers off a dead agent to a live one', async () => {
    const [b] = await hosting(router.id);
    assert.equal(b.host, 'net-b');
    await agentB.stop();
    // Agent B last reported long ago.
    await s.neutrino.database.db
      .updateTable('agents')
      .set({ heartbeat_timestamp: '2000-01-01 00:00:00' })
      .where('id', '=', b.id)
      .execute();
    const moves = await s.neutrino.l3.scheduler.rescheduleFromDeadAgents();
    assert.deepEqual(
      moves.map((m) => [m.routerId, m.from.host, m.to.host]),
      [[router.id, 'net-b', 'net-a']],
    );
    assert.equal((await hosting(router.id))[0].host, 'net-a');
    assert.deepEqual(await s.neutrino.l3.scheduler.rescheduleFromDeadAgents(), [], 'nothing left to move');
  });

  it('gives a disabled agent no routers and tells it so', async () => {
    const a = (await s.get('/v2.0/agents?host=net-a&agent_type=L3%20agent', ADMIN)).body.agents[0];
    assert.equal((await s.put(`/v2.0/agents/${a.id}`, { agent: { admin_state_up: false } }, ADMIN)).status, 200);
    await until(
      async () =>
        agentA.heard.some(
          ([m, x]) => m === 'agent_updated' && JSON.stringify(x) === JSON.stringify({ payload: { admin_state_up: false } }),
        ),
      'agent_updated',
    );
    assert.deepEqual(await agentA.plugin.syncRouters(), []);
    assert.deepEqual(await agentA.plugin.getRouterIds(), []);
    await s.put(`/v2.0/agents/${a.id}`, { agent: { admin_state_up: true } }, ADMIN);
    assert.ok((await agentA.plugin.getRouterIds()).includes(router.id));
    await assert.rejects(
      new NoopL3Agent(s.neutrino.transport, { host: 'nobody' }).plugin.syncRouters(),
      /AgentNotFoundByTypeHost|could not be found/,
    );
    assert.deepEqual(await agentA.plugin.getServicePluginList(), ['CORE', 'L3_ROUTER_NAT', 'FLAVORS']);
  });

  it('schedules unhosted routers to an agent that asks for its router ids', async () => {
    const r4 = await s.create('routers', 'router', { name: 'r4' }, ALICE);
    assert.deepEqual(await hosting(r4.id), []);
    assert.ok((await agentA.plugin.getRouterIds()).includes(r4.id));
    assert.equal((await hosting(r4.id))[0].host, 'net-a');
  });
});

describe('automatic failover (allow_automatic_l3agent_failover)', () => {
  let s: TestServer;
  const agents: NoopL3Agent[] = [];
  after(async () => {
    for (const a of agents) await a.stop();
    await s?.close();
  });

  it('moves a router off an agent that stopped reporting, on its own, and tells both hosts', async () => {
    // agent_down_time 2: heartbeats are stored in whole seconds, so a 1 s window would count the live
    // agent (reporting every 300 ms) as dead whenever a report lands late in its second on a busy machine.
    s = await TestServer.start([
      ['DEFAULT', 'agent_down_time', '2'],
      ['DEFAULT', 'allow_automatic_l3agent_failover', 'true'],
    ]);
    const t = s.neutrino.transport;
    const a = new NoopL3Agent(t, { host: 'fa', intervalMs: 60_000 });
    const b = new NoopL3Agent(t, { host: 'fb', intervalMs: 300 });
    agents.push(a, b);
    await a.start();
    const r = await s.create('routers', 'router', { name: 'r' }, ALICE);
    assert.deepEqual(await a.plugin.getRouterIds(), [r.id], 'scheduled to the only agent');
    await b.start();
    // Agent A heartbeats no more (its timer is a minute away); B keeps reporting. A counts as dead
    // after twice agent_down_time, checked every agent_down_time / 2.
    const moved = await until(
      async () => {
        const hosting = (await s.get(`/v2.0/routers/${r.id}/l3-agents`, ADMIN)).body.agents;
        return hosting[0]?.host === 'fb' ? hosting : undefined;
      },
      'the router moved to the live agent',
      30_000,
    );
    assert.equal(moved.length, 1);
    await until(async () => a.heard.some(([m]) => m === 'router_removed_from_agent'), 'router_removed_from_agent');
    await until(async () => b.routers.has(r.id), 'the live agent serving the router');
  });
});
