// A lab VM's DHCP client, as a guest runs one: busybox udhcpc for IPv4 (ISC dhclient -6 for
// stateful DHCPv6) in the VM's namespace, with a client script that configures the interface
// (address, MTU from option 26, classless static routes from option 121 or the router) and writes
// what the lease said to a file the lab reads (the VM has no /etc of its own: nothing touches the
// host's resolv.conf). The clients run on as daemons, renewing their leases, until the lab's
// namespaces go (destroyLab stops the processes in them).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { check, execRunner, inNetns, readPidFile, valid } from '../system/index.js';

/** The client script: udhcpc calls it with an event ($1), dhclient with $reason. Each client has
 * its own, with the lease file written in (dhclient passes its scripts no environment of ours). */
const script = (leaseFile: string) => `#!/bin/sh
# Neutrino lab: the DHCP client script of a VM (busybox udhcpc; ISC dhclient -6).
set -uf
out='${valid.path(leaseFile)}'
save() {
  env | grep -E '^(ip|mask|subnet|router|dns|domain|mtu|staticroutes|lease|serverid|hostname|ntpsrv|tftp|bootfile|new_ip6_address|new_ip6_prefixlen|new_dhcp6_name_servers|new_dhcp6_domain_search)=' | sort > "$out.tmp"
  mv "$out.tmp" "$out"
}
case "\${1:-\${reason:-}}" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set dev "$interface" up
    rm -f "$out" ;;
  bound|renew)
    if [ -n "\${mtu:-}" ]; then ip link set dev "$interface" mtu "$mtu"; fi
    if ! ip -4 -o addr show dev "$interface" | grep -q " $ip/"; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$mask" dev "$interface"
    fi
    if [ -n "\${staticroutes:-}" ]; then
      # RFC 3442: with classless static routes the router option is ignored.
      set -- $staticroutes
      while [ $# -ge 2 ]; do
        if [ "$2" = 0.0.0.0 ]; then ip route replace "$1" dev "$interface"
        else ip route replace "$1" via "$2" dev "$interface"; fi
        shift 2
      done
    elif [ -n "\${router:-}" ]; then
      set -- $router
      ip route replace default via "$1" dev "$interface"
    fi
    save ;;
  BOUND6|RENEW6|REBIND6|REBOOT6)
    ip -6 addr replace "$new_ip6_address/\${new_ip6_prefixlen:-128}" dev "$interface"
    save ;;
esac
exit 0
`;

export interface Lease {
  /** IPv4: address, prefix length, router, DNS servers, MTU, option 121 routes, domain, seconds. */
  ip?: string;
  mask?: string;
  router?: string;
  dns?: string;
  mtu?: string;
  staticroutes?: string;
  domain?: string;
  lease?: string;
  serverid?: string;
  hostname?: string;
  ntpsrv?: string;
  tftp?: string;
  bootfile?: string;
  /** DHCPv6 (dhclient). */
  new_ip6_address?: string;
  new_ip6_prefixlen?: string;
  new_dhcp6_name_servers?: string;
}

export interface DhcpClient {
  leaseFile: string;
  pidFile: string;
}

/** The files of VM `vm`'s client (IPv4 or IPv6) in `dir`. */
export function clientFiles(
  dir: string,
  vm: string,
  version: 4 | 6 = 4,
): DhcpClient & { script: string; dhclientLeases: string } {
  if (!/^[A-Za-z0-9_.-]{1,20}$/.test(vm)) throw new Error(`bad VM name: ${vm}`);
  const base = join(dir, `vm-${vm}${version === 6 ? '-v6' : ''}`);
  return {
    script: `${base}.sh`,
    leaseFile: `${base}.lease`,
    pidFile: `${base}.pid`,
    dhclientLeases: `${base}.dhclient`,
  };
}

/** Starts the VM's DHCP client on `ifname` in `netns`; resolves once it runs (its first lease may
 * come later: see waitForLease). */
export async function startDhcpClient(
  o: {
    netns: string;
    ifname: string;
    dir: string;
    vm: string;
    version?: 4 | 6;
    /** More options udhcpc asks for (-O NAME). */
    request?: string[];
  },
  run = execRunner,
): Promise<DhcpClient> {
  const version = o.version ?? 4;
  const f = clientFiles(o.dir, o.vm, version);
  for (const p of [f.script, f.leaseFile, f.pidFile, f.dhclientLeases]) valid.path(p);
  writeFileSync(f.script, script(f.leaseFile));
  chmodSync(f.script, 0o755);
  // udhcpc: -b go on trying in the background; -t/-T/-A discover every second at first; -O also ask
  // for the classless static routes and the MTU, as cloud images' clients do.
  const udhcpc = ['udhcpc', '-i', valid.device(o.ifname), '-s', f.script, '-p', f.pidFile, '-b', '-t', '5', '-T', '1', '-A', '1'];
  const requested = ['staticroutes', 'mtu', ...(o.request ?? [])].flatMap((name) => ['-O', valid.token(name)]);
  const args =
    version === 4
      ? [...udhcpc, ...requested]
      : ['-6', '-nw', '-sf', f.script, '-lf', f.dhclientLeases, '-pf', f.pidFile, valid.device(o.ifname)];
  const program = version === 4 ? 'busybox' : 'dhclient';
  const [file, argv] = inNetns(valid.netns(o.netns), program, args);
  await check(run, file, argv, { timeoutMs: 30_000 });
  return { leaseFile: f.leaseFile, pidFile: f.pidFile };
}

/** The lease the client last wrote, or undefined. */
export function readLease(file: string): Lease | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lease: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) lease[line.slice(0, i)] = line.slice(i + 1);
  }
  return lease as Lease;
}

/** Waits until the client has a lease (matching `pred`, if given). */
export async function waitForLease(file: string, timeoutMs = 30_000, pred: (l: Lease) => boolean = () => true): Promise<Lease> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lease = readLease(file);
    if (lease && (lease.ip || lease.new_ip6_address) && pred(lease)) return lease;
    if (Date.now() > deadline) throw new Error(`no DHCP lease in ${timeoutMs / 1000} s (${file})`);
    await sleep(25);
  }
}

/** Makes the IPv4 client renew its lease now (udhcpc: SIGUSR1), as at its next renewal time. */
export function renewLease(client: DhcpClient): void {
  const pid = readPidFile(client.pidFile);
  if (pid === undefined) throw new Error(`no DHCP client runs (${client.pidFile})`);
  process.kill(pid, 'SIGUSR1');
}
