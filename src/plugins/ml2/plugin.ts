// ML2's side of the server↔agent contract: what agents call (report_state, the desired state of
// their host, device up/down, tunnel sync) and what the server tells them after a port or network
// change commits (port_update/port_delete, network_update/network_delete, l2population's FDB).
import { EventEmitter } from 'node:events';
import type { DB } from '../../db/connection.js';
import type { Store } from '../../db/store.js';
import type { AgentStatus, DeviceDetailsReply, HostNetwork, HostPort, HostState } from '../../rpc/contract.js';
import type { AgentNotifier, Ml2RpcHandlers } from '../../rpc/index.js';
import { AGENT_TYPE, type AgentService } from '../agents/agents.js';
import type { NetworkService } from '../core/networks.js';
import type { PortService } from '../core/ports.js';
import { securityGroupInfo } from '../security-groups/agent-info.js';
import { type Dict, transaction } from '../service.js';
import { type BoundPort, boundPorts, TUNNEL_TYPES } from './host-ports.js';
import { fdbOfNetworks, type L2PopulationDriver } from './l2population.js';
import { type AgentView, VIF_TYPE_BINDING_FAILED, VIF_TYPE_UNBOUND, VNIC_NORMAL } from './mech/driver.js';
import type { Logger, MechanismManager } from './mech-manager.js';
import { BINDINGS_TABLE, HOST, VIF_TYPE } from './port-binding.js';
import { completeBlock, ENTITY_DHCP, ENTITY_L2, isBlocked, lockPort, removeBlock } from './provisioning.js';
import { segmentsOf } from './segments-db.js';

export const L2_AGENT_TYPES: string[] = [AGENT_TYPE.LINUXBRIDGE, AGENT_TYPE.OVS];

/** Ports whose changes are no security group member change (neutron-lib's DHCP and router
 * interface owners). */
const MEMBERLESS_OWNERS = [
  'network:dhcp',
  'network:router_interface',
  'network:ha_router_replicated_interface',
  'network:router_interface_distributed',
];

/** A port's status changed (what Nova hears as network-vif-plugged / -unplugged). */
export interface PortStatusEvent {
  port_id: string;
  status: string;
  host: string;
}

export interface Ml2PluginDeps {
  store: Store;
  ports: PortService;
  networks: NetworkService;
  agents: AgentService;
  manager: MechanismManager;
  l2pop?: L2PopulationDriver;
  notifier: () => AgentNotifier | undefined;
  log?: Logger;
}

const isBound = (port: Dict) => {
  const t = port[VIF_TYPE] as string | undefined;
  return !!port[HOST] && t !== undefined && t !== VIF_TYPE_UNBOUND && t !== VIF_TYPE_BINDING_FAILED;
};

export class Ml2Plugin {
  /** `port-status` events: {port_id, status, host}. */
  readonly events = new EventEmitter();

  constructor(private readonly deps: Ml2PluginDeps) {}

  private get db(): DB {
    return this.deps.store.db;
  }

  l2Agents(db: DB = this.db): Promise<Dict[]> {
    return this.deps.agents.getAgents({ agent_type: L2_AGENT_TYPES }, db) as unknown as Promise<Dict[]>;
  }

  // ------------------------------------------------------------------ after-commit (postcommit)

  private async notifyPort(port: Dict): Promise<void> {
    const notifier = this.deps.notifier();
    if (!notifier) return;
    const [bound] = await boundPorts(this.db, { portIds: [port.id as string] });
    await notifier.portUpdate(
      { id: port.id as string, network_id: port.network_id as string, revision_number: port.revision_number as number },
      bound ?? null,
    );
  }

  /** Runs `fn`, logging instead of failing: the change is committed whatever agents hear. */
  /** Starts `fn` without waiting for it, logging instead of failing: the change is committed
   * whatever agents hear, and a request must not wait on the bus (a broker being down would hold
   * it for rpc_response_timeout); agents' reconcile polls make up for a lost notification. */
  private safely(what: string, id: unknown, fn: () => Promise<unknown>): void {
    fn().catch((err) => this.deps.log?.error({ err, id }, `ML2 ${what} failed after commit`));
  }

