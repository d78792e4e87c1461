// The L3 agent (Neutron's legacy router): a reconciler like the DHCP agent. It registers and
// heartbeats (agent_type `L3 agent`) and makes this host hold exactly the routers the server
// schedules to it: for each, a `qrouter-` namespace with its ports' devices, addresses, routes and
// NAT (router.ts, from plan.ts). A full pass — at start and every periodic_interval, Neutron's
// periodic_sync_routers_task — asks get_router_ids and sync_routers (which binds the routers' ports
// to this host, so its L2 agent wires them) and compares the answer with what exists (routers
// known, `qrouter-` namespaces on this host): routers no longer scheduled here are removed, also
// those a previous agent left. Notifications (routers_updated, router_added_to_agent, …) mark
// single routers for a pass of their own; marks arriving close together are served by one
// sync_routers call. After each router's apply, update_floatingip_statuses tells the server which
// floating IPs are ACTIVE (applied), ERROR (not servable) or DOWN (no longer here). HA and DVR
// routers are served as legacy ones. A restarted agent adopts the namespaces, devices and NAT
// tables its predecessor left: it diffs, it does not recreate (connections through NAT survive).
import type { AgentState, FloatingIpStatus, SyncRouter } from '../../rpc/contract.js';
import {
  AGENT_TYPE_L3,
  L3PluginRpcClient,
  type Listener,
  listenL3Agent,
  ServerRpcClient,
  TOPIC,
  type Transport,
} from '../../rpc/index.js';
import { listNetns, type Runner, valid } from '../../system/index.js';
import { each, ReconcileLoop, StateReporter } from '../common/agent-loop.js';
import { type InterfaceDriver, VethInterfaceDriver } from '../common/interface.js';
import { routerOfNamespace } from './names.js';
import { planRouter } from './plan.js';
import { RouterKernel } from './router.js';

export interface L3AgentOptions {
  host: string;
  /** [agent] host_namespace: the namespace standing for this host ('' = this host). */
  hostNamespace: string;
  reportIntervalSec: number;
  /** [DEFAULT] periodic_interval: seconds between full syncs. */
  periodicIntervalSec: number;
  /** Routers set up side by side ([DEFAULT] num_sync_threads). */
  numSyncThreads: number;
  /** [DEFAULT] send_arp_for_ha: gratuitous ARPs per new gateway or floating address. */
  garpCount: number;
  availabilityZone?: string;
  /** Marks within this long after a pass wait for the next one (batching); default 100 ms. */
  batchMs?: number;
  timeoutMs?: number;
  log?: (msg: string) => void;
  driver?: InterfaceDriver;
  run?: Runner;
}

/** What the agent has done (tests and the benchmark read it). */
export interface L3AgentStats {
  passes: number;
  fullPasses: number;
  applies: number;
  natWrites: number;
  removals: number;
}

/** Neutron's sync_routers_chunk_size. */
const SYNC_CHUNK = 256;

type Action = 'sync' | 'remove';

export class L3Agent {
  private readonly server: ServerRpcClient;
  readonly plugin: L3PluginRpcClient;
  private readonly reporter: StateReporter;
  private readonly loop: ReconcileLoop;
  private listener?: Listener;
  private readonly driver: InterfaceDriver;
  /** The routers this host holds, by id, with the last plan applied. */
  readonly routers = new Map<string, { kernel: RouterKernel; router: SyncRouter; fips: Set<string> }>();
  private readonly pending = new Map<string, Action>();
  private fullPending = true;
  private lastFull = 0;
  private firstFull = true;
  readonly stats: L3AgentStats = { passes: 0, fullPasses: 0, applies: 0, natWrites: 0, removals: 0 };

