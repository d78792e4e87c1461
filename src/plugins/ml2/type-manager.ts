// ML2's type manager: the network side of the type drivers. It turns a network create's provider
// attributes (or their absence) into reserved segments, releases them on delete, updates a VLAN
// network's tag, computes the MTU the segments allow, and shows segments as the provider and
// multi-provider extensions do.
import type { DB } from '../../db/connection.js';
import type { EB, Store, VirtualFilter } from '../../db/store.js';
import { ABSENT, UNSET } from '../../resources/types.js';
import { type Dict, transaction } from '../service.js';
import type { Ml2Config } from './config.js';
import { ml2Errors } from './errors.js';
import { type Segment, type SegmentSpec, TYPE_VLAN, type TypeDriver } from './segment.js';
import { addSegments, SEGMENTS_TABLE, segmentsOf, setSegmentationId } from './segments-db.js';
import { FlatTypeDriver } from './types/flat.js';
import { GeneveTypeDriver } from './types/geneve.js';
import { GreTypeDriver } from './types/gre.js';
import { LocalTypeDriver } from './types/local.js';
import { VlanTypeDriver } from './types/vlan.js';
import { VxlanTypeDriver } from './types/vxlan.js';

export const NETWORK_TYPE = 'provider:network_type';
export const PHYSICAL_NETWORK = 'provider:physical_network';
export const SEGMENTATION_ID = 'provider:segmentation_id';
export const PROVIDER_ATTRIBUTES = [NETWORK_TYPE, PHYSICAL_NETWORK, SEGMENTATION_ID] as const;
export const SEGMENTS = 'segments';

/** Neutron's is_attr_set: given, and not null. */
const isSet = (v: unknown): boolean => v !== undefined && v !== null && v !== UNSET;

export class TypeManager {
  readonly drivers = new Map<string, TypeDriver>();

  constructor(
    readonly cfg: Ml2Config,
    private readonly store: Store,
  ) {
    const all: TypeDriver[] = [
      new LocalTypeDriver(),
      new FlatTypeDriver(cfg),
      new VlanTypeDriver(cfg, store),
      new GreTypeDriver(cfg, store),
      new VxlanTypeDriver(cfg, store),
      new GeneveTypeDriver(cfg, store),
    ];
    for (const d of all) if (cfg.typeDrivers.includes(d.getType())) this.drivers.set(d.getType(), d);
  }

  /** Syncs every driver's allocations with its configured ranges, once at startup; safe to run
   * from several processes at once. */
  async initialize(): Promise<void> {
    for (const driver of this.drivers.values()) await transaction(this.store, (db) => driver.initialize(db));
  }

  private driver(type: string): TypeDriver {
    const d = this.drivers.get(type);
    if (!d) throw ml2Errors.invalid(`network_type value '${type}' not supported`);
    return d;
  }

  isPartialSegment(segment: SegmentSpec): boolean {
    return this.driver(segment.network_type).isPartialSegment(segment);
  }

  validateProviderSegment(segment: SegmentSpec): void {
    this.driver(segment.network_type).validateProviderSegment(segment);
  }

  /** One provider segment of a request (the network's provider:* or an item of `segments`). */
  private providerSegment(attrs: Dict): SegmentSpec {
    const type = attrs[NETWORK_TYPE];
    if (!isSet(type)) throw ml2Errors.invalid('network_type required');
    const physnet = attrs[PHYSICAL_NETWORK];
    const id = attrs[SEGMENTATION_ID];
    const segment: SegmentSpec = {
      network_type: String(type),
      // An empty physical network names none.
      physical_network: isSet(physnet) && physnet !== '' ? String(physnet) : null,
      segmentation_id: isSet(id) ? Number(id) : null,
    };
    this.validateProviderSegment(segment);
    return segment;
  }

  /** The validated provider segments a network create asks for; none when it asks for none. */
  providerSegments(item: Dict): SegmentSpec[] {
    if (PROVIDER_ATTRIBUTES.some((a) => isSet(item[a]))) {
      if (isSet(item[SEGMENTS])) throw ml2Errors.segmentsSetInConjunctionWithProviders();
      return [this.providerSegment(item)];
    }
    if (!isSet(item[SEGMENTS])) return [];
    const segments = (item[SEGMENTS] as Dict[]).map((s) => this.providerSegment(s));
    const full = segments
      .filter((s) => !this.isPartialSegment(s))
      .map((s) => `${s.network_type}\u0000${s.physical_network}\u0000${s.segmentation_id}`);
    if (new Set(full).size !== full.length) throw ml2Errors.segmentsContainDuplicateEntry();
    return segments;
  }

  /**
   * Inside a network create's transaction: reserves the provider segments it names, or else
   * takes a segment of `external_network_type` (external networks, when set) or of the first
   * tenant network type with one free. 503 NoNetworkAvailable when there is none.
   */
  async reserveNetworkSegments(db: DB, item: Dict): Promise<SegmentSpec[]> {
    const provider = this.providerSegments(item);
    if (provider.length) {
      const out: SegmentSpec[] = [];
      for (const s of provider) out.push(await this.driver(s.network_type).reserveProviderSegment(db, s));
      return out;
    }
    const external = this.cfg.externalNetworkType;
    const types = external && item['router:external'] === true ? [external] : this.cfg.tenantNetworkTypes;
    for (const type of types) {
      const segment = await this.driver(type).allocateTenantSegment(db);
      if (segment) return [segment];
    }
    throw ml2Errors.noNetworkAvailable();
  }

