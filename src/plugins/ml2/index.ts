// Assembles ML2's mechanism layer: the configured mechanism drivers, port binding (as a port
// extension), l2population, and the plugin that serves agents and tells them what changed.
import { type Config, opt } from '../../config/load.js';
import type { Store } from '../../db/store.js';
import type { AgentNotifier } from '../../rpc/index.js';
import type { AgentService } from '../agents/agents.js';
import type { NetworkService } from '../core/networks.js';
import type { PortService } from '../core/ports.js';
import { L2PopulationDriver } from './l2population.js';
import { type Logger, MechanismManager } from './mech-manager.js';
import { L2_AGENT_TYPES, Ml2Plugin } from './plugin.js';
import { PortBindingExtension } from './port-binding.js';
import { segmentsOf } from './segments-db.js';

export interface Ml2Deps {
  store: Store;
  ports: PortService;
  networks: NetworkService;
  agents: AgentService;
  notifier: () => AgentNotifier | undefined;
  log?: Logger;
}

export function createMl2(cfg: Config, deps: Ml2Deps): Ml2Plugin {
  const names = opt.list(cfg, 'ml2', 'mechanism_drivers');
  const l2pop = names.includes('l2population')
    ? new L2PopulationDriver({
        db: deps.store.db,
        notifier: deps.notifier,
        l2Agents: (db) => deps.agents.getAgents({ agent_type: L2_AGENT_TYPES }, db) as never,
      })
    : undefined;
  const manager = MechanismManager.fromConfig(names, l2pop ? { l2population: l2pop } : {}, true, deps.log);
  deps.ports.extensions.push(
    new PortBindingExtension({
      manager,
      segmentsOf,
      agentsOnHost: (db, host) => deps.agents.getAgents({ host }, db) as never,
      networkOf: async (db, _ctx, port) =>
        (await deps.store.getRows(db, deps.networks.def, [port.network_id as string]))[0] ?? {},
      newMac: (db, networkId) => deps.ports.newMac(db, networkId),
      anyOf: (values) => deps.store.anyOf(values),
    }),
  );
  const plugin = new Ml2Plugin({ ...deps, manager, l2pop });
  deps.ports.observers.push(plugin);
  deps.networks.observers.push(plugin);
  return plugin;
}
