// gre: GRE-encapsulated Ethernet keyed by a 32-bit tunnel id (ml2_gre_allocations).
import type { Store } from '../../../db/store.js';
import type { Ml2Config } from '../config.js';
import { TYPE_GRE } from '../segment.js';
import { TunnelTypeDriver } from './tunnel.js';

export const GRE_TABLE = 'ml2_gre_allocations';

/** GRE with key 8 + inner Ethernet 14 (neutron-lib's GRE_ENCAP_OVERHEAD). */
export const GRE_ENCAP_OVERHEAD = 22;

export class GreTypeDriver extends TunnelTypeDriver {
  constructor(cfg: Ml2Config, store: Store) {
    super(cfg, store, TYPE_GRE, GRE_TABLE, 'gre_id');
  }

  protected encapOverhead(): number {
    return GRE_ENCAP_OVERHEAD;
  }
}
