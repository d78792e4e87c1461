// The native OVS firewall's pure parts: port ranges as value/mask pairs, a rule as flow matches
// (protocols, ports, ICMP type/code, prefixes, remote groups), and the per-port flows (egress and
// ingress dispatch, rules committed in conntrack, unsecured ports still meeting secured ports' rules).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firewallFlows, portMasks, protocolNumber, ruleMatches } from '../../src/agents/openvswitch/firewall.js';
import type { HostPort, HostState, SecurityGroupRule } from '../../src/rpc/contract.js';
import { flowLine } from '../../src/system/index.js';

const rule = (over: Partial<SecurityGroupRule>): SecurityGroupRule => ({
  id: 'r',
  direction: 'ingress',
  ethertype: 'IPv4',
  protocol: null,
  port_range_min: null,
  port_range_max: null,
  remote_ip_prefix: null,
  remote_group_id: null,
  ...over,
});

/** Expands value/mask pairs back to the ports they cover. */
function covered(masks: string[]): number[] {
  const out: number[] = [];
  for (const m of masks) {
    const [v, mask = 0xffff] = m.split('/').map((x) => Number.parseInt(x, 16));
    for (let p = 0; p <= 65535; p++) if ((p & mask) === v) out.push(p);
  }
  return out.sort((a, b) => a - b);
}

describe('native OVS firewall: rules as matches', () => {
  it('covers a port range exactly with value/mask pairs', () => {
    for (const [lo, hi] of [
      [80, 80],
      [1000, 1999],
      [1, 1023],
      [5000, 65535],
      [32768, 60999],
    ]) {
      const want = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
      assert.deepEqual(covered(portMasks(lo, hi)), want, `${lo}-${hi}`);
    }
    assert.deepEqual(portMasks(1, 65535), []);
    assert.deepEqual(portMasks(80, 80), ['0x50']);
  });

  it('reads protocols as Neutron does', () => {
    assert.equal(protocolNumber('tcp', 'IPv4'), 6);
    assert.equal(protocolNumber('icmp', 'IPv6'), 58);
    assert.equal(protocolNumber('ipv6-icmp', 'IPv6'), 58);
    assert.equal(protocolNumber('17', 'IPv4'), 17);
    assert.equal(protocolNumber('any', 'IPv4'), null);
    assert.equal(protocolNumber('0', 'IPv4'), null);
    assert.throws(() => protocolNumber('bogus', 'IPv4'), /unknown protocol/);
  });

  it('turns rules into matches: ports, ICMP, prefixes by direction, remote groups by member', () => {
    assert.deepEqual(ruleMatches(rule({ protocol: 'tcp', port_range_min: 22, port_range_max: 22 }), {}), ['tcp,tp_dst=0x16']);
    assert.deepEqual(ruleMatches(rule({ ethertype: 'IPv6', protocol: 'udp', port_range_min: 53, port_range_max: 53 }), {}), [
      'udp6,tp_dst=0x35',
    ]);
    assert.deepEqual(ruleMatches(rule({ protocol: 'icmp', port_range_min: 8, port_range_max: 0 }), {}), [
      'icmp,icmp_type=8,icmp_code=0',
    ]);
    assert.deepEqual(ruleMatches(rule({ ethertype: 'IPv6', protocol: 'icmp' }), {}), ['icmp6']);
    assert.deepEqual(ruleMatches(rule({ protocol: 'gre' }), {}), ['ip,nw_proto=47']);
    assert.deepEqual(ruleMatches(rule({ remote_ip_prefix: '10.0.0.0/8' }), {}), ['ip,nw_src=10.0.0.0/8']);
    assert.deepEqual(ruleMatches(rule({ direction: 'egress', remote_ip_prefix: '10.0.0.0/8' }), {}), ['ip,nw_dst=10.0.0.0/8']);
    assert.deepEqual(ruleMatches(rule({ remote_ip_prefix: '0.0.0.0/0' }), {}), ['ip']);
    assert.deepEqual(
      ruleMatches(rule({ remote_ip_prefix: '2001:db8::/32' }), {}),
      [],
      'a prefix of the other family matches nothing',
    );
    const members = { g: { IPv4: ['10.0.0.5', '10.0.0.6'], IPv6: [] } };
    assert.deepEqual(
      ruleMatches(rule({ protocol: 'tcp', port_range_min: 80, port_range_max: 81, remote_group_id: 'g' }), members),
      ['tcp,tp_dst=0x50/0xfffe,nw_src=10.0.0.5', 'tcp,tp_dst=0x50/0xfffe,nw_src=10.0.0.6'],
    );
    assert.deepEqual(ruleMatches(rule({ ethertype: 'IPv6', remote_group_id: 'g' }), members), [], 'no member of the family');
  });
});

