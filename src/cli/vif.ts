// `neutrino vif plug|unplug`: what Nova and os-vif do for a VM's port, with a network namespace
// standing in for the VM. plug creates the tap (a veth: tap<port-id[:11]> on the host, in the host's
// namespace when the host is simulated; the other end in the VM's namespace with the port's MAC,
// addresses, default route and MTU, or nothing but the MAC when the VM asks a DHCP agent for the
// rest), binds the port to the host through the API, and waits until the agent has wired it and the
// port is ACTIVE. The tap exists before the binding, so a Linux bridge agent finds it on the
// reconcile the binding triggers. When the binding says `vif_type: ovs`, the tap is then added to
// the bridge of `binding:vif_details` (bridge_name) over OVSDB with the external_ids os-vif sets,
// and on the userspace datapath (datapath_type netdev) TX checksum offload is turned off on both
// ends of the veth.
import { randomUUID } from 'node:crypto';
import { VethInterfaceDriver } from '../agents/common/interface.js';
import { tapName } from '../agents/linuxbridge/names.js';
import { plugOvsPort, unplugOvsPort, withVSwitch as withOvsdb } from '../agents/openvswitch/plug.js';
import {
  addAddress,
  addNetns,
  addTap,
  type Command,
  delLink,
  Ip,
  linkSet,
  netnsExists,
  replaceDefaultRoute,
  txChecksumOff,
  type VSwitch,
} from '../system/index.js';

/** Where os-vif finds ovsdb-server by default. */
export const DEFAULT_OVSDB = 'unix:/var/run/openvswitch/db.sock';

export interface VifOptions {
  /** The API's base URL (noauth: no token needed). */
  url: string;
  token?: string;
  /** binding:host_id: the agent's host name. */
  host: string;
  /** The VM's namespace (created if missing); without it a plain tap is created. */
  netns?: string;
  /** The simulated host's namespace, where the tap goes; default: this host. */
  hostNetns?: string;
  /** How long to wait for ACTIVE; 0 = don't wait. */
  timeoutMs?: number;
  deviceId?: string;
  /** The VM learns its addresses by DHCP (a DHCP client is started afterwards): its interface
   * gets no address and no route here, and the MTU a guest's NIC starts with (1500). */
  dhcp?: boolean;
  /** ovsdb-server of the host (for ports bound with vif_type ovs); default DEFAULT_OVSDB. */
  ovsdb?: string;
}

export interface PlugResult {
  port_id: string;
  tap: string;
  netns: string | null;
  interface: string | null;
  mac_address: string;
  addresses: string[];
  status: string;
  /** Milliseconds from the binding request to ACTIVE. */
  active_after_ms: number | null;
}

type Json = Record<string, unknown>;

export class VifError extends Error {}

