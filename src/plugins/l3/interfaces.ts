// A router's interfaces (neutron's add_router_interface/remove_router_interface): by subnet, a new
// port at the subnet's gateway address (an IPv6 subnet joins the router's IPv6 port on its network);
// by port, an existing port the caller may use. No two interfaces on one subnet nor on overlapping
// subnets; an interface a floating IP or an extra route goes through stays. Each runs in one
// transaction holding the router's lock (RouterService.change), so concurrent additions see each other.
import type { DB } from '../../db/connection.js';
import { cidrContains, ipToBigint, ipVersionOf } from '../../ipam/address.js';
import { DEVICE_OWNER } from '../../rpc/contract.js';
import type { Context } from '../context.js';
import type { PortChanges, PortService } from '../core/ports.js';
import type { SubnetService } from '../core/subnets.js';
import { ACCESS_SHARED, WILDCARD } from '../rbac/access.js';
import type { Dict } from '../service.js';
import { checkDupRouterSubnets, type FixedIp, portsOfRouters, subnetsByIds } from './common.js';
import { badRequest, l3Errors } from './errors.js';

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** The answer of add_router_interface/remove_router_interface. */
export interface InterfaceInfo {
  id: string;
  tenant_id: string;
  port_id: string;
  network_id: string;
  subnet_id: string;
  subnet_ids: string[];
}

const interfaceInfo = (routerId: string, port: Dict, subnets: Dict[], last = true): InterfaceInfo => ({
  id: routerId,
  tenant_id: port.project_id as string,
  port_id: port.id as string,
  network_id: port.network_id as string,
  subnet_id: (last ? subnets.at(-1) : subnets[0])?.id as string,
  subnet_ids: subnets.map((s) => s.id as string),
});

/** What the interfaces need of the router service (RouterService): its ports and subnets, and
 * `change`, which runs a change to one router's ports under its lock. */
export interface RouterPortChanges {
  readonly ports: PortService;
  readonly subnets: SubnetService;
  change<T>(ctx: Context, id: string, rule: string, fn: (db: DB, router: Dict, changes: PortChanges) => Promise<T>): Promise<T>;
}

export class RouterInterfaces {
  constructor(private readonly routers: RouterPortChanges) {}

  private get ports(): PortService {
    return this.routers.ports;
  }

  private get subnets(): SubnetService {
    return this.routers.subnets;
  }

  /** Neutron's _validate_interface_info. */
  private interfaceArgs(body: unknown, forRemoval: boolean): { portId?: string; subnetId?: string } {
    const info = isDict(body) ? body : {};
    const byPort = 'port_id' in info;
    const bySubnet = 'subnet_id' in info;
    if (!byPort && !bySubnet) throw badRequest('router', 'Either subnet_id or port_id must be specified');
    for (const key of ['port_id', 'subnet_id']) {
      if (!(key in info)) continue;
      const v = info[key];
      if (typeof v !== 'string' || !UUID_RE.test(v)) throw badRequest('router', `'${v}' is not a valid UUID`);
    }
    if (!forRemoval && byPort && bySubnet) throw badRequest('router', 'Cannot specify both subnet-id and port-id');
    return { portId: info.port_id as string | undefined, subnetId: info.subnet_id as string | undefined };
  }

  private static checkAddressMode(subnet: Dict): void {
    if (Number(subnet.ip_version) === 6 && subnet.ipv6_ra_mode === null && subnet.ipv6_address_mode !== null) {
      throw badRequest(
        'router',
        `IPv6 subnet ${subnet.id} configured to receive RAs from an external router cannot be added to Neutron Router.`,
      );
    }
  }

  /** add_router_interface (neutron's add_router_interface). */
  add(ctx: Context, routerId: string, body: unknown): Promise<InterfaceInfo> {
    return this.routers.change(ctx, routerId, 'add_router_interface', async (db, router, changes) => {
      const { portId, subnetId } = this.interfaceArgs(body, false);
      const attached = await portsOfRouters(db, this.ports, [routerId]);
      const result = portId
        ? await this.attachPort(db, ctx, router, portId, attached, changes)
        : await this.attachSubnet(db, ctx, router, subnetId as string, attached, changes);
      return interfaceInfo(routerId, result.port, result.subnets);
    });
  }

