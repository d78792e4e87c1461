// `neutrino lab up`: a lab of simulated hosts (topology.ts), its server (noauth, SQLite in the lab's
// state directory) and per host an L2 agent wiring the host's namespace (Linux bridge, or Open vSwitch
// on a host with its own ovsdb-server/ovs-vswitchd: `--l2`), a DHCP agent and an L3 agent whose
// namespaces and taps stand on that host ([agent] host_namespace), and the outside world beyond the
// external network `public` (outside.ts). With
// RabbitMQ installed (labUpProcesses) they are separate processes on a private broker (processes.ts);
// without it (labUp, also what bench/wiring.ts uses) everything runs in this one process on an
// in-process bus. The lab's state file tells `lab vm|exec|down` (other processes) where the API is,
// which namespaces are whose and which PIDs and broker to stop (labCleanup).
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { L2Agent } from '../agents/common/l2-agent.js';
import { DhcpAgent } from '../agents/dhcp/agent.js';
import { L3Agent } from '../agents/l3/agent.js';
import { AGENT_TYPE_LINUXBRIDGE, LinuxBridgeBackend } from '../agents/linuxbridge/backend.js';
import { AGENT_TYPE_OVS, OvsBackend } from '../agents/openvswitch/backend.js';
import { buildNeutrino } from '../app.js';
import { dhcpAgentOptions, l3AgentOptions } from '../cli/agent.js';
import { loadConfig } from '../config/load.js';
import { AGENT_TYPE_DHCP, AGENT_TYPE_L3, openTransport, type Transport } from '../rpc/index.js';
import { type LabOutside, setUpOutside } from './outside.js';
import { PROVIDER_BRIDGE, stopLabOvs } from './ovs.js';
import {
  type LabProcess,
  processAlive,
  spawnNeutrino,
  startBroker,
  stopBroker,
  stopProcesses,
  tail,
  waitFor,
  writeAgentConf,
  writeDhcpAgentConf,
  writeL3AgentConf,
  writeServerConf,
} from './processes.js';
import { destroyLab, L2_KINDS, type L2Kind, type LabHost, LabTopology } from './topology.js';

export interface LabState {
  name: string;
  prefix: string;
  url: string;
  /** The `lab up` process. */
  pid: number;
  hosts: LabHost[];
  /** The transport, as `lab up` states it. */
  transport?: string;
  /** The lab's server and agent processes (RabbitMQ labs), stopped by PID. */
  processes?: LabProcess[];
  /** The private broker's directory (RabbitMQ labs), stopped with scripts/rabbitmq.sh stop. */
  broker?: string;
  /** The outside world and the public network (outside.ts). */
  outside?: LabOutside;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,15}$/;

export function checkLabName(name: string): string {
  if (!NAME.test(name)) throw new Error(`lab name '${name}': 1-16 of [a-z0-9-], starting with a letter or digit`);
  return name;
}

const LABS_DIR = join(tmpdir(), 'neutrino-lab');
export const labDir = (name: string): string => join(LABS_DIR, checkLabName(name));

/** Removes a lab's state directory, and the labs' directory once no lab is left. */
export function removeLabDir(name: string): void {
  rmSync(labDir(name), { recursive: true, force: true });
  try {
    rmdirSync(LABS_DIR);
  } catch {
    // other labs are up
  }
}
export const labPrefix = (name: string): string => `nl-${checkLabName(name)}`;

