// src/system against a recording fake runner: the exact argument arrays and batch input, no shell,
// and refusal of anything that is not a checked name, address or token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addBridge,
  addVeth,
  addVxlan,
  Bridge,
  Conntrack,
  check,
  type ExecOptions,
  type ExecResult,
  fdbAppend,
  fdbDel,
  Ip,
  inNetns,
  linkSet,
  Nft,
  type Runner,
  SystemError,
  valid,
} from '../../src/system/index.js';

interface Call {
  file: string;
  args: readonly string[];
  input?: string;
}

function fake(answer: (c: Call) => Partial<ExecResult> = () => ({})): { run: Runner; calls: Call[] } {
  const calls: Call[] = [];
  const run: Runner = async (file, args, opts?: ExecOptions) => {
    const c = { file, args, input: opts?.input };
    calls.push(c);
    return { code: 0, stdout: '', stderr: '', ...answer(c) };
  };
  return { run, calls };
}

test('ip: JSON reads and one batch on stdin, inside the namespace', async () => {
  const { run, calls } = fake((c) =>
    c.args.includes('-j') ? { stdout: '[{"ifindex":1,"ifname":"lo","flags":[],"mtu":65536}]' } : {},
  );
  const ip = new Ip({ netns: 'host-1', run });
  assert.equal((await ip.links())[0].ifname, 'lo');
  await ip.batch([addBridge('brq123'), linkSet('brq123', { up: true, alias: 'neutrino:network:x' })]);
  await ip.batch([]);
  assert.deepEqual(calls, [
    { file: 'ip', args: ['-n', 'host-1', '-j', '-d', 'link', 'show'], input: undefined },
    {
      file: 'ip',
      args: ['-n', 'host-1', '-force', '-batch', '-'],
      input: 'link add name brq123 type bridge stp_state 0 forward_delay 0\nlink set dev brq123 alias neutrino:network:x up\n',
    },
  ]);
});

test('ip: a missing link is undefined, other failures throw SystemError with the stderr', async () => {
  const { run } = fake((c) =>
    c.args.includes('nope')
      ? { code: 1, stderr: 'Device "nope" does not exist.' }
      : { code: 2, stderr: 'RTNETLINK answers: boom' },
  );
  const ip = new Ip({ run });
  assert.equal(await ip.link('nope'), undefined);
  await assert.rejects(ip.link('other'), (e: unknown) => e instanceof SystemError && /boom/.test(e.message));
  await assert.rejects(check(run, 'ip', ['x']), SystemError);
});

test('command builders: vxlan with nolearning, veth into a namespace, fdb entries', () => {
  assert.deepEqual(addVxlan('vxlan-42', 42, '192.0.2.1', { mtu: 1450 }), [
    'link',
    'add',
    'name',
    'vxlan-42',
    'mtu',
    '1450',
    'type',
    'vxlan',
    'id',
    '42',
    'local',
    '192.0.2.1',
    'dstport',
    '4789',
    'nolearning',
  ]);
  assert.deepEqual(addVeth('tapabc', 'eth0', { peerNetns: 'vm1' }).slice(-4), ['name', 'eth0', 'netns', 'vm1']);
  assert.deepEqual(linkSet('tapabc', { master: null, up: false }), ['link', 'set', 'dev', 'tapabc', 'nomaster', 'down']);
  assert.deepEqual(fdbAppend('FA:16:3E:00:00:01', 'vxlan-42', '192.0.2.2'), [
    'fdb',
    'append',
    'fa:16:3e:00:00:01',
    'dev',
    'vxlan-42',
    'dst',
    '192.0.2.2',
  ]);
});

test('nothing unchecked reaches a command line or a batch line', async () => {
  assert.throws(() => valid.device('eth0; reboot'), /invalid device name/);
  assert.throws(() => valid.device('a-name-longer-than-15'), /invalid device name/);
  assert.throws(() => valid.device('../x'), /invalid device name/);
  assert.throws(() => valid.netns('ns\nlink del eth0'), /namespace/);
  assert.throws(() => valid.mac('fa:16:3e:00:00'), /MAC/);
  assert.throws(() => valid.ip('10.0.0.300'), /IP address/);
  assert.throws(() => valid.cidr('10.0.0.0/33'), /CIDR/);
  assert.equal(valid.cidr('2001:db8::/64'), '2001:db8::/64');
  assert.throws(() => valid.line(['link', 'set', 'dev', 'x', 'alias', 'two words']), /command token/);
  assert.throws(() => fdbDel('00:00:00:00:00:00', 'vxlan-1', '192.0.2.1\nfdb flush'), /IP address/);
  const { run, calls } = fake();
  await assert.rejects(new Ip({ run }).batch([['link', 'del', 'x"y']]), /command token/);
  assert.throws(() => new Bridge({ netns: 'bad name', run }), /namespace/);
  assert.equal(calls.length, 0);
});

