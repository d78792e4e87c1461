// The DHCP agent: a reconciler, like the L2 agent. It registers and heartbeats (agent_type `DHCP
// agent`), and makes this host serve exactly the networks the server schedules to it: for each, a
// namespace with the DHCP port's device and one dnsmasq (network.ts). A full pass (every
// resync_interval, and at start) compares get_active_networks_info with what exists — networks
// known here, dnsmasq directories on disk, qdhcp namespaces — and removes what is no longer
// wanted. Notifications (network/subnet/port *_end) mark single networks for a quick pass of
// their own; pokes arriving close together are served by one pass, so many port changes cost one
// reload. dnsmasq is supervised: a dead one is started again within check_child_processes_interval.
// A restarted agent finds the dnsmasqs its predecessor left and adopts those that run with the
// command line it would give them. Ports whose host entries are served are reported with one
// dhcp_ready_on_ports per pass.
import { readdirSync } from 'node:fs';
import type { AgentState, DhcpNetwork, DhcpPayload } from '../../rpc/contract.js';
import { AGENT_TYPE_DHCP, type Listener, listenDhcpAgent, ServerRpcClient, type Transport } from '../../rpc/index.js';
import { ensureDir, listNetns, type Runner, untraversable } from '../../system/index.js';
import { each, ReconcileLoop, StateReporter } from '../common/agent-loop.js';
import { type InterfaceDriver, VethInterfaceDriver } from '../common/interface.js';
import type { DhcpSettings } from './config.js';
import { networkOfNamespace } from './names.js';
import { NetworkDhcp } from './network.js';

export interface DhcpAgentOptions {
  host: string;
  /** [agent] host_namespace: the namespace standing for this host ('' = this host). */
  hostNamespace: string;
  /** [DEFAULT] dhcp_confs */
  confsDir: string;
  settings: DhcpSettings;
  /** [DEFAULT] dnsmasq_base_log_dir */
  logDir?: string | null;
  reportIntervalSec: number;
  /** [DEFAULT] resync_interval: seconds between full passes. */
  resyncIntervalSec: number;
  /** [DEFAULT] num_sync_threads: networks set up side by side. */
  numSyncThreads: number;
  /** [agent] check_child_processes_interval; 0 = no supervision. */
  checkChildIntervalSec: number;
  availabilityZone?: string;
  /** Pokes within this long after a pass wait for the next one (batching); default 200 ms. */
  batchMs?: number;
  timeoutMs?: number;
  log?: (msg: string) => void;
  driver?: InterfaceDriver;
  run?: Runner;
}

type Action = 'refresh' | 'enable' | 'disable';

