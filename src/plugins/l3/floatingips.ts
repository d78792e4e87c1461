// Floating IPs (neutron's l3_db floating IP half, with fip-port-details): an address on an external
// network held by a `network:floatingip` port, associated with a fixed IPv4 address of a port that
// a router connects to that external network. Creates on one external network queue on its lock,
// so a small pool is handed out exactly; one floating IP per fixed IP is the last word of a unique
// key. Status is DOWN until the L3 agent reports it (update_floatingip_statuses).
import type { NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import { ipVersionOf } from '../../ipam/address.js';
import { UNSET } from '../../resources/types.js';
import { DEVICE_OWNER } from '../../rpc/contract.js';
import type { Context } from '../context.js';
import type { NetworkService } from '../core/networks.js';
import { PortChanges, type PortService } from '../core/ports.js';
import { BaseService, type Dict } from '../service.js';
import { type FixedIp, ROUTER_INTERFACE_OWNERS } from './common.js';
import { badRequest, l3Errors } from './errors.js';
import type { L3Notify } from './notify.js';

interface Association {
  port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
}

export class FloatingIpService extends BaseService {
  protected notFoundType = 'FloatingIP';
  protected notFoundLabel = 'Floating IP';
  ports!: PortService;
  networks!: NetworkService;
  notify!: L3Notify;

  override notFound(id: string): NeutronError {
    return l3Errors.floatingIpNotFound(id);
  }

  protected override async extend(db: DB, dicts: Dict[]): Promise<void> {
    await super.extend(db, dicts);
    const portIds = [...new Set(dicts.map((d) => d.port_id as string | null).filter((x): x is string => !!x))];
    const ports = new Map<string, Dict>();
    if (portIds.length) {
      const rows = await db
        .selectFrom('ports')
        .select(['id', 'name', 'network_id', 'mac_address', 'admin_state_up', 'status', 'device_id', 'device_owner'])
        .where('id', 'in', portIds)
        .execute();
      for (const r of rows) ports.set(r.id as string, r);
    }
    for (const d of dicts) {
      const p = d.port_id ? ports.get(d.port_id as string) : undefined;
      d.port_details = p
        ? {
            name: p.name,
            network_id: p.network_id,
            mac_address: p.mac_address,
            admin_state_up: Boolean(p.admin_state_up),
            status: p.status,
            device_id: p.device_id,
            device_owner: p.device_owner,
          }
        : null;
    }
  }

  // ---- association ---------------------------------------------------------------------------

  /** Neutron's get_router_for_floatingip: a router with an interface on the fixed IP's subnet and a
   * gateway on the floating IP's network; the one whose interface is the subnet's gateway first. */
  private async routerFor(db: DB, port: Dict, subnet: Dict, externalNetworkId: string): Promise<string> {
    const rows = await db
      .selectFrom('ports as rp')
      .innerJoin('ipallocations as ia', 'ia.port_id', 'rp.id')
      .innerJoin('routers as r', 'r.id', 'rp.device_id')
      .innerJoin('ports as gw', 'gw.id', 'r.gw_port_id')
      .select(['r.id as router_id', 'ia.ip_address as ip'])
      .where('rp.network_id', '=', port.network_id as string)
      .where('rp.device_owner', 'in', ROUTER_INTERFACE_OWNERS)
      .where('ia.subnet_id', '=', subnet.id as string)
      .where('gw.network_id', '=', externalNetworkId)
      .where('gw.device_owner', '=', DEVICE_OWNER.ROUTER_GW)
      .orderBy('r.created_at')
      .execute();
    const best = rows.find((r) => r.ip === subnet.gateway_ip) ?? rows[0];
    if (best) return best.router_id as string;
    throw l3Errors.externalGatewayForFloatingIPNotFound(externalNetworkId, subnet.id as string, port.id as string);
  }

  /** Neutron's _internal_fip_assoc_data and _get_assoc_data. */
  private async assocData(db: DB, ctx: Context, req: Dict, fip: Dict): Promise<Association> {
    const port = await this.ports.visible(db, ctx, req.port_id as string, true);
    if (port.project_id !== fip.project_id && !ctx.isAdmin) {
      throw badRequest(
        'floatingip',
        `Cannot process floating IP association with Port ${port.id}, since that port is owned by a different tenant`,
      );
    }
    // Neutron's words, placeholder included.
    if (port.device_owner === 'network:dhcp')
      throw badRequest('floatingip', 'Port %(id)s is unable to be assigned a floating IP');
    const fixed = port.fixed_ips as FixedIp[];
    let chosen: FixedIp | undefined;
    if (req.fixed_ip_address) {
      const ip = req.fixed_ip_address as string;
      if (ipVersionOf(ip) !== 4) {
        throw badRequest('floatingip', `Cannot process floating IP association with ${ip}, since that is not an IPv4 address`);
      }
      chosen = fixed.find((f) => f.ip_address === ip);
      if (!chosen) throw badRequest('floatingip', `Port ${port.id} does not have fixed ip ${ip}`);
    } else {
      const v4 = fixed.filter((f) => ipVersionOf(f.ip_address) === 4);
      if (v4.length === 0)
        throw badRequest('floatingip', `Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`);
      if (v4.length > 1) {
        throw badRequest(
          'floatingip',
          `Port ${port.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`,
        );
      }
      chosen = v4[0];
    }
    const subnet = await db.selectFrom('subnets').selectAll().where('id', '=', chosen.subnet_id).executeTakeFirstOrThrow();
    const found = await this.routerFor(db, port, subnet, fip.floating_network_id as string);
    // Lock the router's row (interface and gateway removals update it too), then look again: a
    // removal that committed meanwhile is seen, one that comes later sees this floating IP.
    await db
      .updateTable('routers')
      .set((eb) => ({ status: eb.ref('status') }))
      .where('id', '=', found)
      .execute();
    const routerId = await this.routerFor(db, port, subnet, fip.floating_network_id as string);
    return { port_id: port.id as string, fixed_ip_address: chosen.ip_address, router_id: routerId };
  }

  /** Neutron's _check_and_get_fip_assoc: what the floating IP is associated with after `req`. */
  private async association(db: DB, ctx: Context, req: Dict, fip: Dict): Promise<Association> {
    let out: Association = { port_id: null, fixed_ip_address: null, router_id: null };
    if (req.fixed_ip_address && !req.port_id)
      throw badRequest('floatingip', 'fixed_ip_address cannot be specified without a port_id');
    if (req.port_id) {
      out = await this.assocData(db, ctx, req, fip);
      if (out.port_id === fip.port_id) return out;
      let q = db
        .selectFrom('floatingips')
        .select('id')
        .where('fixed_port_id', '=', out.port_id as string)
        .where('floating_network_id', '=', fip.floating_network_id as string)
        .where('fixed_ip_address', '=', out.fixed_ip_address as string);
      if (fip.id) q = q.where('id', '!=', fip.id as string);
      if (await q.executeTakeFirst()) {
        throw l3Errors.floatingIPPortAlreadyAssociated(
          fip.floating_ip_address as string,
          fip.id as string,
          out.port_id as string,
          out.fixed_ip_address as string,
          fip.floating_network_id as string,
        );
      }
    }
    // An update that names other attributes keeps (and re-checks) the association; an empty one
    // clears it, as the API always did.
    if (Object.keys(req).length > 0 && !('port_id' in req) && fip.port_id) {
      out = await this.assocData(db, ctx, { ...req, port_id: fip.port_id }, fip);
    }
    return out;
  }

  // ---- create, update, delete -------------------------------------------------------------

  protected async createOne(): Promise<string> {
    throw new Error('floating IPs are created by create()');
  }

  override async create(ctx: Context, items: Dict[]): Promise<Dict[]> {
    const out: Dict[] = [];
    for (const item of items) {
      let changes = new PortChanges();
      const netId = item.floating_network_id as string;
      const fip = await this.tx(
        async (db) => {
          changes = new PortChanges();
          await this.quota?.check(db, ctx, this.def, [item]);
          await this.authorize(db, ctx, 'create', item, this.explicitlySet(item));
          const net = await this.networks.visible(db, ctx, netId);
          if (!net['router:external']) throw badRequest('floatingip', `Network ${netId} is not a valid external network`);
          const v4 = await db
            .selectFrom('subnets')
            .select('id')
            .where('network_id', '=', netId)
            .where('ip_version', '=', 4)
            .executeTakeFirst();
          if (!v4) throw badRequest('floatingip', `Network ${netId} does not contain any IPv4 subnet`);
          const f = this.newObject(item);
          const fixed: Dict = {};
          if (item.subnet_id) fixed.subnet_id = item.subnet_id;
          if (item.floating_ip_address) fixed.ip_address = item.floating_ip_address;
          const port = await this.ports.createInternal(
            db,
            {
              project_id: '',
              network_id: netId,
              admin_state_up: true,
              device_id: f.id,
              device_owner: DEVICE_OWNER.FLOATINGIP,
              name: '',
              fixed_ips: Object.keys(fixed).length ? [fixed] : UNSET,
            },
            changes,
          );
          await db
            .updateTable('ports')
            .set({ status: 'N/A' })
            .where('id', '=', port.id as string)
            .execute();
          const ipv4 = (port.fixed_ips as FixedIp[]).filter((x) => ipVersionOf(x.ip_address) === 4);
          if (ipv4.length === 0) throw l3Errors.externalIpAddressExhausted(netId);
          Object.assign(f, {
            floating_ip_address: ipv4[0].ip_address,
            floating_port_id: port.id,
            status: 'DOWN',
            port_id: null,
            fixed_ip_address: null,
            router_id: null,
            last_known_router_id: null,
          });
          delete f.subnet_id;
          delete f.port_details;
          const assoc = await this.association(db, ctx, item, f);
          Object.assign(f, assoc);
          await this.store.insert(db, this.def, f);
          return f;
        },
        [`network:${netId}`],
      );
      await this.ports.notify(changes);
      const [created] = await this.loadFull(this.db, [fip.id as string]);
      if (created.router_id) await this.notify.routersUpdated([created.router_id as string]);
      out.push(created);
    }
    return out;
  }

  override async update(ctx: Context, id: string, changes: Dict, ifRevision?: number): Promise<Dict> {
    const before = await this.tx(async (db) => {
      const fip = await this.fetchForWrite(db, ctx, id, 'update', changes);
      this.checkRevision(fip, ifRevision);
      const assoc = await this.association(db, ctx, changes, fip);
      const cols: Dict = { ...assoc, last_known_router_id: fip.router_id };
      if ('description' in changes) cols.description = changes.description;
      await this.store.update(db, this.def, id, cols);
      return fip;
    });
    const after = await this.fetch(this.db, ctx, id);
    await this.notify.routersUpdated([before.router_id as string | null, after.router_id as string | null]);
    return after;
  }

  override async delete(ctx: Context, id: string, ifRevision?: number): Promise<void> {
    let changes = new PortChanges();
    const fip = await this.tx(async (db) => {
      changes = new PortChanges();
      const obj = await this.fetchForWrite(db, ctx, id, 'delete');
      this.checkRevision(obj, ifRevision);
      await this.store.delete(db, this.def, id);
      const [port] = await this.ports.loadFullPorts(db, [obj.floating_port_id as string]);
      if (port) await this.ports.deleteInternal(db, port, changes);
      return obj;
    });
    await this.ports.notify(changes);
    await this.notify.routersUpdated([fip.router_id as string | null]);
  }

  // ---- for the other L3 parts ----------------------------------------------------------------

  /** Disassociates the floating IPs of a port about to go (neutron's disassociate_floatingips);
   * returns the routers that served them. */
  async disassociatePort(db: DB, portId: string): Promise<string[]> {
    const fips = await db.selectFrom('floatingips').select(['id', 'router_id']).where('fixed_port_id', '=', portId).execute();
    for (const f of fips) {
      await this.store.update(db, this.def, f.id as string, {
        port_id: null,
        fixed_ip_address: null,
        router_id: null,
        last_known_router_id: f.router_id,
      });
    }
    return fips.map((f) => f.router_id as string).filter(Boolean);
  }

  /** update_floatingip_statuses: the agent's view of a router's floating IPs; those of the router
   * that are no longer associated go DOWN. */
  async setStatuses(routerId: string, statuses: Record<string, string>): Promise<void> {
    await this.tx(async (db) => {
      const ids = Object.keys(statuses).filter((k) => typeof statuses[k] === 'string');
      const rows = ids.length ? await db.selectFrom('floatingips').select(['id', 'status']).where('id', 'in', ids).execute() : [];
      for (const r of rows) {
        const status = statuses[r.id as string];
        if (r.status !== status) await this.store.update(db, this.def, r.id as string, { status });
      }
      const gone = await db
        .selectFrom('floatingips')
        .select(['id', 'status'])
        .where('last_known_router_id', '=', routerId)
        .where('router_id', 'is', null)
        .execute();
      for (const r of gone) if (r.status !== 'DOWN') await this.store.update(db, this.def, r.id as string, { status: 'DOWN' });
    });
  }
}
