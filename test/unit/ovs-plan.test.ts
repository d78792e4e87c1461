// The Open vSwitch agent's pure plan (OVSDB changes, LVIDs) and flows, from desired states and
// hand-made switch snapshots: what a fresh switch gets, what a converged one gets (nothing), tags and
// other_config of VM ports, LVIDs restored from other_config, l2population tunnels and their
// removal, flooding/unicast/ARP responder flows, physical networks, anti-spoofing, and why a
// network can't be wired.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFlows } from '../../src/agents/openvswitch/flows.js';
import { interfaceName, tunnelPortName } from '../../src/agents/openvswitch/names.js';
import { type OvsAgentOptions, planConnect, planSwitch } from '../../src/agents/openvswitch/plan.js';
import type { HostPort, HostState } from '../../src/rpc/contract.js';
import { flowLine, type OvsInterface, type OvsSnapshot } from '../../src/system/index.js';

const NET = 'aaaaaaaa-1111-4222-8333-444444444444';
const NET2 = 'bbbbbbbb-1111-4222-8333-444444444444';
const COOKIE = '0x1234';

const o = (over: Partial<OvsAgentOptions> = {}): OvsAgentOptions => ({
  integrationBridge: 'br-int',
  tunnelBridge: 'br-tun',
  intPeerPatchPort: 'patch-tun',
  tunPeerPatchPort: 'patch-int',
  bridgeMappings: { physnet1: 'br-eth1' },
  localIp: '192.0.2.11',
  tunnelTypes: ['vxlan'],
  vxlanUdpPort: 4789,
  l2Population: true,
  arpResponder: true,
  datapathType: 'netdev',
  dontFragment: true,
  portSecurity: true,
  ...over,
});

const port = (i: number, over: Partial<HostPort> = {}): HostPort => ({
  id: `0000000${i}-aaaa-4bbb-8ccc-dddddddddddd`,
  network_id: NET,
  mac_address: `fa:16:3e:00:00:0${i}`,
  fixed_ips: [{ subnet_id: 's', ip_address: `10.0.0.${i}` }],
  admin_state_up: true,
  status: 'DOWN',
  device_owner: 'compute:nova',
  device_id: `vm${i}`,
  network_type: 'vxlan',
  physical_network: null,
  segmentation_id: 1001,
  mtu: 1450,
  port_security_enabled: true,
  allowed_address_pairs: [],
  security_groups: [],
  revision_number: 1,
  ...over,
});

const state = (ports: HostPort[], fdb: HostState['fdb'] = {}): HostState => ({
  host: 'h1',
  ports,
  networks: [],
  security_groups: {},
  sg_member_ips: {},
  fdb,
});

/** A switch: bridges with their ports; each port one interface of the same name. */
interface SwPort extends Partial<OvsInterface> {
  name: string;
  tag?: number | null;
  other_config?: Record<string, string>;
}
function snap(
  bridges: Record<string, SwPort[]>,
  extra: Partial<Record<string, { fail_mode?: string | null }>> = {},
): OvsSnapshot {
  const s: OvsSnapshot = {
    bridges: new Map(),
    ports: new Map(),
    interfaces: new Map(),
    portBridge: new Map(),
    curCfg: 1,
    nextCfg: 1,
  };
  let n = 0;
  for (const [br, ports] of Object.entries(bridges)) {
    const all = [{ name: br, type: 'internal', ofport: 65534 }, ...ports];
    s.bridges.set(br, {
      uuid: `b-${br}`,
      name: br,
      ports: all.map((p) => `p-${p.name}`),
      datapath_type: 'netdev',
      fail_mode: extra[br]?.fail_mode === undefined ? 'secure' : (extra[br]?.fail_mode ?? null),
      protocols: ['OpenFlow10', 'OpenFlow13', 'OpenFlow14'],
      other_config: {},
      sflow: null,
      netflow: null,
    });
    for (const p of all) {
      const sp = p as SwPort;
      s.ports.set(p.name, {
        uuid: `p-${p.name}`,
        name: p.name,
        interfaces: [`i-${p.name}`],
        tag: sp.tag ?? null,
        other_config: sp.other_config ?? {},
        external_ids: {},
      });
      s.interfaces.set(p.name, {
        uuid: `i-${p.name}`,
        name: p.name,
        type: sp.type ?? '',
        ofport: sp.ofport === undefined ? ++n : sp.ofport,
        options: sp.options ?? {},
        external_ids: sp.external_ids ?? {},
        error: null,
      });
      s.portBridge.set(p.name, br);
    }
  }
  return s;
}

