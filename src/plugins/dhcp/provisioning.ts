// The DHCP provisioning block, where Neutron's ML2 adds it (_setup_dhcp_agent_provisioning_component):
// a port created with an address on a DHCP-enabled subnet of a network some DHCP agent hosts, or
// whose addresses or MAC change, stays DOWN until that agent says dnsmasq serves its host entry
// (dhcp_ready_on_ports). Service ports (routers, DHCP itself, floating IPs, no owner) are never held.
import type { DB } from '../../db/connection.js';
import type { Store } from '../../db/store.js';
import type { Context } from '../context.js';
import type { PortExtension } from '../core/ports.js';
import { addBlock, ENTITY_DHCP, removeBlock } from '../ml2/provisioning.js';
import type { Dict } from '../service.js';
import type { DhcpAgentScheduler } from './scheduler.js';

/** Neutron's NO_PBLOCKS_TYPES. */
export const NO_PBLOCKS_OWNERS = [
  '',
  'network:router_interface_distributed',
  'network:ha_router_replicated_interface',
  'network:router_interface',
  'network:router_gateway',
  'network:router_centralized_snat',
  'network:dhcp',
  'network:floatingip_agent_gateway',
  'network:router_ha_interface',
  'network:floatingip',
];

export class DhcpProvisioning implements PortExtension {
  readonly attributes: string[] = [];

  constructor(
    private readonly store: Store,
    private readonly scheduler: DhcpAgentScheduler,
  ) {}

  private async setup(db: DB, port: Dict, owner: string): Promise<void> {
    const portId = port.id as string;
    if (NO_PBLOCKS_OWNERS.includes(owner)) return;
    const subnetIds = (await db.selectFrom('ipallocations').select('subnet_id').where('port_id', '=', portId).execute()).map(
      (r) => r.subnet_id as string,
    );
    const dhcp =
      subnetIds.length > 0 &&
      (await db
        .selectFrom('subnets')
        .select('id')
        .where('id', 'in', subnetIds)
        .where('enable_dhcp', '=', this.store.sql.bool(true))
        .executeTakeFirst()) !== undefined;
    if (dhcp && (await this.scheduler.hostingAgents([port.network_id as string], {}, db)).length > 0) {
      await addBlock(db, portId, ENTITY_DHCP);
    } else await removeBlock(db, portId, ENTITY_DHCP);
  }

  async processCreate(db: DB, _ctx: Context, port: Dict): Promise<void> {
    await this.setup(db, port, (port.device_owner as string) ?? '');
  }

  async processUpdate(db: DB, _ctx: Context, port: Dict, changes: Dict): Promise<void> {
    // Only when its addresses or MAC change (they are what dnsmasq serves).
    const macChanged = 'mac_address' in changes && changes.mac_address !== port.mac_address;
    if (!('fixed_ips' in changes) && !macChanged) return;
    await this.setup(db, port, ((changes.device_owner ?? port.device_owner) as string) ?? '');
  }

  async extend(): Promise<void> {}
}
