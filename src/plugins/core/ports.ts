// Ports: port security, allowed address pairs and extra DHCP options, with Neutron's rules for
// creating and changing each; their MACs and fixed IPs come from port-addresses.ts (IPAM).
import { badRequest, errors } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { EB, VirtualFilter } from '../../db/store.js';
import { eui64, normalizeIp } from '../../ipam/address.js';
import { randomMac } from '../../ipam/mac.js';
import { UNSET } from '../../resources/types.js';
import { adminContext, type Context } from '../context.js';
import { BaseService, type Dict, type ServiceDeps } from '../service.js';
import type { NetworkService } from './networks.js';
import { canonicalFixedIp, type FixedIp, PortAddresses } from './port-addresses.js';
import type { CoreSettings } from './settings.js';
import { isAutoAddressSubnet, ROUTER_OWNERS, type SubnetService } from './subnets.js';

const set = (v: unknown) => v !== UNSET && v !== undefined;

/**
 * What an extension (security groups, later bindings, QoS …) adds to ports, in the shape of
 * ML2's extension drivers: process the create/update inside the transaction, extend the dict.
 * Its attributes are virtual: the extension stores them itself.
 */
export interface PortExtension {
  readonly attributes: string[];
  processCreate(db: DB, ctx: Context, port: Dict, item: Dict): Promise<void>;
  processUpdate(db: DB, ctx: Context, port: Dict, changes: Dict): Promise<void>;
  extend(db: DB, ports: Dict[]): Promise<void>;
  filters?: Record<string, VirtualFilter>;
}

/** Told after a port change commits (ML2's postcommit: mechanism drivers, agent notifications). */
export interface PortObserver {
  portsCreated(ports: Dict[]): Promise<void>;
  portUpdated(before: Dict, after: Dict): Promise<void>;
  portDeleted(port: Dict): Promise<void>;
}

/** Rules another service (L3) sets on ports it owns, checked inside a caller's transaction. */
export interface PortGuard {
  /** Before a caller's update is applied. */
  beforeUpdate?(db: DB, ctx: Context, port: Dict, changes: Dict): Promise<void>;
  /** Before a caller deletes the port through the API (ServicePortInUse, floating IPs to
   * disassociate …); never on the server's own deletes. */
  beforeDelete?(db: DB, ctx: Context, port: Dict): Promise<void>;
  /** After a caller's delete committed. */
  afterDelete?(port: Dict): Promise<void>;
}

/** Port changes made by the server inside another service's transaction, for the observers
 * once that transaction has committed. */
export class PortChanges {
  readonly created: Dict[] = [];
  readonly updated: Array<[Dict, Dict]> = [];
  readonly deleted: Dict[] = [];
}

export class PortService extends BaseService {
  protected notFoundType = 'Port';
  protected notFoundLabel = 'Port';
  networks!: NetworkService;
  subnets!: SubnetService;
  readonly extensions: PortExtension[] = [];
  readonly observers: PortObserver[] = [];
  readonly guards: PortGuard[] = [];

  constructor(
    def: BaseService['def'],
    deps: ServiceDeps,
    private settings: CoreSettings,
  ) {
    super(def, deps);
    this.addresses = new PortAddresses(settings);
  }

  /** MACs and fixed IPs (port-addresses.ts). */
  private readonly addresses: PortAddresses;

  /** A MAC free on the network (for extensions that replace a port's MAC). */
  newMac(db: DB, networkId: string): Promise<string> {
    return this.addresses.newMac(db, networkId);
  }

  /** A project sees its ports and the ports on its networks. */
  protected override scope(ctx: Context) {
    if (ctx.isAdmin) return undefined;
    const project = ctx.projectId ?? '';
    return (eb: EB) =>
      eb.or([
        eb('ports.project_id', '=', project),
        eb('ports.network_id', 'in', eb.selectFrom('networks').select('networks.id').where('networks.project_id', '=', project)),
      ]);
  }

