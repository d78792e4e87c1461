// What a firewall driver is given and answers ([securitygroup] firewall_driver). A driver makes a
// host's port filtering (port security and security groups) match the desired state of its ports;
// the L2 backend that wires the ports tells it which device and bridge each port has. Nothing here
// knows Linux bridge specifics beyond "a port is a device on a bridge", so an Open vSwitch hybrid
// plug (a tap on a per-port bridge) can use the same drivers.
import type { AddressPair, HostSecurityGroup, HostState } from '../../rpc/contract.js';

export interface FirewallPort {
  id: string;
  /** The port's device on its bridge (`tap<port-id[:11]>`). */
  device: string;
  /** The bridge the device is on: bridged IP traffic crosses the inet hooks with it as in/out interface. */
  bridge: string;
  network_id: string;
  mac_address: string;
  /** Fixed IP addresses (no prefix). */
  fixed_ips: string[];
  allowed_address_pairs: AddressPair[];
  port_security_enabled: boolean;
  security_groups: string[];
}

export interface FirewallState {
  ports: FirewallPort[];
  security_groups: HostState['security_groups'];
  /** Addresses of remote groups and address groups, by id (Neutron's sg_member_ips). */
  sg_member_ips: HostState['sg_member_ips'];
}

export interface FirewallResult {
  /** Whether the kernel was written to. */
  changed: boolean;
  /** Conntrack entries deleted (of addresses a group no longer admits). */
  conntrackDeleted: number;
}

export interface FirewallDriver {
  /** The configured name, as `[securitygroup] firewall_driver` gives it. */
  readonly name: string;
  /** Whether it enforces port security and security groups (noop does not). */
  readonly enforces: boolean;
  /** Makes the host's filtering match `state`: every port with port security filtered as its
   * groups say, nothing else. Throws when it could not (the ports are then not wired). With
   * `refresh` (a security group change between reconciles) the driver may trust what it last
   * wrote instead of reading the kernel first; the next reconcile checks. */
  apply(state: FirewallState, opts?: { refresh?: boolean }): Promise<FirewallResult>;
}

export type { AddressPair, HostSecurityGroup };
