// The data-plane tests' lab: the lab topology (src/lab: an underlay namespace, host namespaces with
// their VTEP addresses), a private RabbitMQ (scripts/rabbitmq.sh), one server (all-in-one, noauth,
// SQLite) and one `neutrino agent linuxbridge` (or `openvswitch`: the host then runs its own
// ovsdb-server/ovs-vswitchd on the userspace datapath) process per host, each in the root namespace
// wiring its host. VMs are namespaces plugged with `neutrino vif plug`. stop() removes everything
// (processes by PID, OVS daemons, the broker, every namespace of the lab, the state directory), also
// after a failed start.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROVIDER_BRIDGE } from '../../src/lab/ovs.js';
import { type L2Kind, type LabHost, LabTopology } from '../../src/lab/topology.js';
import { execRunner } from '../../src/system/index.js';
import { freePort, type RunResult, run, ServerProcess } from '../fixtures/process.js';
import { runTag, until } from './root.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/neutrino.js');
const RABBIT = join(ROOT, 'scripts/rabbitmq.sh');

export const rabbitSkip: string | false =
  (await run('bash', ['-c', 'test -x /usr/lib/rabbitmq/bin/rabbitmq-server'])).code === 0 || process.env.CI === 'true'
    ? false
    : 'rabbitmq-server is not installed (apt-get install rabbitmq-server)';

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely in tests
type Json = Record<string, any>;

export interface LabStartOptions {
  /** A DHCP agent process per host too. */
  dhcp?: boolean;
  /** More [DEFAULT] options of the server (e.g. `agent_down_time = 3`). */
  serverDefaults?: string;
  /** An L3 agent process on each of the first `l3` hosts. */
  l3?: number;
}

export class DataplaneLab {
  readonly topology: LabTopology;
  readonly dir: string;
  url = '';
  private rabbitUrl = '';
  private server?: ServerProcess;
  readonly agents = new Map<string, ServerProcess>();
  readonly dhcpAgents = new Map<string, ServerProcess>();
  readonly l3Agents = new Map<string, ServerProcess>();
  private brokerStarted = false;

  private constructor(readonly tag: string) {
    this.dir = mkdtempSync(join(tmpdir(), `neutrino-lab-${tag}-`));
    // dnsmasq reads its files below it as user nobody.
    chmodSync(this.dir, 0o755);
    this.topology = new LabTopology(`nt-${tag}`, this.dir);
  }

  get hosts(): LabHost[] {
    return this.topology.hosts;
  }

  /** A lab of `hostCount` hosts, each running the L2 agent of `l2` (one kind, or one per host). */
  static async start(hostCount: number, l2: L2Kind | L2Kind[] = 'linuxbridge', o: LabStartOptions = {}): Promise<DataplaneLab> {
    const lab = new DataplaneLab(runTag());
    try {
      await lab.topology.createUnderlay();
      for (let i = 1; i <= hostCount; i++) await lab.topology.addHost(i, undefined, Array.isArray(l2) ? l2[i - 1] : l2);
      const broker = await run('bash', [RABBIT, 'start', join(lab.dir, 'broker')], { timeoutMs: 120_000 });
      lab.brokerStarted = true;
      assert.equal(broker.code, 0, `rabbitmq.sh start: ${broker.stderr}`);
      lab.rabbitUrl = broker.stdout.trim().split('\n').pop() ?? '';
      const port = await freePort();
      lab.url = `http://127.0.0.1:${port}`;
      writeFileSync(
        join(lab.dir, 'server.conf'),
        `${lab.common()}bind_port = ${port}\nstate_path = ${lab.dir}\n${o.serverDefaults ?? ''}` +
          '[ml2]\nmechanism_drivers = linuxbridge,openvswitch,l2population\ntenant_network_types = vxlan\n' +
          '[ml2_type_vxlan]\nvni_ranges = 1000:1999\n',
      );
      lab.server = await ServerProcess.start(['node', BIN, 'all-in-one', '--config-file', join(lab.dir, 'server.conf')], {
        url: lab.url,
        env: { ...process.env, NEUTRINO_HOME: lab.dir },
      });
      for (const h of lab.hosts) lab.startAgent(h);
      if (o.dhcp) for (const h of lab.hosts) lab.startDhcpAgent(h);
      const l3 = lab.hosts.slice(0, o.l3 ?? 0);
      for (const h of l3) lab.startL3Agent(h);
      await until('every agent alive', async () => {
        const agents = (await lab.api('GET', 'agents')).body.agents as Json[];
        const alive = (h: LabHost, type: string) => agents.some((a) => a.host === h.name && a.alive && a.agent_type === type);
        const l2 = (h: LabHost) =>
          agents.some((a) => a.host === h.name && a.alive && /Linux bridge|Open vSwitch/.test(a.agent_type));
        return lab.hosts.every((h) => l2(h) && (!o.dhcp || alive(h, 'DHCP agent')) && (!l3.includes(h) || alive(h, 'L3 agent')));
      });
      return lab;
    } catch (err) {
      await lab.stop();
      throw err;
    }
  }