  /** Port rules ask about the port's network (its owner may delete ports on it, …). */
  protected override async checkParents(db: DB, ctx: Context, item: Dict): Promise<void> {
    await this.networks.parentOf(db, ctx, item);
  }

  protected override async policyTarget(db: DB, obj: Dict): Promise<Dict> {
    return this.networks.withNetwork(db, await super.policyTarget(db, obj), obj);
  }

  protected override virtualFilters() {
    return Object.assign({}, ...this.extensions.map((e) => e.filters ?? {}), this.fixedIpFilters());
  }

  private fixedIpFilters(): Record<string, VirtualFilter> {
    // fixed_ips=ip_address=X / subnet_id=Y / ip_address_substr=Z arrive as {key: [values]}, one
    // dict per query value. As in Neutron, they are merged into one dict, and one allocation of
    // the port must match every key (any of its values).
    return {
      fixed_ips: (eb: EB, values: unknown[]) => {
        const merged: Record<string, string[]> = {};
        for (const v of values) {
          for (const [k, vals] of Object.entries(v as Record<string, string[]>)) merged[k] = [...(merged[k] ?? []), ...vals];
        }
        let sub = eb.selectFrom('ipallocations').select('ipallocations.port_id');
        for (const [k, vals] of Object.entries(merged)) {
          if (k === 'ip_address')
            sub = sub.where(
              'ipallocations.ip_address',
              'in',
              vals.map((x) => normalizeIp(x) ?? x),
            );
          else if (k === 'subnet_id') sub = sub.where('ipallocations.subnet_id', 'in', vals);
          // Neutron passes the text to LIKE as is: '%' and '_' act as wildcards there too.
          else if (k === 'ip_address_substr')
            sub = sub.where((e: EB) => e.or(vals.map((x) => e('ipallocations.ip_address', this.store.sql.likeOp, `%${x}%`))));
          else throw badRequest(`Invalid filter fixed_ips=${k}`);
        }
        return eb.and(Object.keys(merged).length ? [eb('ports.id', 'in', sub)] : []);
      },
    };
  }

  protected override async extend(db: DB, dicts: Dict[]): Promise<void> {
    await super.extend(db, dicts);
    if (dicts.length === 0) return;
    const byPort = new Map<string, FixedIp[]>();
    for (const d of dicts) byPort.set(d.id as string, []);
    {
      const rows = await db
        .selectFrom('ipallocations')
        .innerJoin('subnets', 'subnets.id', 'ipallocations.subnet_id')
        .select([
          'ipallocations.port_id as port_id',
          'ipallocations.subnet_id as subnet_id',
          'ipallocations.ip_address as ip_address',
        ])
        .where('ipallocations.port_id', 'in', this.store.anyOf([...byPort.keys()]))
        .orderBy('subnets.ip_version')
        .orderBy('subnets.created_at')
        .execute();
      for (const r of rows)
        byPort.get(r.port_id as string)?.push({ subnet_id: r.subnet_id as string, ip_address: r.ip_address as string });
    }
    for (const d of dicts) d.fixed_ips = byPort.get(d.id as string);
    for (const e of this.extensions) await e.extend(db, dicts);
  }

  private normalizePairs(pairs: Dict[], mac: string): Dict[] {
    if (pairs.length > this.settings.maxAllowedAddressPairs)
      throw errors.allowedAddressPairExhausted(this.settings.maxAllowedAddressPairs);
    const seen = new Set<string>();
    return pairs.map((p) => {
      const pair = { ip_address: p.ip_address, mac_address: (p.mac_address as string | undefined) ?? mac };
      const key = `${pair.mac_address}|${pair.ip_address}`;
      if (seen.has(key)) throw errors.duplicateAddressPair(key);
      seen.add(key);
      return pair;
    });
  }

  protected override readonly optimisticCreates = true;

  /** Creates on one network contend on its addresses and MACs, and on its subnets being created. */
  protected override createLocks(ctx: Context, items: Dict[]): string[] {
    return [...super.createLocks(ctx, items), ...items.map((i) => `network:${i.network_id}`)];
  }

