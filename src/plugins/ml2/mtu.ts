// The MTU a segment allows, as Neutron's type drivers compute it: the smallest of the configured
// physical MTUs, less the encapsulation of overlays. 0 means "no limit from this segment".
import type { Ml2Config } from './config.js';

/** IPv4 and IPv6 header lengths (neutron-lib's IP_HEADER_LENGTH). */
export const IP_HEADER_LENGTH = { 4: 20, 6: 40 } as const;

/** Flat and VLAN segments: global_physnet_mtu, or the physical network's own MTU if smaller. */
export function physnetMtu(cfg: Ml2Config, physnet: string | null): number {
  const mtus = [cfg.globalPhysnetMtu, (physnet && cfg.physnetMtus.get(physnet)) || 0].filter((m) => m > 0);
  return mtus.length ? Math.min(...mtus) : 0;
}

/** Tunnel segments: the underlay MTU (global_physnet_mtu, path_mtu if smaller) less the outer IP
 * header of overlay_ip_version and the tunnel's own header. */
export function overlayMtu(cfg: Ml2Config, encapOverhead: number): number {
  const mtus = [cfg.globalPhysnetMtu, cfg.pathMtu].filter((m) => m > 0);
  if (mtus.length === 0) return 0;
  return Math.min(...mtus) - IP_HEADER_LENGTH[cfg.overlayIpVersion] - encapOverhead;
}
