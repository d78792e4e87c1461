// Open vSwitch for real (userspace datapath), without a server: an ovsdb-server and an ovs-vswitchd
// of the test's own, ovs-vswitchd inside a namespace standing in for a host.
//  - the OVSDB client: transactions that wait for ovs-vswitchd, a replica that follows changes made
//    by another client, and a connection made again when ovsdb-server restarts;
//  - ovs-ofctl bundles: a table replaced at once, and a bundle with one bad flow changes nothing;
//  - the OVS interface driver: a port's veth on br-int with the external_ids the agent reads;
//  - the OVS backend: two VMs on a local network ping each other, a second apply changes nothing,
//    flows wiped behind its back (the canary gone) are installed again, and sFlow and NetFlow
//    samples of br-int reach collectors on 127.0.0.1 of the host's namespace.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OvsVethInterfaceDriver } from '../../src/agents/common/interface.js';
import { OvsBackend, type OvsBackendOptions } from '../../src/agents/openvswitch/backend.js';
import { type OvsDaemons, startOvs, stopOvs } from '../../src/lab/ovs.js';
import type { HostPort, HostState } from '../../src/rpc/contract.js';
import { addAddress, addNetns, delNetns, execRunner, Ip, OfCtl, VSwitch } from '../../src/system/index.js';
import { notRoot, runTag, until } from './root.js';

const ovsSkip =
  (await execRunner('test', ['-f', '/usr/share/openvswitch/vswitch.ovsschema'])).code === 0 || process.env.CI === 'true'
    ? false
    : 'Open vSwitch is not installed (apt-get install openvswitch-switch)';

const NET = '0e0e0e0e-1111-4222-8333-444444444444';

/** A UDP collector on 127.0.0.1 inside `netns`: one line per datagram, its first bytes in hex. */
function collector(netns: string): { child: ChildProcessWithoutNullStreams; port: Promise<number>; heads: string[] } {
  const script =
    "const s=require('dgram').createSocket('udp4');" +
    "s.on('message',(m)=>console.log('D '+m.subarray(0,4).toString('hex')));" +
    "s.bind(0,'127.0.0.1',()=>console.log('P '+s.address().port));";
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script]);
  const heads: string[] = [];
  const port = new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      for (const line of d.split('\n')) {
        if (line.startsWith('P ')) resolve(Number(line.slice(2)));
        if (line.startsWith('D ')) heads.push(line.slice(2));
      }
    });
    child.once('exit', () => reject(new Error('the collector exited')));
  });
  return { child, port, heads };
}

