// The DHCP agent's loop (src/agents/dhcp/agent.ts) on the server's in-process bus: when its first
// full pass asks the server what this host serves. Serving itself (namespaces, dnsmasq, leases) is
// test/dataplane/dhcp-agents.test.ts's business; here the kernel is a fake that lists no
// namespaces, and the interface driver stops every apply before it would start a dnsmasq.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InterfaceDriver } from '../../src/agents/common/interface.js';
import { DhcpAgent } from '../../src/agents/dhcp/agent.js';
import { dhcpAgentOptions } from '../../src/cli/agent.js';
import { loadConfig } from '../../src/config/load.js';
import { ServerRpcClient, type Transport } from '../../src/rpc/index.js';
import type { Runner } from '../../src/system/index.js';
import { ALICE, TestServer } from '../helpers.js';

/** The transport, recording each call's method when sent and when answered (with the answer). */
function recording(t: Transport, events: Array<{ event: 'sent' | 'answered'; method: string; answer?: unknown }>): Transport {
  return new Proxy(t, {
    get(target, prop, receiver) {
      if (prop !== 'call') return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<Transport['call']>) => {
        const method = args[1];
        events.push({ event: 'sent', method });
        const answer = await target.call(...args);
        events.push({ event: 'answered', method, answer });
        return answer;
      };
    },
  });
}

const until = async (what: string, pred: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the DHCP agent’s loop', () => {
  let s: TestServer;
  let agent: DhcpAgent | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'neutrino-dhcp-loop-'));
  // The agent refuses a directory dnsmasq (user nobody) could not traverse.
  chmodSync(dir, 0o755);
  const logged: string[] = [];

  before(async () => {
    s = await TestServer.start();
  });
  after(async () => {
    await agent?.stop();
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a new agent’s first full pass comes after its registration, so it gets the networks scheduled to it then', async () => {
    // A network with DHCP exists before any DHCP agent: the server schedules it to the first one
    // that asks while registered (network_auto_schedule).
    const net = await s.network({}, ALICE);
    await s.subnet(net.id, '10.0.0.0/24', {}, ALICE);
    // The host's L2 agent, so that the network is reachable there (the scheduler's condition).
    await new ServerRpcClient(s.neutrino.transport, { host: 'dhcp-new', timeoutMs: 5000 }).reportState({
      binary: 'neutrino-linuxbridge-agent',
      host: 'dhcp-new',
      topic: 'N/A',
      agent_type: 'Linux bridge agent',
      start_flag: true,
      configurations: { tunnel_types: ['vxlan'], tunneling_ip: '10.99.0.1', interface_mappings: {} },
    });
    const events: Array<{ event: 'sent' | 'answered'; method: string; answer?: unknown }> = [];
    const run: Runner = async (file, args) => ({
      code: 0,
      stdout: file === 'ip' && args.join(' ') === '-j netns list' ? '[]' : '',
      stderr: '',
    });
    const driver: InterfaceDriver = {
      plug: async () => {
        throw new Error('no kernel in this test');
      },
      unplug: async () => undefined,
      plugged: async () => false,
    };
    // The agent's options from a configuration with only this host and its state path set: the
    // defaults, as `neutrino agent dhcp` would run.
    const cfg = loadConfig(
      [],
      [
        ['DEFAULT', 'host', 'dhcp-new'],
        ['DEFAULT', 'state_path', dir],
      ],
    );
    agent = new DhcpAgent(recording(s.neutrino.transport, events), {
      ...dhcpAgentOptions(cfg),
      reportIntervalSec: 0,
      resyncIntervalSec: 3600,
      timeoutMs: 5000,
      driver,
      run,
      log: (m) => logged.push(m),
    });
    await agent.start();
    await until('the first get_active_networks_info answered', () =>
      events.some((e) => e.event === 'answered' && e.method === 'get_active_networks_info'),
    );
    // The order is the guarantee: on this in-process bus the server happens to finish report_state
    // first even when both are sent at once; over RabbitMQ nothing orders two calls in flight.
    const at = (event: string, method: string) => events.findIndex((e) => e.event === event && e.method === method);
    assert.ok(
      at('answered', 'report_state') >= 0 && at('answered', 'report_state') < at('sent', 'get_active_networks_info'),
      events.map((e) => `${e.event} ${e.method}`).join('\n'),
    );
    const first = events[at('answered', 'get_active_networks_info')].answer as Array<{ id: string }>;
    assert.deepEqual(
      first.map((n) => n.id),
      [net.id],
      'the first full pass is told of the network (not [] as for an agent the server does not know)',
    );
  });
});
