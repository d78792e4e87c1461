// `neutrino lab up|vm|exec|down`: a throwaway lab of simulated hosts and VMs in network namespaces
// (src/lab). `up` runs the lab's server and agents in the foreground until interrupted (then removes
// everything); `vm`, `exec` and `down` act on a lab that is up, found by its name.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { labPrefix, labUp, pidAlive, readLabState, removeLabDir } from '../lab/run.js';
import { destroyLab } from '../lab/topology.js';
import { plugVif, VifError } from './vif.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function stateOf(name: string) {
  const state = readLabState(name);
  if (!state || !pidAlive(state.pid)) throw new VifError(`lab ${name} is not up ('neutrino lab up --name ${name}')`);
  return state;
}

async function api(url: string, method: string, path: string, body?: unknown) {
  const r = await fetch(`${url}/v2.0/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const json = text ? JSON.parse(text) : {};
  if (r.status >= 300) throw new VifError(`${method} ${path}: ${r.status} ${text}`);
  return json;
}

/** The network named (or with id) `ref`; created with a subnet of `cidr` when missing and given. */
async function network(url: string, ref: string, cidr?: string): Promise<string> {
  if (UUID.test(ref)) return ref;
  const found = (await api(url, 'GET', `networks?name=${encodeURIComponent(ref)}`)).networks as Array<{ id: string }>;
  if (found.length === 1) return found[0].id;
  if (found.length > 1) throw new VifError(`several networks are named ${ref}: use its id`);
  if (!cidr) throw new VifError(`no network named ${ref} (give --cidr to create it)`);
  const net = (await api(url, 'POST', 'networks', { network: { name: ref } })).network;
  await api(url, 'POST', 'subnets', { subnet: { network_id: net.id, cidr, ip_version: cidr.includes(':') ? 6 : 4 } });
  return net.id;
}

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('a throwaway lab of simulated hosts and VMs in network namespaces (root)');

  lab
    .command('up')
    .description('build the lab and run its server and one Linux bridge agent per host until interrupted')
    .option('--name <name>', 'lab name', 'lab')
    .option('--hosts <n>', 'number of simulated hosts', '2')
    .option('--port <port>', 'API port on 127.0.0.1', '9696')
    .action(async (f: { name: string; hosts: string; port: string }) => {
      const running = await labUp({
        name: f.name,
        hosts: Number(f.hosts),
        port: Number(f.port),
        log: (m) => process.stderr.write(`${m}\n`),
      });
      const { state } = running;
      console.log(`lab ${state.name} is up: API ${state.url} (noauth)`);
      for (const h of state.hosts) console.log(`  host ${h.name}: namespace ${h.netns}, VTEP ${h.localIp}`);
      console.log(`add VMs: neutrino lab vm NAME --lab ${state.name} --host h1 --network NET [--cidr CIDR]`);
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        await running.stop();
        process.exit(0);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });

  lab
    .command('vm <vm>')
    .description('a VM (namespace) with a new port on a network, plugged on a host; waits until ACTIVE')
    .option('--lab <name>', 'lab name', 'lab')
    .requiredOption('--host <host>', 'the host (h1, h2, …)')
    .requiredOption('--network <network>', 'network name or id')
    .option('--cidr <cidr>', 'create the network with this subnet if it does not exist')
    .option('--ip <address>', 'fixed IP address of the port')
    .action(async (vm: string, f: { lab: string; host: string; network: string; cidr?: string; ip?: string }) => {
      const state = stateOf(f.lab);
      const host = state.hosts.find((h) => h.name === f.host);
      if (!host) throw new VifError(`lab ${f.lab} has no host ${f.host} (${state.hosts.map((h) => h.name).join(', ')})`);
      const networkId = await network(state.url, f.network, f.cidr);
      const port = (
        await api(state.url, 'POST', 'ports', {
          port: { network_id: networkId, name: vm, ...(f.ip ? { fixed_ips: [{ ip_address: f.ip }] } : {}) },
        })
      ).port;
      const r = await plugVif(port.id, {
        url: state.url,
        host: host.name,
        netns: `${state.prefix}-vm-${vm}`,
        hostNetns: host.netns,
      });
      console.log(JSON.stringify(r));
    });

  lab
    .command('exec <vm> <command...>')
    .description("run a command in a VM's namespace (put it after --)")
    .option('--lab <name>', 'lab name', 'lab')
    .action(async (vm: string, command: string[], f: { lab: string }) => {
      const state = stateOf(f.lab);
      if (!/^[A-Za-z0-9_.-]{1,20}$/.test(vm)) throw new VifError(`bad VM name: ${vm}`);
      const child = spawn('ip', ['netns', 'exec', `${state.prefix}-vm-${vm}`, ...command], { stdio: 'inherit' });
      const code = await new Promise<number>((ok) => child.once('exit', (c) => ok(c ?? 1)));
      process.exit(code);
    });

  lab
    .command('down')
    .description('stop the lab and remove its namespaces, links and state')
    .option('--lab <name>', 'lab name', 'lab')
    .action(async (f: { lab: string }) => {
      const state = readLabState(f.lab);
      if (state && pidAlive(state.pid)) {
        process.kill(state.pid, 'SIGTERM');
        const deadline = Date.now() + 15_000;
        while (pidAlive(state.pid) && Date.now() < deadline) await sleep(100);
      }
      await destroyLab(labPrefix(f.lab));
      removeLabDir(f.lab);
      console.log(`lab ${f.lab} is down`);
    });
}
