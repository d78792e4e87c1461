// `neutrino agent <kind>`: one agent process of this host, talking to the server over the bus of
// `[DEFAULT] transport_url` (RabbitMQ: an agent in its own process needs a broker to reach the server).
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { type InterfaceDriver, OvsVethInterfaceDriver, VethInterfaceDriver } from '../agents/common/interface.js';
import { L2Agent, type L2AgentOptions, type L2Backend } from '../agents/common/l2-agent.js';
import { DhcpAgent, type DhcpAgentOptions } from '../agents/dhcp/agent.js';
import { FirewallDriverError, firewallKind } from '../agents/firewall/index.js';
import { L3Agent, type L3AgentOptions } from '../agents/l3/agent.js';
import { LinuxBridgeBackend, type LinuxBridgeBackendOptions } from '../agents/linuxbridge/backend.js';
import { NoopBackend } from '../agents/noop/backend.js';
import { AGENT_TYPE_OVS, OvsBackend, type OvsBackendOptions } from '../agents/openvswitch/backend.js';
import { TUNNEL_TYPES } from '../agents/openvswitch/names.js';
import { type Config, ConfigError, opt } from '../config/load.js';
import { openTransport, stderrLogger, type Transport } from '../rpc/index.js';

const AGENT_TYPE_LINUXBRIDGE = 'Linux bridge agent';

/** `<physnet>:<value>` list options as a mapping. */
export function mappings(cfg: Config, section: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of opt.list(cfg, section, name)) {
    const i = entry.indexOf(':');
    if (i <= 0 || i === entry.length - 1) throw new ConfigError(`[${section}] ${name}: '${entry}' is not <physnet>:<value>`);
    out[entry.slice(0, i).trim()] = entry.slice(i + 1).trim();
  }
  return out;
}

/** What a Linux bridge agent reports about itself (Neutron's configurations keys). */
export function linuxbridgeConfigurations(cfg: Config): Record<string, unknown> {
  const localIp = opt.strOrNull(cfg, 'vxlan', 'local_ip');
  const vxlan = opt.bool(cfg, 'vxlan', 'enable_vxlan') && !!localIp;
  return {
    interface_mappings: mappings(cfg, 'linux_bridge', 'physical_interface_mappings'),
    bridge_mappings: mappings(cfg, 'linux_bridge', 'bridge_mappings'),
    tunnel_types: vxlan ? ['vxlan'] : [],
    tunneling_ip: localIp,
    l2_population: opt.bool(cfg, 'vxlan', 'l2_population'),
  };
}

export function agentHost(cfg: Config): string {
  return opt.strOrNull(cfg, 'DEFAULT', 'host') ?? hostname();
}

