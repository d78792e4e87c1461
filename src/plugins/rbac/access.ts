// What RBAC policies mean to the other plugins: which objects a project may use (visibility
// subqueries), the per-caller `shared` attribute, the wildcard policies behind `shared` and
// `router:external`, and which projects still depend on a policy.
import { randomUUID } from 'node:crypto';
import type { DB } from '../../db/connection.js';
import type { EB, Store } from '../../db/store.js';
import type { Context } from '../context.js';

export type RbacObjectType = 'network' | 'subnetpool' | 'address_scope' | 'security_group' | 'address_group';
export const ACCESS_SHARED = 'access_as_shared';
export const ACCESS_EXTERNAL = 'access_as_external';
export const WILDCARD = '*';

/** Ports that don't count as a project using a network (they go with the network). */
const NETWORK_OWNED_PORTS = ['network:dhcp', 'network:distributed', 'network:floatingip_agent_gateway'];
/** A router's port on an external network. */
const EXTERNAL_GATEWAY_PORT = 'network:router_gateway';

/** The targets that grant a caller access: the wildcard and the caller's own project. */
export function targetsOf(ctx: Context): string[] {
  return ctx.projectId ? [WILDCARD, ctx.projectId] : [WILDCARD];
}

/** Subquery: ids of objects of `type` granted to the caller, by `action` (any action if omitted). */
export function grantedTo(eb: EB, type: RbacObjectType, ctx: Context, action?: string) {
  let q = eb
    .selectFrom('rbac_policies')
    .select('rbac_policies.object_id')
    .where('rbac_policies.object_type', '=', type)
    .where('rbac_policies.target_tenant', 'in', targetsOf(ctx));
  if (action) q = q.where('rbac_policies.action', '=', action);
  return q;
}

/** Visibility for non-admins: own objects and those some policy grants to the caller. */
export function ownOrGranted(table: string, type: RbacObjectType, ctx: Context, action?: string) {
  return (eb: EB) =>
    eb.or([eb(`${table}.project_id`, '=', ctx.projectId ?? ''), eb(`${table}.id`, 'in', grantedTo(eb, type, ctx, action))]);
}

/** The `shared` list filter: shared to the caller ('*' or its project) or not. */
export function sharedFilter(column: string, type: RbacObjectType, ctx: Context) {
  return (eb: EB, values: unknown[]) =>
    eb.or(
      values.map((v) =>
        v === true
          ? eb(column, 'in', grantedTo(eb, type, ctx, ACCESS_SHARED))
          : eb(column, 'not in', grantedTo(eb, type, ctx, ACCESS_SHARED)),
      ),
    );
}

/** Sets each object's `shared` as Neutron shows it: shared with '*' or with the caller. */
export async function markShared(
  db: DB,
  store: Store,
  type: RbacObjectType,
  ctx: Context,
  dicts: Array<Record<string, unknown>>,
) {
  if (dicts.length === 0) return;
  const rows = await db
    .selectFrom('rbac_policies')
    .select('object_id')
    .where('object_type', '=', type)
    .where('action', '=', ACCESS_SHARED)
    .where('target_tenant', 'in', targetsOf(ctx))
    .where('object_id', 'in', store.anyOf(dicts.map((d) => d.id as string)))
    .execute();
  const shared = new Set(rows.map((r) => r.object_id as string));
  for (const d of dicts) d.shared = shared.has(d.id as string);
}

export interface PolicyRow {
  id: string;
  project_id: string;
  object_type: string;
  object_id: string;
  target_tenant: string;
  action: string;
}

export async function policiesOf(db: DB, type: string, objectId: string, action?: string): Promise<PolicyRow[]> {
  let q = db.selectFrom('rbac_policies').selectAll().where('object_type', '=', type).where('object_id', '=', objectId);
  if (action) q = q.where('action', '=', action);
  return (await q.execute()) as PolicyRow[];
}

export async function insertPolicy(db: DB, p: Omit<PolicyRow, 'id'>): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('rbac_policies')
    .values({ id, ...p })
    .execute();
  return id;
}

/** The wildcard policy behind `shared=true` (or, with ACCESS_EXTERNAL, `router:external=true`). */
export async function grantToAll(
  db: DB,
  type: RbacObjectType,
  obj: Record<string, unknown>,
  action: string = ACCESS_SHARED,
): Promise<void> {
  await insertPolicy(db, {
    project_id: obj.project_id as string,
    object_type: type,
    object_id: obj.id as string,
    target_tenant: WILDCARD,
    action,
  });
}

export async function deletePoliciesOf(db: DB, type: RbacObjectType, objectId: string): Promise<void> {
  await db.deleteFrom('rbac_policies').where('object_type', '=', type).where('object_id', '=', objectId).execute();
}

const TABLES: Record<RbacObjectType, string> = {
  network: 'networks',
  subnetpool: 'subnetpools',
  address_scope: 'address_scopes',
  security_group: 'securitygroups',
  address_group: 'address_groups',
};

