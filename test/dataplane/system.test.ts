// src/system against the real kernel, in namespaces of its own (removed afterwards, also on failure).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addBridge,
  addNetns,
  addVeth,
  addVxlan,
  Bridge,
  delLink,
  delNetns,
  fdbAppend,
  fdbDel,
  Ip,
  isUp,
  kindOf,
  linkSet,
  listNetns,
  Nft,
  netnsExists,
} from '../../src/system/index.js';
import { notRoot, runTag } from './root.js';

describe('system wrappers in a real namespace', { skip: notRoot }, () => {
  const tag = runTag();
  const ns = `nt-sys-${tag}`;
  const peerNs = `nt-sys-${tag}-b`;
  const ip = new Ip({ netns: ns });

  before(async () => {
    await addNetns(ns);
    await addNetns(peerNs);
  });
  after(async () => {
    await delNetns(ns);
    await delNetns(peerNs);
  });

  it('lists the namespaces it created', async () => {
    assert.ok(await netnsExists(ns));
    assert.ok((await listNetns()).includes(peerNs));
  });

  it('creates links in one batch and reads them back as JSON', async () => {
    await ip.batch([
      addBridge('br-t'),
      addVxlan('vxlan-9', 9, '192.0.2.1', { mtu: 1400 }),
      linkSet('vxlan-9', { master: 'br-t', up: true }),
      addVeth('tap-t', 'eth0', { peerNetns: peerNs, mtu: 1400 }),
      linkSet('tap-t', { master: 'br-t', up: true, alias: 'neutrino:test' }),
    ]);
    const links = new Map((await ip.links()).map((l) => [l.ifname, l]));
    assert.equal(kindOf(links.get('br-t')!), 'bridge');
    const vx = links.get('vxlan-9')!;
    assert.equal(vx.master, 'br-t');
    assert.equal(vx.mtu, 1400);
    assert.equal(vx.linkinfo?.info_data?.id, 9);
    assert.equal(vx.linkinfo?.info_data?.local, '192.0.2.1');
    assert.equal(links.get('tap-t')?.ifalias, 'neutrino:test');
    assert.ok(isUp(links.get('tap-t')!));
    assert.equal((await new Ip({ netns: peerNs }).link('eth0'))?.mtu, 1400);
    assert.equal(await ip.link('absent0'), undefined);
  });

  it('a failed batch line throws and the other lines still apply', async () => {
    await assert.rejects(ip.batch([delLink('absent0'), linkSet('br-t', { up: true })]), /absent0|Cannot find/);
    assert.ok(isUp((await ip.link('br-t'))!));
  });

  it('writes and reads VXLAN FDB entries', async () => {
    const bridge = new Bridge({ netns: ns });
    await bridge.batch([
      fdbAppend('00:00:00:00:00:00', 'vxlan-9', '192.0.2.2'),
      fdbAppend('00:00:00:00:00:00', 'vxlan-9', '192.0.2.3'),
      fdbAppend('fa:16:3e:00:00:05', 'vxlan-9', '192.0.2.2'),
    ]);
    const dsts = (await bridge.fdb('vxlan-9')).filter((r) => r.dst).map((r) => `${r.mac}>${r.dst}`);
    assert.deepEqual(dsts.sort(), ['00:00:00:00:00:00>192.0.2.2', '00:00:00:00:00:00>192.0.2.3', 'fa:16:3e:00:00:05>192.0.2.2']);
    await bridge.batch([fdbDel('00:00:00:00:00:00', 'vxlan-9', '192.0.2.3')]);
    assert.equal((await bridge.fdb('vxlan-9')).filter((r) => r.dst).length, 2);
  });

  it('replaces an nft table atomically and reads its comment back', async () => {
    const nft = new Nft({ netns: ns });
    assert.equal(await nft.tableComment('bridge', 'neutrino'), undefined);
    const chain = '  chain c {\n    type filter hook prerouting priority -200; policy accept;\n  }';
    await nft.replaceTable('bridge', 'neutrino', chain, 'v1');
    await nft.replaceTable('bridge', 'neutrino', chain, 'v2');
    assert.equal(await nft.tableComment('bridge', 'neutrino'), 'v2');
    assert.ok((await nft.tables()).some((t) => t.family === 'bridge' && t.name === 'neutrino'));
    await nft.deleteTable('bridge', 'neutrino');
    assert.equal(await nft.tableComment('bridge', 'neutrino'), undefined);
  });
});
