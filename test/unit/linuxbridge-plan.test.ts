// The Linux bridge agent's diff (src/agents/linuxbridge/plan.ts) on kernel JSON fixtures: what is
// missing is added, what is right is left alone, what is stale and ours is removed, nothing else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FirewallDriver, FirewallState } from '../../src/agents/firewall/index.js';
import { LinuxBridgeBackend } from '../../src/agents/linuxbridge/backend.js';
import { bridgeName, tapName } from '../../src/agents/linuxbridge/names.js';
import { type LinuxBridgeOptions, plan, wiredPorts } from '../../src/agents/linuxbridge/plan.js';
import type { HostPort, HostState } from '../../src/rpc/contract.js';
import type { FdbRow, Link, Runner } from '../../src/system/index.js';

const NET = '11111111-2222-4333-8444-555555555555';
const NET2 = '99999999-2222-4333-8444-555555555555';
const PORT = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const O: LinuxBridgeOptions = {
  localIp: '192.0.2.1',
  enableVxlan: true,
  l2Population: true,
  interfaceMappings: { physnet1: 'eth1' },
  bridgeMappings: {},
};

const port = (extra: Partial<HostPort> = {}): HostPort => ({
  id: PORT,
  network_id: NET,
  mac_address: 'fa:16:3e:00:00:01',
  fixed_ips: [{ subnet_id: 's', ip_address: '10.0.0.5' }],
  admin_state_up: true,
  status: 'DOWN',
  device_owner: 'compute:nova',
  device_id: 'vm',
  network_type: 'vxlan',
  physical_network: null,
  segmentation_id: 42,
  mtu: 1450,
  port_security_enabled: true,
  allowed_address_pairs: [],
  security_groups: [],
  revision_number: 1,
  ...extra,
});

const state = (ports: HostPort[], fdb: HostState['fdb'] = {}): HostState => ({
  host: 'h1',
  ports,
  networks: [...new Set(ports.map((p) => p.network_id))].map((id) => ({
    id,
    admin_state_up: true,
    mtu: 1450,
    segments: [],
    revision_number: 1,
  })),
  security_groups: {},
  sg_member_ips: {},
  fdb,
});

const link = (ifname: string, extra: Partial<Link> = {}): Link => ({ ifindex: 1, ifname, flags: ['UP'], mtu: 1450, ...extra });
const lines = (cmds: readonly (readonly string[])[]) => cmds.map((c) => c.join(' '));

const FDB: HostState['fdb'] = {
  [NET]: {
    segment_id: 42,
    network_type: 'vxlan',
    ports: {
      '192.0.2.2': [
        ['00:00:00:00:00:00', '0.0.0.0'],
        ['fa:16:3e:00:00:02', '10.0.0.6'],
      ],
      '192.0.2.1': [['00:00:00:00:00:00', '0.0.0.0']],
    },
  },
};

test('an empty host gets the bridge, the VXLAN device and the tap wiring, and the fdb entries', () => {
  const p = plan(state([port()], FDB), O, [link(tapName(PORT), { flags: [], mtu: 1500 })], []);
  const br = bridgeName(NET);
  assert.deepEqual(lines(p.ip), [
    `link add name ${br} type bridge stp_state 0 forward_delay 0`,
    `link set dev ${br} alias neutrino:network:${NET} addrgenmode none up`,
    'link add name vxlan-42 mtu 1450 type vxlan id 42 local 192.0.2.1 dstport 4789 nolearning',
    `link set dev vxlan-42 master ${br} addrgenmode none up`,
    `link set dev ${tapName(PORT)} master ${br} mtu 1450 up`,
  ]);
  assert.deepEqual(lines(p.fdb), [
    'fdb append 00:00:00:00:00:00 dev vxlan-42 dst 192.0.2.2',
    'fdb append fa:16:3e:00:00:02 dev vxlan-42 dst 192.0.2.2',
  ]);
});

test('a converged host yields no command; a moved MAC is replaced in place, stale entries removed', () => {
  const br = bridgeName(NET);
  const links = [
    link(br, { linkinfo: { info_kind: 'bridge' }, ifalias: `neutrino:network:${NET}` }),
    link('vxlan-42', {
      master: br,
      linkinfo: { info_kind: 'vxlan', info_data: { id: 42, local: '192.0.2.1', port: 4789, learning: false } },
    }),
    link(tapName(PORT), { master: br }),
  ];
  const fdb: FdbRow[] = [
    { mac: '00:00:00:00:00:00', ifname: 'vxlan-42', dst: '192.0.2.2', flags: ['self'] },
    { mac: 'fa:16:3e:00:00:02', ifname: 'vxlan-42', dst: '192.0.2.2', flags: ['self'] },
    { mac: 'aa:bb:cc:dd:ee:ff', ifname: 'vxlan-42', master: br, flags: [] },
  ];
  const p = plan(state([port()], FDB), O, links, fdb);
  assert.deepEqual([p.ip, p.fdb], [[], []]);
  assert.deepEqual([...wiredPorts(p.networks, links)], [PORT]);

  const moved = structuredClone(FDB);
  moved[NET].ports = {
    '192.0.2.3': [
      ['00:00:00:00:00:00', '0.0.0.0'],
      ['fa:16:3e:00:00:02', '10.0.0.6'],
    ],
  };
  assert.deepEqual(lines(plan(state([port()], moved), O, links, fdb).fdb), [
    'fdb append 00:00:00:00:00:00 dev vxlan-42 dst 192.0.2.3',
    'fdb del 00:00:00:00:00:00 dev vxlan-42 dst 192.0.2.2',
    'fdb replace fa:16:3e:00:00:02 dev vxlan-42 dst 192.0.2.3',
  ]);
});

