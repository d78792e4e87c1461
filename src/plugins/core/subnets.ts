// Subnets: CIDR from the request or from a subnet pool, gateway and allocation pools as Neutron
// computes them, the IPv6 mode rules, overlap checks, and SubnetInUse on delete.
import { badRequest, errors, invalidInput, NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { EB } from '../../db/store.js';
import {
  canonicalCidr,
  cidrContains,
  cidrsOverlap,
  defaultAllocationPools,
  defaultGateway,
  eui64,
  gatewayInvalidInSubnet,
  type IpRange,
  ipVersionOf,
  parseCidr,
  validateAllocationPools,
} from '../../ipam/address.js';
import { coveredBy, findFreePrefix, quotaSize } from '../../ipam/prefixes.js';
import { UNSET } from '../../resources/types.js';
import type { Context } from '../context.js';
import { ACCESS_SHARED, grantedTo, sharedFilter } from '../rbac/access.js';
import { BaseService, type Dict, type ServiceDeps } from '../service.js';
import { AUTO_DELETE_OWNERS, type NetworkService } from './networks.js';
import type { CoreSettings } from './settings.js';
import type { SubnetPoolService } from './subnetpools.js';

const AUTO_ADDRESS_MODES = ['slaac', 'dhcpv6-stateless'];
export const isAutoAddressSubnet = (s: Dict): boolean =>
  Number(s.ip_version) === 6 && AUTO_ADDRESS_MODES.includes(s.ipv6_address_mode as string);
/** Ports that never get SLAAC addresses automatically. */
export const ROUTER_OWNERS = [
  'network:router_interface',
  'network:router_interface_distributed',
  'network:ha_router_replicated_interface',
];

const set = (v: unknown) => v !== UNSET && v !== undefined;
/** neutron-lib's BadRequest for resource `subnets`. */
const badSubnetsRequest = (msg: string) => new NeutronError('BadRequest', 400, `Bad subnets request: ${msg}.`);

/** DHCP needs room for a server address: at most /30 on IPv4, /126 on IPv6. */
function checkDhcpPrefixlen(version: number, prefixlen: number): void {
  if ((version === 4 && prefixlen > 30) || (version === 6 && prefixlen > 126)) {
    throw invalidInput('Subnet has a prefix length that is incompatible with DHCP service enabled');
  }
}

/** Told after a subnet change commits (the DHCP agents' notifications). */
export interface SubnetObserver {
  subnetsCreated(subnets: Dict[]): Promise<void>;
  subnetUpdated(before: Dict, after: Dict): Promise<void>;
  subnetDeleted(subnet: Dict): Promise<void>;
}

export class SubnetService extends BaseService {
  protected notFoundType = 'Subnet';
  protected notFoundLabel = 'Subnet';
  networks!: NetworkService;
  pools!: SubnetPoolService;
  readonly observers: SubnetObserver[] = [];

  protected override async afterCreate(created: Dict[]): Promise<void> {
    for (const o of this.observers) await o.subnetsCreated(created);
  }

  protected override async afterUpdate(before: Dict, after: Dict): Promise<void> {
    for (const o of this.observers) await o.subnetUpdated(before, after);
  }

  protected override async afterDelete(deleted: Dict): Promise<void> {
    for (const o of this.observers) await o.subnetDeleted(deleted);
  }

  constructor(
    def: BaseService['def'],
    deps: ServiceDeps,
    private settings: CoreSettings,
  ) {
    super(def, deps);
  }

  /** Own subnets and those on networks shared (access_as_shared) with the caller; an external
   * network's subnets stay hidden, as in Neutron. */
  /** Subnet rules ask about the subnet's network (its owner manages its subnets). */
  protected override async checkParents(db: DB, ctx: Context, item: Dict): Promise<void> {
    await this.networks.parentOf(db, ctx, item);
  }

  protected override async policyTarget(db: DB, obj: Dict): Promise<Dict> {
    return this.networks.withNetwork(db, await super.policyTarget(db, obj), obj);
  }

  protected override scope(ctx: Context) {
    if (ctx.isAdmin) return undefined;
    return (eb: EB) =>
      eb.or([
        eb('subnets.project_id', '=', ctx.projectId ?? ''),
        eb('subnets.network_id', 'in', grantedTo(eb, 'network', ctx, ACCESS_SHARED)),
      ]);
  }

  /** A subnet is shared when its network is shared with the caller. */
  protected override virtualFilters(ctx: Context) {
    return { shared: sharedFilter('subnets.network_id', 'network', ctx) };
  }

  /** Subnets onboarded into a pool (subnet_onboard): a change of each subnet (new revision). */
  async joinPool(db: DB, ids: string[], poolId: string): Promise<void> {
    for (const id of ids) await this.store.update(db, this.def, id, { subnetpool_id: poolId });
  }

  /** Subnets of a network, oldest first. */
  async ofNetwork(db: DB, networkId: string): Promise<Dict[]> {
    const rows = await db
      .selectFrom('subnets')
      .selectAll()
      .where('network_id', '=', networkId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const m = this.store.mapping(this.def);
    return rows.map((r) => m.fromRow(r));
  }

  /** Creates on one network contend on its prefixes and gateway ports: they queue on it. */
  protected override createLocks(ctx: Context, items: Dict[]): string[] {
    return [...super.createLocks(ctx, items), ...items.map((i) => `network:${i.network_id}`)];
  }

  protected async createOne(db: DB, ctx: Context, item: Dict): Promise<string> {
    const network = await this.networks.parentOf(db, ctx, item);
    const s = this.newObject(item);
    delete s.prefixlen;
    const version = Number(s.ip_version);
    const siblings = await this.ofNetwork(db, network.id as string);

    if (set(s.cidr) && set(item.prefixlen)) throw badSubnetsRequest('cidr and prefixlen must not be supplied together');
    // Subnet pool: explicit, the default one of the IP version when asked (use_default_subnetpool),
    // or none when only a CIDR is given.
    let poolId = set(s.subnetpool_id) ? (s.subnetpool_id as string | null) : null;
    const useDefault = item.use_default_subnetpool === true;
    delete s.use_default_subnetpool;
    if (useDefault && poolId) throw badSubnetsRequest('subnetpool_id and use_default_subnetpool cannot both be specified');
    if (poolId === 'prefix_delegation') throw badRequest('Prefix delegation is not supported');
    if (useDefault && !poolId) {
      const wanted = set(s.cidr) ? (ipVersionOf((s.cidr as string).split('/')[0]) ?? version) : version;
      const pool = await this.pools.visibleDefault(db, ctx, wanted);
      if (!pool) throw badSubnetsRequest(`No default subnetpool found for IPv${wanted}`);
      poolId = pool.id as string;
    }
    if (!set(s.cidr) && !poolId) throw badSubnetsRequest('a subnetpool must be specified in the absence of a cidr');
    if (siblings.some((x) => Number(x.ip_version) === version && (x.subnetpool_id ?? null) !== poolId)) {
      throw new NeutronError(
        'NetworkSubnetPoolAffinityError',
        400,
        'Subnets hosted on the same network must be allocated from the same subnet pool.',
      );
    }
    if (poolId) {
      // Pools of the subnet's own choosing only for a CIDR of its own choosing.
      if (!set(s.cidr) && set(s.allocation_pools)) {
        throw badSubnetsRequest('allocation_pools allowed only for specific subnet requests.');
      }
      const pool = await this.pools.visible(db, ctx, poolId);
      if (Number(pool.ip_version) !== version) {
        throw badSubnetsRequest(`Cannot allocate IPv${version} subnet from IPv${pool.ip_version} subnet pool`);
      }
      s.cidr = await this.allocateFromPool(
        db,
        pool,
        s.project_id as string,
        set(s.cidr) ? (s.cidr as string) : null,
        set(item.prefixlen) ? Number(item.prefixlen) : null,
      );
      poolId = pool.id as string;
    }
    s.subnetpool_id = poolId;
    // The API keeps host bits as given; the stored subnet is the network (10.0.0.5/24 → 10.0.0.0/24).
    s.cidr = canonicalCidr(s.cidr as string) ?? s.cidr;
    const cidr = s.cidr as string;
    if (ipVersionOf(cidr.split('/')[0]) !== version) {
      throw invalidInput(`cidr '${cidr}' does not match the ip_version '${version}'`);
    }
    const parsed = parseCidr(cidr);
    if (!parsed) throw badRequest(`Invalid input for cidr. Reason: '${cidr}' is not a valid IP subnet.`);
    if (version === 4 && parsed.prefixlen === 0) throw invalidInput('0 is not allowed as CIDR prefix length');

    await this.checkOverlap(db, network.id as string, cidr, siblings);
    this.checkIpv6Modes(s, parsed.prefixlen);
    if (s.enable_dhcp !== false) checkDhcpPrefixlen(version, parsed.prefixlen);

    // Gateway: IPv4 the first host, IPv6 the subnet-router anycast (network) address, unless
    // given or explicitly null.
    if (!set(s.gateway_ip)) {
      s.gateway_ip = defaultGateway(cidr);
      // A /31's or /32's default gateway may be an address IPAM cannot hand out.
      const dgw = s.gateway_ip as string | null;
      if (dgw && parsed.prefixlen >= 31 && version === 4 && cidrContains(cidr, dgw) && gatewayInvalidInSubnet(cidr, dgw)) {
        throw new NeutronError('IpamValueInvalid', 409, `Gateway IP ${dgw} cannot be allocated in CIDR ${cidr}`);
      }
    }
    const gw = s.gateway_ip as string | null;
    if (gw) this.checkGateway(cidr, version, gw);

    if (!set(s.allocation_pools)) s.allocation_pools = defaultAllocationPools(cidr, gw);
    else s.allocation_pools = this.checkPools(cidr, version, s.allocation_pools as IpRange[], gw);

    this.checkDnsAndRoutes('new subnet', version, s.dns_nameservers as string[], s.host_routes as Dict[]);
    s.ipv6_ra_mode = set(s.ipv6_ra_mode) ? s.ipv6_ra_mode : null;
    s.ipv6_address_mode = set(s.ipv6_address_mode) ? s.ipv6_address_mode : null;
    s.service_types ??= [];
    s.project_id = s.project_id ?? network.project_id;
    await this.store.insert(db, this.def, s);
    await this.store.bumpRevision(db, this.networks.def, network.id as string);
    if (isAutoAddressSubnet(s)) await this.addAutoAddresses(db, s);
    return s.id as string;
  }

  /** A new SLAAC/DHCPv6-stateless subnet gives every existing non-router port its EUI-64 address. */
  private async addAutoAddresses(db: DB, subnet: Dict): Promise<void> {
    const ports = await db
      .selectFrom('ports')
      .select(['id', 'mac_address'])
      .where('network_id', '=', subnet.network_id as string)
      .where('device_owner', 'not in', ROUTER_OWNERS)
      .execute();
    for (const p of ports) {
      await db
        .insertInto('ipallocations')
        .values({
          port_id: p.id,
          subnet_id: subnet.id,
          network_id: subnet.network_id,
          ip_address: eui64(subnet.cidr as string, p.mac_address as string),
        })
        .execute();
    }
  }

  private async allocateFromPool(
    db: DB,
    pool: Dict,
    projectId: string,
    cidr: string | null,
    prefixlen: number | null,
  ): Promise<string> {
    const prefixes = pool.prefixes as string[];
    const allocated = await db
      .selectFrom('subnets')
      .select(['cidr', 'project_id'])
      .where('subnetpool_id', '=', pool.id as string)
      .execute();
    let result: string;
    if (cidr) {
      if (!coveredBy(cidr, prefixes)) {
        throw new NeutronError(
          'SubnetAllocationError',
          400,
          'Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.',
        );
      }
      if (allocated.some((a) => cidrsOverlap(a.cidr as string, cidr))) {
        throw new NeutronError(
          'SubnetAllocationError',
          409,
          `Failed to allocate subnet: Cannot allocate requested subnet ${cidr} from the available set of prefixes.`,
        );
      }
      result = cidr;
    } else {
      const len = prefixlen ?? Number(pool.default_prefixlen);
      this.checkPrefixBounds(pool, len);
      const free = findFreePrefix(
        prefixes,
        allocated.map((a) => a.cidr as string),
        len,
      );
      if (!free) {
        throw new NeutronError(
          'SubnetAllocationError',
          409,
          `Failed to allocate subnet: Insufficient prefix space to allocate subnet size /${len}.`,
        );
      }
      result = free;
    }
    this.checkPrefixBounds(pool, Number(result.split('/')[1]));
    if (pool.default_quota !== null && pool.default_quota !== undefined) {
      const used = allocated.filter((a) => a.project_id === projectId).reduce((n, a) => n + quotaSize(a.cidr as string), 0n);
      if (used + quotaSize(result) > BigInt(pool.default_quota as number)) throw errors.subnetPoolQuotaExceeded();
    }
    return result;
  }

  private checkPrefixBounds(pool: Dict, len: number): void {
    if (len > Number(pool.max_prefixlen)) throw errors.maxPrefixSubnetAllocationError(len, Number(pool.max_prefixlen));
    if (len < Number(pool.min_prefixlen)) throw errors.minPrefixSubnetAllocationError(len, Number(pool.min_prefixlen));
  }

  private async checkOverlap(db: DB, networkId: string, cidr: string, siblings: Dict[]): Promise<void> {
    const others = this.settings.allowOverlappingIps
      ? siblings
      : ((await db.selectFrom('subnets').select(['id', 'cidr']).execute()) as Dict[]);
    for (const o of others) {
      if (cidrsOverlap(o.cidr as string, cidr)) {
        throw invalidInput(`Requested subnet with cidr: ${cidr} for network: ${networkId} overlaps with another subnet`);
      }
    }
  }

  private checkIpv6Modes(s: Dict, prefixlen: number): void {
    const ra = set(s.ipv6_ra_mode) ? (s.ipv6_ra_mode as string) : null;
    const addr = set(s.ipv6_address_mode) ? (s.ipv6_address_mode as string) : null;
    if (Number(s.ip_version) !== 6) {
      if (ra) throw invalidInput('ipv6_ra_mode is not valid when ip_version is 4');
      if (addr) throw invalidInput('ipv6_address_mode is not valid when ip_version is 4');
      return;
    }
    if ((ra || addr) && s.enable_dhcp === false) {
      throw invalidInput('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False');
    }
    if (ra && addr && ra !== addr) {
      throw invalidInput(
        `ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${addr}' is not valid. If both attributes are set, they must be the same value`,
      );
    }
    if ((AUTO_ADDRESS_MODES.includes(addr ?? '') || AUTO_ADDRESS_MODES.includes(ra ?? '')) && prefixlen !== 64) {
      throw invalidInput(
        `Invalid CIDR ${s.cidr} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`,
      );
    }
  }

  private checkGateway(cidr: string, version: number, gw: string): void {
    if (ipVersionOf(gw) !== version) throw invalidInput(`gateway_ip '${gw}' does not match the ip_version '${version}'`);
    if (gatewayInvalidInSubnet(cidr, gw)) throw invalidInput('Gateway is not valid on subnet');
  }

  private checkPools(cidr: string, version: number, pools: IpRange[], gw: string | null): IpRange[] {
    const problem = validateAllocationPools(cidr, pools, gw && ipVersionOf(gw) === version ? gw : null);
    if (problem) throw new NeutronError(problem.type, problem.status, problem.message);
    return pools.map((p) => ({ start: p.start, end: p.end }));
  }

  private checkDnsAndRoutes(id: string, version: number, dns: string[], routes: Dict[]): void {
    if (dns.length > this.settings.maxDnsNameservers) throw errors.dnsNameserversExhausted(id, this.settings.maxDnsNameservers);
    if (routes.length > this.settings.maxSubnetHostRoutes)
      throw errors.hostRoutesExhausted(id, this.settings.maxSubnetHostRoutes);
    for (const d of dns) {
      if (ipVersionOf(d) !== version) throw invalidInput(`dns_nameserver '${d}' does not match the ip_version '${version}'`);
    }
    for (const r of routes) {
      const dest = r.destination as string;
      const hop = r.nexthop as string;
      if (ipVersionOf(hop) !== version) throw invalidInput(`nexthop '${hop}' does not match the ip_version '${version}'`);
      if (ipVersionOf(dest.split('/')[0]) !== version) {
        throw invalidInput(`destination '${dest}' does not match the ip_version '${version}'`);
      }
    }
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    const cidr = obj.cidr as string;
    const version = Number(obj.ip_version);
    const gw = ('gateway_ip' in changes ? changes.gateway_ip : obj.gateway_ip) as string | null;
    if ('gateway_ip' in changes && gw !== obj.gateway_ip) {
      if (gw) this.checkGateway(cidr, version, gw);
      // The current gateway may not move while a router interface holds it.
      const current = obj.gateway_ip as string | null;
      if (current) {
        const user = await db
          .selectFrom('ipallocations')
          .innerJoin('ports', 'ports.id', 'ipallocations.port_id')
          .select('ipallocations.port_id as port_id')
          .where('ipallocations.subnet_id', '=', obj.id as string)
          .where('ipallocations.ip_address', '=', current)
          .where('ports.device_owner', 'in', ROUTER_OWNERS)
          .executeTakeFirst();
        if (user) throw errors.gatewayIpInUse(current, user.port_id as string);
      }
    }
    if (changes.enable_dhcp === true) checkDhcpPrefixlen(version, Number(cidr.split('/')[1]));
    if ('allocation_pools' in changes) {
      changes.allocation_pools = this.checkPools(cidr, version, changes.allocation_pools as IpRange[], gw);
    } else if ('gateway_ip' in changes && gw) {
      const problem = validateAllocationPools(cidr, obj.allocation_pools as IpRange[], gw);
      if (problem) throw new NeutronError(problem.type, problem.status, problem.message);
    }
    this.checkDnsAndRoutes(
      obj.id as string,
      version,
      (changes.dns_nameservers ?? obj.dns_nameservers) as string[],
      (changes.host_routes ?? obj.host_routes) as Dict[],
    );
    if (changes.enable_dhcp === false && (obj.ipv6_ra_mode || obj.ipv6_address_mode)) {
      throw invalidInput('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False');
    }
    await super.updateOne(db, ctx, obj, changes);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    const id = obj.id as string;
    const users = await db
      .selectFrom('ipallocations')
      .innerJoin('ports', 'ports.id', 'ipallocations.port_id')
      .select(['ports.id as id', 'ports.device_owner as owner'])
      .where('ipallocations.subnet_id', '=', id)
      .execute();
    // Addresses on auto-address subnets go with the subnet; other ports block its deletion.
    const blocking = users.filter((u) => !AUTO_DELETE_OWNERS.includes(u.owner as string));
    if (blocking.length && !isAutoAddressSubnet(obj)) throw errors.subnetInUse(id);
    if (blocking.some((u) => ROUTER_OWNERS.includes(u.owner as string))) throw errors.subnetInUse(id);
    await db.deleteFrom('ipallocations').where('subnet_id', '=', id).execute();
    await super.deleteOne(db, ctx, obj);
    await this.store.bumpRevision(db, this.networks.def, obj.network_id as string);
  }
}
