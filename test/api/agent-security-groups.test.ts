// An L2 agent (src/agents/common/l2-agent.ts) on the server's in-process bus, with a recording
// backend: a change of security group rules, members or address groups that concerns its host is
// a firewall refresh (get_security_group_info, the backend's refreshFirewall), never a full
// reconcile, and carries the new rules or addresses; a change concerning only other hosts does
// nothing at all.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { L2Agent, type L2Backend } from '../../src/agents/common/l2-agent.js';
import type { HostState } from '../../src/rpc/contract.js';
import { ADMIN, ALICE, TestServer } from '../helpers.js';

class RecordingBackend implements L2Backend {
  applies = 0;
  refreshes: HostState[] = [];
  async apply(state: HostState): Promise<Set<string>> {
    this.applies++;
    return new Set(state.ports.map((p) => p.id));
  }
  async refreshFirewall(state: HostState): Promise<void> {
    this.refreshes.push(state);
  }
  configurations(): Record<string, unknown> {
    return {
      interface_mappings: {},
      bridge_mappings: {},
      tunnel_types: ['vxlan'],
      tunneling_ip: '192.0.2.1',
      l2_population: false,
    };
  }
}

describe('an agent refreshes only its firewall when security groups change', () => {
  let s: TestServer;
  let agent: L2Agent;
  const backend = new RecordingBackend();

  before(async () => {
    s = await TestServer.start([
      ['ml2', 'tenant_network_types', 'vxlan'],
      ['ml2_type_vxlan', 'vni_ranges', '100:199'],
    ]);
    // A long poll: every reconcile seen here was caused by a notification.
    agent = new L2Agent(s.neutrino.transport, backend, {
      host: 'host-a',
      agentType: 'Linux bridge agent',
      binary: 'neutrino-linuxbridge-agent',
      reportIntervalSec: 0,
      pollingIntervalSec: 3600,
    });
    await agent.start();
  });
  after(async () => {
    await agent?.stop();
    await s?.close();
  });

  const until = async (what: string, pred: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('rules, members and address groups of its ports: a refresh with the new data; others: nothing', async () => {
    await until('the first reconcile', () => agent.syncs >= 1);
    const sg = (name: string) => s.create('security_groups', 'security_group', { name }, ALICE);
    const web = await sg('web');
    const db = await sg('db');
    const elsewhere = await sg('elsewhere');
    const ag = await s.create('address_groups', 'address_group', { name: 'office', addresses: ['192.0.2.0/24'] }, ALICE);
    await s.create(
      'security_group_rules',
      'security_group_rule',
      { security_group_id: db.id, direction: 'ingress', remote_group_id: web.id },
      ALICE,
    );
    await s.create(
      'security_group_rules',
      'security_group_rule',
      { security_group_id: db.id, direction: 'ingress', protocol: 'tcp', remote_address_group_id: ag.id },
      ALICE,
    );
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.7.0.0/24', {}, ALICE);
    await s.create(
      'ports',
      'port',
      {
        network_id: net.id,
        'binding:host_id': 'host-a',
        device_owner: 'compute:nova',
        security_groups: [db.id],
        tenant_id: ALICE.project,
      },
      ADMIN,
    );
    await until('the port in the agent’s state', () => agent.syncs >= 2);
    const applies = backend.applies;

    // A new member of `web`, which db's rule names: the firewall refresh carries its address.
    const member = await s.port(net.id, { security_groups: [web.id] });
    await until('a refresh with the new member', () =>
      backend.refreshes.some((r) => r.sg_member_ips[web.id]?.IPv4.includes(member.fixed_ips[0].ip_address)),
    );
    // A rule of db: the refresh carries it.
    await s.create(
      'security_group_rules',
      'security_group_rule',
      { security_group_id: db.id, direction: 'ingress', protocol: 'udp' },
      ALICE,
    );
    await until('a refresh with the new rule', () =>
      backend.refreshes.some((r) => r.security_groups[db.id]?.rules.some((x) => x.protocol === 'udp')),
    );
    // An address of the address group: the refresh carries it.
    await s.put(`/v2.0/address-groups/${ag.id}/add_addresses`, { addresses: ['198.51.100.0/24'] }, ALICE);
    await until('a refresh with the new address', () =>
      backend.refreshes.some((r) => r.sg_member_ips[ag.id]?.IPv4.includes('198.51.100.0/24')),
    );
    assert.equal(backend.applies, applies, 'no full reconcile for any of these');

    // Changes of groups none of the host's ports uses or names: nothing.
    const refreshes = backend.refreshes.length;
    await s.create(
      'security_group_rules',
      'security_group_rule',
      { security_group_id: elsewhere.id, direction: 'ingress' },
      ALICE,
    );
    await s.port(net.id, { security_groups: [elsewhere.id] });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(backend.refreshes.length, refreshes);
    assert.equal(backend.applies, applies);
    assert.equal(agent.firewallRefreshes, refreshes);
  });
});
