// The L3 agent's loop (src/agents/l3/agent.ts) on the server's in-process bus, its kernel a
// recording fake (namespaces, devices and NAT tables as sets; every command kept): what it syncs
// and when, the statuses it reports, what it removes. That the kernel side works is
// test/dataplane/l3-agent.test.ts's business; here it is the protocol and the bookkeeping.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InterfaceDriver, PlugOptions } from '../../src/agents/common/interface.js';
import { L3Agent } from '../../src/agents/l3/agent.js';
import type { ExecResult, Runner } from '../../src/system/index.js';
import { ADMIN, ALICE, TestServer } from '../helpers.js';

/** The kernel as the agent sees it through `ip`, `nft`, `sysctl`, `conntrack` and `arping`. */
class FakeKernel {
  readonly namespaces = new Map<string, Set<string>>();
  /** Namespace → 'dev cidr' entries and 'dest via' routes. */
  readonly addresses = new Map<string, Set<string>>();
  readonly routes = new Map<string, Set<string>>();
  /** Namespace → the NAT table's text. */
  readonly tables = new Map<string, string>();
  readonly commands: string[] = [];

  readonly run: Runner = async (file, args, opts) => {
    this.commands.push([file, ...args].join(' '));
    const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
    const a = [...args];
    if (file !== 'ip') return ok();
    if (a[0] === '-j' && a[1] === 'netns') return ok(JSON.stringify([...this.namespaces.keys()].map((name) => ({ name }))));
    if (a[0] === 'netns' && a[1] === 'add') {
      this.namespaces.set(a[2], new Set());
      return ok();
    }
    if (a[0] === 'netns' && a[1] === 'del') {
      this.namespaces.delete(a[2]);
      return ok();
    }
    const ns = a[0] === '-n' ? a[1] : a[0] === 'netns' && a[1] === 'exec' ? a[2] : undefined;
    if (a[0] === 'netns' && a[1] === 'exec' && ns) {
      const [tool, ...rest] = a.slice(3);
      if (tool === 'nft' && rest[0] === '-t') {
        const t = this.tables.get(ns);
        return t === undefined
          ? { code: 1, stdout: '', stderr: 'Error: No such file or directory' }
          : ok(`table ip neutrino-l3 {\n${t}`);
      }
      if (tool === 'nft' && rest[0] === '-f') {
        const text = opts?.input ?? '';
        const table = text.slice(text.indexOf('table ip neutrino-l3 {') + 'table ip neutrino-l3 {\n'.length);
        if (text.includes('delete table') && !text.includes('{')) this.tables.delete(ns);
        else this.tables.set(ns, table);
      }
      if (tool === 'conntrack') return { code: 1, stdout: '', stderr: '0 flow entries have been deleted.' };
      return ok();
    }
    if (ns === undefined) return ok();
    const devices = this.namespaces.get(ns) ?? new Set<string>();
    const addrs = this.addresses.get(ns) ?? this.addresses.set(ns, new Set()).get(ns) ?? new Set<string>();
    const routes = this.routes.get(ns) ?? this.routes.set(ns, new Set()).get(ns) ?? new Set<string>();
    const rest = a.slice(2).join(' ');
    if (rest === '-j -d link show')
      return ok(JSON.stringify([...devices].map((ifname, i) => ({ ifindex: i + 2, ifname, flags: ['UP'], mtu: 1500 }))));
    if (rest === '-j addr show') {
      return ok(
        JSON.stringify(
          [...devices].map((ifname) => ({
            ifname,
            addr_info: [...addrs]
              .filter((x) => x.startsWith(`${ifname} `))
              .map((x) => {
                const [local, prefixlen] = x.split(' ')[1].split('/');
                return { family: local.includes(':') ? 'inet6' : 'inet', local, prefixlen: Number(prefixlen) };
              }),
          })),
        ),
      );
    }
    const family = /^-j -([46]) route show/.exec(rest)?.[1];
    if (family) {
      const mine = [...routes].filter((r) => r.includes(':') === (family === '6'));
      return ok(JSON.stringify(mine.map((r) => ({ dst: r.split(' ')[0], gateway: r.split(' ')[1] }))));
    }
    for (const line of (opts?.input ?? '').split('\n')) {
      const [verb, ...w] = line.replace(/^-6 /, '').split(' ');
      if (verb === 'link' && w[0] === 'del') devices.delete(w[2]);
      if (verb === 'addr') w[0] === 'add' ? addrs.add(`${w[3]} ${w[1]}`) : addrs.delete(`${w[3]} ${w[1]}`);
      if (verb === 'route') w[0] === 'replace' ? routes.add(`${w[1]} ${w[3]}`) : routes.delete(`${w[1]} ${w[3]}`);
    }
    return ok();
  };

  /** The interface driver: the device appears in its namespace. */
  readonly driver: InterfaceDriver = {
    plug: async (o: PlugOptions) => {
      this.namespaces.get(o.netns)?.add(o.ifname);
    },
    unplug: async () => undefined,
    plugged: async () => true,
  };
}

