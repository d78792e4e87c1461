// What one network's dnsmasq serves, computed from the server's view of the network (pure: no
// kernel, no files): the hosts file (MAC → address, host name), the additional hosts file (DNS
// names of the network's ports), the options file (router, DNS servers, host routes as classless
// static routes 121 and 249, each port's extra_dhcp_opts), the command line (one DHCP range per
// subnet, MTU, leases, RAs), the initial lease file, and a fingerprint per port so the agent knows
// whose entry changed. Formats and rules are Neutron's Dnsmasq driver's (neutron/agent/linux/dhcp.py).
// User strings (extra_dhcp_opts) only ever reach the options file, checked line by line.
import { isIPv4, isIPv6 } from 'node:net';
import type { DhcpNetwork, DhcpPort, DhcpSubnet } from '../../rpc/contract.js';
import { type DhcpRange, type DnsmasqOptions, dnsmasqArgv, valid } from '../../system/index.js';

export interface DhcpSettings {
  /** [DEFAULT] dns_domain: ports are `host-<ip>.<domain>`. */
  dnsDomain: string | null;
  /** [DEFAULT] dhcp_lease_duration, s (-1 infinite). */
  leaseDuration: number;
  /** [DEFAULT] dnsmasq_lease_max */
  leaseMax: number;
  dnsServers: string[];
  localResolv: boolean;
  renewalTime: number;
  rebindingTime: number;
  broadcast: boolean;
  /** [DEFAULT] dnsmasq_config_file ('' = none). */
  confFile: string;
}

export interface NetworkFiles {
  pidFile: string;
  hostsFile: string;
  addnHostsFile: string;
  optsFile: string;
  leaseFile: string;
  /** dnsmasq_base_log_dir's per-network log file, when set. */
  logFile?: string;
}

export interface DnsmasqConfig {
  hosts: string;
  addnHosts: string;
  opts: string;
  argv: string[];
  /** Ports whose host entries this configuration serves, with a fingerprint of what it serves them. */
  served: Map<string, string>;
  /** What was left out and why (an extra_dhcp_opts entry dnsmasq could not take …). */
  problems: string[];
}

const SLAAC = 'slaac';
const STATEFUL = 'dhcpv6-stateful';
const STATELESS = 'dhcpv6-stateless';
const DHCP_OPT_CLIENT_ID = ['client-id', '61'];
const METADATA_CIDR = '169.254.169.254/32';
/** Neutron's DHCP_CONFIG_NOT_REQUIRED_OWNERS. */
const NO_CONFIG_OWNERS = ['network:router_ha_interface', 'network:floatingip', 'network:dhcp', 'network:distributed'];
const ROUTER_INTERFACE_OWNERS = [
  'network:router_interface',
  'network:router_interface_distributed',
  'network:ha_router_replicated_interface',
];

export const needsDhcpConfig = (p: DhcpPort): boolean => !p.device_owner || !NO_CONFIG_OWNERS.includes(p.device_owner);

const prefixOf = (cidr: string) => Number(cidr.split('/')[1]);
const networkOf = (cidr: string) => cidr.split('/')[0];
const literal = (ip: string) => (isIPv6(ip) ? `[${ip}]` : ip);

/** A subnet whose gateway no router interface holds (Neutron's isolated subnet). */
export function isolatedSubnets(network: DhcpNetwork): Set<string> {
  const isolated = new Set(network.subnets.map((s) => s.id));
  for (const p of network.ports) {
    if (!ROUTER_INTERFACE_OWNERS.includes(p.device_owner)) continue;
    for (const f of p.fixed_ips) {
      const s = network.subnets.find((x) => x.id === f.subnet_id);
      if (s && s.gateway_ip === f.ip_address) isolated.delete(s.id);
    }
  }
  return isolated;
}

/** Whether dnsmasq sends RAs for a subnet: IPv6 with ipv6_ra_mode set and isolated — on a subnet
 * behind a router, the L3 agent's radvd sends them (Neutron's only source of RAs). */
export function sendsRa(s: DhcpSubnet, isolated: Set<string>): boolean {
  return s.ip_version === 6 && !!s.ipv6_ra_mode && isolated.has(s.id) && prefixOf(s.cidr) === 64;
}

