// Assembles a Neutrino server from a configuration: database, resource registry, plugins, API.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type Authenticator, NoAuth } from './api/auth.js';
import { KeystoneAuth } from './api/keystone.js';
import { Policy, PolicyFileError } from './api/policy/enforcer.js';
import { registerDhcpAgentScheduler } from './api/routes/dhcp-agent-scheduler.js';
import { registerIpAvailability } from './api/routes/ip-availability.js';
import { registerL3 } from './api/routes/l3.js';
import { registerQuotas } from './api/routes/quotas.js';
import { buildApi } from './api/server.js';
import { type Config, ConfigError, configFilesOf, opt } from './config/load.js';
import { OPTIONS } from './config/options.js';
import { NOT_UP_TO_DATE, openConfiguredDatabase } from './db/configured.js';
import type { Database } from './db/connection.js';
import { isUpToDate, upgrade } from './db/migrations.js';
import { Store } from './db/store.js';
import type { AgentService } from './plugins/agents/agents.js';
import { agentSettings, createAgentServices } from './plugins/agents/index.js';
import { createCoreServices } from './plugins/core/index.js';
import type { NetworkService } from './plugins/core/networks.js';
import type { PortService } from './plugins/core/ports.js';
import { coreSettings } from './plugins/core/settings.js';
import type { SubnetService } from './plugins/core/subnets.js';
import { createDhcp, type Dhcp } from './plugins/dhcp/index.js';
import { IpAvailabilityService } from './plugins/ip-availability/index.js';
import { createL3, type L3Plugin } from './plugins/l3/index.js';
import { ml2Config } from './plugins/ml2/config.js';
import { createMl2 } from './plugins/ml2/index.js';
import type { Ml2Plugin } from './plugins/ml2/plugin.js';
import { TypeManager } from './plugins/ml2/type-manager.js';
import { QuotaService, quotaDefaults } from './plugins/quotas/index.js';
import { createRbacServices } from './plugins/rbac/index.js';
import { createSecurityGroupServices } from './plugins/security-groups/index.js';
import { BaseService } from './plugins/service.js';
import { EXTENSIONS } from './resources/extensions.js';
import { buildRegistry, type Registry } from './resources/registry.js';
import type { ResourceDef } from './resources/types.js';
import { AgentNotifier, openTransport, type RpcLogger, serveAgentRpc, serveL3PluginRpc, type Transport } from './rpc/index.js';

export interface Neutrino {
  app: FastifyInstance;
  /** The resources and extensions served (what the OpenAPI document and validation read). */
  registry: Registry;
  database: Database;
  /** The agent registry, for the RPC layer (report_state, get_agents …). */
  agents: AgentService;
  /** ML2: port binding, agents' RPC handlers, port status events. */
  ml2: Ml2Plugin;
  /** Routers and floating IPs: the L3 agents' RPC handlers and the scheduler. */
  l3: L3Plugin;
  /** The DHCP agent scheduler and its RPC; undefined with enable_traditional_dhcp = false. */
  dhcp?: Dhcp;
  /** The bus agents reach this server on (in-process agents attach to it). */
  transport: Transport;
  close(): Promise<void>;
}

export interface BuildOptions {
  /** Apply pending migrations at start (all-in-one, tests). */
  migrate?: boolean;
  logger?: boolean | object;
}

