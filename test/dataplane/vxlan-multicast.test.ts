// VXLAN without l2population, Neutron's default: each host's VXLAN device joins the [vxlan]
// vxlan_group multicast group on its VTEP interface and learns remote MACs from traffic. Two
// simulated hosts (src/lab topology) and a backend each, no server: VMs on them ping each other.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LinuxBridgeBackend } from '../../src/agents/linuxbridge/backend.js';
import { tapName, vxlanName } from '../../src/agents/linuxbridge/names.js';
import { LabTopology } from '../../src/lab/topology.js';
import type { HostPort, HostState } from '../../src/rpc/contract.js';
import { addAddress, addNetns, addVeth, execRunner, Ip, linkSet } from '../../src/system/index.js';
import { OPEN_GROUP } from './firewall.case.js';
import { notRoot, runTag, until } from './root.js';

const NET = '0d0d0d0d-1111-4222-8333-444444444444';
const VNI = 4242;

describe('VXLAN over a multicast group, without l2population', { skip: notRoot }, () => {
  const topology = new LabTopology(`nt-${runTag()}`);
  const ports: HostPort[] = [1, 2].map((i) => ({
    id: `0${i}0${i}0${i}0${i}-aaaa-4bbb-8ccc-dddddddddddd`,
    network_id: NET,
    mac_address: `fa:16:3e:00:01:0${i}`,
    fixed_ips: [{ subnet_id: 's', ip_address: `10.60.0.${i}` }],
    admin_state_up: true,
    status: 'DOWN',
    device_owner: 'compute:nova',
    device_id: `vm${i}`,
    network_type: 'vxlan',
    physical_network: null,
    segmentation_id: VNI,
    mtu: 1450,
    port_security_enabled: true,
    allowed_address_pairs: [],
    security_groups: [OPEN_GROUP.id],
    revision_number: 1,
  }));
  const state = (p: HostPort): HostState => ({
    host: 'h',
    ports: [p],
    networks: [{ id: NET, admin_state_up: true, mtu: 1450, segments: [], revision_number: 1 }],
    security_groups: { [OPEN_GROUP.id]: OPEN_GROUP },
    sg_member_ips: {},
    fdb: {},
  });
  const backends: LinuxBridgeBackend[] = [];

  before(async () => {
    await topology.createUnderlay();
    for (const [i, p] of ports.entries()) {
      const h = await topology.addHost(i + 1);
      const vm = topology.vmNetns(`v${i + 1}`);
      await addNetns(vm);
      await new Ip({ netns: h.netns }).batch([addVeth(tapName(p.id), 'eth0', { peerNetns: vm, mtu: 1450 })]);
      await new Ip({ netns: vm }).batch([
        linkSet('eth0', { address: p.mac_address, up: true }),
        addAddress(`10.60.0.${i + 1}/24`, 'eth0'),
      ]);
      backends.push(
        new LinuxBridgeBackend({
          namespace: h.netns,
          localIp: h.localIp,
          enableVxlan: true,
          l2Population: false,
          vxlanGroup: '224.0.0.1',
          interfaceMappings: {},
          bridgeMappings: {},
          enableSecurityGroup: true,
          configurations: {},
        }),
      );
    }
  });
  after(async () => {
    await topology.destroy();
  });

  it('the VXLAN devices join the group on the VTEP interface, and VMs on two hosts ping each other', async () => {
    for (const [i, b] of backends.entries()) assert.deepEqual([...(await b.apply(state(ports[i])))], [ports[i].id]);
    const vx = await new Ip({ netns: topology.hosts[0].netns }).link(vxlanName(VNI));
    assert.equal(vx?.linkinfo?.info_data?.group, '224.0.0.1');
    assert.equal(vx?.linkinfo?.info_data?.link, topology.hosts[0].uplink);
    const ping = async () =>
      (await execRunner('ip', ['netns', 'exec', topology.vmNetns('v1'), 'ping', '-c1', '-W1', '-q', '10.60.0.2'])).code === 0;
    assert.ok(await until('v1 → v2', ping, 10_000));
    for (const [i, b] of backends.entries()) {
      await b.apply(state(ports[i]));
      assert.equal(b.last.ipCommands, 0, 'a converged host is left alone');
    }
  });
});