/** An agent that starts and stops (L2, DHCP …). */
export interface RunnableAgent {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs the agent `make` builds on the configured bus until SIGINT/SIGTERM. */
async function runAgent(
  cfg: Config,
  binary: string,
  make: (transport: Transport, log: (msg: string) => void) => RunnableAgent,
): Promise<void> {
  if (!opt.strOrNull(cfg, 'DEFAULT', 'transport_url')) {
    throw new ConfigError(
      '[DEFAULT] transport_url is required: an agent process reaches the server through RabbitMQ (rabbit://…)',
    );
  }
  const log = (msg: string) => process.stderr.write(`${binary}: ${msg}\n`);
  const transport = await openTransport(cfg, { log: stderrLogger });
  const agent = make(transport, log);
  await agent.start();
  log(`running on host ${agentHost(cfg)}`);
  const stop = async () => {
    await agent.stop();
    await transport.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Runs an L2 agent with `backend` until SIGINT/SIGTERM. */
function runL2Agent(
  cfg: Config,
  binary: string,
  backend: (log: (msg: string) => void) => L2Backend,
  agentType = AGENT_TYPE_LINUXBRIDGE,
): Promise<void> {
  return runAgent(
    cfg,
    binary,
    (transport, log) => new L2Agent(transport, backend(log), l2AgentOptions(cfg, binary, log, agentType)),
  );
}

/** The L2 agent's settings from the configuration. */
export function l2AgentOptions(
  cfg: Config,
  binary: string,
  log?: (msg: string) => void,
  agentType = AGENT_TYPE_LINUXBRIDGE,
): L2AgentOptions {
  return {
    host: agentHost(cfg),
    agentType,
    binary,
    reportIntervalSec: opt.int(cfg, 'agent', 'report_interval'),
    pollingIntervalSec: opt.int(cfg, 'agent', 'polling_interval'),
    availabilityZone: opt.str(cfg, 'agent', 'availability_zone'),
    log,
  };
}

/** `[agent] host_namespace`, checked. */
export function hostNamespace(cfg: Config): string {
  const ns = opt.str(cfg, 'agent', 'host_namespace');
  if (ns && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}$/.test(ns)) {
    throw new ConfigError(`[agent] host_namespace: '${ns}' is not a network namespace name (at most 41 characters)`);
  }
  return ns;
}

/** `[DEFAULT] interface_driver`: how the DHCP (and L3) agents plug their ports on this host — a veth
 * whose tap the Linux bridge agent wires, or whose host end goes on the integration bridge. */
export function interfaceDriver(cfg: Config): InterfaceDriver {
  const name = opt.str(cfg, 'DEFAULT', 'interface_driver');
  if (name !== 'openvswitch' && !name.endsWith('OVSInterfaceDriver')) return new VethInterfaceDriver();
  const ovsdb = opt.str(cfg, 'ovs', 'ovsdb_connection');
  if (!/^(unix:\/.+|tcp:.+:\d+)$/.test(ovsdb))
    throw new ConfigError(`[ovs] ovsdb_connection: '${ovsdb}' is not unix:/PATH or tcp:HOST:PORT`);
  const bridge = opt.str(cfg, 'ovs', 'integration_bridge');
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/.test(bridge))
    throw new ConfigError(`[ovs] integration_bridge: '${bridge}' is not a device name`);
  return new OvsVethInterfaceDriver({ ovsdb, bridge, datapathType: opt.str(cfg, 'ovs', 'datapath_type') });
}

/** The DHCP agent's settings from the configuration (Neutron's dhcp_agent.ini options). */
export function dhcpAgentOptions(cfg: Config, log?: (msg: string) => void): DhcpAgentOptions {
  for (const name of ['enable_isolated_metadata', 'force_metadata']) {
    if (opt.bool(cfg, 'DEFAULT', name)) {
      throw new ConfigError(`[DEFAULT] ${name}: the metadata proxy is not implemented in Neutrino; leave it false`);
    }
  }
  const domain = opt.strOrNull(cfg, 'DEFAULT', 'dns_domain');
  if (domain && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9.])?$/.test(domain)) {
    throw new ConfigError(`[DEFAULT] dns_domain: '${domain}' is not a DNS domain`);
  }
  const servers = opt.list(cfg, 'DEFAULT', 'dnsmasq_dns_servers');
  for (const server of servers) {
    if (!isIP(server)) throw new ConfigError(`[DEFAULT] dnsmasq_dns_servers: '${server}' is not an IP address`);
  }
  const path = (name: string, value: string) => {
    if (value && !/^(\/[A-Za-z0-9_.+@-]+)+\/?$/.test(value)) {
      throw new ConfigError(`[DEFAULT] ${name}: '${value}' is not an absolute path of plain characters`);
    }
    return value;
  };
  const confs = path('dhcp_confs', opt.str(cfg, 'DEFAULT', 'dhcp_confs') || `${opt.str(cfg, 'DEFAULT', 'state_path')}/dhcp`);
  return {
    host: agentHost(cfg),
    hostNamespace: hostNamespace(cfg),
    driver: interfaceDriver(cfg),
    confsDir: confs,
    settings: {
      dnsDomain: domain || null,
      leaseDuration: opt.int(cfg, 'DEFAULT', 'dhcp_lease_duration'),
      leaseMax: opt.int(cfg, 'DEFAULT', 'dnsmasq_lease_max'),
      dnsServers: servers,
      localResolv: opt.bool(cfg, 'DEFAULT', 'dnsmasq_local_resolv'),
      renewalTime: opt.int(cfg, 'DEFAULT', 'dhcp_renewal_time'),
      rebindingTime: opt.int(cfg, 'DEFAULT', 'dhcp_rebinding_time'),
      broadcast: opt.bool(cfg, 'DEFAULT', 'dhcp_broadcast_reply'),
      confFile: path('dnsmasq_config_file', opt.str(cfg, 'DEFAULT', 'dnsmasq_config_file')),
    },
    logDir: path('dnsmasq_base_log_dir', opt.strOrNull(cfg, 'DEFAULT', 'dnsmasq_base_log_dir') ?? '') || null,
    reportIntervalSec: opt.int(cfg, 'agent', 'report_interval'),
    resyncIntervalSec: opt.int(cfg, 'DEFAULT', 'resync_interval'),
    numSyncThreads: opt.int(cfg, 'DEFAULT', 'num_sync_threads'),
    checkChildIntervalSec: opt.int(cfg, 'agent', 'check_child_processes_interval'),
    availabilityZone: opt.str(cfg, 'agent', 'availability_zone'),
    log,
  };
}

