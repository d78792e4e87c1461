// Open vSwitch for a simulated host: its own ovsdb-server and ovs-vswitchd (files, sockets and
// pidfiles in one directory), ovs-vswitchd running inside the host's namespace so the devices it
// opens and creates are the host's. With no openvswitch kernel module every bridge uses the
// userspace datapath (datapath_type netdev), and then a tunnel's packets leave through OVS itself:
// OVS routes them by its own table, learnt from the namespace's routes, so the tunnel endpoint
// address must sit on an OVS bridge. As an operator does for a DPDK host ("br-phy"), the host's
// underlay interface becomes a port of a netdev bridge `br-phy` whose internal port carries the
// VTEP address; its provider interface a port of `br-eth1`, the physical bridge of physnet1.
// Processes are stopped by the PIDs in their pidfiles (checked against /proc), never by name.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { check, execRunner, valid } from '../system/index.js';

export const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
/** The bridge holding the host's VTEP address, and the physical bridge of the provider network. */
export const UNDERLAY_BRIDGE = 'br-phy';
export const PROVIDER_BRIDGE = 'br-eth1';

export interface OvsDaemons {
  dir: string;
  /** ovsdb-server's socket as an OVSDB connection (`unix:…/db.sock`). */
  db: string;
  /** ovs-vswitchd's run directory (`<bridge>.mgmt`). */
  rundir: string;
}

export const ovsInstalled = (): boolean => existsSync(SCHEMA);

const run = (file: string, args: string[], env?: Record<string, string>) =>
  env
    ? check(execRunner, 'env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), file, ...args], { timeoutMs: 30_000 })
    : check(execRunner, file, args, { timeoutMs: 30_000 });

/** Starts ovsdb-server and ovs-vswitchd (in `netns`) with their files in `dir`. */
export async function startOvs(dir: string, netns: string): Promise<OvsDaemons> {
  valid.netns(netns);
  mkdirSync(dir, { recursive: true });
  const db = join(dir, 'conf.db');
  const sock = join(dir, 'db.sock');
  if (!existsSync(db)) await run('ovsdb-tool', ['create', db, SCHEMA]);
  await run('ovsdb-server', [
    db,
    `--remote=punix:${sock}`,
    `--unixctl=${join(dir, 'ovsdb.ctl')}`,
    `--pidfile=${join(dir, 'ovsdb.pid')}`,
    `--log-file=${join(dir, 'ovsdb.log')}`,
    '--detach',
  ]);
  await run('ovs-vsctl', [`--db=unix:${sock}`, '--no-wait', 'init']);
  await run(
    'ip',
    [
      'netns',
      'exec',
      netns,
      'ovs-vswitchd',
      `unix:${sock}`,
      `--pidfile=${join(dir, 'vswitchd.pid')}`,
      `--unixctl=${join(dir, 'vswitchd.ctl')}`,
      `--log-file=${join(dir, 'vswitchd.log')}`,
      '--detach',
    ],
    { OVS_RUNDIR: dir },
  );
  return { dir, db: `unix:${sock}`, rundir: dir };
}

/** The operator's part of an OVS host: `uplink` into br-phy, which takes over its address
 * `cidr`; `provider` into br-eth1 (physnet1). */
export async function setupOvsHost(d: OvsDaemons, netns: string, uplink: string, cidr: string, provider: string): Promise<void> {
  const vsctl = (...args: string[]) => run('ovs-vsctl', [`--db=${d.db}`, '--timeout=20', ...args]);
  for (const [br, port] of [
    [UNDERLAY_BRIDGE, uplink],
    [PROVIDER_BRIDGE, provider],
  ]) {
    await vsctl('--may-exist', 'add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev');
    await vsctl('--may-exist', 'add-port', br, valid.device(port));
  }
  const ip = (...args: string[]) => run('ip', ['-n', netns, ...args]);
  await ip('addr', 'flush', 'dev', uplink);
  await ip('addr', 'add', valid.cidr(cidr), 'dev', UNDERLAY_BRIDGE);
  await ip('link', 'set', UNDERLAY_BRIDGE, 'up');
  await ip('link', 'set', provider, 'up');
}

function ownPid(file: string, dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(dir) ? pid : undefined; // the PID is still this directory's daemon
  } catch {
    return undefined;
  }
}

/** Stops the daemons of `dir` (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopOvs(dir: string, graceMs = 5000): Promise<void> {
  const pids = ['vswitchd.pid', 'ovsdb.pid'].flatMap((f) => {
    const pid = ownPid(join(dir, f), dir);
    return pid ? [pid] : [];
  });
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
}

/** Stops the OVS daemons of every host of a lab whose directories are `<labDir>/ovs-*`. */
export async function stopLabOvs(labDir: string): Promise<void> {
  if (!existsSync(labDir)) return;
  for (const e of readdirSync(labDir)) if (e.startsWith('ovs-')) await stopOvs(join(labDir, e));
}
