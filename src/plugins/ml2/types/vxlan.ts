// vxlan: UDP-encapsulated Ethernet, 24-bit VNIs (ml2_vxlan_allocations).
import type { Store } from '../../../db/store.js';
import type { Ml2Config } from '../config.js';
import { TYPE_VXLAN } from '../segment.js';
import { TunnelTypeDriver } from './tunnel.js';

export const VXLAN_TABLE = 'ml2_vxlan_allocations';

/** UDP 8 + VXLAN 8 + inner Ethernet 14 (neutron-lib's VXLAN_ENCAP_OVERHEAD). */
export const VXLAN_ENCAP_OVERHEAD = 30;

export class VxlanTypeDriver extends TunnelTypeDriver {
  constructor(cfg: Ml2Config, store: Store) {
    super(cfg, store, TYPE_VXLAN, VXLAN_TABLE, 'vxlan_vni');
  }

  protected encapOverhead(): number {
    return VXLAN_ENCAP_OVERHEAD;
  }
}
