// The server half of the L3 agents' RPC (neutron's L3RpcCallback on q-l3-plugin): sync_routers with
// Neutron's get_sync_data shape (gateway port, interfaces with their subnets, prefix lengths and MTU,
// floating IPs, extra routes), binding the routers' ports to the asking agent's host first, as
// _ensure_host_set_on_ports does, so that host's L2 agent wires them; get_router_ids (scheduling
// unhosted routers to the agent, as router_auto_schedule does) and update_floatingip_statuses.

import type { DB } from '../../db/connection.js';
import type { Store } from '../../db/store.js';
import {
  AGENT_TYPE_L3,
  DEVICE_OWNER,
  type RouterFloatingIp,
  type RouterPort,
  type RouterSubnet,
  type SyncRouter,
} from '../../rpc/contract.js';
import { RemoteFault } from '../../rpc/errors.js';
import type { L3PluginRpcHandlers } from '../../rpc/index.js';
import { SERVICE_PLUGIN_TYPES } from '../../validation/validators.js';
import { adminContext } from '../context.js';
import type { PortService } from '../core/ports.js';
import type { Logger } from '../ml2/mech-manager.js';
import type { Dict } from '../service.js';
import { type FixedIp, type L3Settings, portsOfRouters } from './common.js';
import type { FloatingIpService } from './floatingips.js';
import type { RouterService } from './routers.js';
import type { L3Scheduler } from './scheduler.js';

/** The interfaces an L3 agent plumbs (neutron's _get_sync_interfaces). */
const SYNC_INTERFACE_OWNERS = [DEVICE_OWNER.ROUTER_INTF, DEVICE_OWNER.HA_REPLICATED_INT];

const UNBOUND = ['unbound', 'binding_failed'];

export interface L3RpcDeps {
  store: Store;
  routers: RouterService;
  ports: PortService;
  fips: FloatingIpService;
  scheduler: L3Scheduler;
  settings: L3Settings;
  log?: Logger;
}

export class L3Rpc {
  constructor(private readonly deps: L3RpcDeps) {}

  private get db(): DB {
    return this.deps.store.db;
  }

  /** Subnets of networks with their subnet pool's address scope. */
  private async subnetsOf(db: DB, networkIds: string[]): Promise<Map<string, Dict[]>> {
    const out = new Map<string, Dict[]>(networkIds.map((id) => [id, []]));
    if (networkIds.length === 0) return out;
    const rows = await db
      .selectFrom('subnets')
      .leftJoin('subnetpools', 'subnetpools.id', 'subnets.subnetpool_id')
      .select([
        'subnets.id as id',
        'subnets.network_id as network_id',
        'subnets.cidr as cidr',
        'subnets.gateway_ip as gateway_ip',
        'subnets.ip_version as ip_version',
        'subnets.dns_nameservers as dns_nameservers',
        'subnets.ipv6_ra_mode as ipv6_ra_mode',
        'subnets.subnetpool_id as subnetpool_id',
        'subnetpools.address_scope_id as address_scope_id',
      ])
      .where('subnets.network_id', 'in', networkIds)
      .orderBy('subnets.created_at')
      .orderBy('subnets.id')
      .execute();
    for (const r of rows) out.get(r.network_id as string)?.push(r);
    return out;
  }

