// The DHCP side of the server: the DHCP agent scheduler (bindings, scheduling, failover and the
// dhcp_agent_scheduler API), the DhcpRpcCallback agents call, the notifications they hear, and
// the DHCP provisioning block on ports. Off with `[DEFAULT] enable_traditional_dhcp = false`.
import { type Config, opt } from '../../config/load.js';
import type { Store } from '../../db/store.js';
import type { AgentNotifier } from '../../rpc/index.js';
import type { AgentService } from '../agents/agents.js';
import type { NetworkService } from '../core/networks.js';
import type { PortService } from '../core/ports.js';
import type { SubnetService } from '../core/subnets.js';
import type { Ml2Plugin } from '../ml2/plugin.js';
import { DhcpAgentNotifier } from './notifier.js';
import { DhcpProvisioning } from './provisioning.js';
import { DhcpRpcCallback } from './rpc.js';
import { DhcpAgentScheduler, type DhcpSchedulerSettings } from './scheduler.js';

export { DhcpAgentScheduler } from './scheduler.js';

export interface DhcpDeps {
  store: Store;
  networks: NetworkService;
  subnets: SubnetService;
  ports: PortService;
  agents: AgentService;
  ml2: Ml2Plugin;
  notifier: () => AgentNotifier | undefined;
  log?: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
    debug(obj: object, msg: string): void;
  };
}

export interface Dhcp {
  scheduler: DhcpAgentScheduler;
  rpc: DhcpRpcCallback;
  notifier: DhcpAgentNotifier;
  /** Starts the failover check (allow_automatic_dhcp_failover). */
  start(): void;
  close(): Promise<void>;
}

export function dhcpSchedulerSettings(cfg: Config): DhcpSchedulerSettings {
  return {
    agentsPerNetwork: opt.int(cfg, 'DEFAULT', 'dhcp_agents_per_network'),
    autoSchedule: opt.bool(cfg, 'DEFAULT', 'network_auto_schedule'),
    failover: opt.bool(cfg, 'DEFAULT', 'allow_automatic_dhcp_failover'),
    agentDownTime: opt.int(cfg, 'DEFAULT', 'agent_down_time'),
    servicesOnAdminDown: opt.bool(cfg, 'DEFAULT', 'enable_services_on_agents_with_admin_state_down'),
  };
}

/** The DHCP plugin, wired into the core services; undefined when traditional DHCP is off. */
export function createDhcp(cfg: Config, deps: DhcpDeps): Dhcp | undefined {
  if (!opt.bool(cfg, 'DEFAULT', 'enable_traditional_dhcp')) return undefined;
  let notifier: DhcpAgentNotifier | undefined;
  const notify = opt.bool(cfg, 'DEFAULT', 'dhcp_agent_notification');
  const scheduler = new DhcpAgentScheduler(
    {
      store: deps.store,
      agents: deps.agents,
      networks: deps.networks,
      ports: deps.ports,
      hostsWithNetworkAccess: (db, networkId, hosts) => deps.ml2.hostsWithNetworkAccess(db, networkId, hosts),
      casts: () => (notify ? notifier : undefined),
      log: deps.log,
    },
    dhcpSchedulerSettings(cfg),
  );
  notifier = new DhcpAgentNotifier({ scheduler, notifier: deps.notifier, log: deps.log });
  const rpc = new DhcpRpcCallback({
    networks: deps.networks,
    subnets: deps.subnets,
    ports: deps.ports,
    ml2: deps.ml2,
    scheduler,
    db: deps.store.db,
    log: deps.log,
  });
  deps.ports.extensions.push(new DhcpProvisioning(deps.store, scheduler));
  if (notify) {
    deps.ports.observers.push(notifier);
    deps.networks.observers.push(notifier);
    deps.subnets.observers.push(notifier);
    deps.agents.observers.push(notifier);
  }
  const n = notifier;
  return {
    scheduler,
    rpc,
    notifier: n,
    start: () => scheduler.start(),
    close: async () => {
      scheduler.stop();
      await n.settled();
    },
  };
}
