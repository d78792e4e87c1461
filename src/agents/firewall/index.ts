// `[securitygroup] firewall_driver` → a driver. Neutron's names are accepted where they mean the
// same thing on this agent: `iptables` (Linux bridge's stateful per-port filter, with ipsets for
// remote groups) is what the nftables driver does, with nft sets; `noop` is noop. The Open vSwitch
// agent's drivers (`openvswitch`, `iptables_hybrid`) filter on OVS or on per-port hybrid bridges
// and are refused by name rather than silently read as something else.
import type { Runner } from '../../system/index.js';
import { NftablesFirewall } from './nftables.js';
import { NoopFirewall } from './noop.js';
import type { FirewallDriver } from './types.js';

export * from './compiler.js';
export { NftablesFirewall } from './nftables.js';
export { NoopFirewall } from './noop.js';
export * from './types.js';

export type FirewallKind = 'nftables' | 'noop';

const NAMES: Record<string, FirewallKind> = {
  nftables: 'nftables',
  iptables: 'nftables',
  'neutron.agent.linux.iptables_firewall.IptablesFirewallDriver': 'nftables',
  noop: 'noop',
  'neutron.agent.firewall.NoopFirewallDriver': 'noop',
};

const OVS_ONLY = [
  'openvswitch',
  'iptables_hybrid',
  'neutron.agent.linux.openvswitch_firewall:OVSFirewallDriver',
  'neutron.agent.linux.openvswitch_firewall.OVSFirewallDriver',
  'neutron.agent.linux.iptables_firewall.OVSHybridIptablesFirewallDriver',
];

export class FirewallDriverError extends Error {}

/** The driver kind a configured name stands for; security groups disabled means noop. */
export function firewallKind(name: string, enableSecurityGroup = true): FirewallKind {
  if (!enableSecurityGroup) return 'noop';
  const kind = NAMES[name.trim()];
  if (kind) return kind;
  if (OVS_ONLY.includes(name.trim())) {
    throw new FirewallDriverError(
      `'${name}' is a firewall driver of the Open vSwitch agent; the Linux bridge agent takes nftables (or iptables, which it reads as nftables) or noop`,
    );
  }
  throw new FirewallDriverError(`unknown firewall driver '${name}': expected one of ${Object.keys(NAMES).join(', ')}`);
}

export function createFirewallDriver(
  name: string,
  enableSecurityGroup: boolean,
  o: { namespace?: string; run?: Runner; log?: (msg: string) => void } = {},
): FirewallDriver {
  return firewallKind(name, enableSecurityGroup) === 'nftables' ? new NftablesFirewall(name, o) : new NoopFirewall(name, o);
}
