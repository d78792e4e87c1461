// The vocabulary of ML2's type layer: segments, and the contract every type driver implements
// (neutron-lib's ML2TypeDriver).
import type { DB } from '../../db/connection.js';

/** A network segment as stored: one L2 domain a network maps onto. */
export interface Segment {
  id: string;
  network_id: string;
  network_type: string;
  physical_network: string | null;
  segmentation_id: number | null;
}

/** A segment being validated or reserved: what a provider request or a tenant allocation names. */
export interface SegmentSpec {
  network_type: string;
  physical_network: string | null;
  segmentation_id: number | null;
}

export const TYPE_LOCAL = 'local';
export const TYPE_FLAT = 'flat';
export const TYPE_VLAN = 'vlan';
export const TYPE_GRE = 'gre';
export const TYPE_VXLAN = 'vxlan';
export const TYPE_GENEVE = 'geneve';

/** Valid segmentation ids of each type (neutron-lib's constants). */
export const ID_SPACE: Record<string, readonly [number, number]> = {
  [TYPE_VLAN]: [1, 4094],
  [TYPE_VXLAN]: [1, 2 ** 24 - 1],
  [TYPE_GENEVE]: [1, 2 ** 24 - 1],
  [TYPE_GRE]: [1, 2 ** 32 - 1],
};

export interface TypeDriver {
  /** The network_type this driver serves. */
  getType(): string;
  /** Brings the driver's allocation table in line with its configured ranges. */
  initialize(db: DB): Promise<void>;
  /** Whether the pool still has to pick part of it (e.g. the VLAN id). */
  isPartialSegment(segment: SegmentSpec): boolean;
  /** Throws InvalidInput when a provider segment is not acceptable for this type. */
  validateProviderSegment(segment: SegmentSpec): void;
  /** Takes a validated provider segment (picking what is partial) inside the caller's
   * transaction; throws the type's InUse error or NoNetworkAvailable. */
  reserveProviderSegment(db: DB, segment: SegmentSpec): Promise<SegmentSpec>;
  /** A segment for a tenant network, or null when this type has none left. */
  allocateTenantSegment(db: DB): Promise<SegmentSpec | null>;
  /** Gives back what reserve/allocate took. */
  releaseSegment(db: DB, segment: SegmentSpec): Promise<void>;
  /** The largest MTU a network on this segment can have; 0 when the type sets no limit. */
  getMtu(physicalNetwork: string | null): number;
}
