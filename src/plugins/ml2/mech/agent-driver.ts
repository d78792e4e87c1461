// The shape shared by the L2 agent drivers (Neutron's SimpleAgentMechanismDriverBase): a port
// binds to the first segment that a live, enabled agent of the driver's type on the port's host
// can reach: a network type it supports, and for flat and vlan a physical network it maps.
import type { Dict } from '../../service.js';
import { type Segment, TYPE_FLAT, TYPE_LOCAL, TYPE_VLAN } from '../segment.js';
import { type AgentView, type MechanismDriver, type PortContext, VNIC_NORMAL } from './driver.js';

export abstract class AgentMechanismDriver implements MechanismDriver {
  abstract readonly name: string;
  abstract readonly agentType: string;
  abstract readonly vifType: string;
  readonly vnicTypes: readonly string[] = [VNIC_NORMAL];

  /** `portFilter`: the agent filters the port's traffic (security groups, anti-spoofing). */
  constructor(protected readonly portFilter: boolean) {}

  /** Physical networks the agent reaches (its interface/bridge mappings). */
  protected abstract mappings(agent: AgentView): string[];
  protected abstract vifDetails(agent: AgentView): Dict;

  protected networkTypes(agent: AgentView): string[] {
    const tunnels = agent.configurations.tunnel_types;
    return [TYPE_LOCAL, TYPE_FLAT, TYPE_VLAN, ...(Array.isArray(tunnels) ? (tunnels as string[]) : [])];
  }

  /** Why `agent` cannot carry `segment`, or null when it can. */
  protected segmentProblem(segment: Segment, agent: AgentView): string | null {
    if (!this.networkTypes(agent).includes(segment.network_type))
      return `network type ${segment.network_type} is not supported by the ${this.agentType} on host ${agent.host}`;
    if ((segment.network_type === TYPE_FLAT || segment.network_type === TYPE_VLAN) && segment.physical_network !== null) {
      if (!this.mappings(agent).includes(segment.physical_network))
        return `physical network ${segment.physical_network} is not mapped by the ${this.agentType} on host ${agent.host}`;
    }
    return null;
  }

  bindPort(ctx: PortContext): void {
    if (!this.vnicTypes.includes(ctx.vnicType)) {
      ctx.refuse(`${this.name}: vnic_type ${ctx.vnicType} is not supported`);
      return;
    }
    const agents = ctx.hostAgents(this.agentType);
    if (agents.length === 0) {
      ctx.refuse(`${this.name}: no ${this.agentType} is registered on host ${ctx.host}`);
      return;
    }
    for (const agent of agents) {
      if (!agent.alive) {
        ctx.refuse(`${this.name}: the ${this.agentType} on host ${ctx.host} is dead (no heartbeat within agent_down_time)`);
        continue;
      }
      if (!agent.admin_state_up) {
        ctx.refuse(`${this.name}: the ${this.agentType} on host ${ctx.host} is disabled (admin_state_up false)`);
        continue;
      }
      for (const segment of ctx.segmentsToBind) {
        const problem = this.segmentProblem(segment, agent);
        if (problem) {
          ctx.refuse(`${this.name}: ${problem}`);
          continue;
        }
        ctx.setBinding(segment.id, this.vifType, this.vifDetails(agent));
        return;
      }
    }
  }
}

export function stringKeys(v: unknown): string[] {
  return v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
}
