// A port's addresses: its MAC (random on the network's base, unique on the network) and its fixed
// IPs (requested ones checked, free ones picked from the allocation pools, EUI-64 addresses on
// SLAAC subnets, subnet service types), as Neutron's IPAM does for ports.
import { errors, invalidInput, NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import { checkSubnetIp, eui64, normalizeIp } from '../../ipam/address.js';
import { type AllocationSource, pickAddress } from '../../ipam/allocator.js';
import { randomMac } from '../../ipam/mac.js';
import type { Dict } from '../service.js';
import type { CoreSettings } from './settings.js';
import { isAutoAddressSubnet, ROUTER_OWNERS } from './subnets.js';

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export class PortAddresses {
  constructor(private readonly settings: CoreSettings) {}

  source(db: DB, subnetId: string): AllocationSource {
    return {
      isTaken: async (ip) =>
        (await db
          .selectFrom('ipallocations')
          .select('port_id')
          .where('subnet_id', '=', subnetId)
          .where('ip_address', '=', ip)
          .executeTakeFirst()) !== undefined,
      allTaken: async () =>
        (await db.selectFrom('ipallocations').select('ip_address').where('subnet_id', '=', subnetId).execute()).map(
          (r) => r.ip_address as string,
        ),
    };
  }

  async macInUse(db: DB, networkId: string, mac: string): Promise<boolean> {
    const r = await db
      .selectFrom('ports')
      .select('id')
      .where('network_id', '=', networkId)
      .where('mac_address', '=', mac)
      .executeTakeFirst();
    return r !== undefined;
  }

  async newMac(db: DB, networkId: string): Promise<string> {
    for (let i = 0; i < this.settings.macRetries; i++) {
      const mac = randomMac(this.settings.baseMac);
      if (!(await this.macInUse(db, networkId, mac))) return mac;
    }
    throw errors.macAddressGenerationFailure(networkId);
  }

  /** One address on `subnet`: the requested one (checked) or a free one. */
  async allocateOn(
    db: DB,
    subnet: Dict,
    ip: string | undefined,
    mac: string,
    owner: string,
    chosen: Set<string>,
  ): Promise<FixedIp> {
    const subnetId = subnet.id as string;
    const auto = isAutoAddressSubnet(subnet) && !ROUTER_OWNERS.includes(owner);
    if (ip !== undefined) {
      if (auto) throw errors.allocationOnAutoAddressSubnet(ip, subnetId);
      if (!checkSubnetIp(subnet.cidr as string, ip, v6NetworkAllowed(owner))) throw errors.invalidIpForSubnet(ip);
      if (chosen.has(`${subnetId}|${ip}`) || (await this.source(db, subnetId).isTaken(ip)))
        throw errors.ipAddressAlreadyAllocated(ip, subnetId);
    } else if (auto) {
      ip = eui64(subnet.cidr as string, mac);
      if (await this.source(db, subnetId).isTaken(ip)) throw errors.ipAddressAlreadyAllocated(ip, subnetId);
    } else {
      const exclude = new Set([...chosen].filter((k) => k.startsWith(`${subnetId}|`)).map((k) => k.split('|')[1]));
      const picked = await pickAddress(
        Number(subnet.ip_version) as 4 | 6,
        subnet.allocation_pools as never,
        this.source(db, subnetId),
        exclude,
      );
      if (!picked) throw errors.ipAddressGenerationFailure(subnet.network_id as string);
      ip = picked;
    }
    chosen.add(`${subnetId}|${ip}`);
    return { subnet_id: subnetId, ip_address: ip };
  }

  /** Neutron's default: one IPv4 address, one stateful IPv6 address, and SLAAC addresses on every auto subnet. */
  async allocateDefault(db: DB, all: Dict[], mac: string, owner: string): Promise<FixedIp[]> {
    const subnets = forDeviceOwner(all, owner);
    const out: FixedIp[] = [];
    const chosen = new Set<string>();
    const isRouter = ROUTER_OWNERS.includes(owner);
    for (const version of [4, 6]) {
      // Auto-address subnets never serve the default allocation, not even of router ports.
      const candidates = subnets.filter((s) => Number(s.ip_version) === version && !isAutoAddressSubnet(s));
      if (candidates.length === 0) continue;
      let got: FixedIp | undefined;
      for (const s of candidates) {
        try {
          got = await this.allocateOn(db, s, undefined, mac, owner, chosen);
          break;
        } catch (err) {
          if (!(err instanceof NeutronError && err.type === 'IpAddressGenerationFailure')) throw err;
        }
      }
      if (!got) throw errors.ipAddressGenerationFailure(subnets[0].network_id as string);
      out.push(got);
    }
    if (!isRouter) {
      for (const s of subnets.filter((x) => isAutoAddressSubnet(x)))
        out.push(await this.allocateOn(db, s, undefined, mac, owner, chosen));
    }
    return out;
  }

  /** Neutron's _get_subnet_for_fixed_ip. */
  subnetFor(subnets: Dict[], networkId: string, req: Dict, owner: string): Dict {
    if (req.subnet_id !== undefined) {
      const s = subnets.find((x) => x.id === req.subnet_id);
      if (!s) {
        throw invalidInput(
          `Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${req.subnet_id}`,
        );
      }
      if (req.ip_address !== undefined && !checkSubnetIp(s.cidr as string, req.ip_address as string, v6NetworkAllowed(owner))) {
        throw errors.invalidIpForSubnet(req.ip_address as string);
      }
      return s;
    }
    if (req.ip_address === undefined) throw invalidInput('IP allocation requires subnet_id or ip_address');
    const ip = req.ip_address as string;
    const s = subnets.find((x) => checkSubnetIp(x.cidr as string, ip, v6NetworkAllowed(owner)));
    if (!s) throw errors.invalidIpForNetwork(ip);
    return s;
  }

  async allocateRequested(
    db: DB,
    subnets: Dict[],
    networkId: string,
    reqs: Dict[],
    mac: string,
    owner: string,
    chosen = new Set<string>(),
  ): Promise<FixedIp[]> {
    const out: FixedIp[] = [];
    for (const raw of reqs) {
      const req = canonicalFixedIp(raw);
      const s = this.subnetFor(subnets, networkId, req, owner);
      out.push(await this.allocateOn(db, s, req.ip_address as string | undefined, mac, owner, chosen));
    }
    return out;
  }

  /** Requested addresses, plus (for non-router ports) an EUI-64 address on every auto-address
   * subnet the request does not name, as Neutron's _allocate_ips_for_port does. */
  async allocateExplicit(
    db: DB,
    subnets: Dict[],
    networkId: string,
    reqs: Dict[],
    mac: string,
    owner: string,
  ): Promise<FixedIp[]> {
    const chosen = new Set<string>();
    const out = await this.allocateRequested(db, subnets, networkId, reqs, mac, owner, chosen);
    if (ROUTER_OWNERS.includes(owner)) return out;
    for (const s of subnets.filter((x) => isAutoAddressSubnet(x) && !out.some((ip) => ip.subnet_id === x.id))) {
      out.push(await this.allocateOn(db, s, undefined, mac, owner, chosen));
    }
    return out;
  }
}

/** IPv6 subnet-router anycast (network) address: allowed for router ports and unowned ports
 * (neutron-lib's check_subnet_ip with ROUTER_PORT_OWNERS + ''). */
export function v6NetworkAllowed(owner: string): boolean {
  return owner === '' || owner === 'network:router_gateway' || ROUTER_OWNERS.includes(owner);
}

/** A requested fixed IP with its address in canonical form (IPv6 compacted). */
export function canonicalFixedIp(req: Dict): Dict {
  if (typeof req.ip_address !== 'string') return req;
  return { ...req, ip_address: normalizeIp(req.ip_address) ?? req.ip_address };
}

/** Subnets whose service_types name the port's device_owner serve it; when none does, the
 * subnets without service types do (subnet-service-types). */
export function forDeviceOwner(subnets: Dict[], owner: string): Dict[] {
  const types = (s: Dict) => (s.service_types as string[] | undefined) ?? [];
  const matching = subnets.filter((s) => types(s).includes(owner));
  return matching.length ? matching : subnets.filter((s) => types(s).length === 0);
}
