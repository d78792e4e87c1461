// `ip` (iproute2): reads as JSON (`ip -j`), writes as one `ip -batch -` fed on stdin, optionally in
// a network namespace (`ip -n NS`). Commands are token arrays built by the helpers below from
// checked names and addresses; a batch line is never assembled from free text.
import { check, execRunner, type Runner, SystemError } from './exec.js';
import * as v from './validate.js';

/** One entry of `ip -d -j link show` (the fields we read). */
export interface Link {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate?: string;
  address?: string;
  master?: string;
  ifalias?: string;
  /** The peer of a veth / parent of a vlan, when in the same namespace. */
  link?: string | null;
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
  };
}

export interface AddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
}

export interface LinkAddrs {
  ifname: string;
  addr_info: AddrInfo[];
}

/** One entry of `ip -j route show` (the fields we read). */
export interface Route {
  /** 'default' or a CIDR (a host route without its /32 or /128). */
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
}

export const isUp = (l: Link): boolean => l.flags.includes('UP');
export const kindOf = (l: Link): string | undefined => l.linkinfo?.info_kind;

export interface ToolOptions {
  /** Act inside this network namespace; default: the caller's. */
  netns?: string;
  run?: Runner;
}

export type Command = readonly string[];

/** An iproute2 tool (`ip`, `bridge`) bound to a namespace (`-n NS`) and a runner. */
export abstract class NetnsTool {
  readonly netns?: string;
  protected readonly run: Runner;

  constructor({ netns, run = execRunner }: ToolOptions = {}) {
    this.netns = netns === undefined || netns === '' ? undefined : v.netns(netns);
    this.run = run;
  }

  protected base(): string[] {
    return this.netns ? ['-n', this.netns] : [];
  }
}

export class Ip extends NetnsTool {
  private async json<T>(args: string[]): Promise<T> {
    const out = await check(this.run, 'ip', [...this.base(), '-j', ...args]);
    return (out.trim() ? JSON.parse(out) : []) as T;
  }

  /** Every link with its details (kind, master, alias). */
  links(): Promise<Link[]> {
    return this.json<Link[]>(['-d', 'link', 'show']);
  }

  /** One link, or undefined when it does not exist. */
  async link(name: string): Promise<Link | undefined> {
    const r = await this.run('ip', [...this.base(), '-j', '-d', 'link', 'show', 'dev', v.device(name)]);
    if (r.code !== 0) {
      if (/does not exist|Cannot find device/.test(r.stderr)) return undefined;
      throw new SystemError(`ip link show dev ${name}`, r.code, r.stderr);
    }
    return (JSON.parse(r.stdout) as Link[])[0];
  }

  addresses(dev?: string): Promise<LinkAddrs[]> {
    return this.json<LinkAddrs[]>(['addr', 'show', ...(dev ? ['dev', v.device(dev)] : [])]);
  }

  /** The routes of `proto static` (those agents add, unlike the kernel's connected ones), of one family. */
  routes(family: 4 | 6, table = 'main'): Promise<Route[]> {
    return this.json<Route[]>([`-${family}`, 'route', 'show', 'table', v.token(table), 'proto', 'static']);
  }

  /** Applies `commands` in one `ip -batch -`. With `force`, later lines still run after a failed
   * one (the error then names every failed line); either way a failure throws SystemError. */
  async batch(commands: readonly Command[], { force = true } = {}): Promise<void> {
    if (commands.length === 0) return;
    const input = `${commands.map(v.line).join('\n')}\n`;
    await check(this.run, 'ip', [...this.base(), ...(force ? ['-force'] : []), '-batch', '-'], { input });
  }
}

// ----------------------------------------------------------------------------- command builders

export interface LinkSettings {
  up?: boolean;
  master?: string | null;
  mtu?: number;
  address?: string;
  alias?: string;
  netns?: string;
  name?: string;
  /** 'none': no IPv6 link-local address, so the device sends nothing of its own (no ND, no MLD). */
  addrgenmode?: 'none' | 'eui64';
}

/** `link set dev NAME …`; `master: null` is nomaster. */
export function linkSet(name: string, s: LinkSettings): Command {
  const out = ['link', 'set', 'dev', v.device(name)];
  if (s.master === null) out.push('nomaster');
  else if (s.master !== undefined) out.push('master', v.device(s.master));
  if (s.mtu !== undefined) out.push('mtu', v.uint(s.mtu, 65535));
  if (s.address !== undefined) out.push('address', v.mac(s.address));
  if (s.alias !== undefined) out.push('alias', v.token(s.alias));
  if (s.netns !== undefined) out.push('netns', v.netns(s.netns));
  if (s.name !== undefined) out.push('name', v.device(s.name));
  if (s.addrgenmode !== undefined) out.push('addrgenmode', s.addrgenmode === 'none' ? 'none' : 'eui64');
  if (s.up !== undefined) out.push(s.up ? 'up' : 'down');
  return out;
}

