// The Linux bridge backend on the real kernel, without a server: a namespace stands in for a host
// and two more for VMs; apply() wires them (with the nftables firewall: a group admitting
// everything), a second apply changes nothing, packets flow, a spoofed source MAC or address is dropped, a VLAN network where the kernel lacks 8021q gets a clear reason, and
// a network that leaves the desired state is removed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LinuxBridgeBackend } from '../../src/agents/linuxbridge/backend.js';
import { bridgeName, tapName } from '../../src/agents/linuxbridge/names.js';
import type { HostPort, HostState } from '../../src/rpc/contract.js';
import { addAddress, addNetns, addVeth, delNetns, execRunner, Ip, linkSet, Nft } from '../../src/system/index.js';
import { OPEN_GROUP } from './firewall.case.js';
import { notRoot, runTag } from './root.js';

const NET = '0b0b0b0b-1111-4222-8333-444444444444';
const VLAN_NET = '0c0c0c0c-1111-4222-8333-444444444444';

describe('Linux bridge backend in namespaces', { skip: notRoot }, () => {
  const tag = runTag();
  const host = `nt-lbb-${tag}`;
  const vms = [`nt-lbb-${tag}-v1`, `nt-lbb-${tag}-v2`];
  const ports: HostPort[] = [1, 2].map((i) => ({
    id: `${tag}0${i}-aaaa-4bbb-8ccc-dddddddddddd`,
    network_id: NET,
    mac_address: `fa:16:3e:00:00:0${i}`,
    fixed_ips: [{ subnet_id: 's', ip_address: `10.0.0.${i}` }],
    admin_state_up: true,
    status: 'DOWN',
    device_owner: 'compute:nova',
    device_id: `vm${i}`,
    network_type: 'local',
    physical_network: null,
    segmentation_id: null,
    mtu: 1500,
    port_security_enabled: true,
    allowed_address_pairs: [],
    // A group that admits everything: these cases are about wiring and anti-spoofing.
    security_groups: [OPEN_GROUP.id],
    revision_number: 1,
  }));
  const state = (ps: HostPort[]): HostState => ({
    host: 'h',
    ports: ps,
    networks: [...new Set(ps.map((p) => p.network_id))].map((id) => ({
      id,
      admin_state_up: true,
      mtu: 1500,
      segments: [],
      revision_number: 1,
    })),
    security_groups: { [OPEN_GROUP.id]: OPEN_GROUP },
    sg_member_ips: {},
    fdb: {},
  });
  const logs: string[] = [];
  const backend = new LinuxBridgeBackend({
    namespace: host,
    localIp: '192.0.2.1',
    enableVxlan: true,
    l2Population: true,
    interfaceMappings: { physnet1: 'eth-up' },
    bridgeMappings: {},
    enableSecurityGroup: true,
    configurations: {},
    log: (m) => logs.push(m),
  });
  const ip = new Ip({ netns: host });
  const ping = async (vm: string, dst: string, src?: string) =>
    (await execRunner('ip', ['netns', 'exec', vm, 'ping', '-c1', '-W1', ...(src ? ['-I', src] : []), dst])).code === 0;

  before(async () => {
    await addNetns(host);
    for (const [i, vm] of vms.entries()) {
      await addNetns(vm);
      await ip.batch([addVeth(tapName(ports[i].id), 'eth0', { peerNetns: vm })]);
      await new Ip({ netns: vm }).batch([
        linkSet('eth0', { address: ports[i].mac_address, up: true }),
        addAddress(`10.0.0.${i + 1}/24`, 'eth0'),
      ]);
    }
    // An uplink interface for the VLAN case.
    await ip.batch([addVeth('eth-up', 'eth-up-peer')]);
  });
  after(async () => {
    for (const ns of [host, ...vms]) await delNetns(ns);
  });

  it('wires both taps onto the network bridge; a second apply changes nothing', async () => {
    const wired = await backend.apply(state(ports));
    assert.deepEqual([...wired].sort(), ports.map((p) => p.id).sort());
    assert.equal((await ip.link(tapName(ports[0].id)))?.master, bridgeName(NET));
    assert.ok(backend.last.ipCommands > 0 && backend.last.nftApplied);
    const again = await backend.apply(state(ports));
    assert.equal(again.size, 2);
    assert.deepEqual(backend.last, { ipCommands: 0, fdbCommands: 0, nftApplied: false, problems: [] });
  });

  it("a spoofed source MAC is dropped; the port's own MAC passes again", async () => {
    const vm1 = new Ip({ netns: vms[0] });
    await vm1.batch([linkSet('eth0', { address: 'fa:16:3e:00:00:99' })]);
    try {
      assert.equal(await ping(vms[0], '10.0.0.2'), false, "a frame from a MAC not the port's must be dropped");
    } finally {
      await vm1.batch([linkSet('eth0', { address: ports[0].mac_address })]);
    }
    assert.ok(await ping(vms[0], '10.0.0.2'), 'vm1 → vm2 from its own MAC');
  });

  it('VMs reach each other; a spoofed source address is dropped unless port security is off', async () => {
    assert.ok(await ping(vms[0], '10.0.0.2'), 'vm1 → vm2');
    assert.ok(await ping(vms[1], '10.0.0.1'), 'vm2 → vm1');
    await new Ip({ netns: vms[0] }).batch([addAddress('10.0.0.99/32', 'eth0')]);
    assert.equal(await ping(vms[0], '10.0.0.2', '10.0.0.99'), false, 'spoofed source must be dropped');
    const open = ports.map((p) => ({ ...p, port_security_enabled: p.id !== ports[0].id }));
    await backend.apply(state(open));
    assert.ok(backend.last.nftApplied);
    assert.ok(await ping(vms[0], '10.0.0.2', '10.0.0.99'), 'without port security the address passes');
  });

  it('a VLAN network is wired where 8021q exists, else it names the missing kernel support', async () => {
    const vlanPort: HostPort = {
      ...ports[0],
      id: `${tag}09-aaaa-4bbb-8ccc-dddddddddddd`,
      network_id: VLAN_NET,
      network_type: 'vlan',
      physical_network: 'physnet1',
      segmentation_id: 100,
    };
    await ip.batch([addVeth(tapName(vlanPort.id), 'vlan-peer')]);
    const wired = await backend.apply(state([...ports, vlanPort]));
    const created = await ip.link('eth-up.100');
    if (created) {
      assert.equal(created.master, bridgeName(VLAN_NET));
      assert.ok(wired.has(vlanPort.id));
    } else {
      assert.ok(!wired.has(vlanPort.id), 'a port without its uplink is not reported wired');
      assert.ok(
        backend.last.problems.some((m) => /could not create eth-up\.100: this kernel has no 802\.1Q VLAN support/.test(m)),
        backend.last.problems.join('\n'),
      );
      assert.ok(
        logs.some((m) => /8021q/.test(m)),
        'the reason is logged',
      );
    }
  });

  it('a network with no port left here loses its bridge; its taps are cut off, not deleted', async () => {
    await backend.apply(state([]));
    assert.equal(await ip.link(bridgeName(NET)), undefined);
    const tap = await ip.link(tapName(ports[0].id));
    assert.ok(tap && !tap.master && !tap.flags.includes('UP'));
    const tables = await new Nft({ netns: host }).tableHandles();
    assert.deepEqual(
      [...tables.keys()].filter((t) => t.endsWith(' neutrino')),
      [],
      'no secured port, no table',
    );
  });
});
