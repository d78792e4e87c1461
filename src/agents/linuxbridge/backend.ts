// The Linux bridge L2 backend: makes a host (or a namespace standing in for one) match its desired
// state. Each apply reads the kernel (links, FDB, the anti-spoofing table's hash), plans the
// difference (plan.ts) and applies it: the nft table first (a tap is never on a bridge without its
// port's filter), then one `ip -batch`, then one `bridge -batch` for the l2population entries.
// A failed line is logged and retried by the next reconcile; the ports reported wired are read
// back from the kernel afterwards. watch() follows `ip monitor link`, so a new tap is wired at once
// rather than at the next poll.
import type { HostState } from '../../rpc/contract.js';
import { Bridge, Ip, LinkMonitor, Nft, type Runner } from '../../system/index.js';
import type { L2Backend } from '../common/l2-agent.js';
import { antispoofRuleset, NFT_FAMILY, NFT_TABLE } from './antispoof.js';
import { tapName } from './names.js';
import { type LinuxBridgeOptions, plan, wiredPorts } from './plan.js';

/** The agent_type Neutron's Linux bridge agent reports, which ML2's linuxbridge driver binds to. */
export const AGENT_TYPE_LINUXBRIDGE = 'Linux bridge agent';

export interface LinuxBridgeBackendOptions extends LinuxBridgeOptions {
  /** Act inside this network namespace (a simulated host); '' or undefined = this host. */
  namespace?: string;
  /** Port security with nftables ([securitygroup] enable_security_group). */
  enableSecurityGroup: boolean;
  /** What report_state carries in `configurations`. */
  configurations: Record<string, unknown>;
  log?: (msg: string) => void;
  run?: Runner;
}

/** What the last apply did (tests and benchmarks read it). */
export interface ApplyStats {
  ipCommands: number;
  fdbCommands: number;
  nftApplied: boolean;
  problems: string[];
}

export class LinuxBridgeBackend implements L2Backend {
  private readonly ip: Ip;
  private readonly bridge: Bridge;
  private readonly nft: Nft;
  private reportedProblems = new Set<string>();
  private monitor?: LinkMonitor;
  /** The taps of the ports in the last desired state (the ones a link event is worth a reconcile for). */
  private knownTaps = new Set<string>();
  last: ApplyStats = { ipCommands: 0, fdbCommands: 0, nftApplied: false, problems: [] };

  constructor(private readonly o: LinuxBridgeBackendOptions) {
    const tool = { netns: o.namespace, run: o.run };
    this.ip = new Ip(tool);
    this.bridge = new Bridge(tool);
    this.nft = new Nft(tool);
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  async apply(state: HostState): Promise<Set<string>> {
    // The three reads are independent: run them side by side (each is a process spawn).
    const multicast = !this.o.l2Population && this.o.enableVxlan && !!this.o.localIp;
    const [links, fdb, nftHash, addrs] = await Promise.all([
      this.ip.links(),
      this.o.l2Population ? this.bridge.fdb() : Promise.resolve([]),
      this.o.enableSecurityGroup ? this.nft.tableComment(NFT_FAMILY, NFT_TABLE).catch((err: Error) => err) : undefined,
      multicast ? this.ip.addresses() : Promise.resolve([]),
    ]);
    const vtepDevice = addrs.find((a) => a.addr_info.some((i) => i.local === this.o.localIp))?.ifname;
    const p = plan(state, { ...this.o, vtepDevice }, links, fdb);
    this.knownTaps = new Set(state.ports.map((port) => tapName(port.id)));
    const problems = [...p.problems.values()];
    let nftOk = true;
    let nftApplied = false;
    if (this.o.enableSecurityGroup) {
      const ports = [...p.networks.values()].flatMap((n) => n.ports);
      try {
        if (nftHash instanceof Error) throw nftHash;
        nftApplied = await this.applyAntispoof(ports, nftHash);
      } catch (err) {
        nftOk = false;
        problems.push(`port security (nftables): ${(err as Error).message}`);
      }
    }
    let ipError = '';
    try {
      await this.ip.batch(p.ip);
    } catch (err) {
      ipError = (err as Error).message;
      problems.push(`ip -batch: ${ipError}`);
    }
    try {
      await this.bridge.batch(p.fdb);
    } catch (err) {
      problems.push(`bridge -batch: ${(err as Error).message}`);
    }
    // After a clean batch the kernel holds what was planned; read it back only after a failure.
    const after = ipError ? await this.ip.links() : links;
    const present = new Set([...after.map((l) => l.ifname), ...(ipError ? [] : p.created)]);
    for (const n of p.networks.values()) {
      if (!n.uplink || present.has(n.uplink.name)) continue;
      // Name the cause where the kernel is known to lack the device type (netlab: no 8021q here).
      const hint =
        n.uplink.kind === 'vlan' && /Unknown device type/.test(ipError)
          ? ': this kernel has no 802.1Q VLAN support (8021q); VLAN networks need it, or Open vSwitch'
          : '';
      problems.push(`network ${n.id} (${n.uplink.kind}): could not create ${n.uplink.name}${hint}`);
    }
    this.last = { ipCommands: p.ip.length, fdbCommands: p.fdb.length, nftApplied, problems };
    this.logProblems(problems);
    const wired = wiredPorts(p.networks, after, !ipError);
    if (!nftOk) {
      // Without its filter a secured port is not wired; it stays DOWN until nft works.
      for (const n of p.networks.values()) for (const port of n.ports) if (port.port_security_enabled) wired.delete(port.id);
    }
    return wired;
  }

  /** Replaces the anti-spoofing table when its content changed; returns whether it did. */
  private async applyAntispoof(ports: HostState['ports'], current: string | undefined): Promise<boolean> {
    const { body, hash } = antispoofRuleset(ports);
    if (!body) {
      if (current === undefined) return false;
      await this.nft.deleteTable(NFT_FAMILY, NFT_TABLE);
      return true;
    }
    if (current === hash) return false;
    await this.nft.replaceTable(NFT_FAMILY, NFT_TABLE, body, hash);
    return true;
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

  /** Watches the host's links (`ip monitor link`): the tap of a port of this host that appears, is
   * deleted, or is off any bridge calls `changed` at once. Taps this agent puts on a bridge (events
   * naming a master) do not, nor taps of ports not (yet) bound here: their binding notifies the agent. */
  watch(changed: () => void): void {
    if (this.o.run || this.monitor) return; // a recording fake runner: no kernel to watch
    this.monitor = new LinkMonitor(
      (e) => {
        if (this.knownTaps.has(e.ifname) && (e.deleted || !e.master)) changed();
      },
      { netns: this.o.namespace, log: (m) => this.log(m) },
    );
    this.monitor.start();
  }

  async close(): Promise<void> {
    await this.monitor?.stop();
  }
}
