// What one router is on this host, computed from sync_routers' view of it (pure: no kernel): its
// devices (`qr-` per interface port, `qg-` for the gateway port) with MACs, MTUs and addresses (the
// floating addresses as /32 on qg-, so the router answers ARP for them), its routes (the default
// through the external subnets' gateways, the extra routes), and the floating IPs it NATs. Every
// value the server sends is checked here, before it can reach a command line: ids are UUIDs,
// addresses and prefixes parse (ipaddr.js, dotted-quad IPv4 only) and come out in canonical form.
// What cannot be served is left out and said (`problems`); a floating IP that cannot be served is
// reported ERROR.
import ipaddr from 'ipaddr.js';
import { DEVICE_OWNER, type RouterPort, type SyncRouter } from '../../rpc/contract.js';
import { valid } from '../../system/index.js';
import { externalDevice, internalDevice, namespaceName } from './names.js';

export interface PlannedDevice {
  portId: string;
  ifname: string;
  mac: string;
  mtu: number;
  /** address/prefixlen, canonical. */
  addresses: string[];
  external: boolean;
}

export interface PlannedRoute {
  /** 'default' or a network CIDR, canonical. */
  destination: string;
  via: string;
  dev?: string;
  family: 4 | 6;
}

export interface PlannedFloatingIp {
  id: string;
  floating: string;
  fixed: string;
}

export interface RouterPlan {
  id: string;
  namespace: string;
  devices: PlannedDevice[];
  /** The gateway: its device, the IPv4 address SNAT uses (null: none), whether SNAT is on. */
  gateway: { ifname: string; address: string | null; enableSnat: boolean } | null;
  routes: PlannedRoute[];
  floatingIps: PlannedFloatingIp[];
  /** Floating IPs that cannot be served (reported ERROR). */
  failedFloatingIps: string[];
  problems: string[];
}

const DEFAULT_MTU = 1500;

/** A canonical IP address, or undefined (IPv4 only in dotted-quad form: no octal or hex parts). */
export function parseAddress(value: unknown): { address: string; family: 4 | 6 } | undefined {
  if (typeof value !== 'string') return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(value)) return { address: ipaddr.IPv4.parse(value).toString(), family: 4 };
  if (!value.includes(':') || !ipaddr.IPv6.isValid(value)) return undefined;
  const v6 = ipaddr.IPv6.parse(value);
  if (v6.zoneId) return undefined;
  return { address: v6.toString(), family: 6 };
}

