// `neutrino lab up|vm|exec|down`: a throwaway lab of simulated hosts and VMs in network namespaces
// (src/lab). `up` stays in the foreground until interrupted (then removes everything): with RabbitMQ
// installed it runs a private broker, the server and one agent per host as separate processes; without
// it, the server and agents in its own process on an in-process bus. `vm`, `exec` and `down` act on a
// lab that is up, found by its name; `down` also cleans up after an `up` that crashed.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { startDhcpClient, waitForLease } from '../lab/dhcp-client.js';
import { OUTSIDE, PUBLIC_CIDR, PUBLIC_NETWORK, PUBLIC_SUBNET } from '../lab/outside.js';
import { rabbitInstalled } from '../lab/processes.js';
import { type LabState, labCleanup, labDir, labUp, labUpProcesses, parseL2, pidAlive, readLabState } from '../lab/run.js';
import { listNetns, netnsExists } from '../system/index.js';
import { plugVif, VifError } from './vif.js';

/** bin/neutrino.js of this clone: this file is src/cli/lab.ts or dist/cli/lab.js. */
const BIN = join(resolve(import.meta.dirname, '../..'), 'bin/neutrino.js');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How to run this command again, as written from here: `node bin/neutrino.js` in the clone
 * (relative when the clone is below the current directory). */
export function neutrinoCommand(): string {
  const rel = relative(process.cwd(), BIN);
  return `node ${rel.startsWith('..') || isAbsolute(rel) ? BIN : rel}`;
}

function stateOf(name: string) {
  const state = readLabState(name);
  if (!state || !pidAlive(state.pid)) throw new VifError(`lab ${name} is not up ('${neutrinoCommand()} lab up --lab ${name}')`);
  return state;
}

