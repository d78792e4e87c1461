// Real packets through Open vSwitch agents (userspace datapath) on two simulated hosts, each with its
// own ovsdb-server/ovs-vswitchd, a private RabbitMQ, the server, and VMs plugged by `neutrino vif plug`:
// VMs of a VXLAN network on two hosts ping each other through br-int/br-tun and the tunnel ports
// l2population asked for; a second network with the same CIDR sees nothing of the first; a VM sending
// from a MAC or address not its port's is dropped; agents restarted during a continuous ping lose no
// packet and leave only flows with their new cookie; an agent SIGKILLed and started again changes no
// port, tag or LVID; deleting ports removes their flows, and the tunnel ports once no network needs
// them; security groups (the native OVS firewall) filter on one host and across hosts; flat and VLAN
// provider networks cross the physical bridges (the VLAN tagged on the wire);
// Geneve and GRE networks, which this kernel lacks, run on OVS's userspace tunnels.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tapName } from '../../src/agents/linuxbridge/names.js';
import { PROVIDER_BRIDGE } from '../../src/lab/ovs.js';
import { execRunner, OfCtl, VSwitch } from '../../src/system/index.js';
import { ServerProcess } from '../fixtures/process.js';
import { DataplaneLab, rabbitSkip } from './lab.js';
import { notRoot, until } from './root.js';

const ovsSkip =
  (await execRunner('test', ['-f', '/usr/share/openvswitch/vswitch.ovsschema'])).code === 0 || process.env.CI === 'true'
    ? false
    : 'Open vSwitch is not installed (apt-get install openvswitch-switch)';