test('without l2population the VXLAN device joins the multicast group on the VTEP interface and gets no fdb entries', () => {
  const o = { ...O, l2Population: false, vxlanGroup: '224.0.0.1', vtepDevice: 'eth0' };
  const p = plan(state([port()], FDB), o, [], []);
  assert.ok(
    lines(p.ip).includes(
      'link add name vxlan-42 mtu 1450 type vxlan id 42 local 192.0.2.1 dstport 4789 group 224.0.0.1 dev eth0',
    ),
  );
  assert.deepEqual(p.fdb, []);
  // A device made for the other mode is replaced.
  const l2popDevice = link('vxlan-42', {
    linkinfo: { info_kind: 'vxlan', info_data: { id: 42, local: '192.0.2.1', learning: false } },
  });
  assert.equal(lines(plan(state([port()]), o, [l2popDevice], []).ip).filter((l) => l === 'link del dev vxlan-42').length, 1);
  assert.match(
    plan(state([port()]), { ...o, vtepDevice: undefined }, [], []).problems.get(NET) ?? '',
    /no interface holds local_ip/,
  );
});

test('a port with admin_state_up false keeps its tap on the bridge but down, and counts as wired (to be reported down)', () => {
  const br = bridgeName(NET);
  const links = [
    link(br, { linkinfo: { info_kind: 'bridge' }, ifalias: `neutrino:network:${NET}` }),
    link('vxlan-42', {
      master: br,
      linkinfo: { info_kind: 'vxlan', info_data: { id: 42, local: '192.0.2.1', port: 4789, learning: false } },
    }),
    link(tapName(PORT), { master: br }),
  ];
  const p = plan(state([port({ admin_state_up: false })]), O, links, []);
  assert.deepEqual(lines(p.ip), [`link set dev ${tapName(PORT)} down`]);
  assert.deepEqual([...wiredPorts(p.networks, links, true)], [PORT]);
});

test('stale: only our bridges and vxlan-* go; taps of gone ports are cut off; foreign devices stay', () => {
  const ours = bridgeName(NET2);
  const links = [
    link(ours, { linkinfo: { info_kind: 'bridge' }, ifalias: `neutrino:network:${NET2}` }),
    link('brqforeign', { linkinfo: { info_kind: 'bridge' } }),
    link('vxlan-7', { master: ours, linkinfo: { info_kind: 'vxlan', info_data: { id: 7 } } }),
    link('tap12345678-90', { master: ours }),
    link('tap00000000-00', { master: 'brqforeign' }),
    link('eth1'),
  ];
  assert.deepEqual(lines(plan(state([]), O, links, []).ip), [
    `link del dev ${ours}`,
    'link del dev vxlan-7',
    'link set dev tap12345678-90 nomaster down',
  ]);
});

test('flat and vlan networks use the mapped interface; unmapped or unsupported ones are problems', () => {
  const flat = port({ network_type: 'flat', physical_network: 'physnet1', segmentation_id: null });
  const p = plan(state([flat]), O, [link('eth1')], []);
  assert.ok(lines(p.ip).includes(`link set dev eth1 master ${bridgeName(NET)}`));
  const vlan = port({ network_type: 'vlan', physical_network: 'physnet1', segmentation_id: 100 });
  assert.ok(lines(plan(state([vlan]), O, [link('eth1')], []).ip).includes('link add link eth1 name eth1.100 type vlan id 100'));
  const bad = plan(
    state([
      port({ network_type: 'flat', physical_network: 'physnet9' }),
      port({ id: `b${PORT.slice(1)}`, network_id: NET2, network_type: 'gre' }),
    ]),
    O,
    [],
    [],
  );
  assert.match(bad.problems.get(NET) ?? '', /physnet9.*not in this agent's mappings/);
  assert.match(bad.problems.get(NET2) ?? '', /does not support network type gre/);
  assert.equal(bad.networks.size, 0);
  assert.match(plan(state([port()]), { ...O, localIp: null }, [], []).problems.get(NET) ?? '', /VXLAN is not enabled/);
});

test('the firewall filters VM ports, never network-owned ones (DHCP, router interfaces), as Neutron trusts them', async () => {
  const given: FirewallState[] = [];
  const firewall: FirewallDriver = {
    name: 'recording',
    enforces: true,
    async apply(s) {
      given.push(s);
      return { changed: false, conntrackDeleted: 0 };
    },
  };
  // No kernel: every read is empty, every write succeeds.
  const run: Runner = async () => ({ code: 0, stdout: '[]', stderr: '' });
  const backend = new LinuxBridgeBackend({ ...O, enableSecurityGroup: true, firewall, configurations: {}, run });
  const P2 = 'bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee';
  const P3 = 'cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee';
  await backend.apply(
    state([
      port(),
      port({ id: P2, device_owner: 'network:dhcp', mac_address: 'fa:16:3e:00:00:02' }),
      port({ id: P3, device_owner: 'network:router_interface', mac_address: 'fa:16:3e:00:00:03' }),
    ]),
  );
  const secured = Object.fromEntries(given[0].ports.map((p) => [p.id, p.port_security_enabled]));
  assert.deepEqual(secured, { [PORT]: true, [P2]: false, [P3]: false });
});
