// The L2 agent's loop (src/agents/common/l2-agent.ts) on the server's in-process bus, with backends
// that record, fail or hold: when it reconciles, when it waits, and what it does with notifications
// that arrive while a reconcile is under way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { L2Agent, type L2Backend } from '../../src/agents/common/l2-agent.js';
import { TestServer } from '../helpers.js';

const configurations = () => ({
  interface_mappings: {},
  bridge_mappings: {},
  tunnel_types: ['vxlan'],
  tunneling_ip: '192.0.2.1',
  l2_population: false,
});

const agentOn = (s: TestServer, backend: L2Backend, pollingIntervalSec: number, log?: (m: string) => void) =>
  new L2Agent(s.neutrino.transport, backend, {
    host: 'host-a',
    agentType: 'Linux bridge agent',
    binary: 'neutrino-linuxbridge-agent',
    reportIntervalSec: 0,
    pollingIntervalSec,
    log,
  });

const until = async (what: string, pred: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('a reconcile that fails at once', () => {
  let s: TestServer;
  let agent: L2Agent;
  /** A backend whose host cannot be reached yet (an OVS agent before ovsdb-server is up). */
  const failing = {
    applies: 0,
    async apply(): Promise<Set<string>> {
      this.applies++;
      throw new Error('connect ENOENT /run/openvswitch/db.sock');
    },
    configurations,
  };
  const logged: string[] = [];

  before(async () => {
    s = await TestServer.start();
    agent = agentOn(s, failing, 3600, (m) => logged.push(m));
    await agent.start();
  });
  after(async () => {
    await agent?.stop();
    await s?.close();
  });

  it('is tried again at the next poll, not in a loop that calls the server and logs as fast as it can', async () => {
    await until('the first reconcile', () => failing.applies >= 1);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(failing.applies, 1, `${failing.applies} reconciles in half a second`);
    assert.equal(logged.filter((m) => m.startsWith('reconcile failed')).length, 1);
  });
});
