// Security groups in the data path (issue 11), needs root (network namespaces):
//  1. program from scratch: --ports ports of one host in a group whose rules name the group itself
//     (Neutron's default group: members reach each other) plus --rules-per-port more rules, given to
//     the nftables driver at once: compile, diff and `nft -f` times, the size of the script, and a
//     second apply of the same state (which writes nothing);
//  2. membership change → effective, end to end: a server (in this process, SQLite, in-process bus)
//     and a Linux bridge agent for a host namespace holding --ports ports bound to it, all in group
//     G; a port joining G (created through the API) or leaving it (deleted), --samples times, timed
//     from the API request to the end of the agent's `nft -f` that adds or removes its address
//     (p50/p99; target < 200 ms);
//  3. throughput: iperf3 between two VMs on one bridge, with no firewall and with the nftables
//     driver and --throughput-rules ingress rules on the server's port (the last one admitting
//     iperf3), and their ratio (target ≥ 90 %).
// Figures, not pass/fail; the last line is one JSON object. Record the load average with them.
//
//   sudo npx tsx bench/security-groups.ts [--ports 1000] [--samples 40] [--rules-per-port 2]
//                                         [--throughput-rules 500] [--iperf-seconds 5] [--rounds 3]
// (Throughput: --rounds rounds, each measuring without then with the firewall; medians.)
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { L2Agent } from '../src/agents/common/l2-agent.js';
import { compileFirewall, type FirewallPort, type FirewallState, NftablesFirewall } from '../src/agents/firewall/index.js';
import { LinuxBridgeBackend } from '../src/agents/linuxbridge/backend.js';
import { buildNeutrino } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import type { HostState, SecurityGroupRule } from '../src/rpc/contract.js';
import { addAddress, addBridge, addNetns, addVeth, delNetns, diffRuleset, Ip, linkSet } from '../src/system/index.js';
import { flag, pct } from './args.js';
import { iperf } from './netpath.js';

const PORTS = Number(flag('--ports', '1000'));
const SAMPLES = Number(flag('--samples', '40'));
const EXTRA_RULES = Number(flag('--rules-per-port', '2'));
const THROUGHPUT_RULES = Number(flag('--throughput-rules', '500'));
const IPERF_SECONDS = Number(flag('--iperf-seconds', '5'));
const ROUNDS = Number(flag('--rounds', '3'));
const TAG = randomBytes(2).toString('hex');

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely
type Json = Record<string, any>;
const round = (x: number) => Math.round(x * 10) / 10;
const log = (s: string) => process.stdout.write(`${s}\n`);

let seq = 0;
const rule = (r: Partial<SecurityGroupRule> & Pick<SecurityGroupRule, 'direction'>): SecurityGroupRule => ({
  id: `r${++seq}`,
  ethertype: 'IPv4',
  protocol: null,
  port_range_min: null,
  port_range_max: null,
  remote_ip_prefix: null,
  remote_group_id: null,
  remote_address_group_id: null,
  ...r,
});

const ipOf = (i: number) => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;

