// /v2.0/availability_zones, derived from the agents as Neutron's AgentAvailabilityZoneMixin
// does: each zone a DHCP agent reports is a `network` zone, each an L3 agent reports a `router`
// zone; a zone is available when one of its agents is administratively up (liveness is not
// considered). Read-only: a list and nothing else.
import { httpNotFound, NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { ListOptions, Store } from '../../db/store.js';
import type { ResourceDef } from '../../resources/types.js';
import type { Context } from '../context.js';
import type { Dict, ResourceService } from '../service.js';
import { AGENT_TYPE } from './agents.js';

const AGENT_TYPE_OF: Record<string, string> = { network: AGENT_TYPE.DHCP, router: AGENT_TYPE.L3 };
const RESOURCE_OF: Record<string, string> = { [AGENT_TYPE.DHCP]: 'network', [AGENT_TYPE.L3]: 'router' };

/** Every hint of a `network` (or `router`) must be a zone some DHCP (or L3) agent reports, in any
 * state (Neutron's validate_availability_zones): the first that is not is AvailabilityZoneNotFound. */
export async function validateAvailabilityZones(db: DB, resource: 'network' | 'router', hints: string[]): Promise<void> {
  if (hints.length === 0) return;
  const rows = await db
    .selectFrom('agents')
    .select('availability_zone')
    .distinct()
    .where('agent_type', '=', AGENT_TYPE_OF[resource])
    .where('availability_zone', 'in', hints)
    .execute();
  const known = new Set(rows.map((r) => r.availability_zone as string));
  const missing = hints.find((h) => !known.has(h));
  if (missing !== undefined) {
    throw new NeutronError('AvailabilityZoneNotFound', 404, `AvailabilityZone ${missing} could not be found.`);
  }
}

export class AvailabilityZoneService implements ResourceService {
  constructor(
    readonly def: ResourceDef,
    private readonly store: Store,
  ) {}

  async list(ctx: Context, opts: ListOptions): Promise<Dict[]> {
    const names = opts.filters.name as string[] | undefined;
    const resources = opts.filters.resource as string[] | undefined;
    const states = (opts.filters.state ?? []) as string[];
    let q = this.store.db
      .selectFrom('agents')
      .select(['availability_zone', 'agent_type', 'admin_state_up'])
      .where('availability_zone', 'is not', null)
      .where('agent_type', 'in', Object.values(AGENT_TYPE_OF));
    if (names?.length) q = q.where('availability_zone', 'in', names);
    // An unknown resource matches no agent type.
    if (resources?.length)
      q = q.where(
        'agent_type',
        'in',
        resources.map((r) => AGENT_TYPE_OF[r] ?? r),
      );

    const zones = new Map<string, Dict>();
    for (const a of await q.execute()) {
      const name = a.availability_zone as string;
      if (!name) continue;
      const resource = RESOURCE_OF[a.agent_type as string];
      const key = `${name}\n${resource}`;
      const zone = zones.get(key) ?? { name, resource, state: 'unavailable' };
      if (a.admin_state_up) zone.state = 'available';
      zones.set(key, zone);
    }
    const target = { project_id: ctx.projectId, tenant_id: ctx.projectId };
    return [...zones.values()]
      .filter((z) => states.length === 0 || states.includes(z.state as string))
      .filter((z) => ctx.policy.allows('get_availability_zone', { ...z, ...target }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)) || String(a.resource).localeCompare(String(b.resource)));
  }

  async get(): Promise<Dict> {
    throw httpNotFound();
  }
  async create(): Promise<Dict[]> {
    throw httpNotFound();
  }
  async update(): Promise<Dict> {
    throw httpNotFound();
  }
  async delete(): Promise<void> {
    throw httpNotFound();
  }
  async getTags(): Promise<string[]> {
    throw httpNotFound();
  }
  async changeTags(): Promise<string[]> {
    throw httpNotFound();
  }
}
