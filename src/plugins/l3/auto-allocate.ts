// Neutron's "get me a network" (auto-allocated-topology): on a project's first GET, a network with a
// subnet from each default subnet pool, and a router from the default external network to them;
// later GETs return the same network; DELETE removes it all.
import { NeutronError } from '../../common/errors.js';
import type { Store } from '../../db/store.js';
import { type ResourceDef, UNSET } from '../../resources/types.js';
import { adminContext, type Context } from '../context.js';
import type { Dict, ResourceService } from '../service.js';
import { badRequest, l3Errors } from './errors.js';
import type { RouterService } from './routers.js';

export interface AutoAllocateDeps {
  store: Store;
  networks: ResourceService;
  subnets: ResourceService;
  routers: RouterService;
}

/** An internal create's item: the definition's defaults under what the server chose. */
function withDefaults(def: ResourceDef, item: Dict): Dict {
  const out: Dict = {};
  for (const [k, a] of Object.entries(def.attributes)) if (a.allowPost && 'default' in a) out[k] = a.default;
  Object.assign(out, item);
  out.tenant_id = out.project_id;
  return out;
}

const NAME = { network: 'auto_allocated_network', router: 'auto_allocated_router', subnet: 'auto_allocated_subnet_v' };

export class AutoAllocator {
  constructor(private readonly deps: AutoAllocateDeps) {}

  private get db() {
    return this.deps.store.db;
  }

  /** Neutron's _validate: 'None' means the caller's project; only admins name another. */
  private project(ctx: Context, projectId: string): string {
    const p = projectId === 'None' ? (ctx.projectId ?? '') : projectId;
    if (!ctx.isAdmin && p !== ctx.projectId) throw new NeutronError('NotAuthorized', 403, 'Not authorized.');
    return p;
  }

  private async defaultExternalNetwork(): Promise<string> {
    const yes = this.deps.store.bool(true) as never;
    const rows = await this.db
      .selectFrom('networks')
      .select('id')
      .where('router_external', '=', yes)
      .where('is_default', '=', yes)
      .orderBy('created_at')
      .execute();
    if (rows.length === 0) throw l3Errors.autoAllocationFailure('No default router:external network');
    return rows[0].id as string;
  }

  private async defaultPools(): Promise<Dict[]> {
    const yes = this.deps.store.bool(true) as never;
    return (await this.db
      .selectFrom('subnetpools')
      .select(['id', 'ip_version'])
      .where('is_default', '=', yes)
      .orderBy('ip_version')
      .execute()) as Dict[];
  }

  private async existing(projectId: string): Promise<Dict | undefined> {
    return (await this.db
      .selectFrom('auto_allocated_topologies')
      .selectAll()
      .where('project_id', '=', projectId)
      .executeTakeFirst()) as Dict | undefined;
  }

  async get(ctx: Context, projectId: string, fields: string[]): Promise<Dict> {
    const project = this.project(ctx, projectId);
    ctx.policy.enforce('get_auto_allocated_topology', { project_id: project, tenant_id: project });
    if (fields.includes('dry-run')) {
      await this.defaultExternalNetwork();
      if ((await this.defaultPools()).length === 0) throw l3Errors.autoAllocationFailure('No default subnetpools defined');
      return { id: 'dry-run=pass', tenant_id: project };
    }
    if (fields.length) throw badRequest('auto_allocate', 'Unrecognized field');
    const known = await this.existing(project);
    if (known) return { id: known.network_id, tenant_id: project };
    const external = await this.defaultExternalNetwork();
    return { id: await this.build(project, external), tenant_id: project };
  }

  private async build(project: string, external: string): Promise<string> {
    const admin = adminContext();
    const { networks, subnets, routers } = this.deps;
    const pools = await this.defaultPools();
    if (pools.length === 0) throw l3Errors.autoAllocationFailure('Unable to provide tenant private network');
    const [net] = await networks.create(admin, [
      withDefaults(networks.def, { name: NAME.network, admin_state_up: false, project_id: project, shared: false }),
    ]);
    const networkId = net.id as string;
    let routerId: string | undefined;
    const attached: string[] = [];
    try {
      const made: Dict[] = [];
      for (const pool of pools) {
        const [s] = await subnets.create(admin, [
          withDefaults(subnets.def, {
            name: `${NAME.subnet}${pool.ip_version}`,
            network_id: networkId,
            project_id: project,
            ip_version: Number(pool.ip_version),
            subnetpool_id: pool.id,
            cidr: UNSET,
          }),
        ]);
        made.push(s);
      }
      const [router] = await routers.create(admin, [
        withDefaults(routers.def, {
          name: NAME.router,
          external_gateway_info: { network_id: external },
          admin_state_up: true,
          project_id: project,
        }),
      ]);
      routerId = router.id as string;
      for (const s of made) {
        await routers.action(admin, routerId, 'add_router_interface', { subnet_id: s.id });
        attached.push(s.id as string);
      }
      const saved = await this.db
        .insertInto('auto_allocated_topologies')
        .values({ project_id: project, network_id: networkId, router_id: routerId })
        .onConflict((oc) => oc.column('project_id').doNothing())
        .executeTakeFirst();
      if (Number(saved.numInsertedOrUpdatedRows ?? 0) === 0) {
        // Another request of the project won: keep its topology.
        await this.cleanup(networkId, routerId, attached);
        const known = await this.existing(project);
        return known?.network_id as string;
      }
      await networks.update(admin, networkId, { admin_state_up: true });
      return networkId;
    } catch (err) {
      await this.cleanup(networkId, routerId, attached);
      if (err instanceof NeutronError && err.status === 400) {
        throw l3Errors.autoAllocationFailure('Unable to provide external connectivity');
      }
      throw err;
    }
  }

  private async cleanup(networkId: string, routerId: string | undefined, subnetIds: string[]): Promise<void> {
    const admin = adminContext();
    const quiet = (p: Promise<unknown>) =>
      p.catch((err) => (err instanceof NeutronError && err.status === 404 ? undefined : Promise.reject(err)));
    if (routerId) {
      for (const s of subnetIds)
        await quiet(this.deps.routers.action(admin, routerId, 'remove_router_interface', { subnet_id: s }));
      await quiet(this.deps.routers.delete(admin, routerId));
    }
    await quiet(this.deps.networks.delete(admin, networkId));
  }

  async delete(ctx: Context, projectId: string): Promise<void> {
    const project = this.project(ctx, projectId);
    ctx.policy.enforce('delete_auto_allocated_topology', { project_id: project, tenant_id: project });
    const known = await this.existing(project);
    if (!known) return;
    const subnetIds = (
      await this.db
        .selectFrom('subnets')
        .select('id')
        .where('network_id', '=', known.network_id as string)
        .execute()
    ).map((s) => s.id as string);
    await this.cleanup(known.network_id as string, (known.router_id as string | null) ?? undefined, subnetIds);
  }
}
