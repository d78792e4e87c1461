// The `binding` extension of ports: binding:host_id, vnic_type and profile as asked, and
// vif_type/vif_details as ML2 decided. A port with a host is bound inside its create or update
// transaction; the outcome (bound to a segment by a driver, or binding_failed with the reasons)
// is stored with its binding level, and a bound port waits on its L2 agent (provisioning blocks).
// A binding attempt for a direct-physical port also sets the port's MAC (port-mac-override).
import type { RawBuilder } from 'kysely';
import type { DB } from '../../db/connection.js';
import type { EB } from '../../db/store.js';
import { UNSET } from '../../resources/types.js';
import type { Context } from '../context.js';
import type { PortExtension } from '../core/ports.js';
import type { Dict } from '../service.js';
import { type AgentView, VIF_TYPE_BINDING_FAILED, VIF_TYPE_UNBOUND, VNIC_NORMAL } from './mech/driver.js';
import type { BindingResult, MechanismManager } from './mech-manager.js';
import { addBlock, blocksOf, ENTITY_L2, removeBlock } from './provisioning.js';
import type { Segment } from './segment.js';

export const HOST = 'binding:host_id';
export const VNIC_TYPE = 'binding:vnic_type';
export const PROFILE = 'binding:profile';
export const VIF_TYPE = 'binding:vif_type';
export const VIF_DETAILS = 'binding:vif_details';
/** Neutrino's diagnostics for the admin: why binding failed, and what an inactive port waits for. */
export const FAILURE_REASON = 'binding_failure_reason';
export const PROVISIONING_BLOCKS = 'provisioning_blocks';

export const BINDINGS_TABLE = 'ml2_port_bindings';
export const LEVELS_TABLE = 'ml2_port_binding_levels';

export interface BindingDeps {
  manager: MechanismManager;
  segmentsOf(db: DB, networkIds: string[]): Promise<Map<string, Segment[]>>;
  agentsOnHost(db: DB, host: string): Promise<AgentView[]>;
  networkOf(db: DB, ctx: Context, port: Dict): Promise<Dict>;
  newMac(db: DB, networkId: string): Promise<string>;
  /** The store's `IN (…)` right-hand side as one bound parameter (Store.anyOf). */
  anyOf(values: string[]): RawBuilder<string>;
}

/** A direct-physical port takes the MAC of the physical device it is bound to (port-mac-override). */
export const VNIC_DIRECT_PHYSICAL = 'direct-physical';

interface Stored {
  host: string;
  vnic_type: string;
  profile: Dict;
  vif_type: string;
  vif_details: Dict;
  failure_reason: string | null;
}

const DEFAULTS: Stored = {
  host: '',
  vnic_type: VNIC_NORMAL,
  profile: {},
  vif_type: VIF_TYPE_UNBOUND,
  vif_details: {},
  failure_reason: null,
};

const given = (v: unknown) => v !== UNSET && v !== undefined;

function parse(text: unknown): Dict {
  if (typeof text !== 'string' || text === '') return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Dict) : {};
  } catch {
    return {};
  }
}

export class PortBindingExtension implements PortExtension {
  readonly attributes = [HOST, VNIC_TYPE, PROFILE, VIF_TYPE, VIF_DETAILS, FAILURE_REASON, PROVISIONING_BLOCKS];

  constructor(private readonly deps: BindingDeps) {}