/** Brings the summary columns in line with the policies: `shared` = a '*' access_as_shared
 * policy exists; a network's `router_external` = any access_as_external policy exists. */
export async function syncFlags(db: DB, store: Store, type: RbacObjectType, objectId: string): Promise<void> {
  if (type === 'security_group' || type === 'address_group') return;
  const all = await policiesOf(db, type, objectId);
  const row: Record<string, unknown> = {
    shared: store.bool(all.some((p) => p.action === ACCESS_SHARED && p.target_tenant === WILDCARD)),
  };
  if (type === 'network') row.router_external = store.bool(all.some((p) => p.action === ACCESS_EXTERNAL));
  await db.updateTable(TABLES[type]).set(row).where('id', '=', objectId).execute();
}

/** Projects whose resources depend on access to the object through `action`. */
export async function boundProjects(db: DB, type: RbacObjectType, action: string, objectId: string): Promise<Set<string>> {
  const out = new Set<string>();
  const add = (rows: Array<{ project_id: unknown }>) => {
    for (const r of rows) out.add(r.project_id as string);
  };
  switch (type) {
    case 'network': {
      if (action === ACCESS_EXTERNAL) {
        // Projects whose routers have their gateway on the network (neutron counts routers only:
        // gateway and floating IP ports belong to no project).
        add(
          await db
            .selectFrom('routers')
            .innerJoin('ports', 'ports.id', 'routers.gw_port_id')
            .select('routers.project_id as project_id')
            .distinct()
            .where('ports.network_id', '=', objectId)
            .where('ports.device_owner', '=', EXTERNAL_GATEWAY_PORT)
            .execute(),
        );
        break;
      }
      const ports = db
        .selectFrom('ports')
        .select('project_id')
        .distinct()
        .where('network_id', '=', objectId)
        .where('device_owner', 'not in', NETWORK_OWNED_PORTS);
      add(await ports.execute());
      if (action === ACCESS_SHARED)
        add(await db.selectFrom('subnets').select('project_id').distinct().where('network_id', '=', objectId).execute());
      break;
    }
    case 'subnetpool':
      add(await db.selectFrom('subnets').select('project_id').distinct().where('subnetpool_id', '=', objectId).execute());
      break;
    case 'address_scope':
      add(await db.selectFrom('subnetpools').select('project_id').distinct().where('address_scope_id', '=', objectId).execute());
      break;
    case 'security_group':
      add(
        await db
          .selectFrom('securitygroupportbindings')
          .innerJoin('ports', 'ports.id', 'securitygroupportbindings.port_id')
          .select('ports.project_id as project_id')
          .distinct()
          .where('securitygroupportbindings.security_group_id', '=', objectId)
          .execute(),
      );
      break;
    case 'address_group':
      // Neutron's AddressGroup.get_bound_project_ids: the projects of rules naming it.
      add(
        await db
          .selectFrom('securitygrouprules')
          .select('project_id')
          .distinct()
          .where('remote_address_group_id', '=', objectId)
          .execute(),
      );
      break;
  }
  return out;
}

/**
 * Whether `target` may lose the access that one policy (`exceptId`, or none) gives it without
 * stranding a project's resources: false when some project other than the owner uses the object
 * and no remaining policy of the same action still covers it.
 */
export async function canRevoke(
  db: DB,
  type: RbacObjectType,
  action: string,
  objectId: string,
  owner: string,
  target: string,
  exceptId?: string,
  replacement?: string,
): Promise<boolean> {
  if (target === owner) return true;
  const others = (await policiesOf(db, type, objectId, action)).filter((p) => p.id !== exceptId);
  const remaining = new Set(others.map((p) => p.target_tenant));
  // An update that retargets the policy still grants its new target.
  if (replacement !== undefined) remaining.add(replacement);
  if (remaining.has(WILDCARD)) return true;
  const bound = await boundProjects(db, type, action, objectId);
  bound.delete(owner);
  if (target !== WILDCARD) return !bound.has(target);
  for (const p of bound) if (!remaining.has(p)) return false;
  return true;
}

/** Whether `project` ('*' = everyone) may use an address scope: owner, or a policy shares it. */
export async function addressScopeAccessible(db: DB, scopeId: string, project: string): Promise<boolean> {
  const scope = await db.selectFrom('address_scopes').select('project_id').where('id', '=', scopeId).executeTakeFirst();
  if (!scope) return false;
  if (scope.project_id === project) return true;
  const targets = project === WILDCARD ? [WILDCARD] : [WILDCARD, project];
  const p = await db
    .selectFrom('rbac_policies')
    .select('id')
    .where('object_type', '=', 'address_scope')
    .where('object_id', '=', scopeId)
    .where('action', '=', ACCESS_SHARED)
    .where('target_tenant', 'in', targets)
    .executeTakeFirst();
  return p !== undefined;
}
