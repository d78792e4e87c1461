// Neutron's default policy (the secure-RBAC defaults of neutron/conf/policies: admin, project
// member, project reader), for the resources Neutrino serves. Attribute rules that only say
// "admin only" are derived from the definitions' adminOnly/adminOnlyWrite flags instead of
// being repeated here.
import type { ResourceDef } from '../../resources/types.js';

const ADMIN = 'rule:admin_only';
const MEMBER = 'role:member and project_id:%(project_id)s';
const READER = 'role:reader and project_id:%(project_id)s';
const NET_OWNER_MEMBER = 'role:member and project_id:%(network:project_id)s';
const NET_OWNER_READER = 'role:reader and project_id:%(network:project_id)s';
const AM = `(${ADMIN}) or (${MEMBER})`;
const AR = `(${ADMIN}) or (${READER})`;
const A_NET_OWNER_MEMBER = `(${ADMIN}) or (${NET_OWNER_MEMBER})`;

export const BASE_RULES: Record<string, string> = {
  context_is_admin: 'role:admin',
  context_is_advsvc: 'role:advsvc',
  admin_only: 'rule:context_is_admin',
  regular_user: '',
  owner: 'tenant_id:%(tenant_id)s',
  admin_or_owner: 'rule:context_is_admin or rule:owner',
  network_owner: 'tenant_id:%(network:tenant_id)s',
  admin_or_network_owner: 'rule:context_is_admin or tenant_id:%(network:tenant_id)s',
  shared: 'field:networks:shared=True',
  external: 'field:networks:router:external=True',
  shared_subnetpools: 'field:subnetpools:shared=True',
  shared_address_scopes: 'field:address_scopes:shared=True',
  shared_address_groups: 'field:address_groups:shared=True',
  network_device: 'field:port:device_owner=~^network:',
  default: 'rule:admin_or_owner',
};

/** CRUD rules of a resource owned by a project. */
const owned = (member: string, get = AR): Record<string, string> => ({
  [`create_${member}`]: AM,
  [`get_${member}`]: get,
  [`update_${member}`]: AM,
  [`delete_${member}`]: AM,
});

