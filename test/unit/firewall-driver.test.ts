// The nftables driver against a fake nft (a recording runner that keeps the applied script as the
// kernel's state): what it reads and writes on each apply — the whole ruleset once, nothing when
// nothing changed, one set element when a member joins (reading only the two schema sets), a full
// read of the tables after a restart, the tables dropped when no port has port security, and the
// tracked connections of a removed address deleted in its zone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FirewallState, NftablesFirewall } from '../../src/agents/firewall/index.js';
import type { ExecResult, Runner } from '../../src/system/index.js';

/** A fake nft/conntrack: the tables exist once a script created them; listings answer from the
 * last full script (enough for this test: set elements are tracked by add/delete lines). */
function fakeKernel() {
  const calls: string[] = [];
  const sets = new Map<string, Set<string>>(); // 'family table set' → elements
  const chains = new Set<string>(); // 'family table chain'
  let handle = 0;
  const handles = new Map<string, number>(); // 'family table' → schema set handle
  const run: Runner = async (_file, args, opts) => {
    const a = args.slice(3); // after `ip netns exec NS`
    calls.push(a.join(' '));
    const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
    const enoent: ExecResult = { code: 1, stdout: '', stderr: 'Error: No such file or directory\n' };
    if (a[0] === 'conntrack') return { code: 0, stdout: '', stderr: '1 flow entries have been deleted.' };
    if (a[1] === '-f') {
      for (const line of (opts?.input ?? '').trim().split('\n')) {
        const w = line.split(' ');
        const t = `${w[2]} ${w[3]}`;
        if (w[0] === 'delete' && w[1] === 'table') {
          handles.delete(t);
          for (const k of [...sets.keys()]) if (k.startsWith(`${t} `)) sets.delete(k);
          for (const k of [...chains]) if (k.startsWith(`${t} `)) chains.delete(k);
        }
        if (w[0] === 'add' && (w[1] === 'set' || w[1] === 'map')) {
          sets.set(`${t} ${w[4]}`, new Set());
          if (w[4] === 'schema') handles.set(t, ++handle);
        }
        if (w[0] === 'add' && w[1] === 'chain') chains.add(`${t} ${w[4]}`);
        if (w[0] === 'delete' && w[1] === 'chain') chains.delete(`${t} ${w[4]}`);
        if (w[1] === 'element') {
          const items = line
            .slice(line.indexOf('{') + 1, line.lastIndexOf('}'))
            .split(', ')
            .map((x) => x.trim().replace(/"/g, ''));
          const set = sets.get(`${t} ${w[4]}`) as Set<string>;
          for (const item of items) {
            if (w[0] === 'add') set.add(item);
            else for (const e of [...set]) if (e === item || e.startsWith(`${item} : `)) set.delete(e);
          }
        }
      }
      return ok();
    }
    // -j list set F T schema | -j list sets table F T | -j list chains F | -j list maps F
    if (a[2] === 'list' && a[3] === 'set') {
      const h = handles.get(`${a[4]} ${a[5]}`);
      return h === undefined
        ? enoent
        : ok(JSON.stringify({ nftables: [{ set: { family: a[4], table: a[5], name: a[6], handle: h } }] }));
    }
    const elem = (e: string) => (e.includes(' : ') ? e.split(' : ') : e);
    const listing = (kind: 'set' | 'map', family: string, table?: string) =>
      [...sets]
        .filter(([k]) => k.startsWith(`${family} `) && (!table || k.startsWith(`${family} ${table} `)))
        .filter(([, v]) => (kind === 'map') === [...v].some((e) => e.includes(' : ')) || (kind === 'set' && v.size === 0))
        .map(([k, v]) => ({ [kind]: { family, table: k.split(' ')[1], name: k.split(' ')[2], elem: [...v].map(elem) } }));
    if (a[3] === 'sets')
      return handles.has(`${a[5]} ${a[6]}`) ? ok(JSON.stringify({ nftables: listing('set', a[5], a[6]) })) : enoent;
    if (a[3] === 'maps') return ok(JSON.stringify({ nftables: listing('map', a[4]) }));
    if (a[3] === 'chains') {
      const cs = [...chains].filter((k) => k.startsWith(`${a[4]} `));
      return ok(
        JSON.stringify({ nftables: cs.map((k) => ({ chain: { family: a[4], table: k.split(' ')[1], name: k.split(' ')[2] } })) }),
      );
    }
    throw new Error(`unexpected call ${a.join(' ')}`);
  };
  return { run, calls, sets };
}

const rule = {
  id: 'r',
  direction: 'ingress' as const,
  ethertype: 'IPv4' as const,
  protocol: 'tcp',
  port_range_min: 22,
  port_range_max: 22,
  remote_ip_prefix: null,
  remote_group_id: 'g',
  remote_address_group_id: null,
};
const state = (members: string[], secured = true): FirewallState => ({
  ports: [1, 2].map((i) => ({
    id: `p${i}`,
    device: `tap0000000${i}-aa`,
    bridge: 'brq1',
    network_id: 'n1',
    mac_address: `fa:16:3e:00:00:0${i}`,
    fixed_ips: [`10.0.0.${i}`],
    allowed_address_pairs: [],
    port_security_enabled: secured,
    security_groups: ['g'],
  })),
  security_groups: { g: { id: 'g', stateful: true, revision_number: 1, rules: [rule] } },
  sg_member_ips: { g: { IPv4: members, IPv6: [] } },
});

test('nftables driver: whole ruleset once, then nothing, then one element; a restart reads, writes nothing', async () => {
  const k = fakeKernel();
  const driver = new NftablesFirewall('nftables', { namespace: 'h1', run: k.run });
  const s1 = state(['10.0.0.1', '10.0.0.2']);
  assert.equal((await driver.apply(s1)).changed, true);
  assert.match(driver.lastScript, /^add table bridge neutrino\n/);
  assert.deepEqual([...(k.sets.get('inet neutrino rg-g-4') ?? [])], ['10.0.0.1', '10.0.0.2']);

  k.calls.length = 0;
  assert.equal((await driver.apply(s1)).changed, false);
  assert.deepEqual(
    k.calls,
    ['nft -j list set bridge neutrino schema', 'nft -j list set inet neutrino schema'],
    'two probes, no write',
  );

  k.calls.length = 0;
  const joined = { ...s1, sg_member_ips: { g: { IPv4: ['10.0.0.1', '10.0.0.2', '10.0.0.9'], IPv6: [] } } };
  assert.equal((await driver.apply(joined)).changed, true);
  assert.equal(driver.lastScript, 'add element inet neutrino rg-g-4 { 10.0.0.9 }\n');
  assert.equal(k.calls.filter((c) => c.includes('list sets') || c.includes('list chains')).length, 0, 'the cache is trusted');
  // A refresh (a security group change between reconciles) does not even probe.
  k.calls.length = 0;
  const joined2 = { ...s1, sg_member_ips: { g: { IPv4: ['10.0.0.1', '10.0.0.2', '10.0.0.9', '10.0.0.10'], IPv6: [] } } };
  await driver.apply(joined2, { refresh: true });
  assert.deepEqual(k.calls, ['nft -f -']);
  await driver.apply(joined, { refresh: true });

  // A member leaves: its element goes and its tracked connections in the network's zone too.
  k.calls.length = 0;
  const left = { ...s1, sg_member_ips: { g: { IPv4: ['10.0.0.1', '10.0.0.9'], IPv6: [] } } };
  const r = await driver.apply(left);
  assert.equal(driver.lastScript, 'delete element inet neutrino rg-g-4 { 10.0.0.2 }\n');
  assert.deepEqual(
    k.calls.filter((c) => c.startsWith('conntrack')),
    ['conntrack -D -f ipv4 -w 1 -s 10.0.0.2', 'conntrack -D -f ipv4 -w 1 -d 10.0.0.2'],
  );
  assert.equal(r.conntrackDeleted, 2);

  // A new driver (an agent restart) reads chain names and elements back and writes nothing.
  k.calls.length = 0;
  const restarted = new NftablesFirewall('nftables', { namespace: 'h1', run: k.run });
  assert.equal((await restarted.apply(left)).changed, false);
  assert.ok(k.calls.includes('nft -j list sets table inet neutrino') && k.calls.includes('nft -j list chains inet'));
  assert.ok(!k.calls.some((c) => c.includes(' -f ')), 'nothing written');

  // No port with port security: both tables go.
  assert.equal((await restarted.apply(state(['10.0.0.1'], false))).changed, true);
  assert.equal(restarted.lastScript, 'delete table bridge neutrino\ndelete table inet neutrino\n');
});
