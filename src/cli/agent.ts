// `neutrino agent <kind>`: one agent process of this host, talking to the server over the bus of
// `[DEFAULT] transport_url` (RabbitMQ: an agent in its own process needs a broker to reach the server).
import { hostname } from 'node:os';
import { L2Agent, type L2Backend } from '../agents/common/l2-agent.js';
import { FirewallDriverError, firewallKind } from '../agents/firewall/index.js';
import { LinuxBridgeBackend, type LinuxBridgeBackendOptions } from '../agents/linuxbridge/backend.js';
import { NoopBackend } from '../agents/noop/backend.js';
import { type Config, ConfigError, opt } from '../config/load.js';
import { openTransport, stderrLogger } from '../rpc/index.js';

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

/** Runs an L2 agent with `backend` until SIGINT/SIGTERM. */
async function runL2Agent(cfg: Config, binary: string, backend: (log: (msg: string) => void) => L2Backend): Promise<void> {
  if (!opt.strOrNull(cfg, 'DEFAULT', 'transport_url')) {
    throw new ConfigError(
      '[DEFAULT] transport_url is required: an agent process reaches the server through RabbitMQ (rabbit://…)',
    );
  }
  const log = (msg: string) => process.stderr.write(`${binary}: ${msg}\n`);
  const transport = await openTransport(cfg, { log: stderrLogger });
  const agent = new L2Agent(transport, backend(log), {
    host: agentHost(cfg),
    agentType: AGENT_TYPE_LINUXBRIDGE,
    binary,
    reportIntervalSec: opt.int(cfg, 'agent', 'report_interval'),
    pollingIntervalSec: opt.int(cfg, 'agent', 'polling_interval'),
    availabilityZone: opt.str(cfg, 'agent', 'availability_zone'),
    log,
  });
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