  /** Neutron's _populate_mtu_and_subnets_for_ports, into the contract's RouterPort. */
  private async routerPorts(db: DB, ports: Dict[]): Promise<RouterPort[]> {
    const networkIds = [...new Set(ports.map((p) => p.network_id as string))];
    const subnets = await this.subnetsOf(db, networkIds);
    const mtus = new Map<string, number>();
    if (networkIds.length) {
      for (const n of await db.selectFrom('networks').select(['id', 'mtu']).where('id', 'in', networkIds).execute()) {
        mtus.set(n.id as string, Number(n.mtu));
      }
    }
    return ports.map((p) => {
      const fixed = p.fixed_ips as FixedIp[];
      const all = subnets.get(p.network_id as string) ?? [];
      const info = (s: Dict): RouterSubnet => ({
        id: s.id as string,
        cidr: s.cidr as string,
        gateway_ip: (s.gateway_ip as string | null) ?? null,
        ip_version: Number(s.ip_version) as 4 | 6,
        dns_nameservers: JSON.parse((s.dns_nameservers as string) || '[]'),
        ipv6_ra_mode: (s.ipv6_ra_mode as string | null) ?? null,
        subnetpool_id: (s.subnetpool_id as string | null) ?? null,
      });
      const scopes: Record<'4' | '6', string | null> = { '4': null, '6': null };
      for (const s of all) scopes[String(s.ip_version) as '4' | '6'] = (s.address_scope_id as string | null) ?? null;
      const own = all.filter((s) => fixed.some((f) => f.subnet_id === s.id));
      const extra = all.filter((s) => !fixed.some((f) => f.subnet_id === s.id));
      return {
        id: p.id as string,
        name: p.name as string,
        network_id: p.network_id as string,
        mac_address: p.mac_address as string,
        fixed_ips: fixed.map((f) => {
          const s = all.find((x) => x.id === f.subnet_id);
          return { subnet_id: f.subnet_id, ip_address: f.ip_address, prefixlen: Number(String(s?.cidr ?? '/0').split('/')[1]) };
        }),
        subnets: own.map(info),
        extra_subnets: extra.map(info),
        address_scopes: scopes,
        mtu: mtus.get(p.network_id as string) ?? 0,
        device_owner: p.device_owner as string,
        device_id: p.device_id as string,
        admin_state_up: Boolean(p.admin_state_up),
        status: p.status as string,
        project_id: p.project_id as string,
        tenant_id: p.project_id as string,
        'binding:host_id': (p['binding:host_id'] as string | undefined) ?? '',
        revision_number: Number(p.revision_number ?? 0),
      };
    });
  }

  /** Neutron's get_sync_data(router_ids, active=True): the administratively up routers of `ids`. */
  async syncData(db: DB, ids: string[]): Promise<SyncRouter[]> {
    if (ids.length === 0) return [];
    const routers = (await this.deps.routers.loadFull(db, ids)).filter((r) => r.admin_state_up);
    if (routers.length === 0) return [];
    const routerIds = routers.map((r) => r.id as string);
    const gwIds = routers.map((r) => r.gw_port_id as string | null).filter((x): x is string => !!x);
    const gwPorts = new Map((await this.routerPorts(db, await this.deps.ports.loadFullPorts(db, gwIds))).map((p) => [p.id, p]));
    const interfaces = await this.routerPorts(db, await portsOfRouters(db, this.deps.ports, routerIds, SYNC_INTERFACE_OWNERS));
    const fips = await db
      .selectFrom('floatingips')
      .selectAll()
      .where('router_id', 'in', routerIds)
      .orderBy('created_at')
      .execute();
    const fixedSubnetScopes = new Map<string, string | null>();
    if (fips.length) {
      const rows = await db
        .selectFrom('ipallocations')
        .innerJoin('subnets', 'subnets.id', 'ipallocations.subnet_id')
        .leftJoin('subnetpools', 'subnetpools.id', 'subnets.subnetpool_id')
        .select(['ipallocations.port_id as port_id', 'ipallocations.ip_address as ip', 'subnetpools.address_scope_id as scope'])
        .where('ipallocations.port_id', 'in', fips.map((f) => f.fixed_port_id as string).filter(Boolean))
        .execute();
      for (const r of rows) fixedSubnetScopes.set(`${r.port_id}|${r.ip}`, (r.scope as string | null) ?? null);
    }
    return routers.map((r): SyncRouter => {
      const id = r.id as string;
      const gw = r.gw_port_id ? (gwPorts.get(r.gw_port_id as string) ?? null) : null;
      const info = r.external_gateway_info as SyncRouter['external_gateway_info'];
      const router: SyncRouter = {
        id,
        name: r.name as string,
        description: (r.description as string) ?? '',
        project_id: r.project_id as string,
        tenant_id: r.project_id as string,
        admin_state_up: Boolean(r.admin_state_up),
        status: r.status as string,
        ha: Boolean(r.ha),
        distributed: Boolean(r.distributed),
        flavor_id: (r.flavor_id as string | null) ?? null,
        availability_zone_hints: (r.availability_zone_hints as string[]) ?? [],
        external_gateway_info: info,
        gw_port_id: (r.gw_port_id as string | null) ?? null,
        gw_port: gw,
        routes: ((r.routes as Array<{ destination: string; nexthop: string }>) ?? []).map((x) => ({
          destination: x.destination,
          nexthop: x.nexthop,
        })),
        _interfaces: interfaces.filter((p) => p.device_id === id),
        _floatingips: fips
          .filter((f) => f.router_id === id)
          .map(
            (f): RouterFloatingIp => ({
              id: f.id as string,
              floating_ip_address: f.floating_ip_address as string,
              floating_network_id: f.floating_network_id as string,
              port_id: f.fixed_port_id as string,
              fixed_ip_address: f.fixed_ip_address as string,
              router_id: id,
              status: f.status as string,
              project_id: f.project_id as string,
              tenant_id: f.project_id as string,
              fixed_ip_address_scope: fixedSubnetScopes.get(`${f.fixed_port_id}|${f.fixed_ip_address}`) ?? null,
              revision_number: Number(f.revision_number),
            }),
          ),
        revision_number: Number(r.revision_number),
      };
      if (info) router.enable_snat = info.enable_snat;
      return router;
    });
  }