/** A Linux bridge without STP, forwarding as soon as a port joins. */
export function addBridge(name: string, { mtu }: { mtu?: number } = {}): Command {
  return [
    'link',
    'add',
    'name',
    v.device(name),
    ...(mtu ? ['mtu', v.uint(mtu, 65535)] : []),
    'type',
    'bridge',
    'stp_state',
    '0',
    'forward_delay',
    '0',
  ];
}

export interface VxlanSettings {
  mtu?: number;
  dstport?: number;
  /** Multicast group for broadcast and unknown unicast, sent out of `dev`; the device then learns
   * remote MACs from traffic. Without it the device learns nothing: its entries come from l2population. */
  group?: { address: string; dev: string };
}

export function addVxlan(name: string, vni: number, local: string, { mtu, dstport = 4789, group }: VxlanSettings): Command {
  return [
    'link',
    'add',
    'name',
    v.device(name),
    ...(mtu ? ['mtu', v.uint(mtu, 65535)] : []),
    'type',
    'vxlan',
    'id',
    v.uint(vni, 0xffffff),
    'local',
    v.ip(local),
    'dstport',
    v.uint(dstport, 65535),
    ...(group ? ['group', v.ip(group.address), 'dev', v.device(group.dev)] : ['nolearning']),
  ];
}

/** An 802.1Q sub-interface (needs the 8021q kernel module). */
export function addVlan(name: string, parent: string, vid: number): Command {
  return ['link', 'add', 'link', v.device(parent), 'name', v.device(name), 'type', 'vlan', 'id', v.uint(vid, 4094)];
}

/** A veth pair; the peer optionally created straight into another namespace. */
export function addVeth(name: string, peer: string, { peerNetns, mtu }: { peerNetns?: string; mtu?: number } = {}): Command {
  return [
    'link',
    'add',
    'name',
    v.device(name),
    ...(mtu ? ['mtu', v.uint(mtu, 65535)] : []),
    'type',
    'veth',
    'peer',
    'name',
    v.device(peer),
    ...(mtu ? ['mtu', v.uint(mtu, 65535)] : []),
    ...(peerNetns ? ['netns', v.netns(peerNetns)] : []),
  ];
}

/** A tap device (as libvirt creates for a VM), here without a process behind it. */
export const addTap = (name: string): Command => ['tuntap', 'add', 'dev', v.device(name), 'mode', 'tap'];

export const delLink = (name: string): Command => ['link', 'del', 'dev', v.device(name)];

export const addAddress = (cidr: string, dev: string): Command => ['addr', 'add', v.cidr(cidr), 'dev', v.device(dev)];

export const delAddress = (cidr: string, dev: string): Command => ['addr', 'del', v.cidr(cidr), 'dev', v.device(dev)];

export const replaceDefaultRoute = (gateway: string, dev: string): Command => [
  ...(gateway.includes(':') ? ['-6'] : []),
  'route',
  'replace',
  'default',
  'via',
  v.ip(gateway),
  'dev',
  v.device(dev),
];

/** `route replace DEST [via GW] [dev DEV] proto static` (IPv6 by the destination's or gateway's form). */
export function replaceRoute(dest: string, { via, dev }: { via?: string; dev?: string }): Command {
  const six = dest.includes(':') || (dest === 'default' && !!via?.includes(':'));
  return [
    ...(six ? ['-6'] : []),
    'route',
    'replace',
    dest === 'default' ? 'default' : v.cidr(dest),
    ...(via ? ['via', v.ip(via)] : []),
    ...(dev ? ['dev', v.device(dev)] : []),
    'proto',
    'static',
  ];
}

/** `route del DEST [via GW]` (IPv6 as replaceRoute). */
export function delRoute(dest: string, { via, six }: { via?: string; six?: boolean } = {}): Command {
  const v6 = six ?? (dest.includes(':') || !!via?.includes(':'));
  return [
    ...(v6 ? ['-6'] : []),
    'route',
    'del',
    dest === 'default' ? 'default' : v.cidr(dest),
    ...(via ? ['via', v.ip(via)] : []),
  ];
}
