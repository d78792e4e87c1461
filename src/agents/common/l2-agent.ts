// The L2 agent's life, shared by every backend (DESIGN.md principle 3): it registers with
// report_state and keeps heartbeating; it fetches the desired state of its host (get_host_state),
// has its backend make the host match, and reports the ports it has wired up (and the ones it
// took down) with update_device_list. Notifications only wake the loop early; a lost one is made
// up for by the next poll, and a restart starts from the server's state, never from scratch.
import type { AgentState, HostPort, HostState } from '../../rpc/contract.js';
import { type Listener, listenAgentNotifications, ServerRpcClient, type Transport } from '../../rpc/index.js';
import { StateReporter } from './agent-loop.js';

/** What makes a host match its desired state: Linux bridges, OVS, or nothing (noop). */
export interface L2Backend {
  /** Applies `state`; returns the ids of the ports whose wiring is now in place. */
  apply(state: HostState): Promise<Set<string>>;
  /** What report_state carries in `configurations` besides the devices count. */
  configurations(): Record<string, unknown>;
  /** Only security groups changed (rules, members, address groups): bring the port filtering in
   * line with `state` without rewiring anything. Without it, such a change is a full reconcile. */
  refreshFirewall?(state: HostState): Promise<void>;
  /** Calls `changed` when the host changes under the agent (e.g. a tap appears), so it reconciles
   * at once rather than at its next poll. */
  watch?(changed: () => void): void;
  /** Without l2population, tunnels mesh with every endpoint (Neutron's tunnel_sync): this host's
   * endpoint and tunnel types to announce, or undefined when the backend needs none. */
  tunnelSync?(): { localIp: string; types: string[] } | undefined;
  /** Endpoints of a tunnel type: those tunnel_sync answered, or one a tunnel_update announced
   * (both `add`: a notification may overtake the answer), or one tunnel_delete withdrew. */
  tunnelEndpoints?(type: string, ips: string[], how: 'add' | 'delete'): void;
  close?(): Promise<void>;
}

export interface L2AgentOptions {
  host: string;
  agentType: string;
  binary: string;
  reportIntervalSec: number;
  pollingIntervalSec: number;
  availabilityZone?: string;
  /** Deadline of each call to the server. */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

export class L2Agent {
  private readonly client: ServerRpcClient;
  private listener?: Listener;
  private stopped = false;
  private readonly reporter: StateReporter;
  private wake?: () => void;
  private dirty = true;
  /** Security groups whose rules, and groups or address groups whose addresses, changed since the
   * last reconcile (a firewall refresh, cheaper than a full reconcile). */
  private changedRules = new Set<string>();
  private changedMembers = new Set<string>();
  /** The last desired state, which a firewall refresh updates in place. */
  private lastState?: HostState;
  /** When the last full reconcile ended: the next poll is due one polling interval later. */
  private lastReconcile = 0;
  /** A full reconcile is under way: its state, fetched already, is not yet `lastState`. */
  private reconciling = false;
  private devices = 0;
  private loops: Promise<void>[] = [];
  /** Ports reported up at a revision, so a port is not reported again until it changes. */
  private reported = new Map<string, string>();
  private tunnelsSynced = false;
  /** Counts completed reconciliations and firewall refreshes (tests and benchmarks wait on them). */
  syncs = 0;
  firewallRefreshes = 0;

  constructor(
    private readonly transport: Transport,
    private readonly backend: L2Backend,
    private readonly opts: L2AgentOptions,
  ) {
    this.client = new ServerRpcClient(transport, { host: opts.host, timeoutMs: opts.timeoutMs });
    this.reporter = new StateReporter(this.client, (f) => this.state(f), {
      reportIntervalSec: opts.reportIntervalSec,
      log: opts.log,
    });
  }

  private log(msg: string): void {
    this.opts.log?.(msg);
  }

  private state(startFlag: boolean): AgentState {
    return {
      binary: this.opts.binary,
      host: this.opts.host,
      topic: 'N/A',
      agent_type: this.opts.agentType,
      start_flag: startFlag,
      availability_zone: this.opts.availabilityZone ?? null,
      configurations: { ...this.backend.configurations(), devices: this.devices },
    };
  }

  async start(): Promise<void> {
    const resync = () => this.poke();
    this.listener = await listenAgentNotifications(this.transport, this.opts.host, {
      port_update: resync,
      // A port not on this host going concerns it only through its groups (member_updated).
      port_delete: ({ port_id }) => {
        if (this.reconciling || !this.lastState || this.lastState.ports.some((p) => p.id === port_id)) this.poke();
      },
      network_update: resync,
      network_delete: resync,
      security_groups_rule_updated: ({ security_groups }) => this.groupsChanged(security_groups, []),
      security_groups_member_updated: ({ security_groups }) => this.groupsChanged([], security_groups),
      address_groups_updated: ({ address_groups }) => this.groupsChanged([], address_groups),
      add_fdb_entries: resync,
      remove_fdb_entries: resync,
      update_fdb_entries: resync,
      tunnel_update: ({ tunnel_ip, tunnel_type }) => {
        this.backend.tunnelEndpoints?.(tunnel_type, [tunnel_ip], 'add');
        resync();
      },
      tunnel_delete: ({ tunnel_ip, tunnel_type }) => {
        this.backend.tunnelEndpoints?.(tunnel_type, [tunnel_ip], 'delete');
        resync();
      },
    });
    this.backend.watch?.(resync);
    this.reporter.start();
    this.loops.push(this.syncLoop());
  }

