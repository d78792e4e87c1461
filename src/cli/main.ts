// The `neutrino` command: server, all-in-one, db upgrade.
import { Command, Option } from 'commander';
import { buildNeutrino, databaseUrl } from '../app.js';
import { type Config, ConfigError, loadConfig, opt } from '../config/load.js';
import { DatabaseUrlError, openDatabase } from '../db/connection.js';
import { upgrade } from '../db/migrations.js';

interface CommonFlags {
  configFile: string[];
  bindHost?: string;
  bindPort?: string;
  connection?: string;
  authStrategy?: string;
  statePath?: string;
  debug?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

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
  return loadConfig(flags.configFile, overrides, presets);
}

async function serve(cfg: Config, migrate: boolean): Promise<void> {
  const logger = { level: opt.bool(cfg, 'DEFAULT', 'debug') ? 'debug' : 'info' };
  const neutrino = await buildNeutrino(cfg, { migrate, logger });
  const host = opt.str(cfg, 'DEFAULT', 'bind_host');
  const port = opt.int(cfg, 'DEFAULT', 'bind_port');
  await neutrino.app.listen({ host, port });
  const stop = async () => {
    await neutrino.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('neutrino').description('OpenStack Networking (Neutron) API and agents').showHelpAfterError();

  withCommonFlags(program.command('server').description('the API server (neutron-server)')).action(async (flags: CommonFlags) => {
    await serve(configFrom(flags), false);
  });

  withCommonFlags(
    program.command('all-in-one').description('server and this host’s agents in one process, SQLite, embedded defaults'),
  ).action(async (flags: CommonFlags) => {
    const home = process.env.NEUTRINO_HOME ?? `${process.env.HOME ?? '/tmp'}/.neutrino`;
    await serve(configFrom(flags, [['DEFAULT', 'state_path', home]]), true);
  });

  const db = program.command('db').description('database maintenance');
  withCommonFlags(db.command('upgrade').description('apply pending schema migrations')).action(async (flags: CommonFlags) => {
    const cfg = configFrom(flags);
    const database = await openDatabase(databaseUrl(cfg));
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
    throw err;
  }
}
