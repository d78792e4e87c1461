// What the L3 services share: their settings, the router port owners, and look-ups of a router's
// ports and subnets.
import type { DB } from '../../db/connection.js';
import { cidrContains, cidrsOverlap } from '../../ipam/address.js';
import { DEVICE_OWNER } from '../../rpc/contract.js';
import type { PortService } from '../core/ports.js';
import type { Dict } from '../service.js';
import { badRequest } from './errors.js';

export interface L3Settings {
  /** [DEFAULT] l3_ha, router_distributed: defaults of new routers. */
  l3Ha: boolean;
  routerDistributed: boolean;
  enableSnatByDefault: boolean;
  maxRoutes: number;
  routerAutoSchedule: boolean;
  allowAutomaticFailover: boolean;
  agentDownTime: number;
}

/** neutron-lib's ROUTER_INTERFACE_OWNERS. */
export const ROUTER_INTERFACE_OWNERS: string[] = [
  DEVICE_OWNER.ROUTER_INTF,
  DEVICE_OWNER.HA_REPLICATED_INT,
  DEVICE_OWNER.DVR_INTERFACE,
];

/** The ports a router owns (neutron's router_device_owners): not deletable through /ports. */
export const ROUTER_DEVICE_OWNERS: string[] = [
  ...ROUTER_INTERFACE_OWNERS,
  DEVICE_OWNER.ROUTER_SNAT,
  DEVICE_OWNER.ROUTER_HA_INTF,
  DEVICE_OWNER.ROUTER_GW,
  DEVICE_OWNER.FLOATINGIP,
];

/** Owners of the ports whose IPv4 addresses nobody may change (l3-port-ip-change-not-allowed). */
export const IP_UPDATE_NOT_ALLOWED: string[] = [
  DEVICE_OWNER.ROUTER_INTF,
  DEVICE_OWNER.ROUTER_HA_INTF,
  DEVICE_OWNER.HA_REPLICATED_INT,
  DEVICE_OWNER.ROUTER_SNAT,
  DEVICE_OWNER.DVR_INTERFACE,
];

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

/** Full ports (with fixed_ips) of routers, optionally of some owners only. */
export async function portsOfRouters(db: DB, ports: PortService, routerIds: string[], owners?: string[]): Promise<Dict[]> {
  if (routerIds.length === 0) return [];
  let q = db.selectFrom('ports').select('id').where('device_id', 'in', routerIds);
  q = q.where('device_owner', 'in', owners ?? ROUTER_DEVICE_OWNERS.filter((o) => o !== DEVICE_OWNER.FLOATINGIP));
  const ids = (await q.orderBy('created_at').orderBy('id').execute()).map((r) => r.id as string);
  const full = await ports.loadFullPorts(db, ids);
  const byId = new Map(full.map((p) => [p.id as string, p]));
  return ids.map((id) => byId.get(id)).filter((p): p is Dict => p !== undefined);
}

export async function subnetsByIds(db: DB, ids: string[]): Promise<Map<string, Dict>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('subnets')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id as string, r as Dict]));
}

export async function subnetsOfNetwork(db: DB, networkId: string): Promise<Dict[]> {
  return (await db
    .selectFrom('subnets')
    .selectAll()
    .where('network_id', '=', networkId)
    .orderBy('created_at')
    .execute()) as Dict[];
}

/** "Cidr A of subnet X overlaps with cidr B of subnet Y" (neutron's _raise_on_subnets_overlap). */
export function raiseOnOverlap(existing: Dict, added: Dict): void {
  if (!cidrsOverlap(existing.cidr as string, added.cidr as string)) return;
  throw badRequest(
    'router',
    `Cidr ${added.cidr} of subnet ${added.id} overlaps with cidr ${existing.cidr} of subnet ${existing.id}`,
  );
}

/**
 * Neutron's _check_for_dup_router_subnets: a router may not have two ports on one subnet, nor
 * subnets whose CIDRs overlap (a gateway counts with every subnet of its external network).
 * `attached` are the router's ports (without the one being added).
 */
export async function checkDupRouterSubnets(db: DB, attached: Dict[], newSubnets: Dict[]): Promise<void> {
  const newIds = new Set(newSubnets.map((s) => s.id as string));
  const routerSubnetIds: string[] = [];
  for (const p of attached) {
    for (const ip of p.fixed_ips as FixedIp[]) {
      if (newIds.has(ip.subnet_id)) throw badRequest('router', `Router already has a port on subnet ${ip.subnet_id}`);
      if (p.device_owner === DEVICE_OWNER.ROUTER_GW) {
        for (const s of await subnetsOfNetwork(db, p.network_id as string)) routerSubnetIds.push(s.id as string);
      } else routerSubnetIds.push(ip.subnet_id);
    }
  }
  const existing = await subnetsByIds(db, routerSubnetIds);
  for (const sub of existing.values()) for (const s of newSubnets) raiseOnOverlap(sub, s);
}

/** Whether `ip` lies in one of `cidrs`. */
export const inAnyCidr = (ip: string, cidrs: string[]): boolean => cidrs.some((c) => cidrContains(c, ip));
