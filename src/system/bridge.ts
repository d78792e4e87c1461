// `bridge` (iproute2) forwarding database: reads as JSON (`bridge -j fdb show`), writes as one
// `bridge -batch -`, optionally in a network namespace.
import { check } from './exec.js';
import { type Command, NetnsTool } from './ip.js';
import * as v from './validate.js';

/** One entry of `bridge -j fdb show`. */
export interface FdbRow {
  mac: string;
  ifname: string;
  /** The remote VTEP of a VXLAN entry. */
  dst?: string;
  master?: string;
  flags: string[];
  state?: string;
}

export class Bridge extends NetnsTool {
  /** The FDB, of one device or all. */
  async fdb(dev?: string): Promise<FdbRow[]> {
    const out = await check(this.run, 'bridge', [...this.base(), '-j', 'fdb', 'show', ...(dev ? ['dev', v.device(dev)] : [])]);
    return (out.trim() ? JSON.parse(out) : []) as FdbRow[];
  }

  /** Applies `commands` in one `bridge -batch -` (every line attempted; a failure throws). */
  async batch(commands: readonly Command[]): Promise<void> {
    if (commands.length === 0) return;
    const input = `${commands.map(v.line).join('\n')}\n`;
    await check(this.run, 'bridge', [...this.base(), '-force', '-batch', '-'], { input });
  }
}

/** A static VXLAN entry: frames for `mac` go to the VTEP `dst`. `append` adds a further remote
 * (as the all-zero flooding entry needs, one per VTEP); `replace` moves a unicast MAC. */
export const fdbAppend = (mac: string, dev: string, dst: string): Command => [
  'fdb',
  'append',
  v.mac(mac),
  'dev',
  v.device(dev),
  'dst',
  v.ip(dst),
];
export const fdbReplace = (mac: string, dev: string, dst: string): Command => [
  'fdb',
  'replace',
  v.mac(mac),
  'dev',
  v.device(dev),
  'dst',
  v.ip(dst),
];
export const fdbDel = (mac: string, dev: string, dst: string): Command => [
  'fdb',
  'del',
  v.mac(mac),
  'dev',
  v.device(dev),
  'dst',
  v.ip(dst),
];
