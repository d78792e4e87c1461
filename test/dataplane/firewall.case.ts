// The firewall driver conformance suite: the same cases, with real packets, for every driver of
// `[securitygroup] firewall_driver` (test/dataplane/firewall-drivers.test.ts runs it for nftables
// and noop). A host namespace holds a Linux bridge with three VMs' taps; the driver is given the
// desired state directly, as a backend would give it. A driver that enforces must filter exactly as
// Neutron's security groups do; one that does not (noop) must let everything through and never
// fail. Names carry a per-run tag; everything is removed afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FirewallDriver, FirewallPort, FirewallState } from '../../src/agents/firewall/index.js';
import type { HostSecurityGroup, SecurityGroupRule } from '../../src/rpc/contract.js';
import { addAddress, addBridge, addNetns, addVeth, delNetns, execRunner, Ip, linkSet } from '../../src/system/index.js';
import { notRoot, runTag } from './root.js';
import { VmTcp } from './tcp.js';

const NET = 'f1f1f1f1-1111-4222-8333-444444444444';

let ruleSeq = 0;
/** A rule with Neutron's defaults. */
export function rule(r: Partial<SecurityGroupRule> & Pick<SecurityGroupRule, 'direction'>): SecurityGroupRule {
  return {
    id: `r${++ruleSeq}`,
    ethertype: 'IPv4',
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_id: null,
    remote_address_group_id: null,
    ...r,
  };
}

export const group = (id: string, rules: SecurityGroupRule[], stateful = true): HostSecurityGroup => ({
  id,
  stateful,
  revision_number: 1,
  rules,
});

const EGRESS_ALL = [rule({ direction: 'egress' }), rule({ direction: 'egress', ethertype: 'IPv6' })];

/** A group admitting everything, both ways (for tests about something else than filtering). */
export const OPEN_GROUP: HostSecurityGroup = group('open', [
  ...EGRESS_ALL,
  rule({ direction: 'ingress' }),
  rule({ direction: 'ingress', ethertype: 'IPv6' }),
]);