  /** security_groups_member_updated for the groups of `ports` (Neutron's SG notifier mixin: not
   * for DHCP and router interface ports, whose addresses no group's members include). */
  private notifyMembers(ports: Dict[]): void {
    const groups = new Set<string>();
    for (const p of ports) {
      if (MEMBERLESS_OWNERS.includes(p.device_owner as string)) continue;
      for (const g of (p.security_groups as string[] | undefined) ?? []) groups.add(g);
    }
    if (groups.size === 0) return;
    this.safely('security_groups_member_updated notification', [...groups], async () => {
      await this.deps.notifier()?.securityGroupsMemberUpdated([...groups]);
    });
  }

  async portsCreated(ports: Dict[]): Promise<void> {
    for (const port of ports) {
      try {
        await this.deps.manager.createPortPostcommit({ current: port });
      } catch (err) {
        // Neutron's answer to a failed create_port_postcommit: the ports go, the error is reported.
        for (const p of ports) await this.deps.ports.remove(p.id as string);
        throw err;
      }
      if (isBound(port)) this.safely('port_update notification', port.id, () => this.notifyPort(port));
    }
    this.notifyMembers(ports);
  }

  async portUpdated(before: Dict, after: Dict): Promise<void> {
    await this.deps.manager.updatePortPostcommit({ current: after, original: before });
    const moved = before[HOST] !== after[HOST] || (isBound(before) && !isBound(after));
    if (moved && isBound(before)) this.safely('l2population withdraw', before.id, () => this.withdraw(before));
    if (isBound(after) || isBound(before)) this.safely('port_update notification', after.id, () => this.notifyPort(after));
    const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    const groups = (p: Dict) => [...((p.security_groups as string[] | undefined) ?? [])].sort();
    if (!same(groups(before), groups(after))) this.notifyMembers([before, after]);
    else if (
      !same(before.fixed_ips, after.fixed_ips) ||
      !same(before.allowed_address_pairs, after.allowed_address_pairs) ||
      before.mac_address !== after.mac_address
    )
      this.notifyMembers([after]);
  }

  async portDeleted(port: Dict): Promise<void> {
    await this.deps.manager.deletePortPostcommit({ current: port });
    if (isBound(port)) this.safely('l2population withdraw', port.id, () => this.withdraw(port));
    this.safely('port_delete notification', port.id, async () => {
      await this.deps.notifier()?.portDelete(port.id as string, port.network_id as string);
    });
    this.notifyMembers([port]);
  }

  async networkUpdated(_before: Dict, after: Dict): Promise<void> {
    this.safely('network_update notification', after.id, async () => {
      await this.deps.notifier()?.networkUpdate({ id: after.id as string, revision_number: after.revision_number as number });
    });
  }

  async networkDeleted(network: Dict): Promise<void> {
    await this.deps.manager.deleteNetworkPostcommit(network);
    this.safely('network_delete notification', network.id, async () => {
      await this.deps.notifier()?.networkDelete(network.id as string);
    });
  }

  /** l2population: withdraw what a port that left its host had announced. Its binding levels
   * are gone already, so the segment is the network's first tunnel segment. */
  private async withdraw(port: Dict): Promise<void> {
    if (!this.deps.l2pop) return;
    const segments = (await segmentsOf(this.db, [port.network_id as string])).get(port.network_id as string) ?? [];
    const segment = segments.find((s) => TUNNEL_TYPES.includes(s.network_type));
    if (!segment) return;
    await this.deps.l2pop.portGone({
      id: port.id as string,
      network_id: port.network_id as string,
      mac_address: port.mac_address as string,
      ips: ((port.fixed_ips as Dict[]) ?? []).map((f) => f.ip_address as string),
      host: port[HOST] as string,
      network_type: segment.network_type,
      segmentation_id: segment.segmentation_id,
    });
  }

  // ------------------------------------------------------------------ agent → server

