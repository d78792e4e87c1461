// The Open vSwitch L2 backend. Each apply plans against the OVSDB replica (plan.ts), then:
//  1. one OVSDB transaction for bridges, patch and tunnel ports (waiting until ovs-vswitchd has
//     them, so they have OpenFlow port numbers);
//  2. the flow tables (flows.ts), each bridge replaced in one OpenFlow bundle (`ovs-ofctl --bundle
//     replace-flows`) and only when its text changed since the last apply — or when br-int's canary
//     flow is gone (ovs-vswitchd restarted) — all with this run's cookie: a restarted agent turns
//     every flow to its new cookie in one bundle, without a moment with no flows;
//  3. one OVSDB transaction for VM port tags (a port joins its local VLAN only once its flows are
//     in) and the patch ports' real peers (the drop flows that guard them are in).
// watch() follows the replica: a VM port (iface-id) appearing, leaving or getting its OpenFlow port
// reconciles at once. OVSDB is spoken natively (src/system/ovsdb); no ovs-vsctl.
import { randomBytes } from 'node:crypto';
import type { HostState } from '../../rpc/contract.js';
import { OfCtl, ovsdbData, type Row, type Runner, VSwitch, type VsOp } from '../../system/index.js';
import type { L2Backend } from '../common/l2-agent.js';
import { buildFlows } from './flows.js';
import { INT, type TunnelType } from './names.js';
import { type OvsAgentOptions, planConnect, planSwitch, tunnelling } from './plan.js';

/** The agent_type Neutron's OVS agent reports, which ML2's openvswitch driver binds to. */
export const AGENT_TYPE_OVS = 'Open vSwitch agent';

export interface OvsBackendOptions extends OvsAgentOptions {
  /** `unix:PATH` or `tcp:HOST:PORT` of ovsdb-server. */
  ovsdbConnection: string;
  /** ovs-vswitchd's run directory (its `<bridge>.mgmt` sockets). */
  rundir: string;
  /** Seconds an OVSDB transaction (and ovs-vswitchd acting on it) may take. */
  ovsdbTimeoutSec: number;
  /** Seconds an ovs-ofctl call may take. */
  ofTimeoutSec: number;
  /** The OVSDB connection's echo interval, s (0: none). */
  probeIntervalSec: number;
  /** What report_state carries in `configurations`. */
  configurations: Record<string, unknown>;
  /** This run's flow cookie (default: random, as Neutron's agent takes a new one per start). */
  cookie?: string;
  /** How often at most br-int's canary flow is checked, ms. */
  canaryIntervalMs?: number;
  log?: (msg: string) => void;
  run?: Runner;
}

/** What the last apply did (tests and benchmarks read it). */
export interface OvsApplyStats {
  ovsdbOps: number;
  portOps: number;
  /** Bridges whose flows were replaced. */
  flowsReplaced: string[];
  flowCount: number;
  problems: string[];
}

export class OvsBackend implements L2Backend {
  readonly cookie: string;
  private readonly vs: VSwitch;
  private readonly ofctl: OfCtl;
  private lvids = new Map<string, number>();
  /** Each bridge's flow text as last installed by this run. */
  private readonly installed = new Map<string, string>();
  private lastCanary = 0;
  private started?: Promise<void>;
  private reportedProblems = new Set<string>();
  private unwatch?: () => void;
  /** Tunnel endpoints from tunnel_sync (without l2population). */
  private endpoints: Partial<Record<TunnelType, string[]>> = {};
  last: OvsApplyStats = { ovsdbOps: 0, portOps: 0, flowsReplaced: [], flowCount: 0, problems: [] };

