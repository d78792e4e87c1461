// The DHCP agent's latencies (issue 9), on a lab of two simulated hosts (src/lab: server, Linux
// bridge and DHCP agents in this process, hosts and VMs in namespaces; needs root, dnsmasq and
// busybox):
//  - subnet create → dnsmasq answering: POST a subnet on a new network, until the network's dnsmasq
//    (on whichever host the scheduler chose) answers a DNS query for its own port's name;
//  - lab vm → lease: what `neutrino lab vm` does on a DHCP subnet — port create (as Nova: owned,
//    held by the DHCP provisioning block), vif plug until ACTIVE, then busybox udhcpc in the VM until
//    it has its lease; VMs alternate between the DHCP server's host and the other one (target < 1 s p50);
//  - many ports at once: --ports ports created at concurrency 16 on one network, until the last is
//    served (its DHCP block lifted: dnsmasq reloaded with its entry), and how many dnsmasq reloads
//    (SIGHUP) that took.
// Figures, not pass/fail; the machine's load average is printed with them.
//
//   sudo npx tsx bench/dhcp.ts [--samples 20] [--ports 500]
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { loadavg } from 'node:os';
import { plugVif } from '../src/cli/vif.js';
import { startDhcpClient, waitForLease } from '../src/lab/dhcp-client.js';
import { labDir, labUp } from '../src/lab/run.js';
import { execRunner } from '../src/system/index.js';
import { freePort } from '../test/fixtures/process.js';
import { flag, pct } from './args.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely
type Json = Record<string, any>;

const SAMPLES = Number(flag('--samples', '20'));
const PORTS = Number(flag('--ports', '500'));