export function readLabState(name: string): LabState | undefined {
  const file = join(labDir(name), 'lab.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LabState) : undefined;
}

export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops and removes everything of the lab `name`: its `lab up` process, the server and agent
 * processes by PID, the broker, every namespace and the state directory. Idempotent; also cleans up
 * after a `lab up` that crashed or was killed. */
export async function labCleanup(name: string): Promise<void> {
  const dir = labDir(name);
  const state = readLabState(name);
  if (state && state.pid !== process.pid && processAlive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (processAlive(state.pid) && Date.now() < deadline) await sleep(100);
  }
  await stopProcesses(state?.processes ?? []);
  await stopBroker(state?.broker ?? join(dir, 'broker'));
  await stopLabOvs(dir);
  await destroyLab(labPrefix(name));
  removeLabDir(name);
}

/** `--l2`: one kind for every host (`openvswitch`), or per host (`h1=linuxbridge,h2=openvswitch`;
 * hosts not named run linuxbridge). */
export function parseL2(spec: string, hosts: number): L2Kind[] {
  const kind = (k: string): L2Kind => {
    if (!(L2_KINDS as readonly string[]).includes(k)) throw new Error(`--l2: '${k}' is not one of ${L2_KINDS.join(', ')}`);
    return k as L2Kind;
  };
  if (!spec.includes('=')) return Array.from({ length: hosts }, () => kind(spec));
  const out: L2Kind[] = Array.from({ length: hosts }, () => 'linuxbridge');
  for (const part of spec.split(',')) {
    const m = /^h(\d+)=(.+)$/.exec(part.trim());
    if (!m || Number(m[1]) < 1 || Number(m[1]) > hosts) throw new Error(`--l2: '${part}' is not h<1..${hosts}>=<kind>`);
    out[Number(m[1]) - 1] = kind(m[2]);
  }
  return out;
}

const writeState = (state: LabState): void =>
  writeFileSync(join(labDir(state.name), 'lab.json'), `${JSON.stringify(state, null, 2)}\n`);

export interface ProcessLab {
  state: LabState;
  stop(): Promise<void>;
}

/** The lab as separate processes on a private RabbitMQ broker; stop() takes all of it down again. */
export async function labUpProcesses({ name, hosts, port, l2, log = () => undefined }: LabOptions): Promise<ProcessLab> {
  const prior = readLabState(name);
  if (prior && pidAlive(prior.pid)) throw new Error(`lab ${name} is already up (pid ${prior.pid}); 'neutrino lab down' first`);
  await labCleanup(name); // leftovers of a lab whose `lab up` was killed
  const dir = labDir(name);
  mkdirSync(dir, { recursive: true });
  const prefix = labPrefix(name);
  const topology = new LabTopology(prefix, dir);
  const url = `http://127.0.0.1:${port}`;
  const broker = join(dir, 'broker');
  const state: LabState = { name, prefix, url, pid: process.pid, hosts: topology.hosts, processes: [], broker };
  const procs = state.processes as LabProcess[];
  writeState(state);
  const stop = () => labCleanup(name);
  const exited = (p: LabProcess) => (processAlive(p.pid) ? undefined : `${p.name} exited:\n${tail(dir, p.name)}`);
  try {
    await topology.createUnderlay();
    for (let i = 1; i <= hosts; i++) await topology.addHost(i, `h${i}`, l2?.[i - 1]);
    writeState(state);
    log(`lab ${name}: starting a private RabbitMQ broker in ${broker}`);
    const transportUrl = await startBroker(broker);
    state.transport = `RabbitMQ ${transportUrl} (private broker, ${broker})`;
    log(`lab ${name}: broker up (${transportUrl})`);
    const server = spawnNeutrino(dir, 'server', ['all-in-one', '--config-file', writeServerConf(dir, transportUrl, port)]);
    procs.push(server);
    writeState(state);
    log(`lab ${name}: starting the server (pid ${server.pid}, log ${join(dir, 'server.log')})`);
    await waitFor(
      'the lab server',
      async () => (await fetch(`${url}/v2.0/networks`)).ok,
      () => exited(server),
    );
    log(`lab ${name}: server up on ${url}`);
    for (const h of topology.hosts) {
      const l2 = spawnNeutrino(dir, `agent-${h.name}`, [
        'agent',
        h.l2 ?? 'linuxbridge',
        '--config-file',
        writeAgentConf(dir, transportUrl, h),
      ]);
      const dhcp = spawnNeutrino(dir, `dhcp-${h.name}`, [
        'agent',
        'dhcp',
        '--config-file',
        writeDhcpAgentConf(dir, transportUrl, h),
      ]);
      const l3 = spawnNeutrino(dir, `l3-${h.name}`, ['agent', 'l3', '--config-file', writeL3AgentConf(dir, transportUrl, h)]);
      procs.push(l2, dhcp, l3);
      writeState(state);
      log(
        `lab ${name}: starting host ${h.name}'s ${h.l2 ?? 'linuxbridge'} agent (pid ${l2.pid}), DHCP agent (pid ${dhcp.pid}) and L3 agent (pid ${l3.pid})`,
      );
    }
    const reported = new Set<string>();
    await waitFor(
      'the lab agents',
      async () => {
        const r = await fetch(`${url}/v2.0/agents`);
        const agents = ((await r.json()) as { agents: LabAgentRow[] }).agents;
        for (const a of agents) {
          const key = `${a.host}/${a.agent_type}`;
          if (a.alive && !reported.has(key)) {
            reported.add(key);
            log(`lab ${name}: ${a.agent_type} of host ${a.host} registered`);
          }
        }
        return topology.hosts.every((h) =>
          labAgentTypes(h).every((t) => agents.some((a) => a.host === h.name && a.agent_type === t && a.alive)),
        );
      },
      () => procs.map(exited).find((why) => why !== undefined),
    );
    state.outside = await setUpOutside(topology, url);
    writeState(state);
    log(
      `lab ${name}: external network public (${state.outside.network_id}) and namespace ${state.outside.netns} (${state.outside.address})`,
    );
    return { state, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface LabAgentRow {
  host: string;
  agent_type: string;
  alive: boolean;
}

/** The agents a lab host runs: its L2 agent, a DHCP agent and an L3 agent. */
export const labAgentTypes = (h: LabHost): string[] => [
  h.l2 === 'openvswitch' ? AGENT_TYPE_OVS : AGENT_TYPE_LINUXBRIDGE,
  AGENT_TYPE_DHCP,
  AGENT_TYPE_L3,
];

export interface LabOptions {
  name: string;
  hosts: number;
  port: number;
  /** Each host's L2 agent (default: linuxbridge everywhere). */
  l2?: L2Kind[];
  log?: (msg: string) => void;
}

export interface LabAgent {
  agent: L2Agent;
  backend: LinuxBridgeBackend | OvsBackend;
  transport: Transport;
}

export interface RunningLab {
  state: LabState;
  /** The agent of each host, by host name (benchmarks read their reconcile counts). */
  agents: Map<string, LabAgent>;
  /** The DHCP agent of each host, by host name (benchmarks read their reload counts). */
  dhcpAgents: Map<string, DhcpAgent>;
  /** Stops a host's agent and starts a new one on the same host (as a restart would). */
  restartAgent(host: string): Promise<LabAgent>;
  stop(): Promise<void>;
}

/** Builds the lab and starts its server and agents; stop() takes all of it down again. */
export async function labUp({ name, hosts, port, l2, log = () => undefined }: LabOptions): Promise<RunningLab> {
  const prior = readLabState(name);
  if (prior && pidAlive(prior.pid)) throw new Error(`lab ${name} is already up (pid ${prior.pid}); 'neutrino lab down' first`);
  const prefix = labPrefix(name);
  await labCleanup(name); // leftovers of a lab whose process was killed
  const dir = labDir(name);
  mkdirSync(dir, { recursive: true });
  const topology = new LabTopology(prefix, dir);
  const bus = `local://neutrino-lab-${name}`;
  const transports: Transport[] = [];
  const agents = new Map<string, LabAgent>();
  let server: Awaited<ReturnType<typeof buildNeutrino>> | undefined;
  const startAgent = async (h: LabHost): Promise<LabAgent> => {
    const transport = await openTransport(bus);
    transports.push(transport);
    const agentLog = (m: string) => log(`agent ${h.name}: ${m}`);
    let backend: LinuxBridgeBackend | OvsBackend;
    if (h.l2 === 'openvswitch') {
      const configurations = {
        bridge_mappings: { physnet1: PROVIDER_BRIDGE },
        integration_bridge: 'br-int',
        tunnel_types: ['vxlan', 'geneve', 'gre'],
        tunneling_ip: h.localIp,
        l2_population: true,
        arp_responder_enabled: true,
        datapath_type: 'netdev',
      };
      backend = new OvsBackend({
        integrationBridge: 'br-int',
        tunnelBridge: 'br-tun',
        intPeerPatchPort: 'patch-tun',
        tunPeerPatchPort: 'patch-int',
        bridgeMappings: { physnet1: PROVIDER_BRIDGE },
        localIp: h.localIp,
        tunnelTypes: ['vxlan', 'geneve', 'gre'],
        vxlanUdpPort: 4789,
        l2Population: true,
        arpResponder: true,
        datapathType: 'netdev',
        dontFragment: true,
        portSecurity: true,
        firewall: 'openvswitch',
        ovsdbConnection: h.ovsdb!,
        rundir: h.ovsRundir!,
        ovsdbTimeoutSec: 10,
        ofTimeoutSec: 30,
        probeIntervalSec: 10,
        canaryIntervalMs: 2000,
        configurations,
        log: agentLog,
      });
    } else {
      // physnet1 (the public network's) is the host's eth1, as in the agent processes' config.
      const interfaceMappings = { physnet1: h.provider };
      const configurations = {
        interface_mappings: interfaceMappings,
        bridge_mappings: {},
        tunnel_types: ['vxlan'],
        tunneling_ip: h.localIp,
        l2_population: true,
      };
      backend = new LinuxBridgeBackend({
        namespace: h.netns,
        localIp: h.localIp,
        enableVxlan: true,
        l2Population: true,
        interfaceMappings,
        bridgeMappings: {},
        enableSecurityGroup: true,
        configurations,
        log: agentLog,
      });
    }
    const ovs = h.l2 === 'openvswitch';
    const agent = new L2Agent(transport, backend, {
      host: h.name,
      agentType: ovs ? AGENT_TYPE_OVS : AGENT_TYPE_LINUXBRIDGE,
      binary: ovs ? 'neutrino-openvswitch-agent' : 'neutrino-linuxbridge-agent',
      reportIntervalSec: 10,
      pollingIntervalSec: 2,
      log: agentLog,
    });
    await agent.start();
    const entry = { agent, backend, transport };
    agents.set(h.name, entry);
    return entry;
  };
  const dhcpAgents = new Map<string, DhcpAgent>();
  const l3Agents: L3Agent[] = [];
  /** The host's DHCP and L3 agents, configured as the agent processes' files say (processes.ts). */
  const startHostAgents = async (h: LabHost): Promise<void> => {
    const hostCfg = loadConfig(
      [],
      [
        ['DEFAULT', 'host', h.name],
        ['DEFAULT', 'state_path', join(dir, h.name)],
        ['agent', 'host_namespace', h.netns],
        ['agent', 'report_interval', '10'],
        ...(h.l2 === 'openvswitch'
          ? ([
              ['DEFAULT', 'interface_driver', 'openvswitch'],
              ['ovs', 'datapath_type', 'netdev'],
              ['ovs', 'ovsdb_connection', h.ovsdb],
            ] as Array<[string, string, unknown]>)
          : []),
      ],
    );
    const transport = await openTransport(bus);
    transports.push(transport);
    const agent = new DhcpAgent(transport, { ...dhcpAgentOptions(hostCfg), log: (m) => log(`DHCP agent ${h.name}: ${m}`) });
    await agent.start();
    dhcpAgents.set(h.name, agent);
    const l3Transport = await openTransport(bus);
    transports.push(l3Transport);
    const l3 = new L3Agent(l3Transport, { ...l3AgentOptions(hostCfg), log: (m) => log(`L3 agent ${h.name}: ${m}`) });
    await l3.start();
    l3Agents.push(l3);
  };
  const stop = async () => {
    await Promise.allSettled([...dhcpAgents.values(), ...l3Agents].map((a) => a.stop()));
    await Promise.allSettled([...agents.values()].map((a) => a.agent.stop()));
    await Promise.allSettled(transports.map((t) => t.close()));
    await server?.close().catch(() => undefined);
    await topology.destroy();
    removeLabDir(name);
  };
  try {
    await topology.createUnderlay();
    for (let i = 1; i <= hosts; i++) await topology.addHost(i, `h${i}`, l2?.[i - 1]);
    const cfg = loadConfig(
      [],
      [
        ['DEFAULT', 'bind_host', '127.0.0.1'],
        ['DEFAULT', 'bind_port', String(port)],
        ['DEFAULT', 'state_path', dir],
        ['DEFAULT', 'auth_strategy', 'noauth'],
        ['DEFAULT', 'transport_url', bus],
        ['ml2', 'mechanism_drivers', 'linuxbridge,openvswitch,l2population'],
        ['ml2', 'tenant_network_types', 'vxlan'],
        ['ml2_type_vxlan', 'vni_ranges', '1000:1999'],
      ],
    );
    server = await buildNeutrino(cfg, { migrate: true, logger: false });
    await server.app.listen({ host: '127.0.0.1', port });
    const url = `http://127.0.0.1:${port}`;
    log(`lab ${name}: server up on ${url} (in this process)`);
    for (const h of topology.hosts) {
      await startAgent(h);
      await startHostAgents(h);
      log(`lab ${name}: host ${h.name}'s ${h.l2 ?? 'linuxbridge'} agent, DHCP agent and L3 agent started`);
    }
    const state: LabState = {
      name,
      prefix,
      url,
      pid: process.pid,
      hosts: topology.hosts,
      transport: `in-process bus ${bus} (server and agents in this process)`,
      outside: await setUpOutside(topology, url),
    };
    writeState(state);
    const restartAgent = async (host: string): Promise<LabAgent> => {
      const old = agents.get(host);
      const h = topology.hosts.find((x) => x.name === host);
      if (!old || !h) throw new Error(`no agent on host ${host}`);
      await old.agent.stop();
      await old.transport.close();
      return startAgent(h);
    };
    return { state, agents, dhcpAgents, restartAgent, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
