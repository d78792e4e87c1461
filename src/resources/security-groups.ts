// Security groups and their rules (neutron's extensions/securitygroup.py and neutron-lib's
// security-group definitions). The data plane that enforces them lives in the agents.
import { attr, id, projectId, tenantId, virtual } from './attr.js';
import type { ResourceDef } from './types.js';
import { UNSET } from './types.js';

export const securityGroups: ResourceDef = {
  collection: 'security_groups',
  member: 'security_group',
  path: 'security-groups',
  table: 'securitygroups',
  standardAttrs: true,
  taggable: true,
  allowBulk: true,
  allowPagination: true,
  allowSorting: true,
  attributes: {
    id: id(),
    name: attr('PUVFS', { default: '', validate: { type: 'type:name_not_default', arg: 255 } }),
    tenant_id: tenantId(),
    project_id: projectId(),
    security_group_rules: virtual('V'),
    stateful: attr('PUVF', { default: true, convertTo: 'convert_to_boolean', validate: { type: 'type:boolean' } }),
    shared: virtual('VF', { default: false, convertTo: 'convert_to_boolean' }),
  },
};

export const securityGroupRules: ResourceDef = {
  collection: 'security_group_rules',
  member: 'security_group_rule',
  path: 'security-group-rules',
  table: 'securitygrouprules',
  standardAttrs: true,
  taggable: false,
  allowBulk: true,
  allowPagination: true,
  allowSorting: true,
  attributes: {
    id: id(),
    security_group_id: attr('PVFS', { validate: { type: 'type:uuid' } }),
    remote_group_id: attr('PVFS', { default: null, validate: { type: 'type:uuid_or_none' } }),
    direction: attr('PVFS', { validate: { type: 'type:values', arg: ['ingress', 'egress'] } }),
    protocol: attr('PVFS', { default: null, convertTo: 'convert_sg_protocol' }),
    port_range_min: attr('PVFS', { default: null, convertTo: 'convert_validate_port_value' }),
    port_range_max: attr('PVFS', { default: null, convertTo: 'convert_validate_port_value' }),
    ethertype: attr('PVFS', {
      default: 'IPv4',
      convertTo: 'convert_ethertype_to_case_insensitive',
      validate: { type: 'type:values', arg: ['IPv4', 'IPv6'] },
    }),
    remote_ip_prefix: attr('PVFS', { default: null, convertTo: 'convert_ip_prefix_to_cidr' }),
    normalized_cidr: virtual('V'),
    tenant_id: tenantId(),
    project_id: projectId(),
    belongs_to_default_sg: virtual('VF', { convertTo: 'convert_to_boolean' }),
  },
};

/** The attribute the security-group extension adds to ports. */
export const portSecurityGroups = attr('PUVF', {
  default: UNSET,
  convertTo: 'convert_none_to_empty_list',
  validate: { type: 'type:uuid_list' },
  storage: { kind: 'virtual' },
});
