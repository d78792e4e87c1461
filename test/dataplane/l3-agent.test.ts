// The L3 agent on real namespaces and packets: a lab of two simulated hosts (test/dataplane/lab.ts)
// on a private RabbitMQ, `neutrino all-in-one`, an Open vSwitch host and a Linux bridge host, each
// with its L2 agent and a `neutrino agent l3` process (routers' namespaces `<host>-qrouter-<id>`,
// their devices plugged by the host's interface driver and wired by its L2 agent; the two routers
// land on different hosts, so both drivers are at work). The external network is flat on
// the lab's provider network, where an "outside" namespace holds its subnet's gateway address
// (203.0.113.1); VMs are namespaces plugged with `neutrino vif plug`, on both hosts. TCP helpers in
// the VMs and in outside say which source address each accepted connection came from — what NAT
// made of it. One setup serves every case, in order; failover has a lab of its own (its server
// takes agents for dead after a few seconds, which the restart case must not suffer).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LabHost } from '../../src/lab/topology.js';
import { execRunner, Ip, listNetns, Nft } from '../../src/system/index.js';
import type { ServerProcess } from '../fixtures/process.js';
import { DataplaneLab, rabbitSkip } from './lab.js';
import { notRoot, until } from './root.js';
import { VmTcp } from './tcp.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely in tests
type Json = Record<string, any>;

const PORT = 8080;
const OUTSIDE_IP = '203.0.113.1';
/** The network behind the next hop VM, and its address there. */
const BEHIND = '172.31.5.0/24';
const BEHIND_IP = '172.31.5.1';

const inNs = (ns: string, args: string[]) => execRunner('ip', ['netns', 'exec', ns, ...args]);
const pingFrom = async (ns: string, address: string) => (await inNs(ns, ['ping', '-c1', '-W1', '-q', address])).code === 0;
const lastSeen = async (t: VmTcp) => (await t.seen()).at(-1);
const gatewayOf = (r: Json) => r.external_gateway_info.external_fixed_ips[0].ip_address as string;

/** The host of the L3 agent a router is scheduled to (once it is scheduled to one). */
async function scheduledHost(lab: DataplaneLab, routerId: string, deadlineMs?: number): Promise<LabHost> {
  const agents = await until(
    `${routerId} scheduled`,
    async () => {
      const a = (await lab.api('GET', `routers/${routerId}/l3-agents`)).body.agents as Json[];
      return a.length ? a : undefined;
    },
    deadlineMs,
  );
  return lab.hosts.find((x) => x.name === agents[0].host) as LabHost;
}

