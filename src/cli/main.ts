// The `neutrino` command: server, all-in-one, agent, db upgrade. With `[DEFAULT] api_workers = N > 1`
// the server runs as a supervising primary and N worker processes sharing the port (node:cluster);
// each worker runs this same command line and takes the worker branch of `serve`.

import cluster from 'node:cluster';
import { Command, Option } from 'commander';
import pino from 'pino';
import { apiWorkers, buildNeutrino, databaseUrl, NOT_UP_TO_DATE, openConfiguredDatabase } from '../app.js';
import { type Config, ConfigError, loadConfig, opt } from '../config/load.js';
import { DatabaseUrlError } from '../db/connection.js';
import { isUpToDate, upgrade } from '../db/migrations.js';
import type { Registry } from '../resources/registry.js';
import { redactUrl } from '../rpc/amqp/url.js';
import { VERSION } from '../version.js';
import {
  IN_PROCESS_AGENTS,
  inProcessAgents,
  runDhcpAgent,
  runL3Agent,
  runLinuxBridgeAgent,
  runNoopAgent,
  runOvsAgent,
} from './agent.js';
import { registerLabCommands } from './lab.js';
import { prettyStream } from './pretty-log.js';
import { plugVif, unplugVif, VifError } from './vif.js';
import { superviseWorkers } from './workers.js';

