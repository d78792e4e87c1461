// The L3 service plugin (neutron's L3RouterPlugin with the flavors plugin and auto-allocation):
// routers, floating IPs, their ports' rules, scheduling to L3 agents, the agents' RPC, and the
// periodic failover of routers off dead agents.
import { type Config, opt } from '../../config/load.js';
import type { Store } from '../../db/store.js';
import type { Registry } from '../../resources/registry.js';
import type { AgentNotifier } from '../../rpc/index.js';
import type { Agent, AgentService } from '../agents/agents.js';
import { adminContext, type Context } from '../context.js';
import type { NetworkService } from '../core/networks.js';
import type { PortService } from '../core/ports.js';
import type { SubnetService } from '../core/subnets.js';
import type { Logger } from '../ml2/mech-manager.js';
import type { Dict, ResourceService, ServiceDeps } from '../service.js';
import { transaction } from '../service.js';
import { AutoAllocator } from './auto-allocate.js';
import type { L3Settings } from './common.js';
import { l3Errors } from './errors.js';
import { FlavorService, ServiceProfileService, ServiceProviderService } from './flavors.js';
import { FloatingIpService } from './floatingips.js';
import { L3Notify } from './notify.js';
import { FloatingIpPoolService } from './pools.js';
import { L3PortGuard } from './port-guard.js';
import { RouterService } from './routers.js';
import { L3Scheduler, type SchedulerKind } from './scheduler.js';
import { L3Rpc } from './sync.js';

export function l3Settings(cfg: Config): L3Settings {
  return {
    l3Ha: opt.bool(cfg, 'DEFAULT', 'l3_ha'),
    routerDistributed: opt.bool(cfg, 'DEFAULT', 'router_distributed'),
    enableSnatByDefault: opt.bool(cfg, 'DEFAULT', 'enable_snat_by_default'),
    maxRoutes: opt.int(cfg, 'DEFAULT', 'max_routes'),
    routerAutoSchedule: opt.bool(cfg, 'DEFAULT', 'router_auto_schedule'),
    allowAutomaticFailover: opt.bool(cfg, 'DEFAULT', 'allow_automatic_l3agent_failover'),
    agentDownTime: opt.int(cfg, 'DEFAULT', 'agent_down_time'),
  };
}

function schedulerKind(cfg: Config): SchedulerKind {
  const driver = opt.str(cfg, 'DEFAULT', 'router_scheduler_driver');
  return driver.endsWith('ChanceScheduler') ? 'chance' : driver.endsWith('AZLeastRoutersScheduler') ? 'az' : 'least';
}

export interface L3Deps {
  store: Store;
  ports: PortService;
  networks: NetworkService;
  subnets: SubnetService;
  agents: AgentService;
  notifier: () => AgentNotifier | undefined;
  log?: Logger;
}

/** What the API's extra routes (l3_agent_scheduler, auto-allocated-topology, flavor profiles) call. */
export class L3Api {
  constructor(
    private readonly deps: L3Deps,
    readonly routers: RouterService,
    readonly flavors: FlavorService,
    readonly scheduler: L3Scheduler,
    readonly notify: L3Notify,
    readonly autoAllocator: AutoAllocator,
    readonly pools: FloatingIpPoolService,
  ) {}

  private async agent(ctx: Context, id: string, db = this.deps.store.db): Promise<Agent> {
    const [agent] = await this.deps.agents.getAgents({ id: [id] }, db);
    if (!agent || !ctx.policy.allows('get_agent', agent as unknown as Dict)) throw l3Errors.agentNotFound(id);
    return agent;
  }

  async routersOnAgent(ctx: Context, agentId: string): Promise<Dict[]> {
    ctx.policy.enforce('get_l3-routers', {});
    const agent = await this.agent(ctx, agentId);
    const ids = await this.scheduler.routerIdsOn(this.deps.store.db, agent.id);
    return ids.length ? this.routers.list(adminContext(), { filters: { id: ids }, sorts: [] }) : [];
  }

  async addRouterToAgent(ctx: Context, agentId: string, routerId: string): Promise<void> {
    ctx.policy.enforce('create_l3-router', {});
    const admin = adminContext();
    const added = await transaction(
      this.deps.store,
      async (db) => {
        const router = await this.routers.visible(db, admin, routerId);
        const agent = await this.agent(ctx, agentId, db);
        return (await this.scheduler.addRouterToAgent(db, agent, router)) ? agent : undefined;
      },
      [`router:${routerId}`],
    );
    if (added) this.notify.routerAdded([routerId], added.host);
  }

  async removeRouterFromAgent(ctx: Context, agentId: string, routerId: string): Promise<void> {
    ctx.policy.enforce('delete_l3-router', {});
    const agent = await this.agent(ctx, agentId);
    await transaction(this.deps.store, (db) => this.scheduler.removeRouterFromAgent(db, agent, routerId), [`router:${routerId}`]);
    await this.routers.visible(this.deps.store.db, adminContext(), routerId);
    this.notify.routerRemoved(routerId, agent.host);
  }