  readonly filters = {
    [HOST]: (eb: EB, values: unknown[]) => {
      const hosts = (values as string[]).filter((h) => h !== '');
      const bound = eb(
        'ports.id',
        'in',
        eb
          .selectFrom(BINDINGS_TABLE)
          .select(`${BINDINGS_TABLE}.port_id`)
          .where('host', 'in', hosts.length ? hosts : ['']),
      );
      if (hosts.length === values.length) return bound;
      // `?binding:host_id=` asks for ports with no host.
      const withHost = eb.selectFrom(BINDINGS_TABLE).select(`${BINDINGS_TABLE}.port_id`).where('host', '!=', '');
      return eb.or([bound, eb('ports.id', 'not in', withHost)]);
    },
    [VNIC_TYPE]: (eb: EB, values: unknown[]) => {
      const types = values as string[];
      const listed = eb.selectFrom(BINDINGS_TABLE).select(`${BINDINGS_TABLE}.port_id`).where('vnic_type', 'in', types);
      if (!types.includes(VNIC_NORMAL)) return eb('ports.id', 'in', listed);
      const other = eb.selectFrom(BINDINGS_TABLE).select(`${BINDINGS_TABLE}.port_id`).where('vnic_type', '!=', VNIC_NORMAL);
      return eb.or([eb('ports.id', 'in', listed), eb('ports.id', 'not in', other)]);
    },
  };

  private async load(db: DB, portIds: string[]): Promise<Map<string, Stored>> {
    const out = new Map<string, Stored>();
    if (portIds.length === 0) return out;
    // One bound parameter whatever the count: a list's 1,000 ids are neither compiled into the
    // SQL one by one nor make a new statement per count.
    const rows = await db.selectFrom(BINDINGS_TABLE).selectAll().where('port_id', 'in', this.deps.anyOf(portIds)).execute();
    for (const r of rows) {
      out.set(r.port_id as string, {
        host: r.host as string,
        vnic_type: r.vnic_type as string,
        profile: parse(r.profile),
        vif_type: r.vif_type as string,
        vif_details: parse(r.vif_details),
        failure_reason: (r.failure_reason as string | null) ?? null,
      });
    }
    return out;
  }

  async extend(db: DB, ports: Dict[]): Promise<void> {
    const ids = ports.map((p) => p.id as string);
    const bindings = await this.load(db, ids);
    // Unbound ports too may wait, for the DHCP agent.
    const blocks = await blocksOf(db, ids, this.deps.anyOf);
    for (const p of ports) {
      const b = bindings.get(p.id as string) ?? DEFAULTS;
      p[HOST] = b.host;
      p[VNIC_TYPE] = b.vnic_type;
      p[PROFILE] = b.profile;
      p[VIF_TYPE] = b.vif_type;
      p[VIF_DETAILS] = b.vif_details;
      p[FAILURE_REASON] = b.failure_reason;
      p[PROVISIONING_BLOCKS] = blocks.get(p.id as string) ?? [];
    }
  }

  async processCreate(db: DB, ctx: Context, port: Dict, item: Dict): Promise<void> {
    const asked: Stored = {
      ...DEFAULTS,
      host: given(item[HOST]) && item[HOST] !== null ? (item[HOST] as string) : '',
      vnic_type: given(item[VNIC_TYPE]) ? (item[VNIC_TYPE] as string) : VNIC_NORMAL,
      profile: given(item[PROFILE]) && item[PROFILE] !== null ? (item[PROFILE] as Dict) : {},
    };
    // Ports nobody asked to bind keep no binding row: they read as Neutron's defaults.
    if (asked.host === '' && asked.vnic_type === VNIC_NORMAL && Object.keys(asked.profile).length === 0) return;
    await this.rebind(db, ctx, port, asked, undefined);
  }

  async processUpdate(db: DB, ctx: Context, port: Dict, changes: Dict): Promise<void> {
    const current: Stored = {
      host: (port[HOST] as string) ?? '',
      vnic_type: (port[VNIC_TYPE] as string) ?? VNIC_NORMAL,
      profile: (port[PROFILE] as Dict) ?? {},
      vif_type: (port[VIF_TYPE] as string) ?? VIF_TYPE_UNBOUND,
      vif_details: (port[VIF_DETAILS] as Dict) ?? {},
      failure_reason: (port[FAILURE_REASON] as string | null) ?? null,
    };
    const next: Stored = { ...current };
    if (HOST in changes) next.host = (changes[HOST] as string | null) ?? '';
    if (VNIC_TYPE in changes) next.vnic_type = changes[VNIC_TYPE] as string;
    if (PROFILE in changes) next.profile = (changes[PROFILE] as Dict | null) ?? {};
    const changed =
      next.host !== current.host ||
      next.vnic_type !== current.vnic_type ||
      JSON.stringify(next.profile) !== JSON.stringify(current.profile);
    // A failed binding is tried again on any update of the port, as ML2 does.
    const retry = current.vif_type === VIF_TYPE_BINDING_FAILED && next.host !== '';
    if (!changed && !retry) return;
    await this.rebind(db, ctx, { ...port, ...changes }, next, port);
  }