describe('Open vSwitch agents: VXLAN between simulated hosts', { skip: notRoot || rabbitSkip || ovsSkip }, () => {
  let lab: DataplaneLab;
  // biome-ignore lint/suspicious/noExplicitAny: API bodies
  const net: Record<string, any> = {};
  // biome-ignore lint/suspicious/noExplicitAny: API bodies
  const ports: Record<string, any> = {};
  const ipOf = (name: string) => ports[name].fixed_ips[0].ip_address as string;
  const ofctl = (i: number) => new OfCtl({ rundir: lab.hosts[i].ovsRundir! });
  const flows = (i: number, br: string, match?: string) => ofctl(i).dumpFlows(br, match);
  const cookies = async (i: number) => {
    const all = await Promise.all(['br-int', 'br-tun', PROVIDER_BRIDGE].map((b) => flows(i, b)));
    return new Set(all.flat().map((f) => f.cookie));
  };
  /** The OVSDB view of a host, read once. */
  const snapshot = async (i: number) => {
    const vs = new VSwitch(lab.hosts[i].ovsdb!);
    await vs.start();
    try {
      return vs.snapshot();
    } finally {
      vs.close();
    }
  };
  const tunnelPorts = async (i: number) =>
    [...(await snapshot(i)).interfaces.values()].filter((x) => x.type === 'vxlan').map((x) => `${x.name}>${x.options.remote_ip}`);

  before(async () => {
    lab = await DataplaneLab.start(2, 'openvswitch');
  });
  after(async () => {
    await lab?.stop();
  });

  it('VMs of one network on two hosts ping each other both ways through br-tun', async () => {
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
    // The VM port is on br-int with its local VLAN tag and what Neutron records in other_config.
    const snap = await snapshot(0);
    const port = snap.ports.get(tapName(ports.a1.id))!;
    assert.equal(snap.portBridge.get(port.name), 'br-int');
    assert.equal(port.other_config.net_uuid, net.a.network.id);
    assert.equal(port.tag, Number(port.other_config.tag));
    // l2population: one tunnel port per remote host, named as Neutron names it; the remote MAC in
    // table 20 and its address in the ARP responder (21).
    assert.deepEqual(await tunnelPorts(0), [`vxlan-c000020c>${lab.hosts[1].localIp}`]);
    const vni = net.a.network['provider:segmentation_id'];
    const ucast = await flows(0, 'br-tun', 'table=20');
    assert.ok(
      ucast.some(
        (f) =>
          f.priority === 2 && f.match.includes(`dl_dst=${ports.a2.mac_address}`) && f.actions.includes(`${hex(vni)}->tun_id`),
      ),
      JSON.stringify(ucast),
    );
    const arp = await flows(0, 'br-tun', 'table=21');
    assert.ok(
      arp.some((f) => f.match.includes(`arp_tpa=${ipOf('a2')}`)),
      JSON.stringify(arp),
    );
    // Every flow of the host carries the agent's one cookie.
    assert.equal((await cookies(0)).size, 1);
  });

  it('a second network with the same CIDR on the same hosts gets no traffic from the first', async () => {
    Object.assign(net, { b: await lab.network('b', '10.20.0.0/24') });
    ports.b1 = await lab.create('port', { network_id: net.b.network.id, name: 'b1', fixed_ips: [{ ip_address: '10.20.0.201' }] });
    ports.b2 = await lab.create('port', { network_id: net.b.network.id, name: 'b2', fixed_ips: [{ ip_address: '10.20.0.202' }] });
    await lab.plug(ports.b1.id, lab.hosts[0], 'b1');
    await lab.plug(ports.b2.id, lab.hosts[1], 'b2');
    assert.ok(await until('b1 → b2', () => lab.ping('b1', '10.20.0.202'), 10_000));
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
    // Different local VLANs on br-int.
    const snap = await snapshot(0);
    assert.notEqual(snap.ports.get(tapName(ports.a1.id))?.tag, snap.ports.get(tapName(ports.b1.id))?.tag);
  });

  it('a VM sending from a MAC or an address not its port’s is dropped; from its own it passes again', async () => {
    const vm = lab.topology.vmNetns('b1');
    const sh = (...args: string[]) => execRunner('ip', ['netns', 'exec', vm, ...args]);
    assert.equal((await sh('ip', 'link', 'set', 'eth0', 'address', 'fa:16:3e:99:99:99')).code, 0);
    await sh('ip', 'neigh', 'flush', 'all');
    assert.equal(await lab.ping('b1', '10.20.0.202'), false, 'a spoofed MAC got through');
    assert.equal((await sh('ip', 'link', 'set', 'eth0', 'address', ports.b1.mac_address)).code, 0);
    assert.ok(await until('b1 → b2 with its own MAC', () => lab.ping('b1', '10.20.0.202'), 5_000));
    // Another address of the subnet, on the right MAC: dropped too (table 25), ARP included (24).
    assert.equal((await sh('ip', 'addr', 'add', '10.20.0.99/24', 'dev', 'eth0')).code, 0);
    const spoofed = await sh('ping', '-c1', '-W1', '-I', '10.20.0.99', '10.20.0.202');
    assert.notEqual(spoofed.code, 0, 'a spoofed source address got through');
    await sh('ip', 'addr', 'del', '10.20.0.99/24', 'dev', 'eth0');
    assert.ok(await lab.ping('b1', '10.20.0.202'));
  });

  it('agents restarted (SIGTERM on one host, SIGKILL on the other) during a continuous ping lose no packet and leave only flows with their new cookie', async () => {
    const before = await Promise.all([0, 1].map(cookies));
    const ping = ServerProcess.spawn([
      'ip',
      'netns',
      'exec',
      lab.topology.vmNetns('a1'),
      'ping',
      '-i',
      '0.01',
      '-c',
      '1500',
      '-q',
      ipOf('a2'),
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
        assert.doesNotMatch(restarted.log, /reconcile failed|flows of|port tags/);
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
    for (const i of [0, 1]) {
      const now = await cookies(i);
      assert.equal(now.size, 1, `host ${i + 1} has flows of several cookies: ${[...now]}`);
      assert.ok(!before[i].has([...now][0]), `host ${i + 1} still has the old cookie`);
    }
  });

  it('an agent SIGKILLed and started again keeps every tag, LVID, port and tunnel, and wires what it missed', async () => {
    const h1 = lab.hosts[0];
    const picture = async () => {
      const s = await snapshot(0);
      return JSON.stringify(
        [...s.ports.values()]
          .map((p) => [p.name, p.tag, p.other_config, p.uuid])
          .concat([...s.interfaces.values()].map((i) => [i.name, i.ofport, i.uuid]))
          .sort(),
      );
    };
    const before = await picture();
    const agent = lab.agents.get(h1.name)!;
    agent.signal('SIGKILL');
    await agent.wait();
    assert.ok(await lab.ping('b1', '10.20.0.202'), 'traffic flows while the agent is down');
    ports.b3 = await lab.create('port', { network_id: net.b.network.id, name: 'b3', fixed_ips: [{ ip_address: '10.20.0.203' }] });
    const plugging = lab.plug(ports.b3.id, h1, 'b3', 60);
    const restarted = lab.startAgent(h1);
    assert.equal((await plugging).status, 'ACTIVE', restarted.log);
    assert.ok(await until('b3 → b2', () => lab.ping('b3', '10.20.0.202'), 10_000));
    assert.ok(await lab.ping('b1', '10.20.0.203'), 'b1 → b3 on the same host');
    const afterRestart = JSON.parse(await picture()) as unknown[][];
    const b3 = tapName(ports.b3.id);
    assert.equal(JSON.stringify(afterRestart.filter((e) => e[0] !== b3)), before);
  });

  it('security groups (native OVS firewall): ingress by rule, on this host and across hosts; default groups admit only members; a rule added or removed takes effect', async () => {
    const post = async (path: string, kind: string, body: Record<string, unknown>) => {
      const r = await lab.api('POST', path, { [kind]: body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body[kind];
    };
    const web = await post('security-groups', 'security_group', { name: 'web' });
    const rule = (body: Record<string, unknown>) =>
      post('security-group-rules', 'security_group_rule', { security_group_id: web.id, ...body });
    await rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 5001, port_range_max: 5001 });
    const servers: Record<string, ServerProcess> = {};
    try {
      for (const [name, host, ip] of [
        ['s1', 1, '10.20.0.211'],
        ['s2', 0, '10.20.0.212'],
      ] as const) {
        ports[name] = await lab.create('port', {
          network_id: net.b.network.id,
          name,
          fixed_ips: [{ ip_address: ip }],
          security_groups: [web.id],
        });
        await lab.plug(ports[name].id, lab.hosts[host], name);
        servers[name] = listen(lab.topology.vmNetns(name));
      }
      await until('the servers listening', async () => Object.values(servers).every((s) => /LISTENING/.test(s.log)), 5_000);
      const b1 = lab.topology.vmNetns('b1');
      for (const [name, ip] of [
        ['s1', '10.20.0.211'],
        ['s2', '10.20.0.212'],
      ]) {
        assert.ok(await until(`b1 → ${name}:5001`, () => connect(b1, ip, 5001), 10_000), `TCP to the allowed port of ${name}`);
        assert.equal(await connect(b1, ip, 5002), false, `TCP to another port of ${name}`);
        assert.equal(await lab.ping('b1', ip), false, `ICMP to ${name} without a rule`);
      }
      // The default group admits only its members: s1 (in web only) reaches nothing of b1's.
      assert.equal(await lab.ping('s1', '10.20.0.201'), false, 's1 → b1 (default group)');
      assert.equal(await connect(lab.topology.vmNetns('s1'), '10.20.0.201', 5001), false);
      // A rule added: ICMP passes; removed: it stops again.
      const icmp = await rule({ direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' });
      assert.ok(await until('b1 → s1 after the ICMP rule', () => lab.ping('b1', '10.20.0.211'), 10_000));
      assert.ok(await lab.ping('b1', '10.20.0.212'), 'b1 → s2 after the ICMP rule');
      assert.equal((await lab.api('DELETE', `security-group-rules/${icmp.id}`)).status, 204);
      await until('ICMP blocked again', async () => !(await lab.ping('b1', '10.20.0.211')), 10_000);
      // The flows: per-port rules in table 82, conntrack in 71/81.
      const rules = await flows(1, 'br-int', 'table=82');
      assert.ok(
        rules.some((f) => f.match.includes('tp_dst=5001') && f.actions.startsWith('ct(commit')),
        JSON.stringify(rules),
      );
    } finally {
      for (const s of Object.values(servers)) await s.stop();
    }
  });

  it('deleting ports removes their flows, and the tunnel ports no network needs any more', async () => {
    const snap = await snapshot(1);
    const a2port = snap.interfaces.get(tapName(ports.a2.id))!.ofport!;
    assert.ok((await flows(1, 'br-int', 'table=25')).some((f) => f.match.includes(`in_port=${a2port}`)));
    assert.equal((await lab.api('DELETE', `ports/${ports.a2.id}`)).status, 204);
    // Its anti-spoofing flows go; its VIF stays (Nova's to unplug), on the dead VLAN behind a drop.
    await until(
      'a2 flows gone on host 2',
      async () => !(await flows(1, 'br-int', 'table=25')).some((f) => f.match.includes(`in_port=${a2port}`)),
    );
    const t0 = await flows(1, 'br-int', 'table=0');
    assert.ok(
      t0.some((f) => f.match === `in_port=${a2port}` && f.actions === 'drop'),
      JSON.stringify(t0),
    );
    assert.equal((await snapshot(1)).ports.get(tapName(ports.a2.id))?.tag, 4095);
    // Network b still joins the hosts: the tunnel stays. Without b's ports on host 2 (b2, s1) it goes.
    assert.equal((await tunnelPorts(0)).length, 1);
    for (const p of ['b2', 's1']) assert.equal((await lab.api('DELETE', `ports/${ports[p].id}`)).status, 204);
    await until(
      'tunnel ports gone on both hosts',
      async () => (await tunnelPorts(0)).length === 0 && (await tunnelPorts(1)).length === 0,
    );
    assert.equal(await lab.ping('a1', ipOf('a2')), false);
    // vif unplug takes the VIF off br-int.
    const r = await lab.neutrino([
      'vif',
      'unplug',
      ports.b3.id,
      '--host',
      lab.hosts[0].name,
      '--host-netns',
      lab.hosts[0].netns,
      '--url',
      lab.url,
      '--ovsdb',
      lab.hosts[0].ovsdb!,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await snapshot(0)).ports.get(tapName(ports.b3.id)), undefined);
  });

  it('VMs of a flat and of a VLAN provider network on two hosts ping each other through the physical bridges', async () => {
    const counter = (dev: string, vid: number) =>
      `table netdev nt_vlan {\n  chain in {\n    type filter hook ingress device ${dev} priority 0;\n    vlan id ${vid} counter\n  }\n}\n`;
    assert.equal(
      (await execRunner('ip', ['netns', 'exec', lab.topology.underlay, 'nft', '-f', '-'], { input: counter('p2', 150) })).code,
      0,
    );
    for (const [kind, extra, cidr] of [
      ['flat', {}, '10.30.0.0/24'],
      ['vlan', { 'provider:segmentation_id': 150 }, '10.31.0.0/24'],
    ] as const) {
      const network = await lab.create('network', {
        name: kind,
        'provider:network_type': kind,
        'provider:physical_network': 'physnet1',
        ...extra,
      });
      await lab.create('subnet', { network_id: network.id, cidr, ip_version: 4 });
      for (const [n, host] of [
        [`${kind}1`, 0],
        [`${kind}2`, 1],
      ] as const) {
        ports[n] = await lab.create('port', { network_id: network.id, name: n });
        assert.equal((await lab.plug(ports[n].id, lab.hosts[host], n)).status, 'ACTIVE');
      }
      assert.ok(await until(`${kind}1 → ${kind}2`, () => lab.ping(`${kind}1`, ipOf(`${kind}2`)), 10_000));
      assert.ok(await lab.ping(`${kind}2`, ipOf(`${kind}1`)));
    }
    assert.equal(await lab.ping('flat1', ipOf('vlan2')), false, 'the flat network reaches the VLAN network');
    const seen = (await execRunner('ip', ['netns', 'exec', lab.topology.underlay, 'nft', 'list', 'table', 'netdev', 'nt_vlan']))
      .stdout;
    assert.ok(Number(/packets (\d+)/.exec(seen)?.[1] ?? 0) > 0, `no frame tagged 150 on the wire:\n${seen}`);
  });

  it('Geneve and GRE networks (OVS’s own tunnels; this kernel has neither) carry VMs across hosts', async () => {
    for (const [kind, id, cidr] of [
      ['geneve', 5001, '10.32.0.0/24'],
      ['gre', 5002, '10.33.0.0/24'],
    ] as const) {
      const network = await lab.create('network', { name: kind, 'provider:network_type': kind, 'provider:segmentation_id': id });
      assert.equal(network.mtu, kind === 'gre' ? 1458 : 1450, JSON.stringify(network));
      await lab.create('subnet', { network_id: network.id, cidr, ip_version: 4 });
      for (const [n, host] of [
        [`${kind}1`, 0],
        [`${kind}2`, 1],
      ] as const) {
        ports[n] = await lab.create('port', { network_id: network.id, name: n });
        assert.equal((await lab.plug(ports[n].id, lab.hosts[host], n)).status, 'ACTIVE');
      }
      assert.ok(await until(`${kind}1 → ${kind}2`, () => lab.ping(`${kind}1`, ipOf(`${kind}2`)), 10_000));
      const snap = await snapshot(0);
      const tunnel = snap.interfaces.get(`${kind}-c000020c`);
      assert.equal(tunnel?.type, kind, `no ${kind} tunnel port to host 2`);
    }
    assert.equal(await lab.ping('geneve1', ipOf('gre2')), false);
  });
});

const hex = (n: number) => `0x${n.toString(16)}`;

/** A TCP server in `netns` on ports 5001 and 5002 that greets each connection. */
function listen(netns: string): ServerProcess {
  const script =
    "const net=require('net');let n=0;for(const p of [5001,5002])net.createServer((s)=>s.end('hello')).listen(p,()=>{if(++n===2)console.log('LISTENING')});";
  return ServerProcess.spawn(['ip', 'netns', 'exec', netns, process.execPath, '-e', script]);
}

/** Whether a TCP connection from `netns` to address:port is answered within 2 s. */
async function connect(netns: string, address: string, port: number): Promise<boolean> {
  const script =
    `const s=require('net').connect(${port},'${address}');let got='';s.on('data',(d)=>{got+=d});` +
    "s.on('end',()=>process.exit(got==='hello'?0:1));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000);";
  return (await execRunner('ip', ['netns', 'exec', netns, process.execPath, '-e', script], { timeoutMs: 10_000 })).code === 0;
}
