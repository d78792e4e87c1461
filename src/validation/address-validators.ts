// neutron-lib's validators of addresses: MAC, IP, subnets and routes, allocation pools, fixed IPs,
// nameservers, host routes, and allowed address pairs (which raise NeutronErrors, as neutron-lib's do).
import { badRequest, errors, NeutronError } from '../common/errors.js';
import { type Cidr, formatCidr, formatIp, parseCidr, parseIp, prefixMask } from '../ipam/address.js';
import { isMulticastMac, parseMac } from '../ipam/mac.js';
import { orNone, q, validateUuid, verifyDictKeys } from './basic-validators.js';
import { isDict, pyEquals, pyHasSpace, pyIn, pyInt, pyStr } from './python.js';

// --- addresses -------------------------------------------------------------------

export function validateMacAddress(data: unknown): string | null {
  const bad = `${q(data)} is not a valid MAC address`;
  if (typeof data !== 'string' || pyHasSpace(data)) return bad;
  const v = parseMac(data);
  return v === null || v === 0n || v === 0xffffffffffffn ? bad : null;
}

export function validateIpAddress(data: unknown): string | null {
  const bad = `${q(data)} is not a valid IP address`;
  if (typeof data !== 'string' || pyHasSpace(data)) return bad;
  if (data.includes(':')) return parseIp(data) ? null : bad;
  // IPv4 is parsed with leading zeros filled away, then refused with a hint when the text
  // differs from the canonical form (leading zeros are octal to some parsers).
  const parts = data.split('.');
  if (parts.length !== 4) return bad;
  const octets = parts.map(pyInt);
  if (octets.some((o) => o === null)) return bad;
  const canonical = octets.join('.');
  const ip = parseIp(canonical);
  if (ip?.version !== 4) return bad;
  return canonical === data ? null : `'${data}' is not an accepted IP address, '${canonical}' is recommended`;
}

/** A CIDR netaddr would parse, with '/' present. */
function looseCidr(data: unknown): Cidr | null {
  if (typeof data !== 'string' || pyHasSpace(data) || !data.includes('/')) return null;
  return parseCidr(data, { loose: true });
}

export function validateSubnet(data: unknown): string | null {
  const net = looseCidr(data);
  // IPv4 must also be written canonically (netaddr >= 1.0 strictness, enforced by hand).
  if (net && (net.version === 6 || formatCidr(4, net.ip, net.prefixlen) === data)) return null;
  // A bare address: neutron-lib recommends its host prefix.
  const ip = typeof data === 'string' && !data.includes('/') && !pyHasSpace(data) ? parseIp(data) : null;
  if (ip) return `${q(data)} isn't a recognized IP subnet cidr, '${data}/${ip.version === 4 ? 32 : 128}' is recommended`;
  return `${q(data)} is not a valid IP subnet`;
}

/** A route destination: no host bits, not loopback. */
export function validateRouteCidr(data: unknown): string | null {
  const net = looseCidr(data);
  if (!net || net.network !== net.ip) return `${q(data)} is not a valid CIDR`;
  const loopback =
    net.version === 4 ? net.prefixlen >= 8 && net.network >> 24n === 127n : net.prefixlen === 128 && net.network === 1n;
  return loopback ? `${q(data)} is not a routable CIDR` : null;
}

export function validateIpOrSubnetOrNone(data: unknown): string | null {
  if (orNone(validateIpAddress)(data) !== null && orNone(validateSubnet)(data) !== null) {
    return `'${pyStr(data)}' is neither a valid IP address, nor is it a valid IP subnet`;
  }
  return null;
}

export function validateIpPools(data: unknown): string | null {
  if (!Array.isArray(data)) return `Invalid data format for IP pool: ${q(data)}`;
  for (const pool of data) {
    const msg = verifyDictKeys(['start', 'end'], pool);
    if (msg) return msg;
    for (const k of ['start', 'end']) {
      const m = validateIpAddress((pool as Record<string, unknown>)[k]);
      if (m) return m;
    }
  }
  return null;
}

export function validateFixedIps(data: unknown): string | null {
  if (!Array.isArray(data)) return `Invalid data format for fixed IP: ${q(data)}`;
  const ips: unknown[] = [];
  for (const fixed of data) {
    if (!isDict(fixed)) return `Invalid data format for fixed IP: ${q(fixed)}`;
    if ('ip_address' in fixed) {
      // Duplicate subnet_ids are legitimate (two IPs from one subnet); duplicate IPs are not.
      const ip = fixed.ip_address;
      const msg = pyIn(ip, ips) ? `Duplicate IP address ${q(ip)}` : validateIpAddress(ip);
      if (msg) return msg;
      ips.push(ip);
    }
    if ('subnet_id' in fixed) {
      const msg = validateUuid(fixed.subnet_id);
      if (msg) return msg;
    }
  }
  return null;
}