  addNetworkSegments(db: DB, networkId: string, segments: SegmentSpec[]): Promise<void> {
    return addSegments(db, networkId, segments);
  }

  /** Gives back the ids of a network's segments (the rows go with the network). */
  async releaseNetworkSegments(db: DB, networkId: string): Promise<void> {
    const segments = (await segmentsOf(db, [networkId])).get(networkId) ?? [];
    for (const s of segments) await this.drivers.get(s.network_type)?.releaseSegment(db, s);
  }

  segmentsOf(db: DB, networkIds: string[]): Promise<Map<string, Segment[]>> {
    return segmentsOf(db, networkIds);
  }

  /** The largest MTU the segments allow: the smallest any of them sets, else global_physnet_mtu. */
  maxMtu(segments: Array<Pick<SegmentSpec, 'network_type' | 'physical_network'>>): number {
    const mtus = segments.map((s) => this.drivers.get(s.network_type)?.getMtu(s.physical_network) ?? 0).filter((m) => m > 0);
    return mtus.length ? Math.min(...mtus) : this.cfg.globalPhysnetMtu;
  }

  /**
   * Applies the provider attributes of a network update, as ML2 allows: network type and
   * physical network cannot change; a single-segment VLAN network may move to another tag.
   * `network` is the network as shown (extendNetworks), `segments` its segments.
   */
  async updateProviderAttributes(db: DB, network: Dict, segments: Segment[], changes: Dict): Promise<void> {
    for (const attr of [NETWORK_TYPE, PHYSICAL_NETWORK]) {
      if (isSet(changes[attr]) && changes[attr] !== network[attr]) {
        throw ml2Errors.invalid(
          `Plugin does not support updating the following provider network attributes: ${NETWORK_TYPE}, ${PHYSICAL_NETWORK}`,
        );
      }
    }
    const id = changes[SEGMENTATION_ID];
    // Neutron ignores a falsy id (0) here.
    if (!isSet(id) || id === 0) return;
    if (segments.length > 1) {
      throw ml2Errors.invalid('Provider network attributes can be updated only in provider networks with a single segment.');
    }
    const [current] = segments;
    if (current?.network_type !== TYPE_VLAN) throw ml2Errors.invalid('Only VLAN type networks can be updated.');
    const next: SegmentSpec = { ...current, segmentation_id: Number(id) };
    this.validateProviderSegment(next);
    // Unchanged: nothing to do (Neutron would try to reserve the tag it holds and say it is in use).
    if (next.segmentation_id === current.segmentation_id) return;
    const driver = this.driver(TYPE_VLAN);
    await driver.reserveProviderSegment(db, next);
    await setSegmentationId(db, current.id, next.segmentation_id as number);
    await driver.releaseSegment(db, current);
  }

  /** Adds provider:* (single segment) or `segments` (several) to network dicts, as Neutron
   * shows them; a network without segments shows provider:* as null. */
  async extendNetworks(db: DB, dicts: Dict[]): Promise<Map<string, Segment[]>> {
    const all = await segmentsOf(
      db,
      dicts.map((d) => d.id as string),
    );
    for (const d of dicts) showSegments(d, all.get(d.id as string) ?? []);
    return all;
  }

  /** List filters on provider:*: networks with a segment that matches. */
  providerFilters(idColumn: string): Record<string, VirtualFilter> {
    const column: Record<string, string> = {
      [NETWORK_TYPE]: 'network_type',
      [PHYSICAL_NETWORK]: 'physical_network',
      [SEGMENTATION_ID]: 'segmentation_id',
    };
    return Object.fromEntries(
      Object.entries(column).map(([attr, col]) => [
        attr,
        (eb: EB, values: unknown[]) =>
          eb(
            idColumn,
            'in',
            eb
              .selectFrom(SEGMENTS_TABLE)
              .select('network_id')
              .where(col, 'in', values as string[]),
          ),
      ]),
    );
  }
}

export function showSegments(d: Dict, segments: Segment[]): void {
  if (segments.length > 1) {
    for (const a of PROVIDER_ATTRIBUTES) d[a] = ABSENT;
    d[SEGMENTS] = segments.map((s) => ({
      [NETWORK_TYPE]: s.network_type,
      [PHYSICAL_NETWORK]: s.physical_network,
      [SEGMENTATION_ID]: s.segmentation_id,
    }));
    return;
  }
  const [s] = segments;
  d[NETWORK_TYPE] = s?.network_type ?? null;
  d[PHYSICAL_NETWORK] = s?.physical_network ?? null;
  d[SEGMENTATION_ID] = s?.segmentation_id ?? null;
  d[SEGMENTS] = ABSENT;
}
