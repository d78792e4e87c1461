// What DHCP agents call (Neutron's DhcpRpcCallback): their networks with DHCP-enabled subnets and
// all ports, their own DHCP port (created bound to their host, updated, released), and
// dhcp_ready_on_ports, which lifts the DHCP provisioning block of ports dnsmasq now serves.
import { NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import { inSlices } from '../../db/store.js';
import type { DhcpNetwork, DhcpPort, DhcpPortRequest, DhcpRpcHandlers, DhcpSubnet } from '../../rpc/index.js';
import { DEVICE_ID_RESERVED_DHCP_PORT, DEVICE_OWNER_DHCP, dhcpDeviceId, RemoteFault } from '../../rpc/index.js';
import { adminContext } from '../context.js';
import type { NetworkService } from '../core/networks.js';
import type { PortService } from '../core/ports.js';
import type { SubnetService } from '../core/subnets.js';
import type { Ml2Plugin } from '../ml2/plugin.js';
import { type Dict, internalItem } from '../service.js';
import type { DhcpAgentScheduler } from './scheduler.js';

export interface DhcpRpcDeps {
  networks: NetworkService;
  subnets: SubnetService;
  ports: PortService;
  ml2: Ml2Plugin;
  scheduler: DhcpAgentScheduler;
  db: DB;
  log?: { debug(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** Errors the agent expects and handles (oslo's expected_exceptions): sent back by type. */
const EXPECTED = ['NetworkNotFound', 'SubnetNotFound', 'InvalidInput', 'IpAddressGenerationFailure', 'PortNotFound'];

function remote(err: unknown): never {
  if (err instanceof NeutronError && EXPECTED.includes(err.type)) throw new RemoteFault(err.type, err.message);
  throw err;
}

const byId = (a: { id: unknown }, b: { id: unknown }) => String(a.id).localeCompare(String(b.id));

export class DhcpRpcCallback {
  constructor(private readonly deps: DhcpRpcDeps) {}

  /** The networks (rows) with their subnets (DHCP-enabled ones unless `enableDhcp` is null) and
   * all their ports, as the API's admin view of each. */
  async networkInfo(networkIds: string[], enableDhcp: boolean | null = true): Promise<DhcpNetwork[]> {
    const db = this.deps.db;
    if (networkIds.length === 0) return [];
    const networks = await this.deps.networks.loadFull(db, networkIds);
    const subnetRows = await inSlices(networkIds, (ids) =>
      db.selectFrom('subnets').select(['id', 'network_id']).where('network_id', 'in', ids).execute(),
    );
    const subnets = await this.deps.subnets.loadFull(
      db,
      subnetRows.map((r) => r.id as string),
    );
    const portRows = await inSlices(networkIds, (ids) =>
      db.selectFrom('ports').select('id').where('network_id', 'in', ids).orderBy('id').execute(),
    );
    const ports = await this.deps.ports.loadFull(
      db,
      portRows.map((r) => r.id as string),
    );
    return networks
      .map((n) => ({
        id: n.id as string,
        project_id: n.project_id as string,
        admin_state_up: Boolean(n.admin_state_up),
        mtu: Number(n.mtu),
        subnets: subnets
          .filter((s) => s.network_id === n.id && (enableDhcp === null || Boolean(s.enable_dhcp) === enableDhcp))
          .map((s) => ({ ...s, ip_version: Number(s.ip_version) }) as unknown as DhcpSubnet)
          .sort(byId),
        non_local_subnets: [],
        ports: ports.filter((p) => p.network_id === n.id).map(toDhcpPort),
      }))
      .sort(byId);
  }

  private async portById(id: string): Promise<DhcpPort | null> {
    const [p] = await this.deps.ports.loadFull(this.deps.db, [id]);
    return p ? toDhcpPort(p) : null;
  }

  /** create_dhcp_port: the port of `host`, bound to it, owned by network:dhcp. */
  async createDhcpPort(host: string, req: DhcpPortRequest): Promise<DhcpPort | null> {
    const [network] = await this.deps.networks.loadFull(this.deps.db, [req.network_id]);
    if (!network) return null;
    const project = req.project_id ?? (network.project_id as string);
    const item = internalItem(this.deps.ports.def, {
      ...req,
      name: req.name ?? '',
      admin_state_up: req.admin_state_up ?? true,
      device_owner: DEVICE_OWNER_DHCP,
      'binding:host_id': host,
      project_id: project,
      tenant_id: project,
    });
    try {
      const [port] = await this.deps.ports.create(adminContext(), [item]);
      return toDhcpPort(port);
    } catch (err) {
      // A subnet deleted meanwhile: the agent tries again with the network's current subnets.
      if (err instanceof NeutronError && ['NetworkNotFound', 'SubnetNotFound', 'InvalidInput'].includes(err.type)) return null;
      if (err instanceof NeutronError && err.type === 'IpAddressGenerationFailure') {
        const subnetId = req.fixed_ips[0]?.subnet_id;
        const gone =
          subnetId && !(await this.deps.db.selectFrom('subnets').select('id').where('id', '=', subnetId).executeTakeFirst());
        if (gone) return null;
      }
      return remote(err);
    }
  }

  /** update_dhcp_port: only `host`'s own DHCP port (or a reserved one), only on a network it hosts. */
  async updateDhcpPort(
    host: string,
    portId: string,
    req: Partial<DhcpPortRequest> & { network_id: string },
  ): Promise<DhcpPort | null> {
    const old = await this.portById(portId);
    if (!old) return null;
    const own = dhcpDeviceId(req.network_id, host);
    if (old.device_id !== DEVICE_ID_RESERVED_DHCP_PORT && old.device_id !== own) return null;
    if (!(await this.deps.scheduler.hosts(host, req.network_id))) {
      this.deps.log?.warn({ host, network_id: req.network_id }, `The DHCP agent on ${host} does not host the network`);
      throw new RemoteFault('NetworkNotFound', `Network ${req.network_id} could not be found.`);
    }
    const changes: Dict = { 'binding:host_id': host };
    if (req.fixed_ips !== undefined) changes.fixed_ips = req.fixed_ips;
    if (req.device_id !== undefined) changes.device_id = req.device_id;
    if (req.mac_address !== undefined) changes.mac_address = req.mac_address;
    try {
      return toDhcpPort(await this.deps.ports.update(adminContext(), portId, changes));
    } catch (err) {
      if (err instanceof NeutronError && err.type === 'PortNotFound') return null;
      return remote(err);
    }
  }

  /** release_dhcp_port: deletes the DHCP ports of `deviceId` on the network. */
  async releaseDhcpPort(networkId: string, deviceId: string): Promise<void> {
    const rows = await this.deps.db
      .selectFrom('ports')
      .select('id')
      .where('network_id', '=', networkId)
      .where('device_id', '=', deviceId)
      .execute();
    for (const r of rows) {
      await this.deps.ports.delete(adminContext(), r.id as string).catch((err) => {
        if (!(err instanceof NeutronError && err.type === 'PortNotFound')) throw err;
      });
    }
  }

  handlers(): DhcpRpcHandlers {
    return {
      get_active_networks_info: async ({ host, enable_dhcp_filter }) => {
        await this.deps.scheduler.autoScheduleNetworks(host);
        const ids = await this.deps.scheduler.activeNetworkIds(host);
        return this.networkInfo(ids, enable_dhcp_filter === false ? null : true);
      },
      get_network_info: async ({ network_id }) => (await this.networkInfo([network_id]))[0] ?? null,
      create_dhcp_port: ({ host, port }) => this.createDhcpPort(host, port.port),
      update_dhcp_port: ({ host, port_id, port }) => this.updateDhcpPort(host, port_id, port.port),
      release_dhcp_port: async ({ network_id, device_id }) => {
        await this.releaseDhcpPort(network_id, device_id);
        return null;
      },
      dhcp_ready_on_ports: async ({ port_ids }) => {
        await this.deps.ml2.dhcpReady(port_ids);
        return null;
      },
      get_dhcp_port: ({ port_id }) => this.portById(port_id),
    };
  }
}

/** A port dict as agents get it: the API's attributes, JSON-safe. */
function toDhcpPort(p: Dict): DhcpPort {
  return {
    ...p,
    extra_dhcp_opts: (p.extra_dhcp_opts as DhcpPort['extra_dhcp_opts']) ?? [],
    fixed_ips: (p.fixed_ips as DhcpPort['fixed_ips']) ?? [],
  } as DhcpPort;
}
