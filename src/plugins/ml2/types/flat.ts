// flat: a whole physical network, untagged, for at most one network at a time
// (ml2_flat_allocations: one row per physical network in use).
import type { DB } from '../../../db/connection.js';
import type { Ml2Config } from '../config.js';
import { ml2Errors } from '../errors.js';
import { physnetMtu } from '../mtu.js';
import { type SegmentSpec, TYPE_FLAT, type TypeDriver } from '../segment.js';

export const FLAT_TABLE = 'ml2_flat_allocations';

export class FlatTypeDriver implements TypeDriver {
  constructor(private readonly cfg: Ml2Config) {}

  getType(): string {
    return TYPE_FLAT;
  }

  async initialize(_db: DB): Promise<void> {}

  isPartialSegment(_segment: SegmentSpec): boolean {
    return false;
  }

  validateProviderSegment(segment: SegmentSpec): void {
    const physnet = segment.physical_network;
    const allowed = this.cfg.flatNetworks;
    if (!physnet) throw ml2Errors.invalid('physical_network required for flat provider network');
    if (allowed !== null && allowed.length === 0) throw ml2Errors.invalid('Flat provider networks are disabled');
    if (allowed !== null && !allowed.includes(physnet)) {
      throw ml2Errors.invalid(`physical_network '${physnet}' unknown for flat provider network`);
    }
    if (segment.segmentation_id) throw ml2Errors.invalid('segmentation_id prohibited for flat provider network');
  }

  async reserveProviderSegment(db: DB, segment: SegmentSpec): Promise<SegmentSpec> {
    const physnet = segment.physical_network as string;
    // The primary key decides between concurrent creates on one physical network.
    const r = await db
      .insertInto(FLAT_TABLE)
      .values({ physical_network: physnet })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) !== 1) throw ml2Errors.flatNetworkInUse(physnet);
    return { network_type: TYPE_FLAT, physical_network: physnet, segmentation_id: null };
  }

  /** Tenant networks are never flat. */
  async allocateTenantSegment(_db: DB): Promise<null> {
    return null;
  }

  async releaseSegment(db: DB, segment: SegmentSpec): Promise<void> {
    await db.deleteFrom(FLAT_TABLE).where('physical_network', '=', segment.physical_network).execute();
  }

  getMtu(physicalNetwork: string | null): number {
    return physnetMtu(this.cfg, physicalNetwork);
  }
}
