// One network's DHCP server on this host: its DHCP port (created or updated through the server,
// bound to this host, so the host's L2 agent wires its tap), the port's device `ns-…` in the
// namespace `qdhcp-<network>` with the port's addresses, dnsmasq's files, and dnsmasq itself —
// started, adopted when a previous agent left one running with the same command line, reloaded
// with SIGHUP when only its files changed, restarted when its command line must change (subnets,
// MTU). Each apply makes all of that match the server's view of the network; disable() removes it.
import { join } from 'node:path';
import type { DhcpNetwork, DhcpPort } from '../../rpc/contract.js';
import { DEVICE_ID_RESERVED_DHCP_PORT, DEVICE_OWNER_DHCP, dhcpDeviceId, type ServerRpcClient } from '../../rpc/index.js';
import {
  addAddress,
  addNetns,
  Daemon,
  delAddress,
  delLink,
  delNetns,
  ensureDir,
  execRunner,
  Ip,
  killProcess,
  netnsExists,
  netnsPids,
  type Runner,
  readFileOr,
  removeTree,
  replaceDefaultRoute,
  setSysctls,
  writeFileAtomic,
} from '../../system/index.js';
import type { InterfaceDriver } from '../common/interface.js';
import { type DhcpSettings, dnsmasqConfig, initialLeases, type NetworkFiles } from './config.js';
import { DEVICE_PREFIX, interfaceName, namespaceName } from './names.js';

export interface NetworkDhcpOptions {
  host: string;
  /** The namespace standing for this host ([agent] host_namespace); '' = this host. */
  hostNamespace: string;
  /** Where each network's directory of dnsmasq files goes ([DEFAULT] dhcp_confs). */
  confsDir: string;
  settings: DhcpSettings;
  /** dnsmasq_base_log_dir, or null. */
  logDir: string | null;
  client: ServerRpcClient;
  driver: InterfaceDriver;
  log: (msg: string) => void;
  run?: Runner;
}

export interface ApplyResult {
  /** Ports whose host entries this apply put in service (new or changed): for dhcp_ready_on_ports. */
  ready: string[];
  /** Records `ready` as reported (once the server has them). */
  commit(): void;
  reloaded: boolean;
  started: boolean;
}

const IPV6_SYSCTLS = {
  // Addresses are set, not learnt: no RA, no SLAAC (Neutron disables accept_ra in the namespace);
  // and no duplicate address detection, so dnsmasq can bind an IPv6 address at once.
  'net.ipv6.conf.all.accept_ra': 0,
  'net.ipv6.conf.default.accept_ra': 0,
  'net.ipv6.conf.all.accept_dad': 0,
  'net.ipv6.conf.default.accept_dad': 0,
};

export class NetworkDhcp {
  readonly namespace: string;
  readonly dir: string;
  readonly files: NetworkFiles;
  readonly deviceId: string;
  /** What the last apply served (the agent's report_state counts them). */
  portCount = 0;
  subnetCount = 0;
  private port?: DhcpPort;
  private plugged = false;
  private addresses = '';
  private readonly written = new Map<string, string>();
  /** Port id → fingerprint of the host entries last reported ready. */
  private reported = new Map<string, string>();
  /** The command line dnsmasq runs (or will run) with. */
  private argv: string[] = [];

  constructor(
    readonly id: string,
    private readonly o: NetworkDhcpOptions,
  ) {
    this.namespace = namespaceName(id, o.hostNamespace);
    this.dir = join(o.confsDir, id);
    this.files = {
      pidFile: join(this.dir, 'pid'),
      hostsFile: join(this.dir, 'host'),
      addnHostsFile: join(this.dir, 'addn_hosts'),
      optsFile: join(this.dir, 'opts'),
      leaseFile: join(this.dir, 'leases'),
      ...(o.logDir ? { logFile: join(o.logDir, id, 'dhcp_dns_log') } : {}),
    };
    this.deviceId = dhcpDeviceId(id, o.host);
  }

  private get run(): Runner {
    return this.o.run ?? execRunner;
  }

  /** dnsmasq, as known by its pid file and the command line of the last apply. */
  daemon(): Daemon {
    return new Daemon(
      { argv: this.argv.length ? this.argv : ['dnsmasq'], pidFile: this.files.pidFile, netns: this.namespace },
      this.run,
    );
  }

  /** Whether an apply has got dnsmasq running (what supervision watches). */
  get started(): boolean {
    return this.argv.length > 0 && this.served;
  }
  private served = false;

