// dnsmasq's command line, as Neutron's DHCP agent runs it: static allocations only (from a hosts
// file), options from an options file, DNS names from an additional hosts file, a lease file, and
// a DHCP range per subnet that only tags clients for those files. Every value is checked here; the
// files' content is the agent's business (src/agents/dhcp/config.ts), and reaches dnsmasq through
// SIGHUP, never through its command line.
import { isIPv4, isIPv6 } from 'node:net';
import * as v from './validate.js';

/** dnsmasq's modes for a DHCP range: `static` (IPv4, and DHCPv6 with addresses from the hosts file
 * or options only), `ra-stateless` (RAs with A and O flags, stateless DHCPv6), `ra-only` (RAs
 * with the A flag: SLAAC). */
export type RangeMode = 'static' | 'ra-stateless' | 'ra-only';

export interface DhcpRange {
  /** Set on clients of this range (`subnet-<id>`): options files select by it. */
  tag: string;
  /** The subnet's network address. */
  network: string;
  prefixlen: number;
  mode: RangeMode;
  /** Lease time in seconds; -1 = infinite. Not for ra-only. */
  leaseSeconds: number;
}

export interface DnsmasqOptions {
  pidFile: string;
  hostsFile: string;
  addnHostsFile: string;
  optsFile: string;
  leaseFile: string;
  /** The interface dnsmasq serves (the DHCP port's device in its namespace). */
  interface: string;
  ranges: DhcpRange[];
  /** Interface MTU handed out (option 26); 0 = none. */
  mtu: number;
  leaseMax: number;
  /** Options 58/59, seconds; 0 = not sent. */
  renewalTime?: number;
  rebindingTime?: number;
  /** Upstream DNS servers; none and no `localResolv`: dnsmasq answers only its own names. */
  dnsServers?: string[];
  localResolv?: boolean;
  domain?: string | null;
  broadcast?: boolean;
  /** Router advertisements on `interface` (for ra-stateless / ra-only / stateful ranges) with
   * router lifetime 0: prefixes and flags, never a default route. */
  routerAdvertisements?: boolean;
  /** An extra configuration file; default /dev/null. */
  confFile?: string;
  /** A file for DHCP and DNS query logs; none by default. */
  logFile?: string;
}

function range(r: DhcpRange): string {
  const tag = v.token(r.tag);
  if (!/^[A-Za-z0-9_-]+$/.test(tag)) throw new v.InvalidValue('dnsmasq tag', r.tag);
  const lease = r.leaseSeconds === -1 ? 'infinite' : `${v.uint(r.leaseSeconds)}s`;
  if (isIPv4(r.network)) {
    const mask = prefixToMask(r.prefixlen);
    return `--dhcp-range=set:${tag},${r.network},static,${mask},${lease}`;
  }
  if (!isIPv6(r.network)) throw new v.InvalidValue('range network', r.network);
  const mode = ['static', 'ra-stateless', 'ra-only'].includes(r.mode) ? r.mode : 'static';
  const len = v.uint(r.prefixlen, 128);
  return mode === 'ra-only'
    ? `--dhcp-range=set:${tag},${r.network},ra-only,${len}`
    : `--dhcp-range=set:${tag},${r.network},${mode},${len},${lease}`;
}

export function prefixToMask(prefixlen: number): string {
  v.uint(prefixlen, 32);
  const n = prefixlen === 0 ? 0 : (0xffffffff << (32 - prefixlen)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** dnsmasq's argument vector (program first) for `o`. */
export function dnsmasqArgv(o: DnsmasqOptions): string[] {
  const argv = [
    'dnsmasq',
    '--no-hosts',
    ...(o.localResolv && !o.dnsServers?.length ? [] : ['--no-resolv']),
    `--pid-file=${v.path(o.pidFile)}`,
    `--dhcp-hostsfile=${v.path(o.hostsFile)}`,
    `--addn-hosts=${v.path(o.addnHostsFile)}`,
    `--dhcp-optsfile=${v.path(o.optsFile)}`,
    `--dhcp-leasefile=${v.path(o.leaseFile)}`,
    '--dhcp-match=set:ipxe,175',
    '--dhcp-userclass=set:ipxe6,iPXE',
    '--local-service',
    '--bind-dynamic',
    `--interface=${v.device(o.interface)}`,
    ...o.ranges.map(range),
  ];
  if (o.mtu > 0) argv.push(`--dhcp-option-force=option:mtu,${v.uint(o.mtu, 65535)}`);
  argv.push(`--dhcp-lease-max=${v.uint(o.leaseMax)}`);
  if (o.renewalTime) argv.push(`--dhcp-option-force=option:T1,${v.uint(o.renewalTime)}s`);
  if (o.rebindingTime) argv.push(`--dhcp-option-force=option:T2,${v.uint(o.rebindingTime)}s`);
  argv.push(`--conf-file=${o.confFile ? v.path(o.confFile) : '/dev/null'}`);
  for (const server of o.dnsServers ?? []) argv.push(`--server=${v.ip(server)}`);
  if (o.domain) argv.push(`--domain=${v.dnsName(o.domain)}`);
  if (o.broadcast) argv.push('--dhcp-broadcast');
  if (o.routerAdvertisements) argv.push('--enable-ra', `--ra-param=${v.device(o.interface)},30,0`);
  if (o.logFile) argv.push('--log-queries', '--log-dhcp', `--log-facility=${v.path(o.logFile)}`);
  return argv;
}
