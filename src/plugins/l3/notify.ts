// What L3 agents hear after a router, interface or floating IP change commits (neutron's
// L3AgentNotifyAPI): routers_updated to the hosts of the routers' agents (scheduling unhosted
// routers first), router_deleted to every L3 agent, router_added_to_agent/router_removed_from_agent
// to one host. Casts are not awaited: a request must not wait on the bus, and agents' periodic
// resync heals a lost message.
import type { AgentNotifier } from '../../rpc/index.js';
import type { Logger } from '../ml2/mech-manager.js';
import type { L3Scheduler } from './scheduler.js';

export class L3Notify {
  constructor(
    private readonly scheduler: L3Scheduler,
    private readonly notifier: () => AgentNotifier | undefined,
    private readonly log?: Logger,
  ) {}

  private send(what: string, fn: (n: AgentNotifier) => Promise<void>): void {
    const n = this.notifier();
    if (!n) return;
    fn(n).catch((err) => this.log?.error({ err }, `L3 ${what} notification failed`));
  }

  /** Routers changed: schedule those hosted nowhere, then tell their agents. */
  async routersUpdated(routerIds: Array<string | null | undefined>, schedule = true): Promise<void> {
    const ids = [...new Set(routerIds.filter((x): x is string => typeof x === 'string' && x !== ''))];
    if (ids.length === 0) return;
    try {
      if (schedule) await this.scheduler.schedule(ids);
      for (const id of ids) {
        for (const host of await this.scheduler.hostsToNotify(this.scheduler.db, id)) {
          this.send('routers_updated', (n) => n.routersUpdated([id], host));
        }
      }
    } catch (err) {
      this.log?.error({ err, routers: ids }, 'L3 scheduling after commit failed');
    }
  }

  routerDeleted(routerId: string): void {
    this.send('router_deleted', (n) => n.routerDeleted(routerId));
  }

  routerAdded(routerIds: string[], host: string): void {
    this.send('router_added_to_agent', (n) => n.routerAddedToAgent(routerIds, host));
  }

  routerRemoved(routerId: string, host: string): void {
    this.send('router_removed_from_agent', (n) => n.routerRemovedFromAgent(routerId, host));
  }

  agentUpdated(adminStateUp: boolean, host: string): void {
    this.send('agent_updated', (n) => n.l3AgentUpdated(adminStateUp, host));
  }
}