/** Runs the conformance cases against the driver `make` builds for a namespace. */
export function firewallConformance(name: string, make: (netns: string) => FirewallDriver): void {
  describe(`firewall driver conformance: ${name}`, { skip: notRoot }, () => {
    const tag = runTag();
    const host = `nt-fw-${tag}`;
    const vms = [1, 2, 3].map((i) => `nt-fw-${tag}-v${i}`);
    const bridge = `brfw${tag}`;
    const v4 = (i: number) => `10.77.0.${i}`;
    const v6 = (i: number) => `fd77::${i}`;
    const ports: FirewallPort[] = [1, 2, 3].map((i) => ({
      id: `${tag}0${i}-aaaa-4bbb-8ccc-dddddddddddd`,
      device: `tfw${tag}${i}`,
      bridge,
      network_id: NET,
      mac_address: `fa:16:3e:77:00:0${i}`,
      fixed_ips: [v4(i), v6(i)],
      allowed_address_pairs: [],
      port_security_enabled: true,
      security_groups: [],
    }));
    let driver: FirewallDriver;
    const tcp: VmTcp[] = [];
    // The state the driver was last given; cases change it and apply again.
    let state: FirewallState;
    const apply = async (s: FirewallState) => {
      state = s;
      return driver.apply(s);
    };
    /** v1, v2 and v3 in groups g1, g2, g3 (one each), with these groups' rules. */
    const withGroups = (groups: Record<string, HostSecurityGroup>, members: FirewallState['sg_member_ips'] = {}) => ({
      ports: ports.map((p, i) => ({ ...p, security_groups: [`g${i + 1}`] })),
      security_groups: groups,
      sg_member_ips: members,
    });
    const ping = async (from: number, to: string) => {
      const cmd = to.includes(':') ? ['ping', '-6'] : ['ping'];
      return (await execRunner('ip', ['netns', 'exec', vms[from - 1], ...cmd, '-c1', '-W1', '-q', to])).code === 0;
    };
    const blocked = async (what: Promise<boolean>, why: string) => {
      const ok = await what;
      if (driver.enforces) assert.equal(ok, false, `${why}: must be blocked`);
      else assert.equal(ok, true, `${why}: a driver that does not enforce lets it through`);
    };

    before(async () => {
      driver = make(host);
      await addNetns(host);
      const ip = new Ip({ netns: host });
      await ip.batch([addBridge(bridge), linkSet(bridge, { up: true, addrgenmode: 'none' })]);
      for (const [i, vm] of vms.entries()) {
        await addNetns(vm);
        await ip.batch([
          addVeth(ports[i].device, 'eth0', { peerNetns: vm }),
          linkSet(ports[i].device, { master: bridge, up: true }),
        ]);
        await new Ip({ netns: vm }).batch([
          linkSet('eth0', { address: ports[i].mac_address, up: true }),
          addAddress(`${v4(i + 1)}/24`, 'eth0'),
        ]);
        // No duplicate address detection: the address is usable at once.
        await execRunner('ip', ['-n', vm, 'addr', 'add', `${v6(i + 1)}/64`, 'dev', 'eth0', 'nodad']);
        tcp.push(await VmTcp.start(vm, [22, 80]));
      }
    });
    after(async () => {
      await Promise.allSettled(tcp.map((t) => t.stop()));
      for (const ns of [host, ...vms]) await delNetns(ns);
    });

    it('ingress ICMP is admitted by a rule, and only by it; egress is open as the groups say', async () => {
      const g2 = group('g2', [...EGRESS_ALL, rule({ direction: 'ingress', protocol: 'icmp' })]);
      await apply(withGroups({ g1: group('g1', EGRESS_ALL), g2, g3: group('g3', EGRESS_ALL) }));
      assert.ok(await ping(1, v4(2)), 'v1 → v2: ICMP allowed in by v2’s rule');
      await blocked(ping(2, v4(1)), 'v2 → v1 with no ingress rule on v1');
      const again = await driver.apply(state);
      assert.equal(again.changed, false, 'the same state applied again writes nothing');
    });

    it('TCP 22 admitted while TCP 80 is blocked; replies to a connection the VM opened pass', async () => {
      const g2 = group('g2', [
        ...EGRESS_ALL,
        rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 }),
      ]);
      await apply(withGroups({ g1: group('g1', EGRESS_ALL), g2, g3: group('g3', EGRESS_ALL) }));
      // v1 has no ingress rule at all: the answers from v2 pass as replies of v1's connection.
      assert.ok(await tcp[0].tryConnect(v4(2), 22), 'v1 → v2:22');
      await blocked(tcp[0].tryConnect(v4(2), 80, 1000), 'v1 → v2:80');
    });

    it('IPv6 rules: ICMPv6 and TCP 22 over IPv6 admitted, TCP 80 blocked, IPv4 rules do not apply', async () => {
      const g2 = group('g2', [
        ...EGRESS_ALL,
        rule({ direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp' }),
        rule({
          direction: 'ingress',
          ethertype: 'IPv6',
          protocol: 'tcp',
          port_range_min: 22,
          port_range_max: 22,
          remote_ip_prefix: 'fd77::/64',
        }),
      ]);
      await apply(withGroups({ g1: group('g1', EGRESS_ALL), g2, g3: group('g3', EGRESS_ALL) }));
      assert.ok(await ping(1, v6(2)), 'v1 → v2 over ICMPv6');
      assert.ok(await tcp[0].tryConnect(v6(2), 22), 'v1 → [v2]:22');
      await blocked(tcp[0].tryConnect(v6(2), 80, 1000), 'v1 → [v2]:80');
      await blocked(ping(1, v4(2)), 'v1 → v2 over IPv4 (only IPv6 rules)');
    });

    it('a remote group admits its members and not others; a new member is admitted by one set element', async () => {
      // v2 admits TCP 22 from members of group m; v1 is a member, v3 is not.
      const g2 = group('g2', [
        ...EGRESS_ALL,
        rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_group_id: 'm' }),
      ]);
      const groups = { g1: group('g1', EGRESS_ALL), g2, g3: group('g3', EGRESS_ALL) };
      await apply(withGroups(groups, { m: { IPv4: [v4(1)], IPv6: [v6(1)] } }));
      assert.ok(await tcp[0].tryConnect(v4(2), 22), 'member v1 → v2:22');
      await blocked(tcp[2].tryConnect(v4(2), 22, 1000), 'non-member v3 → v2:22');
      await apply(withGroups(groups, { m: { IPv4: [v4(1), v4(3)], IPv6: [v6(1)] } }));
      assert.ok(await tcp[2].tryConnect(v4(2), 22), 'v3, now a member → v2:22');
      if (driver.enforces && 'lastScript' in driver) {
        const script = String(driver.lastScript).trim();
        assert.match(
          script,
          /^add element inet neutrino rg-m-4 \{ 10\.77\.0\.3 \}$/,
          `one set element, no rule touched:\n${script}`,
        );
      }
    });

    it('an address group admits its addresses; a removed address is cut, established connections too', async () => {
      const g2 = group('g2', [
        ...EGRESS_ALL,
        rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80, remote_address_group_id: 'ag' }),
      ]);
      const groups = { g1: group('g1', EGRESS_ALL), g2, g3: group('g3', EGRESS_ALL) };
      await apply(withGroups(groups, { ag: { IPv4: ['10.77.0.0/31'], IPv6: [] } }));
      assert.ok(await tcp[0].open('ag', v4(2), 80), 'v1 (in 10.77.0.0/31) → v2:80');
      await blocked(tcp[2].tryConnect(v4(2), 80, 1000), 'v3 (outside the address group) → v2:80');
      await apply(withGroups(groups, { ag: { IPv4: ['10.77.0.2/32'], IPv6: [] } }));
      await blocked(tcp[0].tryConnect(v4(2), 80, 1000), 'v1 after its address left the group');
      await blocked(tcp[0].probe('ag', 1000), 'v1’s established connection after its address left the group');
      await tcp[0].close('ag');
    });

    it('deleting a rule stops new connections and those it alone admitted; one admitted by another rule survives', async () => {
      const r22 = rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 });
      const r80 = rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80 });
      const groups = (rules: SecurityGroupRule[]) => ({
        g1: group('g1', EGRESS_ALL),
        g2: group('g2', [...EGRESS_ALL, ...rules]),
        g3: group('g3', EGRESS_ALL),
      });
      await apply(withGroups(groups([r22, r80])));
      assert.ok(await tcp[0].open('s80', v4(2), 80), 'v1 → v2:80 established');
      assert.ok(await tcp[0].open('s22', v4(2), 22), 'v1 → v2:22 established');
      await apply(withGroups(groups([r80])));
      assert.ok(await tcp[0].probe('s80'), 'the connection on 80 (its rule stays) survives');
      await blocked(tcp[0].tryConnect(v4(2), 22, 1000), 'a new connection to 22 after its rule went');
      await blocked(tcp[0].probe('s22', 1000), 'the established connection on 22 after its rule went');
      // A change that does not concern it (a rule added) leaves the connection on 80 alone.
      await apply(
        withGroups(groups([r80, rule({ direction: 'ingress', protocol: 'udp', port_range_min: 53, port_range_max: 53 })])),
      );
      assert.ok(await tcp[0].probe('s80'), 'the connection on 80 survives an unrelated rule change');
      await tcp[0].close('s22');
    });

    it('a fresh driver (an agent restart) finds the kernel converged: nothing written, connections kept', async () => {
      const restarted = make(host);
      const r = await restarted.apply(state);
      assert.equal(r.changed, false, 'a restarted driver rewrites nothing');
      assert.ok(await tcp[0].probe('s80'), 'the established connection survives the restart');
      driver = restarted;
      await tcp[0].close('s80');
    });

    it('a stateless group needs both directions', async () => {
      const inOnly = group('g2', [rule({ direction: 'ingress', protocol: 'icmp' })], false);
      const both = group(
        'g2',
        [rule({ direction: 'ingress', protocol: 'icmp' }), rule({ direction: 'egress', protocol: 'icmp' })],
        false,
      );
      await apply(withGroups({ g1: group('g1', EGRESS_ALL), g2: inOnly, g3: group('g3', EGRESS_ALL) }));
      await blocked(ping(1, v4(2)), 'v1 → stateless v2 admitting ICMP in but not out');
      await apply(withGroups({ g1: group('g1', EGRESS_ALL), g2: both, g3: group('g3', EGRESS_ALL) }));
      assert.ok(await ping(1, v4(2)), 'v1 → stateless v2 admitting ICMP both ways');
    });

    it('port_security_enabled=false lifts all filtering of the port', async () => {
      await apply(withGroups({ g1: group('g1', EGRESS_ALL), g2: group('g2', []), g3: group('g3', EGRESS_ALL) }));
      await blocked(tcp[0].tryConnect(v4(2), 80, 1000), 'v1 → v2:80 while v2 has no rules');
      await apply({
        ...state,
        ports: state.ports.map((p) =>
          p.device === ports[1].device ? { ...p, port_security_enabled: false, security_groups: [] } : p,
        ),
      });
      assert.ok(await tcp[0].tryConnect(v4(2), 80), 'v1 → v2:80 without port security');
    });

    it('no port with port security: no filtering state left behind', async () => {
      const r = await apply({
        ports: ports.map((p) => ({ ...p, port_security_enabled: false })),
        security_groups: {},
        sg_member_ips: {},
      });
      assert.equal(typeof r.changed, 'boolean');
      const tables = (await execRunner('ip', ['netns', 'exec', host, 'nft', 'list', 'tables'])).stdout;
      assert.doesNotMatch(tables, /neutrino/, tables);
      assert.ok(await tcp[2].tryConnect(v4(2), 22), 'everything passes');
    });
  });
}
