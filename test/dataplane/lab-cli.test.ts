// `neutrino lab up|vm|exec|down` end to end: a two-host lab in one process (in-process bus, no
// broker), two VMs on one network on different hosts ping each other, and `down` leaves nothing.
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

  it('up, two VMs on two hosts that ping each other, down', async () => {
    const port = await freePort();
    up = await ServerProcess.start(['node', BIN, 'lab', 'up', '--name', name, '--hosts', '2', '--port', String(port)], {
      url: `http://127.0.0.1:${port}`,
      ready: (s) => s.log.includes('is up'),
      // With RabbitMQ installed the lab starts a broker, the server and an agent process per host.
      deadlineMs: 120_000,
    });
    const v1 = await neutrino(['vm', 'v1', '--host', 'h1', '--network', 'blue', '--cidr', '10.40.0.0/24', '--ip', '10.40.0.11']);
    assert.equal(v1.code, 0, v1.stderr + up.log);
    assert.equal(JSON.parse(v1.stdout).status, 'ACTIVE');
    const v2 = await neutrino(['vm', 'v2', '--host', 'h2', '--network', 'blue', '--ip', '10.40.0.12']);
    assert.equal(v2.code, 0, v2.stderr + up.log);
    let ping = await neutrino(['exec', 'v1', '--', 'ping', '-c1', '-W2', '10.40.0.12']);
    for (let i = 0; ping.code !== 0 && i < 20; i++)
      ping = await neutrino(['exec', 'v1', '--', 'ping', '-c1', '-W1', '10.40.0.12']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr + up.log);
    const down = await neutrino(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(up.exitStatus, 'the lab process has exited');
    assert.deepEqual(
      (await listNetns()).filter((n) => n.startsWith(`nl-${name}`)),
      [],
    );
  });
});