const stats = (xs: number[]) => ({ p50_ms: Math.round(pct(xs, 50)), p99_ms: Math.round(pct(xs, 99)), n: xs.length });
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, deadlineMs = 60_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/dhcp.ts needs root (network namespaces)');
  const name = `bd${randomBytes(2).toString('hex')}`;
  const lab = await labUp({ name, hosts: 2, port: await freePort() });
  chmodSync(labDir(name), 0o755); // dnsmasq reads its files below it as user nobody
  const { url, hosts, prefix } = lab.state;
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}/v2.0/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return (r.status === 204 ? {} : await r.json()) as Json;
  };
  const servingHost = (networkId: string) =>
    until(
      'a DHCP agent',
      async () => ((await api('GET', `networks/${networkId}/dhcp-agents`)).agents as Json[])[0]?.host as string,
    );
  const dhcpPort = (networkId: string) =>
    until('the DHCP port', async () => {
      const ports = (await api('GET', `ports?network_id=${networkId}&device_owner=network:dhcp`)).ports as Json[];
      return ports[0]?.fixed_ips?.length ? ports[0] : undefined;
    });
  try {
    // Everything waits for the agents to be registered.
    await until(
      'both DHCP agents',
      async () => ((await api('GET', 'agents?agent_type=DHCP%20agent')).agents as Json[]).length === 2,
    );
    await api('PUT', 'quotas/admin', { quota: { port: -1, network: -1, subnet: -1 } });

    // 1. subnet create → dnsmasq answering.
    const subnetToAnswer: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const net = (await api('POST', 'networks', { network: { name: `s${i}` } })).network;
      const t0 = performance.now();
      await api('POST', 'subnets', { subnet: { network_id: net.id, cidr: `10.${100 + (i % 100)}.0.0/24`, ip_version: 4 } });
      const h = await servingHost(net.id);
      const port = await dhcpPort(net.id);
      const ip = port.fixed_ips[0].ip_address as string;
      const ns = `${hosts.find((x) => x.name === h)?.netns}-qdhcp-${net.id}`;
      // Any answer counts (its own port has no name in dnsmasq's files: it answers REFUSED); no
      // answer is a timeout.
      await until('dnsmasq answering', async () => {
        const r = await execRunner('ip', ['netns', 'exec', ns, 'busybox', 'nslookup', '-timeout=1', 'probe.openstacklocal', ip], {
          timeoutMs: 3000,
        });
        return /can't find|Name:/.test(r.stdout + r.stderr);
      });
      subnetToAnswer.push(performance.now() - t0);
      await api('DELETE', `networks/${net.id}`);
    }
    console.log(`subnet create → dnsmasq answering: ${JSON.stringify(stats(subnetToAnswer))}   (load ${load()})`);

    // 2. lab vm → lease.
    const net = (await api('POST', 'networks', { network: { name: 'vms' } })).network;
    await api('POST', 'subnets', { subnet: { network_id: net.id, cidr: '10.60.0.0/16', ip_version: 4 } });
    const server = await servingHost(net.id);
    await dhcpPort(net.id);
    const toLease: number[] = [];
    const byHost: Record<string, number[]> = { same: [], other: [] };
    const clientOnly: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const h = hosts[i % hosts.length];
      const vm = `b${i}`;
      const netns = `${prefix}-vm-${vm}`;
      const t0 = performance.now();
      const port = (
        await api('POST', 'ports', { port: { network_id: net.id, device_owner: 'compute:nova', device_id: randomUUID() } })
      ).port;
      const r = await plugVif(port.id, { url, host: h.name, netns, hostNetns: h.netns, dhcp: true });
      const t1 = performance.now();
      const client = await startDhcpClient({ netns, ifname: r.interface as string, dir: labDir(name), vm });
      const lease = await waitForLease(client.leaseFile, 30_000);
      const t2 = performance.now();
      if (lease.ip !== port.fixed_ips[0].ip_address)
        throw new Error(`VM ${vm} got ${lease.ip}, not ${port.fixed_ips[0].ip_address}`);
      toLease.push(t2 - t0);
      clientOnly.push(t2 - t1);
      byHost[h.name === server ? 'same' : 'other'].push(t2 - t0);
    }
    console.log(`lab vm → lease: ${JSON.stringify(stats(toLease))}   (load ${load()})`);
    console.log(`  of which DHCP client start → lease: ${JSON.stringify(stats(clientOnly))}`);
    console.log(
      `  VM on the DHCP server's host: ${JSON.stringify(stats(byHost.same))}; on the other: ${JSON.stringify(stats(byHost.other))}`,
    );

    // 3. many ports at once.
    const big = (await api('POST', 'networks', { network: { name: 'many' } })).network;
    await api('POST', 'subnets', { subnet: { network_id: big.id, cidr: '10.70.0.0/16', ip_version: 4 } });
    const bigHost = await servingHost(big.id);
    await dhcpPort(big.id);
    const agent = lab.dhcpAgents.get(bigHost);
    if (!agent) throw new Error(`no DHCP agent on ${bigHost}`);
    await new Promise((r) => setTimeout(r, 1000)); // the DHCP port's own reloads settle
    const before = { ...agent.stats };
    const t0 = performance.now();
    const ids: string[] = [];
    await pool(
      Array.from({ length: PORTS }, (_, i) => i),
      16,
      async () => {
        const p = (
          await api('POST', 'ports', { port: { network_id: big.id, device_owner: 'compute:nova', device_id: randomUUID() } })
        ).port;
        ids.push(p.id);
      },
    );
    const created = performance.now() - t0;
    await until(
      `all ${PORTS} ports served`,
      async () => {
        const ports = (await api('GET', `ports?network_id=${big.id}&device_owner=compute:nova`)).ports as Json[];
        return ports.length === PORTS && ports.every((p) => p.provisioning_blocks.length === 0);
      },
      300_000,
    );
    const served = performance.now() - t0;
    const after = agent.stats;
    console.log(
      `${PORTS} ports at once (concurrency 16): created in ${(created / 1000).toFixed(2)} s, the last served after ${(served / 1000).toFixed(2)} s; ` +
        `dnsmasq reloads: ${after.reloads - before.reloads} (SIGHUP), restarts: ${after.starts - before.starts}, agent passes: ${after.passes - before.passes}   (load ${load()})`,
    );
    console.log(
      JSON.stringify({
        subnet_to_dnsmasq_answering: stats(subnetToAnswer),
        lab_vm_to_lease: stats(toLease),
        dhcp_client_to_lease: stats(clientOnly),
        many_ports: {
          ports: PORTS,
          created_s: created / 1000,
          last_served_s: served / 1000,
          reloads: after.reloads - before.reloads,
        },
        loadavg: loadavg(),
      }),
    );
  } finally {
    await lab.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