  protected async createOne(db: DB, ctx: Context, item: Dict): Promise<string> {
    const network = await this.networks.parentOf(db, ctx, item);
    const p = this.newObject(item);
    const networkId = network.id as string;
    // null asks for a generated MAC, as an absent one does (port-mac-address-regenerate).
    if (set(p.mac_address) && p.mac_address !== null) {
      if (await this.addresses.macInUse(db, networkId, p.mac_address as string))
        throw errors.macAddressInUse(p.mac_address as string, networkId);
    } else {
      // No look-up first: a random MAC is almost never taken, and when it is, the unique key on
      // (network, MAC) fails the insert and the transaction runs again with another.
      p.mac_address = randomMac(this.settings.baseMac);
    }
    const mac = p.mac_address as string;
    if (!set(p.port_security_enabled)) p.port_security_enabled = network.port_security_enabled;
    p.allowed_address_pairs = set(p.allowed_address_pairs) ? this.normalizePairs(p.allowed_address_pairs as Dict[], mac) : [];
    if (!p.port_security_enabled && (p.allowed_address_pairs as Dict[]).length) throw errors.addressPairAndPortSecurityRequired();
    p.extra_dhcp_opts = mergeDhcpOpts([], (p.extra_dhcp_opts as Dict[] | undefined) ?? []);
    p.status = 'DOWN';
    const subnets = await this.subnets.ofNetwork(db, networkId);
    const owner = p.device_owner as string;
    const ips = set(p.fixed_ips)
      ? await this.addresses.allocateExplicit(db, subnets, networkId, p.fixed_ips as Dict[], mac, owner)
      : await this.addresses.allocateDefault(db, subnets, mac, owner);
    await this.store.insert(db, this.def, p);
    await this.insertIps(db, p.id as string, networkId, ips);
    p.fixed_ips = ips;
    for (const e of this.extensions) await e.processCreate(db, ctx, p, item);
    return p.id as string;
  }

  private async insertIps(db: DB, portId: string, networkId: string, ips: FixedIp[]): Promise<void> {
    if (ips.length === 0) return;
    await db
      .insertInto('ipallocations')
      .values(ips.map((ip) => ({ port_id: portId, network_id: networkId, subnet_id: ip.subnet_id, ip_address: ip.ip_address })))
      .execute();
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    const networkId = obj.network_id as string;
    if ('mac_address' in changes) {
      if (changes.mac_address === null) changes.mac_address = await this.addresses.newMac(db, networkId);
      else if (
        changes.mac_address !== obj.mac_address &&
        (await this.addresses.macInUse(db, networkId, changes.mac_address as string))
      ) {
        throw errors.macAddressInUse(changes.mac_address as string, networkId);
      }
      if (changes.mac_address === obj.mac_address) delete changes.mac_address;
    }
    const mac = (changes.mac_address ?? obj.mac_address) as string;
    if ('allowed_address_pairs' in changes)
      changes.allowed_address_pairs = this.normalizePairs(changes.allowed_address_pairs as Dict[], mac);
    const security = (changes.port_security_enabled ?? obj.port_security_enabled) as boolean;
    const pairs = (changes.allowed_address_pairs ?? obj.allowed_address_pairs) as Dict[];
    if (!security && pairs.length) throw errors.addressPairAndPortSecurityRequired();
    if ('extra_dhcp_opts' in changes)
      changes.extra_dhcp_opts = mergeDhcpOpts(obj.extra_dhcp_opts as Dict[], changes.extra_dhcp_opts as Dict[]);

    const owner = (changes.device_owner ?? obj.device_owner) as string;
    if ('fixed_ips' in changes) {
      await this.changeFixedIps(db, obj, changes.fixed_ips as Dict[], mac, owner);
    } else if ('mac_address' in changes) {
      // SLAAC addresses follow the MAC.
      await this.refreshAutoAddresses(db, obj, mac);
    }
    for (const e of this.extensions) await e.processUpdate(db, ctx, obj, changes);
    const columns = { ...changes };
    for (const virtualAttr of ['fixed_ips', ...this.extensions.flatMap((e) => e.attributes)]) delete columns[virtualAttr];
    await super.updateOne(db, ctx, obj, columns);
  }