/** The VMs of a lab: its namespaces `<prefix>-vm-<name>`. */
async function vmsOf(prefix: string): Promise<string[]> {
  return (await listNetns())
    .filter((ns) => ns.startsWith(`${prefix}-vm-`))
    .map((ns) => ns.slice(`${prefix}-vm-`.length))
    .sort();
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

/** The network named (or with id) `ref`; created with a subnet of `cidr` when missing and given
 * (with DHCP unless `noDhcp`). */
async function network(url: string, ref: string, cidr?: string, noDhcp = false): Promise<string> {
  if (UUID.test(ref)) return ref;
  const found = (await api(url, 'GET', `networks?name=${encodeURIComponent(ref)}`)).networks as Array<{ id: string }>;
  if (found.length === 1) return found[0].id;
  if (found.length > 1) throw new VifError(`several networks are named ${ref}: use its id`);
  if (!cidr) throw new VifError(`no network named ${ref} (give --cidr to create it)`);
  const net = (await api(url, 'POST', 'networks', { network: { name: ref } })).network;
  const subnet = { network_id: net.id, cidr, ip_version: cidr.includes(':') ? 6 : 4, enable_dhcp: !noDhcp };
  await api(url, 'POST', 'subnets', { subnet });
  return net.id;
}

interface SubnetRow {
  id: string;
  ip_version: number;
  enable_dhcp: boolean;
  ipv6_address_mode: string | null;
}

/** What a lab that is up consists of, and the next commands to try, as `lab up` and `lab status` print it. */
function describeLab(state: LabState): string[] {
  const cmd = neutrinoCommand();
  const lab = state.name === 'lab' ? '' : ` --lab ${state.name}`;
  const out = [
    `lab ${state.name} is up: API ${state.url} (noauth)`,
    `  transport: ${state.transport}${rabbitInstalled() ? '' : ' (RabbitMQ is not installed)'}`,
  ];
  for (const p of state.processes ?? []) out.push(`  ${p.name}: pid ${p.pid}`);
  for (const h of state.hosts) {
    const agent = h.l2 === 'openvswitch' ? `openvswitch, OVSDB ${h.ovsdb}` : 'linuxbridge';
    out.push(`  host ${h.name}: namespace ${h.netns}, VTEP ${h.localIp}, ${agent}`);
  }
  const o = state.outside;
  if (o) {
    out.push(
      `  external network ${PUBLIC_NETWORK} (${o.network_id}, flat on physnet1), subnet ${PUBLIC_SUBNET} ${PUBLIC_CIDR}`,
      `  ${OUTSIDE}: namespace ${o.netns} on the public network, holding its gateway ${o.address} (\`lab exec ${OUTSIDE}\`)`,
    );
  }
  out.push(
    'next, in another shell (as root):',
    `  ${cmd} lab vm v1${lab} --host h1 --network blue --cidr 10.40.0.0/24 --ip 10.40.0.11`,
    `  ${cmd} lab vm v2${lab} --host h2 --network blue --ip 10.40.0.12`,
    `  ${cmd} lab exec v1${lab} -- ping -c3 10.40.0.12`,
    `  ${cmd} lab down${lab}`,
  );
  return out;
}

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('a throwaway lab of simulated hosts and VMs in network namespaces (root)');

  lab
    .command('up')
    .description(
      'build the lab and run its server, and per host an L2, a DHCP and an L3 agent, the external network “public” and an outside namespace (separate processes on a private RabbitMQ when installed), until interrupted',
    )
    .option('--lab <name>', 'lab name', 'lab')
    .addOption(new Option('--name <name>', 'lab name (old spelling of --lab)').hideHelp())
    .option('--hosts <n>', 'number of simulated hosts', '2')
    .option('--port <port>', 'API port on 127.0.0.1 (the all-in-one’s too: stop it first, or pick another)', '9696')
    .option(
      '--l2 <agents>',
      "the hosts' L2 agent: linuxbridge or openvswitch (its own ovsdb-server/ovs-vswitchd, userspace datapath), or per host: h1=linuxbridge,h2=openvswitch",
      'linuxbridge',
    )
    .action(async (f: { lab: string; name?: string; hosts: string; port: string; l2: string }) => {
      const name = f.name ?? f.lab;
      let l2: ReturnType<typeof parseL2>;
      try {
        l2 = parseL2(f.l2, Number(f.hosts));
      } catch (err) {
        throw new VifError((err as Error).message);
      }
      const options = {
        name,
        hosts: Number(f.hosts),
        port: Number(f.port),
        l2,
        log: (m: string) => process.stderr.write(`${m}\n`),
      };
      options.log(
        `lab ${name}: building ${options.hosts} hosts${rabbitInstalled() ? '' : ' (RabbitMQ is not installed: everything runs in this process)'}`,
      );
      const running = rabbitInstalled() ? await labUpProcesses(options) : await labUp(options);
      const { state } = running;
      for (const line of describeLab(state)) console.log(line);
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
    .description(
      'a VM (namespace) with a new port on a network, plugged on a host; waits until ACTIVE. On a subnet with DHCP the VM runs a DHCP client (busybox udhcpc) and gets its address from the DHCP agent; the address it obtained is printed',
    )
    .option('--lab <name>', 'lab name', 'lab')
    .requiredOption('--host <host>', 'the host (h1, h2, …)')
    .requiredOption('--network <network>', 'network name or id')
    .option('--cidr <cidr>', 'create the network with this subnet if it does not exist')
    .option('--no-dhcp', 'create that subnet without DHCP (the VM is then configured statically)')
    .option('--ip <address>', 'fixed IP address of the port (handed out by DHCP on a subnet with DHCP)')
    .action(async (vm: string, f: { lab: string; host: string; network: string; cidr?: string; ip?: string; dhcp: boolean }) => {
      const state = stateOf(f.lab);
      if (!/^[A-Za-z0-9_.-]{1,20}$/.test(vm)) throw new VifError(`bad VM name: ${vm} (1-20 of [A-Za-z0-9_.-])`);
      if (vm === OUTSIDE)
        throw new VifError(`'${OUTSIDE}' is the lab's outside world (\`lab exec ${OUTSIDE}\`): give the VM another name`);
      const host = state.hosts.find((h) => h.name === f.host);
      if (!host) throw new VifError(`lab ${f.lab} has no host ${f.host} (${state.hosts.map((h) => h.name).join(', ')})`);
      const netns = `${state.prefix}-vm-${vm}`;
      if (await netnsExists(netns)) throw new VifError(`lab ${f.lab} has a VM ${vm} already: give the new one another name`);
      const networkId = await network(state.url, f.network, f.cidr, !f.dhcp);
      const subnets = (await api(state.url, 'GET', `subnets?network_id=${networkId}`)).subnets as SubnetRow[];
      const dhcp = subnets.some((x) => x.ip_version === 4 && x.enable_dhcp);
      const v6 = subnets.some((x) => x.ip_version === 6 && x.enable_dhcp && x.ipv6_address_mode === 'dhcpv6-stateful');
      // As Nova creates a VM's port: with its owner, so the DHCP agent must serve it before it is ACTIVE.
      const port = (
        await api(state.url, 'POST', 'ports', {
          port: {
            network_id: networkId,
            name: vm,
            device_owner: 'compute:nova',
            device_id: randomUUID(),
            ...(f.ip ? { fixed_ips: [{ ip_address: f.ip }] } : {}),
          },
        })
      ).port;
      const t0 = Date.now();
      const r = await plugVif(port.id, {
        url: state.url,
        host: host.name,
        netns,
        hostNetns: host.netns,
        ovsdb: host.ovsdb,
        dhcp: dhcp || v6,
      });
      if (!dhcp && !v6) {
        console.log(JSON.stringify(r));
        return;
      }
      const dir = labDir(state.name);
      const ifname = r.interface as string;
      const out: Record<string, unknown> = { ...r, addresses: [] as string[] };
      if (dhcp) {
        const client = await startDhcpClient({ netns, ifname, dir, vm });
        const lease = await waitForLease(client.leaseFile);
        (out.addresses as string[]).push(`${lease.ip}/${lease.mask}`);
        out.dhcp = { server: lease.serverid, router: lease.router ?? null, dns: lease.dns ?? null, mtu: Number(lease.mtu) };
      }
      if (v6) {
        const client = await startDhcpClient({ netns, ifname, dir, vm, version: 6 });
        const lease = await waitForLease(client.leaseFile);
        (out.addresses as string[]).push(`${lease.new_ip6_address}/${lease.new_ip6_prefixlen ?? 128}`);
      }
      out.lease_after_ms = Date.now() - t0;
      console.log(JSON.stringify(out));
    });

  lab
    .command('exec <vm> <command...>')
    .description(
      `run a command in a VM's namespace, or in the outside world's (\`${OUTSIDE}\`, the public network's gateway) (put it after --)`,
    )
    .option('--lab <name>', 'lab name', 'lab')
    .action(async (vm: string, command: string[], f: { lab: string }) => {
      const state = stateOf(f.lab);
      if (!/^[A-Za-z0-9_.-]{1,20}$/.test(vm)) throw new VifError(`bad VM name: ${vm}`);
      let netns = `${state.prefix}-vm-${vm}`;
      if (vm === OUTSIDE && state.outside) netns = state.outside.netns;
      else {
        const vms = await vmsOf(state.prefix);
        if (!vms.includes(vm)) {
          throw new VifError(
            `lab ${state.name} has no VM ${vm} (${vms.length ? `its VMs: ${vms.join(', ')}` : `no VMs yet: '${neutrinoCommand()} lab vm NAME --host h1 --network NET --cidr CIDR'`})`,
          );
        }
      }
      const child = spawn('ip', ['netns', 'exec', netns, ...command], { stdio: 'inherit' });
      const code = await new Promise<number>((ok) => child.once('exit', (c) => ok(c ?? 1)));
      process.exit(code);
    });

  lab
    .command('status')
    .description('what the lab consists of: API, processes, hosts, the public network and the outside world, and its VMs')
    .option('--lab <name>', 'lab name', 'lab')
    .action(async (f: { lab: string }) => {
      const state = stateOf(f.lab);
      const lines = describeLab(state);
      const vms = await vmsOf(state.prefix);
      lines.splice(lines.indexOf('next, in another shell (as root):'), 0, `  VMs: ${vms.length ? vms.join(', ') : 'none yet'}`);
      for (const line of lines) console.log(line);
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
