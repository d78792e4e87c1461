// Every firewall driver of `[securitygroup] firewall_driver` through the conformance suite
// (firewall.case.ts), with real packets: nftables enforces Neutron's security groups, noop lets
// everything through.
import { NftablesFirewall, NoopFirewall } from '../../src/agents/firewall/index.js';
import { firewallConformance } from './firewall.case.js';

firewallConformance('nftables', (netns) => new NftablesFirewall('nftables', { namespace: netns }));
firewallConformance('noop', (netns) => new NoopFirewall('noop', { namespace: netns }));
