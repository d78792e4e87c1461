// Security groups: one `default` group per project, made on first need with Neutron's four
// rules; new groups get the two egress rules; a group in use or a project's default cannot go.
// Agents hear security_groups_rule_updated when a group's statefulness changes, or when deleting
// it takes away other groups' rules that named it.
import { randomUUID } from 'node:crypto';
import { NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { ListOptions } from '../../db/store.js';
import { nowStamp } from '../../db/store.js';
import type { Context } from '../context.js';
import { deletePoliciesOf } from '../rbac/access.js';
import { BaseService, type Dict } from '../service.js';
import type { SecurityGroupRuleService } from './rules.js';

export class SecurityGroupService extends BaseService {
  protected notFoundType = 'SecurityGroup';
  protected notFoundLabel = 'Security group';
  rules!: SecurityGroupRuleService;
  /** Groups whose rules a delete took away (rules naming the deleted group), for afterDelete. */
  private readonly affected = new WeakMap<Dict, string[]>();

  protected override readonly rbacType = 'security_group' as const;

  protected override async extend(db: DB, dicts: Dict[]): Promise<void> {
    await super.extend(db, dicts);
    if (dicts.length === 0) return;
    const ids = dicts.map((d) => d.id as string);
    const rules = await this.rules.ofGroups(db, ids);
    for (const d of dicts) {
      d.security_group_rules = rules.get(d.id as string) ?? [];
      d.shared = false;
    }
  }

  override async list(ctx: Context, opts: ListOptions): Promise<Dict[]> {
    if (!ctx.isAdmin && ctx.projectId) await this.tx((db) => this.ensureDefault(db, ctx.projectId as string));
    return super.list(ctx, opts);
  }

  /** The project's default group id, creating it (with its rules) when missing. */
  async ensureDefault(db: DB, projectId: string): Promise<string> {
    const existing = await db
      .selectFrom('default_security_groups')
      .select('security_group_id')
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    if (existing) return existing.security_group_id as string;
    const id = await this.insertGroup(db, projectId, 'default', 'Default security group', true);
    await db.insertInto('default_security_groups').values({ project_id: projectId, security_group_id: id }).execute();
    return id;
  }

  private async insertGroup(db: DB, projectId: string, name: string, description: string, isDefault: boolean): Promise<string> {
    const now = nowStamp();
    const group = {
      id: randomUUID(),
      project_id: projectId,
      name,
      description,
      stateful: true,
      created_at: now,
      updated_at: now,
      revision_number: 0,
    };
    await this.store.insert(db, this.def, group);
    for (const ethertype of ['IPv4', 'IPv6']) {
      await this.rules.insertRule(db, { security_group_id: group.id, project_id: projectId, direction: 'egress', ethertype });
      if (isDefault) {
        await this.rules.insertRule(db, {
          security_group_id: group.id,
          project_id: projectId,
          direction: 'ingress',
          ethertype,
          remote_group_id: group.id,
        });
      }
    }
    return group.id;
  }

  protected async createOne(db: DB, ctx: Context, item: Dict): Promise<string> {
    const project = item.project_id as string;
    await this.ensureDefault(db, project);
    // A new group's two egress rules count against the rule quota (the default group's do not).
    await this.rules.quota?.check(db, ctx, this.rules.def, [{ project_id: project }, { project_id: project }]);
    const id = await this.insertGroup(db, project, item.name as string, (item.description as string) ?? '', false);
    if (item.stateful === false) await this.store.update(db, this.def, id, { stateful: false }, false);
    return id;
  }

  async isDefault(db: DB, id: string): Promise<boolean> {
    return (
      (await db
        .selectFrom('default_security_groups')
        .select('project_id')
        .where('security_group_id', '=', id)
        .executeTakeFirst()) !== undefined
    );
  }

  private async inUse(db: DB, id: string): Promise<boolean> {
    return (
      (await db
        .selectFrom('securitygroupportbindings')
        .select('port_id')
        .where('security_group_id', '=', id)
        .limit(1)
        .executeTakeFirst()) !== undefined
    );
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    if ('name' in changes && changes.name !== obj.name && (await this.isDefault(db, obj.id as string))) {
      throw new NeutronError('SecurityGroupCannotUpdateDefault', 409, 'Updating default security group not allowed.');
    }
    if ('stateful' in changes && changes.stateful !== obj.stateful && (await this.inUse(db, obj.id as string))) {
      throw new NeutronError('SecurityGroupInUse', 409, `Security Group ${obj.id} in use.`);
    }
    await super.updateOne(db, ctx, obj, changes);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    const id = obj.id as string;
    if (!ctx.isAdmin && (await this.isDefault(db, id))) {
      throw new NeutronError('SecurityGroupCannotRemoveDefault', 409, 'Removing default security group not allowed.');
    }
    if (await this.inUse(db, id)) throw new NeutronError('SecurityGroupInUse', 409, `Security Group ${id} in use.`);
    const naming = await db
      .selectFrom('securitygrouprules')
      .select('security_group_id')
      .distinct()
      .where('remote_group_id', '=', id)
      .where('security_group_id', '!=', id)
      .execute();
    this.affected.set(
      obj,
      naming.map((r) => r.security_group_id as string),
    );
    await db.deleteFrom('default_security_groups').where('security_group_id', '=', id).execute();
    await db.deleteFrom('securitygrouprules').where('security_group_id', '=', id).execute();
    await db.deleteFrom('securitygrouprules').where('remote_group_id', '=', id).execute();
    await deletePoliciesOf(db, 'security_group', id);
    await super.deleteOne(db, ctx, obj);
  }

  protected override async afterUpdate(before: Dict, after: Dict): Promise<void> {
    if (before.stateful !== after.stateful) this.rules.notify?.([after.id as string]);
  }

  protected override async afterDelete(deleted: Dict): Promise<void> {
    const groups = this.affected.get(deleted) ?? [];
    if (groups.length) this.rules.notify?.(groups);
  }

  /** Groups of many ports at once: port id → group ids. */
  async ofPorts(db: DB, portIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(portIds.map((p) => [p, []]));
    {
      const rows = await db
        .selectFrom('securitygroupportbindings')
        .select(['port_id', 'security_group_id'])
        .where('port_id', 'in', this.store.anyOf(portIds))
        .execute();
      for (const r of rows) out.get(r.port_id as string)?.push(r.security_group_id as string);
    }
    return out;
  }
}
