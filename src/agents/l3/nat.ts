// A router's NAT as one nftables table (pure: text from a RouterPlan), Neutron's legacy router
// rules (router_info.py) in nftables form:
// - prerouting (mangle): packets arriving on qg- are marked 0x2/0xffff (external_ingress_mark);
// - prerouting and output (dstnat): each floating IP DNATed to its fixed IP — output too, so the
//   router's own traffic to a floating IP reaches the VM;
// - postrouting (srcnat): traffic not leaving by qg- and not DNATed is left alone (routed between
//   the router's subnets as is); a fixed IP with a floating IP leaves as the floating IP (before
//   the general SNAT); with enable_snat, whatever leaves by qg- takes the gateway address, and so
//   does DNATed traffic that did not come in by qg- (a VM reaching another VM's floating IP
//   through the router: the hairpin, so the answer comes back through the router too).
// Floating IPs are two maps, so one rule serves a hundred of them. The table is replaced whole in
// one transaction (conntrack entries, and the NAT of established connections, stay); its comment
// holds the text's hash, so an unchanged table is never rewritten.
import { createHash } from 'node:crypto';
import type { RouterPlan } from './plan.js';

/** Neutron's external_ingress_mark and its mask. */
export const EXTERNAL_INGRESS_MARK = '0x2';
const MARK_MASK = '0xffff';

export interface NatTable {
  body: string;
  /** A hash of `body`, stored as the table's comment. */
  hash: string;
}

const map = (pairs: Array<[string, string]>) => `{ ${pairs.map(([k, v]) => `${k} : ${v}`).join(', ')} }`;

export function natTable(plan: Pick<RouterPlan, 'gateway' | 'floatingIps'>): NatTable {
  const gw = plan.gateway;
  const mangle: string[] = [];
  const dnat: string[] = [];
  const snat: string[] = [];
  if (gw) {
    const dev = `"${gw.ifname}"`;
    mangle.push(`iifname ${dev} meta mark set meta mark & 0xffff0000 | ${EXTERNAL_INGRESS_MARK}`);
    const fips = [...plan.floatingIps].sort((a, b) => a.floating.localeCompare(b.floating));
    snat.push(`oifname != ${dev} ct status & dnat == 0 accept`);
    if (fips.length) {
      dnat.push(`dnat to ip daddr map ${map(fips.map((f) => [f.floating, f.fixed]))}`);
      snat.push(`snat to ip saddr map ${map(fips.map((f) => [f.fixed, f.floating]))}`);
    }
    if (gw.enableSnat && gw.address) {
      snat.push(`oifname ${dev} snat to ${gw.address} fully-random`);
      snat.push(`meta mark & ${MARK_MASK} != ${EXTERNAL_INGRESS_MARK} ct status dnat snat to ${gw.address} fully-random`);
    }
  }
  const chain = (name: string, hook: string, type: string, priority: string, rules: string[]) =>
    [
      `  chain ${name} {`,
      `    type ${type} hook ${hook} priority ${priority}; policy accept;`,
      ...rules.map((r) => `    ${r}`),
      '  }',
    ].join('\n');
  const body = [
    chain('ingress_mark', 'prerouting', 'filter', 'mangle', mangle),
    chain('pre_dnat', 'prerouting', 'nat', 'dstnat', dnat),
    chain('out_dnat', 'output', 'nat', '-100', dnat),
    chain('post_snat', 'postrouting', 'nat', 'srcnat', snat),
  ].join('\n');
  return { body, hash: createHash('sha256').update(body).digest('hex').slice(0, 32) };
}
