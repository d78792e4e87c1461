// Names and numbers of the Open vSwitch agent as Neutron's OVS agent has them (neutron-lib's
// ovs_constants, the agent's naming), so an operator who knows Neutron's flows reads ours.
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';

/** OpenFlow tables of the integration bridge. */
export const INT = {
  LOCAL_SWITCHING: 0,
  CANARY: 23,
  ARP_SPOOF: 24,
  MAC_SPOOF: 25,
  LOCAL_EGRESS: 30,
  LOCAL_IP: 31,
  PACKET_RATE_LIMIT: 58,
  BANDWIDTH_RATE_LIMIT: 59,
  TRANSIENT: 60,
  TRANSIENT_EGRESS: 62,
  // The native OVS firewall's tables.
  BASE_EGRESS: 71,
  RULES_EGRESS: 72,
  ACCEPT_OR_INGRESS: 73,
  BASE_INGRESS: 81,
  RULES_INGRESS: 82,
  ACCEPTED_EGRESS_TRAFFIC: 91,
  ACCEPTED_INGRESS_TRAFFIC: 92,
  DROPPED_TRAFFIC: 93,
  ACCEPTED_EGRESS_TRAFFIC_NORMAL: 94,
} as const;

/** OpenFlow tables of the tunnel bridge. */
export const TUN = {
  LOCAL_SWITCHING: 0,
  PATCH_LV_TO_TUN: 2,
  GRE_TUN_TO_LV: 3,
  VXLAN_TUN_TO_LV: 4,
  GENEVE_TUN_TO_LV: 6,
  LEARN_FROM_TUN: 10,
  UCAST_TO_TUN: 20,
  ARP_RESPONDER: 21,
  FLOOD_TO_TUN: 22,
} as const;

export const TUNNEL_TYPES = ['gre', 'vxlan', 'geneve'] as const;
export type TunnelType = (typeof TUNNEL_TYPES)[number];

/** The table that maps a tunnel type's tunnel id to the local VLAN. */
export const TUN_TABLE: Record<TunnelType, number> = {
  gre: TUN.GRE_TUN_TO_LV,
  vxlan: TUN.VXLAN_TUN_TO_LV,
  geneve: TUN.GENEVE_TUN_TO_LV,
};

/** The tag of ports that must carry nothing (unbound, disabled, or on a network not wired here). */
export const DEAD_VLAN = 4095;
/** Local VLAN ids handed to networks. */
export const MIN_LVID = 1;
export const MAX_LVID = 4094;

export const PEER_INTEGRATION_PREFIX = 'int-';
export const PEER_PHYSICAL_PREFIX = 'phy-';
/** The peer of a patch port that must not pass traffic yet (its drop flows are not in place). */
export const NONEXISTENT_PEER = 'nonexistent-peer';

const DEVICE_NAME_MAX_LEN = 15;
const INTERFACE_HASH_LEN = 6;

/** neutron-lib's get_interface_name: `prefix + name`, or, when longer than 15 characters, the
 * name cut short and the first 6 hex digits of its SHA-1. */
export function interfaceName(name: string, prefix: string): string {
  const requested = prefix + name;
  if (requested.length <= DEVICE_NAME_MAX_LEN) return requested;
  const keep = DEVICE_NAME_MAX_LEN - prefix.length - INTERFACE_HASH_LEN;
  return `${prefix}${name.slice(0, keep)}${createHash('sha1').update(name).digest('hex').slice(0, INTERFACE_HASH_LEN)}`;
}

/** The patch port on br-int towards a physical bridge, and the one on the physical bridge. */
export const intPeerName = (bridge: string): string => interfaceName(bridge, PEER_INTEGRATION_PREFIX);
export const phyPeerName = (bridge: string): string => interfaceName(bridge, PEER_PHYSICAL_PREFIX);

/** Neutron's tunnel port name: `<type>-<remote IPv4 as 8 hex digits>`; for IPv6 a base32 hash cut
 * to fit (Neutron's is BLAKE2b-160; here SHA-1, as Node has no BLAKE2b of that size). */
export function tunnelPortName(type: string, remoteIp: string): string {
  const hashLen = DEVICE_NAME_MAX_LEN - type.length - 1;
  if (isIPv4(remoteIp)) {
    const hex = remoteIp
      .split('.')
      .map((o) => Number(o).toString(16).padStart(2, '0'))
      .join('');
    return `${type}-${hex}`;
  }
  const digest = createHash('sha1').update(remoteIp).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `${type}-${out.slice(0, hashLen)}`;
}