const vif = (i: number, over: Partial<SwPort> = {}): SwPort => ({
  name: `tap${i}`,
  external_ids: { 'iface-id': port(i).id },
  ofport: 10 + i,
  tag: 4095,
  ...over,
});

/** A converged switch for `ports` on NET (LVID 1), tunnelling to 192.0.2.12. */
const converged = (vifs: SwPort[]) =>
  snap({
    'br-int': [
      { name: 'patch-tun', type: 'patch', options: { peer: 'patch-int' }, ofport: 1 },
      { name: 'int-br-eth1', type: 'patch', options: { peer: 'phy-br-eth1' }, ofport: 2 },
      ...vifs,
    ],
    'br-tun': [
      { name: 'patch-int', type: 'patch', options: { peer: 'patch-tun' }, ofport: 1 },
      {
        name: 'vxlan-c000020c',
        type: 'vxlan',
        ofport: 2,
        options: {
          df_default: 'true',
          egress_pkt_mark: '0',
          in_key: 'flow',
          local_ip: '192.0.2.11',
          out_key: 'flow',
          remote_ip: '192.0.2.12',
        },
      },
    ],
    'br-eth1': [
      { name: 'eth1', ofport: 1 },
      { name: 'phy-br-eth1', type: 'patch', options: { peer: 'int-br-eth1' }, ofport: 2 },
    ],
  });

const FDB: HostState['fdb'] = {
  [NET]: {
    segment_id: 1001,
    network_type: 'vxlan',
    ports: {
      '192.0.2.12': [
        ['00:00:00:00:00:00', '0.0.0.0'],
        ['fa:16:3e:00:00:09', '10.0.0.9'],
      ],
    },
  },
};
const lvidOf = (netId: string) => ({
  net_uuid: netId,
  network_type: 'vxlan',
  physical_network: 'null',
  segmentation_id: '1001',
  tag: '1',
});

describe('Open vSwitch agent: names', () => {
  it('names tunnel and patch ports as Neutron does', () => {
    assert.equal(tunnelPortName('vxlan', '192.0.2.12'), 'vxlan-c000020c');
    assert.equal(tunnelPortName('gre', '10.0.0.1'), 'gre-0a000001');
    assert.ok(tunnelPortName('geneve', '2001:db8::1').length <= 15);
    assert.equal(interfaceName('br-eth1', 'int-'), 'int-br-eth1');
    // Longer than 15: cut, and 6 hex digits of the SHA-1 of the bridge name.
    assert.equal(interfaceName('br-provider-long', 'phy-'), 'phy-br-pr8034db');
  });
});

