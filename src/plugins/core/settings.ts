// The configuration the core plugin reads, resolved once from the config file.
import { type Config, opt } from '../../config/load.js';

export interface CoreSettings {
  baseMac: string;
  macRetries: number;
  allowOverlappingIps: boolean;
  maxDnsNameservers: number;
  maxSubnetHostRoutes: number;
  maxAllowedAddressPairs: number;
  /** MTU of a new tenant network: the physical MTU less the tenant type's encapsulation. */
  maxTenantMtu: number;
}

/** Encapsulation overhead over IPv4, as Neutron's type drivers compute it. */
export function encapOverhead(type: string, geneveHeader: number): number {
  const ipHeader = 20;
  switch (type) {
    case 'vxlan':
      return 30 + ipHeader;
    case 'gre':
      return 22 + ipHeader;
    case 'geneve':
      return geneveHeader + ipHeader;
    default:
      return 0;
  }
}

export function coreSettings(cfg: Config): CoreSettings {
  const physical = opt.int(cfg, 'ml2', 'path_mtu') || opt.int(cfg, 'DEFAULT', 'global_physnet_mtu');
  const tenantType = opt.list(cfg, 'ml2', 'tenant_network_types')[0] ?? 'local';
  return {
    baseMac: opt.str(cfg, 'DEFAULT', 'base_mac'),
    macRetries: opt.int(cfg, 'DEFAULT', 'mac_generation_retries'),
    allowOverlappingIps: opt.bool(cfg, 'DEFAULT', 'allow_overlapping_ips'),
    maxDnsNameservers: opt.int(cfg, 'DEFAULT', 'max_dns_nameservers'),
    maxSubnetHostRoutes: opt.int(cfg, 'DEFAULT', 'max_subnet_host_routes'),
    maxAllowedAddressPairs: opt.int(cfg, 'DEFAULT', 'max_allowed_address_pair'),
    maxTenantMtu: physical - encapOverhead(tenantType, opt.int(cfg, 'ml2_type_geneve', 'max_header_size')),
  };
}
