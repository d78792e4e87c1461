// The RBAC service plugin: /v2.0/rbac-policies over the services whose objects can be shared.
import type { Registry } from '../../resources/registry.js';
import type { ResourceService, ServiceDeps } from '../service.js';
import { RbacPolicyService, type SharedObjects } from './policies.js';

const SHAREABLE: Record<string, string> = {
  network: 'networks',
  subnetpool: 'subnetpools',
  address_scope: 'address_scopes',
  security_group: 'security_groups',
  address_group: 'address_groups',
};

export function createRbacServices(
  registry: Registry,
  deps: ServiceDeps,
  services: Map<string, ResourceService>,
): Map<string, ResourceService> {
  const def = registry.byCollection.get('rbac_policies');
  if (!def) return new Map();
  const rbac = new RbacPolicyService(def, deps);
  for (const [type, collection] of Object.entries(SHAREABLE)) {
    const s = services.get(collection) as (ResourceService & Partial<SharedObjects>) | undefined;
    if (s?.visible) rbac.objects.set(type, s as SharedObjects);
  }
  return new Map<string, ResourceService>([['rbac_policies', rbac]]);
}
