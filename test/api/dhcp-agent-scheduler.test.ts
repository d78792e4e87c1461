// The DHCP agent scheduler and DhcpRpcCallback over the server's own bus: DHCP agents (a
// ServerRpcClient each, on the in-process transport, with a Linux bridge agent on the same host so
// that the network is reachable there) register; networks are scheduled to them on their first
// subnet, listed and moved through the dhcp_agent_scheduler API; the agents hear Neutron's
// notifications, fetch their networks, create their DHCP ports and lift DHCP provisioning blocks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DhcpPayload } from '../../src/rpc/contract.js';
import { dhcpDeviceId, type Listener, listenDhcpAgent, RpcRemoteError, ServerRpcClient } from '../../src/rpc/index.js';
import { ADMIN, ALICE, expectError, TestServer } from '../helpers.js';

const state = (host: string, agentType: string, configurations: Record<string, unknown> = {}) => ({
  binary: agentType === 'DHCP agent' ? 'neutrino-dhcp-agent' : 'neutrino-linuxbridge-agent',
  host,
  topic: agentType === 'DHCP agent' ? 'dhcp_agent' : 'N/A',
  agent_type: agentType,
  start_flag: true,
  configurations,
});

describe('DHCP agent scheduler', () => {
  let s: TestServer;
  const dhcp = new Map<string, ServerRpcClient>();
  const l2 = new Map<string, ServerRpcClient>();
  const listeners: Listener[] = [];
  const heard: Array<[string, string, DhcpPayload]> = [];
  let agentIds: Record<string, string> = {};

  /** An L2 agent (vxlan) and a DHCP agent on `host`, listening for DHCP notifications. */
  async function addHost(host: string, vtep: string, withL2 = true): Promise<void> {
    const t = s.neutrino.transport;
    if (withL2) {
      const c = new ServerRpcClient(t, { host, timeoutMs: 5000 });
      await c.reportState(
        state(host, 'Linux bridge agent', { tunnel_types: ['vxlan'], tunneling_ip: vtep, interface_mappings: {} }),
      );
      l2.set(host, c);
    }
    const d = new ServerRpcClient(t, { host, timeoutMs: 5000 });
    await d.reportState({ ...state(host, 'DHCP agent', { networks: 0 }), availability_zone: `zone-${host}` });
    dhcp.set(host, d);
    const record =
      (event: string) =>
      ({ payload }: { payload: DhcpPayload | { admin_state_up: boolean } }) =>
        void heard.push([host, event, payload as DhcpPayload]);
    listeners.push(
      await listenDhcpAgent(t, host, {
        network_create_end: record('network_create_end'),
        network_update_end: record('network_update_end'),
        network_delete_end: record('network_delete_end'),
        subnet_create_end: record('subnet_create_end'),
        subnet_update_end: record('subnet_update_end'),
        port_create_end: record('port_create_end'),
        port_update_end: record('port_update_end'),
        port_delete_end: record('port_delete_end'),
        agent_updated: record('agent_updated'),
      }),
    );
    const agents = (await s.get('/v2.0/agents?agent_type=DHCP%20agent', ADMIN)).body.agents as Array<{
      id: string;
      host: string;
    }>;
    agentIds = Object.fromEntries(agents.map((a) => [a.host, a.id]));
  }

  const waitFor = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + 5000;
    while (!pred()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(heard.map(([h, e]) => [h, e]))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const heardOf = (host: string, event: string, pred: (p: DhcpPayload) => boolean = () => true) =>
    heard.some(([h, e, p]) => h === host && e === event && pred(p));
  const hostingHosts = async (networkId: string) =>
    ((await s.get(`/v2.0/networks/${networkId}/dhcp-agents`, ADMIN)).body.agents as Array<{ host: string }>)
      .map((a) => a.host)
      .sort();
  const settled = () => s.neutrino.dhcp?.notifier.settled();

  before(async () => {
    s = await TestServer.start([
      ['ml2', 'tenant_network_types', 'vxlan'],
      ['ml2', 'mechanism_drivers', 'linuxbridge'],
      ['ml2_type_vxlan', 'vni_ranges', '100:199'],
    ]);
    await addHost('host-a', '192.0.2.1');
    await addHost('host-b', '192.0.2.2');
    await addHost('host-c', '192.0.2.3', false); // no L2 agent: cannot reach any network
  });

  after(async () => {
    for (const l of listeners) await l.stop();
    await s?.close();
  });

  it('is an extension; the API is admin only', async () => {
    const aliases = (await s.get('/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
    assert.ok(aliases.includes('dhcp_agent_scheduler'));
    const net = await s.network({}, ALICE);
    for (const [method, url] of [
      ['GET', `/v2.0/agents/${agentIds['host-a']}/dhcp-networks`],
      ['POST', `/v2.0/agents/${agentIds['host-a']}/dhcp-networks`],
      ['DELETE', `/v2.0/agents/${agentIds['host-a']}/dhcp-networks/${net.id}`],
      ['GET', `/v2.0/networks/${net.id}/dhcp-agents`],
    ]) {
      const r = await s.request(method, url, method === 'POST' ? { network_id: net.id } : undefined, ALICE);
      expectError(r, 403, 'PolicyNotAuthorized');
    }
  });

  it('a network is scheduled to one live agent that can reach it on its first subnet, and the agent is told', async () => {
    const net = await s.network({}, ALICE);
    assert.deepEqual(await hostingHosts(net.id), [], 'no subnet yet: not scheduled');
    const sub = await s.subnet(net.id, '10.10.0.0/24', {}, ALICE);
    await settled();
    const hosts = await hostingHosts(net.id);
    assert.equal(hosts.length, 1, 'dhcp_agents_per_network = 1');
    assert.notEqual(hosts[0], 'host-c', 'host-c has no L2 agent to plug a DHCP port');
    await waitFor(() => heardOf(hosts[0], 'network_create_end', (p) => p.network?.id === net.id), 'network_create_end');
    await waitFor(() => heardOf(hosts[0], 'subnet_create_end', (p) => p.subnet?.id === sub.id), 'subnet_create_end');
    const listed = (await s.get(`/v2.0/agents/${agentIds[hosts[0]]}/dhcp-networks`, ADMIN)).body.networks;
    assert.ok(listed.some((n: { id: string }) => n.id === net.id));
    // The next network goes to the other, less loaded agent.
    const net2 = await s.network({}, ALICE);
    await s.subnet(net2.id, '10.11.0.0/24', {}, ALICE);
    await settled();
    assert.deepEqual(await hostingHosts(net2.id), hosts[0] === 'host-a' ? ['host-b'] : ['host-a']);
  });

  it('network_availability_zone: hints name DHCP agents’ zones; availability_zones are the hosting agents’', async () => {
    const aliases = (await s.get('/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
    assert.ok(aliases.includes('network_availability_zone'));
    const plain = await s.network({}, ALICE);
    assert.deepEqual(plain.availability_zone_hints, []);
    assert.deepEqual(plain.availability_zones, []);
    const net = await s.network({ availability_zone_hints: ['zone-host-a', 'zone-host-b'] }, ALICE);
    assert.deepEqual(net.availability_zone_hints, ['zone-host-a', 'zone-host-b']);
    assert.deepEqual(net.availability_zones, [], 'not scheduled before its first subnet');
    const missing = await s.post('/v2.0/networks', { network: { availability_zone_hints: ['zone-host-a', 'nowhere'] } }, ALICE);
    expectError(missing, 404, 'AvailabilityZoneNotFound');
    assert.equal(missing.body.NeutronError.message, 'AvailabilityZone nowhere could not be found.');
    expectError(await s.put(`/v2.0/networks/${net.id}`, { network: { availability_zone_hints: [] } }, ALICE), 400);
    await s.subnet(net.id, '10.14.0.0/24', {}, ALICE);
    await settled();
    const [host] = await hostingHosts(net.id);
    const shown = (await s.get(`/v2.0/networks/${net.id}`, ALICE)).body.network;
    assert.deepEqual(shown.availability_zones, [`zone-${host}`]);
    assert.deepEqual(shown.availability_zone_hints, ['zone-host-a', 'zone-host-b']);
    const listed = (await s.get(`/v2.0/networks?id=${net.id}&fields=availability_zones`, ALICE)).body.networks;
    assert.deepEqual(listed, [{ availability_zones: [`zone-${host}`] }]);
  });

  it('get_active_networks_info: the host’s networks, DHCP-enabled subnets only, with every port', async () => {
    const net = await s.network({}, ALICE);
    const on = await s.subnet(net.id, '10.12.0.0/24', {}, ALICE);
    const off = await s.subnet(net.id, '10.13.0.0/24', { enable_dhcp: false }, ALICE);
    const port = await s.port(net.id, { extra_dhcp_opts: [{ opt_name: 'bootfile-name', opt_value: 'pxe.0' }] }, ALICE);
    await settled();
    const [host] = await hostingHosts(net.id);
    const nets = await (dhcp.get(host) as ServerRpcClient).getActiveNetworksInfo();
    const info = nets.find((n) => n.id === net.id);
    assert.ok(info, 'the network is among its host’s');
    assert.deepEqual(
      info.subnets.map((x) => x.id),
      [on.id],
    );
    assert.equal(info.subnets[0].ip_version, 4);
    assert.equal(info.mtu, 1450);
    assert.ok(!info.subnets.some((x) => x.id === off.id));
    const p = info.ports.find((x) => x.id === port.id);
    assert.deepEqual(p?.extra_dhcp_opts, [{ opt_name: 'bootfile-name', opt_value: 'pxe.0', ip_version: 4 }]);
    assert.deepEqual(await (dhcp.get(host) as ServerRpcClient).getNetworkInfo(net.id), info);
    const other = host === 'host-a' ? 'host-b' : 'host-a';
    assert.ok(!(await (dhcp.get(other) as ServerRpcClient).getActiveNetworksInfo()).some((n) => n.id === net.id));
    assert.equal(await (dhcp.get(host) as ServerRpcClient).getNetworkInfo('00000000-0000-0000-0000-000000000000'), null);
  });

  it('the DHCP port: created bound to the agent’s host; only its own agent may change it; released', async () => {
    const net = await s.network({}, ALICE);
    const sub = await s.subnet(net.id, '10.14.0.0/24', {}, ALICE);
    await settled();
    const [host] = await hostingHosts(net.id);
    const other = host === 'host-a' ? 'host-b' : 'host-a';
    const agent = dhcp.get(host) as ServerRpcClient;
    const deviceId = dhcpDeviceId(net.id, host);
    const port = await agent.createDhcpPort({ network_id: net.id, device_id: deviceId, fixed_ips: [{ subnet_id: sub.id }] });
    assert.ok(port);
    assert.equal(port.device_owner, 'network:dhcp');
    assert.equal(port.device_id, deviceId);
    assert.equal(port['binding:host_id'], host);
    assert.equal(port['binding:vif_type'], 'bridge', 'bound by the host’s Linux bridge agent');
    assert.equal(port.fixed_ips[0].subnet_id, sub.id);
    assert.deepEqual(port.provisioning_blocks, ['L2'], 'a DHCP port waits for its L2 agent only');
    const listed = (await s.get(`/v2.0/ports?device_owner=network:dhcp&network_id=${net.id}`, ADMIN)).body.ports;
    assert.deepEqual(
      listed.map((p: { id: string }) => p.id),
      [port.id],
    );
    // Another agent may not touch it; an agent not hosting the network is told it is not found.
    assert.equal(await (dhcp.get(other) as ServerRpcClient).updateDhcpPort(port.id, { network_id: net.id, fixed_ips: [] }), null);
    const foreign = await s.port(net.id, {}, ALICE);
    assert.equal(await agent.updateDhcpPort(foreign.id, { network_id: net.id, fixed_ips: [] }), null, 'not a DHCP port');
    // A second subnet: the agent asks for an address there too.
    const sub2 = await s.subnet(net.id, '10.15.0.0/24', {}, ALICE);
    const updated = await agent.updateDhcpPort(port.id, {
      network_id: net.id,
      fixed_ips: [...port.fixed_ips, { subnet_id: sub2.id }],
    });
    assert.deepEqual(updated?.fixed_ips.map((f) => f.subnet_id).sort(), [sub.id, sub2.id].sort());
    await agent.releaseDhcpPort(net.id, deviceId);
    expectError(await s.get(`/v2.0/ports/${port.id}`, ADMIN), 404, 'PortNotFound');
    // The agent of a network someone else hosts gets NetworkNotFound for an update.
    const p2 = await agent.createDhcpPort({ network_id: net.id, device_id: dhcpDeviceId(net.id, host), fixed_ips: [] });
    assert.ok(p2);
    await settled(); // its port_create_end has scheduled what it would
    await s.del(`/v2.0/agents/${agentIds[host]}/dhcp-networks/${net.id}`, ADMIN);
    await assert.rejects(
      agent.updateDhcpPort(p2.id, { network_id: net.id, fixed_ips: [] }),
      (e: unknown) => e instanceof RpcRemoteError && e.type === 'NetworkNotFound',
    );
  });

  it('the DHCP provisioning block holds a VM port until dhcp_ready_on_ports, then it is ACTIVE', async () => {
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.16.0.0/24', {}, ALICE);
    await settled();
    const [host] = await hostingHosts(net.id);
    const vm = await s.port(net.id, { device_owner: 'compute:nova', device_id: 'vm-1' }, ALICE);
    const show = async () => (await s.get(`/v2.0/ports/${vm.id}`, ADMIN)).body.port;
    assert.deepEqual((await show()).provisioning_blocks, ['DHCP']);
    await waitFor(() => heardOf(host, 'port_create_end', (p) => p.port?.id === vm.id), 'the hosting agent hearing of the port');
    // Bound and wired by the L2 agent: still DOWN, the DHCP agent has not served it yet.
    const r = await s.put(`/v2.0/ports/${vm.id}`, { port: { 'binding:host_id': 'host-a' } }, ADMIN);
    assert.equal(r.status, 200);
    await (l2.get('host-a') as ServerRpcClient).updateDeviceList([vm.id], []);
    assert.equal((await show()).status, 'DOWN');
    assert.deepEqual((await show()).provisioning_blocks, ['DHCP']);
    await (dhcp.get(host) as ServerRpcClient).dhcpReadyOnPorts([vm.id]);
    assert.equal((await show()).status, 'ACTIVE');
    assert.deepEqual((await show()).provisioning_blocks, []);
    // A repeated report changes nothing; neither does one for a port its L2 agent took down.
    await (l2.get('host-a') as ServerRpcClient).updateDeviceList([], [vm.id]);
    assert.equal((await show()).status, 'DOWN');
    await (dhcp.get(host) as ServerRpcClient).dhcpReadyOnPorts([vm.id]);
    assert.equal((await show()).status, 'DOWN');
    // New addresses: blocked again, and the agent is told.
    const u = await s.put(`/v2.0/ports/${vm.id}`, { port: { fixed_ips: [{ ip_address: '10.16.0.200' }] } }, ADMIN);
    assert.deepEqual(u.body.port.provisioning_blocks, ['DHCP']);
    await waitFor(() => heardOf(host, 'port_update_end', (p) => p.port?.id === vm.id), 'port_update_end');
    // A port with no owner, or on an unhosted network, is never held.
    assert.deepEqual((await s.port(net.id, {}, ALICE)).provisioning_blocks, undefined);
    const bare = await s.get(`/v2.0/ports/${(await s.port(net.id, {}, ALICE)).id}`, ADMIN);
    assert.deepEqual(bare.body.port.provisioning_blocks, []);
  });

  it('remove, add back, and the errors of the scheduler API', async () => {
    const net = await s.network({}, ALICE);
    const sub = await s.subnet(net.id, '10.17.0.0/24', {}, ALICE);
    await settled();
    const [host] = await hostingHosts(net.id);
    const agentId = agentIds[host];
    const port = await (dhcp.get(host) as ServerRpcClient).createDhcpPort({
      network_id: net.id,
      device_id: dhcpDeviceId(net.id, host),
      fixed_ips: [{ subnet_id: sub.id }],
    });
    await settled();
    const del = await s.del(`/v2.0/agents/${agentId}/dhcp-networks/${net.id}`, ADMIN);
    assert.equal(del.status, 204);
    assert.deepEqual(await hostingHosts(net.id), []);
    await waitFor(() => heardOf(host, 'network_delete_end', (p) => p.network_id === net.id), 'network_delete_end');
    const kept = (await s.get(`/v2.0/ports/${port?.id}`, ADMIN)).body.port;
    assert.equal(kept.device_id, 'reserved_dhcp_port', 'the port is kept for the next agent, with its address');
    expectError(await s.del(`/v2.0/agents/${agentId}/dhcp-networks/${net.id}`, ADMIN), 409, 'NetworkNotHostedByDhcpAgent');
    const add = await s.post(`/v2.0/agents/${agentId}/dhcp-networks`, { network_id: net.id }, ADMIN);
    assert.equal(add.status, 201);
    assert.equal(add.body, null);
    assert.deepEqual(await hostingHosts(net.id), [host]);
    await waitFor(() => heardOf(host, 'network_create_end', (p) => p.network?.id === net.id), 'network_create_end');
    expectError(
      await s.post(`/v2.0/agents/${agentId}/dhcp-networks`, { network_id: net.id }, ADMIN),
      409,
      'NetworkHostedByDHCPAgent',
    );
    // The other agent may be added by hand, beyond dhcp_agents_per_network.
    const other = host === 'host-a' ? 'host-b' : 'host-a';
    assert.equal((await s.post(`/v2.0/agents/${agentIds[other]}/dhcp-networks`, { network_id: net.id }, ADMIN)).status, 201);
    assert.deepEqual(await hostingHosts(net.id), ['host-a', 'host-b']);
    const l2Agent = (await s.get('/v2.0/agents?agent_type=Linux%20bridge%20agent', ADMIN)).body.agents[0];
    expectError(await s.post(`/v2.0/agents/${l2Agent.id}/dhcp-networks`, { network_id: net.id }, ADMIN), 404, 'InvalidDHCPAgent');
    const unknown = '00000000-0000-4000-8000-000000000000';
    expectError(await s.post(`/v2.0/agents/${unknown}/dhcp-networks`, { network_id: net.id }, ADMIN), 404, 'AgentNotFound');
    expectError(await s.get(`/v2.0/agents/${unknown}/dhcp-networks`, ADMIN), 404, 'AgentNotFound');
    expectError(await s.post(`/v2.0/agents/${agentId}/dhcp-networks`, { network_id: unknown }, ADMIN), 404, 'NetworkNotFound');
    expectError(await s.post(`/v2.0/agents/${agentId}/dhcp-networks`, {}, ADMIN), 400);
    expectError(await s.post(`/v2.0/agents/${agentId}/dhcp-networks`, { network_id: 'x' }, ADMIN), 400);
    expectError(await s.post(`/v2.0/agents/${agentId}/dhcp-networks`, [1], ADMIN), 400);
    assert.deepEqual((await s.get(`/v2.0/networks/${unknown}/dhcp-agents`, ADMIN)).body, { agents: [] });
    // A disabled agent is told, and takes no network.
    assert.equal((await s.put(`/v2.0/agents/${agentId}`, { agent: { admin_state_up: false } }, ADMIN)).status, 200);
    await waitFor(
      () => heardOf(host, 'agent_updated', (p) => (p as { admin_state_up?: boolean }).admin_state_up === false),
      'agent_updated',
    );
    const net2 = await s.network({}, ALICE);
    expectError(await s.post(`/v2.0/agents/${agentId}/dhcp-networks`, { network_id: net2.id }, ADMIN), 404, 'InvalidDHCPAgent');
    assert.deepEqual(await (dhcp.get(host) as ServerRpcClient).getActiveNetworksInfo(), [], 'a disabled agent serves nothing');
    await s.put(`/v2.0/agents/${agentId}`, { agent: { admin_state_up: true } }, ADMIN);
  });

  it('a network deleted: every DHCP agent hears network_delete_end, the bindings go', async () => {
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.18.0.0/24', {}, ALICE);
    await settled();
    assert.equal((await hostingHosts(net.id)).length, 1);
    assert.equal((await s.del(`/v2.0/networks/${net.id}`, ALICE)).status, 204);
    await waitFor(
      () => ['host-a', 'host-b', 'host-c'].every((h) => heardOf(h, 'network_delete_end', (p) => p.network_id === net.id)),
      'network_delete_end everywhere',
    );
    assert.deepEqual(await hostingHosts(net.id), []);
  });

  it('networks move off an agent dead for 2 × agent_down_time, with its reserved port', async () => {
    const net = await s.network({}, ALICE);
    const sub = await s.subnet(net.id, '10.19.0.0/24', {}, ALICE);
    await settled();
    const [host] = await hostingHosts(net.id);
    const other = host === 'host-a' ? 'host-b' : 'host-a';
    const port = await (dhcp.get(host) as ServerRpcClient).createDhcpPort({
      network_id: net.id,
      device_id: dhcpDeviceId(net.id, host),
      fixed_ips: [{ subnet_id: sub.id }],
    });
    await settled();
    // Its last heartbeat and start long ago (agent_down_time is 75 s here).
    const stamp = new Date(Date.now() - 600_000).toISOString().slice(0, 19).replace('T', ' ');
    await s.neutrino.database.db
      .updateTable('agents')
      .set({ heartbeat_timestamp: stamp, started_at: stamp })
      .where('id', '=', agentIds[host])
      .execute();
    await s.neutrino.dhcp?.scheduler.removeNetworksFromDownAgents();
    await settled();
    assert.deepEqual(await hostingHosts(net.id), [other]);
    await waitFor(
      () => heardOf(other, 'network_create_end', (p) => p.network?.id === net.id),
      'network_create_end to the new agent',
    );
    assert.ok(!heardOf(host, 'network_delete_end', (p) => p.network_id === net.id), 'the dead agent is not told');
    const reserved = (await s.get(`/v2.0/ports/${port?.id}`, ADMIN)).body.port;
    assert.equal(reserved.device_id, 'reserved_dhcp_port');
    // The new agent takes the reserved port over, with its address.
    const taken = await (dhcp.get(other) as ServerRpcClient).updateDhcpPort(reserved.id, {
      network_id: net.id,
      device_id: dhcpDeviceId(net.id, other),
    });
    assert.equal(taken?.device_id, dhcpDeviceId(net.id, other));
    assert.equal(taken?.['binding:host_id'], other);
    assert.deepEqual(taken?.fixed_ips, port?.fixed_ips);
    // Back from the dead: it reports again and gets networks again.
    await (dhcp.get(host) as ServerRpcClient).reportState(state(host, 'DHCP agent'));
  });
});