  /** Binds (or unbinds) `port` as `asked` says and stores the outcome. */
  private async rebind(db: DB, ctx: Context, port: Dict, asked: Stored, original: Dict | undefined): Promise<void> {
    const portId = port.id as string;
    let result: BindingResult = { vifType: VIF_TYPE_UNBOUND, vifDetails: {} };
    if (asked.host !== '') {
      const network = await this.deps.networkOf(db, ctx, port);
      const segments = (await this.deps.segmentsOf(db, [port.network_id as string])).get(port.network_id as string) ?? [];
      result = this.deps.manager.bind({
        port,
        original,
        network,
        host: asked.host,
        vnicType: asked.vnic_type,
        segments,
        agents: await this.deps.agentsOnHost(db, asked.host),
      });
    }
    if (asked.host !== '' && asked.vnic_type === VNIC_DIRECT_PHYSICAL) await this.overrideMac(db, port, asked.profile);
    const row = {
      port_id: portId,
      host: asked.host,
      vnic_type: asked.vnic_type,
      profile: JSON.stringify(asked.profile),
      vif_type: result.vifType,
      vif_details: JSON.stringify(result.vifDetails),
      failure_reason: result.failure ?? null,
    };
    await db.deleteFrom(BINDINGS_TABLE).where('port_id', '=', portId).execute();
    await db.deleteFrom(LEVELS_TABLE).where('port_id', '=', portId).execute();
    await db.insertInto(BINDINGS_TABLE).values(row).execute();
    // Only the L2 block follows the binding; the DHCP agent's stands whatever the host.
    await removeBlock(db, portId, ENTITY_L2);
    if (result.segment && result.driver) {
      await db
        .insertInto(LEVELS_TABLE)
        .values({ port_id: portId, host: asked.host, level: 0, driver: result.driver, segment_id: result.segment.id })
        .execute();
      // Bound: the port goes ACTIVE once its L2 agent reports the device up.
      await addBlock(db, portId, ENTITY_L2);
    }
    if (port.status !== 'DOWN') await db.updateTable('ports').set({ status: 'DOWN' }).where('id', '=', portId).execute();
  }

  /** port-mac-override: a direct-physical port's MAC flows from the physical function, which Nova
   * names in the profile's device_mac_address; without one (the port unbound from the device)
   * the port gets a new MAC, so that a MAC of a device is never left on a port not using it. As
   * ML2 does whenever it commits a binding attempt, successful or not (checked against Neutron
   * Zed, whose answer to that very request still shows the MAC from before — the next read shows
   * the new one; Neutrino answers with the MAC the port has). */
  private async overrideMac(db: DB, port: Dict, profile: Dict): Promise<void> {
    const device = profile.device_mac_address;
    const mac = typeof device === 'string' && device !== '' ? device : await this.deps.newMac(db, port.network_id as string);
    await db
      .updateTable('ports')
      .set({ mac_address: mac })
      .where('id', '=', port.id as string)
      .execute();
  }
}

/** The segment a port is bound to, from its binding level 0. */
export async function boundSegments(
  db: DB,
  portIds: string[],
): Promise<Map<string, { host: string; segmentId: string; driver: string }>> {
  const out = new Map<string, { host: string; segmentId: string; driver: string }>();
  if (portIds.length === 0) return out;
  const rows = await db.selectFrom(LEVELS_TABLE).selectAll().where('port_id', 'in', portIds).where('level', '=', 0).execute();
  for (const r of rows)
    out.set(r.port_id as string, { host: r.host as string, segmentId: r.segment_id as string, driver: r.driver as string });
  return out;
}