  private common(): string {
    return (
      '[oslo_messaging_rabbit]\nrabbit_retry_interval = 1\nrabbit_retry_backoff = 1\nrabbit_interval_max = 1\n' +
      `[DEFAULT]\ntransport_url = ${this.rabbitUrl}\nrpc_response_timeout = 10\n`
    );
  }

  /** Starts (or starts again) the L2 agent of `host`. */
  startAgent(h: LabHost): ServerProcess {
    const conf = join(this.dir, `${h.name}.conf`);
    if (h.l2 === 'openvswitch') {
      writeFileSync(
        conf,
        `${this.common()}host = ${h.name}\n[agent]\nreport_interval = 1\npolling_interval = 2\n` +
          'tunnel_types = vxlan,geneve,gre\nl2_population = true\narp_responder = true\n' +
          `[ovs]\nlocal_ip = ${h.localIp}\ndatapath_type = netdev\novsdb_connection = ${h.ovsdb}\n` +
          `bridge_mappings = physnet1:${PROVIDER_BRIDGE}\n[securitygroup]\nfirewall_driver = openvswitch\n`,
      );
      const agent = ServerProcess.spawn(['node', BIN, 'agent', 'openvswitch', '--config-file', conf]);
      this.agents.set(h.name, agent);
      return agent;
    }
    writeFileSync(
      conf,
      `${this.common()}host = ${h.name}\n[agent]\nreport_interval = 1\npolling_interval = 2\n` +
        `[linux_bridge]\nnamespace = ${h.netns}\nphysical_interface_mappings = physnet1:${h.provider}\n[vxlan]\nlocal_ip = ${h.localIp}\nl2_population = true\n`,
    );
    const agent = ServerProcess.spawn(['node', BIN, 'agent', 'linuxbridge', '--config-file', conf]);
    this.agents.set(h.name, agent);
    return agent;
  }

  /** Starts (or starts again) the DHCP agent of `host`: its namespaces prefixed with the host's,
   * its files under <dir>/<host>, dnsmasq checked every second. */
  startDhcpAgent(h: LabHost): ServerProcess {
    const conf = join(this.dir, `dhcp-${h.name}.conf`);
    writeFileSync(
      conf,
      `${this.common()}host = ${h.name}\nstate_path = ${join(this.dir, h.name)}\n` +
        `dnsmasq_base_log_dir = ${join(this.dir, h.name, 'dnsmasq-log')}\n` +
        (h.l2 === 'openvswitch' ? 'interface_driver = openvswitch\n' : '') +
        `[agent]\nreport_interval = 1\nhost_namespace = ${h.netns}\ncheck_child_processes_interval = 1\n` +
        (h.l2 === 'openvswitch' ? `[ovs]\ndatapath_type = netdev\novsdb_connection = ${h.ovsdb}\n` : ''),
    );
    const agent = ServerProcess.spawn(['node', BIN, 'agent', 'dhcp', '--config-file', conf]);
    this.dhcpAgents.set(h.name, agent);
    return agent;
  }