/** Runs the DHCP agent (a namespace and a dnsmasq per network it serves) until SIGINT/SIGTERM. */
export async function runDhcpAgent(cfg: Config): Promise<void> {
  const options = dhcpAgentOptions(cfg);
  await runAgent(cfg, 'neutrino-dhcp-agent', (transport, log) => new DhcpAgent(transport, { ...options, log }));
}

/** The L3 agent's settings from the configuration (Neutron's l3_agent.ini options). */
export function l3AgentOptions(cfg: Config, log?: (msg: string) => void): L3AgentOptions {
  return {
    host: agentHost(cfg),
    hostNamespace: hostNamespace(cfg),
    driver: interfaceDriver(cfg),
    reportIntervalSec: opt.int(cfg, 'agent', 'report_interval'),
    periodicIntervalSec: opt.int(cfg, 'DEFAULT', 'periodic_interval'),
    numSyncThreads: opt.int(cfg, 'DEFAULT', 'num_sync_threads'),
    garpCount: opt.int(cfg, 'DEFAULT', 'send_arp_for_ha'),
    availabilityZone: opt.str(cfg, 'agent', 'availability_zone'),
    log,
  };
}

/** Runs the L3 agent (a qrouter- namespace per router scheduled here: ports, routes, NAT) until SIGINT/SIGTERM. */
export async function runL3Agent(cfg: Config): Promise<void> {
  const options = l3AgentOptions(cfg);
  await runAgent(cfg, 'neutrino-l3-agent', (transport, log) => new L3Agent(transport, { ...options, log }));
}

/** Runs the protocol-only agent until SIGINT/SIGTERM. */
export async function runNoopAgent(cfg: Config): Promise<void> {
  await runL2Agent(cfg, 'neutrino-noop-agent', () => new NoopBackend(linuxbridgeConfigurations(cfg)));
}

/** `[securitygroup] firewall_driver`, checked (a name this agent cannot honour stops it). */
export function firewallDriverOf(cfg: Config): string {
  const name = opt.str(cfg, 'securitygroup', 'firewall_driver');
  try {
    firewallKind(name, opt.bool(cfg, 'securitygroup', 'enable_security_group'));
  } catch (err) {
    if (err instanceof FirewallDriverError) throw new ConfigError(`[securitygroup] firewall_driver: ${err.message}`);
    throw err;
  }
  return name;
}

/** The Linux bridge backend's settings from the configuration. */
export function linuxbridgeBackendOptions(cfg: Config, log?: (msg: string) => void): LinuxBridgeBackendOptions {
  const configurations = linuxbridgeConfigurations(cfg);
  const namespace = opt.str(cfg, 'linux_bridge', 'namespace');
  if (namespace && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(namespace)) {
    throw new ConfigError(`[linux_bridge] namespace: '${namespace}' is not a network namespace name`);
  }
  return {
    namespace: namespace || undefined,
    localIp: configurations.tunneling_ip as string | null,
    enableVxlan: (configurations.tunnel_types as string[]).includes('vxlan'),
    l2Population: configurations.l2_population as boolean,
    vxlanGroup: opt.str(cfg, 'vxlan', 'vxlan_group') || null,
    interfaceMappings: configurations.interface_mappings as Record<string, string>,
    bridgeMappings: configurations.bridge_mappings as Record<string, string>,
    enableSecurityGroup: opt.bool(cfg, 'securitygroup', 'enable_security_group'),
    firewallDriver: firewallDriverOf(cfg),
    configurations,
    log,
  };
}

/** Runs the Linux bridge agent (bridges, VXLAN, taps, l2population FDB, port security) until SIGINT/SIGTERM. */
export async function runLinuxBridgeAgent(cfg: Config): Promise<void> {
  const options = linuxbridgeBackendOptions(cfg);
  await runL2Agent(cfg, 'neutrino-linuxbridge-agent', (log) => new LinuxBridgeBackend({ ...options, log }));
}

