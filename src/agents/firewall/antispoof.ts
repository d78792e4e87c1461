// Port security on the bridge (nftables `bridge` family): a port with port_security_enabled may
// only send from its MAC with its fixed IPs, or from an allowed address pair's MAC with that pair's
// IP, ARP included; DHCP client requests (from any address) and IPv6 link-local / DAD pass. Other ethertypes
// from the port's MACs pass (the inet family's security groups see only IP).
import { isIPv4 } from 'node:net';
import { valid } from '../../system/index.js';
import type { FirewallPort } from './types.js';

/** MAC → the IPs (or CIDRs) it may send from. */
function allowedSources(p: FirewallPort): Map<string, { v4: string[]; v6: string[] }> {
  const out = new Map<string, { v4: string[]; v6: string[] }>();
  const add = (mac: string, ip?: string) => {
    const m = valid.mac(mac);
    const e = out.get(m) ?? { v4: [], v6: ['fe80::/64'] };
    out.set(m, e);
    if (ip === undefined) return;
    valid.cidr(ip);
    const list = isIPv4(ip.split('/')[0]) ? e.v4 : e.v6;
    if (!list.includes(ip)) list.push(ip);
  };
  add(p.mac_address);
  for (const ip of p.fixed_ips) add(p.mac_address, ip);
  for (const a of p.allowed_address_pairs) add(a.mac_address || p.mac_address, a.ip_address);
  return out;
}

/** One value, or an anonymous set of several (each set is a kernel object: one value needs none). */
const set = (items: string[]) => (items.length === 1 ? items[0] : `{ ${items.join(', ')} }`);

/** The rules of a port's anti-spoofing chain: accept what it may send, drop the rest. */
export function antispoofRules(p: FirewallPort): string[] {
  const sources = allowedSources(p);
  const macs = [...sources.keys()];
  const rules = [
    // DHCPv4 client requests from any source address (Neutron's DHCP_CLIENT exception): discovery
    // before the port has its address, and the renewal or rebinding of an address the port no
    // longer has, which the DHCP server must see to answer NAK.
    `ether saddr ${set(macs)} ip protocol udp udp sport 68 udp dport 67 accept`,
    // IPv6 duplicate address detection.
    `ether saddr ${set(macs)} ip6 saddr :: accept`,
  ];
  for (const [mac, { v4, v6 }] of sources) {
    if (v4.length) {
      rules.push(`ether saddr ${mac} ip saddr ${set(v4)} accept`);
      rules.push(`ether saddr ${mac} arp saddr ether ${mac} arp saddr ip ${set(v4)} accept`);
    }
    rules.push(`ether saddr ${mac} ip6 saddr ${set(v6)} accept`);
  }
  // Wrong addresses, or ARP claiming someone else; other ethertypes from the port's MACs pass.
  rules.push('ether type { ip, ip6, arp } drop', `ether saddr ${set(macs)} accept`, 'drop');
  return rules;
}
