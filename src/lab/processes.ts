// `neutrino lab up` when RabbitMQ is installed: a private broker (scripts/rabbitmq.sh start
// <labdir>/broker), the server (`neutrino all-in-one`) and per host one `neutrino agent linuxbridge`
// (or `openvswitch`), one `neutrino agent dhcp` and one `neutrino agent l3`,
// each a detached child logging to <labdir>/<name>.log. Every PID and the broker's directory go into the
// lab's state file as soon as they exist, so `lab down` (labCleanup) stops them by PID — also after
// `lab up` itself crashed or was killed.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROVIDER_BRIDGE } from './ovs.js';
import type { LabHost } from './topology.js';

/** The package root: this file is src/lab/processes.ts or dist/lab/processes.js. */
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/neutrino.js');
const RABBIT = join(ROOT, 'scripts/rabbitmq.sh');

const rabbitBin = (): string => process.env.RABBITMQ_BIN ?? '/usr/lib/rabbitmq/bin';
export const rabbitInstalled = (): boolean => existsSync(join(rabbitBin(), 'rabbitmq-server'));

export interface LabProcess {
  name: string;
  pid: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether `pid` is still one of the lab's node processes (not a reused PID). */
function ours(pid: number): boolean {
  try {
    return alive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('neutrino.js');
  } catch {
    return false;
  }
}

function runScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const child = spawn('bash', [RABBIT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('error', (e) => ok({ code: 1, stdout, stderr: `${stderr}${e.message}` }));
    child.once('exit', (c) => ok({ code: c ?? 1, stdout, stderr }));
  });
}

/** Starts the lab's private broker in `dir`; resolves to its transport URL. */
export async function startBroker(dir: string): Promise<string> {
  const r = await runScript(['start', dir]);
  const url = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !url.startsWith('rabbit://')) throw new Error(`rabbitmq.sh start: ${r.stderr.trim()}`);
  return url;
}

export async function stopBroker(dir: string): Promise<void> {
  if (existsSync(join(dir, 'env'))) await runScript(['stop', dir]);
}

/** Spawns `neutrino ARGS…` detached (its own session), output to <dir>/<name>.log. */
export function spawnNeutrino(dir: string, name: string, args: string[]): LabProcess {
  const out = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [BIN, ...args], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, NEUTRINO_HOME: dir },
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  child.unref();
  return { name, pid: child.pid };
}

/** SIGTERM to each process still ours, SIGKILL to whatever outlives `graceMs`. */
export async function stopProcesses(procs: LabProcess[], graceMs = 10_000): Promise<void> {
  const live = procs.filter((p) => ours(p.pid));
  for (const p of live) process.kill(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (live.some((p) => alive(p.pid)) && Date.now() < deadline) await sleep(100);
  for (const p of live) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export function tail(dir: string, name: string, lines = 30): string {
  try {
    return readFileSync(join(dir, `${name}.log`), 'utf8')
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch {
    return '';
  }
}

const common = (transportUrl: string): string =>
  '[oslo_messaging_rabbit]\nrabbit_retry_interval = 1\nrabbit_retry_backoff = 1\nrabbit_interval_max = 1\n' +
  `[DEFAULT]\ntransport_url = ${transportUrl}\nrpc_response_timeout = 10\n`;

export function writeServerConf(dir: string, transportUrl: string, port: number): string {
  const file = join(dir, 'server.conf');
  writeFileSync(
    file,
    `${common(transportUrl)}bind_host = 127.0.0.1\nbind_port = ${port}\nstate_path = ${dir}\nauth_strategy = noauth\n` +
      '[ml2]\nmechanism_drivers = linuxbridge,openvswitch,l2population\ntenant_network_types = vxlan\n' +
      '[ml2_type_vxlan]\nvni_ranges = 1000:1999\n',
  );
  return file;
}

export function writeAgentConf(dir: string, transportUrl: string, h: LabHost): string {
  const file = join(dir, `agent-${h.name}.conf`);
  if (h.l2 === 'openvswitch') {
    writeFileSync(
      file,
      `${common(transportUrl)}host = ${h.name}\n[agent]\nreport_interval = 10\npolling_interval = 2\n` +
        'tunnel_types = vxlan,geneve,gre\nl2_population = true\narp_responder = true\n' +
        `[ovs]\nlocal_ip = ${h.localIp}\ndatapath_type = netdev\novsdb_connection = ${h.ovsdb}\n` +
        `bridge_mappings = physnet1:${PROVIDER_BRIDGE}\n[securitygroup]\nfirewall_driver = openvswitch\n`,
    );
    return file;
  }
  writeFileSync(
    file,
    `${common(transportUrl)}host = ${h.name}\n[agent]\nreport_interval = 10\npolling_interval = 2\n` +
      `[linux_bridge]\nnamespace = ${h.netns}\nphysical_interface_mappings = physnet1:${h.provider}\n` +
      `[vxlan]\nlocal_ip = ${h.localIp}\nl2_population = true\n`,
  );
  return file;
}

/** What a lab host's DHCP and L3 agents are told alike: the host, the namespace standing for it
 * (their taps go there, their namespaces are `<host ns>-qdhcp-…`/`-qrouter-…`), how they plug a
 * device (into br-int on an OVS host); `defaults`: more [DEFAULT] lines. */
function hostAgentConf(transportUrl: string, h: LabHost, defaults = ''): string {
  const ovs = h.l2 === 'openvswitch';
  return (
    `${common(transportUrl)}host = ${h.name}\n${defaults}` +
    (ovs ? 'interface_driver = openvswitch\n' : '') +
    `[agent]\nreport_interval = 10\nhost_namespace = ${h.netns}\n` +
    (ovs ? `[ovs]\ndatapath_type = netdev\novsdb_connection = ${h.ovsdb}\n` : '')
  );
}

/** The DHCP agent of a lab host, its dnsmasq files under <labdir>/<host>. */
export function writeDhcpAgentConf(dir: string, transportUrl: string, h: LabHost): string {
  const file = join(dir, `dhcp-${h.name}.conf`);
  writeFileSync(file, hostAgentConf(transportUrl, h, `state_path = ${join(dir, h.name)}\n`));
  return file;
}

/** The L3 agent of a lab host: a `<host ns>-qrouter-<router>` namespace per router scheduled to it. */
export function writeL3AgentConf(dir: string, transportUrl: string, h: LabHost): string {
  const file = join(dir, `l3-${h.name}.conf`);
  writeFileSync(file, hostAgentConf(transportUrl, h));
  return file;
}

/** Polls `check` every 200 ms until it holds; fails when `failed()` says why, or after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  failed: () => string | undefined,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    const why = failed();
    if (why) throw new Error(`${what}: ${why}`);
    if (Date.now() > deadline) throw new Error(`${what}: timed out`);
    await sleep(200);
  }
}

export { alive as processAlive };
