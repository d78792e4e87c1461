// Names of the DHCP agent's kernel objects, derived from resource ids as Neutron names them (so an
// operator finds the same ones, and no user string becomes a name): the namespace `qdhcp-<network>`
// (prefixed with `[agent] host_namespace` on a simulated host, where several agents share one
// machine), and the DHCP port's device `ns-<port-id[:11]>` in it.

export const NS_PREFIX = 'qdhcp-';
export const DEVICE_PREFIX = 'ns-';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkId(id: string): string {
  if (!UUID.test(id)) throw new Error(`not a resource id: ${JSON.stringify(id)}`);
  return id;
}

/** The namespace of a network's DHCP server on this host. */
export function namespaceName(networkId: string, hostNamespace = ''): string {
  return `${hostNamespace ? `${hostNamespace}-` : ''}${NS_PREFIX}${checkId(networkId)}`;
}

/** The network id of one of this host's DHCP namespaces, or undefined. */
export function networkOfNamespace(ns: string, hostNamespace = ''): string | undefined {
  const prefix = `${hostNamespace ? `${hostNamespace}-` : ''}${NS_PREFIX}`;
  if (!ns.startsWith(prefix)) return undefined;
  const id = ns.slice(prefix.length);
  return UUID.test(id) ? id : undefined;
}

/** The DHCP port's device inside the namespace (Neutron's DEV_NAME_LEN: 14 characters). */
export const interfaceName = (portId: string): string => `${DEVICE_PREFIX}${checkId(portId).slice(0, 11)}`;