/** The DHCP range of a subnet, or none (SLAAC without RAs, prefixes shorter than /64). */
export function rangeOf(s: DhcpSubnet, leaseSeconds: number, ra: boolean): DhcpRange | undefined {
  const tag = `subnet-${s.id}`;
  const base = { tag, network: networkOf(s.cidr), prefixlen: prefixOf(s.cidr), leaseSeconds };
  if (s.ip_version === 4) return { ...base, mode: 'static' };
  if (base.prefixlen < 64) return undefined;
  const addr = s.ipv6_address_mode;
  if (addr === SLAAC) return ra ? { ...base, mode: 'ra-only' } : undefined;
  if (addr === STATELESS && ra) return { ...base, mode: 'ra-stateless' };
  if (addr === STATEFUL || addr === STATELESS || (!addr && !s.ipv6_ra_mode)) return { ...base, mode: 'static' };
  return ra ? { ...base, mode: 'ra-only' } : undefined;
}

/** `host-<ip with dashes>` and its FQDN with the DNS domain. */
export function hostNames(ip: string, domain: string | null): { hostname: string; fqdn: string } {
  const hostname = `host-${ip.replace(/[.:]/g, '-')}`;
  return { hostname, fqdn: domain ? `${hostname}.${domain.replace(/\.$/, '')}` : hostname };
}

/** An option line for dnsmasq's options file (Neutron's _format_option): `tag:<tag>,[tag:<extra>,]`
 * `option:<name>|<number>|option6:<name-or-number>,<values>`. Throws on what dnsmasq would misread. */
export function formatOption(ipVersion: 4 | 6, tag: string, option: string, ...values: string[]): string {
  const m = /^(?:tag:([A-Za-z0-9_.-]+),)?([A-Za-z][A-Za-z0-9_-]*|\d{1,3})$/.exec(option);
  if (!m) throw new Error(`DHCP option name ${JSON.stringify(option)} is not a name or a number`);
  const [, extraTag, name] = m;
  const opt = ipVersion === 6 ? `option6:${name}` : /^\d+$/.test(name) ? name : `option:${name}`;
  for (const value of values) {
    // Neutron keeps what precedes a newline; anything else a line cannot hold is refused.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is checked
    if (/[\x00-\x1f\x7f]/.test(value)) throw new Error(`DHCP option ${name}: the value holds control characters`);
  }
  return [`tag:${tag}`, ...(extraTag ? [`tag:${extraTag}`] : []), opt, ...values].join(',');
}

/** The first line of an option value (Neutron keeps what precedes a newline). */
const firstLine = (value: string) => value.split('\n', 1)[0];

