// Port binding and port status over the server's own bus: an agent (a ServerRpcClient on the
// in-process transport, as an all-in-one agent talks) registers, ML2 binds ports to its host,
// the agent reports devices up and down, and the port's status and provisioning blocks follow.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AgentNotifications } from '../../src/rpc/contract.js';
import { type Listener, listenAgentNotifications, ServerRpcClient } from '../../src/rpc/index.js';
import { ADMIN, ALICE, expectError, TestServer } from '../helpers.js';

const LB = 'Linux bridge agent';

function lbState(host: string, extra: Record<string, unknown> = {}) {
  return {
    binary: 'neutrino-linuxbridge-agent',
    host,
    topic: 'N/A',
    agent_type: LB,
    start_flag: true,
    configurations: {
      interface_mappings: { physnet1: 'eth1' },
      tunnel_types: ['vxlan'],
      tunneling_ip: host === 'host-a' ? '192.0.2.1' : '192.0.2.2',
      l2_population: true,
      ...extra,
    },
  };
}

describe('port binding (ML2) and port status', () => {
  let s: TestServer;
  let agentA: ServerRpcClient;
  let agentB: ServerRpcClient;
  let listener: Listener;
  const heard: Array<[string, unknown]> = [];

  before(async () => {
    s = await TestServer.start([
      ['ml2', 'tenant_network_types', 'vxlan'],
      ['ml2', 'mechanism_drivers', 'linuxbridge,l2population'],
      ['ml2_type_vxlan', 'vni_ranges', '100:199'],
      ['ml2_type_flat', 'flat_networks', 'physnet1,physnet2'],
    ]);
    const t = s.neutrino.transport;
    agentA = new ServerRpcClient(t, { host: 'host-a', timeoutMs: 5000 });
    agentB = new ServerRpcClient(t, { host: 'host-b', timeoutMs: 5000 });
    assert.equal(await agentA.reportState(lbState('host-a')), 'AGENT_NEW');
    assert.equal(await agentB.reportState(lbState('host-b')), 'AGENT_NEW');
    const record =
      (name: string) =>
      (args: unknown): void => {
        heard.push([name, args]);
      };
    listener = await listenAgentNotifications(t, 'host-b', {
      port_update: record('port_update'),
      port_delete: record('port_delete'),
      network_delete: record('network_delete'),
      add_fdb_entries: record('add_fdb_entries'),
      remove_fdb_entries: record('remove_fdb_entries'),
    });
  });

  after(async () => {
    await listener?.stop();
    await s?.close();
  });

  const waitFor = async (pred: () => boolean, what: string) => {
    const deadline = Date.now() + 5000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(heard)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('a port without a host is unbound; binding attributes are admin-only', async () => {
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.1.0.0/24', {}, ALICE);
    const p = await s.port(net.id, {}, ALICE);
    assert.equal(p['binding:host_id'], undefined, 'a member does not see binding:host_id');
    const asAdmin = (await s.get(`/v2.0/ports/${p.id}`, ADMIN)).body.port;
    assert.equal(asAdmin['binding:host_id'], '');
    assert.equal(asAdmin['binding:vif_type'], 'unbound');
    assert.deepEqual(asAdmin['binding:vif_details'], {});
    assert.deepEqual(asAdmin['binding:profile'], {});
    assert.equal(asAdmin['binding:vnic_type'], 'normal');
    assert.equal(p['binding:vnic_type'], 'normal', 'vnic_type is visible to the owner');
    expectError(await s.put(`/v2.0/ports/${p.id}`, { port: { 'binding:host_id': 'host-a' } }, ALICE), 403, 'PolicyNotAuthorized');
    const nullHost = await s.create('ports', 'port', { network_id: net.id, 'binding:host_id': null }, ADMIN);
    assert.equal(nullHost['binding:host_id'], '');
    assert.equal(nullHost['binding:vif_type'], 'unbound');
  });

  it('binds to a live agent, waits for L2, goes ACTIVE on device up and DOWN on device down', async () => {
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.2.0.0/24', {}, ALICE);
    const created = await s.create(
      'ports',
      'port',
      { network_id: net.id, 'binding:host_id': 'host-a', device_owner: 'compute:nova' },
      ADMIN,
    );
    assert.equal(created['binding:vif_type'], 'bridge');
    assert.deepEqual(created['binding:vif_details'], { port_filter: true, connectivity: 'l2' });
    assert.equal(created.status, 'DOWN');
    assert.deepEqual(created.provisioning_blocks, ['L2']);
    assert.equal(created.binding_failure_reason, null);

    const state = await agentA.getHostState();
    const mine = state.ports.find((p) => p.id === created.id);
    assert.ok(mine, 'the port is in host-a desired state');
    assert.equal(mine.network_type, 'vxlan');
    assert.ok(mine.segmentation_id !== null && mine.segmentation_id >= 100 && mine.segmentation_id <= 199);
    assert.equal(mine.mac_address, created.mac_address);
    assert.equal(mine.mtu, 1450);
    assert.ok(state.networks.some((n) => n.id === net.id));
    assert.ok(mine.security_groups.length === 1 && state.security_groups[mine.security_groups[0]].rules.length === 4);
    assert.equal((await agentB.getHostState()).ports.length, 0, 'host-b has nothing');

    const r = await agentA.updateDeviceList([`tap${created.id.slice(0, 11)}`], []);
    assert.deepEqual(r.devices_up, [`tap${created.id.slice(0, 11)}`]);
    let now = (await s.get(`/v2.0/ports/${created.id}`, ADMIN)).body.port;
    assert.equal(now.status, 'ACTIVE');
    assert.deepEqual(now.provisioning_blocks, []);
    assert.ok(now.revision_number > created.revision_number, 'the status change bumps the revision');

    // l2population: host-b hears host-a's VTEP with the port's MAC and IP.
    await waitFor(() => heard.some(([m]) => m === 'add_fdb_entries'), 'add_fdb_entries');
    const add = heard.find(([m]) => m === 'add_fdb_entries')?.[1] as AgentNotifications['add_fdb_entries'];
    const entries = add.fdb_entries[net.id].ports['192.0.2.1'];
    assert.deepEqual(entries[0], ['00:00:00:00:00:00', '0.0.0.0']);
    assert.deepEqual(entries[1], [created.mac_address, created.fixed_ips[0].ip_address]);

    // Another host's agent cannot report it.
    await agentB.updateDeviceList([], [created.id]);
    assert.equal((await s.get(`/v2.0/ports/${created.id}`, ADMIN)).body.port.status, 'ACTIVE');

    const down = await agentA.updateDeviceDown(created.id);
    assert.deepEqual(down, { device: created.id, exists: true });
    now = (await s.get(`/v2.0/ports/${created.id}`, ADMIN)).body.port;
    assert.equal(now.status, 'DOWN');
    await waitFor(() => heard.some(([m]) => m === 'remove_fdb_entries'), 'remove_fdb_entries');
    await agentA.updateDeviceUp(created.id);
    assert.equal((await s.get(`/v2.0/ports/${created.id}`, ADMIN)).body.port.status, 'ACTIVE');
  });

  it('an unbindable port is binding_failed, with the reason for the admin; a later update binds it', async () => {
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.3.0.0/24', {}, ALICE);
    const p = await s.create('ports', 'port', { network_id: net.id, 'binding:host_id': 'nowhere' }, ADMIN);
    assert.equal(p['binding:vif_type'], 'binding_failed');
    assert.match(p.binding_failure_reason, /no Linux bridge agent is registered on host nowhere/);
    assert.equal(p.status, 'DOWN');
    const moved = (await s.put(`/v2.0/ports/${p.id}`, { port: { 'binding:host_id': 'host-b' } }, ADMIN)).body.port;
    assert.equal(moved['binding:vif_type'], 'bridge');
    assert.equal(moved.binding_failure_reason, null);
    const unbound = (await s.put(`/v2.0/ports/${p.id}`, { port: { 'binding:host_id': '' } }, ADMIN)).body.port;
    assert.equal(unbound['binding:vif_type'], 'unbound');
    assert.deepEqual(unbound.provisioning_blocks, []);
  });

  it('port-mac-override: binding a direct-physical port gives it the MAC the profile names, or a new one', async () => {
    const aliases = (await s.get('/v2.0/extensions')).body.extensions.map((e: { alias: string }) => e.alias);
    assert.ok(aliases.includes('port-mac-override'));
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.9.0.0/24', {}, ALICE);
    const device = 'fa:16:3e:0a:0b:0c';
    const p = await s.create(
      'ports',
      'port',
      {
        network_id: net.id,
        'binding:host_id': 'host-a',
        'binding:vnic_type': 'direct-physical',
        'binding:profile': { device_mac_address: device },
      },
      ADMIN,
    );
    // No driver here binds direct-physical: the attempt fails, and the MAC follows the profile anyway.
    assert.equal(p['binding:vif_type'], 'binding_failed');
    assert.equal(p.mac_address, device);
    assert.equal((await s.get(`/v2.0/ports/${p.id}`, ALICE)).body.port.mac_address, device);
    // The device named no more: a new MAC, not the device's.
    const reset = (await s.put(`/v2.0/ports/${p.id}`, { port: { 'binding:profile': {} } }, ADMIN)).body.port;
    assert.notEqual(reset.mac_address, device);
    assert.match(reset.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    // Unbinding attempts no binding: the MAC stays.
    const unbound = (await s.put(`/v2.0/ports/${p.id}`, { port: { 'binding:host_id': '' } }, ADMIN)).body.port;
    assert.equal(unbound.mac_address, reset.mac_address);
    // Only direct-physical ports: a normal port keeps its MAC whatever its profile says.
    const n = await s.create('ports', 'port', { network_id: net.id }, ADMIN);
    const bound = (
      await s.put(
        `/v2.0/ports/${n.id}`,
        { port: { 'binding:host_id': 'host-a', 'binding:profile': { device_mac_address: 'fa:16:3e:0d:0e:0f' } } },
        ADMIN,
      )
    ).body.port;
    assert.equal(bound['binding:vif_type'], 'bridge');
    assert.equal(bound.mac_address, n.mac_address);
  });

  it('a flat network binds only where its physical network is mapped', async () => {
    const net = await s.create(
      'networks',
      'network',
      { name: 'flat', 'provider:network_type': 'flat', 'provider:physical_network': 'physnet2' },
      ADMIN,
    );
    await s.subnet(net.id, '10.4.0.0/24', {}, ADMIN);
    const p = await s.create('ports', 'port', { network_id: net.id, 'binding:host_id': 'host-a' }, ADMIN);
    assert.equal(p['binding:vif_type'], 'binding_failed');
    assert.match(p.binding_failure_reason, /physical network physnet2 is not mapped/);
  });

  it('a dead or disabled agent gets no bindings', async () => {
    const agents = (await s.get('/v2.0/agents?host=host-b', ADMIN)).body.agents;
    assert.equal(agents.length, 1);
    await s.put(`/v2.0/agents/${agents[0].id}`, { agent: { admin_state_up: false } }, ADMIN);
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.5.0.0/24', {}, ALICE);
    const p = await s.create('ports', 'port', { network_id: net.id, 'binding:host_id': 'host-b' }, ADMIN);
    assert.equal(p['binding:vif_type'], 'binding_failed');
    assert.match(p.binding_failure_reason, /disabled/);
    await s.put(`/v2.0/agents/${agents[0].id}`, { agent: { admin_state_up: true } }, ADMIN);
  });

  it('filters ports by binding:host_id; deleting a bound port or a network tells agents', async () => {
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.6.0.0/24', {}, ALICE);
    const p = await s.create('ports', 'port', { network_id: net.id, 'binding:host_id': 'host-b' }, ADMIN);
    const listed = (await s.get(`/v2.0/ports?binding:host_id=host-b&network_id=${net.id}`, ADMIN)).body.ports;
    assert.deepEqual(
      listed.map((x: { id: string }) => x.id),
      [p.id],
    );
    assert.equal((await s.get(`/v2.0/ports?binding:host_id=host-a&network_id=${net.id}`, ADMIN)).body.ports.length, 0);
    assert.equal((await s.del(`/v2.0/ports/${p.id}`, ADMIN)).status, 204);
    await waitFor(
      () => heard.some(([m, a]) => m === 'port_delete' && (a as { port_id: string }).port_id === p.id),
      'port_delete',
    );
    assert.equal((await s.del(`/v2.0/networks/${net.id}`, ALICE)).status, 204);
    await waitFor(
      () => heard.some(([m, a]) => m === 'network_delete' && (a as { network_id: string }).network_id === net.id),
      'network_delete',
    );
  });
});
