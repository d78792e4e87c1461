// The link monitor (src/system/monitor.ts): `ip -o monitor link` lines parsed into events; a monitor
// process that dies is started again; stop() ends it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkMonitor, parseLinkEvent } from '../../src/system/index.js';

describe('link monitor', () => {
  it('parses new, changed and deleted links, with the peer and master', () => {
    assert.deepEqual(
      parseLinkEvent(
        '3: tapaaa@vmaaa: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default \\    link/ether 26:a9',
      ),
      {
        ifname: 'tapaaa',
        deleted: false,
        master: undefined,
        line: '3: tapaaa@vmaaa: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default \\    link/ether 26:a9',
      },
    );
    const on = parseLinkEvent('3: tapaaa@NONE: <BROADCAST,MULTICAST> mtu 1500 master brqx state DOWN \\    link/ether 26:a9');
    assert.deepEqual([on?.ifname, on?.master, on?.deleted], ['tapaaa', 'brqx', false]);
    const gone = parseLinkEvent('Deleted 4: brqx: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default');
    assert.deepEqual([gone?.ifname, gone?.deleted], ['brqx', true]);
    assert.equal(parseLinkEvent('    link/ether 26:a9:7d:8a:d4:9a'), undefined);
  });

  it('starts a monitor that died again, and stop() ends it', async () => {
    const logs: string[] = [];
    // `true` exits at once: each exit is a death to recover from.
    const m = new LinkMonitor(() => undefined, { command: 'true', restartDelayMs: 10, log: (s) => logs.push(s) });
    m.start();
    const deadline = Date.now() + 5_000;
    while (m.restarts < 2) {
      assert.ok(Date.now() < deadline, 'restarted twice within 5 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    await m.stop();
    const n = m.restarts;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(m.restarts, n, 'no restart after stop()');
    assert.equal(m.pid, undefined);
    assert.match(logs[0], /link monitor \(ip monitor link\) ended \(exit status 0\); restarting it/);
  });

  it('stop() kills a running monitor by its PID and waits for its exit', async () => {
    // Only watches this namespace's links (no change is made).
    const m = new LinkMonitor(() => undefined);
    m.start();
    const pid = m.pid;
    assert.ok(pid);
    await m.stop();
    assert.equal(m.pid, undefined);
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    assert.equal(m.restarts, 0);
  });
});