/** What an Open vSwitch agent reports about itself (Neutron's configurations keys). */
export function ovsConfigurations(cfg: Config): Record<string, unknown> {
  const tunnelTypes = opt.list(cfg, 'agent', 'tunnel_types');
  return {
    bridge_mappings: mappings(cfg, 'ovs', 'bridge_mappings'),
    integration_bridge: opt.str(cfg, 'ovs', 'integration_bridge'),
    tunnel_types: tunnelTypes,
    tunneling_ip: opt.strOrNull(cfg, 'ovs', 'local_ip'),
    l2_population: opt.bool(cfg, 'agent', 'l2_population'),
    arp_responder_enabled: opt.bool(cfg, 'agent', 'arp_responder') && opt.bool(cfg, 'agent', 'l2_population'),
    enable_distributed_routing: false,
    log_agent_heartbeats: false,
    extensions: [],
    datapath_type: opt.str(cfg, 'ovs', 'datapath_type'),
    ovs_capabilities: [],
    vhostuser_socket_dir: '/var/run/openvswitch',
    ovs_hybrid_plug: false,
    baremetal_smartnic: false,
  };
}

const hostPorts = (cfg: Config, name: string): string[] => {
  const out = opt.list(cfg, 'ovs', name);
  for (const t of out) {
    const m = /^(.+):(\d{1,5})$/.exec(t);
    if (!m || !isIP(m[1]) || Number(m[2]) < 1 || Number(m[2]) > 65535)
      throw new ConfigError(`[ovs] ${name}: '${t}' is not <IP address>:<port>`);
  }
  return out;
};

/** `[securitygroup] firewall_driver` on an Open vSwitch host: Neutron's native OVS firewall
 * (`openvswitch`, also when the option is left at the Linux bridge agent's default) or noop. The
 * hybrid driver (iptables on a per-port Linux bridge) is not built. */
export function ovsFirewall(cfg: Config): 'openvswitch' | 'noop' {
  if (!opt.bool(cfg, 'securitygroup', 'enable_security_group')) return 'noop';
  const name = opt.str(cfg, 'securitygroup', 'firewall_driver').trim();
  if (['openvswitch', 'neutron.agent.linux.openvswitch_firewall:OVSFirewallDriver', 'nftables'].includes(name))
    return 'openvswitch';
  if (['noop', 'neutron.agent.firewall.NoopFirewallDriver'].includes(name)) return 'noop';
  throw new ConfigError(
    `[securitygroup] firewall_driver: '${name}' is not a firewall driver of the Open vSwitch agent (openvswitch, noop)`,
  );
}

