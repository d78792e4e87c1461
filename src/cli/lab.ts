// `neutrino lab up|vm|exec|down`: a throwaway lab of simulated hosts and VMs in network namespaces
// (src/lab). `up` stays in the foreground until interrupted (then removes everything): with RabbitMQ
// installed it runs a private broker, the server and one agent per host as separate processes; without
// it, the server and agents in its own process on an in-process bus. `vm`, `exec` and `down` act on a
// lab that is up, found by its name; `down` also cleans up after an `up` that crashed.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { rabbitInstalled } from '../lab/processes.js';
import { labCleanup, labUp, labUpProcesses, parseL2, pidAlive, readLabState } from '../lab/run.js';
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
    .description(
      'build the lab and run its server and one L2 agent per host (separate processes on a private RabbitMQ when installed) until interrupted',
    )
    .option('--name <name>', 'lab name', 'lab')
    .option('--hosts <n>', 'number of simulated hosts', '2')
    .option('--port <port>', 'API port on 127.0.0.1', '9696')
    .option(
      '--l2 <agents>',
      "the hosts' L2 agent: linuxbridge or openvswitch (its own ovsdb-server/ovs-vswitchd, userspace datapath), or per host: h1=linuxbridge,h2=openvswitch",
      'linuxbridge',
    )
    .action(async (f: { name: string; hosts: string; port: string; l2: string }) => {
      let l2: ReturnType<typeof parseL2>;
      try {
        l2 = parseL2(f.l2, Number(f.hosts));
      } catch (err) {
        throw new VifError((err as Error).message);
      }
      const options = {
        name: f.name,
        hosts: Number(f.hosts),
        port: Number(f.port),
        l2,
        log: (m: string) => process.stderr.write(`${m}\n`),
      };
      const running = rabbitInstalled() ? await labUpProcesses(options) : await labUp(options);
      const { state } = running;
      console.log(`lab ${state.name} is up: API ${state.url} (noauth)`);
      console.log(`  transport: ${state.transport}${rabbitInstalled() ? '' : ' (RabbitMQ is not installed)'}`);
      for (const p of state.processes ?? []) console.log(`  ${p.name}: pid ${p.pid}`);
      for (const h of state.hosts) {
        const agent = h.l2 === 'openvswitch' ? `openvswitch, OVSDB ${h.ovsdb}` : 'linuxbridge';
        console.log(`  host ${h.name}: namespace ${h.netns}, VTEP ${h.localIp}, ${agent}`);
      }
      console.log(`add VMs: neutrino lab vm NAME --lab ${state.name} --host h1 --network NET [--cidr CIDR]`);
      // Separate processes leave nothing here to keep the event loop alive: wait for a signal.
      const keepAlive = setInterval(() => undefined, 1 << 30);
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        clearInterval(keepAlive);
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
        ovsdb: host.ovsdb,
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
    .description('stop the lab (its processes by PID, its broker) and remove its namespaces, links and state')
    .option('--lab <name>', 'lab name', 'lab')
    .action(async (f: { lab: string }) => {
      await labCleanup(f.lab);
      console.log(`lab ${f.lab} is down`);
    });
}