  /** A device name as agents know it: the port id, `tap<id prefix>`, or the port's MAC. */
  private async resolve(db: DB, host: string, device: string): Promise<string | undefined> {
    const mac = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(device);
    if (mac) {
      const ports = await boundPorts(db, { host });
      return ports.find((p) => p.mac_address.toLowerCase() === device.toLowerCase())?.id;
    }
    const prefix = device.startsWith('tap') ? device.slice(3) : device;
    if (prefix.length === 36) return prefix;
    if (!/^[0-9a-f-]{8,36}$/i.test(prefix)) return undefined;
    // Among the ports bound to this host; a prefix two of them share names neither.
    const rows = await db
      .selectFrom('ports')
      .innerJoin(BINDINGS_TABLE, `${BINDINGS_TABLE}.port_id`, 'ports.id')
      .select('ports.id as id')
      .where(`${BINDINGS_TABLE}.host`, '=', host)
      .where('ports.id', 'like', `${prefix.toLowerCase()}%`)
      .limit(2)
      .execute();
    return rows.length === 1 ? (rows[0].id as string) : undefined;
  }

  private async setStatus(db: DB, portId: string, status: string): Promise<boolean> {
    const row = await db.selectFrom('ports').select('status').where('id', '=', portId).executeTakeFirst();
    if (!row || row.status === status) return false;
    await this.deps.store.update(db, this.deps.ports.def, portId, { status });
    return true;
  }

  private emitStatus(portId: string, status: string, host: string): void {
    this.events.emit('port-status', { port_id: portId, status, host } satisfies PortStatusEvent);
  }

  /** The L2 agent on `host` wired `devices`: their L2 blocks are done, and the last block of a
   * port makes it ACTIVE. Returns the devices that could not be handled. */
  async devicesUp(host: string, devices: string[]): Promise<string[]> {
    const activated: BoundPort[] = [];
    const failed: string[] = [];
    for (const device of devices) {
      try {
        const p = await this.deviceUp(host, device);
        if (p) activated.push(p);
      } catch (err) {
        this.deps.log?.error({ err, device, host }, 'update_device_up failed');
        failed.push(device);
      }
    }
    for (const p of activated) this.emitStatus(p.id, 'ACTIVE', host);
    if (activated.length) this.safely('l2population announce', host, async () => this.deps.l2pop?.portsUp(activated));
    return failed;
  }

  /** The DHCP agent serves these ports' host entries (dhcp_ready_on_ports): their DHCP blocks are
   * done, and a bound port whose last block that was turns ACTIVE. A port without a DHCP block is
   * left alone (a report repeated after a reload must not revive a port its L2 agent took down). */
  async dhcpReady(portIds: string[]): Promise<void> {
    const activated: BoundPort[] = [];
    for (const portId of new Set(portIds)) {
      try {
        const p = await transaction(this.deps.store, async (db) => {
          await lockPort(db, portId);
          if (!(await removeBlock(db, portId, ENTITY_DHCP)) || (await isBlocked(db, portId))) return undefined;
          const [bound] = await boundPorts(db, { portIds: [portId] });
          if (!bound) return undefined;
          return (await this.setStatus(db, portId, 'ACTIVE')) ? { ...bound, status: 'ACTIVE' } : undefined;
        });
        if (p) activated.push(p);
      } catch (err) {
        this.deps.log?.error({ err, port_id: portId }, 'dhcp_ready_on_ports failed');
      }
    }
    for (const p of activated) this.emitStatus(p.id, 'ACTIVE', p.host);
    if (activated.length) this.safely('l2population announce', 'dhcp', async () => this.deps.l2pop?.portsUp(activated));
  }

  /** The hosts among `hosts` where a port of the network could be bound: those whose L2 agent
   * reaches one of its segments (Neutron's filter_hosts_with_network_access). */
  async hostsWithNetworkAccess(db: DB, networkId: string, hosts: string[]): Promise<string[]> {
    if (hosts.length === 0) return [];
    const [network] = await this.deps.store.getRows(db, this.deps.networks.def, [networkId]);
    if (!network) return [];
    const segments = (await segmentsOf(db, [networkId])).get(networkId) ?? [];
    const agents = (await this.deps.agents.getAgents({ host: hosts }, db)) as unknown as AgentView[];
    const port = { id: '', network_id: networkId, device_owner: 'network:dhcp' };
    return hosts.filter((host) => this.deps.manager.canBind({ port, network, host, vnicType: VNIC_NORMAL, segments, agents }));
  }