describe('Open vSwitch on the userspace datapath', { skip: notRoot || ovsSkip }, () => {
  const tag = runTag();
  const host = `nt-ovs-${tag}`;
  const vms = [`nt-ovs-${tag}-v1`, `nt-ovs-${tag}-v2`];
  const dir = mkdtempSync(join(tmpdir(), `nt-ovs-${tag}-`));
  let d: OvsDaemons;
  let vs: VSwitch;
  const collectors: ChildProcessWithoutNullStreams[] = [];

  before(async () => {
    await addNetns(host);
    d = await startOvs(join(dir, 'ovs'), host);
    vs = new VSwitch(d.db, { timeoutMs: 10_000 });
    await vs.start();
  });
  after(async () => {
    vs?.close();
    for (const c of collectors) c.kill();
    await stopOvs(join(dir, 'ovs'));
    for (const ns of [host, ...vms, `${host}-q`]) await delNetns(ns).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('OVSDB: a transaction waits until ovs-vswitchd has the port (it has its OpenFlow number)', async () => {
    await vs.apply([{ op: 'addBridge', name: 'br-x', datapathType: 'netdev', failMode: 'secure', protocols: ['OpenFlow14'] }]);
    await vs.apply([{ op: 'addPort', bridge: 'br-x', name: 'px', type: 'internal', externalIds: { 'iface-id': 'p' } }]);
    const s = vs.snapshot();
    assert.ok((s.interfaces.get('px')?.ofport ?? 0) > 0, JSON.stringify(s.interfaces.get('px')));
    assert.equal(s.portBridge.get('px'), 'br-x');
    assert.ok(s.curCfg >= s.nextCfg);
  });

  it('OVSDB: the replica follows another client’s change, and survives an ovsdb-server restart', async () => {
    const seen = new Promise<void>((resolve) => {
      const off = vs.subscribe(() => {
        if (vs.snapshot().ports.has('py')) {
          off();
          resolve();
        }
      });
    });
    const r = await execRunner('ovs-vsctl', [
      `--db=${d.db}`,
      'add-port',
      'br-x',
      'py',
      '--',
      'set',
      'interface',
      'py',
      'type=internal',
    ]);
    assert.equal(r.code, 0, r.stderr);
    await seen;
    // ovsdb-server goes away and comes back: the client connects again and reloads its replica.
    const connects = vs.db.connects;
    const pid = Number((await execRunner('cat', [join(d.dir, 'ovsdb.pid')])).stdout);
    process.kill(pid, 'SIGTERM');
    await until('ovsdb-server gone', async () => (await execRunner('kill', ['-0', String(pid)])).code !== 0, 5_000);
    const again = await execRunner('ovsdb-server', [
      join(d.dir, 'conf.db'),
      `--remote=punix:${join(d.dir, 'db.sock')}`,
      `--unixctl=${join(d.dir, 'ovsdb.ctl')}`,
      `--pidfile=${join(d.dir, 'ovsdb.pid')}`,
      `--log-file=${join(d.dir, 'ovsdb.log')}`,
      '--detach',
    ]);
    assert.equal(again.code, 0, again.stderr);
    await until('the client connected again', async () => vs.db.connects > connects && vs.db.connected, 15_000);
    assert.ok(vs.snapshot().ports.has('py'));
    await vs.apply([{ op: 'delPort', bridge: 'br-x', name: 'py' }]);
    assert.equal(vs.snapshot().ports.has('py'), false);
  });

  it('ovs-ofctl: a bundle replaces the table at once; a bundle with one bad flow changes nothing', async () => {
    const of = new OfCtl({ rundir: d.rundir });
    await of.replaceFlows('br-x', [
      'cookie=0x1,table=0,priority=1,in_port=1,actions=drop',
      'cookie=0x1,table=0,priority=0,actions=NORMAL',
    ]);
    const first = await of.dumpFlows('br-x');
    assert.deepEqual(
      first.map((f) => [f.cookie, f.priority, f.actions]),
      [
        ['0x1', 1, 'drop'],
        ['0x1', 0, 'NORMAL'],
      ],
    );
    // goto_table must go forward: the switch rejects the last flow, so the bundle as a whole.
    await assert.rejects(
      of.replaceFlows('br-x', [
        'cookie=0x2,table=0,priority=0,actions=NORMAL',
        'cookie=0x2,table=5,priority=0,actions=goto_table:1',
      ]),
    );
    assert.deepEqual(await of.dumpFlows('br-x'), first);
    // The same flows with a new cookie: modified in place (the counters stay), not deleted and re-added.
    await of.replaceFlows('br-x', [
      'cookie=0x3,table=0,priority=1,in_port=1,actions=drop',
      'cookie=0x3,table=0,priority=0,actions=NORMAL',
    ]);
    assert.deepEqual(
      (await of.dumpFlows('br-x')).map((f) => f.cookie),
      ['0x3', '0x3'],
    );
  });

  it('the OVS interface driver puts the port’s veth on br-int with its iface-id, on the dead VLAN; unplug removes it', async () => {
    await vs.apply([{ op: 'addBridge', name: 'br-int', datapathType: 'netdev', failMode: 'secure' }]);
    const driver = new OvsVethInterfaceDriver({ ovsdb: d.db, bridge: 'br-int', datapathType: 'netdev' });
    const portId = randomUUID();
    const tap = `tap${portId.slice(0, 11)}`;
    const o = { portId, mac: 'fa:16:3e:12:34:56', mtu: 1450, netns: `${host}-q`, ifname: 'ns-test', hostNetns: host };
    await driver.plug(o);
    await until('the port in the replica', async () => vs.snapshot().interfaces.has(tap));
    const s = vs.snapshot();
    assert.equal(s.portBridge.get(tap), 'br-int');
    assert.equal(s.ports.get(tap)?.tag, 4095);
    assert.deepEqual(s.interfaces.get(tap)?.external_ids, {
      'attached-mac': o.mac,
      'iface-id': portId,
      'iface-status': 'active',
    });
    const ethtool = await execRunner('ip', ['netns', 'exec', host, 'ethtool', '-k', tap]);
    assert.match(ethtool.stdout, /tx-checksumming: off/);
    await driver.unplug(o);
    await until('the port gone', async () => !vs.snapshot().interfaces.has(tap));
    assert.equal(await new Ip({ netns: host }).link(tap), undefined);
  });

  it('the OVS backend wires two VMs on a local network; a second apply changes nothing; wiped flows come back; sFlow and NetFlow reach their collectors', async () => {
    const sflow = collector(host);
    const netflow = collector(host);
    collectors.push(sflow.child, netflow.child);
    const opts: OvsBackendOptions = {
      integrationBridge: 'br-int',
      tunnelBridge: 'br-tun',
      intPeerPatchPort: 'patch-tun',
      tunPeerPatchPort: 'patch-int',
      bridgeMappings: {},
      localIp: null,
      tunnelTypes: [],
      vxlanUdpPort: 4789,
      l2Population: false,
      arpResponder: false,
      datapathType: 'netdev',
      dontFragment: true,
      portSecurity: true,
      sflow: { targets: [`127.0.0.1:${await sflow.port}`], sampling: 1, polling: 1 },
      netflow: { targets: [`127.0.0.1:${await netflow.port}`], activeTimeout: 1 },
      ovsdbConnection: d.db,
      rundir: d.rundir,
      ovsdbTimeoutSec: 10,
      ofTimeoutSec: 10,
      probeIntervalSec: 5,
      canaryIntervalMs: 0,
      configurations: {},
    };
    const backend = new OvsBackend(opts);
    try {
      const ports: HostPort[] = [1, 2].map((i) => ({
        id: `${tag}0${i}-aaaa-4bbb-8ccc-dddddddddddd`,
        network_id: NET,
        mac_address: `fa:16:3e:00:00:0${i}`,
        fixed_ips: [{ subnet_id: 's', ip_address: `10.0.0.${i}` }],
        admin_state_up: true,
        status: 'DOWN',
        device_owner: 'compute:nova',
        device_id: `vm${i}`,
        network_type: 'local',
        physical_network: null,
        segmentation_id: null,
        mtu: 1500,
        port_security_enabled: true,
        allowed_address_pairs: [],
        security_groups: [],
        revision_number: 1,
      }));
      const state: HostState = { host: 'h', ports, networks: [], security_groups: {}, sg_member_ips: {}, fdb: {} };
      await backend.apply({ ...state, ports: [] });
      const driver = new OvsVethInterfaceDriver({ ovsdb: d.db, bridge: 'br-int', datapathType: 'netdev' });
      for (const [i, p] of ports.entries()) {
        await driver.plug({ portId: p.id, mac: p.mac_address, mtu: 1500, netns: vms[i], ifname: 'eth0', hostNetns: host });
        await new Ip({ netns: vms[i] }).batch([addAddress(`10.0.0.${i + 1}/24`, 'eth0')], { force: false });
      }
      await until('both VIFs with OpenFlow ports', async () =>
        ports.every((p) => (vs.snapshot().interfaces.get(`tap${p.id.slice(0, 11)}`)?.ofport ?? 0) > 0),
      );
      assert.deepEqual([...(await backend.apply(state))].sort(), ports.map((p) => p.id).sort());
      const ping = () => execRunner('ip', ['netns', 'exec', vms[0], 'ping', '-c1', '-W1', '10.0.0.2']);
      await until('v1 → v2', async () => (await ping()).code === 0, 10_000);
      // Converged: nothing to change in OVSDB, no flows to replace.
      await backend.apply(state);
      assert.deepEqual([backend.last.ovsdbOps, backend.last.portOps, backend.last.flowsReplaced], [0, 0, []]);
      // Flows wiped behind the agent's back (as by an ovs-vswitchd restart): the canary is gone, and
      // the next apply installs everything again.
      assert.equal((await execRunner('ovs-ofctl', ['del-flows', `unix:${join(d.rundir, 'br-int.mgmt')}`])).code, 0);
      assert.notEqual((await ping()).code, 0, 'traffic passes without flows');
      await backend.apply(state);
      assert.deepEqual(backend.last.flowsReplaced, ['br-int']);
      assert.equal((await ping()).code, 0);
      // Monitoring: sFlow datagrams (version 5) and NetFlow v5 records, while traffic flows.
      const pinger = spawn('ip', ['netns', 'exec', vms[0], 'ping', '-i', '0.2', '-c', '40', '10.0.0.2'], { stdio: 'ignore' });
      try {
        await until('an sFlow datagram', async () => sflow.heads.length > 0, 15_000);
        await until('a NetFlow record', async () => netflow.heads.length > 0, 20_000);
      } finally {
        pinger.kill();
      }
      assert.equal(sflow.heads[0], '00000005');
      assert.match(netflow.heads[0], /^0005/);
      // Off again: br-int exports nothing.
      const quiet = new OvsBackend({ ...opts, sflow: null, netflow: null });
      await quiet.apply(state);
      const br = vs.snapshot().bridges.get('br-int');
      assert.deepEqual([br?.sflow, br?.netflow], [null, null]);
      await quiet.close();
    } finally {
      await backend.close();
    }
  });
});