  constructor(private readonly o: OvsBackendOptions) {
    this.cookie = o.cookie ?? `0x${randomBytes(8).toString('hex').replace(/^0+/, '') || '1'}`;
    this.vs = new VSwitch(o.ovsdbConnection, {
      timeoutMs: o.ovsdbTimeoutSec * 1000,
      probeMs: o.probeIntervalSec * 1000,
      log: (m) => this.log(m),
    });
    this.ofctl = new OfCtl({ rundir: o.rundir, timeoutSec: o.ofTimeoutSec, run: o.run });
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  /** Connects to OVSDB on first use; a failed attempt is tried again by the next apply. */
  private start(): Promise<void> {
    this.started ??= this.vs.start().catch((err) => {
      this.started = undefined;
      throw new Error(`OVSDB ${this.o.ovsdbConnection}: ${(err as Error).message}`);
    });
    return this.started;
  }

  tunnelSync(): { localIp: string; types: string[] } | undefined {
    if (this.o.l2Population || !tunnelling(this.o)) return undefined;
    return { localIp: this.o.localIp!, types: this.o.tunnelTypes };
  }

  tunnelEndpoints(type: string, ips: string[], how: 'add' | 'delete'): void {
    const t = type as TunnelType;
    const cur = new Set(this.endpoints[t] ?? []);
    for (const ip of ips) {
      if (how === 'delete') cur.delete(ip);
      else cur.add(ip);
    }
    this.endpoints[t] = [...cur].sort();
  }

  /** Whether br-int's canary flow (table 23, this run's cookie) is missing: ovs-vswitchd lost its
   * flows (restarted), so every bridge is installed again. Checked at most every canaryIntervalMs. */
  private async canaryMissing(): Promise<boolean> {
    if (!this.installed.has(this.o.integrationBridge)) return false;
    const now = Date.now();
    if (now - this.lastCanary < (this.o.canaryIntervalMs ?? 2000)) return false;
    this.lastCanary = now;
    const flows = await this.ofctl.dumpFlows(this.o.integrationBridge, `table=${INT.CANARY}`).catch(() => []);
    if (flows.some((f) => f.cookie === this.cookie)) return false;
    this.log(`the canary flow of ${this.o.integrationBridge} is gone (ovs-vswitchd restarted?): installing every flow again`);
    this.installed.clear();
    return true;
  }

  async apply(state: HostState): Promise<Set<string>> {
    await this.start();
    const plan = planSwitch({ state, snap: this.vs.snapshot(), o: this.o, lvids: this.lvids, endpoints: this.endpoints });
    const problems = [...plan.problems];
    if (plan.ops.length) await this.vs.apply(plan.ops, { comment: 'neutrino-openvswitch-agent: bridges and ports' });
    this.lvids = plan.lvids;
    const fp = buildFlows({ state, plan, snap: this.vs.snapshot(), o: this.o, cookie: this.cookie });
    problems.push(...fp.problems);
    await this.canaryMissing();
    const failed = new Set<string>();
    const replaced: string[] = [];
    // br-int last: by then the paths its flows lead to are in place.
    const order = [...fp.bridges.keys()].sort(
      (a, b) => Number(a === this.o.integrationBridge) - Number(b === this.o.integrationBridge),
    );
    for (const br of order) {
      const flows = fp.bridges.get(br)!;
      const text = flows.join('\n');
      if (this.installed.get(br) === text) continue;
      try {
        await this.ofctl.replaceFlows(br, flows);
        this.installed.set(br, text);
        replaced.push(br);
      } catch (err) {
        this.installed.delete(br);
        failed.add(br);
        problems.push(`flows of ${br}: ${(err as Error).message}`);
      }
    }
    const after: VsOp[] = [...(failed.has(this.o.integrationBridge) ? [] : plan.portOps)];
    const connect = planConnect(this.vs.snapshot(), this.o);
    if (failed.size === 0) after.push(...connect);
    let portsOk = true;
    if (after.length) {
      try {
        await this.vs.apply(after, { comment: 'neutrino-openvswitch-agent: port tags and patch peers' });
      } catch (err) {
        portsOk = false;
        problems.push(`port tags: ${(err as Error).message}`);
      }
    }
    this.last = {
      ovsdbOps: plan.ops.length,
      portOps: after.length,
      flowsReplaced: replaced,
      flowCount: [...fp.bridges.values()].reduce((n, f) => n + f.length, 0),
      problems,
    };
    this.logProblems(problems);
    const wired = new Set<string>();
    if (!portsOk) return wired;
    for (const id of fp.wired) if (!(fp.portBridges.get(id) ?? []).some((b) => failed.has(b))) wired.add(id);
    return wired;
  }

  /** Each problem logged once while it lasts. */
  private logProblems(problems: string[]): void {
    const now = new Set(problems);
    for (const msg of now) if (!this.reportedProblems.has(msg)) this.log(msg);
    this.reportedProblems = now;
  }

  configurations(): Record<string, unknown> {
    return this.o.configurations;
  }

  /** Reconciles at once when a VM port (external_ids:iface-id) appears on or leaves a bridge, gets
   * its OpenFlow port, or when the OVSDB connection is made again. The agent's own changes (tags,
   * patch and tunnel ports) don't touch iface-id interfaces, so they wake nothing. */
  watch(changed: () => void): void {
    if (this.unwatch) return;
    const vm = (row?: Row) => !!row && row.external_ids !== undefined && 'iface-id' in ovsdbData.map(row.external_ids);
    this.unwatch = this.vs.subscribe((c) => {
      if (c.kind === 'reset') return changed();
      for (const { old, new: now } of Object.values(c.updates.Interface ?? {})) {
        if (!old || !now) {
          if (vm(old) || vm(now)) return changed(); // inserted or deleted
        } else if ((vm(now) || vm(old)) && ('ofport' in old || 'external_ids' in old)) return changed();
      }
    });
  }

  async close(): Promise<void> {
    this.unwatch?.();
    this.vs.close();
  }
}
