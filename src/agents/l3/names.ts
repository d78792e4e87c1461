// Names of the L3 agent's kernel objects, derived from resource ids as Neutron names them: the
// router's namespace `qrouter-<router-id>` (prefixed with `[agent] host_namespace` on a simulated
// host), an interface port's device `qr-<port-id[:11]>` and the gateway port's `qg-<port-id[:11]>`
// in it, and the nftables table holding the router's NAT.
import { valid } from '../../system/index.js';

export const NS_PREFIX = 'qrouter-';
export const INTERNAL_DEV_PREFIX = 'qr-';
export const EXTERNAL_DEV_PREFIX = 'qg-';
/** The router's NAT table (family ip: Neutron NATs IPv4 only). */
export const NAT_TABLE = 'neutrino-l3';

const prefixOf = (hostNamespace: string) => `${hostNamespace ? `${hostNamespace}-` : ''}${NS_PREFIX}`;

/** The namespace of a router on this host. */
export const namespaceName = (routerId: string, hostNamespace = ''): string =>
  `${prefixOf(hostNamespace)}${valid.uuid(routerId)}`;

/** The router id of one of this host's router namespaces, or undefined. */
export function routerOfNamespace(ns: string, hostNamespace = ''): string | undefined {
  const prefix = prefixOf(hostNamespace);
  if (!ns.startsWith(prefix)) return undefined;
  const id = ns.slice(prefix.length);
  return valid.isUuid(id) ? id : undefined;
}

/** An interface port's device (Neutron's DEV_NAME_LEN: 14 characters). */
export const internalDevice = (portId: string): string => `${INTERNAL_DEV_PREFIX}${valid.uuid(portId).slice(0, 11)}`;

/** The gateway port's device. */
export const externalDevice = (portId: string): string => `${EXTERNAL_DEV_PREFIX}${valid.uuid(portId).slice(0, 11)}`;
