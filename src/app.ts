// Assembles a Neutrino server from a configuration: database, resource registry, plugins, API.
import type { FastifyInstance } from 'fastify';
import { type Authenticator, NoAuth } from './api/auth.js';
import { KeystoneAuth } from './api/keystone.js';
import { buildApi } from './api/server.js';
import { type Config, ConfigError, opt } from './config/load.js';
import { type Database, DatabaseUrlError, openDatabase } from './db/connection.js';
import { isUpToDate, upgrade } from './db/migrations.js';
import { Store } from './db/store.js';
import { createCoreServices } from './plugins/core/index.js';
import type { PortService } from './plugins/core/ports.js';
import { coreSettings } from './plugins/core/settings.js';
import { createSecurityGroupServices } from './plugins/security-groups/index.js';
import { buildRegistry } from './resources/registry.js';

export interface Neutrino {
  app: FastifyInstance;
  database: Database;
  close(): Promise<void>;
}

export interface BuildOptions {
  /** Apply pending migrations at start (all-in-one, tests). */
  migrate?: boolean;
  logger?: boolean | object;
}

export function databaseUrl(cfg: Config): string {
  const url = opt.strOrNull(cfg, 'database', 'connection');
  return url ?? `sqlite:///${opt.str(cfg, 'DEFAULT', 'state_path')}/neutrino.sqlite`;
}

function authenticator(cfg: Config): Authenticator {
  if (opt.str(cfg, 'DEFAULT', 'auth_strategy') === 'noauth') return new NoAuth();
  const k = (name: string) => {
    const v = opt.strOrNull(cfg, 'keystone_authtoken', name);
    if (!v) throw new ConfigError(`[keystone_authtoken] ${name} is required with auth_strategy = keystone`);
    return v;
  };
  return new KeystoneAuth({
    authUrl: k('auth_url'),
    username: k('username'),
    password: k('password'),
    projectName: k('project_name'),
    userDomainName: k('user_domain_name'),
    projectDomainName: k('project_domain_name'),
    cacheSeconds: opt.int(cfg, 'keystone_authtoken', 'token_cache_time'),
    timeoutMs: opt.int(cfg, 'keystone_authtoken', 'http_connect_timeout') * 1000,
  });
}

export async function buildNeutrino(cfg: Config, options: BuildOptions = {}): Promise<Neutrino> {
  const database = await openDatabase(databaseUrl(cfg)).catch((err) => {
    throw err instanceof DatabaseUrlError ? new ConfigError(err.message) : err;
  });
  try {
    if (options.migrate) await upgrade(database.db);
    else if (!(await isUpToDate(database.db))) {
      throw new ConfigError(
        `the database schema is not up to date: run 'neutrino db upgrade' with the same [database] connection`,
      );
    }
    const registry = buildRegistry();
    const store = new Store(database.db, database.dialect);
    const deps = { store, db: database.db };
    const services = createCoreServices(registry, deps, coreSettings(cfg));
    for (const [k, v] of createSecurityGroupServices(registry, deps, services.get('ports') as PortService)) services.set(k, v);
    const app = buildApi({
      registry,
      services,
      auth: authenticator(cfg),
      logger: options.logger,
      settings: {
        filterValidation: opt.bool(cfg, 'DEFAULT', 'filter_validation'),
        paginationMaxLimit: opt.int(cfg, 'DEFAULT', 'pagination_max_limit'),
        allowBulk: opt.bool(cfg, 'DEFAULT', 'allow_bulk'),
      },
    });
    return {
      app,
      database,
      close: async () => {
        await app.close();
        await database.close();
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