export const RESOURCE_RULES: Record<string, string> = {
  ...owned('network', `(${AR}) or rule:shared or rule:external or rule:context_is_advsvc`),
  'create_network:port_security_enabled': AM,
  'update_network:port_security_enabled': AM,

  ...owned('subnet', `(${AR}) or (${NET_OWNER_READER}) or rule:shared`),
  create_subnet: A_NET_OWNER_MEMBER,
  update_subnet: A_NET_OWNER_MEMBER,
  delete_subnet: A_NET_OWNER_MEMBER,
  // Zed lets a subnet's owner set service_types (tempest's revisions test relies on it).

  ...owned('port', `rule:context_is_advsvc or (${AR}) or (${NET_OWNER_READER})`),
  create_port: `(${AM}) or rule:context_is_advsvc`,
  update_port: `(${AM}) or rule:context_is_advsvc`,
  delete_port: `rule:context_is_advsvc or (${AM}) or (${NET_OWNER_MEMBER})`,
  'create_port:device_owner': `not rule:network_device or rule:context_is_advsvc or (${A_NET_OWNER_MEMBER})`,
  'update_port:device_owner': `not rule:network_device or rule:context_is_advsvc or (${A_NET_OWNER_MEMBER})`,
  'create_port:mac_address': `rule:context_is_advsvc or (${A_NET_OWNER_MEMBER})`,
  'update_port:mac_address': `${ADMIN} or rule:context_is_advsvc`,
  'create_port:fixed_ips': `rule:context_is_advsvc or (${A_NET_OWNER_MEMBER}) or rule:shared`,
  'create_port:fixed_ips:ip_address': `rule:context_is_advsvc or (${A_NET_OWNER_MEMBER})`,
  'create_port:fixed_ips:subnet_id': `rule:context_is_advsvc or (${A_NET_OWNER_MEMBER}) or rule:shared`,
  'update_port:fixed_ips': `rule:context_is_advsvc or (${A_NET_OWNER_MEMBER})`,
  'update_port:fixed_ips:ip_address': `rule:context_is_advsvc or (${A_NET_OWNER_MEMBER})`,
  'update_port:fixed_ips:subnet_id': `rule:context_is_advsvc or (${A_NET_OWNER_MEMBER}) or rule:shared`,
  'create_port:port_security_enabled': `rule:context_is_advsvc or (${A_NET_OWNER_MEMBER})`,
  'update_port:port_security_enabled': `rule:context_is_advsvc or (${A_NET_OWNER_MEMBER})`,
  'create_port:allowed_address_pairs': A_NET_OWNER_MEMBER,
  'update_port:allowed_address_pairs': A_NET_OWNER_MEMBER,

  ...owned('subnetpool', `(${AR}) or rule:shared_subnetpools`),
  add_prefixes_subnetpool: AM,
  remove_prefixes_subnetpool: AM,
  onboard_network_subnets_subnetpool: AM,

  ...owned('address_scope', `(${AR}) or rule:shared_address_scopes`),

  ...owned('security_group'),
  ...owned('security_group_rule'),

  ...owned('address_group', `(${AR}) or rule:shared_address_groups`),
  add_addresses_address_group: AM,
  remove_addresses_address_group: AM,

  // Agents belong to no project: admins only. Availability zones: anyone with a role.
  create_agent: ADMIN,
  get_agent: ADMIN,
  update_agent: ADMIN,
  delete_agent: ADMIN,
  get_availability_zone: 'role:reader',
  // dhcp_agent_scheduler: admins only.
  'get_dhcp-networks': ADMIN,
  'create_dhcp-network': ADMIN,
  'delete_dhcp-network': ADMIN,
  'get_dhcp-agents': ADMIN,

  // Routers and floating IPs (neutron/conf/policies/router.py, floatingip.py); ha and distributed
  // are admin-only by their definitions.
  ...owned('router'),
  'create_router:external_gateway_info': AM,
  'create_router:external_gateway_info:network_id': AM,
  'create_router:external_gateway_info:enable_snat': ADMIN,
  'create_router:external_gateway_info:external_fixed_ips': ADMIN,
  'update_router:external_gateway_info': AM,
  'update_router:external_gateway_info:network_id': AM,
  'update_router:external_gateway_info:enable_snat': ADMIN,
  'update_router:external_gateway_info:external_fixed_ips': ADMIN,
  add_router_interface: AM,
  remove_router_interface: AM,
  add_extraroutes: AM,
  remove_extraroutes: AM,
  ...owned('floatingip'),
  'create_floatingip:floating_ip_address': ADMIN,
  get_floatingip_pool: AR,
  // The L3 agent scheduler (neutron/conf/policies/agent.py).
  'create_l3-router': ADMIN,
  'get_l3-routers': ADMIN,
  'delete_l3-router': ADMIN,
  'get_l3-agents': ADMIN,
  // Flavors and service profiles have no project: anyone with a role reads flavors.
  create_flavor: ADMIN,
  get_flavor: 'role:reader',
  update_flavor: ADMIN,
  delete_flavor: ADMIN,
  create_service_profile: ADMIN,
  get_service_profile: ADMIN,
  update_service_profile: ADMIN,
  delete_service_profile: ADMIN,
  get_flavor_service_profile: AR,
  create_flavor_service_profile: ADMIN,
  delete_flavor_service_profile: ADMIN,
  get_service_provider: 'role:reader',
  get_auto_allocated_topology: AR,
  delete_auto_allocated_topology: AM,

  ...owned('rbac_policy'),
  'create_rbac_policy:target_tenant': `${ADMIN} or (not field:rbac_policy:target_tenant=*)`,
  'update_rbac_policy:target_tenant': `${ADMIN} or (not field:rbac_policy:target_tenant=*)`,
};

/** Attribute rules implied by the definitions: admin-only attributes need admin to set, and
 * (adminOnly) to see. */
export function definitionRules(resources: ResourceDef[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of resources) {
    for (const [name, a] of Object.entries(r.attributes)) {
      if (!a.adminOnly && !a.adminOnlyWrite) continue;
      if (a.allowPost) out[`create_${r.member}:${name}`] = ADMIN;
      if (a.allowPut) out[`update_${r.member}:${name}`] = ADMIN;
      if (a.adminOnly) out[`get_${r.member}:${name}`] = ADMIN;
    }
  }
  return out;
}