interface CommonFlags {
  configFile: string[];
  host?: string;
  bindHost?: string;
  bindPort?: string;
  connection?: string;
  authStrategy?: string;
  statePath?: string;
  transportUrl?: string;
  debug?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** What an agent process takes: its configuration, the bus and the host it serves. */
function withAgentFlags(cmd: Command): Command {
  return cmd
    .option('--config-file <file>', 'neutron.conf-style file (agent sections); repeatable, later files override', collect, [])
    .option('--transport-url <url>', '[DEFAULT] transport_url: the RabbitMQ the server listens on, rabbit://user:pass@host:5672/')
    .option('--host <name>', '[DEFAULT] host: the host name ports are bound to')
    .option('--debug', '[DEFAULT] debug');
}

function withCommonFlags(cmd: Command): Command {
  return cmd
    .option('--config-file <file>', 'neutron.conf-style file; repeatable, later files override', collect, [])
    .option('--bind-host <host>', '[DEFAULT] bind_host')
    .option('--bind-port <port>', '[DEFAULT] bind_port')
    .option('--connection <url>', '[database] connection, e.g. sqlite:////var/lib/neutrino/neutrino.sqlite')
    .addOption(new Option('--auth-strategy <strategy>', '[DEFAULT] auth_strategy').choices(['noauth', 'keystone']))
    .option('--state-path <dir>', '[DEFAULT] state_path')
    .option('--debug', '[DEFAULT] debug');
}

function configFrom(flags: CommonFlags, presets: Array<[string, string, unknown]> = []): Config {
  const overrides: Array<[string, string, unknown]> = [];
  if (flags.bindHost !== undefined) overrides.push(['DEFAULT', 'bind_host', flags.bindHost]);
  if (flags.bindPort !== undefined) overrides.push(['DEFAULT', 'bind_port', flags.bindPort]);
  if (flags.connection !== undefined) overrides.push(['database', 'connection', flags.connection]);
  if (flags.authStrategy !== undefined) overrides.push(['DEFAULT', 'auth_strategy', flags.authStrategy]);
  if (flags.statePath !== undefined) overrides.push(['DEFAULT', 'state_path', flags.statePath]);
  if (flags.debug) overrides.push(['DEFAULT', 'debug', true]);
  if (flags.host !== undefined) overrides.push(['DEFAULT', 'host', flags.host]);
  if (flags.transportUrl !== undefined) overrides.push(['DEFAULT', 'transport_url', flags.transportUrl]);
  return loadConfig(flags.configFile, overrides, presets);
}

async function serve(cfg: Config, migrate: boolean, agents: string[] = []): Promise<void> {
  const workers = apiWorkers(cfg);
  if (agents.length && workers > 1) {
    throw new ConfigError(`--agents runs agents in the server's process: it needs api_workers = 1 (not ${workers})`);
  }
  if (workers > 1 && cluster.isPrimary) {
    // The primary prepares the database once, then only supervises the workers.
    const database = await openConfiguredDatabase(cfg);
    try {
      if (migrate) await upgrade(database.db);
      else if (!(await isUpToDate(database.db))) throw new ConfigError(NOT_UP_TO_DATE);
    } finally {
      await database.close();
    }
    await superviseWorkers(workers, `${opt.str(cfg, 'DEFAULT', 'bind_host')}:${opt.int(cfg, 'DEFAULT', 'bind_port')}`);
    return;
  }
  // A terminal gets lines for the eye; anything else pino's JSON, on an asynchronous stdout: lines
  // written while a write is in flight go out together, one system call for many access-log lines.
  const json = process.stdout.isTTY ? undefined : pino.destination({ dest: 1, sync: false });
  const stream = json ?? prettyStream();
  const logger = { level: opt.bool(cfg, 'DEFAULT', 'debug') ? 'debug' : 'info', stream };
  // A worker's database was prepared by the primary.
  const neutrino = await buildNeutrino(cfg, { migrate: migrate && cluster.isPrimary, logger });
  const host = opt.str(cfg, 'DEFAULT', 'bind_host');
  const port = opt.int(cfg, 'DEFAULT', 'bind_port');
  await neutrino.app.listen({ host, port });
  neutrino.app.log.info(startupLine(cfg, `http://${host.includes(':') ? `[${host}]` : host}:${port}`, neutrino.registry));
  // This host's agents, on the server's own bus (in-process unless transport_url says otherwise).
  const running = agents.map((name) => {
    const log = (msg: string) => neutrino.app.log.info(`${name} agent: ${msg}`);
    return IN_PROCESS_AGENTS[name](cfg, neutrino.transport, log);
  });
  for (const a of running) await a.start();
  if (agents.length) neutrino.app.log.info(`agents running in this process: ${agents.join(', ')}`);
  const stop = async (signal: string) => {
    neutrino.app.log.info(`${signal}: stopping (in-flight requests finish first)`);
    await Promise.allSettled(running.map((a) => a.stop()));
    await neutrino.close();
    neutrino.app.log.info('stopped');
    json?.flushSync();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/** What a server states when it starts: where it listens, its database, its bus, its auth, its extensions. */
function startupLine(cfg: Config, url: string, registry: Registry): string {
  const db = databaseUrl(cfg).replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  const transport = opt.strOrNull(cfg, 'DEFAULT', 'transport_url');
  const bus = transport ? `RabbitMQ ${redactUrl(transport)}` : 'in-process (agents in this process only)';
  const extensions = registry.extensions.map((e) => e.alias);
  return (
    `neutrino ${VERSION} serving the Networking API on ${url} — database ${db}; bus ${bus}; ` +
    `auth_strategy ${opt.str(cfg, 'DEFAULT', 'auth_strategy')}; ${extensions.length} extensions: ${extensions.join(', ')}`
  );
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('neutrino')
    .description('OpenStack Networking (Neutron) API and agents')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError();

  withCommonFlags(program.command('server').description('the API server (neutron-server)')).action(async (flags: CommonFlags) => {
    await serve(configFrom(flags), false);
  });

  withCommonFlags(
    program
      .command('all-in-one')
      .description(
        'the API server with embedded defaults (SQLite in $NEUTRINO_HOME or ~/.neutrino, migrations applied); ' +
          'with --agents, also this host’s agents in the same process (they change the host’s network: off by default)',
      )
      .option(
        '--agents <list>',
        `agents to run in this process on the server's bus, comma-separated: ${Object.keys(IN_PROCESS_AGENTS).join(', ')}`,
      ),
  ).action(async (flags: CommonFlags & { agents?: string }) => {
    const home = process.env.NEUTRINO_HOME ?? `${process.env.HOME ?? '/tmp'}/.neutrino`;
    const cfg = configFrom(flags, [['DEFAULT', 'state_path', home]]);
    await serve(cfg, true, inProcessAgents(cfg, flags.agents));
  });

  const agent = program
    .command('agent')
    .description("one of this host's agents, in its own process, reaching the server over RabbitMQ (--transport-url)");
  withAgentFlags(
    agent
      .command('noop')
      .description(
        'an L2 agent that speaks the whole agent protocol (registers, heartbeats, reports devices) but touches no kernel state',
      ),
  ).action(async (flags: CommonFlags) => {
    await runNoopAgent(configFrom(flags));
  });
  withAgentFlags(
    agent
      .command('linuxbridge')
      .description(
        'the Linux bridge agent: a bridge per network, VXLAN with l2population FDB entries, taps, port security in nftables (root)',
      ),
  ).action(async (flags: CommonFlags) => {
    await runLinuxBridgeAgent(configFrom(flags));
  });
  withAgentFlags(
    agent
      .command('openvswitch')
      .description(
        'the Open vSwitch agent: br-int with a local VLAN per network, br-tun (VXLAN/GRE/Geneve tunnels, l2population, ARP responder), physical bridges, security groups as the native OVS firewall, flows in OpenFlow bundles; OVSDB spoken natively',
      ),
  ).action(async (flags: CommonFlags) => {
    await runOvsAgent(configFrom(flags));
  });
  withAgentFlags(
    agent
      .command('dhcp')
      .description(
        'the DHCP agent: for each network scheduled to this host, a qdhcp- namespace with the DHCP port and one dnsmasq serving its ports’ fixed addresses, routes, DNS and options (root)',
      ),
  ).action(async (flags: CommonFlags) => {
    await runDhcpAgent(configFrom(flags));
  });
  withAgentFlags(
    agent
      .command('l3')
      .description(
        'the L3 agent (legacy routers): for each router scheduled to this host, a qrouter- namespace with its interfaces (qr-) and gateway (qg-), routes, SNAT and floating IPs in nftables (root)',
      ),
  ).action(async (flags: CommonFlags) => {
    await runL3Agent(configFrom(flags));
  });

  const vif = program
    .command('vif')
    .description('what Nova/os-vif does for a VM port: a tap on this host, the VM end in a namespace');
  const vifFlags = (cmd: Command) =>
    cmd
      .requiredOption('--host <name>', 'binding:host_id: the host (agent) the port is bound to')
      .option('--netns <ns>', "the VM's network namespace (created if missing)")
      .option('--host-netns <ns>', "the simulated host's namespace where the tap goes (default: this host)")
      .option('--url <url>', 'the Networking API', 'http://127.0.0.1:9696')
      .option('--token <token>', 'X-Auth-Token (default: $OS_TOKEN; none with noauth)')
      .option('--ovsdb <connection>', "the host's ovsdb-server, for ports bound to Open vSwitch (unix:PATH or tcp:HOST:PORT)");
  interface VifFlags {
    host: string;
    netns?: string;
    hostNetns?: string;
    url: string;
    token?: string;
    timeout: string;
    deviceId?: string;
    keepBinding?: boolean;
    ovsdb?: string;
  }
  const vifOptions = (f: VifFlags) => ({
    url: f.url,
    token: f.token ?? process.env.OS_TOKEN,
    host: f.host,
    netns: f.netns,
    hostNetns: f.hostNetns,
    timeoutMs: Number(f.timeout) * 1000,
    deviceId: f.deviceId,
    keepBinding: f.keepBinding,
    ovsdb: f.ovsdb,
  });
  vifFlags(vif.command('plug <port>').description('create the tap, bind the port to the host, wait until it is ACTIVE'))
    .option('--timeout <seconds>', 'how long to wait for ACTIVE (0: do not wait)', '60')
    .option('--device-id <id>', 'device_id when the port has none (default: a new UUID)')
    .action(async (port: string, f: VifFlags) => {
      console.log(JSON.stringify(await plugVif(port, vifOptions(f))));
    });
  vifFlags(vif.command('unplug <port>').description('delete the tap and unbind the port'))
    .option('--keep-binding', 'leave the binding in place')
    .action(async (port: string, f: VifFlags) => {
      await unplugVif(port, vifOptions({ ...f, timeout: '0' }));
    });

  registerLabCommands(program);

  withCommonFlags(
    program
      .command('openapi')
      .description('print the OpenAPI 3 document of the API this configuration serves (also GET /v2.0/openapi.json)'),
  ).action(async (flags: CommonFlags) => {
    const cfg = configFrom(flags);
    // The document depends on the configuration, not on the data: a throw-away database and bus.
    cfg.database.connection = 'sqlite://';
    cfg.DEFAULT.transport_url = null;
    const neutrino = await buildNeutrino(cfg, { migrate: true });
    // `neutrino openapi | head` closes the pipe early: not an error.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
    });
    try {
      await neutrino.app.ready();
      process.stdout.write(`${JSON.stringify(neutrino.app.openapi(), null, 2)}\n`);
    } finally {
      await neutrino.close();
    }
  });

  const db = program.command('db').description('database maintenance');
  withCommonFlags(db.command('upgrade').description('apply pending schema migrations')).action(async (flags: CommonFlags) => {
    const cfg = configFrom(flags);
    const database = await openConfiguredDatabase(cfg);
    try {
      const applied = await upgrade(database.db);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await database.close();
    }
  });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof DatabaseUrlError) {
      console.error(`neutrino: configuration error: ${err.message}`);
      process.exit(2);
    }
    if (err instanceof VifError) {
      console.error(`neutrino: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}
