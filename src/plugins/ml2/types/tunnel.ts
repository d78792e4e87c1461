// What the tunnel types (vxlan, gre, geneve) share: an id per network from the configured ranges
// (tenant networks) or any valid id (provider networks), no physical network, and an MTU of the
// underlay less the tunnel's headers (Neutron's ML2TunnelTypeDriver).
import type { DB } from '../../../db/connection.js';
import type { Store } from '../../../db/store.js';
import { AllocationPool } from '../allocations.js';
import type { IdRange, Ml2Config } from '../config.js';
import { ml2Errors } from '../errors.js';
import { overlayMtu } from '../mtu.js';
import { ID_SPACE, type SegmentSpec, type TypeDriver } from '../segment.js';

export abstract class TunnelTypeDriver implements TypeDriver {
  protected readonly pool: AllocationPool;

  constructor(
    protected readonly cfg: Ml2Config,
    store: Store,
    private readonly type: 'vxlan' | 'gre' | 'geneve',
    table: string,
    idColumn: string,
  ) {
    this.pool = new AllocationPool(store, { table, idColumn });
  }

  /** The tunnel's own header, on top of the outer IP header. */
  protected abstract encapOverhead(): number;

  getType(): string {
    return this.type;
  }

  get ranges(): IdRange[] {
    return this.cfg.tunnelRanges[this.type];
  }

  async initialize(db: DB): Promise<void> {
    await this.pool.sync(db, this.ranges);
  }

  isPartialSegment(segment: SegmentSpec): boolean {
    return segment.segmentation_id === null;
  }

  validateProviderSegment(segment: SegmentSpec): void {
    if (segment.physical_network) {
      throw ml2Errors.invalid(`provider:physical_network specified for ${this.type} network`);
    }
    // Neutron takes any integer here; an id the wire format cannot carry is refused instead.
    const id = segment.segmentation_id;
    const [min, max] = ID_SPACE[this.type];
    if (id !== null && (id < min || id > max)) throw ml2Errors.invalid(`segmentation_id out of range (${min} through ${max})`);
  }

  async reserveProviderSegment(db: DB, segment: SegmentSpec): Promise<SegmentSpec> {
    const id = segment.segmentation_id;
    if (id === null) {
      const got = await this.allocateTenantSegment(db);
      if (!got) throw ml2Errors.noNetworkAvailable();
      return got;
    }
    if (!(await this.pool.allocate(db, id))) throw ml2Errors.tunnelIdInUse(id);
    return this.spec(id);
  }

  async allocateTenantSegment(db: DB): Promise<SegmentSpec | null> {
    const id = await this.pool.allocateAny(db);
    return id === null ? null : this.spec(id);
  }

  async releaseSegment(db: DB, segment: SegmentSpec): Promise<void> {
    if (segment.segmentation_id !== null) await this.pool.release(db, segment.segmentation_id, this.ranges);
  }

  getMtu(_physicalNetwork: string | null): number {
    return Math.max(overlayMtu(this.cfg, this.encapOverhead()), 0);
  }

  private spec(id: number): SegmentSpec {
    return { network_type: this.type, physical_network: null, segmentation_id: id };
  }
}