describe('Open vSwitch agent: plan', () => {
  it('a fresh switch gets br-int and br-tun (secure, OpenFlow 1.0/1.3/1.4, netdev) joined by patch ports', () => {
    const p = planSwitch({
      state: state([]),
      snap: snap({ 'br-eth1': [{ name: 'eth1' }] }, { 'br-eth1': { fail_mode: null } }),
      o: o(),
      lvids: new Map(),
    });
    const summary = p.ops.map((x) => `${x.op}:${'name' in x ? x.name : ''}${'bridge' in x ? `@${x.bridge}` : ''}`);
    assert.deepEqual(summary, [
      'addBridge:br-int',
      'addBridge:br-tun',
      'addPort:patch-tun@br-int',
      'addPort:patch-int@br-tun',
      'setBridge:br-eth1',
      'addPort:int-br-eth1@br-int',
      'addPort:phy-br-eth1@br-eth1',
    ]);
    assert.deepEqual(p.ops[0], {
      op: 'addBridge',
      name: 'br-int',
      datapathType: 'netdev',
      failMode: 'secure',
      protocols: ['OpenFlow10', 'OpenFlow13', 'OpenFlow14'],
    });
    // The physical bridge's patch waits for its drop flows with a peer that does not exist.
    assert.deepEqual(p.ops[5], {
      op: 'addPort',
      bridge: 'br-int',
      name: 'int-br-eth1',
      type: 'patch',
      options: { peer: 'nonexistent-peer' },
    });
  });

  it('a converged switch gets nothing, and the agent keeps the LVIDs recorded in other_config', () => {
    const s = converged([vif(1, { tag: 1, other_config: lvidOf(NET) })]);
    const p = planSwitch({ state: state([port(1)], FDB), snap: s, o: o(), lvids: new Map() });
    assert.deepEqual(p.ops, []);
    assert.deepEqual(p.portOps, []);
    assert.deepEqual([...p.lvids], [[NET, 1]]);
    assert.deepEqual(planConnect(s, o()), []);
  });

  it('a new VM port is tagged with its network’s LVID and Neutron’s other_config, after its flows', () => {
    const s = converged([
      vif(1, { tag: 1, other_config: lvidOf(NET) }),
      vif(2),
      vif(3, { external_ids: { 'iface-id': 'not-bound-here' } }),
    ]);
    const p = planSwitch({
      state: state([port(1), port(2), port(4, { network_id: NET2, segmentation_id: 1002 })], FDB),
      snap: s,
      o: o(),
      lvids: new Map(),
    });
    assert.deepEqual(p.ops, []);
    assert.deepEqual(p.portOps, [{ op: 'setPort', name: 'tap2', tag: 1, otherConfig: lvidOf(NET) }]);
    assert.deepEqual([...p.live].sort(), ['tap1', 'tap2']);
    // tap3 (not bound here) stays on the dead VLAN; port 4 (not plugged) gets no LVID.
    assert.deepEqual([...p.lvids.keys()], [NET]);
  });

  it('a port disabled, or whose network can’t be wired here, goes to the dead VLAN with the reason logged', () => {
    const s = converged([vif(1, { tag: 1, other_config: lvidOf(NET) }), vif(2, { tag: 2 })]);
    const p = planSwitch({
      state: state([
        port(1, { admin_state_up: false }),
        port(2, { network_id: NET2, network_type: 'vlan', physical_network: 'physnet9', segmentation_id: 7 }),
      ]),
      snap: s,
      o: o(),
      lvids: new Map(),
    });
    assert.deepEqual(p.portOps, [
      { op: 'setPort', name: 'tap1', tag: 4095 },
      { op: 'setPort', name: 'tap2', tag: 4095 },
    ]);
    assert.match(p.problems.join('\n'), /physical network 'physnet9' is not in this agent's bridge_mappings/);
    const noTunnels = planSwitch({ state: state([port(1)]), snap: s, o: o({ tunnelTypes: [] }), lvids: new Map() });
    assert.match(noTunnels.problems.join('\n'), /tunnelling of type vxlan is not enabled/);
  });

  it('l2population: a tunnel port per remote VTEP of a wired network; one no longer needed is deleted', () => {
    const s = converged([vif(1, { tag: 1, other_config: lvidOf(NET) })]);
    const fdb: HostState['fdb'] = {
      [NET]: { segment_id: 1001, network_type: 'vxlan', ports: { '192.0.2.13': [['00:00:00:00:00:00', '0.0.0.0']] } },
    };
    const p = planSwitch({ state: state([port(1)], fdb), snap: s, o: o(), lvids: new Map() });
    assert.deepEqual(
      p.ops.map((x) => `${x.op}:${'name' in x ? x.name : ''}`),
      ['delPort:vxlan-c000020c', 'addPort:vxlan-c000020d'],
    );
    // Without l2population: every endpoint tunnel_sync named.
    const mesh = planSwitch({
      state: state([port(1)]),
      snap: s,
      o: o({ l2Population: false }),
      lvids: new Map(),
      endpoints: { vxlan: ['192.0.2.11', '192.0.2.12', '192.0.2.14'] },
    });
    assert.deepEqual([...mesh.tunnels.keys()].sort(), ['vxlan-c000020c', 'vxlan-c000020e']);
  });

  it('sFlow and NetFlow on br-int follow the options', () => {
    const s = converged([]);
    const p = planSwitch({
      state: state([]),
      snap: s,
      o: o({
        sflow: { targets: ['127.0.0.1:6343'], sampling: 1, polling: 1 },
        netflow: { targets: ['127.0.0.1:2055'], activeTimeout: 5 },
      }),
      lvids: new Map(),
    });
    // (The tunnel to 192.0.2.12 goes first: no network here needs it.)
    assert.deepEqual(p.ops.slice(1), [
      {
        op: 'setSflow',
        bridge: 'br-int',
        sflow: { targets: ['127.0.0.1:6343'], sampling: 1, polling: 1, header: null, agent: null },
      },
      { op: 'setNetflow', bridge: 'br-int', netflow: { targets: ['127.0.0.1:2055'], active_timeout: 5 } },
    ]);
  });
});

describe('Open vSwitch agent: flows', () => {
  const build = (ports: HostPort[], fdb: HostState['fdb'], vifs: SwPort[], opts = o()) => {
    const s = converged(vifs);
    const plan = planSwitch({ state: state(ports, fdb), snap: s, o: opts, lvids: new Map() });
    return buildFlows({ state: state(ports, fdb), plan, snap: s, o: opts, cookie: COOKIE });
  };

  it('br-tun: tunnel id ↔ LVID, flooding and unicast to the remote VTEP, ARP answered locally, learning', () => {
    const f = build([port(1)], FDB, [vif(1, { tag: 1, other_config: lvidOf(NET) })]);
    const tun = f.bridges.get('br-tun')!;
    const has = (line: string) => assert.ok(tun.includes(line), `missing ${line}\n${tun.join('\n')}`);
    has(`cookie=${COOKIE},table=0,priority=1,in_port=1,actions=goto_table:2`);
    has(`cookie=${COOKIE},table=0,priority=1,in_port=2,actions=goto_table:4`);
    has(`cookie=${COOKIE},table=4,priority=1,tun_id=0x3e9,actions=mod_vlan_vid:1,goto_table:10`);
    has(`cookie=${COOKIE},table=22,priority=1,dl_vlan=1,actions=pop_vlan,set_field:1001->tun_id,output:2`);
    has(
      `cookie=${COOKIE},table=20,priority=2,dl_vlan=1,dl_dst=fa:16:3e:00:00:09,actions=pop_vlan,set_field:1001->tun_id,output:2`,
    );
    has(`cookie=${COOKIE},table=2,priority=1,arp,dl_dst=ff:ff:ff:ff:ff:ff,actions=goto_table:21`);
    assert.ok(
      tun.some(
        (l) =>
          l.startsWith(`cookie=${COOKIE},table=21,priority=1,arp,dl_vlan=1,arp_tpa=10.0.0.9,`) &&
          l.includes('load:0x0a000009->NXM_OF_ARP_SPA[]'),
      ),
    );
    assert.ok(tun.some((l) => l.includes('table=10,') && l.includes('learn(table=20') && l.endsWith('output:1')));
    // Every flow is valid text for ovs-ofctl and carries the cookie.
    for (const lines of f.bridges.values()) for (const l of lines) assert.ok(flowLine(l).startsWith(`cookie=${COOKIE},`));
    assert.deepEqual([...f.wired], [port(1).id]);
    assert.deepEqual(f.portBridges.get(port(1).id), ['br-int', 'br-tun']);
    // No ARP responder when it is off.
    const off = build([port(1)], FDB, [vif(1, { tag: 1, other_config: lvidOf(NET) })], o({ arpResponder: false }));
    assert.ok(!off.bridges.get('br-tun')!.some((l) => l.includes('table=21')));
  });

  it('physical networks: provider VLAN ↔ LVID on br-int and the physical bridge, untagged for flat', () => {
    const vlanPort = port(1, { network_type: 'vlan', physical_network: 'physnet1', segmentation_id: 150 });
    const flatPort = port(2, { network_id: NET2, network_type: 'flat', physical_network: 'physnet1', segmentation_id: null });
    const f = build([vlanPort, flatPort], {}, [
      vif(1, { tag: 1, other_config: { net_uuid: NET, tag: '1' } }),
      vif(2, { tag: 2, other_config: { net_uuid: NET2, tag: '2' } }),
    ]);
    const int = f.bridges.get('br-int')!;
    const phys = f.bridges.get('br-eth1')!;
    assert.ok(int.includes(`cookie=${COOKIE},table=0,priority=3,in_port=2,dl_vlan=150,actions=mod_vlan_vid:1,goto_table:58`));
    assert.ok(
      int.includes(`cookie=${COOKIE},table=0,priority=3,in_port=2,vlan_tci=0x0000/0x1fff,actions=mod_vlan_vid:2,goto_table:58`),
    );
    assert.ok(int.includes(`cookie=${COOKIE},table=0,priority=2,in_port=2,actions=drop`));
    assert.ok(phys.includes(`cookie=${COOKIE},table=0,priority=4,in_port=2,dl_vlan=1,actions=mod_vlan_vid:150,NORMAL`));
    assert.ok(phys.includes(`cookie=${COOKIE},table=0,priority=4,in_port=2,dl_vlan=2,actions=strip_vlan,NORMAL`));
    assert.ok(phys.includes(`cookie=${COOKIE},table=0,priority=2,in_port=2,actions=drop`));
    assert.deepEqual(f.portBridges.get(vlanPort.id), ['br-int', 'br-eth1']);
  });

  it('anti-spoofing for secured ports only (not without port security, not for network-owned ports); a drop for dead VIFs', () => {
    const pair = port(1, { allowed_address_pairs: [{ ip_address: '10.0.0.100', mac_address: 'fa:16:3e:00:00:aa' }] });
    const open = port(2, { port_security_enabled: false });
    const dhcp = port(3, { device_owner: 'network:dhcp' });
    const f = build([pair, open, dhcp], {}, [
      vif(1, { tag: 1, other_config: lvidOf(NET) }),
      vif(2, { tag: 1, other_config: lvidOf(NET) }),
      vif(3, { tag: 1, other_config: lvidOf(NET) }),
      vif(4, { external_ids: { 'iface-id': 'elsewhere' } }),
    ]);
    const int = f.bridges.get('br-int')!;
    const inPort = (n: number) => int.filter((l) => l.includes(`in_port=${n},`) || l.includes(`in_port=${n}`));
    assert.ok(
      int.includes(
        `cookie=${COOKIE},table=24,priority=2,in_port=11,arp,arp_sha=fa:16:3e:00:00:01,arp_spa=10.0.0.1,actions=goto_table:25`,
      ),
    );
    assert.ok(
      int.includes(
        `cookie=${COOKIE},table=24,priority=2,in_port=11,arp,arp_sha=fa:16:3e:00:00:aa,arp_spa=10.0.0.100,actions=goto_table:25`,
      ),
    );
    assert.ok(
      int.includes(
        `cookie=${COOKIE},table=25,priority=3,in_port=11,dl_src=fa:16:3e:00:00:aa,ip,nw_src=10.0.0.100,actions=goto_table:30`,
      ),
    );
    assert.ok(int.includes(`cookie=${COOKIE},table=25,priority=2,in_port=11,dl_src=fa:16:3e:00:00:01,ip,actions=drop`));
    assert.deepEqual(inPort(12), []);
    assert.deepEqual(inPort(13), []);
    assert.deepEqual(inPort(14), [`cookie=${COOKIE},table=0,priority=2,in_port=14,actions=drop`]);
    // The table-wide defaults: dead VLAN, canary, NORMAL in the transient table.
    assert.ok(int.includes(`cookie=${COOKIE},table=0,priority=65535,dl_vlan=4095,actions=drop`));
    assert.ok(int.includes(`cookie=${COOKIE},table=23,priority=0,actions=drop`));
    assert.ok(int.includes(`cookie=${COOKIE},table=60,priority=1,actions=NORMAL`));
  });
});
