// The L2 agent's loop (src/agents/common/l2-agent.ts) on the server's in-process bus, with backends
// that record, fail or hold: when it reconciles, when it waits, and what it does with notifications
// that arrive while a reconcile is under way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { L2Agent, type L2Backend } from '../../src/agents/common/l2-agent.js';
import type { HostState } from '../../src/rpc/contract.js';
import { type Listener, listenAgentNotifications } from '../../src/rpc/index.js';
import { ADMIN, TestServer } from '../helpers.js';

const configurations = () => ({
  interface_mappings: {},
  bridge_mappings: {},
  tunnel_types: ['vxlan'],
  tunneling_ip: '192.0.2.1',
  l2_population: false,
});

const agentOn = (s: TestServer, backend: L2Backend, pollingIntervalSec: number, log?: (m: string) => void) =>
  new L2Agent(s.neutrino.transport, backend, {
    host: 'host-a',
    agentType: 'Linux bridge agent',
    binary: 'neutrino-linuxbridge-agent',
    reportIntervalSec: 0,
    pollingIntervalSec,
    log,
  });

const until = async (what: string, pred: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('a reconcile that fails at once', () => {
  let s: TestServer;
  let agent: L2Agent;
  /** A backend whose host cannot be reached yet (an OVS agent before ovsdb-server is up). */
  const failing = {
    applies: 0,
    async apply(): Promise<Set<string>> {
      this.applies++;
      throw new Error('connect ENOENT /run/openvswitch/db.sock');
    },
    configurations,
  };
  const logged: string[] = [];

  before(async () => {
    s = await TestServer.start();
    agent = agentOn(s, failing, 3600, (m) => logged.push(m));
    await agent.start();
  });
  after(async () => {
    await agent?.stop();
    await s?.close();
  });

  it('is tried again at the next poll, not in a loop that calls the server and logs as fast as it can', async () => {
    await until('the first reconcile', () => failing.applies >= 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(failing.applies, 1, `${failing.applies} reconciles in half a second`);
    assert.equal(logged.filter((m) => m.startsWith('reconcile failed')).length, 1);
  });
});

/** A backend that records what it is asked to do. */
class RecordingBackend implements L2Backend {
  applies = 0;
  applied?: HostState;
  refreshes: HostState[] = [];
  async apply(state: HostState): Promise<Set<string>> {
    this.applies++;
    this.applied = state;
    return new Set(state.ports.map((p) => p.id));
  }
  async refreshFirewall(state: HostState): Promise<void> {
    this.refreshes.push(state);
  }
  configurations = configurations;
}

describe('security group changes more often than the polling interval', () => {
  let s: TestServer;
  let agent: L2Agent;
  const backend = new RecordingBackend();

  before(async () => {
    s = await TestServer.start([
      ['ml2', 'tenant_network_types', 'vxlan'],
      ['ml2_type_vxlan', 'vni_ranges', '100:199'],
    ]);
    agent = agentOn(s, backend, 1);
    await agent.start();
  });
  after(async () => {
    await agent?.stop();
    await s?.close();
  });

  it('are firewall refreshes, and the full reconcile still comes every interval', async () => {
    // A port of this host in a group whose rule names an address group: its changes concern the host.
    const ag = await s.create('address_groups', 'address_group', { name: 'office', addresses: [] }, ADMIN);
    const sg = await s.create('security_groups', 'security_group', { name: 'db' }, ADMIN);
    await s.create(
      'security_group_rules',
      'security_group_rule',
      { security_group_id: sg.id, direction: 'ingress', remote_address_group_id: ag.id },
      ADMIN,
    );
    const net = await s.network({}, ADMIN);
    await s.subnet(net.id, '10.8.0.0/24', {}, ADMIN);
    await s.port(net.id, { 'binding:host_id': 'host-a', device_owner: 'compute:nova', security_groups: [sg.id] }, ADMIN);
    await until('the port in the agent’s state', () => backend.refreshes.length === 0 && agent.syncs >= 2);
    // An address every 100 ms for 3.5 polling intervals.
    const applies = backend.applies;
    const refreshes = backend.refreshes.length;
    for (let i = 0; i < 35; i++) {
      const r = await s.put(`/v2.0/address-groups/${ag.id}/add_addresses`, { addresses: [`198.51.100.${i + 1}`] }, ADMIN);
      assert.equal(r.status, 200);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(backend.refreshes.length > refreshes, 'the changes were firewall refreshes');
    assert.ok(backend.applies > applies, 'no full reconcile in 3.5 polling intervals');
  });
});

describe('a notification that comes while a reconcile is under way', () => {
  let s: TestServer;
  let agent: L2Agent;
  let observer: Listener;
  const heard: string[][] = [];
  /** Holds apply until released, once armed: a reconcile caught between fetching its state and applying it. */
  const backend = new (class extends RecordingBackend {
    hold?: { entered: (s: HostState) => void; release: Promise<void> };
    override async apply(state: HostState): Promise<Set<string>> {
      const h = this.hold;
      if (h) {
        this.hold = undefined;
        h.entered(state);
        await h.release;
      }
      return super.apply(state);
    }
  })();

  before(async () => {
    s = await TestServer.start([
      ['ml2', 'tenant_network_types', 'vxlan'],
      ['ml2_type_vxlan', 'vni_ranges', '100:199'],
    ]);
    // A long poll: only notifications make the agent act.
    agent = agentOn(s, backend, 3600);
    await agent.start();
    observer = await listenAgentNotifications(s.neutrino.transport, 'observer', {
      security_groups_rule_updated: ({ security_groups }) => {
        heard.push(security_groups);
      },
    });
  });
  after(async () => {
    await observer?.stop();
    await agent?.stop();
    await s?.close();
  });

  it('about a group that the state being applied brings to the host is acted on once that state is in', async () => {
    await until('the first reconcile', () => agent.syncs >= 1);
    const sg = await s.create('security_groups', 'security_group', { name: 'web' }, ADMIN);
    const net = await s.network({}, ADMIN);
    await s.subnet(net.id, '10.9.0.0/24', {}, ADMIN);
    let release = () => {};
    const entered = new Promise<HostState>((resolve) => {
      backend.hold = { entered: resolve, release: new Promise((r) => (release = r)) };
    });
    // The host's first port in `web`: the reconcile it causes fetches a state with web's rules …
    await s.port(net.id, { 'binding:host_id': 'host-a', device_owner: 'compute:nova', security_groups: [sg.id] }, ADMIN);
    const state = await entered;
    assert.ok(sg.id in state.security_groups);
    // … and a rule added to web before that state is applied is not in it.
    await s.create(
      'security_group_rules',
      'security_group_rule',
      { security_group_id: sg.id, direction: 'ingress', protocol: 'udp' },
      ADMIN,
    );
    await until('the rule change notified', () => heard.some((ids) => ids.includes(sg.id)));
    await new Promise((r) => setTimeout(r, 50));
    release();
    await until('a refresh with the new rule', () =>
      backend.refreshes.some((r) => r.security_groups[sg.id]?.rules.some((x) => x.protocol === 'udp')),
    );
  });
});

describe('a backend without a firewall refresh (the Open vSwitch agent’s)', () => {
  let s: TestServer;
  let agent: L2Agent;
  const backend = {
    applies: 0,
    applied: undefined as HostState | undefined,
    async apply(state: HostState): Promise<Set<string>> {
      this.applies++;
      this.applied = state;
      return new Set(state.ports.map((p) => p.id));
    },
    configurations,
  };

  before(async () => {
    s = await TestServer.start([
      ['ml2', 'tenant_network_types', 'vxlan'],
      ['ml2_type_vxlan', 'vni_ranges', '100:199'],
    ]);
    agent = agentOn(s, backend, 3600);
    await agent.start();
  });
  after(async () => {
    await agent?.stop();
    await s?.close();
  });

  it('reconciles for changes of the groups its host uses, not for every group of the cloud', async () => {
    await until('the first reconcile', () => agent.syncs >= 1);
    const mine = await s.create('security_groups', 'security_group', { name: 'mine' }, ADMIN);
    const other = await s.create('security_groups', 'security_group', { name: 'other' }, ADMIN);
    const net = await s.network({}, ADMIN);
    await s.subnet(net.id, '10.10.0.0/24', {}, ADMIN);
    const port = await s.port(
      net.id,
      { 'binding:host_id': 'host-a', device_owner: 'compute:nova', security_groups: [mine.id] },
      ADMIN,
    );
    await until('the port in the agent’s state', () => !!backend.applied?.ports.some((p) => p.id === port.id));
    // The reconciles the port caused (its binding, its group's new member) all done.
    let syncs = -1;
    while (syncs !== agent.syncs) {
      syncs = agent.syncs;
      await new Promise((r) => setTimeout(r, 300));
    }
    // Another host's business: a rule of a group no port here uses, a port joining it.
    await s.create('security_group_rules', 'security_group_rule', { security_group_id: other.id, direction: 'ingress' }, ADMIN);
    await s.port(net.id, { security_groups: [other.id] }, ADMIN);
    // This host's: a rule of its port's group.
    await s.create(
      'security_group_rules',
      'security_group_rule',
      { security_group_id: mine.id, direction: 'ingress', protocol: 'udp' },
      ADMIN,
    );
    await until(
      'a reconcile with the new rule',
      () => !!backend.applied?.security_groups[mine.id]?.rules.some((r) => r.protocol === 'udp'),
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(agent.syncs, syncs + 1, 'one reconcile, for the change of its own group');
  });
});