  /** An existing port becomes a router interface (neutron's _add_interface_by_port). */
  private async attachPort(
    db: DB,
    ctx: Context,
    router: Dict,
    portId: string,
    attached: Dict[],
    changes: PortChanges,
  ): Promise<{ port: Dict; subnets: Dict[] }> {
    const port = await this.ports.visible(db, ctx, portId, true);
    if (port.device_id !== '') throw l3Errors.portInUse(port.network_id as string, portId, port.device_id as string);
    const fixed = port.fixed_ips as FixedIp[];
    if (fixed.length === 0) throw badRequest('router', 'Router port must have at least one fixed IP');
    const subnetMap = await subnetsByIds(
      db,
      fixed.map((f) => f.subnet_id),
    );
    const subnets = fixed.map((f) => subnetMap.get(f.subnet_id)).filter((s): s is Dict => s !== undefined);
    for (const s of subnets) RouterInterfaces.checkAddressMode(s);
    const updated = await this.ports.updateInternal(
      db,
      portId,
      { device_id: router.id, device_owner: DEVICE_OWNER.ROUTER_INTF },
      changes,
    );
    this.checkOneIpv6PortPerNetwork(updated, attached);
    await checkDupRouterSubnets(db, attached, [...new Map(subnets.map((s) => [s.id, s])).values()]);
    if (subnets.filter((s) => Number(s.ip_version) === 4).length > 1) {
      throw badRequest('router', 'Cannot have multiple IPv4 subnets on router port');
    }
    if (!ctx.isAdmin) {
      for (const f of fixed) {
        const s = subnetMap.get(f.subnet_id);
        if (!s || s.project_id === ctx.projectId) continue;
        const pools = JSON.parse(s.allocation_pools as string) as Array<{ start: string; end: string }>;
        if (!pools.some((p) => inRange(f.ip_address, p.start, p.end))) {
          throw badRequest(
            'router',
            `Cannot add interface to router because specified port ${portId} has an IP address out of the allocation pool of subnet ${f.subnet_id}, which is not owned by the project making the request`,
          );
        }
      }
    }
    return { port: updated, subnets };
  }

  /** Neutron's _validate_one_router_ipv6_port_per_network. */
  private checkOneIpv6PortPerNetwork(port: Dict, attached: Dict[]): void {
    const hasV6 = (p: Dict) => (p.fixed_ips as FixedIp[]).some((f) => ipVersionOf(f.ip_address) === 6);
    if (!hasV6(port)) return;
    for (const other of attached) {
      if (other.id !== port.id && other.network_id === port.network_id && hasV6(other)) {
        throw badRequest(
          'router',
          `Router already contains IPv6 port ${other.id} belonging to network id ${other.network_id}. Only one IPv6 port from the same network subnet can be connected to a router.`,
        );
      }
    }
  }

  /** A new router interface on a subnet, at its gateway address (neutron's _add_interface_by_subnet);
   * an IPv6 subnet joins the router's IPv6 port on that network when there is one. */
  private async attachSubnet(
    db: DB,
    ctx: Context,
    router: Dict,
    subnetId: string,
    attached: Dict[],
    changes: PortChanges,
  ): Promise<{ port: Dict; subnets: Dict[] }> {
    const subnet = await this.subnets.visible(db, ctx, subnetId);
    if (!subnet.gateway_ip) throw badRequest('router', 'Subnet for router interface must have a gateway IP');
    if (subnet.project_id !== ctx.projectId && !ctx.isAdmin && !(await this.sharedTo(db, subnet.network_id as string, ctx))) {
      throw badRequest(
        'router',
        `Cannot add interface to router because subnet ${subnetId} is not owned by project making the request`,
      );
    }
    RouterInterfaces.checkAddressMode(subnet);
    await checkDupRouterSubnets(db, attached, [subnet]);
    const fixedIp = { ip_address: subnet.gateway_ip as string, subnet_id: subnetId };
    if (Number(subnet.ip_version) === 6) {
      const v6 = attached.find(
        (p) =>
          p.device_owner === DEVICE_OWNER.ROUTER_INTF &&
          p.network_id === subnet.network_id &&
          (p.fixed_ips as FixedIp[]).some((f) => ipVersionOf(f.ip_address) === 6),
      );
      if (v6) {
        const port = await this.ports.updateInternal(
          db,
          v6.id as string,
          { fixed_ips: [...(v6.fixed_ips as FixedIp[]), fixedIp] },
          changes,
        );
        return { port, subnets: [subnet] };
      }
    }
    const port = await this.ports.createInternal(
      db,
      {
        project_id: router.project_id,
        network_id: subnet.network_id,
        fixed_ips: [fixedIp],
        admin_state_up: true,
        device_id: router.id,
        device_owner: DEVICE_OWNER.ROUTER_INTF,
        name: '',
      },
      changes,
    );
    return { port, subnets: [subnet] };
  }

