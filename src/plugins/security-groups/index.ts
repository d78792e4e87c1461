// The security-group service plugin: groups, rules, and the ports' security_groups attribute.
import type { Registry } from '../../resources/registry.js';
import type { PortService } from '../core/ports.js';
import type { ResourceService, ServiceDeps } from '../service.js';
import { SecurityGroupService } from './groups.js';
import { PortSecurityGroups } from './port-binding.js';
import { SecurityGroupRuleService } from './rules.js';

export function createSecurityGroupServices(
  registry: Registry,
  deps: ServiceDeps,
  ports: PortService,
): Map<string, ResourceService> {
  const groupsDef = registry.byCollection.get('security_groups');
  const rulesDef = registry.byCollection.get('security_group_rules');
  if (!groupsDef || !rulesDef) return new Map();
  const groups = new SecurityGroupService(groupsDef, deps);
  const rules = new SecurityGroupRuleService(rulesDef, deps);
  groups.rules = rules;
  rules.groups = groups;
  ports.extensions.push(new PortSecurityGroups(groups));
  return new Map<string, ResourceService>([
    ['security_groups', groups],
    ['security_group_rules', rules],
  ]);
}
