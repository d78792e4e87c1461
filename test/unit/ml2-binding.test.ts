// Binding decisions of the mechanism manager and the agent drivers, on made-up agents and
// segments: which driver binds, to which segment, and why a port stays unbound.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentView } from '../../src/plugins/ml2/mech/driver.js';
import { MechanismManager } from '../../src/plugins/ml2/mech-manager.js';
import type { Segment } from '../../src/plugins/ml2/segment.js';

const seg = (
  id: string,
  network_type: string,
  physical_network: string | null = null,
  segmentation_id: number | null = null,
): Segment => ({
  id,
  network_id: 'net',
  network_type,
  physical_network,
  segmentation_id,
});

const agent = (agent_type: string, configurations: Record<string, unknown>, extra: Partial<AgentView> = {}): AgentView => ({
  id: `${agent_type}-h1`,
  agent_type,
  host: 'h1',
  alive: true,
  admin_state_up: true,
  configurations,
  ...extra,
});

const LB = 'Linux bridge agent';
const OVS = 'Open vSwitch agent';

function bind(drivers: string[], segments: Segment[], agents: AgentView[], vnicType = 'normal') {
  const m = MechanismManager.fromConfig(drivers, {}, true);
  return m.bind({ port: { id: 'p1' }, network: { id: 'net' }, host: 'h1', vnicType, segments, agents });
}

describe('ML2 binding', () => {
  it('linuxbridge binds a vxlan segment when its agent has the tunnel type', () => {
    const r = bind(['linuxbridge'], [seg('s1', 'vxlan', null, 7)], [agent(LB, { tunnel_types: ['vxlan'] })]);
    assert.equal(r.vifType, 'bridge');
    assert.equal(r.segment?.id, 's1');
    assert.equal(r.driver, 'linuxbridge');
    assert.deepEqual(r.vifDetails, { port_filter: true, connectivity: 'l2' });
  });

  it('a vxlan segment does not bind on an agent without tunnels', () => {
    const r = bind(['linuxbridge'], [seg('s1', 'vxlan', null, 7)], [agent(LB, { tunnel_types: [] })]);
    assert.equal(r.vifType, 'binding_failed');
    assert.match(r.failure ?? '', /network type vxlan is not supported/);
  });

  it('flat and vlan need the physical network mapped; the first segment that fits wins', () => {
    const a = agent(LB, { interface_mappings: { physnet1: 'eth1' }, bridge_mappings: { physnet3: 'br3' } });
    assert.equal(bind(['linuxbridge'], [seg('s1', 'flat', 'physnet1')], [a]).vifType, 'bridge');
    assert.equal(bind(['linuxbridge'], [seg('s1', 'vlan', 'physnet3', 5)], [a]).vifType, 'bridge');
    const r = bind(['linuxbridge'], [seg('s1', 'vlan', 'physnet2', 5), seg('s2', 'flat', 'physnet1')], [a]);
    assert.equal(r.segment?.id, 's2');
    const failed = bind(['linuxbridge'], [seg('s1', 'flat', 'physnet2')], [a]);
    assert.match(failed.failure ?? '', /physical network physnet2 is not mapped/);
  });

  it('openvswitch binds with its bridge and datapath; drivers are asked in order', () => {
    const agents = [
      agent(OVS, { bridge_mappings: { physnet1: 'br-ex' }, datapath_type: 'netdev', integration_bridge: 'br-int' }),
    ];
    const r = bind(['linuxbridge', 'openvswitch'], [seg('s1', 'flat', 'physnet1')], agents);
    assert.equal(r.vifType, 'ovs');
    assert.equal(r.driver, 'openvswitch');
    assert.deepEqual(r.vifDetails, {
      port_filter: true,
      ovs_hybrid_plug: false,
      connectivity: 'l2',
      datapath_type: 'netdev',
      bridge_name: 'br-int',
    });
    assert.match(
      bind(['linuxbridge'], [seg('s1', 'flat', 'physnet1')], agents).failure ?? '',
      /no Linux bridge agent is registered on host h1/,
    );
  });

  it('never binds to a dead or disabled agent, nor an unsupported vnic_type', () => {
    const dead = bind(['linuxbridge'], [seg('s1', 'local')], [agent(LB, {}, { alive: false })]);
    assert.match(dead.failure ?? '', /dead/);
    const disabled = bind(['linuxbridge'], [seg('s1', 'local')], [agent(LB, {}, { admin_state_up: false })]);
    assert.match(disabled.failure ?? '', /disabled/);
    const direct = bind(['linuxbridge'], [seg('s1', 'local')], [agent(LB, {})], 'direct');
    assert.match(direct.failure ?? '', /vnic_type direct is not supported/);
    assert.equal(bind(['linuxbridge'], [seg('s1', 'local')], [agent(LB, {})]).vifType, 'bridge');
  });

  it('agents of other hosts do not count; an unknown driver name is a configuration error', () => {
    const elsewhere = bind(['linuxbridge'], [seg('s1', 'local')], [agent(LB, {}, { host: 'h2' })]);
    assert.equal(elsewhere.vifType, 'binding_failed');
    assert.throws(() => MechanismManager.fromConfig(['nosuch'], {}, true), /unknown driver 'nosuch'/);
  });
});

describe('ML2 postcommit', () => {
  it('every driver runs; a failed create_port_postcommit is a MechanismDriverError, a failed update only logs', async () => {
    const calls: string[] = [];
    const logged: string[] = [];
    const failing = {
      name: 'broken',
      createPortPostcommit: async () => Promise.reject(new Error('boom')),
      updatePortPostcommit: async () => Promise.reject(new Error('boom')),
    };
    const fine = {
      name: 'fine',
      createPortPostcommit: async () => void calls.push('create'),
      updatePortPostcommit: async () => void calls.push('update'),
    };
    const log = { warn: () => {}, error: (_o: object, msg: string) => void logged.push(msg) };
    const m = MechanismManager.fromConfig(['broken', 'fine'], { broken: failing, fine }, true, log);
    await assert.rejects(m.createPortPostcommit({ current: { id: 'p' } }), { type: 'MechanismDriverError', status: 500 });
    await m.updatePortPostcommit({ current: { id: 'p' } });
    assert.deepEqual(calls, ['create', 'update']);
    assert.equal(logged.length, 2);
  });
});