  /** Whether the network is shared with the caller's project by an access_as_shared policy
   * naming it (a network shared with everyone does not count, as in Neutron). */
  private async sharedTo(db: DB, networkId: string, ctx: Context): Promise<boolean> {
    const row = await db
      .selectFrom('rbac_policies')
      .select('target_tenant')
      .where('object_type', '=', 'network')
      .where('object_id', '=', networkId)
      .where('action', '=', ACCESS_SHARED)
      .where('target_tenant', 'in', [ctx.projectId ?? '', WILDCARD])
      .execute();
    return row.some((r) => r.target_tenant === ctx.projectId);
  }

  /** remove_router_interface (neutron's remove_router_interface). */
  remove(ctx: Context, routerId: string, body: unknown): Promise<InterfaceInfo> {
    return this.routers.change(ctx, routerId, 'remove_router_interface', async (db, router, changes) => {
      const { portId, subnetId } = this.interfaceArgs(body, true);
      const result = portId
        ? await this.detachPort(db, router, portId, subnetId, changes)
        : await this.detachSubnet(db, ctx, router, subnetId as string, changes);
      return interfaceInfo(routerId, result.port, result.subnets, false);
    });
  }

  /** Neutron's _confirm_router_interface_not_in_use: no floating IP through the interface, no
   * extra route via it. */
  private async checkInterfaceFree(db: DB, router: Dict, subnet: Dict): Promise<void> {
    const routerId = router.id as string;
    const cidr = subnet.cidr as string;
    const onSubnet = new Set(
      (
        await db
          .selectFrom('ipallocations')
          .select('port_id')
          .where('subnet_id', '=', subnet.id as string)
          .execute()
      ).map((r) => r.port_id as string),
    );
    const fips = await db
      .selectFrom('floatingips')
      .select(['fixed_ip_address', 'fixed_port_id'])
      .where('router_id', '=', routerId)
      .execute();
    for (const f of fips) {
      if (f.fixed_ip_address && cidrContains(cidr, f.fixed_ip_address as string) && onSubnet.has(f.fixed_port_id as string)) {
        throw l3Errors.routerInterfaceInUseByFloatingIP(routerId, subnet.id as string);
      }
    }
    for (const r of (router.routes as Dict[]) ?? []) {
      if (cidrContains(cidr, r.nexthop as string)) throw l3Errors.routerInterfaceInUseByRoute(routerId, subnet.id as string);
    }
  }

  private async detachPort(
    db: DB,
    router: Dict,
    portId: string,
    subnetId: string | undefined,
    changes: PortChanges,
  ): Promise<{ port: Dict; subnets: Dict[] }> {
    const routerId = router.id as string;
    const [port] = (await portsOfRouters(db, this.ports, [routerId], [DEVICE_OWNER.ROUTER_INTF])).filter((p) => p.id === portId);
    if (!port) throw l3Errors.routerInterfaceNotFound(routerId, portId);
    const subnetIds = (port.fixed_ips as FixedIp[]).map((f) => f.subnet_id);
    if (subnetId && !subnetIds.includes(subnetId)) throw l3Errors.subnetMismatchForPort(portId, subnetId);
    const subnets = [...(await subnetsByIds(db, subnetIds)).values()];
    for (const s of subnets) await this.checkInterfaceFree(db, router, s);
    await this.ports.deleteInternal(db, port, changes);
    return { port, subnets };
  }

  private async detachSubnet(
    db: DB,
    ctx: Context,
    router: Dict,
    subnetId: string,
    changes: PortChanges,
  ): Promise<{ port: Dict; subnets: Dict[] }> {
    const routerId = router.id as string;
    const subnet = await this.subnets.visible(db, ctx, subnetId);
    const ports = (await portsOfRouters(db, this.ports, [routerId], [DEVICE_OWNER.ROUTER_INTF])).filter(
      (p) => p.network_id === subnet.network_id,
    );
    if (ports.length) await this.checkInterfaceFree(db, router, subnet);
    for (const p of ports) {
      const fixed = p.fixed_ips as FixedIp[];
      if (!fixed.some((f) => f.subnet_id === subnetId)) continue;
      if (fixed.length > 1) {
        await this.ports.updateInternal(
          db,
          p.id as string,
          { fixed_ips: fixed.filter((f) => f.subnet_id !== subnetId) },
          changes,
        );
      } else {
        await this.ports.deleteInternal(db, p, changes);
      }
      return { port: p, subnets: [subnet] };
    }
    throw l3Errors.routerInterfaceNotFoundForSubnet(routerId, subnetId);
  }
}

function inRange(ip: string, start: string, end: string): boolean {
  const v = ipVersionOf(ip);
  if (v === null || ipVersionOf(start) !== v) return false;
  const n = ipToBigint(ip);
  return n >= ipToBigint(start) && n <= ipToBigint(end);
}