  /** Neutron's _get_changed_ips_for_port: keep what is asked again, add the new, drop the rest
   * (but an auto-address IP stays unless the subnet is named for deletion). */
  private async changeFixedIps(db: DB, port: Dict, asked: Dict[], mac: string, owner: string): Promise<void> {
    const requested = asked.map(canonicalFixedIp);
    const networkId = port.network_id as string;
    const subnets = await this.subnets.ofNetwork(db, networkId);
    const original = port.fixed_ips as FixedIp[];
    const byIp = new Map(original.map((ip) => [ip.ip_address, ip]));
    const keep: FixedIp[] = [];
    const toAdd: Dict[] = [];
    for (const r of requested) {
      if (r.ip_address === undefined) continue;
      const o = byIp.get(r.ip_address as string);
      if (o && (r.subnet_id === undefined || r.subnet_id === o.subnet_id)) {
        keep.push(o);
        byIp.delete(o.ip_address);
      } else toAdd.push(r);
    }
    const bySubnet = new Map<string, FixedIp[]>();
    for (const o of byIp.values()) bySubnet.set(o.subnet_id, [...(bySubnet.get(o.subnet_id) ?? []), o]);
    for (const r of requested) {
      if (r.ip_address !== undefined) continue;
      const pool = bySubnet.get(r.subnet_id as string);
      const o = pool?.pop();
      if (o) keep.push(o);
      else toAdd.push(r);
    }
    const remove = [...bySubnet.values()].flat().filter((o) => {
      const s = subnets.find((x) => x.id === o.subnet_id);
      // Auto addresses stay with the port unless it is a router port.
      if (s && isAutoAddressSubnet(s) && !ROUTER_OWNERS.includes(owner)) {
        keep.push(o);
        return false;
      }
      return true;
    });
    for (const o of remove) {
      await db.deleteFrom('ipallocations').where('subnet_id', '=', o.subnet_id).where('ip_address', '=', o.ip_address).execute();
    }
    const chosen = new Set(keep.map((k) => `${k.subnet_id}|${k.ip_address}`));
    const added = await this.addresses.allocateRequested(db, subnets, networkId, toAdd, mac, owner, chosen);
    await this.insertIps(db, port.id as string, networkId, added);
  }

  private async refreshAutoAddresses(db: DB, port: Dict, mac: string): Promise<void> {
    const subnets = await this.subnets.ofNetwork(db, port.network_id as string);
    for (const ip of port.fixed_ips as FixedIp[]) {
      const s = subnets.find((x) => x.id === ip.subnet_id);
      if (!s || !isAutoAddressSubnet(s)) continue;
      await db
        .updateTable('ipallocations')
        .set({ ip_address: eui64(s.cidr as string, mac) })
        .where('subnet_id', '=', ip.subnet_id)
        .where('ip_address', '=', ip.ip_address)
        .execute();
    }
  }

  // ---- the server's own port operations (routers, floating IPs), inside another service's
  // transaction: no policy, no quota, no guards; the observers hear of them through `notify`.

  /** Creates a port from attributes the server chose (missing ones take their defaults). */
  async createInternal(db: DB, item: Dict, changes: PortChanges): Promise<Dict> {
    const full: Dict = { ...item };
    for (const [k, a] of Object.entries(this.def.attributes)) {
      if (a.allowPost && !(k in full) && 'default' in a && k !== 'tenant_id') full[k] = a.default;
    }
    full.tenant_id = full.project_id;
    const id = await this.createOne(db, adminContext(), full);
    const [port] = await this.loadFull(db, [id]);
    changes.created.push(port);
    return port;
  }

