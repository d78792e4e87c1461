// The Open vSwitch agent's control plane over the server's own bus, with backends that record instead
// of wiring: ML2's openvswitch driver binds a port to the agent with vif_type ovs and the bridge and
// datapath type the agent reports; without l2population each agent announces its tunnel endpoint with
// tunnel_sync once (and learns the others), and hears of later ones through tunnel_update.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { L2Agent, type L2Backend } from '../../src/agents/common/l2-agent.js';
import { AGENT_TYPE_OVS } from '../../src/agents/openvswitch/backend.js';
import type { HostState } from '../../src/rpc/contract.js';
import { TestServer } from '../helpers.js';

class RecordingBackend implements L2Backend {
  readonly endpoints: Array<[string, string[], string]> = [];
  states: HostState[] = [];
  constructor(private readonly ip: string) {}
  async apply(state: HostState): Promise<Set<string>> {
    this.states.push(state);
    return new Set(state.ports.map((p) => p.id));
  }
  configurations(): Record<string, unknown> {
    return {
      bridge_mappings: {},
      integration_bridge: 'br-int',
      tunnel_types: ['vxlan'],
      tunneling_ip: this.ip,
      l2_population: false,
      datapath_type: 'netdev',
    };
  }
  tunnelSync() {
    return { localIp: this.ip, types: ['vxlan'] };
  }
  tunnelEndpoints(type: string, ips: string[], how: 'add' | 'delete'): void {
    this.endpoints.push([type, [...ips].sort(), how]);
  }
  known(): string[] {
    const out = new Set<string>();
    for (const [, ips, how] of this.endpoints) for (const ip of ips) how === 'add' ? out.add(ip) : out.delete(ip);
    return [...out].sort();
  }
}

describe('Open vSwitch agent over the bus', () => {
  let s: TestServer;
  const agents: L2Agent[] = [];
  const backends = new Map<string, RecordingBackend>();
  const start = async (host: string, ip: string) => {
    const b = new RecordingBackend(ip);
    backends.set(host, b);
    const a = new L2Agent(s.neutrino.transport, b, {
      host,
      agentType: AGENT_TYPE_OVS,
      binary: 'neutrino-openvswitch-agent',
      reportIntervalSec: 30,
      pollingIntervalSec: 1,
      timeoutMs: 5000,
    });
    agents.push(a);
    await a.start();
    await until(() => a.syncs > 0, `${host}'s first reconcile`);
    return a;
  };

  before(async () => {
    s = await TestServer.start([
      ['ml2', 'tenant_network_types', 'vxlan'],
      ['ml2', 'mechanism_drivers', 'openvswitch'],
      ['ml2_type_vxlan', 'vni_ranges', '100:199'],
    ]);
  });
  after(async () => {
    for (const a of agents) await a.stop();
    await s?.close();
  });

  it('tunnel_sync once per agent start: each learns every endpoint, and a later one through tunnel_update', async () => {
    await start('ovs-a', '192.0.2.21');
    assert.deepEqual(backends.get('ovs-a')!.known(), ['192.0.2.21']);
    await start('ovs-b', '192.0.2.22');
    assert.deepEqual(backends.get('ovs-b')!.known(), ['192.0.2.21', '192.0.2.22']);
    await until(() => backends.get('ovs-a')!.known().includes('192.0.2.22'), 'tunnel_update on ovs-a');
    const calls = backends.get('ovs-b')!.endpoints.length;
    // Reconciles do not call tunnel_sync again (each would fan out a tunnel_update to every agent).
    const a = agents[0];
    const syncs = a.syncs;
    a.poke();
    await until(() => a.syncs > syncs, 'another reconcile');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(backends.get('ovs-b')!.endpoints.length, calls, 'tunnel_sync or tunnel_update again');
  });

  it('ML2 binds a port to the OVS agent with vif_type ovs, its bridge and datapath type; the agent reports it up', async () => {
    const net = await s.network({});
    await s.subnet(net.id, '10.7.0.0/24', {});
    const p = await s.port(net.id, {});
    const r = await s.put(`/v2.0/ports/${p.id}`, { port: { 'binding:host_id': 'ovs-a', device_owner: 'compute:nova' } });
    assert.equal(r.status, 200);
    const bound = r.body.port;
    assert.equal(bound['binding:vif_type'], 'ovs');
    assert.deepEqual(
      [
        bound['binding:vif_details'].bridge_name,
        bound['binding:vif_details'].datapath_type,
        bound['binding:vif_details'].ovs_hybrid_plug,
      ],
      ['br-int', 'netdev', false],
    );
    await until(async () => (await s.get(`/v2.0/ports/${p.id}`)).body.port.status === 'ACTIVE', 'the port ACTIVE');
    const last = backends.get('ovs-a')!.states.at(-1)!;
    assert.equal(last.ports.find((x) => x.id === p.id)?.network_type, 'vxlan');
  });
});

async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
