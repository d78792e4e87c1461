// The security-group service plugin: groups, rules, address groups, and the ports'
// security_groups attribute. Groups use rules (never the reverse: rules see groups through the
// small RuleParents interface), and both tell agents what changed through `notifier`.
import type { Registry } from '../../resources/registry.js';
import type { PortService } from '../core/ports.js';
import type { ResourceService, ServiceDeps } from '../service.js';
import { AddressGroupService } from './address-groups.js';
import { SecurityGroupService } from './groups.js';
import { PortSecurityGroups } from './port-binding.js';
import { SecurityGroupRuleService } from './rules.js';

/** How the plugin tells agents (security_groups_rule_updated, address_groups_updated); calls
 * return at once, after commit, whatever the bus does. */
export interface SecurityGroupNotifier {
  rulesChanged(groupIds: string[]): void;
  addressGroupsChanged(addressGroupIds: string[]): void;
}

export function createSecurityGroupServices(
  registry: Registry,
  deps: ServiceDeps,
  ports: PortService,
  notifier?: SecurityGroupNotifier,
): Map<string, ResourceService> {
  const groupsDef = registry.byCollection.get('security_groups');
  const rulesDef = registry.byCollection.get('security_group_rules');
  if (!groupsDef || !rulesDef) return new Map();
  const groups = new SecurityGroupService(groupsDef, deps);
  const rules = new SecurityGroupRuleService(rulesDef, deps);
  groups.rules = rules;
  rules.groups = groups;
  rules.notify = notifier && ((ids) => notifier.rulesChanged(ids));
  ports.extensions.push(new PortSecurityGroups(groups));
  const services = new Map<string, ResourceService>([
    ['security_groups', groups],
    ['security_group_rules', rules],
  ]);
  const agDef = registry.byCollection.get('address_groups');
  if (agDef) {
    const addressGroups = new AddressGroupService(agDef, deps);
    addressGroups.notify = notifier && ((ids) => notifier.addressGroupsChanged(ids));
    rules.addressGroups = addressGroups;
    services.set('address_groups', addressGroups);
  }
  return services;
}
