// The agent plugin: the agent registry (/v2.0/agents, fed by report_state over RPC) and the
// availability zones derived from it.
import { type Config, opt } from '../../config/load.js';
import type { Registry } from '../../resources/registry.js';
import type { ResourceService, ServiceDeps } from '../service.js';
import { AgentService, type AgentSettings } from './agents.js';
import { AvailabilityZoneService } from './availability-zones.js';

export function agentSettings(cfg: Config): AgentSettings {
  return {
    agentDownTime: opt.int(cfg, 'DEFAULT', 'agent_down_time'),
    enableNewAgents: opt.bool(cfg, 'DEFAULT', 'enable_new_agents'),
  };
}

export function createAgentServices(
  registry: Registry,
  deps: ServiceDeps,
  settings: AgentSettings,
): { agents: AgentService; services: Map<string, ResourceService> } {
  const def = registry.byCollection.get('agents');
  if (!def) throw new Error('resource agents is not registered');
  const agents = new AgentService(def, deps, settings);
  const services = new Map<string, ResourceService>([['agents', agents]]);
  const zones = registry.byCollection.get('availability_zones');
  if (zones) services.set('availability_zones', new AvailabilityZoneService(zones, deps.store));
  return { agents, services };
}
