// Mechanism driver of the Linux bridge agent: taps on a `brq…` bridge per network (vif_type bridge).
import type { Dict } from '../../service.js';
import { AgentMechanismDriver, stringKeys } from './agent-driver.js';
import { type AgentView, VIF_TYPE_BRIDGE } from './driver.js';

export const AGENT_TYPE_LINUXBRIDGE = 'Linux bridge agent';

export class LinuxBridgeMechanismDriver extends AgentMechanismDriver {
  readonly name = 'linuxbridge';
  readonly agentType = AGENT_TYPE_LINUXBRIDGE;
  readonly vifType = VIF_TYPE_BRIDGE;

  protected mappings(agent: AgentView): string[] {
    return [...stringKeys(agent.configurations.interface_mappings), ...stringKeys(agent.configurations.bridge_mappings)];
  }

  protected vifDetails(): Dict {
    return { port_filter: this.portFilter, connectivity: 'l2' };
  }
}
