// What agents' firewalls need of security groups (Neutron's SecurityGroupInfoAPIMixin): the rules
// and statefulness of groups, and the addresses of the remote groups and address groups those
// rules name — a group's members' fixed IPs and allowed address pairs, an address group's CIDRs.
// Read straight from the tables, in bulk, for get_host_state and get_security_group_info.
import type { DB } from '../../db/connection.js';
import { inSlices } from '../../db/store.js';
import type { HostSecurityGroup, HostState, SecurityGroupRule } from '../../rpc/contract.js';

export interface GroupInfo {
  groups: Record<string, HostSecurityGroup>;
  memberIps: HostState['sg_member_ips'];
}

const familyOf = (ip: string): 'IPv4' | 'IPv6' => (ip.includes(':') ? 'IPv6' : 'IPv4');

/** The groups `ids` with their rules, and the addresses of every remote group and address group
 * their rules name, plus those of `remotes` (ids of either kind). */
export async function securityGroupInfo(db: DB, ids: string[], remotes: string[] = []): Promise<GroupInfo> {
  const groups: Record<string, HostSecurityGroup> = {};
  const memberIps: HostState['sg_member_ips'] = {};
  const unique = [...new Set(ids)];
  const rows = await inSlices(unique, (s) =>
    db.selectFrom('securitygroups').select(['id', 'stateful', 'revision_number']).where('id', 'in', s).execute(),
  );
  for (const r of rows) {
    groups[r.id as string] = {
      id: r.id as string,
      stateful: Boolean(r.stateful),
      revision_number: Number(r.revision_number),
      rules: [],
    };
  }
  const rules = await inSlices(unique, (s) =>
    db.selectFrom('securitygrouprules').selectAll().where('security_group_id', 'in', s).orderBy('id').execute(),
  );
  const remoteGroups = new Set<string>();
  const addressGroups = new Set<string>();
  for (const r of rules) {
    const rule: SecurityGroupRule = {
      id: r.id as string,
      direction: r.direction as SecurityGroupRule['direction'],
      ethertype: r.ethertype as SecurityGroupRule['ethertype'],
      protocol: (r.protocol as string | null) ?? null,
      port_range_min: (r.port_range_min as number | null) ?? null,
      port_range_max: (r.port_range_max as number | null) ?? null,
      remote_ip_prefix: (r.remote_ip_prefix as string | null) ?? null,
      remote_group_id: (r.remote_group_id as string | null) ?? null,
      remote_address_group_id: (r.remote_address_group_id as string | null) ?? null,
    };
    groups[r.security_group_id as string]?.rules.push(rule);
    if (rule.remote_group_id) remoteGroups.add(rule.remote_group_id);
    if (rule.remote_address_group_id) addressGroups.add(rule.remote_address_group_id);
  }
  // `remotes` may name either kind; asking both tables for them costs one query each.
  for (const id of remotes) {
    remoteGroups.add(id);
    addressGroups.add(id);
  }
  const add = (id: string, ip: string) => {
    const m = memberIps[id] ?? { IPv4: [], IPv6: [] };
    memberIps[id] = m;
    const list = m[familyOf(ip)];
    if (!list.includes(ip)) list.push(ip);
  };
  const rg = [...remoteGroups];
  if (rg.length) {
    const members = await inSlices(rg, (s) =>
      db
        .selectFrom('securitygroupportbindings')
        .innerJoin('ports', 'ports.id', 'securitygroupportbindings.port_id')
        .select(['securitygroupportbindings.security_group_id as sg', 'ports.id as port', 'ports.allowed_address_pairs as aap'])
        .where('securitygroupportbindings.security_group_id', 'in', s)
        .execute(),
    );
    const ips = await inSlices([...new Set(members.map((m) => m.port as string))], (s) =>
      db.selectFrom('ipallocations').select(['port_id', 'ip_address']).where('port_id', 'in', s).execute(),
    );
    const byPort = new Map<string, string[]>();
    for (const r of ips) byPort.set(r.port_id as string, [...(byPort.get(r.port_id as string) ?? []), r.ip_address as string]);
    const known = await inSlices(rg, (s) => db.selectFrom('securitygroups').select('id').where('id', 'in', s).execute());
    for (const k of known) memberIps[k.id as string] ??= { IPv4: [], IPv6: [] };
    for (const m of members) {
      for (const ip of byPort.get(m.port as string) ?? []) add(m.sg as string, ip);
      const pairs = typeof m.aap === 'string' ? (JSON.parse(m.aap) as Array<{ ip_address: string }>) : [];
      for (const p of pairs) add(m.sg as string, p.ip_address);
    }
  }
  const ag = [...addressGroups];
  if (ag.length) {
    const addrs = await inSlices(ag, (s) =>
      db.selectFrom('address_associations').select(['address_group_id', 'address']).where('address_group_id', 'in', s).execute(),
    );
    const known = await inSlices(ag, (s) => db.selectFrom('address_groups').select('id').where('id', 'in', s).execute());
    for (const k of known) memberIps[k.id as string] ??= { IPv4: [], IPv6: [] };
    for (const a of addrs) add(a.address_group_id as string, a.address as string);
  }
  return { groups, memberIps };
}
