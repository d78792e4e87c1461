// The interface driver on the real kernel: a port's device in a namespace of the agent's, its tap on
// the (simulated) host; idempotent, healed when half made, removed by unplug.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { VethInterfaceDriver } from '../../src/agents/common/interface.js';
import { addNetns, delLink, delNetns, Ip, isUp } from '../../src/system/index.js';
import { notRoot, runTag } from './root.js';

describe('VethInterfaceDriver', { skip: notRoot }, () => {
  const tag = runTag();
  const hostNs = `nt-if-${tag}-host`;
  const target = `nt-if-${tag}-qdhcp`;
  const driver = new VethInterfaceDriver();
  const portId = randomUUID();
  const tap = `tap${portId.slice(0, 11)}`;
  const o = {
    portId,
    mac: 'fa:16:3e:12:34:56',
    mtu: 1450,
    netns: target,
    ifname: `ns-${portId.slice(0, 11)}`,
    hostNetns: hostNs,
  };

  before(async () => {
    await addNetns(hostNs);
  });
  after(async () => {
    await delNetns(hostNs).catch(() => undefined);
    await delNetns(target).catch(() => undefined);
  });

  it('plugs: the tap on the host, the named device with MAC and MTU in the created namespace, both up', async () => {
    assert.equal(await driver.plugged(o), false);
    await driver.plug(o);
    const hostEnd = await new Ip({ netns: hostNs }).link(tap);
    const inside = await new Ip({ netns: target }).link(o.ifname);
    assert.ok(hostEnd && isUp(hostEnd));
    assert.ok(inside && isUp(inside));
    assert.equal(inside.address, o.mac);
    assert.equal(inside.mtu, 1450);
    assert.equal(await driver.plugged(o), true);
  });

  it('plugging again changes nothing; a half-made pair is made again', async () => {
    const before = (await new Ip({ netns: target }).link(o.ifname))?.ifindex;
    await driver.plug(o);
    assert.equal((await new Ip({ netns: target }).link(o.ifname))?.ifindex, before);
    // Only the inside end is gone (its namespace was emptied): plug recreates the pair.
    await new Ip({ netns: target }).batch([delLink(o.ifname)], { force: false });
    assert.equal(await new Ip({ netns: hostNs }).link(tap), undefined, 'a veth goes with its peer');
    await driver.plug(o);
    assert.ok(await new Ip({ netns: target }).link(o.ifname));
  });

  it('unplugs both ends; unplugging again is fine', async () => {
    await driver.unplug(o);
    assert.equal(await new Ip({ netns: hostNs }).link(tap), undefined);
    assert.equal(await new Ip({ netns: target }).link(o.ifname), undefined);
    await driver.unplug(o);
  });
});
