// The lab's outside world: an external network `public` (router:external, flat on physnet1, the
// provider bridge every lab host's eth1 is on) with its subnet in TEST-NET-3, and the `outside`
// namespace on that bridge holding the subnet's gateway address — the internet a router's SNAT
// reaches and its floating IPs are reached from. TEST-NET-3 because 192.0.2.0/24 is the machine's
// (and the lab underlay's) own.
import type { LabTopology } from './topology.js';

export const PUBLIC_NETWORK = 'public';
export const PUBLIC_SUBNET = 'public-subnet';
export const PUBLIC_CIDR = '203.0.113.0/24';
export const PUBLIC_GATEWAY = '203.0.113.1';
/** Routers' gateways and floating IPs come from here; .2–.9 stay free for more of the outside. */
export const PUBLIC_POOL = { start: '203.0.113.10', end: '203.0.113.254' };
/** What `lab exec` calls the outside namespace. */
export const OUTSIDE = 'outside';

export interface LabOutside {
  netns: string;
  address: string;
  network_id: string;
  subnet_id: string;
}

async function post(url: string, kind: string, body: Record<string, unknown>): Promise<{ id: string }> {
  const r = await fetch(`${url}/v2.0/${kind}s`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ [kind]: body }),
  });
  const text = await r.text();
  if (r.status !== 201) throw new Error(`creating the lab's ${kind} ${String(body.name)}: ${r.status} ${text}`);
  return (JSON.parse(text) as Record<string, { id: string }>)[kind];
}

/** Creates the public network and its subnet (no DHCP: nothing on it asks) through the lab's API. */
export async function createPublicNetwork(url: string): Promise<{ network_id: string; subnet_id: string }> {
  const network = await post(url, 'network', {
    name: PUBLIC_NETWORK,
    'router:external': true,
    'provider:network_type': 'flat',
    'provider:physical_network': 'physnet1',
  });
  const subnet = await post(url, 'subnet', {
    name: PUBLIC_SUBNET,
    network_id: network.id,
    ip_version: 4,
    cidr: PUBLIC_CIDR,
    gateway_ip: PUBLIC_GATEWAY,
    allocation_pools: [PUBLIC_POOL],
    enable_dhcp: false,
  });
  return { network_id: network.id, subnet_id: subnet.id };
}

/** The outside namespace on the lab's provider bridge, and the public network it is the gateway of. */
export async function setUpOutside(topology: LabTopology, url: string): Promise<LabOutside> {
  const prefixLen = PUBLIC_CIDR.split('/')[1];
  const netns = await topology.addOutside(`${PUBLIC_GATEWAY}/${prefixLen}`);
  return { netns, address: PUBLIC_GATEWAY, ...(await createPublicNetwork(url)) };
}
