// Security group rules: Neutron's consistency checks (ports need a protocol that has ports,
// ICMP type/code ranges, ethertype against prefix, one remote only) and no duplicates. Agents
// hear security_groups_rule_updated for the groups whose rules changed.
import { randomUUID } from 'node:crypto';
import { NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import { type EB, nowStamp } from '../../db/store.js';
import { canonicalCidr, parseCidr } from '../../ipam/address.js';
import { SG_PROTOCOLS } from '../../validation/security-group-converters.js';
import type { Context } from '../context.js';
import { BaseService, type Dict } from '../service.js';

/** What rules need of the services of the groups they belong to and name (wired in index.ts;
 * the groups' service uses the rules', never the other way round). */
export interface RuleParents {
  readonly def: BaseService['def'];
  visible(db: DB, ctx: Context, id: string): Promise<Dict>;
}

const PORT_PROTOCOLS = ['tcp', 'udp', 'dccp', 'sctp', 'udplite', '6', '17', '33', '132', '136'];
const ICMP_PROTOCOLS = ['icmp', 'icmpv6', 'ipv6-icmp', '1', '58'];
/** Protocols that exist only over IPv6, by name and number: refused with ethertype IPv4. */
const IPV6_ONLY = [
  'ipv6-encap',
  'ipv6-frag',
  'ipv6-icmp',
  'icmpv6',
  'ipv6-nonxt',
  'ipv6-opts',
  'ipv6-route',
  '41',
  '43',
  '44',
  '58',
  '59',
  '60',
];

const bad = (type: string, message: string) => new NeutronError(type, 400, message);

/** Protocol as a number for comparing rules ('tcp' and '6' are the same rule). */
const protoKey = (p: unknown) => (p === null || p === undefined ? null : (SG_PROTOCOLS[p as string] ?? Number(p)));

export class SecurityGroupRuleService extends BaseService {
  protected notFoundType = 'SecurityGroupRule';
  protected notFoundLabel = 'Security group rule';
  groups!: RuleParents;
  addressGroups?: RuleParents;
  /** Tells agents these groups' rules changed (set when the server is assembled). */
  notify?: (groupIds: string[]) => void;

  protected override scope(ctx: Context) {
    if (ctx.isAdmin) return undefined;
    const project = ctx.projectId ?? '';
    return (eb: EB) =>
      eb.or([
        eb('securitygrouprules.project_id', '=', project),
        eb(
          'securitygrouprules.security_group_id',
          'in',
          eb.selectFrom('securitygroups').select('securitygroups.id').where('securitygroups.project_id', '=', project),
        ),
      ]);
  }

  protected override virtualFilters() {
    return {
      belongs_to_default_sg: (eb: EB, values: unknown[]) =>
        eb.or(
          values.map((v) =>
            eb(
              'securitygrouprules.security_group_id',
              v === true ? 'in' : 'not in',
              eb.selectFrom('default_security_groups').select('security_group_id'),
            ),
          ),
        ),
    };
  }

  protected override async extend(db: DB, dicts: Dict[]): Promise<void> {
    await super.extend(db, dicts);
    if (dicts.length === 0) return;
    const groups = [...new Set(dicts.map((d) => d.security_group_id as string))];
    const defaults = new Set<string>();
    {
      const rows = await db
        .selectFrom('default_security_groups')
        .select('security_group_id')
        .where('security_group_id', 'in', this.store.anyOf(groups))
        .execute();
      for (const r of rows) defaults.add(r.security_group_id as string);
    }
    for (const d of dicts) {
      d.normalized_cidr = typeof d.remote_ip_prefix === 'string' ? canonicalCidr(d.remote_ip_prefix) : null;
      d.belongs_to_default_sg = defaults.has(d.security_group_id as string);
    }
  }

  /** Rules of many groups, for embedding in them. */
  async ofGroups(db: DB, groupIds: string[]): Promise<Map<string, Dict[]>> {
    const out = new Map<string, Dict[]>(groupIds.map((g) => [g, []]));
    const m = this.store.mapping(this.def);
    const all: Dict[] = [];
    {
      const rows = await db
        .selectFrom('securitygrouprules')
        .selectAll()
        .where('security_group_id', 'in', this.store.anyOf(groupIds))
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      all.push(...rows.map((r) => m.fromRow(r)));
    }
    await this.extend(db, all);
    for (const r of all) out.get(r.security_group_id as string)?.push(r);
    return out;
  }

  /** Inserts a rule as given (defaults filled); used for the rules every new group gets. */
  async insertRule(db: DB, rule: Dict): Promise<string> {
    const now = nowStamp();
    const full: Dict = {
      id: randomUUID(),
      description: '',
      protocol: null,
      port_range_min: null,
      port_range_max: null,
      remote_ip_prefix: null,
      remote_group_id: null,
      remote_address_group_id: null,
      created_at: now,
      updated_at: now,
      revision_number: 0,
      ...rule,
    };
    await this.store.insert(db, this.def, full);
    return full.id as string;
  }

  private checkRule(r: Dict): void {
    const proto = r.protocol as string | null;
    const min = r.port_range_min as number | null;
    const max = r.port_range_max as number | null;
    if ([r.remote_ip_prefix, r.remote_group_id, r.remote_address_group_id].filter((x) => x).length > 1) {
      throw bad(
        'SecurityGroupMultipleRemoteEntites',
        'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.',
      );
    }
    if (r.remote_ip_prefix) {
      const c = parseCidr(r.remote_ip_prefix as string);
      if (c && `IPv${c.version}` !== r.ethertype) {
        throw bad(
          'SecurityGroupRuleParameterConflict',
          `Conflicting value ethertype ${r.ethertype} for CIDR ${r.remote_ip_prefix}`,
        );
      }
    }
    if (proto && IPV6_ONLY.includes(proto) && r.ethertype === 'IPv4') {
      throw bad('SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype IPv4 for protocol ${proto}.`);
    }
    if ((min !== null || max !== null) && !proto) {
      throw bad('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
    }
    if (!proto || (min === null && max === null)) return;
    if (PORT_PROTOCOLS.includes(proto)) {
      if (min === 0 || max === 0) throw bad('SecurityGroupInvalidPortValue', 'Invalid value for port 0.');
      if (min !== null && max !== null && min > max) {
        throw bad('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
      }
      if (min === null || max === null) {
        throw bad('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
      }
    } else if (ICMP_PROTOCOLS.includes(proto)) {
      for (const [field, v] of [
        ['type', min],
        ['code', max],
      ] as const) {
        if (v !== null && (v < 0 || v > 255)) {
          throw bad(
            'SecurityGroupInvalidIcmpValue',
            `Invalid value for ICMP ${field} (port_range_${field === 'type' ? 'min' : 'max'}) ${v}. It must be 0 to 255.`,
          );
        }
      }
      if (min === null && max !== null)
        throw bad(
          'SecurityGroupMissingIcmpType',
          `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`,
        );
    } else {
      throw bad(
        'SecurityGroupInvalidProtocolForPort',
        `Invalid protocol ${proto} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP.`,
      );
    }
  }

  protected async createOne(db: DB, ctx: Context, item: Dict): Promise<string> {
    const group = await this.groups.visible(db, ctx, item.security_group_id as string);
    this.checkRule(item);
    if (item.remote_group_id) await this.groups.visible(db, ctx, item.remote_group_id as string);
    // Any value but null names a group (neutron-lib gives the attribute no validator): '', a list,
    // a number … is none, and AddressGroupNotFound.
    if (item.remote_address_group_id !== null && item.remote_address_group_id !== undefined) {
      if (!this.addressGroups) throw bad('InvalidInput', 'Address groups are not enabled.');
      await this.addressGroups.visible(db, ctx, item.remote_address_group_id as string);
    }
    const norm = (p: unknown) => (typeof p === 'string' ? canonicalCidr(p) : null);
    const existing = await db
      .selectFrom('securitygrouprules')
      .selectAll()
      .where('security_group_id', '=', group.id as string)
      .execute();
    const dup = existing.find(
      (e) =>
        e.direction === item.direction &&
        e.ethertype === item.ethertype &&
        protoKey(e.protocol) === protoKey(item.protocol) &&
        (e.port_range_min ?? null) === (item.port_range_min ?? null) &&
        (e.port_range_max ?? null) === (item.port_range_max ?? null) &&
        norm(e.remote_ip_prefix) === norm(item.remote_ip_prefix) &&
        (e.remote_group_id ?? null) === (item.remote_group_id ?? null) &&
        (e.remote_address_group_id ?? null) === (item.remote_address_group_id ?? null),
    );
    if (dup) throw new NeutronError('SecurityGroupRuleExists', 409, `Security group rule already exists. Rule id is ${dup.id}.`);
    const obj = this.newObject(item);
    await this.store.insert(db, this.def, obj);
    await this.store.bumpRevision(db, this.groups.def, group.id as string);
    return obj.id as string;
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    await super.deleteOne(db, ctx, obj);
    await this.store.bumpRevision(db, this.groups.def, obj.security_group_id as string);
  }

  protected override async afterCreate(created: Dict[]): Promise<void> {
    this.notify?.([...new Set(created.map((r) => r.security_group_id as string))]);
  }

  protected override async afterDelete(deleted: Dict): Promise<void> {
    this.notify?.([deleted.security_group_id as string]);
  }
}