/** A canonical network CIDR (host bits cleared), or undefined. */
export function parseNetwork(value: unknown): { cidr: string; family: 4 | 6 } | undefined {
  if (typeof value !== 'string') return undefined;
  const [addr, len, ...rest] = value.split('/');
  const a = parseAddress(addr);
  const max = a?.family === 4 ? 32 : 128;
  if (!a || rest.length || len === undefined || !/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
  const net =
    a.family === 4
      ? ipaddr.IPv4.networkAddressFromCIDR(`${a.address}/${len}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${a.address}/${len}`);
  return { cidr: `${net.toString()}/${Number(len)}`, family: a.family };
}

/** Whether `address` lies in the network `cidr` (both canonical, same family or not). */
export function contains(cidr: string, address: string): boolean {
  const [net, len] = cidr.split('/');
  const a = ipaddr.parse(address);
  const n = ipaddr.parse(net);
  if (a.kind() !== n.kind()) return false;
  return a.match(n, Number(len));
}

interface Device extends PlannedDevice {
  /** The networks of its addresses, for the routes' next hops and the floating IPs' fixed ones. */
  networks: string[];
  /** The subnets' gateways (the gateway port's default routes). */
  gateways: string[];
}

/** A router port as a device, or a problem. */
function device(port: RouterPort, external: boolean, problems: string[]): Device | undefined {
  if (!valid.isUuid(port?.id)) {
    problems.push(`a port id is not a UUID: ${JSON.stringify(port?.id)}`);
    return undefined;
  }
  let mac: string;
  try {
    mac = valid.mac(String(port.mac_address));
  } catch {
    problems.push(`port ${port.id}: MAC address ${JSON.stringify(port.mac_address)} is not one`);
    return undefined;
  }
  const mtu = Number.isInteger(port.mtu) && port.mtu >= 68 && port.mtu <= 65535 ? port.mtu : DEFAULT_MTU;
  const addresses: string[] = [];
  const networks: string[] = [];
  const gateways: string[] = [];
  for (const f of port.fixed_ips ?? []) {
    const a = parseAddress(f.ip_address);
    const max = a?.family === 4 ? 32 : 128;
    if (!a || !Number.isInteger(f.prefixlen) || f.prefixlen < 1 || f.prefixlen > max) {
      problems.push(`port ${port.id}: fixed IP ${JSON.stringify(f.ip_address)}/${JSON.stringify(f.prefixlen)} left out`);
      continue;
    }
    addresses.push(`${a.address}/${f.prefixlen}`);
    const net = parseNetwork(`${a.address}/${f.prefixlen}`);
    if (net) networks.push(net.cidr);
    const subnet = (port.subnets ?? []).find((s) => s.id === f.subnet_id);
    const gw = subnet?.gateway_ip ? parseAddress(subnet.gateway_ip) : undefined;
    if (gw && gw.address !== a.address) gateways.push(gw.address);
  }
  const ifname = external ? externalDevice(port.id) : internalDevice(port.id);
  return { portId: port.id, ifname, mac, mtu, addresses, external, networks, gateways };
}

/** The plan of `router` on this host (namespaces prefixed with `hostNamespace`). */
export function planRouter(router: SyncRouter, hostNamespace = ''): RouterPlan {
  const id = valid.uuid(router.id);
  const problems: string[] = [];
  const devices: Device[] = [];
  for (const port of router._interfaces ?? []) {
    if (port.device_owner !== DEVICE_OWNER.ROUTER_INTF && port.device_owner !== DEVICE_OWNER.HA_REPLICATED_INT) continue;
    const d = device(port, false, problems);
    if (d) devices.push(d);
  }
  const gwPort = router.gw_port && router.external_gateway_info ? device(router.gw_port, true, problems) : undefined;
  const routes: PlannedRoute[] = [];
  const floatingIps: PlannedFloatingIp[] = [];
  const failedFloatingIps: string[] = [];
  let gateway: RouterPlan['gateway'] = null;
  if (gwPort) {
    devices.push(gwPort);
    const v4 = gwPort.addresses.find((a) => !a.includes(':'));
    gateway = {
      ifname: gwPort.ifname,
      address: v4 ? v4.split('/')[0] : null,
      enableSnat: router.external_gateway_info?.enable_snat !== false,
    };
    for (const via of gwPort.gateways) {
      const family = via.includes(':') ? 6 : 4;
      if (routes.some((r) => r.destination === 'default' && r.family === family)) continue;
      if (!gwPort.networks.some((n) => contains(n, via))) {
        // The kernel refuses a next hop off the device's networks (on-link routes are not made).
        problems.push(`gateway ${via} is outside the external subnet: no default route through it`);
        continue;
      }
      routes.push({ destination: 'default', via, dev: gwPort.ifname, family });
    }
  }
  // Extra routes: their next hop on one of the router's networks (the kernel refuses others).
  const networks = devices.flatMap((d) => d.networks);
  for (const r of router.routes ?? []) {
    const dest = parseNetwork(r.destination);
    const via = parseAddress(r.nexthop);
    if (!dest || !via || dest.family !== via.family || !networks.some((n) => contains(n, via.address))) {
      problems.push(`extra route ${JSON.stringify(r.destination)} via ${JSON.stringify(r.nexthop)} left out`);
      continue;
    }
    const destination = dest.cidr === '0.0.0.0/0' || dest.cidr === '::/0' ? 'default' : dest.cidr;
    const i = routes.findIndex((x) => x.destination === destination && x.family === dest.family);
    const route = { destination, via: via.address, family: dest.family };
    if (i >= 0) routes[i] = route;
    else routes.push(route);
  }
  // Floating IPs: 1:1 NAT between an external IPv4 address and a fixed one behind an interface.
  const internal = devices.filter((d) => !d.external).flatMap((d) => d.networks);
  const seen = new Set<string>();
  for (const f of router._floatingips ?? []) {
    if (!valid.isUuid(f?.id)) {
      problems.push(`a floating IP id is not a UUID: ${JSON.stringify(f?.id)}`);
      continue;
    }
    const floating = parseAddress(f.floating_ip_address);
    const fixed = parseAddress(f.fixed_ip_address);
    const why = !gateway
      ? 'the router has no gateway'
      : floating?.family !== 4 || fixed?.family !== 4
        ? 'its addresses are not IPv4 addresses'
        : !internal.some((n) => contains(n, fixed.address))
          ? 'its fixed IP is on none of the router’s interfaces'
          : seen.has(floating.address) || seen.has(`fixed ${fixed.address}`)
            ? 'its floating or fixed IP is another floating IP’s'
            : undefined;
    if (why || !floating || !fixed) {
      problems.push(`floating IP ${f.id}: ${why}`);
      failedFloatingIps.push(f.id);
      continue;
    }
    seen.add(floating.address);
    seen.add(`fixed ${fixed.address}`);
    floatingIps.push({ id: f.id, floating: floating.address, fixed: fixed.address });
    const addr = `${floating.address}/32`;
    if (!gwPort?.addresses.includes(addr)) gwPort?.addresses.push(addr);
  }
  return {
    id,
    namespace: namespaceName(id, hostNamespace),
    devices: devices.map(({ networks: _n, gateways: _g, ...d }) => d),
    gateway,
    routes,
    floatingIps,
    failedFloatingIps,
    problems,
  };
}
