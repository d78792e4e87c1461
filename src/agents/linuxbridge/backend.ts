// The Linux bridge L2 backend: makes a host (or a namespace standing in for one) match its desired
// state. Each apply reads the kernel (links, FDB), plans the difference (plan.ts) and applies it:
// the firewall first (port security and security groups, src/agents/firewall: a tap is never on a
// bridge without its port's filter), then one `ip -batch`, then one `bridge -batch` for the
// l2population entries.
// A failed line is logged and retried by the next reconcile; the ports reported wired are read
// back from the kernel afterwards. watch() follows `ip monitor link`, so a new tap is wired at once
// rather than at the next poll.
import type { HostPort, HostState } from '../../rpc/contract.js';
import { Bridge, Ip, LinkMonitor, type Runner } from '../../system/index.js';
import type { L2Backend } from '../common/l2-agent.js';
import { createFirewallDriver, type FirewallDriver, type FirewallPort } from '../firewall/index.js';
import { tapName } from './names.js';
import { type LinuxBridgeOptions, type NetworkPlan, plan, wiredPorts } from './plan.js';

/** The agent_type Neutron's Linux bridge agent reports, which ML2's linuxbridge driver binds to. */
export const AGENT_TYPE_LINUXBRIDGE = 'Linux bridge agent';

export interface LinuxBridgeBackendOptions extends LinuxBridgeOptions {
  /** Act inside this network namespace (a simulated host); '' or undefined = this host. */
  namespace?: string;
  /** Port security and security groups ([securitygroup] enable_security_group); false = noop. */
  enableSecurityGroup: boolean;
  /** [securitygroup] firewall_driver (default nftables); see src/agents/firewall/index.ts. */
  firewallDriver?: string;
  /** A driver instance instead (tests). */
  firewall?: FirewallDriver;
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
  readonly firewall: FirewallDriver;
  /** The ports the firewall was last given (a security-group refresh reuses them). */
  private firewallPorts: FirewallPort[] = [];
  private reportedProblems = new Set<string>();
  private monitor?: LinkMonitor;
  /** The taps of the ports in the last desired state (the ones a link event is worth a reconcile for). */
  private knownTaps = new Set<string>();
  last: ApplyStats = { ipCommands: 0, fdbCommands: 0, nftApplied: false, problems: [] };

  constructor(private readonly o: LinuxBridgeBackendOptions) {
    const tool = { netns: o.namespace, run: o.run };
    this.ip = new Ip(tool);
    this.bridge = new Bridge(tool);
    this.firewall =
      o.firewall ??
      createFirewallDriver(o.firewallDriver ?? 'nftables', o.enableSecurityGroup, {
        namespace: o.namespace,
        run: o.run,
        log: (m) => this.log(m),
      });
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  async apply(state: HostState): Promise<Set<string>> {
    // The three reads are independent: run them side by side (each is a process spawn).
    const multicast = !this.o.l2Population && this.o.enableVxlan && !!this.o.localIp;
    const [links, fdb, addrs] = await Promise.all([
      this.ip.links(),
      this.o.l2Population ? this.bridge.fdb() : Promise.resolve([]),
      multicast ? this.ip.addresses() : Promise.resolve([]),
    ]);
    const vtepDevice = addrs.find((a) => a.addr_info.some((i) => i.local === this.o.localIp))?.ifname;
    const p = plan(state, { ...this.o, vtepDevice }, links, fdb);
    this.knownTaps = new Set(state.ports.map((port) => tapName(port.id)));
    const problems = [...p.problems.values()];
    let nftOk = true;
    let nftApplied = false;
    this.firewallPorts = firewallPorts(p.networks);
    try {
      nftApplied = (await this.firewall.apply({ ...state, ports: this.firewallPorts })).changed;
    } catch (err) {
      nftOk = false;
      problems.push(`port security (${this.firewall.name}): ${(err as Error).message}`);
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
      for (const n of p.networks.values()) for (const port of n.ports) if (filtered(port)) wired.delete(port.id);
    }
    return wired;
  }

  /** Security groups changed (rules, members, address groups) and nothing else: only the
   * firewall is brought in line, for the ports of the last apply. */
  async refreshFirewall(state: HostState): Promise<void> {
    const r = await this.firewall.apply({ ...state, ports: this.firewallPorts }, { refresh: true });
    this.last = { ...this.last, nftApplied: r.changed };
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

/** Whether the firewall filters a port: port security on, and not a network-owned port (DHCP,
 * router interfaces: neutron-lib's is_port_trusted), which Neutron's security group RPC leaves
 * out, as the Open vSwitch agent does. */
const filtered = (p: HostPort): boolean => p.port_security_enabled && !p.device_owner.startsWith('network:');

/** The ports of the planned networks as the firewall sees them: a tap on its network's bridge. */
function firewallPorts(networks: Map<string, NetworkPlan>): FirewallPort[] {
  return [...networks.values()].flatMap((n) =>
    n.ports.map((p) => ({
      id: p.id,
      device: tapName(p.id),
      bridge: n.bridge,
      network_id: p.network_id,
      mac_address: p.mac_address,
      fixed_ips: p.fixed_ips.map((f) => f.ip_address),
      allowed_address_pairs: p.allowed_address_pairs,
      port_security_enabled: filtered(p),
      security_groups: p.security_groups,
    })),
  );
}
