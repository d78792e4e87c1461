// geneve: like VXLAN with extensible option headers, so its overhead is configured
// ([ml2_type_geneve] max_header_size) rather than fixed (ml2_geneve_allocations).
import type { Store } from '../../../db/store.js';
import type { Ml2Config } from '../config.js';
import { TYPE_GENEVE } from '../segment.js';
import { TunnelTypeDriver } from './tunnel.js';

export const GENEVE_TABLE = 'ml2_geneve_allocations';

export class GeneveTypeDriver extends TunnelTypeDriver {
  constructor(cfg: Ml2Config, store: Store) {
    super(cfg, store, TYPE_GENEVE, GENEVE_TABLE, 'geneve_vni');
  }

  protected encapOverhead(): number {
    return this.cfg.geneveMaxHeaderSize;
  }
}
