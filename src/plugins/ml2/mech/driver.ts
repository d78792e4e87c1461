// The contract of ML2 mechanism drivers (neutron-lib's MechanismDriver and PortContext, cut to
// what Neutrino's drivers use): bind_port decides how a port is wired on its host; the
// postcommit hooks run after the transaction commits and tell agents what changed.
import type { Dict } from '../../service.js';
import type { Segment } from '../segment.js';

export const VIF_TYPE_UNBOUND = 'unbound';
export const VIF_TYPE_BINDING_FAILED = 'binding_failed';
export const VIF_TYPE_BRIDGE = 'bridge';
export const VIF_TYPE_OVS = 'ovs';

export const VNIC_NORMAL = 'normal';

/** An agent as the binding sees it (a row of /v2.0/agents). */
export interface AgentView {
  id: string;
  agent_type: string;
  host: string;
  alive: boolean;
  admin_state_up: boolean;
  configurations: Dict;
}

/** What a driver binding one port sees and may decide. */
export interface PortContext {
  /** The port as it will be after this change. */
  readonly current: Dict;
  /** The port before an update; undefined on create. */
  readonly original?: Dict;
  readonly network: Dict;
  readonly host: string;
  readonly vnicType: string;
  /** The network's segments, in order; a driver binds to the first it can serve. */
  readonly segmentsToBind: Segment[];
  /** Agents of `agentType` registered on the port's host. */
  hostAgents(agentType: string): AgentView[];
  /** Binds the port: the first driver to call it wins. */
  setBinding(segmentId: string, vifType: string, vifDetails: Dict): void;
  /** Why this driver could not bind, kept for the admin when no driver binds. */
  refuse(reason: string): void;
}

/** A port after its transaction, for postcommit hooks (l2population's FDB updates …). */
export interface PortChange {
  current: Dict;
  original?: Dict;
  /** The segment the port is bound to, and the host's tunnel endpoint, when bound. */
  segment?: Segment;
}

export interface MechanismDriver {
  readonly name: string;
  /** Tries to bind; leaves the context untouched (after `refuse`) when it cannot. */
  bindPort?(ctx: PortContext): void;
  createPortPostcommit?(change: PortChange): Promise<void>;
  updatePortPostcommit?(change: PortChange): Promise<void>;
  deletePortPostcommit?(change: PortChange): Promise<void>;
  deleteNetworkPostcommit?(network: Dict): Promise<void>;
}
