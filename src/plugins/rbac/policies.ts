// /v2.0/rbac-policies: sharing a network, subnet pool, address scope or security group with
// one project or with every project ('*'), as neutron's rbac_db_mixin and the per-type
// validation callbacks do it.
import { invalidInput, NeutronError, policyNotAuthorized } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import { RBAC_ACTIONS } from '../../resources/rbac.js';
import type { Context } from '../context.js';
import { BaseService, type Dict } from '../service.js';
import {
  ACCESS_EXTERNAL,
  ACCESS_SHARED,
  addressScopeAccessible,
  canRevoke,
  type RbacObjectType,
  syncFlags,
  WILDCARD,
} from './access.js';

/** What the RBAC service needs of the service owning each object type. */
export interface SharedObjects {
  readonly def: BaseService['def'];
  visible(db: DB, ctx: Context, id: string, full?: boolean): Promise<Dict>;
}

export const duplicateRbacPolicy = () =>
  new NeutronError('DuplicateRbacPolicy', 409, 'An RBAC policy already exists with those values.');

export const rbacPolicyInUse = (objectId: string, details: string) =>
  new NeutronError(
    'RbacPolicyInUse',
    409,
    `RBAC policy on object ${objectId} cannot be removed because other objects depend on it.\nDetails: ${details}`,
  );

export class RbacPolicyService extends BaseService {
  protected notFoundType = 'RbacPolicy';
  protected notFoundLabel = 'RBAC policy';
  /** object_type → the service of those objects. */
  objects = new Map<string, SharedObjects>();

  override notFound(id: string): NeutronError {
    return new NeutronError('RbacPolicyNotFound', 404, `RBAC policy of type unknown with ID ${id} not found`);
  }

  private objectsOf(type: string): SharedObjects {
    const s = this.objects.get(type);
    if (!s) throw invalidInput(`'${type}' is not a valid RBAC object type`);
    return s;
  }

  /** The shared object, as the caller sees it: 404 when invisible; only its owner or an admin
   * may manage its policies (InvalidInput, as Neutron's callbacks answer). */
  private async target(db: DB, ctx: Context, type: string, objectId: string): Promise<Dict> {
    const obj = await this.objectsOf(type).visible(db, ctx, objectId);
    if (!ctx.isAdmin && obj.project_id !== ctx.projectId) {
      const what = type === 'network' ? 'networks' : 'objects';
      throw invalidInput(`Only admins can manipulate policies on ${what} they do not own`);
    }
    return obj;
  }

  private checkWildcard(ctx: Context, target: unknown, action: 'create' | 'update'): void {
    if (target === WILDCARD && !ctx.isAdmin) throw policyNotAuthorized(`${action}_rbac_policy:target_tenant`);
  }

  private async checkDuplicate(db: DB, p: Dict, exceptId?: string): Promise<void> {
    let q = db
      .selectFrom('rbac_policies')
      .select('id')
      .where('object_type', '=', p.object_type as string)
      .where('object_id', '=', p.object_id as string)
      .where('action', '=', p.action as string)
      .where('target_tenant', '=', p.target_tenant as string);
    if (exceptId) q = q.where('id', '!=', exceptId);
    if (await q.executeTakeFirst()) throw duplicateRbacPolicy();
  }

  /** A subnet pool can only be shared where its address scope is usable too. */
  private async checkPoolScope(db: DB, obj: Dict, target: string): Promise<void> {
    const scopeId = obj.address_scope_id as string | null | undefined;
    if (!scopeId || (await addressScopeAccessible(db, scopeId, target))) return;
    throw invalidInput(
      `Subnet pool ${obj.id} cannot be shared with project ${target}: it has no access to address scope ${scopeId}`,
    );
  }

  private async bump(db: DB, type: string, objectId: string): Promise<void> {
    const def = this.objectsOf(type).def;
    if (def.standardAttrs) await this.store.bumpRevision(db, def, objectId);
  }