export function validateNameservers(data: unknown): string | null {
  // Anything iterable passes the type check in Python: strings iterate characters, dicts keys.
  let items: unknown[];
  if (Array.isArray(data)) items = data;
  else if (typeof data === 'string') items = [...data];
  else if (isDict(data)) items = Object.keys(data);
  else return `Invalid data format for nameserver: ${q(data)}`;
  const hosts: unknown[] = [];
  for (const host of items) {
    const msg = validateIpAddress(host);
    if (msg) return `${q(host)} is not a valid nameserver. ${msg}`;
    if (pyIn(host, hosts)) return `Duplicate nameserver ${q(host)}`;
    hosts.push(host);
  }
  return null;
}

export function validateHostroutes(data: unknown): string | null {
  if (!Array.isArray(data)) return `Invalid data format for hostroute: ${q(data)}`;
  const seen: unknown[] = [];
  for (const route of data) {
    const msg =
      verifyDictKeys(['destination', 'nexthop'], route) ??
      validateRouteCidr((route as Record<string, unknown>).destination) ??
      validateIpAddress((route as Record<string, unknown>).nexthop);
    if (msg) return msg;
    if (pyIn(route, seen)) return `Duplicate hostroute ${q(route)}`;
    seen.push(route);
  }
  return null;
}

// --- allowed address pairs (raises like neutron-lib's validator) -------------------------

export const DEFAULT_MAX_ALLOWED_ADDRESS_PAIR = 10;

function ipNotMulticast(ip: string): string | null {
  const a = parseIp(ip);
  const mcast = a && (a.version === 4 ? a.value >> 28n === 0xen : a.value >> 120n === 0xffn);
  return mcast ? `IP ${ip} is a multicast address, which is not supported.` : null;
}

function subnetNotMulticast(cidr: string): string | null {
  const net = parseCidr(cidr, { loose: true });
  // Any IPv4 /0 equals 0.0.0.0/0 to netaddr and is let through; ::/0 is not.
  if (!net || (net.version === 4 && net.prefixlen === 0)) return null;
  const [mNet, mLen] = net.version === 4 ? [0xe0000000n, 4] : [0xffn << 120n, 8];
  const len = Math.min(net.prefixlen, mLen);
  const mask = prefixMask(net.version, len);
  if ((net.ip & mask) !== (mNet & mask)) return null;
  const shown = `${formatIp(net.version, net.ip)}/${net.prefixlen}`;
  return `Subnet ${shown} overlaps with multicast range ${net.version === 4 ? '224.0.0.0/4' : 'ff00::/8'}, which is not supported.`;
}

/** arg: the max_allowed_address_pair option (default 10). */
export function validateAllowedAddressPairs(data: unknown, arg?: unknown): string | null {
  const max = typeof arg === 'number' ? arg : DEFAULT_MAX_ALLOWED_ADDRESS_PAIR;
  if (!Array.isArray(data)) throw badRequest('Allowed address pairs must be a list.');
  if (data.length > max) throw errors.allowedAddressPairExhausted(max);
  const seen: Array<[unknown, unknown]> = [];
  for (const pair of data) {
    if (!isDict(pair)) return `${q(pair)} is not a dictionary`;
    const p = pair as Record<string, unknown>;
    if ('mac_address' in p) {
      const m = validateMacAddress(p.mac_address);
      if (m) throw badRequest(m);
    }
    if (!('ip_address' in p))
      throw new NeutronError('AllowedAddressPairsMissingIP', 400, 'AllowedAddressPair must contain ip_address');
    const mac = p.mac_address ?? null;
    const ip = p.ip_address;
    if (seen.some(([m, i]) => pyEquals(m, mac) && pyEquals(i, ip))) {
      throw new NeutronError(
        'DuplicateAddressPairInRequest',
        400,
        `Request contains duplicate address pair: mac_address ${pyStr(mac)} ip_address ${pyStr(ip)}.`,
      );
    }
    seen.push([mac, ip]);
    const extra = Object.keys(p).filter((k) => k !== 'mac_address' && k !== 'ip_address');
    if (extra.length) throw badRequest(`Unrecognized attribute(s) '${extra.join(', ')}'`);
    const isNet = typeof ip === 'string' && ip.includes('/');
    const m = isNet ? validateSubnet(ip) : validateIpAddress(ip);
    if (m) throw badRequest(m);
    const mc = isNet ? subnetNotMulticast(ip as string) : ipNotMulticast(ip as string);
    if (mc) throw badRequest(mc);
    if (mac !== null && isMulticastMac(mac as string)) {
      throw badRequest(`MAC address ${pyStr(mac)} is a multicast address, which is not supported.`);
    }
  }
  return null;
}
