// Converters of the security-group extension (neutron's extensions/securitygroup.py): they raise
// the extension's own errors rather than a generic InvalidInput.
import { NeutronError } from '../common/errors.js';
import { formatCidr, parseCidr, parseIp } from '../ipam/address.js';

/** Protocol names Neutron accepts in rules (neutron-lib's IP_PROTOCOL_MAP keys). */
export const SG_PROTOCOLS: Record<string, number> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ip: 0,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};

const invalidProtocol = (v: unknown) =>
  new NeutronError(
    'SecurityGroupRuleInvalidProtocol',
    400,
    `Security group rule protocol ${String(v)} not supported. Only protocol values [${Object.keys(SG_PROTOCOLS)
      .map((p) => `'${p}'`)
      .join(', ')}] and integer representations [0 to 255] are supported.`,
  );

export function convertSgProtocol(v: unknown): unknown {
  if (v === null || v === undefined || v === '' || v === 'any') return null;
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) {
    const n = Number(v);
    if (Number.isInteger(n) && n >= 0 && n <= 255) return String(n);
    throw invalidProtocol(v);
  }
  if (typeof v === 'string' && v.toLowerCase() in SG_PROTOCOLS) return v.toLowerCase();
  throw invalidProtocol(v);
}

export function convertValidatePortValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535) return n;
  throw new NeutronError('SecurityGroupInvalidPortValue', 400, `Invalid value for port ${String(v)}.`);
}

export function convertEthertype(v: unknown): unknown {
  if (typeof v === 'string') {
    for (const e of ['IPv4', 'IPv6']) if (v.toLowerCase() === e.toLowerCase()) return e;
  }
  throw new NeutronError(
    'SecurityGroupRuleInvalidEtherType',
    400,
    `Security group rule for ethertype '${String(v)}' not supported. Allowed values are ['IPv4', 'IPv6'].`,
  );
}

/** A bare address is a host prefix; anything else must be a CIDR. */
export function convertIpPrefixToCidr(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    const ip = parseIp(v);
    if (ip) return formatCidr(ip.version, ip.value, ip.version === 4 ? 32 : 128);
    const c = parseCidr(v);
    if (c) return v.includes(':') ? `${formatCidr(c.version, c.ip, c.prefixlen)}` : v;
  }
  throw new NeutronError('InvalidCIDR', 400, `Invalid CIDR ${String(v)} for IP prefix.`);
}

export const securityGroupConverters = {
  convert_sg_protocol: convertSgProtocol,
  convert_validate_port_value: convertValidatePortValue,
  convert_ethertype_to_case_insensitive: convertEthertype,
  convert_ip_prefix_to_cidr: convertIpPrefixToCidr,
};