  constructor(
    private readonly transport: Transport,
    private readonly o: L3AgentOptions,
  ) {
    this.server = new ServerRpcClient(transport, { host: o.host, timeoutMs: o.timeoutMs });
    this.plugin = new L3PluginRpcClient(transport, { host: o.host, timeoutMs: o.timeoutMs });
    this.driver = o.driver ?? new VethInterfaceDriver();
    this.reporter = new StateReporter(this.server, (f) => this.state(f), { reportIntervalSec: o.reportIntervalSec, log: o.log });
    this.loop = new ReconcileLoop(() => this.pass(), {
      intervalMs: o.periodicIntervalSec * 1000,
      minGapMs: o.batchMs ?? 100,
      log: o.log,
    });
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  private state(startFlag: boolean): AgentState {
    let interfaces = 0;
    let gateways = 0;
    let fips = 0;
    for (const { router } of this.routers.values()) {
      interfaces += router._interfaces.length;
      gateways += router.gw_port ? 1 : 0;
      fips += router._floatingips.length;
    }
    return {
      binary: 'neutrino-l3-agent',
      host: this.o.host,
      topic: TOPIC.L3_AGENT,
      agent_type: AGENT_TYPE_L3,
      start_flag: startFlag,
      availability_zone: this.o.availabilityZone ?? null,
      configurations: {
        agent_mode: 'legacy',
        routers: this.routers.size,
        ex_gw_ports: gateways,
        interfaces,
        floating_ips: fips,
        handle_internal_only_routers: true,
        interface_driver: this.driver.constructor.name,
        log_agent_heartbeats: false,
        ...(this.o.hostNamespace ? { host_namespace: this.o.hostNamespace } : {}),
      },
    };
  }

  async start(): Promise<void> {
    const mark = (ids: unknown[], action: Action) => {
      for (const id of ids) if (valid.isUuid(id)) this.pending.set(id, action);
      this.loop.poke();
    };
    const full = () => {
      this.fullPending = true;
      this.loop.poke();
    };
    this.listener = await listenL3Agent(this.transport, this.o.host, {
      routers_updated: ({ routers }) => mark(Array.isArray(routers) ? routers : [], 'sync'),
      router_added_to_agent: ({ payload }) => mark(Array.isArray(payload) ? payload : [], 'sync'),
      router_deleted: ({ router_id }) => mark([router_id], 'remove'),
      router_removed_from_agent: ({ payload }) => mark([payload?.router_id], 'remove'),
      agent_updated: full,
    });
    this.reporter.start();
    // Not before the server knows this agent: until then get_router_ids answers [] for this host,
    // and a full sync would take that for "no routers here" and remove what a restart should adopt.
    this.loop.startAfter(this.reporter.registration);
  }

  /** Completed passes. */
  get passes(): number {
    return this.loop.runs;
  }

  /** Asks for a full sync now (tests, benchmarks). */
  resync(): void {
    this.fullPending = true;
    this.loop.poke();
  }

  private kernel(id: string): RouterKernel {
    return (
      this.routers.get(id)?.kernel ??
      new RouterKernel(id, {
        hostNamespace: this.o.hostNamespace,
        driver: this.driver,
        garpCount: this.o.garpCount,
        log: (m) => this.log(m),
        run: this.o.run,
      })
    );
  }

  private async pass(): Promise<void> {
    const due = Date.now() - this.lastFull >= this.o.periodicIntervalSec * 1000;
    if (this.fullPending || due) await this.fullPass();
    else await this.partialPass();
    this.stats.passes++;
  }

  /** Makes one router as the server sees it, then reports its floating IPs' statuses. */
  private async serve(router: SyncRouter, verify: boolean): Promise<void> {
    const kernel = this.kernel(router.id);
    const plan = planRouter(router, this.o.hostNamespace);
    for (const p of plan.problems) this.log(`router ${router.id}: ${p}`);
    const known = this.routers.get(router.id);
    const r = await kernel.apply(plan, verify || !known);
    this.stats.applies++;
    if (r.natWritten) this.stats.natWrites++;
    const applied = new Set(plan.floatingIps.map((f) => f.id));
    const statuses: Record<string, FloatingIpStatus> = {};
    for (const f of router._floatingips) {
      const status = applied.has(f.id) ? 'ACTIVE' : 'ERROR';
      if (f.status !== status) statuses[f.id] = status;
    }
    const now = new Set(router._floatingips.map((f) => f.id));
    for (const id of known?.fips ?? []) if (!now.has(id)) statuses[id] = 'DOWN';
    this.routers.set(router.id, { kernel, router, fips: applied });
    if (Object.keys(statuses).length) await this.plugin.updateFloatingipStatuses(router.id, statuses);
  }

  private async remove(id: string): Promise<void> {
    const kernel = this.kernel(id);
    const known = this.routers.get(id);
    this.routers.delete(id);
    try {
      await kernel.remove();
    } catch (err) {
      // Known again, so the next pass tries once more.
      if (known) this.routers.set(id, known);
      throw err;
    }
    if (!known) return;
    this.stats.removals++;
    this.log(`router ${id}: no longer on this host`);
  }

  private async fullPass(): Promise<void> {
    this.fullPending = false;
    const started = Date.now();
    // What is marked after the fetch below is not in it: those marks stay for the next pass.
    const marked = new Map(this.pending);
    this.pending.clear();
    let routers: SyncRouter[];
    try {
      const ids = await this.plugin.getRouterIds();
      routers = [];
      for (let i = 0; i < ids.length; i += SYNC_CHUNK)
        routers.push(...(await this.plugin.syncRouters(ids.slice(i, i + SYNC_CHUNK))));
    } catch (err) {
      for (const [id, a] of marked) if (!this.pending.has(id)) this.pending.set(id, a);
      this.fullPending = true;
      throw err;
    }
    const wanted = new Map(routers.filter((r) => valid.isUuid(r.id)).map((r) => [r.id, r]));
    // Routers held here, or left by a previous agent (their namespaces).
    const present = new Set(this.routers.keys());
    for (const ns of await listNetns(this.o.run)) {
      const id = routerOfNamespace(ns, this.o.hostNamespace);
      if (id) present.add(id);
    }
    const stale = [...present].filter((id) => !wanted.has(id));
    await each([...stale, ...wanted.keys()], this.o.numSyncThreads, async (id) => {
      const router = wanted.get(id);
      if (router) await this.serve(router, true);
      else await this.remove(id);
    });
    this.lastFull = started;
    this.stats.fullPasses++;
    if (this.firstFull) {
      this.firstFull = false;
      this.log(`first full sync done: ${wanted.size} routers on this host`);
    }
  }

  private async partialPass(): Promise<void> {
    const work = [...this.pending];
    this.pending.clear();
    const sync = work.filter(([, a]) => a === 'sync').map(([id]) => id);
    const gone = work.filter(([, a]) => a === 'remove').map(([id]) => id);
    try {
      const routers = sync.length ? await this.plugin.syncRouters(sync) : [];
      const got = new Map(routers.filter((r) => valid.isUuid(r.id)).map((r) => [r.id, r]));
      // Asked for and not given: deleted, unscheduled or administratively down.
      for (const id of sync) if (!got.has(id)) gone.push(id);
      await each([...gone.map((id) => [id, undefined] as const), ...got], this.o.numSyncThreads, async ([id, router]) => {
        try {
          if (router) await this.serve(router, false);
          else await this.remove(id);
        } catch (err) {
          if (!this.pending.has(id)) this.pending.set(id, router ? 'sync' : 'remove');
          throw err;
        }
      });
    } catch (err) {
      for (const [id, a] of work) if (!this.pending.has(id)) this.pending.set(id, a);
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.listener?.stop();
    await Promise.allSettled([this.reporter.stop(), this.loop.stop()]);
    await Promise.allSettled([...this.routers.values()].map((r) => r.kernel.settle()));
  }
}