test('bridge fdb and nft: namespaces, batches, one atomic table replacement', async () => {
  const { run, calls } = fake((c) => (c.args.includes('-t') ? { stdout: 'table bridge neutrino {\n\tcomment "h1"\n}\n' } : {}));
  await new Bridge({ netns: 'h1', run }).batch([fdbAppend('00:00:00:00:00:00', 'vxlan-7', '192.0.2.9')]);
  const nft = new Nft({ netns: 'h1', run });
  assert.equal(await nft.tableComment('bridge', 'neutrino'), 'h1');
  await nft.replaceTable('bridge', 'neutrino', '  chain c {\n  }', 'h2');
  assert.deepEqual(calls[0], {
    file: 'bridge',
    args: ['-n', 'h1', '-force', '-batch', '-'],
    input: 'fdb append 00:00:00:00:00:00 dev vxlan-7 dst 192.0.2.9\n',
  });
  assert.deepEqual(calls[2].args, ['netns', 'exec', 'h1', 'nft', '-f', '-']);
  assert.equal(
    calls[2].input,
    'add table bridge neutrino\ndelete table bridge neutrino\ntable bridge neutrino {\n  comment "h2"\n  chain c {\n  }\n}\n',
  );
  assert.deepEqual(inNetns(undefined, 'nft', ['-j']), ['nft', ['-j']]);
});

test('nft: the state of tables read from listings (no rule listed), a script applied on stdin', async () => {
  const { run, calls } = fake((c) => {
    const a = c.args.join(' ');
    if (a.includes('bridge neutrino')) return { code: 1, stderr: 'Error: No such file or directory\n' };
    if (a.includes('list set inet neutrino schema'))
      return {
        stdout: JSON.stringify({ nftables: [{ set: { family: 'inet', table: 'neutrino', name: 'schema', handle: 9 } }] }),
      };
    if (a.includes('chains'))
      return { stdout: JSON.stringify({ nftables: [{ chain: { family: 'inet', table: 'neutrino', name: 'raw' } }] }) };
    if (a.includes('list sets table inet neutrino'))
      return {
        stdout: JSON.stringify({ nftables: [{ set: { family: 'inet', table: 'neutrino', name: 'schema', elem: [1] } }] }),
      };
    return { stdout: JSON.stringify({ nftables: [] }) };
  });
  const nft = new Nft({ netns: 'h1', run });
  assert.equal(await nft.setHandle('inet', 'neutrino', 'schema'), 9);
  assert.equal(await nft.setHandle('bridge', 'neutrino', 'schema'), undefined, 'no such table: undefined, no error');
  const state = await nft.readTables([
    ['inet', 'neutrino'],
    ['bridge', 'neutrino'],
  ]);
  assert.deepEqual([...state.keys()], ['inet neutrino'], 'a table that does not exist is absent');
  assert.equal(state.get('inet neutrino')?.schema, 1);
  assert.deepEqual([...(state.get('inet neutrino')?.chains ?? [])], ['raw']);
  const args = calls.map((c) => c.args.slice(4).join(' '));
  assert.ok(
    args.includes('-j list sets table inet neutrino') &&
      args.includes('-j list chains inet') &&
      args.includes('-j list maps inet'),
  );
  assert.ok(
    !args.some((a) => a.includes('ruleset') || a.includes('list table ') || a.includes('list tables')),
    'rules are never listed',
  );
  await nft.apply('');
  const before = calls.length;
  await nft.apply('add element inet neutrino rg-a-4 { 10.0.0.1 }\n');
  assert.equal(calls.length, before + 1, 'an empty script runs nothing');
  assert.deepEqual(calls.at(-1), {
    file: 'ip',
    args: ['netns', 'exec', 'h1', 'nft', '-f', '-'],
    input: 'add element inet neutrino rg-a-4 { 10.0.0.1 }\n',
  });
});

test('conntrack: deletes by zone and address or prefix; nothing matched is not an error', async () => {
  const { run, calls } = fake((c) =>
    c.args.includes('10.0.0.9')
      ? { code: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n' }
      : { stderr: '2 flow entries have been deleted.' },
  );
  const ct = new Conntrack({ netns: 'h1', run });
  assert.equal(await ct.delete({ zone: 3, src: '10.0.0.5' }), 2);
  assert.equal(await ct.delete({ zone: 3, dst: '10.0.0.9' }), 0);
  await ct.delete({ zone: 3, src: '10.1.0.0/16' });
  await ct.delete({ src: 'fd00::/64' });
  await ct.delete({ replyDst: '203.0.113.20' });
  assert.deepEqual(
    calls.map((c) => c.args.slice(3)),
    [
      ['conntrack', '-D', '-f', 'ipv4', '-w', '3', '-s', '10.0.0.5'],
      ['conntrack', '-D', '-f', 'ipv4', '-w', '3', '-d', '10.0.0.9'],
      ['conntrack', '-D', '-f', 'ipv4', '-w', '3', '-s', '10.1.0.0', '--mask-src', '255.255.0.0'],
      ['conntrack', '-D', '-f', 'ipv6', '-s', 'fd00::', '--mask-src', 'ffff:ffff:ffff:ffff:0:0:0:0'],
      ['conntrack', '-D', '-f', 'ipv4', '-q', '203.0.113.20'],
    ],
  );
  await assert.rejects(ct.delete({ zone: 3, src: '10.0.0.1; reboot' }), /CIDR/);
  await assert.rejects(ct.delete({ zone: 70000, src: '10.0.0.1' }), /integer/);
  await assert.rejects(ct.delete({}), /without an address/);
  await assert.rejects(ct.delete({ replyDst: '203.0.113.20 -F' }), /IP address/);
});