describe('L3 agent: routers, SNAT and floating IPs on simulated hosts', { skip: notRoot || rabbitSkip }, () => {
  let lab: DataplaneLab;
  let outsideNs = '';
  let ext: Json;
  let sg: Json;
  const nets: Record<string, { network: Json; subnet: Json }> = {};
  const vms: Record<string, { port: Json; ip: string; tcp: VmTcp }> = {};
  let outside: VmTcp;
  let r1: Json;
  let gw1 = '';
  const helpers: VmTcp[] = [];

  /** The host of the L3 agent a router is scheduled to. */
  const routerHost = new Map<string, LabHost>();
  async function hostOf(routerId: string): Promise<LabHost> {
    const h = await scheduledHost(lab, routerId);
    routerHost.set(routerId, h);
    return h;
  }
  const qrouter = (id: string) => `${routerHost.get(id)?.netns}-qrouter-${id}`;
  const put = async (path: string, body: unknown) => {
    const r = await lab.api('PUT', path, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const logs = () => lab.agentLogs();

  async function vm(name: string, hostIndex: number, net: string, fixedIp?: string, more: Json = {}): Promise<void> {
    const port = await lab.create('port', {
      network_id: nets[net].network.id,
      device_owner: 'compute:nova',
      device_id: randomUUID(),
      security_groups: [sg.id],
      ...(fixedIp ? { fixed_ips: [{ ip_address: fixedIp }] } : {}),
      ...more,
    });
    await lab.plug(port.id, lab.hosts[hostIndex], name);
    const tcp = await VmTcp.start(lab.topology.vmNetns(name), [PORT]);
    helpers.push(tcp);
    vms[name] = { port, ip: port.fixed_ips[0].ip_address, tcp };
  }

  async function router(name: string, subnets: string[]): Promise<Json> {
    const r = await lab.create('router', { name, external_gateway_info: { network_id: ext.id } });
    for (const s of subnets) await put(`routers/${r.id}/add_router_interface`, { subnet_id: nets[s].subnet.id });
    await hostOf(r.id);
    return r;
  }

  /** Whether `from` gets a new TCP connection to address:PORT echoed (within a second and a half). */
  const reaches = (from: VmTcp, address: string) => from.tryConnect(address, PORT);

  before(async () => {
    lab = await DataplaneLab.start(2, ['openvswitch', 'linuxbridge'], { l3: 2 });
    // outside: a namespace on the provider network, holding the external subnet's gateway address.
    outsideNs = await lab.addOutside(`${OUTSIDE_IP}/24`);
    // outside learns addresses from gratuitous ARPs (how the test sees the router announce them).
    await inNs(outsideNs, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_accept=1', '-w', 'net.ipv4.conf.eth0.arp_accept=1']);
    outside = await VmTcp.start(outsideNs, [PORT]);
    helpers.push(outside);

    ext = await lab.externalNetwork(OUTSIDE_IP);
    sg = await lab.create('security_group', { name: 'open' });
    for (const protocol of ['icmp', 'tcp']) {
      await lab.create('security_group_rule', { security_group_id: sg.id, direction: 'ingress', protocol, ethertype: 'IPv4' });
    }
    await lab.create('security_group_rule', {
      security_group_id: sg.id,
      direction: 'ingress',
      protocol: 'ipv6-icmp',
      ethertype: 'IPv6',
    });
    nets.a = await lab.network('l3-a', '10.81.0.0/24');
    nets.b = await lab.network('l3-b', '10.82.0.0/24');
    r1 = await router('r1', ['a', 'b']);
    gw1 = gatewayOf(r1);
    await vm('a1', 0, 'a');
    await vm('b1', 1, 'b');
  });

  after(async () => {
    await Promise.allSettled(helpers.map((t) => t.stop()));
    await lab?.stop();
  });

  it('two tenant networks joined by a router: VMs on two hosts ping across', async () => {
    await until('a1 pings b1 through r1', () => pingFrom(lab.topology.vmNetns('a1'), vms.b1.ip), 45_000).catch((err) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    assert.ok(await pingFrom(lab.topology.vmNetns('b1'), vms.a1.ip));
    const ns = qrouter(r1.id);
    assert.ok((await listNetns()).includes(ns));
    const ip = new Ip({ netns: ns });
    const devs = (await ip.links()).map((l) => l.ifname).sort();
    const ports = (await lab.api('GET', `ports?device_id=${r1.id}`)).body.ports as Json[];
    assert.deepEqual(
      devs.filter((d) => d !== 'lo'),
      ports.map((p) => `${p.device_owner === 'network:router_gateway' ? 'qg' : 'qr'}-${p.id.slice(0, 11)}`).sort(),
    );
    const links = await ip.links();
    for (const p of ports) {
      assert.equal(p.status, 'ACTIVE', `${p.device_owner} ${p.id}`);
      const gw = p.device_owner === 'network:router_gateway';
      const link = links.find((l) => l.ifname === `${gw ? 'qg' : 'qr'}-${p.id.slice(0, 11)}`);
      assert.equal(link?.address, p.mac_address, 'the port’s MAC');
      assert.equal(link?.mtu, gw ? 1500 : 1450, 'the network’s MTU (flat 1500, VXLAN 1450)');
      const [addrs] = await ip.addresses(link?.ifname);
      const want = (p.fixed_ips as Json[]).map((f) => `${f.ip_address}/24`);
      assert.deepEqual(
        addrs.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
        want,
      );
    }
    assert.equal((await inNs(ns, ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim(), '1');
    assert.match((await inNs(ns, ['ip', 'route', 'show', 'default'])).stdout, new RegExp(`default via ${OUTSIDE_IP} dev qg-`));
  });

  it('a VM reaches outside, which sees the router’s gateway address as its source', async () => {
    assert.ok(await until('a1 reaches outside', () => reaches(vms.a1.tcp, OUTSIDE_IP), 20_000));
    assert.equal(await lastSeen(outside), gw1);
    assert.ok(await reaches(vms.b1.tcp, OUTSIDE_IP));
    assert.equal(await lastSeen(outside), gw1);
  });

  let fip: Json;
  it('a floating IP: outside reaches the VM by it (the VM sees outside’s own address) and the VM goes out as it; status ACTIVE', async () => {
    fip = await lab.create('floatingip', { floating_network_id: ext.id, port_id: vms.a1.port.id });
    const address = fip.floating_ip_address as string;
    // Announced before anyone asks: outside's neighbour entry for it comes from the router's gratuitous ARP.
    const gwPort = (
      (await lab.api('GET', `ports?device_id=${r1.id}&device_owner=network:router_gateway`)).body.ports as Json[]
    )[0];
    await until('the gratuitous ARP for the floating IP', async () =>
      (await inNs(outsideNs, ['ip', 'neigh', 'show', address, 'dev', 'eth0'])).stdout.includes(gwPort.mac_address),
    );
    await until('outside reaches a1 by its floating IP', () => reaches(outside, address), 20_000);
    assert.equal(await lastSeen(vms.a1.tcp), OUTSIDE_IP);
    assert.ok(await pingFrom(outsideNs, address));
    assert.ok(await reaches(vms.a1.tcp, OUTSIDE_IP));
    assert.equal(await lastSeen(outside), address, 'the VM leaves as its floating IP');
    await until(
      'the floating IP ACTIVE',
      async () => (await lab.api('GET', `floatingips/${fip.id}`)).body.floatingip.status === 'ACTIVE',
    );
    const qg = (await new Ip({ netns: qrouter(r1.id) }).addresses()).find((l) => l.ifname.startsWith('qg-'));
    assert.ok(
      qg?.addr_info.some((a) => a.local === address && a.prefixlen === 32),
      'the floating address as /32 on qg-',
    );
  });

  it('hairpin: a VM of the same router reaches the floating IP (through the router, as the gateway address)', async () => {
    assert.ok(await reaches(vms.b1.tcp, fip.floating_ip_address));
    assert.equal(await lastSeen(vms.a1.tcp), gw1);
  });

  it('disassociation cuts the floating IP, established connections too (status DOWN); re-association restores it; other connections survive', async () => {
    const address = fip.floating_ip_address as string;
    assert.ok(await outside.open('in', address, PORT), 'outside connected to the floating IP');
    // Another VM's connection through SNAT lives on while the NAT table is replaced around it.
    assert.ok(await vms.b1.tcp.open('through', OUTSIDE_IP, PORT));
    const handle = async () => (await new Nft({ netns: qrouter(r1.id) }).tableHandles()).get('ip neutrino-l3');
    const before = await handle();
    await put(`floatingips/${fip.id}`, { floatingip: { port_id: null } });
    await until('the floating IP unreachable', async () => !(await reaches(outside, address)), 20_000);
    assert.equal(await outside.probe('in'), false, 'the established connection is cut (its conntrack entry deleted)');
    await outside.close('in');
    await until(
      'the floating IP DOWN',
      async () => (await lab.api('GET', `floatingips/${fip.id}`)).body.floatingip.status === 'DOWN',
    );
    assert.ok(await reaches(vms.a1.tcp, OUTSIDE_IP));
    assert.equal(await lastSeen(outside), gw1, 'the VM is SNATed to the gateway address again');
    await put(`floatingips/${fip.id}`, { floatingip: { port_id: vms.a1.port.id } });
    await until('the floating IP reachable again', () => reaches(outside, address), 20_000);
    assert.equal(await lastSeen(vms.a1.tcp), OUTSIDE_IP);
    assert.notEqual(await handle(), before, 'the NAT table was replaced');
    assert.ok(await vms.b1.tcp.probe('through'), 'the SNATed connection survived the replacements');
    await vms.b1.tcp.close('through');
  });

  it('enable_snat=false: a VM without a floating IP goes out with its own address; true again restores SNAT', async () => {
    await put(`routers/${r1.id}`, { router: { external_gateway_info: { network_id: ext.id, enable_snat: false } } });
    // outside knows the way back to the tenant network (as an operator routing it would).
    await new Ip({ netns: outsideNs }).batch([['route', 'add', '10.82.0.0/24', 'via', gw1]]);
    try {
      await until(
        'b1 seen by its fixed address',
        async () => (await reaches(vms.b1.tcp, OUTSIDE_IP)) && (await lastSeen(outside)) === vms.b1.ip,
        20_000,
      );
      assert.ok(await reaches(outside, fip.floating_ip_address), 'floating IPs still work');
    } finally {
      await new Ip({ netns: outsideNs }).batch([['route', 'del', '10.82.0.0/24', 'via', gw1]]);
      await put(`routers/${r1.id}`, { router: { external_gateway_info: { network_id: ext.id, enable_snat: true } } });
    }
    await until(
      'b1 SNATed again',
      async () => (await reaches(vms.b1.tcp, OUTSIDE_IP)) && (await lastSeen(outside)) === gw1,
      20_000,
    );
  });

  /** The NAT table's handle and the router's devices' ifindexes: what a rewrite would change. */
  async function kernelIds(routerId: string): Promise<string> {
    const ns = qrouter(routerId);
    const handle = (await new Nft({ netns: ns }).tableHandles()).get('ip neutrino-l3');
    const links = (await new Ip({ netns: ns }).links()).map((l) => `${l.ifname}:${l.ifindex}`).sort();
    return JSON.stringify([handle, links]);
  }

  it('a change that is not NAT (an extra route) rewrites no NAT table and no device', async () => {
    const before = await kernelIds(r1.id);
    await put(`routers/${r1.id}`, { router: { routes: [{ destination: '172.31.0.0/16', nexthop: '10.81.0.250' }] } });
    const ns = qrouter(r1.id);
    await until('the extra route in the namespace', async () =>
      (await inNs(ns, ['ip', 'route', 'show', '172.31.0.0/16'])).stdout.includes('via 10.81.0.250'),
    );
    assert.equal(await kernelIds(r1.id), before);
    await put(`routers/${r1.id}`, { router: { routes: [] } });
    await until('the extra route gone', async () => !(await inNs(ns, ['ip', 'route', 'show', '172.31.0.0/16'])).stdout.trim());
    assert.equal(await kernelIds(r1.id), before);
  });

  it('an extra route to a next hop VM: a VM on the router’s other network reaches the network behind it; removing the route cuts it', async () => {
    // n1 routes 172.31.5.0/24, of which it holds 172.31.5.1 (on its lo: no dummy module here). Its port
    // allows the addresses it answers for (an allowed address pair), as a Neutron user would do.
    await vm('n1', 0, 'a', undefined, { allowed_address_pairs: [{ ip_address: BEHIND }] });
    const n1 = lab.topology.vmNetns('n1');
    await inNs(n1, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await new Ip({ netns: n1 }).batch([['addr', 'add', `${BEHIND_IP}/32`, 'dev', 'lo']], { force: false });
    const b1 = lab.topology.vmNetns('b1');
    assert.equal(await pingFrom(b1, BEHIND_IP), false, 'not reachable before the route');
    await put(`routers/${r1.id}`, { router: { routes: [{ destination: BEHIND, nexthop: vms.n1.ip }] } });
    await until('b1 pings 172.31.5.1 through r1 and n1', () => pingFrom(b1, BEHIND_IP), 20_000).catch((err) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    // It is n1 that answers, and the router routes without NAT: n1 sees b1's own address.
    assert.ok(await reaches(vms.b1.tcp, BEHIND_IP), 'b1 connects to 172.31.5.1');
    assert.equal(await lastSeen(vms.n1.tcp), vms.b1.ip);
    await put(`routers/${r1.id}`, { router: { routes: [] } });
    await until('172.31.5.1 unreachable without the route', async () => !(await pingFrom(b1, BEHIND_IP)), 20_000);
  });

  it('the agent restarted: a TCP connection through SNAT survives; namespace, devices and NAT table are adopted, not rewritten', async () => {
    assert.ok(await vms.b1.tcp.open('kept', OUTSIDE_IP, PORT), 'b1 connected out');
    assert.equal(await lastSeen(outside), gw1);
    const before = await kernelIds(r1.id);
    const h = routerHost.get(r1.id) as LabHost;
    await lab.l3Agents.get(h.name)?.stop();
    const restarted = lab.startL3Agent(h);
    await until('the restarted agent’s first full sync', async () => restarted.log.includes('first full sync done'), 30_000);
    assert.ok(await vms.b1.tcp.probe('kept'), 'the connection still echoes');
    assert.equal(await kernelIds(r1.id), before, restarted.log);
    assert.ok(await reaches(outside, fip.floating_ip_address));
    await vms.b1.tcp.close('kept');
  });

  let r2: Json;
  it('two routers with overlapping tenant CIDRs coexist, each SNATing its own VM to its own gateway address', async () => {
    nets.c = await lab.network('l3-c', '10.81.0.0/24');
    r2 = await router('r2', ['c']);
    const gw2 = gatewayOf(r2);
    // The scheduler puts it on the other L3 agent (fewest routers): both interface drivers at work.
    assert.notEqual(routerHost.get(r2.id)?.name, routerHost.get(r1.id)?.name);
    await vm('c1', 1, 'c', vms.a1.ip);
    assert.equal(vms.c1.ip, vms.a1.ip, 'the same address behind both routers');
    await until('c1 reaches outside', () => reaches(vms.c1.tcp, OUTSIDE_IP), 30_000);
    assert.equal(await lastSeen(outside), gw2);
    await put(`floatingips/${fip.id}`, { floatingip: { port_id: null } });
    await until(
      'a1 SNATed to r1’s gateway',
      async () => (await reaches(vms.a1.tcp, OUTSIDE_IP)) && (await lastSeen(outside)) === gw1,
      20_000,
    );
    assert.ok(await reaches(vms.c1.tcp, OUTSIDE_IP));
    assert.equal(await lastSeen(outside), gw2);
  });

  it('IPv6: two IPv6 subnets joined by a router (forwarding on, no NAT) — VMs on two hosts ping across', async () => {
    for (const [name, prefix] of [
      ['d', '2001:db8:81::'],
      ['e', '2001:db8:82::'],
    ]) {
      const network = await lab.create('network', { name: `l3-${name}` });
      const subnet = await lab.create('subnet', { network_id: network.id, cidr: `${prefix}/64`, ip_version: 6 });
      nets[name] = { network, subnet };
    }
    const r3 = await router('r3', ['d', 'e']);
    await vm('d1', 0, 'd');
    await vm('e1', 1, 'e');
    for (const [name, net] of [
      ['d1', 'd'],
      ['e1', 'e'],
    ]) {
      await inNs(lab.topology.vmNetns(name), ['ip', '-6', 'route', 'replace', 'default', 'via', nets[net].subnet.gateway_ip]);
    }
    const ns = qrouter(r3.id);
    assert.equal((await inNs(ns, ['sysctl', '-n', 'net.ipv6.conf.all.forwarding'])).stdout.trim(), '1');
    await until('d1 pings e1 over IPv6', () => pingFrom(lab.topology.vmNetns('d1'), vms.e1.ip), 30_000);
    assert.ok(await pingFrom(lab.topology.vmNetns('e1'), vms.d1.ip));
  });

  it('removing an interface cuts the network off; a deleted router’s namespace goes', async () => {
    await put(`routers/${r1.id}/remove_router_interface`, { subnet_id: nets.b.subnet.id });
    await until('a1 no longer pings b1', async () => !(await pingFrom(lab.topology.vmNetns('a1'), vms.b1.ip)), 20_000);
    assert.ok(!(await reaches(vms.b1.tcp, OUTSIDE_IP)));
    const links = (await new Ip({ netns: qrouter(r1.id) }).links()).filter((l) => l.ifname.startsWith('qr-'));
    assert.equal(links.length, 1, 'one interface left');
    await put(`routers/${r2.id}/remove_router_interface`, { subnet_id: nets.c.subnet.id });
    const [gwPort] = (await lab.api('GET', `ports?device_id=${r2.id}&device_owner=network:router_gateway`)).body.ports as Json[];
    const tap = `tap${gwPort.id.slice(0, 11)}`;
    const h = routerHost.get(r2.id) as LabHost;
    assert.ok(await new Ip({ netns: h.netns }).link(tap), `${tap} on ${h.name}`);
    assert.equal((await lab.api('DELETE', `routers/${r2.id}`)).status, 204);
    await until('r2’s namespace gone', async () => !(await listNetns()).includes(qrouter(r2.id)), 20_000);
    assert.equal(await new Ip({ netns: h.netns }).link(tap), undefined, 'its gateway tap gone from the host');
    if (h.ovsdb) {
      const ports = await execRunner('ovs-vsctl', [`--db=${h.ovsdb}`, 'list-ports', 'br-int']);
      assert.doesNotMatch(ports.stdout, new RegExp(tap), 'and from br-int');
    }
  });
});

// Its own lab: a server that moves routers off L3 agents silent for 2 × agent_down_time (6 s here).
describe('L3 agent failover: a router moved off a dead agent serves again', { skip: notRoot || rabbitSkip }, () => {
  let lab: DataplaneLab;
  const helpers: VmTcp[] = [];

  before(async () => {
    lab = await DataplaneLab.start(2, ['openvswitch', 'linuxbridge'], {
      l3: 2,
      serverDefaults: 'allow_automatic_l3agent_failover = true\nagent_down_time = 3\n',
    });
  });

  after(async () => {
    await Promise.allSettled(helpers.map((t) => t.stop()));
    await lab?.stop();
  });

  it('the L3 agent serving a router killed: the router moves to the other agent, the VM goes out again as the gateway address; the dead agent, restarted, removes its stale namespace', async (t) => {
    const outsideNs = await lab.addOutside(`${OUTSIDE_IP}/24`);
    const outside = await VmTcp.start(outsideNs, [PORT]);
    helpers.push(outside);
    const ext = await lab.externalNetwork(OUTSIDE_IP);
    const net = await lab.network('fo-a', '10.83.0.0/24');
    const r = await lab.create('router', { name: 'fo', external_gateway_info: { network_id: ext.id } });
    const added = await lab.api('PUT', `routers/${r.id}/add_router_interface`, { subnet_id: net.subnet.id });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const gw = gatewayOf(r);
    const a = await scheduledHost(lab, r.id);
    const b = lab.hosts.find((h) => h !== a) as LabHost;
    // No port security on the VM: this case is about the router, not the firewall.
    const port = await lab.create('port', {
      network_id: net.network.id,
      device_owner: 'compute:nova',
      device_id: randomUUID(),
      port_security_enabled: false,
    });
    // On A: so A keeps the tenant network (its bridge, its VLAN) after the router leaves, and the
    // stale router's qr- tap must itself be cut off it.
    await lab.plug(port.id, a, 'fo1');
    const vmTcp = await VmTcp.start(lab.topology.vmNetns('fo1'), [PORT]);
    helpers.push(vmTcp);
    const goesOut = async () => (await vmTcp.tryConnect(OUTSIDE_IP, PORT)) && (await lastSeen(outside)) === gw;
    await until('the VM reaches outside as the gateway address', goesOut, 30_000);

    // SIGKILL: the agent leaves its namespace behind, as a crashed one would.
    const dead = lab.l3Agents.get(a.name) as ServerProcess;
    dead.signal('SIGKILL');
    await dead.wait();
    const stale = `${a.netns}-qrouter-${r.id}`;
    assert.ok((await listNetns()).includes(stale), 'the dead agent’s namespace is left');
    const killed = Date.now();
    await until('the router moved to the other agent', async () => (await scheduledHost(lab, r.id)).name === b.name, 30_000);
    const moved = Date.now() - killed;
    // Until B's agent has the router, A's stale copy is still wired and would carry the VM's traffic.
    const fresh = `${b.netns}-qrouter-${r.id}`;
    await until('the router’s namespace on B', async () => (await listNetns()).includes(fresh), 30_000).catch((err) => {
      throw new Error(`${err.message}\n${lab.agentLogs()}`);
    });
    // The router's ports are bound to B now: A's L2 agent unwires their taps, so the stale copy
    // on A (same addresses, same MACs) no longer reaches the external network or the tenant one.
    const vmIp = port.fixed_ips[0].ip_address as string;
    await until(
      'the stale router on A cut off from the external and the tenant network',
      async () => !(await pingFrom(stale, OUTSIDE_IP)) && !(await pingFrom(stale, vmIp)),
      20_000,
    ).catch((err) => {
      throw new Error(`${err.message}\n${lab.agentLogs()}`);
    });
    await until('the VM reaches outside through B, as the gateway address', goesOut, 30_000).catch((err) => {
      throw new Error(`${err.message}\n${lab.agentLogs()}`);
    });
    assert.ok(await goesOut(), 'the VM still goes out as the gateway address');

    // A's agent back: the router is not scheduled to it, so its full sync removes the namespace.
    const restarted = lab.startL3Agent(a);
    await until('the stale namespace removed', async () => !(await listNetns()).includes(stale), 30_000).catch((err) => {
      throw new Error(`${err.message}\n${restarted.log}`);
    });
    const [gwPort] = (await lab.api('GET', `ports?device_id=${r.id}&device_owner=network:router_gateway`)).body.ports as Json[];
    assert.equal(gwPort['binding:host_id'], b.name);
    assert.equal(await new Ip({ netns: a.netns }).link(`tap${gwPort.id.slice(0, 11)}`), undefined, 'its gateway tap gone from A');
    assert.equal((await scheduledHost(lab, r.id)).name, b.name, 'the router stays on B');
    assert.ok(await goesOut(), 'the VM goes out as the gateway address');
    t.diagnostic(`router moved from ${a.name} (${a.l2}) to ${b.name} (${b.l2}) ${moved} ms after the kill`);
  });
});