export function dnsmasqConfig(network: DhcpNetwork, iface: string, files: NetworkFiles, settings: DhcpSettings): DnsmasqConfig {
  const problems: string[] = [];
  const subnets = network.subnets.filter((s) => s.enable_dhcp);
  const byId = new Map(subnets.map((s) => [s.id, s]));
  const isolated = isolatedSubnets(network);
  const domain = settings.dnsDomain ? valid.dnsName(settings.dnsDomain) : null;
  const hosts: string[] = [];
  const addn: string[] = [];
  const served = new Map<string, string>();
  const ports = [...network.ports].sort((a, b) => a.id.localeCompare(b.id)).filter(needsDhcpConfig);

  for (const port of ports) {
    const mac = valid.mac(port.mac_address);
    const extra = (port.extra_dhcp_opts ?? []).filter((o) => o.opt_value !== null && o.opt_value !== undefined);
    const clientId = extra.find((o) => DHCP_OPT_CLIENT_ID.includes(String(o.opt_name)))?.opt_value;
    const portTag = `port-${port.id}`;
    const entries: string[] = [];
    // Stateless IPv6 entries first: dnsmasq reads the file backwards and would answer a DHCPv4
    // request from an address-less entry of the same MAC.
    const allocs = [...port.fixed_ips].sort((a, b) => {
      const st = (f: { subnet_id: string }) => (byId.get(f.subnet_id)?.ipv6_address_mode === STATELESS ? 0 : 1);
      return st(a) - st(b);
    });
    for (const alloc of allocs) {
      const s = byId.get(alloc.subnet_id);
      valid.ip(alloc.ip_address);
      const { hostname, fqdn } = hostNames(alloc.ip_address, domain);
      addn.push(`${alloc.ip_address}\t${fqdn} ${hostname}`);
      if (!s) continue; // a subnet without DHCP: a DNS name, no lease
      const v6 = s.ip_version === 6;
      const tag = v6 ? 'tag:dhcpv6,' : '';
      const mode = s.ipv6_address_mode;
      if (v6 && (mode === SLAAC || mode === STATELESS)) {
        // No address to hand out; stateless clients still get their options.
        if (mode === STATELESS && extra.length) entries.push(`${mac},${tag}set:${portTag}`);
        continue;
      }
      const ip = literal(alloc.ip_address);
      if (extra.length) {
        const id = clientId !== undefined ? safeClientId(clientId, problems, port.id) : undefined;
        if (id !== undefined && extra.length > 1) entries.push(`${mac},${tag}id:${id},${fqdn},${ip},set:${portTag}`);
        else if (id !== undefined) entries.push(`${mac},${tag}id:${id},${fqdn},${ip}`);
        else entries.push(`${mac},${tag}${fqdn},${ip},set:${portTag}`);
      } else entries.push(`${mac},${tag}${fqdn},${ip}`);
    }
    hosts.push(...entries);
    // Every port dnsmasq is configured for counts as served, SLAAC ones with no entry of their own
    // too (Neutron's agent reports them all ready after a reload).
    served.set(port.id, JSON.stringify([entries, extra, port.fixed_ips]));
  }

  const { options: perSubnet, withoutNameservers } = subnetOptions(subnets, isolated, domain);
  const opts = [...perSubnet, ...portOptions(network, ports, subnets, withoutNameservers, problems)];

  const ra = subnets.filter((s) => sendsRa(s, isolated));
  const raIds = new Set(ra.map((s) => s.id));
  const ranges = subnets
    .map((s) => rangeOf(s, settings.leaseDuration, raIds.has(s.id)))
    .filter((r): r is DhcpRange => r !== undefined);
  let possible = 0n;
  for (const r of ranges) if (r.mode !== 'ra-only') possible += 1n << BigInt((isIPv4(r.network) ? 32 : 128) - r.prefixlen);
  const leaseMax = Number(possible < BigInt(settings.leaseMax) ? possible : BigInt(settings.leaseMax));
  const dnsmasq: DnsmasqOptions = {
    ...files,
    interface: iface,
    ranges,
    mtu: network.mtu,
    leaseMax: Math.max(leaseMax, 1),
    renewalTime: settings.renewalTime,
    rebindingTime: settings.rebindingTime,
    dnsServers: settings.dnsServers,
    localResolv: settings.localResolv,
    domain,
    broadcast: settings.broadcast,
    routerAdvertisements: ra.length > 0,
    confFile: settings.confFile || undefined,
  };
  return { hosts: lines(hosts), addnHosts: lines(addn), opts: lines(opts), argv: dnsmasqArgv(dnsmasq), served, problems };
}

const lines = (list: string[]) => (list.length ? `${list.join('\n')}\n` : '');

function safeClientId(value: string, problems: string[], portId: string): string | undefined {
  if (/^[A-Za-z0-9:._-]{1,255}$/.test(value)) return value;
  problems.push(`port ${portId}: client-id ${JSON.stringify(value)} left out (not a plain identifier)`);
  return undefined;
}

/** Options per subnet (Neutron's _generate_opts_per_subnet); also the subnets without DNS servers. */
function subnetOptions(
  subnets: DhcpSubnet[],
  isolated: Set<string>,
  domain: string | null,
): { options: string[]; withoutNameservers: Set<string> } {
  const options: string[] = [];
  const withoutNameservers = new Set<string>();
  for (const s of subnets) {
    if (s.ip_version === 6 && s.ipv6_address_mode === SLAAC) continue;
    const tag = `subnet-${s.id}`;
    const v = s.ip_version;
    const dns = (s.dns_nameservers ?? []).filter((d) => valid.ip(d));
    if (dns.length) {
      const any = dns.length === 1 && (dns[0] === '0.0.0.0' || dns[0] === '::');
      options.push(any ? formatOption(v, tag, 'dns-server') : formatOption(v, tag, 'dns-server', ...dns.map(literal)));
    } else withoutNameservers.add(s.id);
    if (domain && v === 6) options.push(formatOption(v, tag, 'domain-search', domain));
    if (v !== 4) continue;
    let gateway = s.gateway_ip;
    const routes: string[] = [];
    for (const hr of s.host_routes ?? []) {
      valid.cidr(hr.destination);
      valid.ip(hr.nexthop);
      if (hr.destination === '0.0.0.0/0') gateway ??= hr.nexthop;
      else routes.push(`${hr.destination},${hr.nexthop}`);
    }
    // The metadata route through the router, on a subnet a router serves (Neutron's, without the
    // isolated-metadata proxy: that is not implemented).
    if (!isolated.has(s.id) && gateway) routes.push(`${METADATA_CIDR},${gateway}`);
    // The network's other IPv4 subnets are on-link.
    for (const o of subnets) if (o.ip_version === 4 && o.cidr !== s.cidr) routes.unshift(`${o.cidr},0.0.0.0`);
    if (routes.length) {
      if (gateway) routes.push(`0.0.0.0/0,${gateway}`);
      options.push(formatOption(4, tag, 'classless-static-route', routes.join(',')));
      options.push(formatOption(4, tag, '249', routes.join(',')));
    }
    options.push(gateway ? formatOption(4, tag, 'router', valid.ip(gateway)) : formatOption(4, tag, 'router'));
  }
  return { options, withoutNameservers };
}

