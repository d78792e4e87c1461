// The l2population mechanism driver: instead of flooding tunnels with multicast, each L2 agent is
// told which MACs and IPs live behind which remote VTEP, and which VTEPs take a network's
// broadcast (the 00:00:00:00:00:00 flooding entry). Entries are announced when a port on a tunnel
// network goes ACTIVE and withdrawn when it goes down, moves or is deleted.
import type { DB } from '../../db/connection.js';
import { type FdbEntries, type FdbEntry, FLOODING_ENTRY } from '../../rpc/contract.js';
import type { AgentNotifier } from '../../rpc/index.js';
import type { Dict } from '../service.js';
import { type BoundPort, boundPorts, TUNNEL_TYPES, vteps } from './host-ports.js';
import type { MechanismDriver } from './mech/driver.js';
import { LEVELS_TABLE } from './port-binding.js';

export interface L2PopDeps {
  db: DB;
  notifier: () => AgentNotifier | undefined;
  /** Every L2 agent (for their tunnel endpoints). */
  l2Agents(db: DB): Promise<Dict[]>;
}

const entriesOf = (p: Pick<BoundPort, 'mac_address' | 'ips'>): FdbEntry[] => p.ips.map((ip) => [p.mac_address, ip]);

/** `{network: {segment, type, ports: {vtep: entries}}}` of the ACTIVE ports of `networks`,
 * except those on `exceptHost`, each remote VTEP with its flooding entry. */
export async function fdbOfNetworks(db: DB, networkIds: string[], exceptHost: string, agents: Dict[]): Promise<FdbEntries> {
  const out: FdbEntries = {};
  if (networkIds.length === 0) return out;
  const ips = vteps(agents);
  for (const p of await boundPorts(db, { networkIds })) {
    if (p.host === exceptHost || p.status !== 'ACTIVE' || !TUNNEL_TYPES.includes(p.network_type)) continue;
    const vtep = ips.get(p.host);
    if (!vtep) continue;
    if (!out[p.network_id]) out[p.network_id] = { segment_id: p.segmentation_id, network_type: p.network_type, ports: {} };
    const net = out[p.network_id];
    if (!net.ports[vtep]) net.ports[vtep] = [FLOODING_ENTRY];
    net.ports[vtep].push(...entriesOf(p));
  }
  return out;
}

export class L2PopulationDriver implements MechanismDriver {
  readonly name = 'l2population';

  constructor(private readonly deps: L2PopDeps) {}

  private async vtepOf(host: string): Promise<string | undefined> {
    return vteps(await this.deps.l2Agents(this.deps.db)).get(host);
  }

  /** Ports went ACTIVE on one host (one agent report): every agent learns their entries (and
   * the host's VTEP as a flooding target) in one message; the host learns the other VTEPs of a
   * network with its first ACTIVE ports there, as Neutron's l2population does (later ones find
   * them known, and the agent's reconcile covers the rest). */
  async portsUp(ports: BoundPort[]): Promise<void> {
    const notifier = this.deps.notifier();
    const tunnelled = ports.filter((p) => TUNNEL_TYPES.includes(p.network_type));
    if (!notifier || tunnelled.length === 0) return;
    const host = tunnelled[0].host;
    const agents = await this.deps.l2Agents(this.deps.db);
    const vtep = vteps(agents).get(host);
    if (!vtep) return;
    const mine: FdbEntries = {};
    for (const p of tunnelled) {
      if (!mine[p.network_id])
        mine[p.network_id] = { segment_id: p.segmentation_id, network_type: p.network_type, ports: { [vtep]: [FLOODING_ENTRY] } };
      mine[p.network_id].ports[vtep].push(...entriesOf(p));
    }
    await notifier.addFdbEntries(mine);
    const batch = tunnelled.map((p) => p.id);
    const first: string[] = [];
    for (const networkId of Object.keys(mine)) {
      if (!(await this.otherActiveOnHost({ network_id: networkId, host }, batch))) first.push(networkId);
    }
    const others = await fdbOfNetworks(this.deps.db, first, host, agents);
    if (Object.keys(others).length) await notifier.addFdbEntries(others, host);
  }

  /** Whether an ACTIVE port of the network other than `except` is bound to the host. */
  private async otherActiveOnHost(p: Pick<BoundPort, 'network_id' | 'host'>, except: string[]): Promise<boolean> {
    const row = await this.deps.db
      .selectFrom('ports')
      .innerJoin(LEVELS_TABLE, `${LEVELS_TABLE}.port_id`, 'ports.id')
      .select('ports.id')
      .where('ports.network_id', '=', p.network_id)
      .where('ports.status', '=', 'ACTIVE')
      .where('ports.id', 'not in', except)
      .where(`${LEVELS_TABLE}.host`, '=', p.host)
      .where(`${LEVELS_TABLE}.level`, '=', 0)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** A port that may have been announced is gone from `host`: withdraw its entries, and the
   * host's flooding entry when no other ACTIVE port of the network remains there. */
  async portGone(
    p: Pick<BoundPort, 'id' | 'network_id' | 'mac_address' | 'ips' | 'host' | 'network_type' | 'segmentation_id'>,
  ): Promise<void> {
    const notifier = this.deps.notifier();
    if (!notifier || !p.host || !TUNNEL_TYPES.includes(p.network_type)) return;
    const vtep = await this.vtepOf(p.host);
    if (!vtep) return;
    const entries = entriesOf(p);
    if (!(await this.otherActiveOnHost(p, [p.id]))) entries.unshift(FLOODING_ENTRY);
    if (entries.length === 0) return;
    await notifier.removeFdbEntries({
      [p.network_id]: { segment_id: p.segmentation_id, network_type: p.network_type, ports: { [vtep]: entries } },
    });
  }
}
