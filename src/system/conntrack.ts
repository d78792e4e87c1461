// conntrack(8): deleting connection-tracking entries, e.g. of an address that a security group no
// longer admits (its established connections must not outlive the rule), optionally in a namespace.
import { isIPv4 } from 'node:net';
import { execRunner, type Runner, SystemError } from './exec.js';
import { inNetns } from './netns.js';
import * as v from './validate.js';

export interface FlowFilter {
  /** Conntrack zone (1-65535). */
  zone?: number;
  /** Original source / destination: an address or a CIDR. */
  src?: string;
  dst?: string;
  /** Reply destination (an address): the entries NATed to it on their way out. */
  replyDst?: string;
}

/** The netmask of a prefix length, in the address's family. */
function mask(len: number, v4: boolean): string {
  if (v4) {
    const n = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
  }
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) {
    const bits = Math.max(0, Math.min(16, len - i * 16));
    groups.push((bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff).toString(16));
  }
  return groups.join(':');
}

export class Conntrack {
  readonly netns?: string;
  private readonly run: Runner;

  constructor({ netns, run = execRunner }: { netns?: string; run?: Runner } = {}) {
    this.netns = netns === undefined || netns === '' ? undefined : v.netns(netns);
    this.run = run;
  }

  /** Deletes the entries matching `f`; returns how many went. */
  async delete(f: FlowFilter): Promise<number> {
    const addr = f.src ?? f.dst ?? f.replyDst;
    if (!addr) throw new v.InvalidValue('conntrack filter without an address', f);
    const v4 = isIPv4(addr.split('/')[0]);
    const args = ['-D', '-f', v4 ? 'ipv4' : 'ipv6'];
    if (f.zone !== undefined) args.push('-w', v.uint(f.zone, 65535));
    for (const [flag, maskFlag, value] of [
      ['-s', '--mask-src', f.src],
      ['-d', '--mask-dst', f.dst],
    ] as const) {
      if (value === undefined) continue;
      const [ip, len] = v.cidr(value).split('/');
      if (isIPv4(ip) !== v4) throw new v.InvalidValue('conntrack filter of mixed families', f);
      args.push(flag, ip);
      if (len !== undefined && Number(len) !== (v4 ? 32 : 128)) args.push(maskFlag, mask(Number(len), v4));
    }
    if (f.replyDst !== undefined) {
      if (isIPv4(v.ip(f.replyDst)) !== v4) throw new v.InvalidValue('conntrack filter of mixed families', f);
      args.push('-q', f.replyDst);
    }
    const [file, argv] = inNetns(this.netns, 'conntrack', args);
    const r = await this.run(file, argv);
    // Status 1 with "0 flow entries" is conntrack's way of saying nothing matched.
    const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
    if (r.code === 0 || (r.code === 1 && m)) return m ? Number(m[1]) : 0;
    throw new SystemError([file, ...argv].join(' '), r.code, r.stderr);
  }
}
