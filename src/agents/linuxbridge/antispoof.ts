// Port security on the bridge (nftables `bridge` family): a port with port_security_enabled may
// only send from its MAC with its fixed IPs, or from an allowed address pair's MAC with that
// pair's IP, ARP included; DHCP client requests (from any address) and IPv6 link-local / DAD pass. The whole
// table is generated from the desired state and replaced in one atomic `nft -f -` (only when its
// hash changed, so a restart does not touch it). Security group rules (a stateful filter on the
// same taps) are the next hook here: one more chain per port, built from HostState.security_groups.
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { HostPort } from '../../rpc/contract.js';
import { valid } from '../../system/index.js';
import { tapName } from './names.js';

export const NFT_FAMILY = 'bridge';
export const NFT_TABLE = 'neutrino';

/** MAC → the IPs (or CIDRs) it may send from. */
function allowedSources(p: HostPort): Map<string, { v4: string[]; v6: string[] }> {
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
  for (const f of p.fixed_ips) add(p.mac_address, f.ip_address);
  for (const a of p.allowed_address_pairs) add(a.mac_address || p.mac_address, a.ip_address);
  return out;
}

const set = (items: string[]) => `{ ${items.join(', ')} }`;

/** The chain of one port: accept what it may send, drop the rest. */
function portChain(p: HostPort): string[] {
  const chain = `port-${tapName(p.id)}`;
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
  return [`  chain ${chain} {`, ...rules.map((r) => `    ${r}`), '  }'];
}

/** The table body for `ports` (those with port security), and its hash; empty body = no table. */
export function antispoofRuleset(ports: HostPort[]): { body: string; hash: string } {
  const secured = ports.filter((p) => p.port_security_enabled).sort((a, b) => a.id.localeCompare(b.id));
  if (secured.length === 0) return { body: '', hash: '' };
  const dispatch = secured.map((p) => `"${tapName(p.id)}" : jump port-${tapName(p.id)}`).join(', ');
  const body = [
    '  chain prerouting {',
    '    type filter hook prerouting priority -200; policy accept;',
    `    iifname vmap { ${dispatch} }`,
    '  }',
    ...secured.flatMap(portChain),
  ].join('\n');
  return { body, hash: `sha256-${createHash('sha256').update(body).digest('hex').slice(0, 32)}` };
}