  /** Starts (or starts again) the L3 agent of `host`: its namespaces prefixed with the host's. */
  startL3Agent(h: LabHost): ServerProcess {
    const conf = join(this.dir, `l3-${h.name}.conf`);
    writeFileSync(
      conf,
      `${this.common()}host = ${h.name}\nsend_arp_for_ha = 1\n` +
        (h.l2 === 'openvswitch' ? 'interface_driver = openvswitch\n' : '') +
        `[agent]\nreport_interval = 1\nhost_namespace = ${h.netns}\n` +
        (h.l2 === 'openvswitch' ? `[ovs]\ndatapath_type = netdev\novsdb_connection = ${h.ovsdb}\n` : ''),
    );
    const agent = ServerProcess.spawn(['node', BIN, 'agent', 'l3', '--config-file', conf]);
    this.l3Agents.set(h.name, agent);
    return agent;
  }

  /** The world beyond a router's gateway: a namespace `<prefix>-outside` on the lab's provider
   * network (where a flat external network on physnet1 lies), holding `cidr` (e.g. the external
   * subnet's gateway address) on its eth0. Removed with the lab. */
  async addOutside(cidr: string): Promise<string> {
    return this.topology.addOutside(cidr);
  }

  /** The external network `public`: flat on the lab's provider network (physnet1), its subnet
   * 203.0.113.0/24 without DHCP, gateway `gateway` (outside's address, see addOutside). */
  async externalNetwork(gateway = '203.0.113.1'): Promise<Json> {
    const ext = await this.create('network', {
      name: 'public',
      'router:external': true,
      'provider:network_type': 'flat',
      'provider:physical_network': 'physnet1',
    });
    await this.create('subnet', {
      network_id: ext.id,
      cidr: '203.0.113.0/24',
      ip_version: 4,
      gateway_ip: gateway,
      enable_dhcp: false,
      allocation_pools: [{ start: '203.0.113.10', end: '203.0.113.250' }],
    });
    return ext;
  }

  async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const r = await fetch(`${this.url}/v2.0/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : {} };
  }

  async create(kind: string, body: Json): Promise<Json> {
    const r = await this.api('POST', `${kind.replace(/_/g, '-')}s`, { [kind]: body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body[kind];
  }

  /** A network with one IPv4 subnet. */
  async network(name: string, cidr: string): Promise<{ network: Json; subnet: Json }> {
    const network = await this.create('network', { name });
    const subnet = await this.create('subnet', { network_id: network.id, cidr, ip_version: 4 });
    return { network, subnet };
  }

  /** `neutrino vif plug`: the port's VM namespace on `host`; resolves once the port is ACTIVE. */
  async plug(portId: string, h: LabHost, vm: string, timeoutSec = 30): Promise<Json> {
    const r = await this.neutrino([
      'vif',
      'plug',
      portId,
      '--host',
      h.name,
      '--netns',
      this.topology.vmNetns(vm),
      '--host-netns',
      h.netns,
      '--url',
      this.url,
      '--timeout',
      String(timeoutSec),
      ...(h.ovsdb ? ['--ovsdb', h.ovsdb] : []),
    ]);
    assert.equal(r.code, 0, `vif plug: ${r.stderr}\n${this.agentLogs()}`);
    return JSON.parse(r.stdout);
  }

  neutrino(args: string[]): Promise<RunResult> {
    return run('node', [BIN, ...args], { timeoutMs: 90_000 });
  }

  /** Whether `vm` gets an answer to one ping of `address`. */
  async ping(vm: string, address: string): Promise<boolean> {
    const r = await execRunner('ip', ['netns', 'exec', this.topology.vmNetns(vm), 'ping', '-c1', '-W1', '-q', address]);
    return r.code === 0;
  }

  agentLogs(): string {
    return [
      ...this.agents,
      ...[...this.dhcpAgents].map(([h, a]) => [`${h} (DHCP)`, a] as const),
      ...[...this.l3Agents].map(([h, a]) => [`${h} (L3)`, a] as const),
    ]
      .map(([h, a]) => `--- agent ${h}:\n${a.log}`)
      .join('\n');
  }

  async stop(): Promise<void> {
    await Promise.allSettled(
      [...this.agents.values(), ...this.dhcpAgents.values(), ...this.l3Agents.values()].map((a) => a.stop()),
    );
    await this.server?.stop().catch(() => undefined);
    if (this.brokerStarted) await run('bash', [RABBIT, 'stop', join(this.dir, 'broker')], { timeoutMs: 60_000 });
    await this.topology.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