  /** Whether dnsmasq runs with the command line of the last apply. */
  running(): boolean {
    return this.argv.length > 0 && this.daemon().state().state === 'running';
  }

  /** This host's DHCP port on the network, with an address on every DHCP-enabled subnet (Neutron's
   * setup_dhcp_port: our own port, else a reserved one taken over, else a new one). */
  private async setupPort(info: DhcpNetwork): Promise<DhcpPort> {
    const { client } = this.o;
    const want = info.subnets.map((s) => s.id);
    let port = info.ports.find((p) => p.device_id === this.deviceId);
    if (!port) {
      const reserved = info.ports.find(
        (p) => p.device_id === DEVICE_ID_RESERVED_DHCP_PORT && p.device_owner === DEVICE_OWNER_DHCP,
      );
      if (reserved)
        port = (await client.updateDhcpPort(reserved.id, { network_id: info.id, device_id: this.deviceId })) ?? undefined;
    }
    if (!port) {
      port =
        (await client.createDhcpPort({
          network_id: info.id,
          device_id: this.deviceId,
          name: '',
          admin_state_up: true,
          project_id: info.project_id,
          fixed_ips: want.map((subnet_id) => ({ subnet_id })),
        })) ?? undefined;
      if (!port)
        throw new Error(`network ${info.id}: the server could not create the DHCP port (its network or subnet went away?)`);
      this.o.log(`network ${info.id}: created DHCP port ${port.id}`);
    }
    const have = new Set(port.fixed_ips.map((f) => f.subnet_id));
    if (have.size !== want.length || want.some((s) => !have.has(s))) {
      const fixed = [
        ...port.fixed_ips.filter((f) => want.includes(f.subnet_id)),
        ...want.filter((s) => !have.has(s)).map((subnet_id) => ({ subnet_id })),
      ];
      const updated = await client.updateDhcpPort(port.id, { network_id: info.id, fixed_ips: fixed });
      if (!updated) throw new Error(`network ${info.id}: the server refused to update DHCP port ${port.id}`);
      port = updated;
    }
    return port;
  }

  /** The port's device in the namespace, with the namespace prepared first (created when missing). */
  private async plug(info: DhcpNetwork, port: DhcpPort, ifname: string): Promise<void> {
    if (!(await netnsExists(this.namespace, this.run))) {
      await addNetns(this.namespace, this.run);
      await setSysctls(this.namespace, IPV6_SYSCTLS, this.run);
    }
    await this.o.driver.plug({
      portId: port.id,
      mac: port.mac_address,
      mtu: info.mtu,
      netns: this.namespace,
      ifname,
      hostNetns: this.o.hostNamespace || undefined,
    });
    // Devices of an earlier DHCP port of this network (replaced meanwhile) go.
    const ip = new Ip({ netns: this.namespace, run: this.run });
    const stale = (await ip.links()).filter((l) => l.ifname.startsWith(DEVICE_PREFIX) && l.ifname !== ifname);
    if (stale.length) await ip.batch(stale.map((l) => delLink(l.ifname)));
    await this.unplug(stale.map((l) => l.ifname));
  }

  /** Deleting the namespace's end of a veth removes the host's tap too; the interface driver
   * removes the rest (an OVS port), found by the port id's first 11 characters the names share. */
  private async unplug(devices: string[]): Promise<void> {
    const hostNetns = this.o.hostNamespace || undefined;
    for (const d of devices) await this.o.driver.unplug({ portId: d.slice(DEVICE_PREFIX.length), hostNetns });
  }

  /** The port's addresses on its device, and the default route of the first IPv4 subnet's gateway. */
  private async setAddresses(info: DhcpNetwork, port: DhcpPort, ifname: string, verify: boolean): Promise<void> {
    const prefix = new Map(info.subnets.map((s) => [s.id, s.cidr.split('/')[1]]));
    const want = port.fixed_ips.filter((f) => prefix.has(f.subnet_id)).map((f) => `${f.ip_address}/${prefix.get(f.subnet_id)}`);
    const gateway = info.subnets.find((s) => s.ip_version === 4 && s.gateway_ip)?.gateway_ip ?? null;
    const key = JSON.stringify([want, gateway]);
    if (!verify && key === this.addresses) return;
    const ip = new Ip({ netns: this.namespace, run: this.run });
    const [dev] = await ip.addresses(ifname);
    const have = (dev?.addr_info ?? [])
      .filter((a) => !(a.family === 'inet6' && a.local.toLowerCase().startsWith('fe80:')))
      .map((a) => `${a.local}/${a.prefixlen}`);
    const cmds = [
      ...have.filter((a) => !want.includes(a)).map((a) => delAddress(a, ifname)),
      ...want.filter((a) => !have.includes(a)).map((a) => addAddress(a, ifname)),
    ];
    await ip.batch(cmds, { force: false });
    const v4 = want.find((a) => !a.includes(':'));
    if (gateway && v4) {
      // Neutron gives the namespace a default route through the first subnet's gateway.
      await ip.batch([replaceDefaultRoute(gateway, ifname)]).catch((err) => this.o.log(`network ${info.id}: ${err.message}`));
    }
    this.addresses = key;
  }