describe('native OVS firewall: flows', () => {
  const port = (i: number, over: Partial<HostPort> = {}): HostPort => ({
    id: `p${i}`,
    network_id: 'n',
    mac_address: `fa:16:3e:00:00:0${i}`,
    fixed_ips: [{ subnet_id: 's', ip_address: `10.0.0.${i}` }],
    admin_state_up: true,
    status: 'ACTIVE',
    device_owner: 'compute:nova',
    device_id: 'd',
    network_type: 'vxlan',
    physical_network: null,
    segmentation_id: 100,
    mtu: 1450,
    port_security_enabled: true,
    allowed_address_pairs: [],
    security_groups: ['web'],
    revision_number: 1,
    ...over,
  });
  const state: HostState = {
    host: 'h',
    ports: [],
    networks: [],
    security_groups: {
      web: {
        id: 'web',
        stateful: true,
        revision_number: 1,
        rules: [rule({ protocol: 'tcp', port_range_min: 80, port_range_max: 80 }), rule({ direction: 'egress', id: 'e' })],
      },
    },
    sg_member_ips: {},
    fdb: {},
  };
  const flows = firewallFlows(
    '0x9',
    [
      { port: port(1), ofport: 11, lvid: 3, secured: true },
      { port: port(2, { port_security_enabled: false }), ofport: 12, lvid: 3, secured: false },
    ],
    state,
  );
  const has = (line: string) => assert.ok(flows.includes(line), `missing ${line}`);

  it('sends a secured port’s frames to the egress tables and what is for it to the ingress tables, with reg5/reg6', () => {
    has('cookie=0x9,table=60,priority=100,in_port=11,actions=load:11->NXM_NX_REG5[],load:3->NXM_NX_REG6[],goto_table:71');
    has(
      'cookie=0x9,table=60,priority=90,dl_vlan=3,dl_dst=fa:16:3e:00:00:01,actions=load:11->NXM_NX_REG5[],load:3->NXM_NX_REG6[],strip_vlan,goto_table:81',
    );
    // From a port on this host: to its ingress before anything is committed.
    has('cookie=0x9,table=73,priority=100,reg6=3,dl_dst=fa:16:3e:00:00:01,actions=load:11->NXM_NX_REG5[],goto_table:81');
    // The unsecured port is not filtered, but passes the local dispatch.
    has('cookie=0x9,table=60,priority=100,in_port=12,actions=load:12->NXM_NX_REG5[],load:3->NXM_NX_REG6[],goto_table:73');
    assert.ok(!flows.some((f) => f.includes('reg5=12,')));
  });

  it('admits by rule, commits new connections once, and marks those no rule admits any more', () => {
    has(
      'cookie=0x9,table=82,priority=70,reg5=11,ct_state=+new-est,tcp,tp_dst=0x50,actions=ct(commit,zone=NXM_NX_REG6[0..15]),output:11',
    );
    has('cookie=0x9,table=82,priority=70,reg5=11,ct_state=+est-rel-rpl,tcp,tp_dst=0x50,actions=output:11');
    has('cookie=0x9,table=72,priority=70,reg5=11,ct_state=+new-est,ip,actions=goto_table:73');
    has('cookie=0x9,table=73,priority=90,ct_state=+new-est,ip,actions=ct(commit,zone=NXM_NX_REG6[0..15]),goto_table:94');
    has(
      'cookie=0x9,table=82,priority=40,ct_state=+est,ip,actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark))',
    );
    has('cookie=0x9,table=82,priority=50,ct_state=+trk,ct_mark=0x1,actions=drop');
    for (const f of flows) flowLine(f);
  });
});