  /** Neutron's _ensure_host_set_on_ports: binds each router port to `host` (again, after a failed
   * binding or a move). Returns whether any port changed. */
  private async ensureHost(host: string, routers: SyncRouter[]): Promise<boolean> {
    const ctx = adminContext();
    let changed = false;
    const wanted = routers.flatMap((r) => [...(r.gw_port ? [r.gw_port] : []), ...r._interfaces]);
    if (wanted.length === 0) return false;
    const full = new Map(
      (
        await this.deps.ports.loadFullPorts(
          this.db,
          wanted.map((p) => p.id),
        )
      ).map((p) => [p.id as string, p]),
    );
    for (const p of wanted) {
      const port = full.get(p.id);
      if (!port) continue;
      const bound = port['binding:host_id'] === host && !UNBOUND.includes(port['binding:vif_type'] as string);
      if (bound) continue;
      try {
        await this.deps.ports.update(ctx, p.id, { 'binding:host_id': host });
        changed = true;
      } catch (err) {
        // A port deleted meanwhile is no longer the router's.
        this.deps.log?.warn({ err, port_id: p.id, host }, 'binding a router port to its L3 agent host failed');
      }
    }
    return changed;
  }

  private async agentOn(host: string): Promise<Dict> {
    const agent = await this.deps.scheduler.agentOnHost(this.db, host);
    if (!agent) {
      throw new RemoteFault(
        'AgentNotFoundByTypeHost',
        `Agent with agent_type=${AGENT_TYPE_L3} and host=${host} could not be found`,
      );
    }
    return agent as unknown as Dict;
  }

  async syncRouters(host: string, routerIds?: string[] | null): Promise<SyncRouter[]> {
    if (!routerIds && this.deps.settings.routerAutoSchedule) await this.deps.scheduler.autoSchedule(host);
    const agent = await this.agentOn(host);
    if (!agent.admin_state_up) return [];
    const ids = await this.deps.scheduler.routerIdsOn(this.db, agent.id as string, routerIds);
    let routers = await this.syncData(this.db, ids);
    if (await this.ensureHost(host, routers)) routers = await this.syncData(this.db, ids);
    return routers;
  }

  async routerIds(host: string): Promise<string[]> {
    if (this.deps.settings.routerAutoSchedule) await this.deps.scheduler.autoSchedule(host);
    const agent = await this.deps.scheduler.agentOnHost(this.db, host);
    if (!agent?.admin_state_up) return [];
    return this.deps.scheduler.routerIdsOn(this.db, agent.id);
  }

  handlers(): L3PluginRpcHandlers {
    return {
      sync_routers: ({ host, router_ids }) => this.syncRouters(host, router_ids ?? null),
      get_router_ids: ({ host }) => this.routerIds(host),
      update_floatingip_statuses: async ({ router_id, fip_statuses }) => {
        await this.deps.fips.setStatuses(router_id, fip_statuses ?? {});
        return null;
      },
      get_service_plugin_list: () => [...SERVICE_PLUGIN_TYPES],
    };
  }
}
