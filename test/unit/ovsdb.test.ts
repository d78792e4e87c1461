// The OVSDB client's pure parts: splitting a stream of JSON texts, OVSDB's data notation, the
// Open_vSwitch operations the agents send, and JSON-RPC over a socket (echo answered, notifications,
// replies by id, errors, the inactivity probe) against a scripted peer on a unix socket.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ovsdbData as d,
  decodeSnapshot,
  encodeOps,
  JsonSplitter,
  OvsdbClient,
  parseTarget,
  type Row,
  RpcConnection,
  RpcError,
} from '../../src/system/index.js';

describe('JsonSplitter', () => {
  it('splits concatenated texts, also when they arrive in pieces, with braces and quotes in strings', () => {
    const s = new JsonSplitter();
    const a = JSON.stringify({ id: 1, result: ['a}b', 'c"{d', '\\'] });
    const b = JSON.stringify({ method: 'update', params: [null, { x: { y: 1 } }], id: null });
    const whole = `${a}\n${b}`;
    const out: string[] = [];
    for (let i = 0; i < whole.length; i += 3) out.push(...s.push(whole.slice(i, i + 3)));
    assert.deepEqual(
      out.map((t) => JSON.parse(t)),
      [JSON.parse(a), JSON.parse(b)],
    );
  });
  it('refuses garbage between texts', () => {
    assert.throws(() => new JsonSplitter().push('{"a":1} x'), /unexpected/);
  });
});

describe('OVSDB data notation', () => {
  it('decodes atoms, sets, optionals and maps', () => {
    assert.equal(d.atom(['uuid', 'u1']), 'u1');
    assert.deepEqual(d.set(['set', [1, 2]]), [1, 2]);
    assert.deepEqual(d.set('x'), ['x']);
    assert.equal(d.optional(['set', []]), null);
    assert.equal(d.optional(7), 7);
    assert.deepEqual(
      d.map([
        'map',
        [
          ['iface-id', 'p'],
          ['attached-mac', 'fa:16:3e:00:00:01'],
        ],
      ]),
      {
        'iface-id': 'p',
        'attached-mac': 'fa:16:3e:00:00:01',
      },
    );
    assert.throws(() => d.map(['set', []]), /not an OVSDB map/);
  });
  it('encodes maps sorted, optionals as the empty set', () => {
    assert.deepEqual(d.toMap({ b: '2', a: '1' }), [
      'map',
      [
        ['a', '1'],
        ['b', '2'],
      ],
    ]);
    assert.deepEqual(d.toOptional(null), ['set', []]);
    assert.equal(d.toOptional(5), 5);
  });
  it('parses connection targets', () => {
    assert.deepEqual(parseTarget('unix:/run/openvswitch/db.sock'), { path: '/run/openvswitch/db.sock' });
    assert.deepEqual(parseTarget('tcp:127.0.0.1:6640'), { host: '127.0.0.1', port: 6640 });
    assert.deepEqual(parseTarget('tcp:[::1]:6640'), { host: '::1', port: 6640 });
    assert.throws(() => parseTarget('ssl:1.2.3.4:6640'), /not an OVSDB connection/);
  });
});

/** A replica as the monitor delivers it. */
function rows(tables: Record<string, Record<string, Row>>) {
  return (t: string) => new Map(Object.entries(tables[t] ?? {}));
}

describe('Open_vSwitch snapshot and operations', () => {
  const replica = rows({
    Open_vSwitch: { root: { bridges: ['set', [['uuid', 'b1']]], cur_cfg: 4, next_cfg: 5 } },
    Bridge: {
      b1: {
        name: 'br-int',
        ports: ['set', [['uuid', 'p1']]],
        datapath_type: 'netdev',
        fail_mode: 'secure',
        protocols: ['set', ['OpenFlow13', 'OpenFlow10']],
        other_config: ['map', []],
        sflow: ['set', []],
        netflow: ['set', []],
      },
    },
    Port: {
      p1: {
        name: 'tap1',
        interfaces: ['uuid', 'i1'],
        tag: 3,
        other_config: ['map', [['net_uuid', 'n']]],
        external_ids: ['map', []],
      },
    },
    Interface: {
      i1: {
        name: 'tap1',
        type: '',
        ofport: 7,
        options: ['map', []],
        external_ids: ['map', [['iface-id', 'port-1']]],
        error: ['set', []],
      },
    },
  });

  it('decodes bridges, ports and interfaces, and which bridge holds a port', () => {
    const s = decodeSnapshot(replica);
    assert.deepEqual(s.bridges.get('br-int')?.protocols, ['OpenFlow10', 'OpenFlow13']);
    assert.equal(s.ports.get('tap1')?.tag, 3);
    assert.equal(s.interfaces.get('tap1')?.ofport, 7);
    assert.equal(s.interfaces.get('tap1')?.external_ids['iface-id'], 'port-1');
    assert.equal(s.portBridge.get('tap1'), 'br-int');
    assert.deepEqual([s.curCfg, s.nextCfg], [4, 5]);
  });

  it('encodes a port add as interface + port + bridge mutation, a delete by the port uuid', () => {
    const s = decodeSnapshot(replica);
    const ops = encodeOps(
      [
        { op: 'addPort', bridge: 'br-tun', name: 'vxlan-c000020c', type: 'vxlan', options: { remote_ip: '192.0.2.12' } },
        { op: 'delPort', bridge: 'br-int', name: 'tap1' },
        { op: 'setPort', name: 'tap1', tag: null },
      ],
      s,
    );
    assert.deepEqual(ops, [
      {
        op: 'insert',
        table: 'Interface',
        row: { name: 'vxlan-c000020c', type: 'vxlan', options: ['map', [['remote_ip', '192.0.2.12']]] },
        'uuid-name': 'i0',
      },
      { op: 'insert', table: 'Port', row: { name: 'vxlan-c000020c', interfaces: ['named-uuid', 'i0'] }, 'uuid-name': 'p0' },
      {
        op: 'mutate',
        table: 'Bridge',
        where: [['name', '==', 'br-tun']],
        mutations: [['ports', 'insert', ['set', [['named-uuid', 'p0']]]]],
      },
      {
        op: 'mutate',
        table: 'Bridge',
        where: [['name', '==', 'br-int']],
        mutations: [['ports', 'delete', ['set', [['uuid', 'p1']]]]],
      },
      { op: 'update', table: 'Port', where: [['name', '==', 'tap1']], row: { tag: ['set', []] } },
    ]);
  });

  it('encodes a bridge as `ovs-vsctl add-br` does: with its internal port, referenced from the root', () => {
    const ops = encodeOps(
      [{ op: 'addBridge', name: 'br-x', datapathType: 'netdev', failMode: 'secure', protocols: ['OpenFlow14'] }],
      decodeSnapshot(replica),
    ) as Array<Record<string, unknown>>;
    assert.deepEqual(
      ops.map((o) => [o.op, o.table]),
      [
        ['insert', 'Interface'],
        ['insert', 'Port'],
        ['insert', 'Bridge'],
        ['mutate', 'Open_vSwitch'],
      ],
    );
    assert.deepEqual((ops[0].row as Row).type, 'internal');
  });
});

