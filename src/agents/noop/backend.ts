// A backend that touches no kernel state: it takes every port of the desired state as wired.
// `neutrino agent noop` runs the whole L2 agent protocol with it, for tests, benchmarks and
// trying the control plane on a machine where the data plane can't be built.
import type { HostState } from '../../rpc/contract.js';
import type { L2Backend } from '../common/l2-agent.js';

export class NoopBackend implements L2Backend {
  constructor(private readonly config: Record<string, unknown>) {}

  async apply(state: HostState): Promise<Set<string>> {
    return new Set(state.ports.map((p) => p.id));
  }

  configurations(): Record<string, unknown> {
    return this.config;
  }
}
