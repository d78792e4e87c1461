// RBAC policies (neutron's extensions/rbac.py and the rbac-* shims of neutron-lib): who, besides
// its owner, may use a network, subnet pool, address scope, security group or address group.
import { attr, id, projectId, tenantId } from './attr.js';
import type { ExtensionDef, ResourceDef } from './types.js';

/** Object types this server can share, with the actions valid for each. */
export const RBAC_ACTIONS: Record<string, string[]> = {
  network: ['access_as_shared', 'access_as_external'],
  subnetpool: ['access_as_shared'],
  address_scope: ['access_as_shared'],
  security_group: ['access_as_shared'],
  address_group: ['access_as_shared'],
};

export const rbacPolicies: ResourceDef = {
  collection: 'rbac_policies',
  member: 'rbac_policy',
  path: 'rbac-policies',
  table: 'rbac_policies',
  standardAttrs: false,
  taggable: false,
  allowBulk: true,
  // Neutron creates this controller with pagination off; sorting stays.
  allowPagination: false,
  allowSorting: true,
  attributes: {
    id: id(),
    object_type: attr('PVFS', {
      convertTo: 'convert_string_to_case_insensitive',
      validate: { type: 'type:values', arg: Object.keys(RBAC_ACTIONS) },
    }),
    object_id: attr('PVFS', { validate: { type: 'type:uuid' } }),
    target_tenant: attr('PUVFS', { validate: { type: 'type:string', arg: 255 } }),
    tenant_id: tenantId(),
    project_id: projectId(),
    // Checked against the object type by the plugin (InvalidInput).
    action: attr('PVFS', { validate: { type: 'type:string', arg: 255 } }),
  },
};

const ext = (alias: string, name: string, description: string, updated: string, more: Partial<ExtensionDef> = {}) => ({
  alias,
  name,
  description,
  updated,
  ...more,
});

export const RBAC_EXTENSIONS: ExtensionDef[] = [
  ext(
    'rbac-policies',
    'RBAC Policies',
    'Allows creation and modification of policies that control tenant access to resources.',
    '2015-06-17T12:15:12-00:00',
    { resources: [rbacPolicies] },
  ),
  ext('rbac-address-scope', 'Add address_scope type to RBAC', 'Add address_scope type to RBAC', '2019-05-29T14:00:00-00:00', {
    requiredExtensions: ['rbac-policies', 'address-scope'],
  }),
  ext(
    'rbac-security-groups',
    'Add security_group type to RBAC',
    'Add security_group type to network RBAC',
    '2019-02-14T00:00:00-00:00',
    {
      requiredExtensions: ['rbac-policies', 'security-group'],
    },
  ),
  ext('rbac-subnetpool', 'Add subnetpool type to RBAC', 'Add subnetpool type to RBAC', '2019-06-19T12:00:00-00:00', {
    requiredExtensions: ['rbac-policies', 'subnet_allocation'],
  }),
];
