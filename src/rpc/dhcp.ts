// What the server and DHCP agents must compute alike: the device_id that names a host's DHCP port on
// a network (Neutron's get_dhcp_agent_device_id), so the server can find, reserve and hand over the
// port of an agent, and the agent can find its own among the network's ports.
import { createHash } from 'node:crypto';

/** RFC 4122's namespace for DNS names (Python's uuid.NAMESPACE_DNS). */
const NAMESPACE_DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

/** A name-based UUID, version 5 (SHA-1), as Python's uuid.uuid5. */
export function uuid5(name: string, namespace = NAMESPACE_DNS): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(Buffer.from(name, 'utf8')).digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `dhcp<uuid5(host's short name)>-<network id>`: the device_id of `host`'s DHCP port. */
export function dhcpDeviceId(networkId: string, host: string): string {
  return `dhcp${uuid5(host.split('.')[0])}-${networkId}`;
}
