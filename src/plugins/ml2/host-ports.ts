// Reads of bound ports as agents and l2population need them: each port with the host, segment
// and driver it is bound to, its fixed IPs, and the tunnel endpoint (VTEP) of every L2 agent.
import type { DB } from '../../db/connection.js';
import { inSlices } from '../../db/store.js';
import type { Dict } from '../service.js';
import { BINDINGS_TABLE, LEVELS_TABLE } from './port-binding.js';
import { TYPE_GENEVE, TYPE_GRE, TYPE_VXLAN } from './segment.js';
import { SEGMENTS_TABLE } from './segments-db.js';

export const TUNNEL_TYPES = [TYPE_VXLAN, TYPE_GRE, TYPE_GENEVE];

export interface BoundPort {
  id: string;
  network_id: string;
  mac_address: string;
  status: string;
  admin_state_up: boolean;
  device_owner: string;
  host: string;
  driver: string;
  segment_id: string;
  network_type: string;
  physical_network: string | null;
  segmentation_id: number | null;
  ips: string[];
}

/** Bound ports matching `where` (host, network or ids), with their segment and IPs. */
export async function boundPorts(
  db: DB,
  where: { host?: string; networkIds?: string[]; portIds?: string[] },
): Promise<BoundPort[]> {
  let q = db
    .selectFrom('ports')
    .innerJoin(LEVELS_TABLE, `${LEVELS_TABLE}.port_id`, 'ports.id')
    .innerJoin(BINDINGS_TABLE, `${BINDINGS_TABLE}.port_id`, 'ports.id')
    .innerJoin(SEGMENTS_TABLE, `${SEGMENTS_TABLE}.id`, `${LEVELS_TABLE}.segment_id`)
    .select([
      'ports.id as id',
      'ports.network_id as network_id',
      'ports.mac_address as mac_address',
      'ports.status as status',
      'ports.admin_state_up as admin_state_up',
      'ports.device_owner as device_owner',
      `${LEVELS_TABLE}.host as host`,
      `${LEVELS_TABLE}.driver as driver`,
      `${LEVELS_TABLE}.segment_id as segment_id`,
      `${SEGMENTS_TABLE}.network_type as network_type`,
      `${SEGMENTS_TABLE}.physical_network as physical_network`,
      `${SEGMENTS_TABLE}.segmentation_id as segmentation_id`,
    ])
    .where(`${LEVELS_TABLE}.level`, '=', 0)
    // The level's host is the binding's host: a stale level of an earlier host never counts.
    .whereRef(`${LEVELS_TABLE}.host`, '=', `${BINDINGS_TABLE}.host`);
  if (where.host !== undefined) q = q.where(`${LEVELS_TABLE}.host`, '=', where.host);
  if (where.networkIds) q = q.where('ports.network_id', 'in', where.networkIds.length ? where.networkIds : ['']);
  if (where.portIds) q = q.where('ports.id', 'in', where.portIds.length ? where.portIds : ['']);
  const rows = await q.orderBy('ports.id').execute();
  const ips = await ipsOf(
    db,
    rows.map((r) => r.id as string),
  );
  return rows.map((r) => ({
    id: r.id as string,
    network_id: r.network_id as string,
    mac_address: r.mac_address as string,
    status: r.status as string,
    admin_state_up: Boolean(r.admin_state_up),
    device_owner: r.device_owner as string,
    host: r.host as string,
    driver: r.driver as string,
    segment_id: r.segment_id as string,
    network_type: r.network_type as string,
    physical_network: (r.physical_network as string | null) ?? null,
    segmentation_id: r.segmentation_id === null ? null : Number(r.segmentation_id),
    ips: ips.get(r.id as string) ?? [],
  }));
}

async function ipsOf(db: DB, portIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (portIds.length === 0) return out;
  const rows = await inSlices(portIds, (ids) =>
    db.selectFrom('ipallocations').select(['port_id', 'ip_address']).where('port_id', 'in', ids).execute(),
  );
  for (const r of rows) out.set(r.port_id as string, [...(out.get(r.port_id as string) ?? []), r.ip_address as string]);
  return out;
}

/** Each host's tunnel endpoint, from its L2 agents' reported `tunneling_ip`. */
export function vteps(agents: Dict[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of agents) {
    const c = (a.configurations ?? {}) as Dict;
    if (typeof c.tunneling_ip === 'string' && c.tunneling_ip) out.set(a.host as string, c.tunneling_ip);
  }
  return out;
}
