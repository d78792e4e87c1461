// What L3 asks of ports it did not create through /ports (neutron's prevent_l3_port_deletion,
// disassociate_floatingips and l3-port-ip-change-not-allowed): a router's or floating IP's own
// port cannot be deleted directly, a port's floating IPs are released when it goes, and the IPv4
// addresses of router interfaces do not change.
import type { DB } from '../../db/connection.js';
import { ipVersionOf } from '../../ipam/address.js';
import { DEVICE_OWNER } from '../../rpc/contract.js';
import type { Context } from '../context.js';
import type { PortGuard } from '../core/ports.js';
import type { Dict } from '../service.js';
import { type FixedIp, IP_UPDATE_NOT_ALLOWED, ROUTER_DEVICE_OWNERS } from './common.js';
import { l3Errors } from './errors.js';
import type { FloatingIpService } from './floatingips.js';
import type { L3Notify } from './notify.js';

export class L3PortGuard implements PortGuard {
  /** Routers whose floating IPs a port delete released, told once the delete committed. */
  private readonly released = new Map<string, string[]>();

  constructor(
    private readonly fips: FloatingIpService,
    private readonly notify: L3Notify,
  ) {}

  private async routerExists(db: DB, id: string): Promise<boolean> {
    return (await db.selectFrom('routers').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  async beforeDelete(db: DB, _ctx: Context, port: Dict): Promise<void> {
    const owner = port.device_owner as string;
    const deviceId = port.device_id as string;
    if (ROUTER_DEVICE_OWNERS.includes(owner)) {
      // A port whose router or floating IP is gone (a failed deletion) may go.
      const exists =
        owner === DEVICE_OWNER.FLOATINGIP
          ? (await db.selectFrom('floatingips').select('id').where('id', '=', deviceId).executeTakeFirst()) !== undefined
          : await this.routerExists(db, deviceId);
      if (exists) throw l3Errors.servicePortInUse(port.id as string, `has device owner ${owner}`);
    }
    this.released.set(port.id as string, await this.fips.disassociatePort(db, port.id as string));
  }

  async afterDelete(port: Dict): Promise<void> {
    const routers = this.released.get(port.id as string) ?? [];
    this.released.delete(port.id as string);
    await this.notify.routersUpdated(routers);
  }

  async beforeUpdate(db: DB, _ctx: Context, port: Dict, changes: Dict): Promise<void> {
    if (!('fixed_ips' in changes) || !IP_UPDATE_NOT_ALLOWED.includes(port.device_owner as string)) return;
    if (!(await this.routerExists(db, port.device_id as string))) return;
    const before = port.fixed_ips as FixedIp[];
    const asked = changes.fixed_ips as Dict[];
    const v4 = (ips: Array<{ ip_address?: unknown; subnet_id?: unknown }>, subnetVersion: Map<string, number>) =>
      ips
        .filter((f) =>
          typeof f.ip_address === 'string' ? ipVersionOf(f.ip_address) === 4 : subnetVersion.get(f.subnet_id as string) === 4,
        )
        .map((f) => `${f.subnet_id ?? ''}|${f.ip_address ?? ''}`);
    const subnetIds = [...before, ...asked].map((f) => f.subnet_id as string).filter(Boolean);
    const rows = subnetIds.length
      ? await db.selectFrom('subnets').select(['id', 'ip_version']).where('id', 'in', subnetIds).execute()
      : [];
    const versions = new Map(rows.map((r) => [r.id as string, Number(r.ip_version)]));
    const had = new Set(v4(before, versions));
    // An asked address with only an ip_address matches the kept one whatever its subnet.
    const kept = before.filter((b) =>
      asked.some((a) => a.ip_address === b.ip_address && (a.subnet_id === undefined || a.subnet_id === b.subnet_id)),
    );
    const stays = new Set(v4(kept, versions));
    const added = asked.filter(
      (a) => !before.some((b) => b.ip_address === a.ip_address && (a.subnet_id === undefined || a.subnet_id === b.subnet_id)),
    );
    if (had.size !== stays.size || v4(added as Array<{ ip_address?: unknown; subnet_id?: unknown }>, versions).length) {
      throw l3Errors.ipAddressChangeNotAllowed(port.id as string);
    }
  }
}
