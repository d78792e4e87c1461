// Routers (neutron's l3_db, l3_gwmode_db, extraroute_db, l3_hamode/l3_dvr attributes, router
// availability zones and flavors): CRUD, the external gateway and its port, interfaces by subnet
// or by port, extra routes. Changes to a router and its ports happen in one transaction holding
// the router's lock, so two concurrent interface additions see each other's ports; agents are told
// after commit.

import { NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import { normalizeIp } from '../../ipam/address.js';
import { UNSET } from '../../resources/types.js';
import { DEVICE_OWNER } from '../../rpc/contract.js';
import { validators } from '../../validation/validators.js';
import { validateAvailabilityZones } from '../agents/availability-zones.js';
import type { Context } from '../context.js';
import type { NetworkService } from '../core/networks.js';
import { PortChanges, type PortService } from '../core/ports.js';
import type { SubnetService } from '../core/subnets.js';
import { BaseService, type Dict, type ServiceDeps } from '../service.js';
import {
  checkDupRouterSubnets,
  type FixedIp,
  inAnyCidr,
  type L3Settings,
  portsOfRouters,
  ROUTER_INTERFACE_OWNERS,
  subnetsByIds,
  subnetsOfNetwork,
} from './common.js';
import { badRequest, l3Errors } from './errors.js';
import type { FlavorService } from './flavors.js';
import { RouterInterfaces } from './interfaces.js';
import type { L3Notify } from './notify.js';
import type { L3Scheduler } from './scheduler.js';

const set = (v: unknown) => v !== UNSET && v !== undefined;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const _UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Locks a router's row for the rest of the transaction (a no-op update), as floating IP
 * associations do: an association and the removal of what it goes through take turns. */
async function lockRouterRow(db: DB, id: string): Promise<void> {
  await db
    .updateTable('routers')
    .set((eb) => ({ status: eb.ref('status') }))
    .where('id', '=', id)
    .execute();
}

/** A router's columns that an update may change (the rest are virtual or fixed). */
const COLUMNS = ['name', 'admin_state_up', 'description', 'ha', 'distributed', 'routes'];

export class RouterService extends BaseService {
  protected notFoundType = 'Router';
  protected notFoundLabel = 'Router';
  ports!: PortService;
  networks!: NetworkService;
  subnets!: SubnetService;
  flavors?: FlavorService;
  scheduler!: L3Scheduler;
  notify!: L3Notify;

  constructor(
    def: BaseService['def'],
    deps: ServiceDeps,
    private readonly settings: L3Settings,
  ) {
    super(def, deps);
  }

  override notFound(id: string): NeutronError {
    return l3Errors.routerNotFound(id);
  }

  // ---- reading ----------------------------------------------------------------------------

  protected override async extend(db: DB, dicts: Dict[]): Promise<void> {
    await super.extend(db, dicts);
    if (dicts.length === 0) return;
    const gwIds = dicts.map((d) => d.gw_port_id as string | null).filter((x): x is string => !!x);
    const gw = new Map<string, { network_id: string; ips: FixedIp[] }>();
    if (gwIds.length) {
      const ports = await db.selectFrom('ports').select(['id', 'network_id']).where('id', 'in', gwIds).execute();
      for (const p of ports) gw.set(p.id as string, { network_id: p.network_id as string, ips: [] });
      const ips = await db
        .selectFrom('ipallocations')
        .innerJoin('subnets', 'subnets.id', 'ipallocations.subnet_id')
        .select(['ipallocations.port_id as port_id', 'ipallocations.subnet_id as subnet_id', 'ipallocations.ip_address as ip'])
        .where('ipallocations.port_id', 'in', gwIds)
        .orderBy('subnets.ip_version')
        .orderBy('subnets.created_at')
        .execute();
      for (const r of ips)
        gw.get(r.port_id as string)?.ips.push({ subnet_id: r.subnet_id as string, ip_address: r.ip as string });
    }
    const ids = dicts.map((d) => d.id as string);
    const zones = new Map<string, Set<string>>();
    const rows = await db
      .selectFrom('routerl3agentbindings')
      .innerJoin('agents', 'agents.id', 'routerl3agentbindings.l3_agent_id')
      .select(['routerl3agentbindings.router_id as router_id', 'agents.availability_zone as zone'])
      .where('routerl3agentbindings.router_id', 'in', this.store.anyOf(ids))
      .execute();
    for (const r of rows) {
      if (!r.zone) continue;
      const s = zones.get(r.router_id as string) ?? new Set<string>();
      s.add(r.zone as string);
      zones.set(r.router_id as string, s);
    }
    for (const d of dicts) {
      const g = d.gw_port_id ? gw.get(d.gw_port_id as string) : undefined;
      d.external_gateway_info = g
        ? { network_id: g.network_id, enable_snat: Boolean(d.enable_snat), external_fixed_ips: g.ips }
        : null;
      d.availability_zones = [...(zones.get(d.id as string) ?? [])].sort();
    }
  }

  /** The policy target of a router action (add_router_interface …). */
  private async authorizeAction(db: DB, ctx: Context, rule: string, router: Dict): Promise<void> {
    ctx.policy.enforce(rule, await this.policyTarget(db, router));
  }

  // ---- create, update, delete -------------------------------------------------------------

  protected async createOne(): Promise<string> {
    throw new Error('routers are created by create()');
  }

  override async create(ctx: Context, items: Dict[]): Promise<Dict[]> {
    const out: Dict[] = [];
    for (const item of items) {
      let changes = new PortChanges();
      const id = await this.tx(async (db) => {
        changes = new PortChanges();
        await this.quota?.check(db, ctx, this.def, [item]);
        await this.authorize(db, ctx, 'create', item, this.explicitlySet(item));
        const r = this.newObject(item);
        const gwInfo = r.external_gateway_info;
        delete r.external_gateway_info;
        r.status = 'ACTIVE';
        r.ha = typeof item.ha === 'boolean' ? item.ha : this.settings.l3Ha;
        r.distributed = typeof item.distributed === 'boolean' ? item.distributed : this.settings.routerDistributed;
        r.flavor_id = set(item.flavor_id) ? item.flavor_id : null;
        if (r.flavor_id !== null) await this.checkFlavor(db, ctx, r.flavor_id as string, item);
        r.availability_zone_hints = (item.availability_zone_hints as string[] | undefined) ?? [];
        await validateAvailabilityZones(db, 'router', r.availability_zone_hints as string[]);
        r.routes = [];
        r.enable_snat = this.settings.enableSnatByDefault;
        r.gw_port_id = null;
        await this.store.insert(db, this.def, r);
        if (Array.isArray(item.tags) && item.tags.length) await this.store.setTags(db, r.id as string, item.tags as string[]);
        if (isDict(gwInfo) && Object.keys(gwInfo).length) {
          const cols = await this.updateGateway(db, ctx, r, gwInfo, changes);
          await this.store.update(db, this.def, r.id as string, cols, false);
        }
        return r.id as string;
      });
      await this.ports.notify(changes);
      const [router] = await this.loadFull(this.db, [id]);
      await this.perCaller(this.db, ctx, [router]);
      if (router.external_gateway_info) await this.notify.routersUpdated([id]);
      out.push(router);
    }
    return out;
  }

  override async update(ctx: Context, id: string, changes: Dict, ifRevision?: number): Promise<Dict> {
    let portChanges = new PortChanges();
    await this.tx(
      async (db) => {
        portChanges = new PortChanges();
        const obj = await this.fetchForWrite(db, ctx, id, 'update', changes);
        this.checkRevision(obj, ifRevision);
        await lockRouterRow(db, id);
        await this.checkMigration(db, obj, changes);
        const cols: Dict = {};
        for (const k of COLUMNS) if (k in changes) cols[k] = changes[k];
        if ('routes' in changes) await this.validateRoutes(db, obj, changes.routes as Dict[]);
        if ('external_gateway_info' in changes) {
          const info = changes.external_gateway_info;
          Object.assign(cols, await this.updateGateway(db, ctx, obj, isDict(info) ? info : null, portChanges));
        }
        await this.store.update(db, this.def, id, cols);
      },
      [`router:${id}`],
    );
    await this.ports.notify(portChanges);
    const after = await this.fetch(this.db, ctx, id);
    await this.notify.routersUpdated([id]);
    return after;
  }

  override async delete(ctx: Context, id: string, ifRevision?: number): Promise<void> {
    let changes = new PortChanges();
    await this.tx(
      async (db) => {
        changes = new PortChanges();
        const obj = await this.fetchForWrite(db, ctx, id, 'delete');
        this.checkRevision(obj, ifRevision);
        await lockRouterRow(db, id);
        await this.removeAll(db, obj, changes);
      },
      [`router:${id}`],
    );
    await this.ports.notify(changes);
    this.notify.routerDeleted(id);
  }

  /** Deletes a router that has no interfaces left and whose gateway serves no floating IP. */
  private async removeAll(db: DB, router: Dict, changes: PortChanges): Promise<void> {
    const id = router.id as string;
    const interfaces = await db
      .selectFrom('ports')
      .select('id')
      .where('device_id', '=', id)
      .where('device_owner', 'in', ROUTER_INTERFACE_OWNERS)
      .orderBy('created_at')
      .execute();
    if (interfaces.length) {
      throw l3Errors.routerInUse(id, `has ports still attached: ${interfaces.map((p) => p.id).join(', ')}`);
    }
    if (router.gw_port_id) await this.checkGatewayFree(db, router);
    await db.updateTable('routers').set({ gw_port_id: null }).where('id', '=', id).execute();
    for (const p of await portsOfRouters(db, this.ports, [id])) await this.ports.deleteInternal(db, p, changes);
    await this.store.delete(db, this.def, id);
  }

  // ---- flavors, zones, HA/DVR migration -----------------------------------------------------

  /** The provider (l3 service provider) a router would have, and whether it supports the request. */
  private async checkFlavor(db: DB, ctx: Context, flavorId: string, item: Dict): Promise<void> {
    if (!this.flavors) throw l3Errors.flavorNotFound(flavorId);
    const provider = await this.flavors.providerOf(db, ctx, flavorId);
    for (const key of ['distributed', 'ha'] as const) {
      const flag = item[key];
      if (typeof flag !== 'boolean') continue;
      if (!provider.supports(key, flag)) {
        throw l3Errors.invalidInput(`Provider ${provider.name} does not support ${key}=${flag ? 'True' : 'False'}`);
      }
    }
  }

  /** ha and distributed change only on routers that are administratively down (l3-ha, dvr with
   * router-admin-state-down-before-update), and not on a router with a flavor. */
  private async checkMigration(db: DB, router: Dict, changes: Dict): Promise<void> {
    const haChanged = typeof changes.ha === 'boolean' && changes.ha !== router.ha;
    const dvrChanged = typeof changes.distributed === 'boolean' && changes.distributed !== router.distributed;
    const desiredUp = (changes.admin_state_up ?? router.admin_state_up) as boolean;
    if (dvrChanged && (router.admin_state_up || desiredUp)) {
      throw badRequest(
        'router',
        "Cannot change the 'distributed' attribute of active routers. Please set router admin_state_up to False prior to upgrade",
      );
    }
    if (haChanged && desiredUp) {
      throw badRequest(
        'router',
        'Cannot change HA attribute of active routers. Please set router admin_state_up to False prior to upgrade',
      );
    }
    if ((haChanged || dvrChanged) && router.flavor_id && this.flavors) {
      const provider = await this.flavors.providerOfRouter(db, router.flavor_id as string);
      const ok = (['distributed', 'ha'] as const).every(
        (k) => typeof changes[k] !== 'boolean' || provider?.supports(k, changes[k] as boolean),
      );
      if (!ok) {
        throw l3Errors.invalidInput(
          "Changing the 'ha' and 'distributed' attributes on a router associated with a flavor is not supported",
        );
      }
    }
  }

  // ---- the external gateway --------------------------------------------------------------------

  private async checkGatewayFree(db: DB, router: Dict): Promise<void> {
    const fip = await db
      .selectFrom('floatingips')
      .select('id')
      .where('router_id', '=', router.id as string)
      .executeTakeFirst();
    if (!fip) return;
    const gw = await db
      .selectFrom('ports')
      .select('network_id')
      .where('id', '=', router.gw_port_id as string)
      .executeTakeFirst();
    throw l3Errors.routerExternalGatewayInUseByFloatingIp(router.id as string, (gw?.network_id as string) ?? '');
  }

  /**
   * Sets, changes or removes a router's gateway (neutron's _update_router_gw_info with
   * ext-gw-mode): the gateway port on the external network with the requested addresses, and
   * enable_snat. Returns the router columns to store.
   */
  private async updateGateway(db: DB, ctx: Context, router: Dict, info: Dict | null, changes: PortChanges): Promise<Dict> {
    const routerId = router.id as string;
    const networkId = info && typeof info.network_id === 'string' ? info.network_id : null;
    const extIps = ((info?.external_fixed_ips as Dict[] | undefined) ?? []).map((f) =>
      typeof f.ip_address === 'string' ? { ...f, ip_address: normalizeIp(f.ip_address) ?? f.ip_address } : f,
    );
    const [gwPort] = router.gw_port_id ? await this.ports.loadFullPorts(db, [router.gw_port_id as string]) : [];
    let extSubnets: Dict[] = [];
    if (networkId) {
      const net = await this.networks.visible(db, ctx, networkId);
      if (!net['router:external']) throw badRequest('router', `Network ${networkId} is not an external network`);
      extSubnets = await subnetsOfNetwork(db, networkId);
      for (const ip of extIps) {
        if (extSubnets.some((s) => s.gateway_ip && s.gateway_ip === ip.ip_address)) {
          throw badRequest('router', `External IP ${ip.ip_address} is the same as the gateway IP`);
        }
      }
    }
    const routes = (router.routes as Dict[] | undefined) ?? [];
    if (routes.length) {
      const attached = (await portsOfRouters(db, this.ports, [routerId])).filter((p) => p.id !== router.gw_port_id);
      const ips = attached.flatMap((p) => (p.fixed_ips as FixedIp[]).map((f) => f.ip_address));
      const subnets = await subnetsByIds(
        db,
        attached.flatMap((p) => (p.fixed_ips as FixedIp[]).map((f) => f.subnet_id)),
      );
      const cidrs = [...[...subnets.values()].map((s) => s.cidr as string), ...extSubnets.map((s) => s.cidr as string)];
      this.checkRoutes(routerId, routes, cidrs, ips);
    }
    const cols: Dict = {
      enable_snat: typeof info?.enable_snat === 'boolean' ? info.enable_snat : this.settings.enableSnatByDefault,
    };
    if (gwPort && extIpChange(gwPort, extIps) && gwPort.network_id === networkId) {
      await this.ports.updateInternal(db, gwPort.id as string, { fixed_ips: extIps }, changes);
      return cols;
    }
    if (gwPort && gwPort.network_id !== networkId) {
      await this.checkGatewayFree(db, router);
      await db.updateTable('routers').set({ gw_port_id: null }).where('id', '=', routerId).execute();
      await this.ports.deleteInternal(db, gwPort, changes);
      cols.gw_port_id = null;
    }
    if (networkId && (!gwPort || gwPort.network_id !== networkId)) {
      const attached = (await portsOfRouters(db, this.ports, [routerId])).filter((p) => p.id !== gwPort?.id);
      await checkDupRouterSubnets(db, attached, extSubnets);
      const port = await this.ports.createInternal(
        db,
        {
          project_id: '',
          network_id: networkId,
          fixed_ips: extIps.length ? extIps : UNSET,
          device_id: routerId,
          device_owner: DEVICE_OWNER.ROUTER_GW,
          admin_state_up: true,
          name: '',
        },
        changes,
      );
      cols.gw_port_id = port.id;
    }
    return cols;
  }

  // ---- extra routes -------------------------------------------------------------------------

  /** Neutron's _validate_routes: at most max_routes, each next hop on a subnet of the router's
   * ports and not one of the router's own addresses. */
  private checkRoutes(routerId: string, routes: Dict[], cidrs: string[], ips: string[]): void {
    if (routes.length > this.settings.maxRoutes) throw l3Errors.routesExhausted(routerId, this.settings.maxRoutes);
    for (const r of routes) {
      const hop = r.nexthop as string;
      if (!inAnyCidr(hop, cidrs)) throw l3Errors.invalidRoutes(routes, 'the nexthop is not connected with router');
      if (ips.includes(normalizeIp(hop) ?? hop)) throw l3Errors.invalidRoutes(routes, 'the nexthop is used by router');
    }
  }

  private async validateRoutes(db: DB, router: Dict, routes: Dict[]): Promise<void> {
    const ports = await portsOfRouters(db, this.ports, [router.id as string]);
    const fixed = ports.flatMap((p) => p.fixed_ips as FixedIp[]);
    const subnets = await subnetsByIds(
      db,
      fixed.map((f) => f.subnet_id),
    );
    const cidrs = fixed.map((f) => subnets.get(f.subnet_id)?.cidr as string).filter(Boolean);
    this.checkRoutes(
      router.id as string,
      routes,
      cidrs,
      fixed.map((f) => f.ip_address),
    );
  }

  // ---- member actions ------------------------------------------------------------------------

  readonly interfaces = new RouterInterfaces(this);

  /**
   * A change to a router's ports (interfaces), as one transaction holding the router's lock and
   * row: the router as the caller sees it (404), the action's policy `rule` (403), `fn`, a new
   * revision; then the ports' observers and the router's agents are told.
   */
  async change<T>(
    ctx: Context,
    id: string,
    rule: string,
    fn: (db: DB, router: Dict, changes: PortChanges) => Promise<T>,
  ): Promise<T> {
    let changes = new PortChanges();
    const out = await this.tx(
      async (db) => {
        changes = new PortChanges();
        const router = await this.fetch(db, ctx, id);
        await this.authorizeAction(db, ctx, rule, router);
        await lockRouterRow(db, id);
        const result = await fn(db, router, changes);
        await this.store.bumpRevision(db, this.def, id);
        return result;
      },
      [`router:${id}`],
    );
    await this.ports.notify(changes);
    await this.notify.routersUpdated([id]);
    return out;
  }

  async action(ctx: Context, id: string, action: string, body: unknown): Promise<unknown> {
    switch (action) {
      case 'add_router_interface':
        return this.interfaces.add(ctx, id, body);
      case 'remove_router_interface':
        return this.interfaces.remove(ctx, id, body);
      case 'add_extraroutes':
      case 'remove_extraroutes':
        return this.editRoutes(ctx, id, action, body);
    }
    throw new NeutronError('HTTPNotFound', 404, 'The resource could not be found.');
  }

  /** add_extraroutes/remove_extraroutes: the union or difference with the current routes, set as
   * an update of `routes` would be (extraroute-atomic). */
  private async editRoutes(ctx: Context, id: string, action: string, body: unknown): Promise<unknown> {
    const routes = isDict(body) && isDict(body.router) ? body.router.routes : undefined;
    if (!Array.isArray(routes)) throw new NeutronError('HTTPBadRequest', 400, "Unable to find 'routes' in request body");
    const reason = validators['type:hostroutes'](routes);
    if (reason !== null) throw new NeutronError('HTTPBadRequest', 400, `Invalid input for routes. Reason: ${reason}.`);
    const asked = (routes as Dict[]).map((r) => ({ destination: String(r.destination), nexthop: String(r.nexthop) }));
    await this.tx(
      async (db) => {
        const router = await this.fetch(db, ctx, id);
        await this.authorizeAction(db, ctx, action, router);
        const old = (router.routes as Dict[]).map((r) => ({ destination: String(r.destination), nexthop: String(r.nexthop) }));
        const key = (r: Dict) => `${r.destination}|${r.nexthop}`;
        let next: Dict[];
        if (action === 'add_extraroutes') {
          next = [...old];
          for (const r of asked) if (!next.some((o) => key(o) === key(r))) next.push(r);
        } else {
          const drop = new Set(asked.map(key));
          next = old.filter((o) => !drop.has(key(o)));
        }
        await this.validateRoutes(db, router, next);
        await this.store.update(db, this.def, id, { routes: next });
      },
      [`router:${id}`],
    );
    const after = await this.fetch(this.db, ctx, id);
    await this.notify.routersUpdated([id]);
    return { router: after };
  }
}

/** Neutron's _check_for_external_ip_change. */
function extIpChange(gwPort: Dict, extIps: Dict[]): boolean {
  if (extIps.length === 0) return false;
  const current = gwPort.fixed_ips as FixedIp[];
  const eq = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));
  const subnets = new Set(current.map((f) => f.subnet_id));
  const asked = new Set(extIps.filter((f) => f.subnet_id).map((f) => f.subnet_id as string));
  if (!eq(subnets, asked)) return true;
  const ips = new Set(current.map((f) => f.ip_address));
  const askedIps = new Set(extIps.filter((f) => f.ip_address).map((f) => f.ip_address as string));
  return !eq(ips, askedIps);
}