/** 1. The driver alone: a host of `n` ports in a group naming itself, from scratch. */
async function fromScratch(n: number): Promise<Json> {
  const ns = `nt-sgb-${TAG}`;
  await addNetns(ns);
  try {
    const ports: FirewallPort[] = Array.from({ length: n }, (_, i) => ({
      id: `p${i}`,
      device: `tsg${i}`,
      bridge: 'brsgbench',
      network_id: 'net',
      mac_address: `fa:16:3e:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
      fixed_ips: [ipOf(i + 1)],
      allowed_address_pairs: [],
      port_security_enabled: true,
      security_groups: ['G'],
    }));
    const rules = [
      rule({ direction: 'egress' }),
      rule({ direction: 'egress', ethertype: 'IPv6' }),
      rule({ direction: 'ingress', remote_group_id: 'G' }),
      rule({ direction: 'ingress', ethertype: 'IPv6', remote_group_id: 'G' }),
      ...Array.from({ length: EXTRA_RULES }, (_, k) =>
        rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 1000 + k, port_range_max: 1000 + k, remote_group_id: 'G' }),
      ),
    ];
    const state: FirewallState = {
      ports,
      security_groups: { G: { id: 'G', stateful: true, revision_number: 1, rules } },
      sg_member_ips: { G: { IPv4: ports.map((p) => p.fixed_ips[0]), IPv6: [] } },
    };
    let t = performance.now();
    const compiled = compileFirewall(state);
    const compileMs = performance.now() - t;
    t = performance.now();
    const script = diffRuleset(compiled.tables, new Map());
    const diffMs = performance.now() - t;
    const driver = new NftablesFirewall('nftables', { namespace: ns });
    t = performance.now();
    await driver.apply(state);
    const applyMs = performance.now() - t;
    t = performance.now();
    const again = await driver.apply(state);
    const againMs = performance.now() - t;
    // The driver alone, a member joining: compile + diff + one element.
    const joins: number[] = [];
    for (let k = 0; k < 20; k++) {
      state.sg_member_ips.G.IPv4.push(ipOf(n + 10 + k));
      t = performance.now();
      await driver.apply(state);
      joins.push(performance.now() - t);
    }
    const r = {
      ports: n,
      rules_per_port: rules.length,
      script_lines: script.split('\n').length - 1,
      compile_ms: round(compileMs),
      diff_ms: round(diffMs),
      from_scratch_ms: round(applyMs),
      unchanged_apply_ms: round(againMs),
      unchanged_wrote: again.changed,
      driver_join_p50_ms: round(pct(joins, 50)),
      driver_join_p99_ms: round(pct(joins, 99)),
    };
    log(
      `1. from scratch: ${n} ports × ${rules.length} rules: compile ${r.compile_ms} ms, diff ${r.diff_ms} ms, ` +
        `whole apply (read + compile + diff + nft -f of ${r.script_lines} lines) ${r.from_scratch_ms} ms; ` +
        `same state again ${r.unchanged_apply_ms} ms (wrote: ${again.changed}); driver-level join p50 ${r.driver_join_p50_ms} ms p99 ${r.driver_join_p99_ms} ms`,
    );
    return r;
  } finally {
    await delNetns(ns);
  }
}

/** A backend that records when each apply or firewall refresh is done (the kernel then has it). */
class TimedBackend extends LinuxBridgeBackend {
  done: Array<{ at: number; state: HostState }> = [];
  override async apply(state: HostState): Promise<Set<string>> {
    const wired = await super.apply(state);
    this.done.push({ at: performance.now(), state });
    return wired;
  }
  override async refreshFirewall(state: HostState): Promise<void> {
    await super.refreshFirewall(state);
    this.done.push({ at: performance.now(), state });
  }
}

/** 2. End to end: API → notification → agent → nft. */
async function membership(n: number): Promise<Json> {
  const ns = `nt-sgm-${TAG}`;
  await addNetns(ns);
  const cfg = loadConfig(
    [],
    [
      ['database', 'connection', 'sqlite://'],
      ['ml2', 'type_drivers', 'local,vxlan'],
      ['ml2', 'tenant_network_types', 'local'],
      ['ml2', 'mechanism_drivers', 'linuxbridge'],
      ['quotas', 'quota_port', '-1'],
      ['quotas', 'quota_security_group_rule', '-1'],
    ],
  );
  const server = await buildNeutrino(cfg, { migrate: true });
  const backend = new TimedBackend({
    namespace: ns,
    localIp: null,
    enableVxlan: false,
    l2Population: false,
    interfaceMappings: {},
    bridgeMappings: {},
    enableSecurityGroup: true,
    configurations: { interface_mappings: {}, bridge_mappings: {}, tunnel_types: [], tunneling_ip: null, l2_population: false },
    log: (m) => log(`   backend: ${m}`),
  });
  const agent = new L2Agent(server.transport, backend, {
    host: 'bench-host',
    agentType: 'Linux bridge agent',
    binary: 'neutrino-linuxbridge-agent',
    reportIntervalSec: 30,
    pollingIntervalSec: 3600,
    log: (m) => {
      if (/fail/.test(m)) log(`   agent: ${m}`);
    },
  });
  const api = async (method: string, url: string, body?: unknown): Promise<Json> => {
    const r = await server.app.inject({
      method: method as 'GET',
      url: `/v2.0/${url}`,
      headers: { 'content-type': 'application/json' },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.body ? JSON.parse(r.body) : {};
  };
  try {
    await agent.start();
    const net = (await api('POST', 'networks', { network: { name: 'bench' } })).network;
    await api('POST', 'subnets', { subnet: { network_id: net.id, cidr: '10.64.0.0/16', ip_version: 4 } });
    const g = (await api('POST', 'security-groups', { security_group: { name: 'G' } })).security_group;
    for (const ethertype of ['IPv4', 'IPv6']) {
      await api('POST', 'security-group-rules', {
        security_group_rule: { security_group_id: g.id, direction: 'ingress', ethertype, remote_group_id: g.id },
      });
    }
    let t = performance.now();
    for (let i = 0; i < n; i += 100) {
      const batch = Array.from({ length: Math.min(100, n - i) }, () => ({
        network_id: net.id,
        security_groups: [g.id],
        'binding:host_id': 'bench-host',
        device_owner: 'compute:nova',
      }));
      await api('POST', 'ports', { ports: batch });
    }
    const created = performance.now() - t;
    // The agent converges on the n bound ports (a full reconcile, then quiet).
    const converged = async () => {
      for (;;) {
        const before = agent.syncs;
        await new Promise((r) => setTimeout(r, 2000));
        const seen = backend.done.at(-1)?.state.ports.length ?? 0;
        if (seen === n && agent.syncs === before && backend.last.problems.length === 0) return;
      }
    };
    t = performance.now();
    await converged();
    log(
      `2. ${n} ports bound to the host: created in ${(created / 1000).toFixed(1)} s, agent quiet after ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const samples: number[] = [];
    let last: Json | undefined;
    const syncs = agent.syncs;
    const refreshes = agent.firewallRefreshes;
    for (let k = 0; k < SAMPLES; k++) {
      const start = performance.now();
      const from = backend.done.length;
      // Alternately a member joins (a new port of the group) and leaves (that port deleted).
      const joining = k % 2 === 0;
      let ip = '';
      if (joining) {
        last = (await api('POST', 'ports', { port: { network_id: net.id, security_groups: [g.id], name: `m${k}` } })).port;
        ip = last?.fixed_ips[0].ip_address;
      } else {
        ip = last?.fixed_ips[0].ip_address;
        await api('DELETE', `ports/${last?.id}`);
      }
      const deadline = start + 10_000;
      for (;;) {
        const hit = backend.done.slice(from).find((d) => d.state.sg_member_ips[g.id]?.IPv4.includes(ip) === joining);
        if (hit) {
          samples.push(hit.at - start);
          break;
        }
        if (performance.now() > deadline) throw new Error(`membership change ${k} not effective within 10 s`);
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    const r = {
      ports: n,
      samples: samples.length,
      effective_p50_ms: round(pct(samples, 50)),
      effective_p99_ms: round(pct(samples, 99)),
      full_reconciles: agent.syncs - syncs,
      firewall_refreshes: agent.firewallRefreshes - refreshes,
    };
    log(
      `2. membership change → effective (API → nft done), ${n} ports on the host: p50 ${r.effective_p50_ms} ms, ` +
        `p99 ${r.effective_p99_ms} ms (target < 200 ms); ${r.firewall_refreshes} firewall refreshes, ${r.full_reconciles} full reconciles`,
    );
    return r;
  } finally {
    await agent.stop();
    await server.close();
    await delNetns(ns);
  }
}

/** 3. iperf3 VM↔VM through one bridge, without and with the firewall. */
async function throughput(rulesCount: number): Promise<Json> {
  const host = `nt-sgt-${TAG}`;
  const vms = [`nt-sgt-${TAG}-c`, `nt-sgt-${TAG}-s`];
  const taps = [`tsgc${TAG}`, `tsgs${TAG}`];
  const macs = ['fa:16:3e:aa:00:01', 'fa:16:3e:aa:00:02'];
  const ips = ['10.66.0.1', '10.66.0.2'];
  await addNetns(host);
  try {
    const ip = new Ip({ netns: host });
    await ip.batch([addBridge('brsgt'), linkSet('brsgt', { up: true, addrgenmode: 'none' })]);
    for (const [i, vm] of vms.entries()) {
      await addNetns(vm);
      await ip.batch([addVeth(taps[i], 'eth0', { peerNetns: vm }), linkSet(taps[i], { master: 'brsgt', up: true })]);
      await new Ip({ netns: vm }).batch([linkSet('eth0', { address: macs[i], up: true }), addAddress(`${ips[i]}/24`, 'eth0')]);
    }
    const port = (i: number, groups: string[]): FirewallPort => ({
      id: `t${i}`,
      device: taps[i],
      bridge: 'brsgt',
      network_id: 'net',
      mac_address: macs[i],
      fixed_ips: [ips[i]],
      allowed_address_pairs: [],
      port_security_enabled: true,
      security_groups: groups,
    });
    const many = [
      rule({ direction: 'egress' }),
      ...Array.from({ length: rulesCount - 1 }, (_, k) =>
        rule({
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 10000 + k,
          port_range_max: 10000 + k,
          remote_ip_prefix: `10.${k % 200}.0.0/16`,
        }),
      ),
      rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 5201, port_range_max: 5201 }),
    ];
    const driver = new NftablesFirewall('nftables', { namespace: host });
    const state = (secured: boolean): FirewallState => ({
      ports: [port(0, ['client']), port(1, ['server'])].map((p) => ({ ...p, port_security_enabled: secured })),
      security_groups: {
        client: { id: 'client', stateful: true, revision_number: 1, rules: [rule({ direction: 'egress' })] },
        server: { id: 'server', stateful: true, revision_number: 1, rules: many },
      },
      sg_member_ips: {},
    });
    const bares: number[] = [];
    const filtereds: number[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      await driver.apply(state(false)); // no port security: no tables at all
      bares.push(await iperf(vms[1], vms[0], ips[1], IPERF_SECONDS));
      await driver.apply(state(true));
      filtereds.push(await iperf(vms[1], vms[0], ips[1], IPERF_SECONDS));
    }
    const bare = pct(bares, 50);
    const filtered = pct(filtereds, 50);
    const r = {
      rules: rulesCount,
      no_firewall_mbit: Math.round(bare),
      firewall_mbit: Math.round(filtered),
      ratio: Math.round((filtered / bare) * 1000) / 10,
      rounds: ROUNDS,
      no_firewall_each: bares.map(Math.round),
      firewall_each: filtereds.map(Math.round),
    };
    log(
      `3. iperf3 VM↔VM on one bridge (median of ${ROUNDS} interleaved rounds): no firewall ${r.no_firewall_mbit} Mbit/s ` +
        `${JSON.stringify(r.no_firewall_each)}, nftables with ${rulesCount} rules ${r.firewall_mbit} Mbit/s ` +
        `${JSON.stringify(r.firewall_each)}: ${r.ratio} % (target ≥ 90 %)`,
    );
    return r;
  } finally {
    for (const ns of [host, ...vms]) await delNetns(ns);
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/security-groups.ts needs root (network namespaces)');
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  log(`load average at start: ${load()}`);
  const scratch = await fromScratch(PORTS);
  const member = await membership(PORTS);
  const tput = await throughput(THROUGHPUT_RULES);
  log(`load average at end: ${load()}`);
  log(JSON.stringify({ from_scratch: scratch, membership: member, throughput: tput, load_average: loadavg() }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
