// `neutrino lab …` driven as a user drives it, for the tests that build their lab with the CLI
// (lab-cli.test.ts, ovs-mixed.test.ts): the lab's commands, pings through `lab exec` until they are
// answered, its API (noauth), and the steps of the README's walkthrough to the outside world — a
// router from a tenant subnet to the external network `public`, a floating IP.
import assert from 'node:assert/strict';
import { type RunResult, run, type ServerProcess } from '../fixtures/process.js';
import { BIN } from './lab.js';

// biome-ignore lint/suspicious/noExplicitAny: API bodies, read loosely in tests
export type Json = Record<string, any>;

export class LabCli {
  /** The API's URL, known once `lab up` has a port. */
  url = '';
  /** The `lab up` process (its log goes into failure messages). */
  up?: ServerProcess;

  constructor(readonly name: string) {}

  /** `neutrino lab CMD --lab NAME ARGS…`. */
  run(args: string[]): Promise<RunResult> {
    return run('node', [BIN, 'lab', args[0], '--lab', this.name, ...args.slice(1)], { timeoutMs: 90_000 });
  }

  /** `lab exec VM -- ping ADDRESS` until one is answered (the first may precede the wiring), ~20 s at most. */
  async ping(vm: string, address: string): Promise<void> {
    let r = await this.run(['exec', vm, '--', 'ping', '-c1', '-W2', address]);
    for (let i = 0; r.code !== 0 && i < 20; i++) r = await this.run(['exec', vm, '--', 'ping', '-c1', '-W1', address]);
    assert.equal(r.code, 0, `${vm} → ${address}: ${r.stdout}${r.stderr}${this.up?.log ?? ''}`);
  }

  /** A call to the lab's API that must succeed; its body. */
  async api(method: string, path: string, body?: unknown): Promise<Json> {
    const r = await fetch(`${this.url}/v2.0/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : {};
  }

  /** The external network `public` that `lab up` made. */
  async publicNetwork(): Promise<Json> {
    const nets = (await this.api('GET', 'networks?name=public')).networks as Json[];
    assert.equal(nets.length, 1);
    return nets[0];
  }

  /** A router with `public` as its gateway and an interface on the subnet of `cidr`. */
  async routerToPublic(name: string, cidr: string): Promise<Json> {
    const external = await this.publicNetwork();
    const router = (await this.api('POST', 'routers', { router: { name, external_gateway_info: { network_id: external.id } } }))
      .router as Json;
    const subnet = (await this.api('GET', `subnets?cidr=${encodeURIComponent(cidr)}`)).subnets[0] as Json;
    await this.api('PUT', `routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    return router;
  }

  /** A floating IP on `public` for the port `lab vm VM` made (named after the VM), whose security
   * group then lets ICMP in (the default group lets in only its own members). */
  async floatingIp(vm: string): Promise<Json> {
    const port = (await this.api('GET', `ports?name=${encodeURIComponent(vm)}`)).ports[0] as Json;
    await this.api('POST', 'security-group-rules', {
      security_group_rule: {
        security_group_id: port.security_groups[0],
        direction: 'ingress',
        protocol: 'icmp',
        ethertype: 'IPv4',
      },
    });
    const external = await this.publicNetwork();
    return (await this.api('POST', 'floatingips', { floatingip: { floating_network_id: external.id, port_id: port.id } }))
      .floatingip as Json;
  }
}