  /** Writes the files whose content changed (atomically); whether any did. */
  private writeFiles(contents: Array<[string, string]>): boolean {
    let changed = false;
    for (const [file, content] of contents) {
      if (this.written.get(file) === content) continue;
      if (readFileOr(file) !== content) {
        writeFileAtomic(file, content);
        changed = true;
      }
      this.written.set(file, content);
    }
    return changed;
  }

  /** Makes this host serve `info` (a network with DHCP-enabled subnets); `verify` re-checks the
   * kernel's side (device, addresses) rather than trusting what the last apply did. */
  async apply(info: DhcpNetwork, verify: boolean): Promise<ApplyResult> {
    const port = await this.setupPort(info);
    const ports = [...info.ports.filter((p) => p.id !== port.id), port];
    const network = { ...info, ports };
    const ifname = interfaceName(port.id);
    if (this.port?.id !== port.id) this.plugged = false;
    this.port = port;
    if (!this.plugged || verify) {
      await this.plug(info, port, ifname);
      this.plugged = true;
    }
    await this.setAddresses(info, port, ifname, verify);

    const config = dnsmasqConfig(network, ifname, this.files, this.o.settings);
    for (const p of config.problems) this.o.log(`network ${info.id}: ${p}`);
    ensureDir(this.dir);
    if (this.files.logFile) ensureDir(join(this.files.logFile, '..'));
    const changed = this.writeFiles([
      [this.files.hostsFile, config.hosts],
      [this.files.addnHostsFile, config.addnHosts],
      [this.files.optsFile, config.opts],
    ]);
    this.argv = config.argv;
    const daemon = this.daemon();
    const state = daemon.state();
    let reloaded = false;
    let started = false;
    if (state.state === 'running') {
      if (changed) reloaded = daemon.reload();
      if (!reloaded && changed) throw new Error(`network ${info.id}: dnsmasq (pid ${state.pid}) could not be signalled`);
    } else {
      if (state.state === 'stale') {
        this.o.log(`network ${info.id}: dnsmasq (pid ${state.pid}) runs with other settings; restarting it`);
        await daemon.stop();
      }
      writeFileAtomic(this.files.leaseFile, initialLeases(network, readFileOr(this.files.leaseFile)));
      const pid = await daemon.start();
      started = true;
      this.o.log(`network ${info.id}: dnsmasq started (pid ${pid}) in ${this.namespace}`);
    }
    this.served = true;
    const ready = [...config.served].filter(([id, fp]) => this.reported.get(id) !== fp).map(([id]) => id);
    return {
      ready,
      reloaded,
      started,
      commit: () => {
        this.reported = new Map(config.served);
      },
    };
  }

  /** Stops serving the network here: dnsmasq, the device, the namespace, the files; with
   * `release`, the server deletes this host's DHCP port too. */
  async disable(release: boolean): Promise<void> {
    await this.daemon().stop();
    const devices = new Set(this.port ? [interfaceName(this.port.id)] : []);
    const exists = await netnsExists(this.namespace, this.run);
    if (exists) {
      const ip = new Ip({ netns: this.namespace, run: this.run });
      const found = (await ip.links()).filter((l) => l.ifname.startsWith(DEVICE_PREFIX)).map((l) => l.ifname);
      if (found.length) await ip.batch(found.map((d) => delLink(d)));
      for (const d of found) devices.add(d);
    }
    // Before the namespace goes, so that a failure leaves it for the next pass to try again.
    await this.unplug([...devices]);
    if (exists) {
      for (const pid of await netnsPids(this.namespace, this.run)) await killProcess(pid);
      await delNetns(this.namespace, this.run);
    }
    removeTree(this.dir);
    this.written.clear();
    this.reported.clear();
    this.plugged = false;
    this.addresses = '';
    this.served = false;
    if (release) await this.o.client.releaseDhcpPort(this.id, this.deviceId);
  }
}