  /** One device up; the port when this made it ACTIVE. */
  private async deviceUp(host: string, device: string): Promise<BoundPort | undefined> {
    const portId = await this.resolve(this.db, host, device);
    if (!portId) return undefined;
    return transaction(this.deps.store, async (db) => {
      await lockPort(db, portId);
      const [p] = await boundPorts(db, { portIds: [portId] });
      if (!p || p.host !== host) {
        this.deps.log?.warn({ port_id: portId, host }, `Device ${device} reported up by host ${host}, where it is not bound`);
        return undefined;
      }
      if (!(await completeBlock(db, portId, ENTITY_L2))) return undefined;
      return (await this.setStatus(db, portId, 'ACTIVE')) ? { ...p, status: 'ACTIVE' } : undefined;
    });
  }

  async deviceDown(host: string, device: string): Promise<{ exists: boolean }> {
    const portId = await this.resolve(this.db, host, device);
    if (!portId) return { exists: false };
    const downed = await transaction(this.deps.store, async (db) => {
      await lockPort(db, portId);
      const [p] = await boundPorts(db, { portIds: [portId] });
      if (!p || p.host !== host) return undefined;
      return (await this.setStatus(db, portId, 'DOWN')) ? p : undefined;
    });
    if (downed) {
      this.emitStatus(portId, 'DOWN', host);
      this.safely('l2population withdraw', portId, async () => this.deps.l2pop?.portGone(downed));
    }
    return { exists: true };
  }

  /** The desired state of `host`: its bound ports, their networks and security groups, and the
   * l2population view of the remote VTEPs. */
  async hostState(host: string): Promise<HostState> {
    const db = this.db;
    const bound = await boundPorts(db, { host });
    const ports = new Map(
      (
        await this.deps.ports.loadFull(
          db,
          bound.map((p) => p.id),
        )
      ).map((p) => [p.id as string, p]),
    );
    const networkIds = [...new Set(bound.map((p) => p.network_id))];
    const networks = await this.deps.networks.loadFull(db, networkIds);
    const segments = await segmentsOf(db, networkIds);
    const mtu = new Map(networks.map((n) => [n.id as string, Number(n.mtu)]));
    const hostPorts: HostPort[] = bound.map((b) => {
      const p = ports.get(b.id) ?? {};
      return {
        id: b.id,
        network_id: b.network_id,
        mac_address: b.mac_address,
        fixed_ips: (p.fixed_ips as HostPort['fixed_ips']) ?? [],
        admin_state_up: b.admin_state_up,
        status: b.status,
        device_owner: b.device_owner,
        device_id: (p.device_id as string) ?? '',
        network_type: b.network_type,
        physical_network: b.physical_network,
        segmentation_id: b.segmentation_id,
        mtu: mtu.get(b.network_id) ?? 1500,
        port_security_enabled: p.port_security_enabled !== false,
        allowed_address_pairs: (p.allowed_address_pairs as HostPort['allowed_address_pairs']) ?? [],
        security_groups: (p.security_groups as string[]) ?? [],
        revision_number: Number(p.revision_number ?? 0),
        vif_type: p[VIF_TYPE] as string,
        vnic_type: p['binding:vnic_type'] as string,
      };
    });
    const hostNetworks: HostNetwork[] = networks.map((n) => ({
      id: n.id as string,
      admin_state_up: Boolean(n.admin_state_up),
      mtu: Number(n.mtu),
      segments: (segments.get(n.id as string) ?? []).map((s) => ({
        id: s.id,
        network_type: s.network_type,
        physical_network: s.physical_network,
        segmentation_id: s.segmentation_id,
      })),
      revision_number: Number(n.revision_number ?? 0),
      shared: Boolean(n.shared),
      router_external: Boolean(n['router:external']),
    }));
    const groupIds = [...new Set(hostPorts.flatMap((p) => p.security_groups))];
    const { groups, memberIps } = await securityGroupInfo(db, groupIds);
    const tunnelNets = [...new Set(bound.filter((b) => TUNNEL_TYPES.includes(b.network_type)).map((b) => b.network_id))];
    const fdb = this.deps.l2pop ? await fdbOfNetworks(db, tunnelNets, host, await this.l2Agents(db)) : {};
    return { host, ports: hostPorts, networks: hostNetworks, security_groups: groups, sg_member_ips: memberIps, fdb };
  }

