// Real packets through the whole stack: server, RabbitMQ, one Linux bridge agent per simulated host,
// VMs plugged by `neutrino vif plug`. VMs of one VXLAN network on two hosts ping each other; a second
// network with the same CIDR sees nothing of the first; deleting a port takes its tap off the bridge
// and its FDB entries off the other host; an agent killed with SIGKILL and started again reconverges
// without recreating what was right, and heals what it missed; agents restarted (SIGTERM, SIGKILL)
// during a continuous ping lose no packet; VMs of a flat provider network on two hosts (the lab's
// `provider` bridge as the physical network) ping each other.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bridgeName, tapName, vxlanName } from '../../src/agents/linuxbridge/names.js';
import { Bridge, execRunner, Ip } from '../../src/system/index.js';
import { ServerProcess } from '../fixtures/process.js';
import { DataplaneLab, rabbitSkip } from './lab.js';
import { notRoot, until } from './root.js';

describe('Linux bridge agents: VXLAN between simulated hosts', { skip: notRoot || rabbitSkip }, () => {
  let lab: DataplaneLab;
  // biome-ignore lint/suspicious/noExplicitAny: API bodies
  const net: Record<string, any> = {};
  // biome-ignore lint/suspicious/noExplicitAny: API bodies
  const ports: Record<string, any> = {};
  const ipOf = (name: string) => ports[name].fixed_ips[0].ip_address as string;
  const hostIp = (i: number) => new Ip({ netns: lab.hosts[i].netns });
  const fdbDsts = async (i: number, dev: string) =>
    (await new Bridge({ netns: lab.hosts[i].netns }).fdb(dev)).filter((r) => r.dst).map((r) => `${r.mac}>${r.dst}`);

  before(async () => {
    lab = await DataplaneLab.start(2);
  });
  after(async () => {
    await lab?.stop();
  });

  it('VMs of one network on two hosts ping each other both ways', async () => {
    Object.assign(net, { a: await lab.network('a', '10.20.0.0/24') });
    for (const [name, host] of [
      ['a1', 0],
      ['a2', 1],
    ] as const) {
      ports[name] = await lab.create('port', { network_id: net.a.network.id, name });
      const plugged = await lab.plug(ports[name].id, lab.hosts[host], name);
      assert.equal(plugged.status, 'ACTIVE');
    }
    assert.ok(await until('a1 → a2', () => lab.ping('a1', ipOf('a2')), 10_000));
    assert.ok(await lab.ping('a2', ipOf('a1')), 'a2 → a1');
    // l2population: each host knows the other's VTEP and port MAC; nothing was learnt by flooding.
    const vni = net.a.network['provider:segmentation_id'];
    assert.deepEqual(
      (await fdbDsts(0, vxlanName(vni))).sort(),
      [`00:00:00:00:00:00>${lab.hosts[1].localIp}`, `${ports.a2.mac_address}>${lab.hosts[1].localIp}`].sort(),
    );
  });

  it('a second network with the same CIDR on the same hosts gets no traffic from the first', async () => {
    Object.assign(net, { b: await lab.network('b', '10.20.0.0/24') });
    ports.b1 = await lab.create('port', { network_id: net.b.network.id, name: 'b1', fixed_ips: [{ ip_address: '10.20.0.201' }] });
    ports.b2 = await lab.create('port', { network_id: net.b.network.id, name: 'b2', fixed_ips: [{ ip_address: '10.20.0.202' }] });
    await lab.plug(ports.b1.id, lab.hosts[0], 'b1');
    await lab.plug(ports.b2.id, lab.hosts[1], 'b2');
    assert.ok(await until('b1 → b2', () => lab.ping('b1', '10.20.0.202'), 10_000));
    // Count the frames reaching b2 from network a's VMs (by source MAC: IPv4, ARP, IPv6, anything)
    // while a1 broadcasts and tries b2's address (which ARP on network a cannot resolve), and, as a
    // control that the counter counts, those from b1.
    const b2 = lab.topology.vmNetns('b2');
    const counters =
      'table netdev nt_count {\n  chain in {\n    type filter hook ingress device eth0 priority 0;\n' +
      `    ether saddr { ${ports.a1.mac_address}, ${ports.a2.mac_address} } counter\n` +
      `    ether saddr ${ports.b1.mac_address} counter\n  }\n}\n`;
    assert.equal((await execRunner('ip', ['netns', 'exec', b2, 'nft', '-f', '-'], { input: counters })).code, 0);
    await execRunner('ip', ['netns', 'exec', lab.topology.vmNetns('a1'), 'ping', '-b', '-c2', '-i0.2', '-W1', '10.20.0.255']);
    assert.equal(await lab.ping('a1', '10.20.0.202'), false, 'network a reaches a port of network b');
    assert.ok(await lab.ping('b1', '10.20.0.202'));
    const seen = (await execRunner('ip', ['netns', 'exec', b2, 'nft', 'list', 'table', 'netdev', 'nt_count'])).stdout;
    const [fromA, fromB1] = (seen.match(/packets \d+/g) ?? []).map((m) => Number(m.split(' ')[1]));
    assert.equal(fromA, 0, seen);
    assert.ok(fromB1 > 0, seen);
    assert.equal(await lab.ping('b1', ipOf('a2')), false, 'network b reaches a port of network a');
    assert.notEqual(net.a.network['provider:segmentation_id'], net.b.network['provider:segmentation_id']);
  });

  it('deleting a port takes its tap off the bridge and its FDB entries off the other host', async () => {
    const vni = net.a.network['provider:segmentation_id'];
    assert.equal((await hostIp(1).link(tapName(ports.a2.id)))?.master, bridgeName(net.a.network.id));
    assert.equal((await lab.api('DELETE', `ports/${ports.a2.id}`)).status, 204);
    await until('a2 tap detached on host 2', async () => {
      const tap = await hostIp(1).link(tapName(ports.a2.id));
      return !tap || (!tap.master && !tap.flags.includes('UP'));
    });
    // a2 was host 2's only port on network a: host 1 loses its MAC and the flooding entry to host 2.
    await until('a2 FDB entries gone on host 1', async () => (await fdbDsts(0, vxlanName(vni))).length === 0);
    // ...and host 2 has no port left on network a: its bridge and VXLAN device are gone.
    await until('network a gone from host 2', async () => !(await hostIp(1).link(bridgeName(net.a.network.id))));
    assert.equal(await lab.ping('a1', ipOf('a2')), false);
  });

  it('an agent killed with SIGKILL and started again reconverges without recreating what is right', async () => {
    const h1 = lab.hosts[0];
    const watched = [bridgeName(net.b.network.id), vxlanName(net.b.network['provider:segmentation_id']), tapName(ports.b1.id)];
    const before = new Map((await hostIp(0).links()).map((l) => [l.ifname, l.ifindex]));
    const fdbBefore = await fdbDsts(0, watched[1]);
    const agent = lab.agents.get(h1.name)!;
    agent.signal('SIGKILL');
    await agent.wait();
    // The data plane does not need the agent.
    assert.ok(await lab.ping('b1', '10.20.0.202'), 'traffic flows while the agent is down');
    // Changes it misses while down: a new port bound to its host, a port of host 2 deleted.
    ports.b3 = await lab.create('port', { network_id: net.b.network.id, name: 'b3', fixed_ips: [{ ip_address: '10.20.0.203' }] });
    const plugging = lab.plug(ports.b3.id, h1, 'b3', 60);
    const restarted = lab.startAgent(h1);
    const plugged = await plugging;
    assert.equal(plugged.status, 'ACTIVE', restarted.log);
    assert.ok(await until('b3 → b2', () => lab.ping('b3', '10.20.0.202'), 10_000));
    assert.ok(await lab.ping('b1', '10.20.0.203'), 'b1 → b3 on the same host');
    const afterRestart = new Map((await hostIp(0).links()).map((l) => [l.ifname, l.ifindex]));
    for (const name of watched) assert.equal(afterRestart.get(name), before.get(name), `${name} was recreated`);
    assert.deepEqual((await fdbDsts(0, watched[1])).sort(), fdbBefore.sort());
    assert.match(restarted.log, /registered with the server/);
    assert.doesNotMatch(restarted.log, /reconcile failed|ip -batch|bridge -batch|nftables/);
  });

  it('vif unplug deletes the tap and unbinds the port; the other host forgets its MAC', async () => {
    const h1 = lab.hosts[0];
    const vni = net.b.network['provider:segmentation_id'];
    assert.ok((await fdbDsts(1, vxlanName(vni))).includes(`${ports.b3.mac_address}>${h1.localIp}`));
    const r = await lab.neutrino(['vif', 'unplug', ports.b3.id, '--host', h1.name, '--host-netns', h1.netns, '--url', lab.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await hostIp(0).link(tapName(ports.b3.id)), undefined);
    const p = (await lab.api('GET', `ports/${ports.b3.id}`)).body.port;
    assert.deepEqual([p['binding:host_id'], p.device_id, p.status], ['', '', 'DOWN']);
    await until(
      'b3 MAC gone on host 2',
      async () => !(await fdbDsts(1, vxlanName(vni))).some((e) => e.startsWith(ports.b3.mac_address)),
    );
    assert.ok(await lab.ping('b1', '10.20.0.202'), 'the rest of network b is untouched');
  });
  it('agents restarted (SIGTERM on one host, SIGKILL on the other) during a continuous ping lose no packet', async () => {
    // 1500 pings 10 ms apart: ping ends by itself once every reply is in (or lingers for the last),
    // so no packet is in flight when it is stopped; both restarts happen while it runs.
    const ping = ServerProcess.spawn([
      'ip',
      'netns',
      'exec',
      lab.topology.vmNetns('b1'),
      'ping',
      '-i',
      '0.01',
      '-c',
      '1500',
      '-q',
      '10.20.0.202',
    ]);
    try {
      await until('the ping under way', async () => /PING/.test(ping.log), 5_000);
      for (const [i, sig] of [
        [0, 'SIGTERM'],
        [1, 'SIGKILL'],
      ] as const) {
        const h = lab.hosts[i];
        const agent = lab.agents.get(h.name)!;
        agent.signal(sig);
        await agent.wait();
        const restarted = lab.startAgent(h);
        await until(`${h.name}'s agent reconciled after ${sig}`, async () => /first reconcile done/.test(restarted.log), 20_000);
        assert.doesNotMatch(restarted.log, /reconcile failed|ip -batch|bridge -batch|nftables/);
      }
      assert.equal(ping.exitStatus, null, `the ping ended before both restarts were done:\n${ping.log}`);
      const status = await ping.wait();
      const m = /(\d+) packets transmitted, (\d+) received/.exec(ping.log);
      assert.ok(m, ping.log);
      assert.equal(Number(m[1]), 1500, ping.log);
      assert.equal(Number(m[2]), Number(m[1]), `packets lost:\n${ping.log}`);
      assert.equal(status.code, 0, ping.log);
    } finally {
      await ping.stop();
    }
  });
  it("VMs on a flat provider network (physnet1 mapped to each host's eth1) ping each other across hosts", async () => {
    const network = await lab.create('network', {
      name: 'flat',
      'provider:network_type': 'flat',
      'provider:physical_network': 'physnet1',
    });
    await lab.create('subnet', { network_id: network.id, cidr: '10.30.0.0/24', ip_version: 4 });
    for (const [name, host] of [
      ['f1', 0],
      ['f2', 1],
    ] as const) {
      ports[name] = await lab.create('port', { network_id: network.id, name });
      assert.equal((await lab.plug(ports[name].id, lab.hosts[host], name)).status, 'ACTIVE');
    }
    for (const i of [0, 1]) {
      const uplink = await hostIp(i).link(lab.hosts[i].provider);
      assert.equal(uplink?.master, bridgeName(network.id), `host ${i + 1}'s eth1 on the flat network's bridge`);
    }
    assert.ok(await until('f1 → f2', () => lab.ping('f1', ipOf('f2')), 10_000));
    assert.ok(await lab.ping('f2', ipOf('f1')), 'f2 → f1');
    assert.equal(await lab.ping('f1', '10.20.0.202'), false, 'the flat network reaches a VXLAN network');
  });
});