/** The bus's log lines, into the server's log. */
function rpcLogger(log: FastifyInstance['log']): RpcLogger {
  return {
    debug: (m) => log.debug(m),
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
  };
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

/** Neutron's default policy with the operator's [oslo_policy] policy_file on top. */
function loadPolicy(cfg: Config, resources: ResourceDef[]): Policy {
  try {
    const name = opt.str(cfg, 'oslo_policy', 'policy_file');
    const path = Policy.locate(name, configFilesOf(cfg), name === OPTIONS.oslo_policy.policy_file.default);
    return Policy.withDefaults(resources, path ? Policy.readFile(path) : {});
  } catch (err) {
    if (err instanceof PolicyFileError) throw new ConfigError(err.message);
    throw err;
  }
}

export async function buildNeutrino(cfg: Config, options: BuildOptions = {}): Promise<Neutrino> {
  const database = await openConfiguredDatabase(cfg);
  try {
    if (options.migrate) await upgrade(database.db);
    else if (!(await isUpToDate(database.db))) {
      throw new ConfigError(NOT_UP_TO_DATE);
    }
    // Without traditional DHCP there is no DHCP agent to schedule (Neutron drops the extension too).
    const traditionalDhcp = opt.bool(cfg, 'DEFAULT', 'enable_traditional_dhcp');
    const registry = buildRegistry(EXTENSIONS.filter((e) => traditionalDhcp || e.alias !== 'dhcp_agent_scheduler'));
    const store = new Store(database.db, database.dialect);
    const deps = { store, db: database.db };
    // ML2's type drivers bring their allocation pools in line with the configured ranges.
    const types = new TypeManager(ml2Config(cfg), store);
    await types.initialize();
    const services = createCoreServices(registry, deps, coreSettings(cfg), types);
    // Agents hear of security group changes once the bus is open (below); a lost notification is
    // made up for by their next poll, so a failure is only logged.
    let notifier: AgentNotifier | undefined;
    let log: FastifyInstance['log'] | undefined;
    const tell = (what: string, send: (n: AgentNotifier) => Promise<void>) => {
      if (notifier) send(notifier).catch((err) => log?.error({ err }, `${what} notification failed`));
    };
    const sgNotifier = {
      rulesChanged: (ids: string[]) => tell('security_groups_rule_updated', (n) => n.securityGroupsRuleUpdated(ids)),
      addressGroupsChanged: (ids: string[]) => tell('address_groups_updated', (n) => n.addressGroupsUpdated(ids)),
    };
    const sgServices = createSecurityGroupServices(registry, deps, services.get('ports') as PortService, sgNotifier);
    for (const [k, v] of sgServices) services.set(k, v);
    for (const [k, v] of createRbacServices(registry, deps, services)) services.set(k, v);
    const agentPlugin = createAgentServices(registry, deps, agentSettings(cfg));
    for (const [k, v] of agentPlugin.services) services.set(k, v);
    // The L3 service plugin; it tells agents through the same notifier, and logs to the server's log.
    const l3 = createL3(
      registry,
      {
        store,
        ports: services.get('ports') as PortService,
        networks: services.get('networks') as NetworkService,
        subnets: services.get('subnets') as SubnetService,
        agents: agentPlugin.agents,
        notifier: () => notifier,
        log: { warn: (o, m) => log?.warn(o, m), error: (o, m) => log?.error(o, m) },
      },
      cfg,
    );
    for (const [k, v] of l3.services) services.set(k, v);
    const quotas = new QuotaService(
      store,
      registry,
      quotaDefaults((name) => (name in OPTIONS.quotas ? opt.int(cfg, 'quotas', name) : null)),
    );
    for (const service of services.values()) if (service instanceof BaseService) service.quota = quotas;
    let dhcp: Dhcp | undefined;
    const def = (collection: string) => registry.byCollection.get(collection) as ResourceDef;
    const app = buildApi({
      policy: loadPolicy(cfg, registry.resources),
      routes: [
        (a, context) => registerQuotas(a, quotas, context),
        (a, context) => registerIpAvailability(a, new IpAvailabilityService(store), context),
        (a, context) => registerL3(a, l3.api, registry, context),
        (a, context) => {
          if (!traditionalDhcp) return;
          const scheduler = () => (dhcp as Dhcp).scheduler;
          registerDhcpAgentScheduler(a, { scheduler, networks: def('networks'), agents: def('agents') }, context);
        },
      ],
      registry,
      services,
      auth: authenticator(cfg),
      logger: options.logger,
      maxBodySize: opt.int(cfg, 'oslo_middleware', 'max_request_body_size'),
      settings: {
        filterValidation: opt.bool(cfg, 'DEFAULT', 'filter_validation'),
        paginationMaxLimit: opt.int(cfg, 'DEFAULT', 'pagination_max_limit'),
        allowBulk: opt.bool(cfg, 'DEFAULT', 'allow_bulk'),
      },
    });
    // The bus to agents: RabbitMQ when transport_url says so, else an in-process bus of this
    // server's own (agents in the same process, as all-in-one runs them, share it).
    log = app.log;
    const url = opt.strOrNull(cfg, 'DEFAULT', 'transport_url');
    // ML2 first (a bad [ml2] option fails here), then the bus it is served on.
    const ml2 = createMl2(cfg, {
      store,
      ports: services.get('ports') as PortService,
      networks: services.get('networks') as NetworkService,
      agents: agentPlugin.agents,
      notifier: () => notifier,
      log: app.log,
    });
    dhcp = createDhcp(cfg, {
      store,
      networks: services.get('networks') as NetworkService,
      subnets: services.get('subnets') as SubnetService,
      ports: services.get('ports') as PortService,
      agents: agentPlugin.agents,
      ml2,
      notifier: () => notifier,
      log: app.log,
    });
    const transport = await openTransport(url ? cfg : `local://neutrino-${randomUUID()}`, { log: rpcLogger(app.log) });
    notifier = new AgentNotifier(transport);
    // One listener per topic: ML2's calls and the DHCP agents' share q-plugin, as in Neutron.
    const rpc = await serveAgentRpc(transport, { ...ml2.handlers(), ...dhcp?.rpc.handlers() }).catch(async (err) => {
      await transport.close();
      throw err;
    });
    const l3Rpc = await serveL3PluginRpc(transport, l3.rpc.handlers()).catch(async (err) => {
      await rpc.stop();
      await transport.close();
      throw err;
    });
    const stopFailover = l3.start();
    dhcp?.start();
    return {
      app,
      registry,
      database,
      agents: agentPlugin.agents,
      ml2,
      l3,
      dhcp,
      transport,
      close: async () => {
        try {
          stopFailover();
          await app.close();
          await dhcp?.close();
          await rpc.stop();
          await l3Rpc.stop();
        } finally {
          await transport.close();
          await database.close();
        }
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
