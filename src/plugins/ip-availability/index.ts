// network-ip-availability, as Neutron's IpAvailabilityMixin computes it: per subnet, total = the
// sizes of its allocation pools (the whole CIDR when it has none) and used = its IP allocations
// (every port's fixed IP, DHCP and router ports included; the gateway only when a port holds it);
// per network, the sums. Totals are bigints: an IPv6 /64 holds 2^64 - 2.
import { NeutronError } from '../../common/errors.js';
import type { Store } from '../../db/store.js';
import { cidrSize, type IpRange, ipToBigint } from '../../ipam/address.js';

export interface AvailabilityFilters {
  network_id?: string[];
  network_name?: string[];
  project_id?: string[];
  ip_version?: number[];
}

export interface SubnetAvailability {
  subnet_id: string;
  subnet_name: string;
  cidr: string;
  ip_version: number;
  total_ips: bigint;
  used_ips: bigint;
}

export interface NetworkAvailability {
  network_id: string;
  network_name: string;
  tenant_id: string;
  project_id: string;
  total_ips: bigint;
  used_ips: bigint;
  subnet_ip_availability: SubnetAvailability[];
}

/** Addresses in the subnet's allocation pools, or in its CIDR when it has none. */
export function subnetTotal(cidr: string, pools: IpRange[]): bigint {
  if (pools.length === 0) return cidrSize(cidr);
  let total = 0n;
  for (const p of pools) total += ipToBigint(p.end) - ipToBigint(p.start) + 1n;
  return total;
}

export class IpAvailabilityService {
  constructor(private readonly store: Store) {}

  async list(filters: AvailabilityFilters): Promise<NetworkAvailability[]> {
    const db = this.store.db;
    let nq = db.selectFrom('networks').select(['id', 'name', 'project_id']);
    if (filters.network_id?.length) nq = nq.where('id', 'in', filters.network_id);
    if (filters.network_name?.length) nq = nq.where('name', 'in', filters.network_name);
    if (filters.project_id?.length) nq = nq.where('project_id', 'in', filters.project_id);
    const networks = await nq.orderBy('created_at').orderBy('id').execute();
    if (networks.length === 0) return [];
    const netIds = networks.map((n) => n.id as string);

    let sq = db
      .selectFrom('subnets')
      .select(['id', 'name', 'network_id', 'cidr', 'ip_version', 'allocation_pools'])
      .where('network_id', 'in', this.store.anyOf(netIds));
    if (filters.ip_version?.length) sq = sq.where('ip_version', 'in', filters.ip_version);
    const subnets = await sq.orderBy('created_at').orderBy('id').execute();

    const used = new Map<string, bigint>();
    if (subnets.length) {
      const rows = await db
        .selectFrom('ipallocations')
        .select((eb) => ['subnet_id', eb.fn.countAll().as('n')])
        .where('subnet_id', 'in', this.store.anyOf(subnets.map((s) => s.id as string)))
        .groupBy('subnet_id')
        .execute();
      for (const r of rows) used.set(r.subnet_id as string, BigInt(r.n as number | string));
    }

    const bySubnetNet = new Map<string, SubnetAvailability[]>();
    for (const s of subnets) {
      const entry: SubnetAvailability = {
        subnet_id: s.id as string,
        subnet_name: s.name as string,
        cidr: s.cidr as string,
        ip_version: Number(s.ip_version),
        total_ips: subnetTotal(s.cidr as string, JSON.parse(s.allocation_pools as string) as IpRange[]),
        used_ips: used.get(s.id as string) ?? 0n,
      };
      const list = bySubnetNet.get(s.network_id as string) ?? [];
      list.push(entry);
      bySubnetNet.set(s.network_id as string, list);
    }

    const out: NetworkAvailability[] = [];
    for (const n of networks) {
      const subs = bySubnetNet.get(n.id as string) ?? [];
      // Filtering on ip_version drops networks without a subnet of that version (Neutron's join).
      if (filters.ip_version?.length && subs.length === 0) continue;
      out.push({
        network_id: n.id as string,
        network_name: n.name as string,
        tenant_id: n.project_id as string,
        project_id: n.project_id as string,
        total_ips: subs.reduce((a, s) => a + s.total_ips, 0n),
        used_ips: subs.reduce((a, s) => a + s.used_ips, 0n),
        subnet_ip_availability: subs,
      });
    }
    return out;
  }

  async get(networkId: string): Promise<NetworkAvailability> {
    const [one] = await this.list({ network_id: [networkId] });
    if (!one) throw new NeutronError('NetworkNotFound', 404, `Network ${networkId} could not be found.`);
    return one;
  }
}
