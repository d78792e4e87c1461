// `neutrino all-in-one --agents linuxbridge,dhcp,l3`: the server and this host's agents in one
// process on the in-process bus. The "host" is a namespace of this run ([linux_bridge] namespace
// and [agent] host_namespace), so nothing touches the machine's own network: a network with a
// subnet gets its DHCP port wired by the Linux bridge agent (ACTIVE) and a dnsmasq in
// `<host ns>-qdhcp-<network>`, and a router its `<host ns>-qrouter-<router>` with the interface.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { destroyLab } from '../../src/lab/topology.js';
import { addNetns, cmdlineOf, Ip, listNetns, netnsPids } from '../../src/system/index.js';
import { freePort, run, ServerProcess } from '../fixtures/process.js';
import { BIN } from './lab.js';
import { notRoot, runTag, until } from './root.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely in tests
type Json = Record<string, any>;

describe('all-in-one --agents', { skip: notRoot }, () => {
  const tag = runTag();
  const prefix = `nt-${tag}`;
  const hostNs = `${prefix}-aio`;
  const dir = mkdtempSync(join(tmpdir(), `neutrino-aio-${tag}-`));
  chmodSync(dir, 0o755); // dnsmasq reads its files below it as user nobody
  let server: ServerProcess | undefined;

  after(async () => {
    await server?.stop();
    await destroyLab(prefix); // dnsmasq outlives its agent, as Neutron's does: it goes with the namespaces
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an unknown agent, naming the ones it has', async () => {
    const r = await run('node', [BIN, 'all-in-one', '--agents', 'linuxbridge,bogus', '--bind-port', '1'], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown agent 'bogus' \(linuxbridge, openvswitch, dhcp, l3\)/);
    const help = await run('node', [BIN, 'all-in-one', '--help'], { timeoutMs: 30_000 });
    assert.match(help.stdout, /--agents <list>/);
  });

  it('runs the Linux bridge, DHCP and L3 agents in the server’s process: a subnet gets its DHCP server, a router its namespace', async () => {
    await addNetns(hostNs);
    // The host's tunnel endpoint, on its loopback (no traffic leaves this run's namespaces).
    await new Ip({ netns: hostNs }).batch([['addr', 'add', '192.0.2.99/32', 'dev', 'lo']]);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const conf = join(dir, 'neutrino.conf');
    writeFileSync(
      conf,
      `[DEFAULT]\nbind_port = ${port}\nstate_path = ${dir}\nhost = aio-${tag}\n` +
        `[agent]\nreport_interval = 2\nhost_namespace = ${hostNs}\n` +
        `[linux_bridge]\nnamespace = ${hostNs}\n[vxlan]\nlocal_ip = 192.0.2.99\nl2_population = true\n` +
        '[ml2]\nmechanism_drivers = linuxbridge,l2population\n',
    );
    server = await ServerProcess.start(['node', BIN, 'all-in-one', '--config-file', conf, '--agents', 'linuxbridge,dhcp,l3'], {
      url,
      env: { ...process.env, NEUTRINO_HOME: dir },
    });
    const api = async (method: string, path: string, body?: unknown): Promise<Json> => {
      const r = await fetch(`${url}/v2.0/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return r.json() as Promise<Json>;
    };
    await until('both agents alive', async () => {
      const agents = (await api('GET', 'agents')).agents as Json[];
      return ['Linux bridge agent', 'DHCP agent', 'L3 agent'].every((t) => agents.some((a) => a.agent_type === t && a.alive));
    });
    const net = (await api('POST', 'networks', { network: { name: 'aio' } })).network;
    await api('POST', 'subnets', { subnet: { network_id: net.id, cidr: '10.90.0.0/24', ip_version: 4 } });
    const dhcpPort = await until(
      'the DHCP port ACTIVE',
      async () => {
        const ports = (await api('GET', `ports?network_id=${net.id}&device_owner=network:dhcp`)).ports as Json[];
        return ports[0]?.status === 'ACTIVE' ? ports[0] : undefined;
      },
      30_000,
    );
    assert.equal(dhcpPort['binding:host_id'], `aio-${tag}`);
    const qdhcp = `${hostNs}-qdhcp-${net.id}`;
    await until(
      `dnsmasq running in ${qdhcp}`,
      async () => (await listNetns()).includes(qdhcp) && (await netnsPids(qdhcp)).some((p) => cmdlineOf(p)?.[0] === 'dnsmasq'),
      30_000,
    );
    const router = (await api('POST', 'routers', { router: { name: 'aio' } })).router;
    const sub = ((await api('GET', `subnets?network_id=${net.id}`)).subnets as Json[])[0];
    await api('PUT', `routers/${router.id}/add_router_interface`, { subnet_id: sub.id });
    const qrouter = `${hostNs}-qrouter-${router.id}`;
    const iface = await until(
      'the router interface ACTIVE in its namespace',
      async () => {
        const [p] = (await api('GET', `ports?device_id=${router.id}`)).ports as Json[];
        return p?.status === 'ACTIVE' && (await listNetns()).includes(qrouter) ? p : undefined;
      },
      30_000,
    );
    const addrs = await new Ip({ netns: qrouter }).addresses(`qr-${iface.id.slice(0, 11)}`);
    assert.ok(addrs[0]?.addr_info.some((a) => a.local === sub.gateway_ip));
  });
});
