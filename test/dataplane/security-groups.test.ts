// Security groups end to end: groups and rules made through the API, enforced by the Linux bridge
// agents (nftables driver) of two simulated hosts on VMs plugged with `neutrino vif plug`, with
// real packets (test/dataplane/lab.ts: all-in-one server, RabbitMQ, one agent process per host).
// Each case is one of issue 11's: ICMP admitted by a rule; TCP 22 admitted while 80 is blocked;
// replies to a VM's own connection; a remote group admitting its members (a new one by one set
// element on the other host, no chain rewritten); an address group, and an address removed from it
// cut; a deleted rule stopping new connections while one admitted by another rule survives;
// port_security_enabled=false; a stateless group; IPv6 rules; an agent restart keeping
// established connections.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execRunner } from '../../src/system/index.js';
import { DataplaneLab, rabbitSkip } from './lab.js';
import { notRoot, until } from './root.js';
import { VmTcp } from './tcp.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely in tests
type Json = Record<string, any>;

describe('security groups in the data path', { skip: notRoot || rabbitSkip }, () => {
  let lab: DataplaneLab;
  const groups: Json = {};
  const ports: Json = {};
  const tcp: Record<string, VmTcp> = {};
  let network: Json;
  const v4 = (name: string) => ports[name].fixed_ips.find((f: Json) => !f.ip_address.includes(':')).ip_address as string;
  const v6 = (name: string) => ports[name].fixed_ips.find((f: Json) => f.ip_address.includes(':')).ip_address as string;
  const rule = async (group: string, attrs: Json) =>
    lab.create('security_group_rule', { security_group_id: groups[group].id, ...attrs });
  const ping = async (from: string, to: string) => {
    const cmd = to.includes(':') ? ['ping', '-6'] : ['ping'];
    return (await execRunner('ip', ['netns', 'exec', lab.topology.vmNetns(from), ...cmd, '-c1', '-W1', '-q', to])).code === 0;
  };
  /** The chains of both tables on host i, each with its handle (they change only when some port's
   * rules change; a chain written again, even under the same name, has a new handle). */
  const chains = async (i: number) => {
    const out: string[] = [];
    for (const family of ['bridge', 'inet']) {
      const r = await execRunner('ip', ['netns', 'exec', lab.hosts[i].netns, 'nft', '-j', 'list', 'chains', family]);
      for (const e of JSON.parse(r.stdout).nftables as Json[]) {
        if (e.chain?.table === 'neutrino') out.push(`${family} ${e.chain.name} #${e.chain.handle}`);
      }
    }
    return out.sort();
  };
  const setElements = async (i: number, set: string) => {
    const r = await execRunner('ip', ['netns', 'exec', lab.hosts[i].netns, 'nft', '-j', 'list', 'set', 'inet', 'neutrino', set]);
    return r.code === 0 ? ((JSON.parse(r.stdout).nftables as Json[]).find((e) => e.set)?.set.elem ?? []) : [];
  };
  /** Plugs `name` (a port in `groupNames`) on host i and starts its TCP helper. */
  const vm = async (name: string, host: number, groupNames: string[], extra: Json = {}) => {
    ports[name] = await lab.create('port', {
      network_id: network.id,
      name,
      security_groups: groupNames.map((g) => groups[g].id),
      ...extra,
    });
    assert.equal((await lab.plug(ports[name].id, lab.hosts[host], name)).status, 'ACTIVE');
    tcp[name] = await VmTcp.start(lab.topology.vmNetns(name), [22, 80, 443]);
  };

  before(async () => {
    lab = await DataplaneLab.start(2);
    network = await lab.create('network', { name: 'sg' });
    await lab.create('subnet', { network_id: network.id, cidr: '10.90.0.0/24', ip_version: 4 });
    await lab.create('subnet', { network_id: network.id, cidr: 'fd90::/64', ip_version: 6 });
    for (const name of ['server', 'friends', 'others']) groups[name] = await lab.create('security_group', { name });
    // server: ICMP and TCP 22 from anywhere (IPv4 and IPv6), TCP 80 from members of `friends`.
    await rule('server', { direction: 'ingress', protocol: 'icmp' });
    await rule('server', { direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp' });
    groups.r22 = await rule('server', { direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 });
    await rule('server', { direction: 'ingress', ethertype: 'IPv6', protocol: 'tcp', port_range_min: 22, port_range_max: 22 });
    await rule('server', {
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 80,
      port_range_max: 80,
      remote_group_id: groups.friends.id,
    });
    await vm('srv', 0, ['server']);
    await vm('f1', 1, ['friends']);
    await vm('o1', 1, ['others']);
  });
  after(async () => {
    await Promise.allSettled(Object.values(tcp).map((t) => t.stop()));
    await lab?.stop();
  });

  it('ICMP is admitted by a rule; the other way, with no ingress rule, it is not', async () => {
    assert.ok(await until('o1 → srv (ICMP)', () => ping('o1', v4('srv')), 15_000));
    assert.equal(await ping('srv', v4('o1')), false, 'srv → o1: o1 admits nothing');
  });

  it('TCP 22 is admitted while TCP 80 is blocked; replies to the VM’s own connection pass', async () => {
    // o1 has no ingress rule at all: srv's answers reach it as replies of its connection.
    assert.ok(await tcp.o1.tryConnect(v4('srv'), 22), 'o1 → srv:22');
    assert.equal(await tcp.o1.tryConnect(v4('srv'), 80, 1000), false, 'o1 → srv:80 (not a friend)');
    assert.ok(await tcp.f1.tryConnect(v4('srv'), 80), 'f1 (a friend) → srv:80');
  });

  it('IPv6 rules: ICMPv6 and TCP 22 over IPv6 are admitted; TCP 80 over IPv6 (an IPv4-only rule) is not', async () => {
    assert.ok(await until('o1 → srv over IPv6', () => ping('o1', v6('srv')), 15_000));
    assert.ok(await tcp.o1.tryConnect(v6('srv'), 22), 'o1 → [srv]:22');
    assert.equal(await tcp.f1.tryConnect(v6('srv'), 80, 1000), false, 'f1 → [srv]:80');
  });

  it('a new member of a remote group is admitted by one set element on the server’s host, no chain rewritten', async () => {
    const before = await chains(0);
    await lab.api('PUT', `ports/${ports.o1.id}`, { port: { security_groups: [groups.others.id, groups.friends.id] } });
    assert.ok(await until('o1, now a friend → srv:80', () => tcp.o1.tryConnect(v4('srv'), 80, 500), 15_000));
    assert.deepEqual(await chains(0), before, 'no chain of the server’s host changed');
    const members = (await setElements(0, `rg-${groups.friends.id}-4`)).map(String).sort();
    assert.deepEqual(members, [v4('f1'), v4('o1')].sort());
  });

  it('an address group admits its addresses; an address removed is cut, its established connection too', async () => {
    const ag = await lab.create('address_group', { name: 'office', addresses: [`${v4('f1')}/32`] });
    await rule('server', {
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 443,
      port_range_max: 443,
      remote_address_group_id: ag.id,
    });
    assert.ok(await until('f1 → srv:443', () => tcp.f1.open('s443', v4('srv'), 443, 500), 15_000));
    assert.equal(await tcp.o1.tryConnect(v4('srv'), 443, 1000), false, 'o1 is not in the address group');
    const r = await lab.api('PUT', `address-groups/${ag.id}/remove_addresses`, { addresses: [`${v4('f1')}/32`] });
    assert.equal(r.status, 200);
    await until('f1 cut from srv:443', async () => !(await tcp.f1.tryConnect(v4('srv'), 443, 500)), 15_000);
    assert.equal(await tcp.f1.probe('s443', 1000), false, 'the established connection went with the address');
    await tcp.f1.close('s443');
  });

  it('deleting a rule stops new connections and those it alone admitted; one admitted by another rule survives', async () => {
    assert.ok(await tcp.f1.open('s80', v4('srv'), 80), 'f1 → srv:80 (friends)');
    assert.ok(await tcp.o1.open('s22', v4('srv'), 22), 'o1 → srv:22 (the rule to delete)');
    assert.equal((await lab.api('DELETE', `security-group-rules/${groups.r22.id}`)).status, 204);
    await until('new connections to srv:22 refused', async () => !(await tcp.o1.tryConnect(v4('srv'), 22, 500)), 15_000);
    assert.equal(await tcp.o1.probe('s22', 1000), false, 'the connection only the deleted rule admitted is cut');
    assert.ok(await tcp.f1.probe('s80'), 'the connection admitted by the friends rule survives');
    await tcp.o1.close('s22');
  });

  it('an agent restart (SIGKILL) rewrites nothing and keeps established connections', async () => {
    const h1 = lab.hosts[0];
    const before = await chains(0);
    const agent = lab.agents.get(h1.name)!;
    agent.signal('SIGKILL');
    await agent.wait();
    const restarted = lab.startAgent(h1);
    await until('the restarted agent reconciled', async () => /first reconcile done/.test(restarted.log), 30_000);
    assert.ok(await tcp.f1.probe('s80'), 'f1’s connection to srv:80 survived the restart');
    assert.deepEqual(await chains(0), before);
    assert.doesNotMatch(restarted.log, /reconcile failed|port security|nftables/);
    await tcp.f1.close('s80');
  });

  it('a stateless group needs both directions', async () => {
    groups.stateless = await lab.create('security_group', { name: 'stateless', stateful: false });
    // A new group comes with egress rules to anywhere: drop them, so only the rules below count.
    for (const r of groups.stateless.security_group_rules) await lab.api('DELETE', `security-group-rules/${r.id}`);
    await rule('stateless', { direction: 'ingress', protocol: 'icmp' });
    await vm('sl', 0, ['stateless']);
    assert.equal(await ping('f1', v4('sl')), false, 'ICMP in, but the echo reply may not leave');
    await rule('stateless', { direction: 'egress', protocol: 'icmp' });
    assert.ok(await until('f1 → sl with ICMP admitted both ways', () => ping('f1', v4('sl')), 15_000));
  });

  it('port_security_enabled=false lifts all filtering of the port', async () => {
    assert.equal(await tcp.srv.tryConnect(v4('f1'), 22, 1000), false, 'f1 admits nothing');
    const r = await lab.api('PUT', `ports/${ports.f1.id}`, { port: { security_groups: [], port_security_enabled: false } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(await until('srv → f1:22 without port security', () => tcp.srv.tryConnect(v4('f1'), 22, 500), 15_000));
  });
});
