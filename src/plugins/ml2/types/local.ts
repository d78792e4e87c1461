// local: a network confined to one host, nothing to allocate (Neutron's LocalTypeDriver).
import type { DB } from '../../../db/connection.js';
import { ml2Errors } from '../errors.js';
import { type SegmentSpec, TYPE_LOCAL, type TypeDriver } from '../segment.js';

export class LocalTypeDriver implements TypeDriver {
  getType(): string {
    return TYPE_LOCAL;
  }

  async initialize(_db: DB): Promise<void> {}

  isPartialSegment(_segment: SegmentSpec): boolean {
    return false;
  }

  validateProviderSegment(segment: SegmentSpec): void {
    if (segment.physical_network) throw ml2Errors.invalid('physical_network prohibited for local provider network');
    if (segment.segmentation_id) throw ml2Errors.invalid('segmentation_id prohibited for local provider network');
  }

  async reserveProviderSegment(_db: DB, _segment: SegmentSpec): Promise<SegmentSpec> {
    return { network_type: TYPE_LOCAL, physical_network: null, segmentation_id: null };
  }

  async allocateTenantSegment(_db: DB): Promise<SegmentSpec> {
    return { network_type: TYPE_LOCAL, physical_network: null, segmentation_id: null };
  }

  async releaseSegment(_db: DB, _segment: SegmentSpec): Promise<void> {}

  getMtu(_physicalNetwork: string | null): number {
    return 0;
  }
}
