// The nftables firewall as data (src/agents/firewall): rules compiled from security groups with
// Neutron's meaning, the port marks and zones kept across compiles, addresses in nft's canonical
// form, and the diff of two rulesets — nothing when nothing changed, one set element when a member
// joins, a new chain and a map element when a port's rules change, the whole table on a new schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonical, setElements } from '../../src/agents/firewall/addresses.js';
import {
  compileFirewall,
  type FirewallPort,
  type FirewallState,
  firewallKind,
  hintsOf,
} from '../../src/agents/firewall/index.js';
import { protocolNumber, ruleMatch } from '../../src/agents/firewall/rules.js';
import type { SecurityGroupRule } from '../../src/rpc/contract.js';
import { diffRuleset, type NftTableState, parseListings, stateOf } from '../../src/system/index.js';

const rule = (r: Partial<SecurityGroupRule> & Pick<SecurityGroupRule, 'direction'>): SecurityGroupRule => ({
  id: 'r',
  ethertype: 'IPv4',
  protocol: null,
  port_range_min: null,
  port_range_max: null,
  remote_ip_prefix: null,
  remote_group_id: null,
  remote_address_group_id: null,
  ...r,
});

const port = (i: number, over: Partial<FirewallPort> = {}): FirewallPort => ({
  id: `p${i}`,
  device: `tap0000000${i}-aa`,
  bridge: 'brq11111111-11',
  network_id: 'net1',
  mac_address: `fa:16:3e:00:00:0${i}`,
  fixed_ips: [`10.0.0.${i}`, `fd00::${i}`],
  allowed_address_pairs: [],
  port_security_enabled: true,
  security_groups: ['web'],
  ...over,
});

const WEB = {
  id: 'web',
  stateful: true,
  revision_number: 1,
  rules: [
    rule({ direction: 'egress' }),
    rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 }),
    rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80, remote_group_id: 'web' }),
  ],
};

const state = (ports: FirewallPort[], over: Partial<FirewallState> = {}): FirewallState => ({
  ports,
  security_groups: { web: WEB },
  sg_member_ips: { web: { IPv4: ['10.0.0.1', '10.0.0.2'], IPv6: [] } },
  ...over,
});

const chains = (s: FirewallState, family: string, prefix: string): string[][] => {
  const t = compileFirewall(s).tables.find((x) => x.family === family);
  return [...(t?.chains ?? [])].filter(([n]) => n.startsWith(prefix)).map(([, c]) => c.rules);
};

/** The ingress rules of a port: its own chain, then the shared chain it goes to. */
const ingressOf = (s: FirewallState, device: string): string[] => {
  const [own] = chains(s, 'inet', `in-${device}`);
  const target = (own.at(-1) as string).replace(/^goto /, '');
  return [...own.slice(0, -1), ...chains(s, 'inet', target)[0]];
};