/** What the agent has done (tests and the benchmark read it). */
export interface DhcpAgentStats {
  passes: number;
  fullPasses: number;
  reloads: number;
  starts: number;
  respawns: number;
  readyReported: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class DhcpAgent {
  private readonly client: ServerRpcClient;
  private readonly reporter: StateReporter;
  private readonly loop: ReconcileLoop;
  private listener?: Listener;
  private supervisor?: NodeJS.Timeout;
  private readonly driver: InterfaceDriver;
  /** The networks this host serves, by id. */
  readonly networks = new Map<string, NetworkDhcp>();
  private readonly pending = new Map<string, Action>();
  /** Networks whose kernel side must be checked again on their next apply. */
  private readonly verify = new Set<string>();
  private fullPending = true;
  private lastFull = 0;
  private firstFull = true;
  readonly stats: DhcpAgentStats = { passes: 0, fullPasses: 0, reloads: 0, starts: 0, respawns: 0, readyReported: 0 };

  constructor(
    private readonly transport: Transport,
    private readonly o: DhcpAgentOptions,
  ) {
    this.client = new ServerRpcClient(transport, { host: o.host, timeoutMs: o.timeoutMs });
    this.driver = o.driver ?? new VethInterfaceDriver();
    this.reporter = new StateReporter(this.client, (f) => this.state(f), { reportIntervalSec: o.reportIntervalSec, log: o.log });
    this.loop = new ReconcileLoop(() => this.pass(), {
      intervalMs: o.resyncIntervalSec * 1000,
      minGapMs: o.batchMs ?? 200,
      log: o.log,
    });
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  private state(startFlag: boolean): AgentState {
    let ports = 0;
    let subnets = 0;
    for (const n of this.networks.values()) [ports, subnets] = [ports + n.portCount, subnets + n.subnetCount];
    return {
      binary: 'neutrino-dhcp-agent',
      host: this.o.host,
      topic: 'dhcp_agent',
      agent_type: AGENT_TYPE_DHCP,
      start_flag: startFlag,
      availability_zone: this.o.availabilityZone ?? null,
      configurations: {
        dhcp_driver: 'neutron.agent.linux.dhcp.Dnsmasq',
        dhcp_lease_duration: this.o.settings.leaseDuration,
        log_agent_heartbeats: false,
        networks: this.networks.size,
        subnets,
        ports,
        ...(this.o.hostNamespace ? { host_namespace: this.o.hostNamespace } : {}),
      },
    };
  }

  async start(): Promise<void> {
    const blocked = untraversable(this.o.confsDir);
    if (blocked) {
      throw new Error(
        `dnsmasq reads its files as user nobody, who cannot traverse ${blocked} on the way to ${this.o.confsDir}: ` +
          `set [DEFAULT] dhcp_confs (or state_path) to a directory others may traverse, e.g. /var/lib/neutrino/dhcp, or chmod o+x ${blocked}`,
      );
    }
    ensureDir(this.o.confsDir);
    const mark = (id: string | undefined, action: Action) => {
      if (!id || !UUID.test(id)) return;
      this.pending.set(id, action);
      this.loop.poke();
    };
    const known = (id: string | undefined, action: Action = 'refresh') => {
      if (id && this.networks.has(id)) mark(id, action);
    };
    const networkOf = (p: DhcpPayload) => p.network_id ?? p.network?.id ?? p.subnet?.network_id ?? p.port?.network_id;
    const full = () => {
      this.fullPending = true;
      this.loop.poke();
    };
    this.listener = await listenDhcpAgent(this.transport, this.o.host, {
      network_create_end: ({ payload }) => mark(networkOf(payload), 'enable'),
      network_delete_end: ({ payload }) => known(networkOf(payload), 'disable'),
      // Enabled or disabled: the full pass knows whether this host serves it.
      network_update_end: full,
      subnet_create_end: ({ payload }) => known(networkOf(payload)),
      subnet_update_end: ({ payload }) => known(networkOf(payload)),
      subnet_delete_end: ({ payload }) => known(networkOf(payload)),
      port_create_end: ({ payload }) => known(networkOf(payload)),
      port_update_end: ({ payload }) => known(networkOf(payload)),
      port_delete_end: ({ payload }) => known(networkOf(payload)),
      agent_updated: full,
    });
    this.reporter.start();
    // Not before the server has this agent's registration: until then get_active_networks_info
    // answers [] for an agent it does not know, and auto-schedules nothing to one it thinks dead;
    // the first full pass would take that for "nothing here", remove the dnsmasqs a restart should
    // adopt and release their DHCP ports, and serve nothing until the next resync.
    this.loop.startAfter(this.reporter.registration);
    if (this.o.checkChildIntervalSec > 0) {
      this.supervisor = setInterval(() => this.supervise(), this.o.checkChildIntervalSec * 1000);
      this.supervisor.unref();
    }
  }

  /** A dnsmasq that died is started again (Neutron's ProcessMonitor, action respawn). */
  private supervise(): void {
    for (const [id, n] of this.networks) {
      if (!n.started || this.pending.has(id) || n.running()) continue;
      this.log(`network ${id}: dnsmasq is not running; respawning it`);
      this.stats.respawns++;
      this.verify.add(id);
      this.pending.set(id, 'refresh');
      this.loop.poke();
    }
  }

  /** Completed passes. */
  get passes(): number {
    return this.loop.runs;
  }

  private network(id: string): NetworkDhcp {
    let n = this.networks.get(id);
    if (!n) {
      n = new NetworkDhcp(id, {
        host: this.o.host,
        hostNamespace: this.o.hostNamespace,
        confsDir: this.o.confsDir,
        settings: this.o.settings,
        logDir: this.o.logDir ?? null,
        client: this.client,
        driver: this.driver,
        log: (m) => this.log(m),
        run: this.o.run,
      });
      this.networks.set(id, n);
      this.verify.add(id);
    }
    return n;
  }

  private async pass(): Promise<void> {
    const due = Date.now() - this.lastFull >= this.o.resyncIntervalSec * 1000;
    const ready: Array<{ ids: string[]; commit: () => void }> = [];
    if (this.fullPending || due) await this.fullPass(ready);
    else await this.partialPass(ready);
    const ids = ready.flatMap((r) => r.ids);
    if (ids.length) {
      await this.client.dhcpReadyOnPorts(ids);
      for (const r of ready) r.commit();
      this.stats.readyReported += ids.length;
    }
    this.stats.passes++;
  }

  /** Serves `info` if it has DHCP-enabled subnets and is up, else stops serving it. */
  private async serve(info: DhcpNetwork, ready: Array<{ ids: string[]; commit: () => void }>): Promise<void> {
    if (!info.admin_state_up || info.subnets.length === 0) {
      await this.disable(info.id);
      return;
    }
    const n = this.network(info.id);
    const verify = this.verify.has(info.id);
    const r = await n.apply(info, verify);
    this.verify.delete(info.id);
    n.portCount = info.ports.length;
    n.subnetCount = info.subnets.length;
    if (r.reloaded) this.stats.reloads++;
    if (r.started) this.stats.starts++;
    ready.push({ ids: r.ready, commit: r.commit });
  }

  private async disable(id: string): Promise<void> {
    const n = this.networks.get(id) ?? this.network(id);
    this.networks.delete(id);
    this.verify.delete(id);
    await n.disable(true).catch((err) => {
      // Known again, so the next pass tries once more.
      this.networks.set(id, n);
      throw err;
    });
    this.log(`network ${id}: no longer served here`);
  }

  private async fullPass(ready: Array<{ ids: string[]; commit: () => void }>): Promise<void> {
    this.fullPending = false;
    const started = Date.now();
    // What arrives after the fetch below is not in it: those marks stay for the next pass.
    const marked = new Map(this.pending);
    this.pending.clear();
    let infos: DhcpNetwork[];
    try {
      infos = await this.client.getActiveNetworksInfo();
    } catch (err) {
      for (const [id, a] of marked) if (!this.pending.has(id)) this.pending.set(id, a);
      this.fullPending = true;
      throw err;
    }
    const wanted = new Map(infos.map((i) => [i.id, i]));
    // Networks this host serves or once served (a previous agent's directories and namespaces).
    const present = new Set(this.networks.keys());
    try {
      for (const d of readdirSync(this.o.confsDir)) if (UUID.test(d)) present.add(d);
    } catch {
      // no directory yet
    }
    for (const ns of await listNetns(this.o.run)) {
      const id = networkOfNamespace(ns, this.o.hostNamespace);
      if (id) present.add(id);
    }
    if (this.firstFull) for (const id of wanted.keys()) this.verify.add(id);
    const stale = [...present].filter((id) => !wanted.has(id));
    await each([...stale, ...wanted.keys()], this.o.numSyncThreads, async (id) => {
      const info = wanted.get(id);
      if (info) await this.serve(info, ready);
      else await this.disable(id);
    });
    this.lastFull = started;
    this.stats.fullPasses++;
    if (this.firstFull) {
      this.firstFull = false;
      this.log(`first full pass done: ${wanted.size} networks served on this host`);
    }
  }

  private async partialPass(ready: Array<{ ids: string[]; commit: () => void }>): Promise<void> {
    const work = [...this.pending];
    this.pending.clear();
    await each(work, this.o.numSyncThreads, async ([id, action]) => {
      try {
        if (action === 'disable') return await this.disable(id);
        const info = await this.client.getNetworkInfo(id);
        if (!info) return await this.disable(id);
        await this.serve(info, ready);
      } catch (err) {
        if (!this.pending.has(id)) this.pending.set(id, action);
        throw err;
      }
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.supervisor);
    await this.listener?.stop();
    await Promise.allSettled([this.reporter.stop(), this.loop.stop()]);
  }
}
