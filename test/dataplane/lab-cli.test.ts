// `neutrino lab up|vm|exec|down` end to end: a two-host lab (separate processes on a private broker
// when RabbitMQ is installed, else one process), two VMs on one network on different hosts get their
// addresses by DHCP and ping each other, the lab's commands say what is wrong with a reused or unknown
// VM name; the lab's outside world (a namespace holding 203.0.113.1 on the provider bridge) and its
// external network `public` (flat on physnet1) are there and a VM on `public` reaches it; `down`
// leaves nothing.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { destroyLab } from '../../src/lab/topology.js';
import { listNetns } from '../../src/system/index.js';
import { freePort, run, ServerProcess } from '../fixtures/process.js';
import { BIN } from './lab.js';
import { notRoot, runTag } from './root.js';

describe('neutrino lab', { skip: notRoot }, () => {
  const name = `t${runTag()}`;
  let up: ServerProcess | undefined;
  const neutrino = (args: string[]) => run('node', [BIN, 'lab', args[0], '--lab', name, ...args.slice(1)], { timeoutMs: 60_000 });

  after(async () => {
    await up?.stop();
    await destroyLab(`nl-${name}`);
  });

  it('up, two VMs on two hosts with DHCP addresses that ping each other, down', async () => {
    const port = await freePort();
    up = await ServerProcess.start(['node', BIN, 'lab', 'up', '--lab', name, '--hosts', '2', '--port', String(port)], {
      url: `http://127.0.0.1:${port}`,
      ready: (s) => s.log.includes('is up'),
      // With RabbitMQ installed the lab starts a broker, the server and an agent process per host.
      deadlineMs: 120_000,
    });
    // What it started, and the next commands as they run from here.
    assert.match(up.log, /Linux bridge agent of host h1 registered/);
    assert.match(up.log, /DHCP agent of host h2 registered/);
    assert.match(up.log, new RegExp(`node \\S*bin/neutrino\\.js lab vm v1 --lab ${name} --host h1`));
    const v1 = await neutrino(['vm', 'v1', '--host', 'h1', '--network', 'blue', '--cidr', '10.40.0.0/24', '--ip', '10.40.0.11']);
    assert.equal(v1.code, 0, v1.stderr + up.log);
    const r1 = JSON.parse(v1.stdout);
    assert.equal(r1.status, 'ACTIVE');
    assert.deepEqual(r1.addresses, ['10.40.0.11/24'], 'obtained by DHCP');
    assert.equal(r1.dhcp.mtu, 1450);
    const v2 = await neutrino(['vm', 'v2', '--host', 'h2', '--network', 'blue', '--ip', '10.40.0.12']);
    assert.equal(v2.code, 0, v2.stderr + up.log);
    assert.deepEqual(JSON.parse(v2.stdout).addresses, ['10.40.0.12/24']);
    const again = await neutrino(['vm', 'v1', '--host', 'h2', '--network', 'blue']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /has a VM v1 already/);
    const unknown = await neutrino(['exec', 'v9', '--', 'true']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no VM v9 \(its VMs: v1, v2\)/);
    const ping = async (vm: string, address: string) => {
      let r = await neutrino(['exec', vm, '--', 'ping', '-c1', '-W2', address]);
      for (let i = 0; r.code !== 0 && i < 20; i++) r = await neutrino(['exec', vm, '--', 'ping', '-c1', '-W1', address]);
      assert.equal(r.code, 0, `${vm} → ${address}: ${r.stdout}${r.stderr}${up?.log}`);
    };
    await ping('v1', '10.40.0.12');

    // The outside world: `lab exec outside` runs in its namespace, which holds the public gateway.
    assert.match(
      up.log,
      new RegExp(`outside: namespace nl-${name}-outside on the public network, holding its gateway 203\\.0\\.113\\.1`),
    );
    const addr = await neutrino(['exec', 'outside', '--', 'ip', '-4', '-o', 'address', 'show', 'dev', 'eth0']);
    assert.equal(addr.code, 0, addr.stderr);
    assert.match(addr.stdout, / inet 203\.0\.113\.1\/24 /);
    assert.ok((await listNetns()).includes(`nl-${name}-outside`));
    const status = await neutrino(['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /external network public \(\S+, flat on physnet1\), subnet public-subnet 203\.0\.113\.0\/24/);
    assert.match(status.stdout, /VMs: v1, v2/);
    const nets = (await (await fetch(`http://127.0.0.1:${port}/v2.0/networks?name=public`)).json()).networks;
    assert.equal(nets.length, 1);
    assert.equal(nets[0]['router:external'], true);
    assert.equal(nets[0]['provider:network_type'], 'flat');
    const subnets = (await (await fetch(`http://127.0.0.1:${port}/v2.0/subnets?name=public-subnet`)).json()).subnets;
    assert.deepEqual(
      subnets.map((x: Record<string, unknown>) => [x.cidr, x.gateway_ip, x.network_id]),
      [['203.0.113.0/24', '203.0.113.1', nets[0].id]],
    );
    const named = await neutrino(['vm', 'outside', '--host', 'h1', '--network', 'blue']);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /'outside' is the lab's outside world/);
    // A VM on the public network reaches the outside over the hosts' provider bridge.
    const p1 = await neutrino(['vm', 'p1', '--host', 'h2', '--network', 'public', '--ip', '203.0.113.20']);
    assert.equal(p1.code, 0, p1.stderr + up.log);
    await ping('p1', '203.0.113.1');
    const down = await neutrino(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(up.exitStatus, 'the lab process has exited');
    assert.deepEqual(
      (await listNetns()).filter((n) => n.startsWith(`nl-${name}`)),
      [],
    );
  });
});
