// Flavors and service profiles (neutron's flavors plugin) and the service providers behind them
// (service-type): the L3 providers Neutron's router plugin loads (single_node, ha, dvr, dvrha),
// which decide what ha/distributed a router of a flavor may ask for.
import { randomUUID } from 'node:crypto';
import { NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { EB, ListOptions } from '../../db/store.js';
import type { ResourceDef } from '../../resources/types.js';
import type { Context } from '../context.js';
import { BaseService, type Dict, type ResourceService } from '../service.js';
import { l3Errors } from './errors.js';

/** A feature flag of a provider (neutron's _FeatureFlag). */
interface Feature {
  supports: boolean;
  requires: boolean;
}
const UNSUPPORTED: Feature = { supports: false, requires: false };
const MANDATORY: Feature = { supports: true, requires: true };

export interface Provider {
  service_type: string;
  name: string;
  driver: string;
  default: boolean;
  ha: Feature;
  distributed: Feature;
  supports(key: 'ha' | 'distributed', value: boolean): boolean;
}

const provider = (name: string, cls: string, ha: Feature, distributed: Feature): Provider => ({
  service_type: 'L3_ROUTER_NAT',
  name,
  driver: `neutron.services.l3_router.service_providers.${cls}`,
  default: false,
  ha,
  distributed,
  supports(key, value) {
    const f = this[key];
    return value === f.requires || (value && f.supports);
  },
});

/** Neutron's _LegacyPlusProviderConfiguration, in its order. */
export const PROVIDERS: Provider[] = [
  provider('dvrha', 'dvrha.DvrHaDriver', MANDATORY, MANDATORY),
  provider('dvr', 'dvr.DvrDriver', UNSUPPORTED, MANDATORY),
  provider('ha', 'ha.HaDriver', MANDATORY, UNSUPPORTED),
  provider('single_node', 'single_node.SingleNodeDriver', UNSUPPORTED, UNSUPPORTED),
];

/** Flavors have no project: everyone with a role reads them (get_flavor), admins write. */
abstract class GlobalService extends BaseService {
  protected override scope(): undefined {
    return undefined;
  }

  protected abstract readRule: string;

  protected override async fetch(db: DB, ctx: Context, id: string, full = true): Promise<Dict> {
    const obj = await super.fetch(db, ctx, id, full);
    if (!ctx.policy.allows(this.readRule, obj)) throw this.notFound(id);
    return obj;
  }

  override async list(ctx: Context, opts: ListOptions): Promise<Dict[]> {
    return (await super.list(ctx, opts)).filter((o) => ctx.policy.allows(this.readRule, o));
  }
}

export class ServiceProfileService extends GlobalService {
  protected notFoundType = 'ServiceProfile';
  protected notFoundLabel = 'Service Profile';
  protected readRule = 'get_service_profile';

  override notFound(id: string): NeutronError {
    return l3Errors.serviceProfileNotFound(id);
  }

  private checkDriver(driver: string): void {
    if (!PROVIDERS.some((p) => p.driver === driver)) throw l3Errors.driverNotFound(driver);
  }

  protected async createOne(db: DB, _ctx: Context, item: Dict): Promise<string> {
    const sp: Dict = { ...item, id: randomUUID() };
    if (sp.driver) this.checkDriver(sp.driver as string);
    else if (!sp.metainfo) throw l3Errors.serviceProfileEmpty();
    await this.store.insert(db, this.def, sp);
    return sp.id as string;
  }

  private async inUse(db: DB, id: string): Promise<void> {
    const b = await db
      .selectFrom('flavorserviceprofilebindings')
      .select('flavor_id')
      .where('service_profile_id', '=', id)
      .executeTakeFirst();
    if (b) throw l3Errors.serviceProfileInUse(id);
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    if (changes.driver) this.checkDriver(changes.driver as string);
    await this.inUse(db, obj.id as string);
    await super.updateOne(db, ctx, obj, changes);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    await this.inUse(db, obj.id as string);
    await super.deleteOne(db, ctx, obj);
  }
}

export class FlavorService extends GlobalService {
  protected notFoundType = 'Flavor';
  protected notFoundLabel = 'Flavor';
  protected readRule = 'get_flavor';
  profiles!: ServiceProfileService;

  override notFound(id: string): NeutronError {
    return l3Errors.flavorNotFound(id);
  }

  protected override async extend(db: DB, dicts: Dict[]): Promise<void> {
    if (dicts.length === 0) return;
    const rows = await db
      .selectFrom('flavorserviceprofilebindings')
      .select(['flavor_id', 'service_profile_id'])
      .where(
        'flavor_id',
        'in',
        dicts.map((d) => d.id as string),
      )
      .orderBy('service_profile_id')
      .execute();
    for (const d of dicts) d.service_profiles = rows.filter((r) => r.flavor_id === d.id).map((r) => r.service_profile_id);
  }

  protected override virtualFilters(): Record<string, (eb: EB, values: unknown[]) => ReturnType<EB['and']>> {
    return {};
  }

  protected async createOne(db: DB, _ctx: Context, item: Dict): Promise<string> {
    const f: Dict = { ...item, id: randomUUID() };
    delete f.service_profiles;
    await this.store.insert(db, this.def, f);
    return f.id as string;
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    const cols = { ...changes };
    delete cols.service_profiles;
    await super.updateOne(db, ctx, obj, cols);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    const used = await db
      .selectFrom('routers')
      .select('id')
      .where('flavor_id', '=', obj.id as string)
      .executeTakeFirst();
    if (used) throw l3Errors.flavorInUse(obj.id as string);
    await super.deleteOne(db, ctx, obj);
  }

  // ---- /v2.0/flavors/{id}/service_profiles and next_providers ------------------------------

  async bindProfile(ctx: Context, flavorId: string, spId: string): Promise<void> {
    ctx.policy.enforce('create_flavor_service_profile', {});
    await this.tx(async (db) => {
      await this.fetch(db, ctx, flavorId);
      await this.profiles.visible(db, ctx, spId);
      const b = await db
        .selectFrom('flavorserviceprofilebindings')
        .select('flavor_id')
        .where('flavor_id', '=', flavorId)
        .where('service_profile_id', '=', spId)
        .executeTakeFirst();
      if (b) throw l3Errors.bindingExists(spId, flavorId);
      await db.insertInto('flavorserviceprofilebindings').values({ flavor_id: flavorId, service_profile_id: spId }).execute();
    });
  }

  async unbindProfile(ctx: Context, flavorId: string, spId: string): Promise<void> {
    ctx.policy.enforce('delete_flavor_service_profile', {});
    const r = await this.db
      .deleteFrom('flavorserviceprofilebindings')
      .where('flavor_id', '=', flavorId)
      .where('service_profile_id', '=', spId)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) < 1) throw l3Errors.bindingNotFound(spId, flavorId);
  }

  async showBinding(ctx: Context, flavorId: string, spId: string): Promise<Dict> {
    ctx.policy.enforce('get_flavor_service_profile', { project_id: ctx.projectId, tenant_id: ctx.projectId });
    const b = await this.db
      .selectFrom('flavorserviceprofilebindings')
      .select('flavor_id')
      .where('flavor_id', '=', flavorId)
      .where('service_profile_id', '=', spId)
      .executeTakeFirst();
    if (!b) throw l3Errors.bindingNotFound(spId, flavorId);
    return { service_profile_id: spId, flavor_id: flavorId };
  }

  /** Neutron's get_flavor_next_provider: the provider of the flavor's first service profile. */
  async nextProvider(db: DB, flavorId: string): Promise<Provider> {
    const b = await db
      .selectFrom('flavorserviceprofilebindings')
      .select('service_profile_id')
      .where('flavor_id', '=', flavorId)
      .orderBy('service_profile_id')
      .executeTakeFirst();
    if (!b) throw l3Errors.bindingNotFound('', flavorId);
    const sp = await db
      .selectFrom('serviceprofiles')
      .selectAll()
      .where('id', '=', b.service_profile_id as string)
      .executeTakeFirst();
    if (!sp) throw l3Errors.serviceProfileNotFound(b.service_profile_id as string);
    if (!sp.enabled) throw l3Errors.serviceProfileDisabled();
    const p = PROVIDERS.find((x) => x.driver === sp.driver);
    if (!p) throw l3Errors.driverNotFound(sp.driver as string);
    return p;
  }

  async nextProviders(ctx: Context, flavorId: string): Promise<Dict[]> {
    await this.fetch(this.db, ctx, flavorId);
    const p = await this.nextProvider(this.db, flavorId);
    return [{ driver: p.driver, provider: p.name }];
  }

  /** The provider a new router of this flavor gets (404 when the flavor is unknown). */
  async providerOf(db: DB, ctx: Context, flavorId: string): Promise<Provider> {
    await this.fetch(db, ctx, flavorId);
    return this.nextProvider(db, flavorId);
  }

  /** The provider of an existing router's flavor, if it can still be found. */
  async providerOfRouter(db: DB, flavorId: string): Promise<Provider | undefined> {
    return this.nextProvider(db, flavorId).catch(() => undefined);
  }
}

