// `neutrino lab up|vm|exec|status|down` end to end, on one two-host lab (separate processes on a
// private broker when RabbitMQ is installed, else one process): two VMs on one network on different
// hosts get their addresses by DHCP and ping each other, and the lab's commands say what is wrong
// with a reused or unknown VM name; the lab's outside world (a namespace holding 203.0.113.1 on the
// provider bridge) and its external network `public` (flat on physnet1) are there and a VM on
// `public` reaches it; through a router with `public` as its gateway (served by one of the hosts' L3
// agents) both VMs reach outside, which sees the router's gateway address as their source (SNAT),
// and outside reaches a VM by its floating IP; `down` leaves nothing.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { destroyLab } from '../../src/lab/topology.js';
import { listNetns } from '../../src/system/index.js';
import { freePort, ServerProcess } from '../fixtures/process.js';
import { BIN } from './lab.js';
import { type Json, LabCli } from './lab-cli.js';
import { notRoot, runTag, until } from './root.js';
import { VmTcp } from './tcp.js';

describe('neutrino lab', { skip: notRoot }, () => {
  const name = `t${runTag()}`;
  const outsideNs = `nl-${name}-outside`;
  const lab = new LabCli(name);
  const neutrino = (args: string[]) => lab.run(args);
  const helpers: VmTcp[] = [];

  after(async () => {
    await Promise.allSettled(helpers.map((h) => h.stop()));
    await lab.up?.stop();
    await destroyLab(`nl-${name}`);
  });

  it('up, two VMs on two hosts with DHCP addresses that ping each other', async () => {
    const port = await freePort();
    lab.url = `http://127.0.0.1:${port}`;
    const up = await ServerProcess.start(['node', BIN, 'lab', 'up', '--lab', name, '--hosts', '2', '--port', String(port)], {
      url: lab.url,
      ready: (s) => s.log.includes('is up'),
      // With RabbitMQ installed the lab starts a broker, the server and three agent processes per host.
      deadlineMs: 120_000,
    });
    lab.up = up;
    // What it started, and the next commands as they run from here.
    assert.match(up.log, /Linux bridge agent of host h1 registered/);
    assert.match(up.log, /DHCP agent of host h2 registered/);
    assert.match(up.log, /L3 agent of host h1 registered/);
    assert.match(up.log, /L3 agent of host h2 registered/);
    assert.match(up.log, new RegExp(`node \\S*bin/neutrino\\.js lab vm v1 --lab ${name} --host h1`));
    const v1 = await neutrino(['vm', 'v1', '--host', 'h1', '--network', 'blue', '--cidr', '10.40.0.0/24', '--ip', '10.40.0.11']);
    assert.equal(v1.code, 0, v1.stderr + up.log);
    const r1 = JSON.parse(v1.stdout);
    assert.equal(r1.status, 'ACTIVE');
    assert.deepEqual(r1.addresses, ['10.40.0.11/24'], 'obtained by DHCP');
    assert.equal(r1.dhcp.mtu, 1450);
    assert.equal(r1.dhcp.router, '10.40.0.1');
    const v2 = await neutrino(['vm', 'v2', '--host', 'h2', '--network', 'blue', '--ip', '10.40.0.12']);
    assert.equal(v2.code, 0, v2.stderr + up.log);
    assert.deepEqual(JSON.parse(v2.stdout).addresses, ['10.40.0.12/24']);
    const again = await neutrino(['vm', 'v1', '--host', 'h2', '--network', 'blue']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /has a VM v1 already/);
    const unknown = await neutrino(['exec', 'v9', '--', 'true']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no VM v9 \(its VMs: v1, v2\)/);
    await lab.ping('v1', '10.40.0.12');
  });

  it('the outside world: a namespace holding 203.0.113.1, the gateway of the external network public', async () => {
    const up = lab.up;
    assert.ok(up);
    assert.match(
      up.log,
      new RegExp(`outside: namespace ${outsideNs} on the public network, holding its gateway 203\\.0\\.113\\.1`),
    );
    assert.ok((await listNetns()).includes(outsideNs));
    const addr = await neutrino(['exec', 'outside', '--', 'ip', '-4', '-o', 'address', 'show', 'dev', 'eth0']);
    assert.equal(addr.code, 0, addr.stderr);
    assert.match(addr.stdout, / inet 203\.0\.113\.1\/24 /);
    const status = await neutrino(['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /external network public \(\S+, flat on physnet1\), subnet public-subnet 203\.0\.113\.0\/24/);
    assert.match(status.stdout, /VMs: v1, v2/);
    const external = await lab.publicNetwork();
    assert.equal(external['router:external'], true);
    assert.equal(external['provider:network_type'], 'flat');
    assert.equal(external['provider:physical_network'], 'physnet1');
    const subnets = (await lab.api('GET', 'subnets?name=public-subnet')).subnets as Json[];
    assert.deepEqual(
      subnets.map((x) => [x.cidr, x.gateway_ip, x.network_id, x.allocation_pools]),
      [['203.0.113.0/24', '203.0.113.1', external.id, [{ start: '203.0.113.10', end: '203.0.113.254' }]]],
    );
    const named = await neutrino(['vm', 'outside', '--host', 'h1', '--network', 'blue']);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /'outside' is the lab's outside world/);
    // A VM on the public network itself reaches the outside over the hosts' provider bridge.
    const p1 = await neutrino(['vm', 'p1', '--host', 'h2', '--network', 'public', '--ip', '203.0.113.20']);
    assert.equal(p1.code, 0, p1.stderr + up.log);
    await lab.ping('p1', '203.0.113.1');
  });

  it('through a router to public: the VMs reach outside as its gateway address (SNAT), outside reaches a floating IP', async () => {
    const router = await lab.routerToPublic('r1', '10.40.0.0/24');
    const gateway = router.external_gateway_info.external_fixed_ips[0].ip_address as string;
    // Each VM, whichever host the router is on, reaches outside through it.
    await lab.ping('v1', '203.0.113.1');
    await lab.ping('v2', '203.0.113.1');
    // What outside sees: the router's gateway address as the source of a VM's connection.
    const outside = await VmTcp.start(outsideNs, [7000]);
    const vm = await VmTcp.start(`nl-${name}-vm-v1`);
    helpers.push(outside, vm);
    assert.ok(await vm.tryConnect('203.0.113.1', 7000), 'v1 connects to outside');
    assert.deepEqual(await outside.seen(), [gateway]);

    // A floating IP for v1: outside reaches v1 by it.
    const fip = await lab.floatingIp('v1');
    await lab.ping('outside', fip.floating_ip_address);
    await until(
      'the floating IP ACTIVE',
      async () => (await lab.api('GET', `floatingips/${fip.id}`)).floatingip.status === 'ACTIVE',
    );
    // And v1 now leaves as its floating IP.
    assert.ok(await vm.tryConnect('203.0.113.1', 7000), 'v1 connects to outside');
    assert.equal((await outside.seen()).at(-1), fip.floating_ip_address);
  });

  it('down leaves nothing', async () => {
    const up = lab.up;
    assert.ok(up);
    await Promise.allSettled(helpers.map((h) => h.stop()));
    const down = await neutrino(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(up.exitStatus, 'the lab process has exited');
    assert.deepEqual(
      (await listNetns()).filter((n) => n.startsWith(`nl-${name}`)),
      [],
    );
  });
});
