// Networks: visibility (own, shared, external), MTU from the physical MTU and the tenant
// network type's overhead, deletion rules (NetworkInUse), and the subnets/address scopes views.
import { errors, invalidInput } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { EB } from '../../db/store.js';
import { UNSET } from '../../resources/types.js';
import type { Context } from '../context.js';
import { BaseService, type Dict, type ServiceDeps } from '../service.js';
import type { CoreSettings } from './settings.js';

/** Ports deleted with their network rather than blocking its deletion. */
export const AUTO_DELETE_OWNERS = ['network:dhcp', 'network:distributed', 'network:floatingip_agent_gateway'];

export class NetworkService extends BaseService {
  protected notFoundType = 'Network';
  protected notFoundLabel = 'Network';

  constructor(
    def: BaseService['def'],
    deps: ServiceDeps,
    private settings: CoreSettings,
  ) {
    super(def, deps);
  }

  protected override scope(ctx: Context) {
    if (ctx.isAdmin) return undefined;
    const yes = this.store.mapping(this.def).filterValue('shared', true);
    return (eb: EB) =>
      eb.or([
        eb('networks.project_id', '=', ctx.projectId ?? ''),
        eb('networks.shared', '=', yes),
        eb('networks.router_external', '=', yes),
      ]);
  }

  protected override async extend(db: DB, dicts: Dict[]): Promise<void> {
    await super.extend(db, dicts);
    if (dicts.length === 0) return;
    const ids = dicts.map((d) => d.id as string);
    const rows = await db
      .selectFrom('subnets')
      .leftJoin('subnetpools', 'subnetpools.id', 'subnets.subnetpool_id')
      .select([
        'subnets.id as id',
        'subnets.network_id as network_id',
        'subnets.ip_version as ip_version',
        'subnetpools.address_scope_id as scope',
      ])
      .where('subnets.network_id', 'in', ids)
      .orderBy('subnets.created_at')
      .orderBy('subnets.id')
      .execute();
    const byNet = new Map<string, Dict[]>();
    for (const r of rows) {
      const list = byNet.get(r.network_id as string) ?? [];
      list.push(r);
      byNet.set(r.network_id as string, list);
    }
    for (const d of dicts) {
      const subs = byNet.get(d.id as string) ?? [];
      d.subnets = subs.map((s) => s.id);
      d.ipv4_address_scope = commonScope(subs.filter((s) => Number(s.ip_version) === 4));
      d.ipv6_address_scope = commonScope(subs.filter((s) => Number(s.ip_version) === 6));
    }
  }

  /** The largest MTU a network of the default tenant type can have. */
  maxMtu(): number {
    return this.settings.maxTenantMtu;
  }

  private checkMtu(mtu: unknown): void {
    if (typeof mtu === 'number' && mtu > this.maxMtu()) throw errors.networkMtuTooLarge(this.maxMtu());
    if (typeof mtu === 'number' && mtu < 68) throw invalidInput(`Requested MTU is too small, minimum is 68`);
  }

  protected async createOne(db: DB, _ctx: Context, item: Dict): Promise<string> {
    const obj = this.newObject(item);
    if (obj.mtu === UNSET || obj.mtu === undefined || obj.mtu === 0) obj.mtu = this.maxMtu();
    else this.checkMtu(obj.mtu);
    obj.status = 'ACTIVE';
    obj.shared ??= false;
    obj['router:external'] ??= false;
    obj.port_security_enabled ??= true;
    await this.store.insert(db, this.def, obj);
    return obj.id as string;
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    if ('mtu' in changes) this.checkMtu(changes.mtu);
    if (changes.shared === false && obj.shared === true) {
      const other = await db
        .selectFrom('ports')
        .select('id')
        .where('network_id', '=', obj.id as string)
        .where('project_id', '!=', obj.project_id as string)
        .where('device_owner', 'not in', AUTO_DELETE_OWNERS)
        .limit(1)
        .executeTakeFirst();
      if (other) throw errors.invalidSharedSetting(obj.id as string);
    }
    await super.updateOne(db, ctx, obj, changes);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    const id = obj.id as string;
    const blocking = await db
      .selectFrom('ports')
      .select('id')
      .where('network_id', '=', id)
      .where('device_owner', 'not in', AUTO_DELETE_OWNERS)
      .limit(1)
      .executeTakeFirst();
    if (blocking) throw errors.networkInUse(id);
    const ports = await db.selectFrom('ports').select('id').where('network_id', '=', id).execute();
    const portIds = ports.map((p) => p.id as string);
    const subnets = await db.selectFrom('subnets').select('id').where('network_id', '=', id).execute();
    const subnetIds = subnets.map((s) => s.id as string);
    const children = [...portIds, ...subnetIds];
    if (children.length) await db.deleteFrom('tags').where('resource_id', 'in', children).execute();
    await db.deleteFrom('ipallocations').where('network_id', '=', id).execute();
    await db.deleteFrom('ports').where('network_id', '=', id).execute();
    await db.deleteFrom('subnets').where('network_id', '=', id).execute();
    await super.deleteOne(db, ctx, obj);
  }
}

/** A network's address scope for one IP version: the scope every such subnet's pool shares. */
function commonScope(subnets: Dict[]): string | null {
  if (subnets.length === 0) return null;
  const first = (subnets[0].scope as string | null) ?? null;
  return subnets.every((s) => ((s.scope as string | null) ?? null) === first) ? first : null;
}