  /** Something changed: reconcile now rather than at the next poll. */
  poke(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Security groups changed: refresh the firewall for those this host uses (a full reconcile
   * with a backend that has no refresh), ignore the others (every agent hears every change). While
   * a reconcile is under way, whether a group concerns the host is judged by the state being
   * applied, once it is: the refresh filters then. */
  private groupsChanged(rules: string[], members: string[]): void {
    const s = this.lastState;
    const refresh = !!this.backend.refreshFirewall;
    if (!s || (!refresh && this.reconciling)) {
      this.poke();
      return;
    }
    if (this.reconciling) {
      for (const id of rules ?? []) this.changedRules.add(id);
      for (const id of members ?? []) this.changedMembers.add(id);
      return;
    }
    const relevantRules = (rules ?? []).filter((id) => id in s.security_groups);
    const relevantMembers = (members ?? []).filter((id) => id in s.sg_member_ips);
    if (relevantRules.length === 0 && relevantMembers.length === 0) return;
    if (!refresh) {
      this.poke();
      return;
    }
    for (const id of relevantRules) this.changedRules.add(id);
    for (const id of relevantMembers) this.changedMembers.add(id);
    this.wake?.();
  }

  private async syncLoop(): Promise<void> {
    const interval = this.opts.pollingIntervalSec * 1000;
    while (!this.stopped) {
      if (this.dirty) {
        this.dirty = false;
        this.changedRules.clear();
        this.changedMembers.clear();
        this.reconciling = true;
        try {
          await this.reconcile();
        } catch (err) {
          // Tried again at the next poll, or sooner when something changes; not at once: a
          // failure that comes without delay (ovsdb-server not up yet) would spin, calling
          // get_host_state and logging as fast as the bus answers.
          this.log(`reconcile failed: ${(err as Error).message}`);
        }
        this.reconciling = false;
        this.lastReconcile = Date.now();
      } else if (this.changedRules.size || this.changedMembers.size) {
        try {
          await this.refreshFirewall();
        } catch (err) {
          this.dirty = true;
          this.log(`security group refresh failed: ${(err as Error).message}`);
        }
      }
      if (this.stopped) return;
      let due = false;
      await new Promise<void>((resolve) => {
        // Timed from the last full reconcile, not from this wait: firewall refreshes coming
        // more often than the interval must not put the poll off for ever.
        const t = setTimeout(
          () => {
            due = true;
            resolve();
          },
          Math.max(0, this.lastReconcile + interval - Date.now()),
        );
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
        if (this.dirty || this.changedRules.size || this.changedMembers.size) this.wake();
      });
      this.wake = undefined;
      // Polling: a full reconcile at least every interval, so a missed notification heals within
      // one; a security group change alone, between polls, is a firewall refresh.
      if (due || Date.now() - this.lastReconcile >= interval) this.dirty = true;
    }
  }

  /** Fetches what changed of the groups in question and has the backend refresh the firewall. */
  private async refreshFirewall(): Promise<void> {
    const s = this.lastState as HostState;
    // Those heard during a reconcile were not filtered yet.
    const rules = [...this.changedRules].filter((id) => id in s.security_groups);
    const members = [...this.changedMembers].filter((id) => id in s.sg_member_ips);
    this.changedRules.clear();
    this.changedMembers.clear();
    if (rules.length === 0 && members.length === 0) return;
    const info = await this.client.getSecurityGroupInfo(rules, members);
    const next: HostState = {
      ...s,
      security_groups: { ...s.security_groups, ...info.security_groups },
      sg_member_ips: { ...s.sg_member_ips, ...info.sg_member_ips },
    };
    await this.backend.refreshFirewall?.(next);
    this.lastState = next;
    this.firewallRefreshes++;
  }

  /** Announces this host's tunnel endpoint and learns the others (once; notifications follow). */
  private async syncTunnels(): Promise<void> {
    const sync = this.backend.tunnelSync?.();
    if (!sync || this.tunnelsSynced) return;
    for (const type of sync.types) {
      const r = await this.client.tunnelSync(sync.localIp, type);
      this.backend.tunnelEndpoints?.(
        type,
        r.tunnels.map((t) => t.ip_address),
        'add',
      );
    }
    this.tunnelsSynced = true;
  }

  private async reconcile(): Promise<void> {
    await this.syncTunnels();
    const state = await this.client.getHostState();
    const wired = await this.backend.apply(state);
    this.lastState = state;
    this.devices = state.ports.length;
    const up: string[] = [];
    const down: string[] = [];
    const key = (p: HostPort) => `${p.revision_number}:${p.status}`;
    for (const p of state.ports) {
      if (!wired.has(p.id)) {
        // Its device is gone (the VM was destroyed without unbinding): the port is down, as the
        // Linux bridge agent reports a vanished tap; plugging it again turns it ACTIVE again.
        if (p.status === 'ACTIVE') down.push(p.id);
        continue;
      }
      if (p.admin_state_up && p.status !== 'ACTIVE' && this.reported.get(p.id) !== key(p)) up.push(p.id);
      if (!p.admin_state_up && p.status === 'ACTIVE') down.push(p.id);
    }
    const present = new Set(state.ports.map((p) => p.id));
    for (const id of this.reported.keys()) if (!present.has(id)) this.reported.delete(id);
    if (up.length || down.length) {
      const r = await this.client.updateDeviceList(up, down);
      for (const p of state.ports) if (r.devices_up.includes(p.id)) this.reported.set(p.id, key(p));
      if (r.failed_devices_up.length || r.failed_devices_down.length) this.dirty = true;
    }
    this.syncs++;
    if (this.syncs === 1) this.log(`first reconcile done: ${state.ports.length} ports on this host`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.listener?.stop();
    await Promise.allSettled([...this.loops, this.reporter.stop()]);
    await this.backend.close?.();
  }
}