  protected async createOne(db: DB, ctx: Context, item: Dict): Promise<string> {
    const type = item.object_type as string;
    const action = item.action as string;
    const valid = RBAC_ACTIONS[type] ?? [];
    if (!valid.includes(action)) {
      // Neutron's InvalidActionForType (an InvalidInput), with the actions as a Python tuple.
      const tuple = `(${valid.map((a) => `'${a}'`).join(', ')}${valid.length === 1 ? ',' : ''})`;
      throw new NeutronError(
        'InvalidActionForType',
        400,
        `Invalid action '${action}' for object type '${type}'. Valid actions: ${tuple}`,
      );
    }
    this.checkWildcard(ctx, item.target_tenant, 'create');
    const obj = await this.target(db, ctx, type, item.object_id as string);
    const p = this.newObject(item);
    delete p.tenant_id;
    if (type === 'subnetpool') await this.checkPoolScope(db, obj, p.target_tenant as string);
    await this.checkDuplicate(db, p);
    await this.store.insert(db, this.def, p);
    await syncFlags(db, this.store, type as RbacObjectType, obj.id as string);
    await this.bump(db, type, obj.id as string);
    return p.id as string;
  }

  /** The access a policy gives must not be withdrawn while a project depends on it. */
  private async checkRevoke(db: DB, policy: Dict, owner: string, replacement?: string): Promise<void> {
    const type = policy.object_type as RbacObjectType;
    if (type === 'network' && policy.action === ACCESS_EXTERNAL && policy.target_tenant === WILDCARD) {
      const net = await db
        .selectFrom('networks')
        .select('is_default')
        .where('id', '=', policy.object_id as string)
        .executeTakeFirst();
      if (net?.is_default)
        throw rbacPolicyInUse(policy.object_id as string, 'Default external networks must be shared to everyone.');
    }
    const ok = await canRevoke(
      db,
      type,
      policy.action as string,
      policy.object_id as string,
      owner,
      policy.target_tenant as string,
      policy.id as string,
      replacement,
    );
    if (ok) return;
    if (type === 'network' && policy.action === ACCESS_EXTERNAL) {
      throw rbacPolicyInUse(
        policy.object_id as string,
        'There are routers attached to this network that depend on this policy for access.',
      );
    }
    const details =
      type === 'network' && policy.action === ACCESS_SHARED
        ? `Unable to reconfigure sharing settings for network ${policy.object_id}. Multiple tenants are using it.`
        : type === 'network' && policy.action === ACCESS_EXTERNAL
          ? `Unable to reconfigure external access for network ${policy.object_id}: projects are attached to it.`
          : `project_id=${policy.target_tenant}`;
    throw rbacPolicyInUse(policy.object_id as string, details);
  }

  private async owner(db: DB, policy: Dict): Promise<string> {
    const def = this.objectsOf(policy.object_type as string).def;
    const row = await db
      .selectFrom(def.table)
      .select('project_id')
      .where('id', '=', policy.object_id as string)
      .executeTakeFirst();
    return (row?.project_id as string | undefined) ?? '';
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    if (!('target_tenant' in changes) || changes.target_tenant === obj.target_tenant) return;
    const target = changes.target_tenant as string;
    this.checkWildcard(ctx, target, 'update');
    const type = obj.object_type as string;
    const shared = await this.target(db, ctx, type, obj.object_id as string);
    // Widening to everyone cannot strand anybody.
    if (target !== WILDCARD) await this.checkRevoke(db, obj, shared.project_id as string, target);
    if (type === 'subnetpool') await this.checkPoolScope(db, shared, target);
    await this.checkDuplicate(db, { ...obj, target_tenant: target }, obj.id as string);
    await this.store.update(db, this.def, obj.id as string, { target_tenant: target });
    await syncFlags(db, this.store, type as RbacObjectType, obj.object_id as string);
    await this.bump(db, type, obj.object_id as string);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    const type = obj.object_type as RbacObjectType;
    await this.checkRevoke(db, obj, await this.owner(db, obj));
    await super.deleteOne(db, ctx, obj);
    await syncFlags(db, this.store, type, obj.object_id as string);
    await this.bump(db, type, obj.object_id as string);
  }
}
