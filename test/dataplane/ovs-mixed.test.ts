// One VXLAN network spanning a Linux bridge host and an Open vSwitch host, built by the CLI as a user
// would: `neutrino lab up --l2 h1=linuxbridge,h2=openvswitch`, a VM on each host (`lab vm`), ping
// and TCP both ways (the kernel's VXLAN on one side, OVS's userspace tunnel on the other), the
// README's `ovs-ofctl dump-flows` on the OVS host's bridge, a router on the OVS host's L3 agent taking
// both VMs to the lab's outside world and letting outside in by a floating IP, and `lab down` leaving
// no namespace and no OVS daemon behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { labDir, readLabState } from '../../src/lab/run.js';
import { destroyLab } from '../../src/lab/topology.js';
import { execRunner, listNetns } from '../../src/system/index.js';
import { freePort, ServerProcess } from '../fixtures/process.js';
import { BIN } from './lab.js';
import { LabCli } from './lab-cli.js';
import { notRoot, runTag } from './root.js';

const ovsSkip =
  (await execRunner('test', ['-f', '/usr/share/openvswitch/vswitch.ovsschema'])).code === 0 || process.env.CI === 'true'
    ? false
    : 'Open vSwitch is not installed (apt-get install openvswitch-switch)';

/** Sends 2 MB over TCP from `from` to a listener in `to` at `address`; resolves to the bytes received. */
async function tcp(from: string, to: string, address: string): Promise<number> {
  const server = ServerProcess.spawn([
    'ip',
    'netns',
    'exec',
    to,
    process.execPath,
    '-e',
    "let n=0;require('net').createServer((s)=>{s.on('data',(d)=>{n+=d.length});s.on('end',()=>{console.log('GOT '+n);process.exit(0)})}).listen(5001,()=>console.log('LISTENING'));setTimeout(()=>process.exit(2),30000)",
  ]);
  try {
    for (let i = 0; i < 100 && !server.log.includes('LISTENING'); i++) await new Promise((r) => setTimeout(r, 50));
    const client = await execRunner(
      'ip',
      [
        'netns',
        'exec',
        from,
        process.execPath,
        '-e',
        `const s=require('net').connect(5001,'${address}',()=>s.end(Buffer.alloc(2e6,7)));s.on('error',(e)=>{console.error(e.message);process.exit(1)})`,
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(client.code, 0, client.stderr);
    await server.wait();
    return Number(/GOT (\d+)/.exec(server.log)?.[1] ?? -1);
  } finally {
    await server.stop();
  }
}

describe('a VXLAN network across a Linux bridge host and an Open vSwitch host (neutrino lab --l2)', {
  skip: notRoot || ovsSkip,
}, () => {
  const name = `m${runTag()}`;
  let up: ServerProcess | undefined;
  const cli = new LabCli(name);
  const lab = (args: string[]) => cli.run(args);

  after(async () => {
    await up?.stop();
    await lab(['down']);
    await destroyLab(`nl-${name}`);
  });

  it('VMs on both hosts ping and talk TCP both ways; dump-flows shows the agent’s flows; down removes everything', async () => {
    const port = await freePort();
    up = await ServerProcess.start(
      ['node', BIN, 'lab', 'up', '--name', name, '--hosts', '2', '--port', String(port), '--l2', 'h1=linuxbridge,h2=openvswitch'],
      { url: `http://127.0.0.1:${port}`, ready: (s) => s.log.includes('is up'), deadlineMs: 120_000 },
    );
    cli.url = `http://127.0.0.1:${port}`;
    cli.up = up;
    assert.match(up.log, /host h1: .*linuxbridge/);
    assert.match(up.log, /host h2: .*openvswitch, OVSDB unix:/);
    const agents = (await (await fetch(`http://127.0.0.1:${port}/v2.0/agents`)).json()) as {
      agents: Array<{ host: string; agent_type: string }>;
    };
    assert.deepEqual(agents.agents.map((a) => `${a.host}:${a.agent_type}`).sort(), [
      'h1:DHCP agent',
      'h1:L3 agent',
      'h1:Linux bridge agent',
      'h2:DHCP agent',
      'h2:L3 agent',
      'h2:Open vSwitch agent',
    ]);

    const v1 = await lab(['vm', 'v1', '--host', 'h1', '--network', 'mix', '--cidr', '10.41.0.0/24', '--ip', '10.41.0.11']);
    assert.equal(v1.code, 0, v1.stderr + up.log);
    const v2 = await lab(['vm', 'v2', '--host', 'h2', '--network', 'mix', '--ip', '10.41.0.12']);
    assert.equal(v2.code, 0, v2.stderr + up.log);
    assert.equal(JSON.parse(v2.stdout).status, 'ACTIVE');
    await cli.ping('v1', '10.41.0.12');
    await cli.ping('v2', '10.41.0.11');
    const ns = (vm: string) => `nl-${name}-vm-${vm}`;
    assert.equal(await tcp(ns('v1'), ns('v2'), '10.41.0.12'), 2e6, 'TCP Linux bridge host → OVS host');
    assert.equal(await tcp(ns('v2'), ns('v1'), '10.41.0.11'), 2e6, 'TCP OVS host → Linux bridge host');

    // The README's way to look inside: ovs-ofctl on the bridge's management socket.
    const state = readLabState(name)!;
    const h2 = state.hosts.find((h) => h.name === 'h2')!;
    const dump = await execRunner('ovs-ofctl', [
      '-O',
      'OpenFlow14',
      'dump-flows',
      `unix:${h2.ovsRundir}/br-tun.mgmt`,
      'table=22',
    ]);
    assert.equal(dump.code, 0, dump.stderr);
    assert.match(dump.stdout, /dl_vlan=\d+ actions=pop_vlan,set_field:0x[0-9a-f]+->tun_id,output:\d+/);

    // A router on the OVS host's L3 agent (its qr-/qg- ports in br-int) to the lab's public network:
    // both VMs reach outside, and outside the OVS host's VM by a floating IP.
    const router = await cli.routerToPublic('r1', '10.41.0.0/24');
    const l3 = (await cli.api('GET', 'agents?agent_type=L3%20agent')).agents as Array<{ id: string; host: string }>;
    const ovsL3 = l3.find((a) => a.host === 'h2')!;
    for (const a of (await cli.api('GET', `routers/${router.id}/l3-agents`)).agents as Array<{ id: string }>) {
      if (a.id !== ovsL3.id) await cli.api('DELETE', `agents/${a.id}/l3-routers/${router.id}`);
    }
    if (
      !((await cli.api('GET', `agents/${ovsL3.id}/l3-routers`)).routers as Array<{ id: string }>).some((r) => r.id === router.id)
    )
      await cli.api('POST', `agents/${ovsL3.id}/l3-routers`, { router_id: router.id });
    await cli.ping('v1', '203.0.113.1');
    await cli.ping('v2', '203.0.113.1');
    const fip = await cli.floatingIp('v2');
    await cli.ping('outside', fip.floating_ip_address);
    assert.ok((await listNetns()).includes(`nl-${name}-h2-qrouter-${router.id}`), "the router's namespace on the OVS host");

    const pidfiles = ['ovsdb.pid', 'vswitchd.pid'].map((f) => join(labDir(name), 'ovs-h2', f));
    const pids = pidfiles.map((f) => Number(readFileSync(f, 'utf8')));
    const down = await lab(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(
      (await listNetns()).filter((n) => n.startsWith(`nl-${name}`)),
      [],
    );
    for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `OVS daemon ${pid} still running`);
  });
});