  private async deviceDetails(host: string, device: string): Promise<DeviceDetailsReply> {
    const portId = await this.resolve(this.db, host, device);
    if (!portId) return { device };
    const [b] = await boundPorts(this.db, { portIds: [portId] });
    if (!b) return { device };
    if (b.host !== host) return { device, no_active_binding: true };
    const [p] = await this.deps.ports.loadFull(this.db, [portId]);
    const [n] = await this.deps.networks.loadFull(this.db, [b.network_id]);
    if (b.admin_state_up && b.status === 'DOWN') {
      // Only from DOWN: a report that made it ACTIVE meanwhile stands.
      await transaction(this.deps.store, async (db) => {
        await lockPort(db, portId);
        const row = await db.selectFrom('ports').select('status').where('id', '=', portId).executeTakeFirst();
        if (row?.status === 'DOWN') await this.setStatus(db, portId, 'BUILD');
      });
    }
    return {
      device,
      network_id: b.network_id,
      port_id: b.id,
      mac_address: b.mac_address,
      admin_state_up: b.admin_state_up,
      network_type: b.network_type,
      segmentation_id: b.segmentation_id,
      physical_network: b.physical_network,
      mtu: Number(n?.mtu ?? 1500),
      fixed_ips: (p?.fixed_ips as HostPort['fixed_ips']) ?? [],
      device_owner: b.device_owner,
      allowed_address_pairs: (p?.allowed_address_pairs as HostPort['allowed_address_pairs']) ?? [],
      port_security_enabled: p?.port_security_enabled !== false,
      qos_policy_id: null,
      qos_network_policy_id: null,
      profile: (p?.['binding:profile'] as Dict) ?? {},
      propagate_uplink_status: false,
    };
  }

  /** Applies `fn` to each device; a device that fails is reported back, not the whole list. */
  private async each(devices: string[], fn: (d: string) => Promise<unknown>, host: string, what: string) {
    const done: string[] = [];
    const failed: string[] = [];
    for (const d of devices) {
      try {
        await fn(d);
        done.push(d);
      } catch (err) {
        this.deps.log?.error({ err, device: d, host }, `${what} failed`);
        failed.push(d);
      }
    }
    return { done, failed };
  }

  /** The handlers agents call over the bus. */
  handlers(): Ml2RpcHandlers {
    return {
      report_state: async ({ agent_state, time }) => {
        const status = await this.deps.agents.reportState(agent_state.agent_state as never, time);
        return status as AgentStatus;
      },
      get_host_state: ({ host }) => this.hostState(host),
      get_security_group_info: async ({ security_groups, remote_groups }) => {
        const { groups, memberIps } = await securityGroupInfo(this.db, security_groups, remote_groups);
        return { security_groups: groups, sg_member_ips: memberIps };
      },
      get_devices_details_list: async ({ host, devices }) => {
        const out: DeviceDetailsReply[] = [];
        for (const d of devices) out.push(await this.deviceDetails(host, d));
        return out;
      },
      update_device_list: async ({ host, devices_up, devices_down }) => {
        const failedUp = await this.devicesUp(host, devices_up);
        const down = await this.each(devices_down, (d) => this.deviceDown(host, d), host, 'update_device_down');
        return {
          devices_up: devices_up.filter((d) => !failedUp.includes(d)),
          failed_devices_up: failedUp,
          devices_down: down.done,
          failed_devices_down: down.failed,
        };
      },
      update_device_up: async ({ host, device }) => {
        const failed = await this.devicesUp(host, [device]);
        if (failed.length) throw new Error(`update_device_up of ${device} on ${host} failed`);
        return null;
      },
      update_device_down: async ({ host, device }) => ({ device, ...(await this.deviceDown(host, device)) }),
      tunnel_sync: async ({ tunnel_ip, tunnel_type, host }) => {
        const agents = await this.l2Agents();
        const tunnels = new Map<string, string | null>([[tunnel_ip, host]]);
        for (const a of agents) {
          const c = (a.configurations ?? {}) as Dict;
          const types = Array.isArray(c.tunnel_types) ? (c.tunnel_types as string[]) : [];
          if (types.includes(tunnel_type) && typeof c.tunneling_ip === 'string') tunnels.set(c.tunneling_ip, a.host as string);
        }
        this.safely('tunnel_update notification', host, async () => {
          await this.deps.notifier()?.tunnelUpdate(tunnel_ip, tunnel_type);
        });
        return { tunnels: [...tunnels].map(([ip_address, h]) => ({ ip_address, host: h })) };
      },
    };
  }
}