const until = async (what: string, pred: () => Promise<boolean> | boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the L3 agent’s loop', () => {
  let s: TestServer;
  const kernel = new FakeKernel();
  let agent: L3Agent;
  const logged: string[] = [];
  let ext: { id: string };
  let router: { id: string };
  let sub: { id: string };
  let net: { id: string };
  const ns = () => `qrouter-${router.id}`;
  const newAgent = () =>
    new L3Agent(s.neutrino.transport, {
      host: 'net-a',
      hostNamespace: '',
      reportIntervalSec: 0,
      periodicIntervalSec: 3600,
      numSyncThreads: 2,
      garpCount: 1,
      timeoutMs: 5000,
      driver: kernel.driver,
      run: kernel.run,
      log: (m) => logged.push(m),
    });

  before(async () => {
    s = await TestServer.start([['ml2_type_flat', 'flat_networks', 'physnet1']]);
    ext = await s.create(
      'networks',
      'network',
      { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1' },
      ADMIN,
    );
    await s.create('subnets', 'subnet', { network_id: ext.id, cidr: '203.0.113.0/24', ip_version: 4 }, ADMIN);
    net = await s.network({}, ALICE);
    sub = await s.subnet(net.id, '10.0.0.0/24', {}, ALICE);
    agent = newAgent();
    await agent.start();
  });
  after(async () => {
    await agent?.stop();
    await s?.close();
  });

  it('a router scheduled here gets its namespace, devices and NAT table', async () => {
    router = await s.create('routers', 'router', { name: 'r', external_gateway_info: { network_id: ext.id } }, ALICE);
    await s.put(`/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sub.id }, ALICE);
    await until('both devices', () => (kernel.namespaces.get(ns())?.size ?? 0) === 2);
    const ports = (await s.get(`/v2.0/ports?device_id=${router.id}`, ADMIN)).body.ports as Array<{
      id: string;
      device_owner: string;
    }>;
    assert.deepEqual(
      [...(kernel.namespaces.get(ns()) ?? [])].sort(),
      ports.map((p) => `${p.device_owner === 'network:router_gateway' ? 'qg' : 'qr'}-${p.id.slice(0, 11)}`).sort(),
    );
    await until('the NAT table', () => /snat to 203\.0\.113\.\d+ fully-random/.test(kernel.tables.get(ns()) ?? ''));
    assert.ok(kernel.commands.some((c) => c.includes('sysctl') && c.includes('net.ipv4.ip_forward=1')));
  });

  it('a floating IP: DNAT and SNAT written, a gratuitous ARP sent, ACTIVE; disassociated: the maps gone, DOWN', async () => {
    const vm = await s.port(net.id, {}, ALICE);
    const f = (await s.post('/v2.0/floatingips', { floatingip: { floating_network_id: ext.id, port_id: vm.id } }, ALICE)).body
      .floatingip;
    const status = async () => (await s.get(`/v2.0/floatingips/${f.id}`, ALICE)).body.floatingip.status;
    await until('ACTIVE', async () => (await status()) === 'ACTIVE');
    const table = kernel.tables.get(ns()) ?? '';
    assert.match(
      table,
      new RegExp(`dnat to ip daddr map \\{ ${f.floating_ip_address.replace(/\./g, '\\.')} : ${vm.fixed_ips[0].ip_address}`),
    );
    assert.ok(kernel.commands.some((c) => c.includes(`arping -U -I qg-`) && c.endsWith(f.floating_ip_address)));
    await s.put(`/v2.0/floatingips/${f.id}`, { floatingip: { port_id: null } }, ALICE);
    await until('DOWN', async () => (await status()) === 'DOWN');
    await until('the maps gone', () => !(kernel.tables.get(ns()) ?? '').includes('map'));
  });

  it('a full sync with nothing changed writes nothing', async () => {
    const passes = agent.stats.fullPasses;
    const writes = agent.stats.natWrites;
    const from = kernel.commands.length;
    agent.resync();
    await until('a full sync', () => agent.stats.fullPasses > passes);
    assert.equal(agent.stats.natWrites, writes);
    const since = kernel.commands.slice(from);
    assert.ok(!since.some((c) => c.includes('nft -f') || c.includes('-batch')), since.join('\n'));
  });

  it('removed from this agent by the admin: the namespace goes', async () => {
    const [a] = (await s.get('/v2.0/agents?agent_type=L3%20agent', ADMIN)).body.agents as Array<{ id: string }>;
    assert.equal((await s.del(`/v2.0/agents/${a.id}/l3-routers/${router.id}`, ADMIN)).status, 204);
    await until('the namespace gone', () => !kernel.namespaces.has(ns()));
  });

  it('a restarted agent removes the namespace of a router no longer scheduled to it', async () => {
    await agent.stop();
    const leftover = `qrouter-${'0f'.repeat(4)}-0000-4000-8000-000000000000`;
    kernel.namespaces.set(leftover, new Set(['qr-0f0f0f0f-00']));
    agent = newAgent();
    await agent.start();
    await until('the leftover namespace gone', () => !kernel.namespaces.has(leftover));
    assert.ok(logged.some((m) => m.startsWith('first full sync done')));
  });
});