describe('RpcConnection', () => {
  /** A peer on a unix socket that runs `script` on each message it gets. */
  async function peer(script: (msg: Record<string, unknown>, sock: Socket) => void) {
    const dir = mkdtempSync(join(tmpdir(), 'nt-ovsdb-'));
    const path = join(dir, 'db.sock');
    const sockets: Socket[] = [];
    const server = createServer((sock) => {
      sockets.push(sock);
      const split = new JsonSplitter();
      sock.setEncoding('utf8').on('data', (c: string) => {
        for (const t of split.push(c)) script(JSON.parse(t), sock);
      });
    });
    await new Promise<void>((r) => server.listen(path, r));
    return {
      target: `unix:${path}`,
      sockets,
      close: async () => {
        for (const s of sockets) s.destroy();
        await new Promise((r) => server.close(r));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  it('matches replies by id, rejects errors, answers the peer’s echo and hands on notifications', async () => {
    const echoes: unknown[] = [];
    const p = await peer((msg, sock) => {
      if (msg.method === 'transact') {
        sock.write(JSON.stringify({ id: msg.id, result: null, error: { error: 'constraint violation', details: 'x' } }));
      } else if (msg.method === 'list_dbs') {
        // A notification and a server echo before the reply, in one write.
        sock.write(
          JSON.stringify({ method: 'update', params: ['m', { Bridge: {} }], id: null }) +
            JSON.stringify({ method: 'echo', params: ['ping'], id: 'echo' }) +
            JSON.stringify({ id: msg.id, result: ['Open_vSwitch'], error: null }),
        );
      } else if (msg.id === 'echo') echoes.push(msg.result);
    });
    const notes: unknown[] = [];
    const conn = await RpcConnection.open(p.target, { onNotification: (m, params) => notes.push([m, params[0]]) });
    try {
      assert.deepEqual(await conn.request('list_dbs', []), ['Open_vSwitch']);
      await assert.rejects(
        conn.request('transact', ['Open_vSwitch']),
        (e) => e instanceof RpcError && /constraint violation/.test(e.message),
      );
      assert.deepEqual(notes, [['update', 'm']]);
      assert.deepEqual(echoes, [['ping']]);
    } finally {
      conn.close();
      await p.close();
    }
  });

  it('OvsdbClient: a transaction while the connection is down connects again once, and the retry timer adds none', async () => {
    const p = await peer((msg, sock) => {
      if (msg.method === 'monitor') sock.write(JSON.stringify({ id: msg.id, result: {}, error: null }));
      else if (msg.method === 'transact') sock.write(JSON.stringify({ id: msg.id, result: [{}], error: null }));
    });
    const client = new OvsdbClient(p.target, { database: 'Open_vSwitch', tables: { Bridge: ['name'] }, timeoutMs: 2000 });
    try {
      await client.start();
      p.sockets[0]?.destroy(); // ovsdb-server restarted
      for (let i = 0; i < 100 && client.connected; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(client.connected, false);
      // The agent's next transaction does not wait for the retry timer (250 ms) …
      assert.deepEqual(await client.transact([{ op: 'comment', comment: 'x' }]), [{}]);
      // … which, when it fires, finds the client connected.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(client.connects, 2);
      assert.equal(p.sockets.filter((s) => !s.destroyed).length, 1, 'connections left open');
    } finally {
      client.close();
      await p.close();
    }
  });

  it('probes a silent peer with echo and closes the connection when it stays silent', async () => {
    const seen: string[] = [];
    const p = await peer((msg) => seen.push(String(msg.method)));
    let closedWhy = '';
    const conn = await RpcConnection.open(p.target, { probeMs: 100, onClose: (why) => (closedWhy = why) });
    try {
      // An echo after ~100 ms of silence, the close ~100 ms later; polled, since a busy machine delays timers.
      for (let waited = 0; !conn.isClosed && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      assert.ok(seen.includes('echo'), `no echo sent: ${seen}`);
      assert.ok(conn.isClosed, 'the connection closed');
      assert.match(closedWhy, /no answer to echo/);
      await assert.rejects(conn.request('list_dbs', []), /no answer to echo/);
    } finally {
      conn.close();
      await p.close();
    }
  });
});
