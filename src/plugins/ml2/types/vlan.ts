// vlan: 802.1Q tags on a physical network. network_vlan_ranges names the physical networks VLAN
// networks may use and, per network, the tags tenant networks are given; a provider network may
// take any valid tag of a known physical network (ml2_vlan_allocations).
import type { DB } from '../../../db/connection.js';
import type { Store } from '../../../db/store.js';
import { AllocationPool } from '../allocations.js';
import type { Ml2Config } from '../config.js';
import { ml2Errors } from '../errors.js';
import { physnetMtu } from '../mtu.js';
import { ID_SPACE, type SegmentSpec, TYPE_VLAN, type TypeDriver } from '../segment.js';

export const VLAN_TABLE = 'ml2_vlan_allocations';

export class VlanTypeDriver implements TypeDriver {
  private readonly pool: AllocationPool;

  constructor(
    private readonly cfg: Ml2Config,
    store: Store,
  ) {
    this.pool = new AllocationPool(store, { table: VLAN_TABLE, idColumn: 'vlan_id', physnetColumn: 'physical_network' });
  }

  getType(): string {
    return TYPE_VLAN;
  }

  async initialize(db: DB): Promise<void> {
    const ranges = this.cfg.vlanRanges;
    await this.pool.dropPhysnetsExcept(db, [...ranges.keys()]);
    for (const [physnet, r] of ranges) await this.pool.sync(db, r, physnet);
  }

  isPartialSegment(segment: SegmentSpec): boolean {
    return segment.segmentation_id === null;
  }

  validateProviderSegment(segment: SegmentSpec): void {
    const { physical_network: physnet, segmentation_id: id } = segment;
    const [min, max] = ID_SPACE[TYPE_VLAN];
    if (physnet) {
      if (!this.cfg.vlanRanges.has(physnet)) {
        throw ml2Errors.invalid(`physical_network '${physnet}' unknown for VLAN provider network`);
      }
      if (id !== null && (id < min || id > max)) throw ml2Errors.invalid(`segmentation_id out of range (${min} through ${max})`);
    } else if (id !== null) {
      throw ml2Errors.invalid('segmentation_id requires physical_network for VLAN provider network');
    }
  }

  async reserveProviderSegment(db: DB, segment: SegmentSpec): Promise<SegmentSpec> {
    const { physical_network: physnet, segmentation_id: id } = segment;
    if (id === null) {
      const got = physnet ? await this.fromPool(db, physnet) : await this.allocateTenantSegment(db);
      if (!got) throw ml2Errors.noNetworkAvailable();
      return got;
    }
    if (!(await this.pool.allocate(db, id, physnet))) throw ml2Errors.vlanIdInUse(id, physnet as string);
    return { network_type: TYPE_VLAN, physical_network: physnet, segmentation_id: id };
  }

  /** The first physical network, in configuration order, with a free tag. */
  async allocateTenantSegment(db: DB): Promise<SegmentSpec | null> {
    for (const physnet of this.cfg.vlanRanges.keys()) {
      const got = await this.fromPool(db, physnet);
      if (got) return got;
    }
    return null;
  }

  private async fromPool(db: DB, physnet: string): Promise<SegmentSpec | null> {
    const id = await this.pool.allocateAny(db, physnet);
    return id === null ? null : { network_type: TYPE_VLAN, physical_network: physnet, segmentation_id: id };
  }

  async releaseSegment(db: DB, segment: SegmentSpec): Promise<void> {
    const { physical_network: physnet, segmentation_id: id } = segment;
    if (id === null || !physnet) return;
    await this.pool.release(db, id, this.cfg.vlanRanges.get(physnet) ?? [], physnet);
  }

  getMtu(physicalNetwork: string | null): number {
    return physnetMtu(this.cfg, physicalNetwork);
  }
}
