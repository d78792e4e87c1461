// Mechanism driver of the Open vSwitch agent: ports on the integration bridge (vif_type ovs).
import type { Dict } from '../../service.js';
import { AgentMechanismDriver, stringKeys } from './agent-driver.js';
import { type AgentView, VIF_TYPE_OVS } from './driver.js';

export const AGENT_TYPE_OVS = 'Open vSwitch agent';

export class OpenvswitchMechanismDriver extends AgentMechanismDriver {
  readonly name = 'openvswitch';
  readonly agentType = AGENT_TYPE_OVS;
  readonly vifType = VIF_TYPE_OVS;

  protected mappings(agent: AgentView): string[] {
    return stringKeys(agent.configurations.bridge_mappings);
  }

  /** What os-vif needs to plug: the bridge and its datapath (netdev for the userspace datapath). */
  protected vifDetails(agent: AgentView): Dict {
    const c = agent.configurations;
    return {
      port_filter: this.portFilter,
      ovs_hybrid_plug: false,
      connectivity: 'l2',
      datapath_type: typeof c.datapath_type === 'string' ? c.datapath_type : 'system',
      bridge_name: typeof c.integration_bridge === 'string' ? c.integration_bridge : 'br-int',
    };
  }
}
