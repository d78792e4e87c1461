// Device names of the Linux bridge agent, derived from resource ids as Neutron names them, so an
// operator finds the same devices and no user string ever becomes a device name.

/** Neutron's linux bridge prefix and the length of id kept in device names (15 = IFNAMSIZ - 1). */
export const BRIDGE_PREFIX = 'brq';
export const TAP_PREFIX = 'tap';
export const VXLAN_PREFIX = 'vxlan-';
const ID_CHARS = 11;

/** The mark (interface alias) on bridges this agent created, so it deletes only its own. */
export const OWNED_ALIAS_PREFIX = 'neutrino:network:';

const idPart = (id: string): string => {
  if (!/^[0-9a-f-]{11,}$/i.test(id)) throw new Error(`not a resource id: ${JSON.stringify(id)}`);
  return id.slice(0, ID_CHARS);
};

export const bridgeName = (networkId: string): string => `${BRIDGE_PREFIX}${idPart(networkId)}`;
export const tapName = (portId: string): string => `${TAP_PREFIX}${idPart(portId)}`;
export const vxlanName = (vni: number): string => `${VXLAN_PREFIX}${vni}`;
/** `<interface>.<vid>`, or undefined when it would not fit in 15 characters. */
export const vlanName = (iface: string, vid: number): string | undefined => {
  const name = `${iface}.${vid}`;
  return name.length <= 15 ? name : undefined;
};
export const ownedAlias = (networkId: string): string => `${OWNED_ALIAS_PREFIX}${networkId}`;
