// Networks: visibility (own, shared, external), segments from ML2's type manager (provider and
// tenant networks) with the MTU they allow, deletion rules (NetworkInUse), and the subnets/address
// scopes views.
import { errors, invalidInput, NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { VirtualFilter } from '../../db/store.js';
import { ABSENT, UNSET } from '../../resources/types.js';
import { validateAvailabilityZones } from '../agents/availability-zones.js';
import type { Context } from '../context.js';
import { PROVIDER_ATTRIBUTES, type TypeManager } from '../ml2/type-manager.js';
import {
  ACCESS_EXTERNAL,
  ACCESS_SHARED,
  canRevoke,
  deletePoliciesOf,
  grantToAll,
  policiesOf,
  syncFlags,
  WILDCARD,
} from '../rbac/access.js';
import { BaseService, type Dict, type ServiceDeps } from '../service.js';

/** Ports deleted with their network rather than blocking its deletion. */
export const AUTO_DELETE_OWNERS = ['network:dhcp', 'network:distributed', 'network:floatingip_agent_gateway'];

/** Told after a network change commits (ML2's postcommit: agent notifications). */
export interface NetworkObserver {
  networkUpdated(before: Dict, after: Dict): Promise<void>;
  networkDeleted(network: Dict): Promise<void>;
}

export class NetworkService extends BaseService {
  readonly observers: NetworkObserver[] = [];
  /** Run inside a network's delete transaction before its ports are checked (L3 deletes the
   * network's floating IPs that serve nothing). */
  readonly deleteHooks: Array<(db: DB, network: Dict) => Promise<void>> = [];

  protected override async afterUpdate(before: Dict, after: Dict): Promise<void> {
    for (const o of this.observers) await o.networkUpdated(before, after);
  }

  protected override async afterDelete(deleted: Dict): Promise<void> {
    for (const o of this.observers) await o.networkDeleted(deleted);
  }

  protected notFoundType = 'Network';
  protected notFoundLabel = 'Network';

  constructor(
    def: BaseService['def'],
    deps: ServiceDeps,
    readonly types: TypeManager,
  ) {
    super(def, deps);
  }

  protected override readonly rbacType = 'network' as const;

  protected override virtualFilters(ctx: Context): Record<string, VirtualFilter> {
    return { ...super.virtualFilters(ctx), ...this.types.providerFilters(`${this.def.table}.id`) };
  }

  protected override async extend(db: DB, dicts: Dict[]): Promise<void> {
    await super.extend(db, dicts);
    if (dicts.length === 0) return;
    await this.types.extendNetworks(db, dicts);
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
    const zones = await this.zonesOf(db, ids);
    for (const d of dicts) {
      if (zones) d.availability_zones = [...(zones.get(d.id as string) ?? [])].sort();
      // auto-allocated-topology's is_default exists on external networks only.
      if ('is_default' in d && !d['router:external']) d.is_default = ABSENT;
      const subs = byNet.get(d.id as string) ?? [];
      d.subnets = subs.map((s) => s.id);
      d.ipv4_address_scope = commonScope(subs.filter((s) => Number(s.ip_version) === 4));
      d.ipv6_address_scope = commonScope(subs.filter((s) => Number(s.ip_version) === 6));
    }
  }

  /** network_availability_zone: the zones of the DHCP agents hosting each network (undefined
   * when the extension is off). */
  private async zonesOf(db: DB, ids: string[]): Promise<Map<string, Set<string>> | undefined> {
    if (!('availability_zones' in this.def.attributes)) return undefined;
    const rows = await db
      .selectFrom('networkdhcpagentbindings')
      .innerJoin('agents', 'agents.id', 'networkdhcpagentbindings.dhcp_agent_id')
      .select(['networkdhcpagentbindings.network_id as network_id', 'agents.availability_zone as zone'])
      .where('networkdhcpagentbindings.network_id', 'in', ids)
      .execute();
    const zones = new Map<string, Set<string>>();
    for (const r of rows) {
      if (!r.zone) continue;
      const set = zones.get(r.network_id as string) ?? new Set<string>();
      set.add(r.zone as string);
      zones.set(r.network_id as string, set);
    }
    return zones;
  }

  /** The network of a port or subnet being created, looked up once per create transaction
   * (its visibility check, its policy target and the create itself all need it). */
  private readonly parents = new WeakMap<Dict, { db: DB; network: Dict }>();

  async parentOf(db: DB, ctx: Context, item: Dict): Promise<Dict> {
    const known = this.parents.get(item);
    if (known && known.db === db) return known.network;
    const network = await this.visible(db, ctx, item.network_id as string);
    this.parents.set(item, { db, network });
    return network;
  }

  /** Adds what policy rules ask of a child's network (`network:tenant_id`, `network:shared` …). */
  async withNetwork(db: DB, target: Dict, child: Dict): Promise<Dict> {
    const known = this.parents.get(child);
    const net = known && known.db === db ? known.network : await this.store.getRow(db, this.def, child.network_id as string);
    if (!net) return target;
    return {
      ...target,
      'network:tenant_id': net.project_id,
      'network:project_id': net.project_id,
      'network:shared': net.shared,
      'network:router:external': net['router:external'],
    };
  }

  /** A requested MTU (none, 0: the largest the segments allow), checked against that largest. */
  private mtuFor(requested: unknown, max: number): number {
    if (requested === UNSET || requested === undefined || requested === null || requested === 0) return max;
    const mtu = requested as number;
    if (mtu > max) throw errors.networkMtuTooLarge(max);
    if (mtu < 68) throw invalidInput(`Requested MTU is too small, minimum is 68`);
    return mtu;
  }

  protected async createOne(db: DB, _ctx: Context, item: Dict): Promise<string> {
    const obj = this.newObject(item);
    // The segments first: they decide the MTU, and their errors come before an MTU's.
    const segments = await this.types.reserveNetworkSegments(db, item);
    obj.mtu = this.mtuFor(obj.mtu, this.types.maxMtu(segments));
    if (Array.isArray(obj.availability_zone_hints)) {
      await validateAvailabilityZones(db, 'network', obj.availability_zone_hints as string[]);
    }
    obj.status = 'ACTIVE';
    obj.shared ??= false;
    obj['router:external'] ??= false;
    obj.port_security_enabled ??= true;
    obj.is_default = obj['router:external'] === true && obj.is_default === true;
    if (obj.is_default) await this.checkDefaultExternal(db, obj.id as string);
    await this.store.insert(db, this.def, obj);
    await this.types.addNetworkSegments(db, obj.id as string, segments);
    // `shared` and `router:external` are wildcard RBAC policies (the columns summarise them).
    const owner = obj.project_id as string;
    if (obj.shared === true) await this.addWildcard(db, obj.id as string, owner, ACCESS_SHARED);
    if (obj['router:external'] === true) await this.addWildcard(db, obj.id as string, owner, ACCESS_EXTERNAL);
    return obj.id as string;
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    const id = obj.id as string;
    if ('mtu' in changes || PROVIDER_ATTRIBUTES.some((a) => a in changes)) {
      const segments = (await this.types.segmentsOf(db, [id])).get(id) ?? [];
      await this.types.updateProviderAttributes(db, obj, segments, changes);
      if ('mtu' in changes) changes.mtu = this.mtuFor(changes.mtu, this.types.maxMtu(segments));
    }
    const owner = obj.project_id as string;
    if (typeof changes.shared === 'boolean') {
      const [wild] = (await policiesOf(db, 'network', id, ACCESS_SHARED)).filter((p) => p.target_tenant === WILDCARD);
      if (changes.shared && !wild) await this.addWildcard(db, id, owner, ACCESS_SHARED);
      if (!changes.shared && wild) {
        if (!(await canRevoke(db, 'network', ACCESS_SHARED, id, owner, WILDCARD, wild.id))) {
          throw errors.invalidSharedSetting(id);
        }
        await db.deleteFrom('rbac_policies').where('id', '=', wild.id).execute();
      }
    }
    if (typeof changes['router:external'] === 'boolean') {
      const external = await policiesOf(db, 'network', id, ACCESS_EXTERNAL);
      if (changes['router:external'] && external.length === 0) await this.addWildcard(db, id, owner, ACCESS_EXTERNAL);
      if (!changes['router:external'] && external.length > 0) {
        const gateway = await db
          .selectFrom('ports')
          .select('id')
          .where('network_id', '=', id)
          .where('device_owner', '=', 'network:router_gateway')
          .executeTakeFirst();
        if (gateway) {
          throw new NeutronError(
            'ExternalNetworkInUse',
            409,
            `External network ${id} cannot be updated to be made non-external, since it has existing gateway ports.`,
          );
        }
        await db
          .deleteFrom('rbac_policies')
          .where('object_type', '=', 'network')
          .where('object_id', '=', id)
          .where('action', '=', ACCESS_EXTERNAL)
          .execute();
      }
    }
    const external = typeof changes['router:external'] === 'boolean' ? changes['router:external'] : obj['router:external'];
    if (!external) changes.is_default = false;
    else if (changes.is_default === true && obj.is_default !== true) await this.checkDefaultExternal(db, id);
    await super.updateOne(db, ctx, obj, changes);
    await syncFlags(db, this.store, 'network', id);
  }

  /** One default external network at a time (auto-allocated-topology). */
  private async checkDefaultExternal(db: DB, id: string): Promise<void> {
    const other = await db
      .selectFrom('networks')
      .select('id')
      .where('is_default', '=', this.store.bool(true) as never)
      .where('router_external', '=', this.store.bool(true) as never)
      .where('id', '!=', id)
      .executeTakeFirst();
    if (other) {
      throw new NeutronError('DefaultExternalNetworkExists', 409, `A default external network already exists: ${other.id}.`);
    }
  }

  private async addWildcard(db: DB, id: string, owner: string, action: string): Promise<void> {
    await grantToAll(db, 'network', { id, project_id: owner }, action);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    const id = obj.id as string;
    for (const hook of this.deleteHooks) await hook(db, obj);
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
    await deletePoliciesOf(db, 'network', id);
    await this.types.releaseNetworkSegments(db, id);
    await super.deleteOne(db, ctx, obj);
  }
}

/** A network's address scope for one IP version: the scope every such subnet's pool shares. */
function commonScope(subnets: Dict[]): string | null {
  if (subnets.length === 0) return null;
  const first = (subnets[0].scope as string | null) ?? null;
  return subnets.every((s) => ((s.scope as string | null) ?? null) === first) ? first : null;
}