/** Each port's extra_dhcp_opts, and every DHCP server's address as DNS server of subnets without
 * their own when several agents serve the network (Neutron's _generate_opts_per_port). */
function portOptions(
  network: DhcpNetwork,
  ports: DhcpPort[],
  subnets: DhcpSubnet[],
  withoutNameservers: Set<string>,
  problems: string[],
): string[] {
  const options: string[] = [];
  for (const port of ports) {
    const versions = new Set(port.fixed_ips.map((f) => (isIPv6(f.ip_address) ? 6 : 4)));
    for (const o of port.extra_dhcp_opts ?? []) {
      if (o.opt_value === null || o.opt_value === undefined) continue;
      if (DHCP_OPT_CLIENT_ID.includes(String(o.opt_name))) continue;
      const version = Number(o.ip_version ?? 4) === 6 ? 6 : 4;
      if (!versions.has(version)) continue;
      try {
        options.push(formatOption(version, `port-${port.id}`, String(o.opt_name), firstLine(String(o.opt_value))));
      } catch (err) {
        problems.push(`port ${port.id}: extra_dhcp_opts ${(err as Error).message}; left out`);
      }
    }
  }
  const dhcpIps = new Map<string, string[]>();
  for (const port of network.ports) {
    if (port.device_owner !== 'network:dhcp') continue;
    for (const f of port.fixed_ips) {
      if (!withoutNameservers.has(f.subnet_id)) continue;
      dhcpIps.set(f.subnet_id, [...(dhcpIps.get(f.subnet_id) ?? []), f.ip_address]);
    }
  }
  for (const [subnetId, ips] of dhcpIps) {
    const s = subnets.find((x) => x.id === subnetId);
    if (!s || ips.length < 2) continue;
    options.push(formatOption(s.ip_version, `subnet-${subnetId}`, 'dns-server', ...ips.map(literal)));
  }
  return options;
}

/** The lease file dnsmasq starts with (Neutron's _output_init_lease_file): every IPv4 host entry as
 * a lease that never expires (so a client renewing after a restart or a failover is not refused),
 * and the IPv6 leases and DUID of the file as it was (their IAIDs cannot be made up). */
export function initialLeases(network: DhcpNetwork, existing: string | undefined): string {
  const subnets = network.subnets.filter((s) => s.enable_dhcp);
  const v4 = new Set(subnets.filter((s) => s.ip_version === 4).map((s) => s.id));
  const v6 = new Map(subnets.filter((s) => s.ip_version === 6).map((s) => [s.id, s]));
  const kept = new Map<string, string>();
  const out: string[] = [];
  for (const line of (existing ?? '').split('\n')) {
    if (line.startsWith('duid ')) out.push(line);
    const parts = line.split(' ');
    if (parts.length === 5 && isIPv6(parts[2])) kept.set(parts[2], line);
  }
  for (const port of network.ports.filter(needsDhcpConfig)) {
    for (const f of port.fixed_ips) {
      if (v4.has(f.subnet_id)) out.push(`0 ${valid.mac(port.mac_address)} ${valid.ip(f.ip_address)} * *`);
      else if (v6.get(f.subnet_id)?.ipv6_address_mode === STATEFUL && kept.has(f.ip_address)) {
        out.push(kept.get(f.ip_address) as string);
      }
    }
  }
  return lines(out);
}
