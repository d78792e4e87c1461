// /v2.0/floatingip_pools (floatingip-pools): the IPv4 subnets of external networks, each a pool a
// project may allocate floating IPs from. Read-only; each pool is shown as the caller's, as Neutron
// shows it.
import { NeutronError } from '../../common/errors.js';
import type { ListOptions, Store } from '../../db/store.js';
import type { ResourceDef } from '../../resources/types.js';
import type { Context } from '../context.js';
import type { Dict, ResourceService } from '../service.js';

export class FloatingIpPoolService implements ResourceService {
  constructor(
    readonly def: ResourceDef,
    private readonly store: Store,
  ) {}

  async list(ctx: Context, _opts: ListOptions): Promise<Dict[]> {
    const rows = await this.store.db
      .selectFrom('subnets')
      .innerJoin('networks', 'networks.id', 'subnets.network_id')
      .select(['subnets.id as id', 'subnets.name as name', 'subnets.network_id as network_id', 'subnets.cidr as cidr'])
      .where('networks.router_external', '=', this.store.bool(true) as never)
      .where('subnets.ip_version', '=', 4)
      .orderBy('subnets.id')
      .execute();
    const project = ctx.projectId ?? '';
    return rows
      .map((r) => ({
        subnet_id: r.id,
        subnet_name: r.name,
        network_id: r.network_id,
        cidr: r.cidr,
        project_id: project,
        tenant_id: project,
      }))
      .filter((p) => ctx.policy.allows('get_floatingip_pool', p));
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
