// The DHCP agent on real namespaces with real dnsmasq and real DHCP clients: a lab of two simulated
// hosts (test/dataplane/lab.ts) on a private RabbitMQ, `neutrino all-in-one` with agent_down_time 3,
// and per host an L2 agent — a Linux bridge host and an Open vSwitch host, so DHCP ports are plugged
// both ways (interface drivers) — and a `neutrino agent dhcp` process. VMs are namespaces plugged
// as Nova would, whose interface gets nothing but its MAC: busybox udhcpc (dhclient -6 for DHCPv6)
// asks the network's dnsmasq for the rest, through the VXLAN wiring of the L2 agents.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { plugVif } from '../../src/cli/vif.js';
import { type DhcpClient, type Lease, readLease, renewLease, startDhcpClient, waitForLease } from '../../src/lab/dhcp-client.js';
import type { LabHost } from '../../src/lab/topology.js';
import { cmdlineOf, execRunner, Ip, killProcess, listNetns, netnsPids, pidAlive, readPidFile } from '../../src/system/index.js';
import { DataplaneLab, rabbitSkip } from './lab.js';
import { notRoot, until } from './root.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely in tests
type Json = Record<string, any>;

describe('DHCP agents: dnsmasq serving VMs on simulated hosts', { skip: notRoot || rabbitSkip }, () => {
  let lab: DataplaneLab;
  /** The hosts' names (the lab's are unique per run). */
  let h1 = '';
  let h2 = '';
  const host = (name: string) => lab.hosts.find((h) => h.name === name) as LabHost;
  const otherThan = (name: string) => (name === h1 ? h2 : h1);

  before(async () => {
    lab = await DataplaneLab.start(2, ['linuxbridge', 'openvswitch'], { dhcp: true, serverDefaults: 'agent_down_time = 3\n' });
    [h1, h2] = lab.hosts.map((h) => h.name);
  });

  after(async () => {
    await lab?.stop();
  });

  const vmNetns = (vm: string) => lab.topology.vmNetns(vm);
  const inVm = (vm: string, args: string[]) => execRunner('ip', ['netns', 'exec', vmNetns(vm), ...args]);

  /** A network with a subnet of `cidr` (and `subnet` attributes); waits until a DHCP agent serves it. */
  async function network(name: string, cidr: string, subnet: Json = {}): Promise<{ network: Json; subnet: Json; host: string }> {
    const net = await lab.create('network', { name });
    const sub = await lab.create('subnet', { network_id: net.id, cidr, ip_version: cidr.includes(':') ? 6 : 4, ...subnet });
    const h = await servingHost(net.id);
    await until(`dnsmasq serving ${name}`, async () => dnsmasqPid(h, net.id) !== undefined, 30_000);
    return { network: net, subnet: sub, host: h };
  }

  async function servingHost(networkId: string): Promise<string> {
    return until(`a DHCP agent hosting ${networkId}`, async () => {
      const agents = (await lab.api('GET', `networks/${networkId}/dhcp-agents`)).body.agents as Json[];
      return agents.length === 1 ? (agents[0].host as string) : undefined;
    });
  }

  const pidFile = (h: string, networkId: string) => join(lab.dir, h, 'dhcp', networkId, 'pid');
  /** Whether a process runs (a killed one its parent has not reaped yet does not). */
  const running = (pid: number) => pidAlive(pid) && cmdlineOf(pid) !== undefined;
  function dnsmasqPid(h: string, networkId: string): number | undefined {
    const pid = readPidFile(pidFile(h, networkId));
    return pid !== undefined && running(pid) ? pid : undefined;
  }

  /** A VM on `h` whose port is on the network: plugged, ACTIVE, its DHCP client started. */
  async function vm(
    name: string,
    h: string,
    networkId: string,
    port: Json = {},
    request: string[] = [],
  ): Promise<{ port: Json; client: DhcpClient; ifname: string }> {
    const p = await lab.create('port', { network_id: networkId, device_owner: 'compute:nova', device_id: randomUUID(), ...port });
    const r = await plugVif(p.id, {
      url: lab.url,
      host: h,
      netns: vmNetns(name),
      hostNetns: host(h).netns,
      ovsdb: host(h).ovsdb,
      dhcp: true,
      timeoutMs: 30_000,
    });
    assert.equal(r.status, 'ACTIVE', lab.agentLogs());
    const ifname = r.interface as string;
    const client = await startDhcpClient({ netns: vmNetns(name), ifname, dir: lab.dir, vm: name, request });
    return { port: p, client, ifname };
  }

  /** The end of every dnsmasq's DHCP log (dnsmasq_base_log_dir), for failure messages. */
  function dnsmasqLogs(): string {
    const out: string[] = [];
    for (const h of lab.hosts) {
      const base = join(lab.dir, h.name, 'dnsmasq-log');
      let nets: string[] = [];
      try {
        nets = readdirSync(base);
      } catch {
        continue;
      }
      for (const n of nets) {
        try {
          const lines = readFileSync(join(base, n, 'dhcp_dns_log'), 'utf8')
            .trim()
            .split('\n');
          out.push(`--- dnsmasq ${h.name} ${n}:\n${lines.slice(-60).join('\n')}`);
        } catch {
          // no log yet
        }
      }
    }
    return out.join('\n');
  }

  const lease = (c: DhcpClient, pred?: (l: Lease) => boolean) =>
    waitForLease(c.leaseFile, 20_000, pred).catch((err) => {
      const files = readdirSync(lab.dir).filter((f) => f.startsWith('vm-'));
      const pid = readPidFile(c.pidFile);
      const client = pid === undefined ? 'no pid file' : `${pid}: ${cmdlineOf(pid)?.join(' ') ?? 'not running'}`;
      throw new Error(`${err.message}\nfiles: ${files.join(' ')}\nclient ${client}\n${lab.agentLogs()}\n${dnsmasqLogs()}`);
    });

  async function dhcpPort(networkId: string): Promise<Json> {
    return until('the DHCP port', async () => {
      const ports = (await lab.api('GET', `ports?network_id=${networkId}&device_owner=network:dhcp`)).body.ports as Json[];
      return ports.length === 1 ? ports[0] : undefined;
    });
  }

  it('VMs on two hosts get their exact address, default route, DNS server and MTU by DHCP; dnsmasq answers their names', async () => {
    // The pool ends at .199, so no random address (a1's, the DHCP port's) can take the .200 asked for a2.
    const { network: net, subnet } = await network('dhcp-a', '10.61.0.0/24', {
      allocation_pools: [{ start: '10.61.0.2', end: '10.61.0.199' }],
    });
    const a = await vm('a1', h1, net.id);
    const b = await vm('a2', h2, net.id, { fixed_ips: [{ ip_address: '10.61.0.200' }] });
    const la = await lease(a.client);
    const lb = await lease(b.client);
    const server = (await dhcpPort(net.id)).fixed_ips[0].ip_address as string;
    assert.equal(la.ip, a.port.fixed_ips[0].ip_address);
    assert.equal(lb.ip, '10.61.0.200', 'the fixed IP asked of the API');
    for (const [name, l] of [
      ['a1', la],
      ['a2', lb],
    ] as const) {
      assert.equal(l.router, subnet.gateway_ip);
      assert.equal(l.dns, server, 'without dns_nameservers, the DHCP server answers DNS itself');
      assert.equal(l.mtu, '1450');
      assert.equal(l.serverid, server);
      assert.equal(l.domain, 'openstacklocal');
      const link = (await new Ip({ netns: vmNetns(name) }).links()).find((x) => x.ifname === 'eth0');
      assert.equal(link?.mtu, 1450, 'the VM took the MTU from option 26 (it starts at 1500)');
      assert.match(
        (await inVm(name, ['ip', 'route', 'show', 'default'])).stdout,
        new RegExp(`default via ${subnet.gateway_ip} dev eth0`),
      );
    }
    assert.ok(await lab.ping('a1', '10.61.0.200'), 'the VMs reach each other with their DHCP addresses');
    const dns = await inVm('a1', ['busybox', 'nslookup', 'host-10-61-0-200.openstacklocal', server]);
    assert.match(dns.stdout, /Address:\s+10\.61\.0\.200/, dns.stdout + dns.stderr);
    // What an operator sees: the DHCP agents, the DHCP port ACTIVE, the VM port through with its blocks.
    const agents = (await lab.api('GET', 'agents?agent_type=DHCP%20agent')).body.agents as Json[];
    assert.deepEqual(agents.map((x) => x.host).sort(), [h1, h2].sort());
    assert.equal((await dhcpPort(net.id)).status, 'ACTIVE');
    const shown = (await lab.api('GET', `ports/${a.port.id}`)).body.port;
    assert.equal(shown.status, 'ACTIVE');
    assert.deepEqual(shown.provisioning_blocks, []);
  });

  it('a host route arrives as a classless static route; the subnet’s DNS servers and a port’s extra_dhcp_opts reach the VM', async () => {
    const { network: net } = await network('dhcp-b', '10.62.0.0/24', {
      host_routes: [{ destination: '192.168.70.0/24', nexthop: '10.62.0.9' }],
      dns_nameservers: ['192.0.2.53'],
    });
    const v = await vm('b1', h2, net.id, { extra_dhcp_opts: [{ opt_name: 'ntp-server', opt_value: '10.62.0.77' }] }, ['ntpsrv']);
    const l = await lease(v.client);
    assert.equal(l.staticroutes, '192.168.70.0/24 10.62.0.9 0.0.0.0/0 10.62.0.1');
    assert.equal(l.dns, '192.0.2.53');
    assert.equal(l.ntpsrv, '10.62.0.77');
    const routes = (await inVm('b1', ['ip', 'route'])).stdout;
    assert.match(routes, /192\.168\.70\.0\/24 via 10\.62\.0\.9 dev eth0/);
    assert.match(routes, /default via 10\.62\.0\.1 dev eth0/);
  });

  it('a port on a network with an IPv4 and a stateful DHCPv6 subnet gets both addresses', async () => {
    const { network: net } = await network('dhcp-c', '10.63.0.0/24');
    await lab.create('subnet', {
      network_id: net.id,
      cidr: '2001:db8:63::/64',
      ip_version: 6,
      ipv6_ra_mode: 'dhcpv6-stateful',
      ipv6_address_mode: 'dhcpv6-stateful',
    });
    const v = await vm('c1', h1, net.id);
    const v4 = await lease(v.client);
    const port = (await lab.api('GET', `ports/${v.port.id}`)).body.port;
    const want6 = (port.fixed_ips as Json[]).find((f) => f.ip_address.includes(':'))?.ip_address;
    assert.ok(want6, 'the port has an IPv6 address');
    assert.equal(v4.ip, (port.fixed_ips as Json[]).find((f) => !f.ip_address.includes(':'))?.ip_address);
    // dhclient -6 needs its link-local address out of duplicate address detection.
    await until('a usable link-local address', async () => {
      const out = (await inVm('c1', ['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout;
      return out.includes('inet6') && !out.includes('tentative');
    });
    const c6 = await startDhcpClient({ netns: vmNetns('c1'), ifname: 'eth0', dir: lab.dir, vm: 'c1', version: 6 });
    const l6 = await waitForLease(c6.leaseFile, 30_000);
    assert.equal(l6.new_ip6_address, want6);
    assert.match((await inVm('c1', ['ip', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout, new RegExp(`${want6}/`));
  });

  it('SLAAC: the VM gets the RA and configures the address Neutron gave its port', async () => {
    const { network: net } = await network('dhcp-d', '2001:db8:64::/64', { ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' });
    const p = await lab.create('port', { network_id: net.id, device_owner: 'compute:nova', device_id: randomUUID() });
    const r = await plugVif(p.id, {
      url: lab.url,
      host: h2,
      netns: vmNetns('d1'),
      ovsdb: host(h2).ovsdb,
      hostNetns: host(h2).netns,
      dhcp: true,
    });
    assert.equal(r.status, 'ACTIVE');
    const want = p.fixed_ips[0].ip_address as string;
    await until(
      `the SLAAC address ${want}`,
      async () => (await inVm('d1', ['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'])).stdout.includes(want),
      20_000,
    );
    // The RA announces the prefix, never a default router (router lifetime 0).
    assert.doesNotMatch((await inVm('d1', ['ip', '-6', 'route', 'show', 'default'])).stdout, /default/);
  });

  it('a fixed IP changed through the API is served at the next renewal', async () => {
    const { network: net } = await network('dhcp-e', '10.65.0.0/24');
    const v = await vm('e1', h1, net.id, { fixed_ips: [{ ip_address: '10.65.0.50' }] });
    assert.equal((await lease(v.client)).ip, '10.65.0.50');
    const r = await lab.api('PUT', `ports/${v.port.id}`, { port: { fixed_ips: [{ ip_address: '10.65.0.51' }] } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // The agent reloads dnsmasq: the port's DHCP provisioning block goes once dnsmasq serves the new
    // address. Then the guest renews: its unicast renewal from an address its port no longer has
    // goes unanswered (port security), its rebinding broadcast is NAKed, and it asks afresh.
    assert.deepEqual(r.body.port.provisioning_blocks, ['DHCP']);
    await until('the new address served', async () => {
      const port = (await lab.api('GET', `ports/${v.port.id}`)).body.port;
      return port.provisioning_blocks.length === 0 && port.status === 'ACTIVE';
    });
    renewLease(v.client);
    const l = await lease(v.client, (x) => x.ip === '10.65.0.51');
    assert.equal(l.ip, '10.65.0.51');
    assert.match((await inVm('e1', ['ip', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout, /inet 10\.65\.0\.51\/24/);
  });

  it('an unknown MAC gets no lease (dnsmasq serves static allocations only); the port’s own MAC does', async () => {
    const { network: net } = await network('dhcp-f', '10.66.0.0/24');
    const p = await lab.create('port', {
      network_id: net.id,
      device_owner: 'compute:nova',
      device_id: randomUUID(),
      port_security_enabled: false, // the frames reach dnsmasq: it is dnsmasq that refuses
    });
    const r = await plugVif(p.id, {
      url: lab.url,
      host: h2,
      netns: vmNetns('f1'),
      ovsdb: host(h2).ovsdb,
      hostNetns: host(h2).netns,
      dhcp: true,
    });
    await new Ip({ netns: vmNetns('f1') }).batch([['link', 'set', 'dev', 'eth0', 'address', 'fa:16:3e:de:ad:01']]);
    const client = await startDhcpClient({ netns: vmNetns('f1'), ifname: r.interface as string, dir: lab.dir, vm: 'f1' });
    await new Promise((ok) => setTimeout(ok, 4000));
    assert.equal(readLease(client.leaseFile), undefined, 'no offer for a MAC no port has');
    await new Ip({ netns: vmNetns('f1') }).batch([['link', 'set', 'dev', 'eth0', 'address', p.mac_address]]);
    assert.equal((await lease(client)).ip, p.fixed_ips[0].ip_address);
  });

  it('dnsmasq killed: back and serving within seconds', async () => {
    const { network: net, host: h } = await network('dhcp-g', '10.67.0.0/24');
    const before = dnsmasqPid(h, net.id) as number;
    process.kill(before, 'SIGKILL');
    const t0 = Date.now();
    const after = await until('a new dnsmasq', async () => {
      const pid = dnsmasqPid(h, net.id);
      return pid !== undefined && pid !== before ? pid : undefined;
    });
    assert.ok(Date.now() - t0 < 5000, `respawned after ${Date.now() - t0} ms`);
    assert.ok(running(after));
    const v = await vm('g1', otherThan(h), net.id);
    assert.ok((await lease(v.client)).ip);
  });

  it('the agent restarted: the dnsmasqs it left are adopted, not restarted, and go on serving', async () => {
    const { network: net, host: h } = await network('dhcp-h', '10.68.0.0/24');
    const v = await vm('h1vm', h1, net.id);
    await lease(v.client);
    const pid = dnsmasqPid(h, net.id) as number;
    const agent = lab.dhcpAgents.get(h);
    await agent?.stop();
    const restarted = lab.startDhcpAgent(host(h));
    await until('the restarted agent’s first full pass', async () => restarted.log.includes('first full pass done'), 30_000);
    assert.equal(dnsmasqPid(h, net.id), pid, 'the same dnsmasq');
    assert.doesNotMatch(restarted.log, /dnsmasq started/, restarted.log);
    // Still serving, and driven by the new agent: a new VM's entry reaches the adopted dnsmasq.
    renewLease(v.client);
    const w = await vm('h2vm', h2, net.id);
    assert.ok((await lease(w.client)).ip);
    assert.equal(dnsmasqPid(h, net.id), pid);
  });

  it('enable_dhcp=false stops service for the subnet; true brings it back', async () => {
    const { network: net, subnet, host: h } = await network('dhcp-i', '10.69.0.0/24');
    const pid = dnsmasqPid(h, net.id) as number;
    assert.equal((await lab.api('PUT', `subnets/${subnet.id}`, { subnet: { enable_dhcp: false } })).status, 200);
    await until('dnsmasq stopped', async () => !running(pid));
    const v = await vm('i1', h1, net.id);
    await new Promise((ok) => setTimeout(ok, 3000));
    assert.equal(readLease(v.client.leaseFile), undefined, 'nobody answers');
    assert.equal((await lab.api('PUT', `subnets/${subnet.id}`, { subnet: { enable_dhcp: true } })).status, 200);
    assert.ok((await lease(v.client)).ip, 'served again (udhcpc keeps asking)');
  });

  it('a network deleted: its namespace and dnsmasq are gone', async () => {
    const { network: net, host: h } = await network('dhcp-j', '10.70.0.0/24');
    const pid = dnsmasqPid(h, net.id) as number;
    const ns = `${host(h).netns}-qdhcp-${net.id}`;
    assert.ok((await listNetns()).includes(ns));
    assert.equal((await lab.api('DELETE', `networks/${net.id}`)).status, 204);
    await until('the namespace gone', async () => !(await listNetns()).includes(ns));
    assert.ok(!running(pid), `dnsmasq ${pid} stopped (${cmdlineOf(pid)?.join(' ')})\n${lab.agentLogs()}`);
    assert.throws(() => readFileSync(pidFile(h, net.id)), 'its files removed');
  });

  it('a network removed from the agent of the Open vSwitch host: its DHCP port’s tap and OVS port leave the host', async () => {
    const { network: net, host: first } = await network('dhcp-l', '10.72.0.0/24');
    const ovs = lab.hosts.find((h) => h.l2 === 'openvswitch') as LabHost;
    const agentOf = async (name: string) =>
      ((await lab.api('GET', `agents?host=${name}&agent_type=DHCP%20agent`)).body.agents as Json[])[0].id as string;
    if (first !== ovs.name) {
      const moved = await lab.api('DELETE', `agents/${await agentOf(first)}/dhcp-networks/${net.id}`);
      assert.equal(moved.status, 204);
      assert.equal(
        (await lab.api('POST', `agents/${await agentOf(ovs.name)}/dhcp-networks`, { network_id: net.id })).status,
        201,
      );
      await until('dnsmasq on the Open vSwitch host', async () => dnsmasqPid(ovs.name, net.id) !== undefined, 30_000);
    }
    const port = await until('the DHCP port bound to the Open vSwitch host', async () => {
      const p = await dhcpPort(net.id);
      return p['binding:host_id'] === ovs.name && p.device_id !== 'reserved_dhcp_port' ? p : undefined;
    });
    const tap = `tap${(port.id as string).slice(0, 11)}`;
    const brInt = async () => (await execRunner('ovs-vsctl', [`--db=${ovs.ovsdb}`, 'list-ports', 'br-int'])).stdout;
    await until(`${tap} on br-int`, async () => (await brInt()).includes(tap), 10_000);
    assert.equal((await lab.api('DELETE', `agents/${await agentOf(ovs.name)}/dhcp-networks/${net.id}`)).status, 204);
    const ns = `${ovs.netns}-qdhcp-${net.id}`;
    await until('the namespace gone', async () => !(await listNetns()).includes(ns));
    // The agent unplugs before it deletes the namespace: once that is gone, so must the rest be.
    assert.equal(await new Ip({ netns: ovs.netns }).link(tap), undefined, `${tap} gone from the host`);
    assert.doesNotMatch(await brInt(), new RegExp(tap), `${tap} gone from br-int\n${lab.agentLogs()}`);
  });

  it('a DHCP agent’s host going away: its networks are served by the other agent, same address', async () => {
    const { network: net, host: gone } = await network('dhcp-k', '10.71.0.0/24');
    const other = otherThan(gone);
    const server = (await dhcpPort(net.id)).fixed_ips[0].ip_address as string;
    const v = await vm('k1', other, net.id);
    assert.equal((await lease(v.client)).serverid, server);
    // The host goes: its DHCP agent, and the dnsmasqs in its namespaces.
    lab.dhcpAgents.get(gone)?.signal('SIGKILL');
    for (const ns of (await listNetns()).filter((n) => n.startsWith(`${host(gone).netns}-qdhcp-`))) {
      for (const pid of await netnsPids(ns)) await killProcess(pid);
    }
    await until(`the network moved to ${other}`, async () => (await servingHost(net.id)) === other, 60_000);
    await until('dnsmasq on the other host', async () => dnsmasqPid(other, net.id) !== undefined, 30_000);
    assert.equal((await dhcpPort(net.id)).fixed_ips[0].ip_address, server, 'the reserved port moved with its address');
    const w = await vm('k2', other, net.id);
    assert.equal((await lease(w.client)).serverid, server);
    renewLease(v.client);
    assert.ok((await lease(v.client)).ip, 'the first VM renews with the new server');
  });
});
