// The L2 agent's life, shared by every backend (DESIGN.md principle 3): it registers with
// report_state and keeps heartbeating; it fetches the desired state of its host (get_host_state),
// has its backend make the host match, and reports the ports it has wired up (and the ones it
// took down) with update_device_list. Notifications only wake the loop early; a lost one is made
// up for by the next poll, and a restart starts from the server's state, never from scratch.
import type { AgentState, HostPort, HostState } from '../../rpc/contract.js';
import { type Listener, listenAgentNotifications, ServerRpcClient, type Transport } from '../../rpc/index.js';
import { ReconcileLoop, StateReporter } from './agent-loop.js';

/** What makes a host match its desired state: Linux bridges, OVS, or nothing (noop). */
export interface L2Backend {
  /** Applies `state`; returns the ids of the ports whose wiring is now in place. */
  apply(state: HostState): Promise<Set<string>>;
  /** What report_state carries in `configurations` besides the devices count. */
  configurations(): Record<string, unknown>;
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
  private readonly reporter: StateReporter;
  private readonly loop: ReconcileLoop;
  private devices = 0;
  /** Ports reported up at a revision, so a port is not reported again until it changes. */
  private reported = new Map<string, string>();
  private tunnelsSynced = false;

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
    this.loop = new ReconcileLoop(() => this.reconcile(), { intervalMs: opts.pollingIntervalSec * 1000, log: opts.log });
  }

  /** Completed reconciliations (tests and benchmarks wait on it). */
  get syncs(): number {
    return this.loop.runs;
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
      port_delete: resync,
      network_update: resync,
      network_delete: resync,
      security_groups_rule_updated: resync,
      security_groups_member_updated: resync,
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
    this.loop.start();
  }

  /** Something changed: reconcile now rather than at the next poll. */
  poke(): void {
    this.loop.poke();
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
      if (r.failed_devices_up.length || r.failed_devices_down.length) this.poke();
    }
    if (this.loop.runs === 0) this.log(`first reconcile done: ${state.ports.length} ports on this host`);
  }

  async stop(): Promise<void> {
    await this.listener?.stop();
    await Promise.allSettled([this.reporter.stop(), this.loop.stop()]);
    await this.backend.close?.();
  }
}