test('rules: direction picks the remote side; protocols by name or number; ports and ICMP type/code', () => {
  const sets: string[] = [];
  const use = (n: string) => sets.push(n);
  assert.equal(ruleMatch(rule({ direction: 'ingress' }), use), 'meta nfproto ipv4');
  assert.equal(
    ruleMatch(
      rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '10.1.2.3/8' }),
      use,
    ),
    'ip saddr 10.0.0.0/8 meta l4proto 6 th dport 22',
  );
  assert.equal(
    ruleMatch(
      rule({ direction: 'egress', protocol: '17', port_range_min: 1000, port_range_max: 2000, remote_ip_prefix: '0.0.0.0/0' }),
      use,
    ),
    'meta nfproto ipv4 meta l4proto 17 th dport 1000-2000',
  );
  assert.equal(
    ruleMatch(rule({ direction: 'ingress', protocol: 'icmp', port_range_min: 8, port_range_max: 0 }), use),
    'meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0',
  );
  // 'icmp' under IPv6 is ICMPv6, as Neutron reads it.
  assert.equal(
    ruleMatch(rule({ direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', port_range_min: 128 }), use),
    'meta nfproto ipv6 meta l4proto 58 icmpv6 type 128',
  );
  assert.equal(
    ruleMatch(rule({ direction: 'egress', ethertype: 'IPv6', protocol: 'tcp', remote_group_id: 'g1' }), use),
    'ip6 daddr @rg-g1-6 meta l4proto 6',
  );
  assert.equal(ruleMatch(rule({ direction: 'ingress', remote_address_group_id: 'a1' }), use), 'ip saddr @ag-a1-4');
  assert.deepEqual(sets, ['rg-g1-6', 'ag-a1-4']);
  assert.equal(
    ruleMatch(rule({ direction: 'ingress', remote_ip_prefix: 'fd00::/8' }), use),
    undefined,
    'a prefix of the other family',
  );
  assert.equal(protocolNumber('any', 'IPv4'), null);
  assert.equal(protocolNumber('0', 'IPv4'), null, '0 means any, as iptables reads it');
  assert.equal(protocolNumber('ipv6-icmp', 'IPv6'), 58);
  assert.throws(() => protocolNumber('bogus', 'IPv4'));
  assert.throws(() => ruleMatch(rule({ direction: 'ingress', remote_group_id: 'x y' }), use), /invalid command token/);
});

test('addresses: nft’s canonical text; interval set elements without overlaps', () => {
  assert.equal(canonical('10.1.2.3/8'), '10.0.0.0/8');
  assert.equal(canonical('10.1.2.3/32'), '10.1.2.3');
  assert.equal(canonical('2001:DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(canonical('2001:db8::f00/64'), '2001:db8::/64');
  assert.equal(canonical('::ffff:10.0.0.1'), '::ffff:10.0.0.1');
  assert.equal(canonical('fe80::1:2'), 'fe80::1:2');
  assert.equal(canonical('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
  assert.equal(canonical('::'), '::');
  assert.equal(canonical('nonsense'), undefined);
  assert.deepEqual(setElements(['10.0.0.5', '10.0.0.0/24', '10.0.0.5', '10.0.1.1', 'fd00::1', 'bad'], 4), [
    '10.0.0.0/24',
    '10.0.1.1',
  ]);
  assert.deepEqual(setElements(['fd00::1', 'FD00:0::1', 'fd00::/120', 'fd01::1'], 6), ['fd00::/120', 'fd01::1']);
});

test('compile: marks, zones, anti-spoofing and the fixed rules of Neutron; stateless ports match every packet', () => {
  const s = state([
    port(1),
    port(2, { network_id: 'net2', bridge: 'brq22222222-22' }),
    port(3, { port_security_enabled: false }),
  ]);
  const c = compileFirewall(s);
  assert.deepEqual(
    [...c.portIndex],
    [
      ['tap00000001-aa', 1],
      ['tap00000002-aa', 2],
    ],
  );
  assert.deepEqual(
    [...c.zones],
    [
      ['brq11111111-11', 1],
      ['brq22222222-22', 2],
    ],
  );
  const [bridge, inet] = c.tables;
  assert.deepEqual(
    [...(bridge.sets.get('ports')?.elements ?? [])].map((e) => e.split(' : ')[0]),
    ['tap00000001-aa', 'tap00000002-aa'],
  );
  const as = chains(s, 'bridge', 'as-tap00000001');
  assert.equal(as.length, 1);
  assert.equal(as[0][0], 'meta mark set meta mark & 0xffff0000 | 0x00000001');
  assert.ok(as[0].includes('ether saddr fa:16:3e:00:00:01 ip saddr 10.0.0.1 accept'));
  assert.deepEqual([...(inet.sets.get('zones')?.elements ?? [])], ['brq11111111-11 : 1', 'brq22222222-22 : 2']);
  assert.deepEqual([...(inet.sets.get('rg-web-4')?.elements ?? [])], ['10.0.0.1', '10.0.0.2']);
  const [own] = chains(s, 'inet', 'in-tap00000001');
  assert.ok(own.includes('icmpv6 type { 130, 134, 135, 136 } accept'), 'RA admitted to a port with IPv6 addresses');
  assert.ok(own.includes('udp sport 67 udp dport 68 ip daddr { 10.0.0.1, 255.255.255.255 } accept'));
  assert.match(own.at(-1) as string, /^goto ig-[0-9a-f]{12}$/, 'then the groups’ chain');
  assert.equal(chains(s, 'inet', 'ig-').length, 1, 'ports of the same groups share one ingress chain (and one egress chain)');
  assert.equal(chains(s, 'inet', 'eg-').length, 1);
  const ing = ingressOf(s, 'tap00000001');
  assert.ok(ing.indexOf('ct state related accept') > ing.indexOf(own[0]));
  assert.ok(ing.some((r) => /^ct state established ct mark & 0xffff0000 == 0x[0-9a-f]{4}0000 accept$/.test(r)));
  assert.ok(
    ing.some((r) =>
      /^meta nfproto ipv4 meta l4proto 6 th dport 22 ct mark set ct mark & 0x0000ffff \| 0x[0-9a-f]{4}0000 accept$/.test(r),
    ),
  );
  assert.ok(ing.some((r) => r.startsWith('ip saddr @rg-web-4 meta l4proto 6 th dport 80 ')));
  assert.equal(ing.at(-1), 'drop');
  const [eg] = chains(s, 'inet', 'eg-');
  assert.ok(eg.includes('meta nfproto ipv4 udp sport 67 udp dport 68 drop'), 'a VM may not answer DHCP');
  assert.ok(eg.includes('icmpv6 type 134 drop'), 'nor advertise itself as a router');
  assert.ok(eg.some((r) => /^meta nfproto ipv4 ct mark set ct mark & 0xffff0000 \| 0x0000[0-9a-f]{4} accept$/.test(r)));
  assert.equal(chains(s, 'bridge', 'as-tap00000003').length, 0, 'no port security, no chain');

  const stateless = state([port(1)], { security_groups: { web: { ...WEB, stateful: false } } });
  const sl = ingressOf(stateless, 'tap00000001');
  assert.ok(!sl.some((r) => r.includes('ct ')), sl.join('\n'));
  assert.ok(sl.includes('meta nfproto ipv4 meta l4proto 6 th dport 22 accept'));

  const none = state([port(1, { security_groups: [] })]);
  const bare = ingressOf(none, 'tap00000001');
  assert.equal(bare.filter((r) => r.includes('th dport')).length, 0, 'no groups: only the fixed rules, then drop');
  assert.deepEqual(compileFirewall(state([port(1, { port_security_enabled: false })])).tables, []);
});

test('compile: a chain changes name and generation with its rules, and only then', () => {
  const a = state([port(1)]);
  const b = state([port(1)], {
    security_groups: {
      web: {
        ...WEB,
        rules: [...WEB.rules, rule({ direction: 'ingress', protocol: 'udp', port_range_min: 53, port_range_max: 53 })],
      },
    },
  });
  const name = (s: FirewallState, prefix: string) =>
    [...(compileFirewall(s).tables[1].chains.keys() ?? [])].find((n) => n.startsWith(prefix)) as string;
  assert.equal(name(a, 'in-'), name(state([port(1)]), 'in-'), 'deterministic');
  assert.notEqual(name(a, 'in-'), name(b, 'in-'));
  assert.equal(name(a, 'eg-'), name(b, 'eg-'), 'the egress chain did not change');
  assert.notEqual(name(a, 'ig-'), name(b, 'ig-'));
  const gen = (s: FirewallState) => chains(s, 'inet', 'ig-')[0][2];
  assert.notEqual(gen(a), gen(b));
  // A member joining changes no chain at all.
  const joined = state([port(1)], { sg_member_ips: { web: { IPv4: ['10.0.0.1', '10.0.0.2', '10.0.0.9'], IPv6: [] } } });
  assert.deepEqual([...compileFirewall(joined).tables[1].chains.keys()], [...compileFirewall(a).tables[1].chains.keys()]);
});

test('compile: hints from the kernel keep port indexes and zones; new ones take the lowest free', () => {
  const have: NftTableState = {
    family: 'inet',
    name: 'neutrino',
    schema: 1,
    chains: new Set(),
    sets: new Map([
      ['ingress', new Set(['7 : jump in-tap00000002-aa-0123abcd'])],
      ['zones', new Set(['brq22222222-22 : 5'])],
    ]),
  };
  const hints = hintsOf(new Map([['inet neutrino', have]]));
  assert.deepEqual([...hints.portIndex], [['tap00000002-aa', 7]]);
  const c = compileFirewall(state([port(1), port(2, { network_id: 'net2', bridge: 'brq22222222-22' }), port(3)]), hints);
  assert.deepEqual(
    [...c.portIndex],
    [
      ['tap00000002-aa', 7],
      ['tap00000001-aa', 1],
      ['tap00000003-aa', 2],
    ],
  );
  assert.deepEqual(
    [...c.zones],
    [
      ['brq11111111-11', 1],
      ['brq22222222-22', 5],
    ],
  );
});

test('diff: nothing when converged; one element for a new member; a new chain and map element for changed rules', () => {
  const first = compileFirewall(state([port(1), port(2)]));
  const full = diffRuleset(first.tables, new Map());
  assert.match(full, /^add table bridge neutrino\ndelete table bridge neutrino\nadd table bridge neutrino\n/);
  const have = new Map(first.tables.map((t) => [`${t.family} ${t.name}`, stateOf(t)]));
  assert.equal(diffRuleset(compileFirewall(state([port(1), port(2)])).tables, have), '');

  const joined = compileFirewall(
    state([port(1), port(2)], { sg_member_ips: { web: { IPv4: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], IPv6: [] } } }),
  );
  assert.equal(diffRuleset(joined.tables, have), 'add element inet neutrino rg-web-4 { 10.0.0.3 }\n');
  const left = compileFirewall(state([port(1), port(2)], { sg_member_ips: { web: { IPv4: ['10.0.0.1'], IPv6: [] } } }));
  assert.equal(diffRuleset(left.tables, have), 'delete element inet neutrino rg-web-4 { 10.0.0.2 }\n');

  const changed = compileFirewall(
    state([port(1), port(2)], { security_groups: { web: { ...WEB, rules: WEB.rules.slice(0, 2) } } }),
    hintsOf(have),
  );
  const script = diffRuleset(changed.tables, have).trim().split('\n');
  const verbs = script.map((l) => l.split(' ').slice(0, 2).join(' '));
  // Per port: the new ingress chain with its rules, its map element swapped, the old chain gone;
  // the remote set no rule names any more goes too.
  assert.deepEqual(
    [...new Set(verbs)],
    ['add chain', 'add rule', 'delete element', 'add element', 'flush chain', 'delete chain', 'delete set'],
  );
  assert.ok(
    script.every((l) => !l.includes(' bridge ')),
    'the bridge table is untouched',
  );
  assert.ok(script.includes('delete set inet neutrino rg-web-4'));

  // A table of another schema, or missing, is replaced whole; tables no longer wanted are deleted.
  const old = new Map(have);
  old.set('bridge neutrino', { ...(old.get('bridge neutrino') as NftTableState), schema: 1 });
  assert.match(diffRuleset(first.tables, old), /^add table bridge neutrino\ndelete table bridge neutrino\n/);
  assert.equal(
    diffRuleset([], have, [
      ['bridge', 'neutrino'],
      ['inet', 'neutrino'],
    ]),
    'delete table bridge neutrino\ndelete table inet neutrino\n',
  );
});

test('parseListings: nft -j output of tables, chains, sets and maps as table states', () => {
  const tables = JSON.stringify({ nftables: [{ metainfo: {} }, { table: { family: 'inet', name: 'neutrino', handle: 3 } }] });
  const chainsJson = JSON.stringify({
    nftables: [
      { chain: { family: 'inet', table: 'neutrino', name: 'raw', hook: 'prerouting' } },
      { chain: { family: 'inet', table: 'other', name: 'x' } },
    ],
  });
  const sets = JSON.stringify({
    nftables: [
      { set: { family: 'inet', table: 'neutrino', name: 'schema', elem: [1] } },
      {
        set: {
          family: 'inet',
          table: 'neutrino',
          name: 'rg-a-4',
          elem: ['10.0.0.1', { prefix: { addr: '10.1.0.0', len: 16 } }, { range: ['10.2.0.1', '10.2.0.5'] }],
        },
      },
      { map: { family: 'inet', table: 'neutrino', name: 'egress', elem: [[5, { jump: { target: 'eg-tapx-01234567' } }]] } },
      { map: { family: 'inet', table: 'neutrino', name: 'zones', elem: [['brqx', 3]] } },
    ],
  });
  const t = parseListings([tables, chainsJson, sets], ['inet neutrino']).get('inet neutrino') as NftTableState;
  assert.equal(t.schema, 1);
  assert.deepEqual([...t.chains], ['raw']);
  assert.deepEqual([...(t.sets.get('rg-a-4') ?? [])], ['10.0.0.1', '10.1.0.0/16', '10.2.0.1-10.2.0.5']);
  assert.deepEqual([...(t.sets.get('egress') ?? [])], ['5 : jump eg-tapx-01234567']);
  assert.deepEqual([...(t.sets.get('zones') ?? [])], ['brqx : 3']);
});

test('firewall_driver: Neutron’s names mapped deliberately, the Open vSwitch agent’s refused by name', () => {
  assert.equal(firewallKind('nftables'), 'nftables');
  assert.equal(firewallKind('iptables'), 'nftables');
  assert.equal(firewallKind('neutron.agent.linux.iptables_firewall.IptablesFirewallDriver'), 'nftables');
  assert.equal(firewallKind('noop'), 'noop');
  assert.equal(firewallKind('nftables', false), 'noop', 'enable_security_group = false');
  assert.throws(() => firewallKind('openvswitch'), /firewall driver of the Open vSwitch agent/);
  assert.throws(() => firewallKind('iptables_hybrid'), /Open vSwitch agent/);
  assert.throws(() => firewallKind('ebtables'), /unknown firewall driver 'ebtables': expected one of nftables, iptables/);
});