async function api(o: VifOptions, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.token) headers['x-auth-token'] = o.token;
  const r = await fetch(`${o.url.replace(/\/$/, '')}/v2.0/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Json) : {} };
}

async function getPort(o: VifOptions, portId: string): Promise<Json | undefined> {
  const r = await api(o, 'GET', `ports/${portId}`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new VifError(`GET port ${portId}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.port as Json;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The first `ethN` name not taken in the VM's namespace. */
async function freeInterfaceName(vm: Ip): Promise<string> {
  const taken = new Set((await vm.links()).map((l) => l.ifname));
  for (let i = 0; ; i++) if (!taken.has(`eth${i}`)) return `eth${i}`;
}

export async function plugVif(portId: string, o: VifOptions): Promise<PlugResult> {
  if (!UUID.test(portId)) throw new VifError(`not a port id: ${portId}`);
  const port = await getPort(o, portId);
  if (!port) throw new VifError(`port ${portId} not found`);
  const network = (await api(o, 'GET', `networks/${port.network_id}`)).body.network as Json | undefined;
  const mtu = Number(network?.mtu ?? 1500);
  const mac = String(port.mac_address);
  const hostIp = new Ip({ netns: o.hostNetns });
  if (o.hostNetns && !(await netnsExists(o.hostNetns))) throw new VifError(`host namespace ${o.hostNetns} does not exist`);
  const tap = tapName(portId);
  const addresses: string[] = [];
  let ifname: string | null = null;
  if (!(await hostIp.link(tap))) {
    if (!o.netns) await hostIp.batch([addTap(tap), linkSet(tap, { mtu })], { force: false });
    else {
      if (!(await netnsExists(o.netns))) await addNetns(o.netns);
      const vm = new Ip({ netns: o.netns });
      ifname = await freeInterfaceName(vm);
      await new VethInterfaceDriver().plug({ portId, mac, mtu, netns: o.netns, ifname, hostNetns: o.hostNetns });
      const cmds: Command[] = [];
      // A guest boots once its port is ACTIVE (Nova waits for network-vif-plugged): its NIC comes
      // up then, so its first DHCP discover or router solicitation finds the path wired.
      if (o.dhcp) cmds.push(linkSet(ifname, { mtu: 1500, up: (o.timeoutMs ?? 60_000) <= 0 }));
      let gateway: string | undefined;
      for (const f of o.dhcp ? [] : ((port.fixed_ips as Array<{ subnet_id: string; ip_address: string }>) ?? [])) {
        const subnet = (await api(o, 'GET', `subnets/${f.subnet_id}`)).body.subnet as Json | undefined;
        if (!subnet) continue;
        const prefix = String(subnet.cidr).split('/')[1];
        addresses.push(`${f.ip_address}/${prefix}`);
        cmds.push(addAddress(`${f.ip_address}/${prefix}`, ifname));
        if (!gateway && subnet.ip_version === 4 && typeof subnet.gateway_ip === 'string') gateway = subnet.gateway_ip;
      }
      if (gateway) cmds.push(replaceDefaultRoute(gateway, ifname));
      await vm.batch(cmds, { force: false });
    }
  }
  const update: Json = { 'binding:host_id': o.host };
  if (!port.device_owner) update.device_owner = 'compute:nova';
  if (!port.device_id) update.device_id = o.deviceId ?? randomUUID();
  const t0 = Date.now();
  const put = await api(o, 'PUT', `ports/${portId}`, { port: update });
  if (put.status !== 200) throw new VifError(`binding port ${portId} to ${o.host}: ${put.status} ${JSON.stringify(put.body)}`);
  const bound = put.body.port as Json;
  if (bound['binding:vif_type'] === 'ovs') {
    const details = (bound['binding:vif_details'] ?? {}) as Json;
    const deviceId = String(bound.device_id ?? update.device_id ?? '');
    await withVSwitch(o, (vs) =>
      plugOvsPort(vs, {
        bridge: String(details.bridge_name ?? 'br-int'),
        device: tap,
        portId,
        mac,
        deviceId: deviceId || undefined,
      }),
    );
    if (details.datapath_type === 'netdev') {
      await txChecksumOff(tap, { netns: o.hostNetns });
      if (o.netns && ifname) await txChecksumOff(ifname, { netns: o.netns });
    }
  }
  let status = String(bound.status);
  let activeAfter: number | null = status === 'ACTIVE' ? 0 : null;
  const timeout = o.timeoutMs ?? 60_000;
  if (timeout > 0 && status !== 'ACTIVE') {
    const deadline = t0 + timeout;
    for (;;) {
      const p = await getPort(o, portId);
      if (!p) throw new VifError(`port ${portId} was deleted while plugging`);
      status = String(p.status);
      if (p['binding:vif_type'] === 'binding_failed') {
        throw new VifError(`port ${portId} could not be bound to ${o.host}: ${p.binding_failure_reason ?? 'binding_failed'}`);
      }
      if (status === 'ACTIVE') {
        activeAfter = Date.now() - t0;
        break;
      }
      if (Date.now() > deadline) throw new VifError(`port ${portId} not ACTIVE after ${timeout} ms (status ${status})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (o.dhcp && ifname && o.netns && timeout > 0) await new Ip({ netns: o.netns }).batch([linkSet(ifname, { up: true })]);
  return {
    port_id: portId,
    tap,
    netns: o.netns ?? null,
    interface: ifname,
    mac_address: mac,
    addresses,
    status,
    active_after_ms: activeAfter,
  };
}

/** Removes the tap (and so the VM's end) and, unless `keepBinding`, unbinds the port as Nova does
 * when an interface is detached. A port already deleted is fine. */
export async function unplugVif(portId: string, o: VifOptions & { keepBinding?: boolean }): Promise<void> {
  if (!UUID.test(portId)) throw new VifError(`not a port id: ${portId}`);
  const hostIp = new Ip({ netns: o.hostNetns });
  const tap = tapName(portId);
  const port = await getPort(o, portId);
  // Off its Open vSwitch bridge first (os-vif's unplug), when it was bound there or an OVSDB is named.
  if (port?.['binding:vif_type'] === 'ovs' || o.ovsdb) await withVSwitch(o, (vs) => unplugOvsPort(vs, tap));
  if (await hostIp.link(tap)) await hostIp.batch([delLink(tap)], { force: false });
  if (o.keepBinding || !port) return;
  const r = await api(o, 'PUT', `ports/${portId}`, { port: { 'binding:host_id': '', device_id: '', device_owner: '' } });
  if (r.status !== 200) throw new VifError(`unbinding port ${portId}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Runs `fn` with a connection to the host's ovsdb-server. */
function withVSwitch<T>(o: VifOptions, fn: (vs: VSwitch) => Promise<T>): Promise<T> {
  return withOvsdb(o.ovsdb ?? DEFAULT_OVSDB, fn).catch((err: Error) => {
    throw new VifError(err.message);
  });
}
