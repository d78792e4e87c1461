// The configuration the core plugin reads, resolved once from the config file.
import { type Config, opt } from '../../config/load.js';

export interface CoreSettings {
  baseMac: string;
  macRetries: number;
  allowOverlappingIps: boolean;
  maxDnsNameservers: number;
  maxSubnetHostRoutes: number;
  maxAllowedAddressPairs: number;
}

export function coreSettings(cfg: Config): CoreSettings {
  return {
    baseMac: opt.str(cfg, 'DEFAULT', 'base_mac'),
    macRetries: opt.int(cfg, 'DEFAULT', 'mac_generation_retries'),
    allowOverlappingIps: opt.bool(cfg, 'DEFAULT', 'allow_overlapping_ips'),
    maxDnsNameservers: opt.int(cfg, 'DEFAULT', 'max_dns_nameservers'),
    maxSubnetHostRoutes: opt.int(cfg, 'DEFAULT', 'max_subnet_host_routes'),
    maxAllowedAddressPairs: opt.int(cfg, 'DEFAULT', 'max_allowed_address_pair'),
  };
}
