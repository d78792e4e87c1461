// OpenFlow tables of an Open vSwitch bridge through `ovs-ofctl` on the bridge's management socket
// (`<rundir>/<bridge>.mgmt`, reachable from any namespace). A whole table set is installed with
// `--bundle replace-flows`: ovs-ofctl reads the switch's flows, and adds, modifies (cookie
// included) and deletes what differs in one OpenFlow 1.4 bundle, so packets see the old flows
// or the new ones, never a mix or none. Flows are fed on stdin, never on the command line.
import { join } from 'node:path';
import { check, execRunner, type Runner } from './exec.js';
import * as v from './validate.js';

/** One flow as `ovs-ofctl dump-flows` prints it. */
export interface DumpedFlow {
  cookie: string;
  table: number;
  priority: number;
  /** The match, as printed (without cookie, table and priority). */
  match: string;
  actions: string;
  nPackets?: number;
}

/** The characters a flow of ours may hold: matches, actions, learn() specs — no spaces or quotes. */
const FLOW = /^[A-Za-z0-9_.:,=/()[\]>+-]+$/;

export function flowLine(line: string): string {
  if (!FLOW.test(line)) throw new v.InvalidValue('OpenFlow flow', line);
  return line;
}

/** Parses `ovs-ofctl dump-flows` output (with or without --no-stats). */
export function parseDumpFlows(text: string): DumpedFlow[] {
  const out: DumpedFlow[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('cookie=')) continue;
    const sp = line.lastIndexOf(' actions=');
    if (sp < 0) continue;
    const actions = line.slice(sp + ' actions='.length);
    const fields = line.slice(0, sp).split(/,\s*/);
    let cookie = '0x0';
    let table = 0;
    let priority = 32768;
    let nPackets: number | undefined;
    const match: string[] = [];
    for (const f of fields) {
      const [k, val] = f.split('=', 2);
      if (k === 'cookie') cookie = val;
      else if (k === 'table') table = Number(val);
      else if (k === 'priority') priority = Number(val);
      else if (k === 'n_packets') nPackets = Number(val);
      else if (['duration', 'n_bytes', 'idle_age', 'hard_age', 'idle_timeout', 'hard_timeout', 'reset_counts'].includes(k))
        continue;
      else if (f) match.push(f);
    }
    out.push({ cookie, table, priority, match: match.join(','), actions, nPackets });
  }
  return out;
}

export interface OfCtlOptions {
  /** ovs-vswitchd's run directory, where `<bridge>.mgmt` sockets are. */
  rundir: string;
  /** Seconds an ovs-ofctl call may take. */
  timeoutSec?: number;
  run?: Runner;
}

export class OfCtl {
  private readonly run: Runner;

  constructor(private readonly o: OfCtlOptions) {
    this.run = o.run ?? execRunner;
  }

  /** The bridge's management socket as ovs-ofctl's target. */
  target(bridge: string): string {
    return `unix:${join(this.o.rundir, `${v.device(bridge)}.mgmt`)}`;
  }

  private base(): string[] {
    return ['-O', 'OpenFlow14', `--timeout=${this.o.timeoutSec ?? 10}`];
  }

  /** Makes the bridge's flow tables exactly `flows`, atomically (one bundle). */
  async replaceFlows(bridge: string, flows: readonly string[]): Promise<void> {
    const input = flows.map(flowLine).join('\n');
    await check(this.run, 'ovs-ofctl', [...this.base(), '--bundle', 'replace-flows', this.target(bridge), '-'], {
      input: `${input}\n`,
      timeoutMs: ((this.o.timeoutSec ?? 10) + 5) * 1000,
    });
  }

  /** The bridge's flows, all or those matching `match` (e.g. `table=23`). */
  async dumpFlows(bridge: string, match?: string): Promise<DumpedFlow[]> {
    const args = [...this.base(), 'dump-flows', this.target(bridge), ...(match ? [flowLine(match)] : [])];
    return parseDumpFlows(await check(this.run, 'ovs-ofctl', args));
  }
}