/** The Open vSwitch backend's settings from the configuration. */
export function ovsBackendOptions(cfg: Config, log?: (msg: string) => void): OvsBackendOptions {
  const configurations = ovsConfigurations(cfg);
  const tunnelTypes = configurations.tunnel_types as string[];
  for (const t of tunnelTypes) {
    if (!(TUNNEL_TYPES as readonly string[]).includes(t))
      throw new ConfigError(`[agent] tunnel_types: '${t}' is not one of ${TUNNEL_TYPES.join(', ')}`);
  }
  const localIp = configurations.tunneling_ip as string | null;
  if (localIp !== null && !isIP(localIp)) throw new ConfigError(`[ovs] local_ip: '${localIp}' is not an IP address`);
  if (tunnelTypes.length && !localIp) throw new ConfigError('[agent] tunnel_types needs [ovs] local_ip (the tunnel endpoint)');
  const connection = opt.str(cfg, 'ovs', 'ovsdb_connection');
  if (!/^(unix:\/.+|tcp:.+:\d+)$/.test(connection))
    throw new ConfigError(`[ovs] ovsdb_connection: '${connection}' is not unix:/PATH or tcp:HOST:PORT`);
  const rundir =
    opt.str(cfg, 'ovs', 'ovs_rundir') || (connection.startsWith('unix:') ? dirname(connection.slice(5)) : '/var/run/openvswitch');
  const bridges = [
    opt.str(cfg, 'ovs', 'integration_bridge'),
    opt.str(cfg, 'ovs', 'tunnel_bridge'),
    ...Object.values(configurations.bridge_mappings as Record<string, string>),
  ];
  for (const b of bridges) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/.test(b)) throw new ConfigError(`bridge name '${b}' is not a device name`);
  }
  const sflow = hostPorts(cfg, 'sflow_targets');
  const netflow = hostPorts(cfg, 'netflow_targets');
  return {
    integrationBridge: bridges[0],
    tunnelBridge: bridges[1],
    intPeerPatchPort: opt.str(cfg, 'ovs', 'int_peer_patch_port'),
    tunPeerPatchPort: opt.str(cfg, 'ovs', 'tun_peer_patch_port'),
    bridgeMappings: configurations.bridge_mappings as Record<string, string>,
    localIp,
    tunnelTypes,
    vxlanUdpPort: opt.int(cfg, 'agent', 'vxlan_udp_port'),
    l2Population: configurations.l2_population as boolean,
    arpResponder: configurations.arp_responder_enabled as boolean,
    datapathType: configurations.datapath_type as string,
    dontFragment: opt.bool(cfg, 'agent', 'dont_fragment'),
    portSecurity: opt.bool(cfg, 'securitygroup', 'enable_security_group'),
    firewall: ovsFirewall(cfg),
    sflow: sflow.length
      ? { targets: sflow, sampling: opt.int(cfg, 'ovs', 'sflow_sampling'), polling: opt.int(cfg, 'ovs', 'sflow_polling') }
      : null,
    netflow: netflow.length ? { targets: netflow, activeTimeout: opt.int(cfg, 'ovs', 'netflow_active_timeout') } : null,
    ovsdbConnection: connection,
    rundir,
    ovsdbTimeoutSec: opt.int(cfg, 'ovs', 'ovsdb_timeout'),
    ofTimeoutSec: opt.int(cfg, 'ovs', 'of_request_timeout'),
    probeIntervalSec: opt.int(cfg, 'ovs', 'of_inactivity_probe'),
    canaryIntervalMs: opt.int(cfg, 'agent', 'polling_interval') * 1000,
    configurations,
    log,
  };
}

/** Runs the Open vSwitch agent (br-int, br-tun, physical bridges, flows) until SIGINT/SIGTERM. */
export async function runOvsAgent(cfg: Config): Promise<void> {
  const options = ovsBackendOptions(cfg);
  await runL2Agent(cfg, 'neutrino-openvswitch-agent', (log) => new OvsBackend({ ...options, log }), AGENT_TYPE_OVS);
}

/** The agents `all-in-one --agents` can run in the server's process, by name. */
export const IN_PROCESS_AGENTS: Record<string, (cfg: Config, transport: Transport, log: (msg: string) => void) => RunnableAgent> =
  {
    linuxbridge: (cfg, transport, log) =>
      new L2Agent(
        transport,
        new LinuxBridgeBackend({ ...linuxbridgeBackendOptions(cfg), log }),
        l2AgentOptions(cfg, 'neutrino-linuxbridge-agent', log),
      ),
    openvswitch: (cfg, transport, log) =>
      new L2Agent(
        transport,
        new OvsBackend({ ...ovsBackendOptions(cfg), log }),
        l2AgentOptions(cfg, 'neutrino-openvswitch-agent', log, AGENT_TYPE_OVS),
      ),
    dhcp: (cfg, transport, log) => new DhcpAgent(transport, { ...dhcpAgentOptions(cfg), log }),
    l3: (cfg, transport, log) => new L3Agent(transport, { ...l3AgentOptions(cfg), log }),
  };

/** `--agents a,b`: the names, checked (and their options, so a bad one stops startup at once). */
export function inProcessAgents(cfg: Config, list: string | undefined): string[] {
  const names = (list ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(n in IN_PROCESS_AGENTS)) {
      throw new ConfigError(`--agents: unknown agent '${n}' (${Object.keys(IN_PROCESS_AGENTS).join(', ')})`);
    }
  }
  if (names.includes('linuxbridge') && names.includes('openvswitch')) {
    throw new ConfigError('--agents: one L2 agent per host, linuxbridge or openvswitch');
  }
  if (names.includes('linuxbridge')) linuxbridgeBackendOptions(cfg);
  if (names.includes('openvswitch')) ovsBackendOptions(cfg);
  if (names.includes('dhcp')) dhcpAgentOptions(cfg);
  if (names.includes('l3')) l3AgentOptions(cfg);
  return [...new Set(names)];
}
