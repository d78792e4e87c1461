// The database a configuration names: its URL, how it opens, and how many API workers it admits.
// Apart from app.ts so that a process that only supervises workers or upgrades the schema does not
// load the API.
import { type Config, ConfigError, opt } from '../config/load.js';
import { type Database, DatabaseUrlError, openDatabase, parseDbUrl } from './connection.js';

export const NOT_UP_TO_DATE =
  "the database schema is not up to date: run 'neutrino db upgrade' with the same [database] connection";

export function databaseUrl(cfg: Config): string {
  const url = opt.strOrNull(cfg, 'database', 'connection');
  return url ?? `sqlite:///${opt.str(cfg, 'DEFAULT', 'state_path')}/neutrino.sqlite`;
}

/** The database of `[database] connection`, with `[database] max_pool_size` connections per
 * process on PostgreSQL; a bad URL is a configuration error. */
export function openConfiguredDatabase(cfg: Config): Promise<Database> {
  return openDatabase(databaseUrl(cfg), { poolSize: opt.int(cfg, 'database', 'max_pool_size') }).catch((err) => {
    throw err instanceof DatabaseUrlError ? new ConfigError(err.message) : err;
  });
}

/** `[DEFAULT] api_workers`, checked against the database: several worker processes need a
 * database server, since SQLite is embedded and admits one writer at a time. */
export function apiWorkers(cfg: Config): number {
  const n = opt.int(cfg, 'DEFAULT', 'api_workers');
  if (n > 1 && parseDbUrl(databaseUrl(cfg)).dialect === 'sqlite') {
    throw new ConfigError(
      `[DEFAULT] api_workers = ${n} needs PostgreSQL ([database] connection = postgresql://…): ` +
        'SQLite is embedded and single-writer, so it serves one API process (api_workers = 1)',
    );
  }
  return n;
}