/** /v2.0/service-providers: a read-only list. */
export class ServiceProviderService implements ResourceService {
  constructor(readonly def: ResourceDef) {}

  async list(ctx: Context, opts: ListOptions): Promise<Dict[]> {
    let out: Dict[] = PROVIDERS.map((p) => ({ service_type: p.service_type, name: p.name, default: p.default }));
    for (const [k, vals] of Object.entries(opts.filters)) out = out.filter((o) => vals.some((v) => v === o[k]));
    out = out.filter((o) => ctx.policy.allows('get_service_provider', o));
    for (const [k, dir] of [...opts.sorts].reverse()) {
      out.sort((a, b) => (String(a[k]) < String(b[k]) ? -1 : String(a[k]) > String(b[k]) ? 1 : 0) * (dir === 'asc' ? 1 : -1));
    }
    return opts.limit ? out.slice(0, opts.limit) : out;
  }

  private notHere(): never {
    throw new NeutronError('HTTPNotFound', 404, 'The resource could not be found.');
  }
  async get(): Promise<Dict> {
    this.notHere();
  }
  async create(): Promise<Dict[]> {
    this.notHere();
  }
  async update(): Promise<Dict> {
    this.notHere();
  }
  async delete(): Promise<void> {
    this.notHere();
  }
  async getTags(): Promise<string[]> {
    this.notHere();
  }
  async changeTags(): Promise<string[]> {
    this.notHere();
  }
}
