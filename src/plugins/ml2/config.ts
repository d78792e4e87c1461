// ML2's configuration ([ml2] and [ml2_type_*]), parsed and checked once at startup: a bad range
// or an unknown type stops the server with a ConfigError naming the option, as Neutron exits.
import { type Config, ConfigError, opt } from '../../config/load.js';
import { ID_SPACE, TYPE_FLAT, TYPE_GENEVE, TYPE_GRE, TYPE_LOCAL, TYPE_VLAN, TYPE_VXLAN } from './segment.js';

export interface IdRange {
  min: number;
  max: number;
}

export interface Ml2Config {
  typeDrivers: string[];
  tenantNetworkTypes: string[];
  externalNetworkType: string | null;
  globalPhysnetMtu: number;
  pathMtu: number;
  physnetMtus: Map<string, number>;
  overlayIpVersion: 4 | 6;
  /** Physical networks flat networks may use; null = any ('*'). */
  flatNetworks: string[] | null;
  vlanRanges: Map<string, IdRange[]>;
  tunnelRanges: Record<'vxlan' | 'gre' | 'geneve', IdRange[]>;
  geneveMaxHeaderSize: number;
}

export const KNOWN_TYPES = [TYPE_LOCAL, TYPE_FLAT, TYPE_VLAN, TYPE_GRE, TYPE_VXLAN, TYPE_GENEVE];

const INT_RE = /^\s*[+-]?\d+\s*$/;

/** `<min>:<max>` entries of a tunnel type ([ml2_type_vxlan] vni_ranges …). */
export function parseTunnelRanges(entries: string[], type: string, where: string): IdRange[] {
  const [lo, hi] = ID_SPACE[type];
  return entries.map((raw) => {
    const entry = raw.trim();
    const bad = (why: string) => new ConfigError(`${where}: invalid network tunnel range '${entry}' - ${why}`);
    const parts = entry.split(':');
    if (parts.length !== 2 || !parts.every((p) => INT_RE.test(p))) throw bad('expected <min>:<max> integers');
    const [min, max] = parts.map(Number);
    for (const id of [min, max]) if (id < lo || id > hi) throw bad(`${id} is not a valid ${type} identifier (${lo}-${hi})`);
    if (max < min) throw bad('end of tunnel range is less than start of tunnel range');
    return { min, max };
  });
}

/** `<physnet>[:<vlan_min>:<vlan_max>]` entries; a bare physnet offers every VLAN id (1–4094),
 * as neutron-lib reads it. Physical networks keep the order they are first named in. */
export function parseVlanRanges(entries: string[], where = '[ml2_type_vlan] network_vlan_ranges'): Map<string, IdRange[]> {
  const [lo, hi] = ID_SPACE[TYPE_VLAN];
  const out = new Map<string, IdRange[]>();
  const full = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim();
    const bad = (why: string) => new ConfigError(`${where}: invalid network VLAN range '${entry}' - ${why}`);
    const parts = entry.split(':');
    const physnet = parts[0].trim();
    if (!physnet) throw new ConfigError(`${where}: '${entry}' has an empty physical network name`);
    if (parts.length === 1) {
      out.set(physnet, [{ min: lo, max: hi }]);
      full.add(physnet);
      continue;
    }
    if (parts.length !== 3) throw bad('need exactly two values for VLAN range');
    for (const p of parts.slice(1)) if (!INT_RE.test(p)) throw bad(`${p.trim()} is not a valid VLAN tag`);
    const [min, max] = parts.slice(1).map(Number);
    for (const tag of [min, max]) if (tag < lo || tag > hi) throw bad(`${tag} is not a valid VLAN tag`);
    if (max < min) throw bad('end of VLAN range is less than start of VLAN range');
    if (full.has(physnet)) continue;
    out.set(physnet, [...(out.get(physnet) ?? []), { min, max }]);
  }
  return out;
}

/** `<physnet>:<mtu>` mappings ([ml2] physical_network_mtus). */
export function parsePhysnetMtus(entries: string[], where = '[ml2] physical_network_mtus'): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of entries) {
    const entry = raw.trim();
    const i = entry.lastIndexOf(':');
    const physnet = i > 0 ? entry.slice(0, i).trim() : '';
    const mtu = i > 0 ? entry.slice(i + 1) : '';
    if (!physnet || !INT_RE.test(mtu) || Number(mtu) < 68) {
      throw new ConfigError(`${where}: '${entry}' is not a <physical_network>:<mtu> mapping with an MTU of at least 68`);
    }
    if (out.has(physnet)) throw new ConfigError(`${where}: physical network '${physnet}' is mapped twice`);
    out.set(physnet, Number(mtu));
  }
  return out;
}

export function ml2Config(cfg: Config): Ml2Config {
  const typeDrivers = [...new Set(opt.list(cfg, 'ml2', 'type_drivers'))];
  for (const t of typeDrivers) {
    if (!KNOWN_TYPES.includes(t)) {
      throw new ConfigError(`[ml2] type_drivers: unknown type driver '${t}' (known: ${KNOWN_TYPES.join(', ')})`);
    }
  }
  const tenantNetworkTypes = opt.list(cfg, 'ml2', 'tenant_network_types');
  for (const t of tenantNetworkTypes) {
    if (!typeDrivers.includes(t)) throw new ConfigError(`[ml2] tenant_network_types: no type driver for '${t}' in type_drivers`);
  }
  const externalNetworkType = opt.strOrNull(cfg, 'ml2', 'external_network_type') || null;
  if (externalNetworkType && !typeDrivers.includes(externalNetworkType)) {
    throw new ConfigError(`[ml2] external_network_type: no type driver for '${externalNetworkType}' in type_drivers`);
  }
  const flat = opt.list(cfg, 'ml2_type_flat', 'flat_networks').map((s) => s.trim());
  return {
    typeDrivers,
    tenantNetworkTypes,
    externalNetworkType,
    globalPhysnetMtu: opt.int(cfg, 'DEFAULT', 'global_physnet_mtu'),
    pathMtu: opt.int(cfg, 'ml2', 'path_mtu'),
    physnetMtus: parsePhysnetMtus(opt.list(cfg, 'ml2', 'physical_network_mtus')),
    overlayIpVersion: opt.int(cfg, 'ml2', 'overlay_ip_version') === 6 ? 6 : 4,
    flatNetworks: flat.includes('*') ? null : flat,
    vlanRanges: parseVlanRanges(opt.list(cfg, 'ml2_type_vlan', 'network_vlan_ranges')),
    tunnelRanges: {
      vxlan: parseTunnelRanges(opt.list(cfg, 'ml2_type_vxlan', 'vni_ranges'), TYPE_VXLAN, '[ml2_type_vxlan] vni_ranges'),
      gre: parseTunnelRanges(opt.list(cfg, 'ml2_type_gre', 'tunnel_id_ranges'), TYPE_GRE, '[ml2_type_gre] tunnel_id_ranges'),
      geneve: parseTunnelRanges(opt.list(cfg, 'ml2_type_geneve', 'vni_ranges'), TYPE_GENEVE, '[ml2_type_geneve] vni_ranges'),
    },
    geneveMaxHeaderSize: opt.int(cfg, 'ml2_type_geneve', 'max_header_size'),
  };
}