  /** Applies `update` to a port as the server's own decision; returns the port after it. */
  async updateInternal(db: DB, id: string, update: Dict, changes: PortChanges): Promise<Dict> {
    const ctx = adminContext();
    const before = await this.fetch(db, ctx, id);
    await this.updateOne(db, ctx, { ...before }, { ...update });
    const after = await this.fetch(db, ctx, id);
    changes.updated.push([before, after]);
    return after;
  }

  /** Deletes a port as the server's own decision. */
  async deleteInternal(db: DB, port: Dict, changes: PortChanges): Promise<void> {
    await this.deleteOne(db, adminContext(), port);
    changes.deleted.push(port);
  }

  /** Tells the observers of changes made with the *Internal methods, once committed. */
  async notify(changes: PortChanges): Promise<void> {
    if (changes.created.length) await this.afterCreate(changes.created);
    for (const [before, after] of changes.updated) await this.afterUpdate(before, after);
    for (const p of changes.deleted) await this.afterDelete(p);
  }

  /** Full ports by id, for the server's own use. */
  async loadFullPorts(db: DB, ids: string[]): Promise<Dict[]> {
    return this.loadFull(db, ids);
  }

  override async update(ctx: Context, id: string, changes: Dict, ifRevision?: number): Promise<Dict> {
    if (this.guards.length === 0) return super.update(ctx, id, changes, ifRevision);
    const before = await this.tx(async (db) => {
      const obj = await this.fetchForWrite(db, ctx, id, 'update', changes);
      this.checkRevision(obj, ifRevision);
      for (const g of this.guards) await g.beforeUpdate?.(db, ctx, obj, changes);
      await this.updateOne(db, ctx, { ...obj }, changes);
      return obj;
    });
    const after = await this.fetch(this.db, ctx, id);
    await this.afterUpdate(before, after);
    return after;
  }

  override async delete(ctx: Context, id: string, ifRevision?: number): Promise<void> {
    const deleted = await this.tx(async (db) => {
      const obj = await this.fetchForWrite(db, ctx, id, 'delete');
      this.checkRevision(obj, ifRevision);
      for (const g of this.guards) await g.beforeDelete?.(db, ctx, obj);
      await this.deleteOne(db, ctx, obj);
      return obj;
    });
    await this.afterDelete(deleted);
    for (const g of this.guards) await g.afterDelete?.(deleted);
  }

  /** Deletes a port as the server's own decision (a failed postcommit), without a caller's checks. */
  async remove(id: string): Promise<void> {
    await this.tx(async (db) => {
      const [obj] = await this.store.getRows(db, this.def, [id]);
      if (obj) await this.deleteOne(db, adminContext(), obj);
    });
  }

  protected override async afterCreate(created: Dict[]): Promise<void> {
    for (const o of this.observers) await o.portsCreated(created);
  }

  protected override async afterUpdate(before: Dict, after: Dict): Promise<void> {
    for (const o of this.observers) await o.portUpdated(before, after);
  }

  protected override async afterDelete(deleted: Dict): Promise<void> {
    for (const o of this.observers) await o.portDeleted(deleted);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    await db
      .deleteFrom('ipallocations')
      .where('port_id', '=', obj.id as string)
      .execute();
    await super.deleteOne(db, ctx, obj);
  }
}

export { forDeviceOwner } from './port-addresses.js';

/** Extra DHCP options: an option with a null value removes that option; others add or replace
 * by (opt_name, ip_version). */
export function mergeDhcpOpts(current: Dict[], changes: Dict[]): Dict[] {
  const out = current.map((o) => ({ ...o }));
  for (const c of changes) {
    const version = c.ip_version === undefined || c.ip_version === null ? 4 : Number(c.ip_version);
    const i = out.findIndex((o) => o.opt_name === c.opt_name && o.ip_version === version);
    if (c.opt_value === null || c.opt_value === undefined) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i].opt_value = c.opt_value;
    else out.push({ opt_name: c.opt_name, opt_value: c.opt_value, ip_version: version });
  }
  return out;
}