  async agentsHostingRouter(ctx: Context, routerId: string): Promise<Dict[]> {
    ctx.policy.enforce('get_l3-agents', {});
    await this.routers.visible(this.deps.store.db, adminContext(), routerId);
    return (await this.scheduler.agentsHosting(this.deps.store.db, routerId)) as unknown as Dict[];
  }
}

export interface L3Plugin {
  services: Map<string, ResourceService>;
  api: L3Api;
  rpc: L3Rpc;
  scheduler: L3Scheduler;
  /** Starts the periodic failover (allow_automatic_l3agent_failover); returns its stop. */
  start(): () => void;
}

export function createL3(registry: Registry, deps: L3Deps, cfg: Config): L3Plugin {
  const def = (c: string) => {
    const d = registry.byCollection.get(c);
    if (!d) throw new Error(`resource ${c} is not registered`);
    return d;
  };
  const settings = l3Settings(cfg);
  const sdeps: ServiceDeps = { store: deps.store, db: deps.store.db };
  const scheduler = new L3Scheduler(deps.store, deps.agents, { kind: schedulerKind(cfg), agentDownTime: settings.agentDownTime });
  const notify = new L3Notify(scheduler, deps.notifier, deps.log);
  const profiles = new ServiceProfileService(def('service_profiles'), sdeps);
  const flavors = new FlavorService(def('flavors'), sdeps);
  flavors.profiles = profiles;
  const routers = new RouterService(def('routers'), sdeps, settings);
  Object.assign(routers, { ports: deps.ports, networks: deps.networks, subnets: deps.subnets, flavors, scheduler, notify });
  const fips = new FloatingIpService(def('floatingips'), sdeps);
  Object.assign(fips, { ports: deps.ports, networks: deps.networks, notify });
  deps.ports.guards.push(new L3PortGuard(fips, notify));
  // An external network goes with its floating IPs that serve nothing (neutron's
  // delete_disassociated_floatingips); associated ones keep it in use.
  deps.networks.deleteHooks.push(async (db, network) => {
    const rows = await db
      .selectFrom('floatingips')
      .select(['id', 'floating_port_id'])
      .where('floating_network_id', '=', network.id as string)
      .where('fixed_port_id', 'is', null)
      .execute();
    if (rows.length === 0) return;
    const ids = rows.map((r) => r.id as string);
    const portIds = rows.map((r) => r.floating_port_id as string);
    await db
      .deleteFrom('tags')
      .where('resource_id', 'in', [...ids, ...portIds])
      .execute();
    await db.deleteFrom('floatingips').where('id', 'in', ids).execute();
    await db.deleteFrom('ports').where('id', 'in', portIds).execute();
  });
  deps.agents.updateHooks.push(async (before, after) => {
    if (after.agent_type === 'L3 agent' && before.admin_state_up !== after.admin_state_up) {
      notify.agentUpdated(Boolean(after.admin_state_up), after.host as string);
    }
  });
  const autoAllocator = new AutoAllocator({ store: deps.store, networks: deps.networks, subnets: deps.subnets, routers });
  const rpc = new L3Rpc({ store: deps.store, routers, ports: deps.ports, fips, scheduler, settings, log: deps.log });
  const pools = new FloatingIpPoolService(def('floatingip_pools'), deps.store);
  const services = new Map<string, ResourceService>([
    ['routers', routers],
    ['floatingips', fips],
    ['floatingip_pools', pools],
    ['flavors', flavors],
    ['service_profiles', profiles],
    ['service_providers', new ServiceProviderService(def('service_providers'))],
  ]);
  const api = new L3Api(deps, routers, flavors, scheduler, notify, autoAllocator, pools);
  const start = () => {
    if (!settings.allowAutomaticFailover) return () => {};
    // Neutron checks every agent_down_time / 2 seconds.
    const every = Math.max(1, Math.floor(settings.agentDownTime / 2)) * 1000;
    // As Neutron's wait_down_agents: after a (re)start, agents get twice agent_down_time to report
    // before any of them counts as dead.
    const since = Date.now();
    let running = false;
    const timer = setInterval(() => {
      if (running || Date.now() - since < settings.agentDownTime * 2000) return;
      running = true;
      scheduler
        .rescheduleFromDeadAgents()
        .then((moves) => {
          for (const m of moves) {
            deps.log?.warn({ router_id: m.routerId, from: m.from.host, to: m.to.host }, 'router moved off a dead L3 agent');
            notify.routerRemoved(m.routerId, m.from.host);
            notify.routerAdded([m.routerId], m.to.host);
          }
        })
        .catch((err) => deps.log?.error({ err }, 'rescheduling routers off dead L3 agents failed'))
        .finally(() => {
          running = false;
        });
    }, every);
    timer.unref();
    return () => clearInterval(timer);
  };
  return { services, api, rpc, scheduler, start };
}
