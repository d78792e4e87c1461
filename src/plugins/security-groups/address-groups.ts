// /v2.0/address-groups (Neutron's AddressGroupDbMixin): named sets of CIDRs that security group
// rules name as remote_address_group_id. Addresses are stored normalized (network/prefixlen; a bare
// address is a /32 or /128) and changed only by the add_addresses / remove_addresses actions,
// which answer as Neutron does, with the group's revision and timestamps. A group a rule names
// cannot go (AddressGroupInUse). Agents hear address_groups_updated when the addresses change.
import { badRequest, NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import { nowStamp } from '../../db/store.js';
import { formatCidr, parseCidr } from '../../ipam/address.js';
import type { Context } from '../context.js';
import { deletePoliciesOf } from '../rbac/access.js';
import { BaseService, type Dict } from '../service.js';

const ASSOC = 'address_associations';

/** Python's repr of a list of strings, as Neutron's messages show them. */
const pyList = (items: string[]) => `[${items.map((a) => `'${a}'`).join(', ')}]`;

/** netaddr.IPNetwork(addr) → 'network/prefixlen'; AddrFormatError (400) otherwise. */
export function normalizeAddress(value: unknown): string {
  const c = typeof value === 'string' ? parseCidr(value.trim(), { allowBareIp: true }) : null;
  if (!c) throw new NeutronError('AddrFormatError', 400, `invalid IPNetwork ${String(value)}`);
  return formatCidr(c.version, c.network, c.prefixlen);
}

export class AddressGroupService extends BaseService {
  protected notFoundType = 'AddressGroup';
  protected notFoundLabel = 'Address group';
  protected override readonly rbacType = 'address_group' as const;
  /** Tells agents that these groups' addresses changed (set when the server is assembled). */
  notify?: (ids: string[]) => void;

  private async addressesOf(db: DB, ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const rows = await db
      .selectFrom(ASSOC)
      .select(['address_group_id', 'address'])
      .where('address_group_id', 'in', this.store.anyOf(ids))
      .orderBy('address')
      .execute();
    for (const r of rows) out.get(r.address_group_id as string)?.push(r.address as string);
    return out;
  }

  protected override async extend(db: DB, dicts: Dict[]): Promise<void> {
    await super.extend(db, dicts);
    const addresses = await this.addressesOf(
      db,
      dicts.map((d) => d.id as string),
    );
    for (const d of dicts) d.addresses = addresses.get(d.id as string) ?? [];
  }

  /** A group another project shares with the caller is read-only to it and, as in Neutron, looks
   * absent to a change (404, not 403). */
  protected override async fetchForWrite(db: DB, ctx: Context, id: string, action: string, changes: Dict = {}): Promise<Dict> {
    const obj = await this.fetch(db, ctx, id);
    if (!ctx.isAdmin && obj.project_id !== ctx.projectId) throw this.notFound(id);
    await this.authorize(db, ctx, action, { ...obj, ...changes }, Object.keys(changes));
    return obj;
  }

  private async touch(db: DB, id: string): Promise<void> {
    const row = await db.selectFrom(this.def.table).select('revision_number').where('id', '=', id).executeTakeFirst();
    await db
      .updateTable(this.def.table)
      .set({ revision_number: Number(row?.revision_number ?? 0) + 1, updated_at: nowStamp() })
      .where('id', '=', id)
      .execute();
  }

  protected async createOne(db: DB, _ctx: Context, item: Dict): Promise<string> {
    const obj = this.newObject(item);
    const now = nowStamp();
    await db
      .insertInto(this.def.table)
      .values({
        id: obj.id as string,
        project_id: obj.project_id as string,
        name: (obj.name as string) ?? '',
        description: (obj.description as string) ?? '',
        created_at: now,
        updated_at: now,
        revision_number: 0,
      })
      .execute();
    const given = Array.isArray(item.addresses) ? (item.addresses as string[]) : [];
    const addresses = [...new Set(given.map(normalizeAddress))];
    if (addresses.length) {
      await db
        .insertInto(ASSOC)
        .values(addresses.map((address) => ({ address, address_group_id: obj.id as string })))
        .execute();
      await this.touch(db, obj.id as string);
    }
    return obj.id as string;
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    await super.updateOne(db, ctx, obj, changes);
    await this.touch(db, obj.id as string);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    const id = obj.id as string;
    const used = await db
      .selectFrom('securitygrouprules')
      .select('id')
      .where('remote_address_group_id', '=', id)
      .limit(1)
      .executeTakeFirst();
    if (used) {
      throw new NeutronError('AddressGroupInUse', 409, `Address group ${id} is in use on one or more security group rules.`);
    }
    await db.deleteFrom(ASSOC).where('address_group_id', '=', id).execute();
    await deletePoliciesOf(db, 'address_group', id);
    await super.deleteOne(db, ctx, obj);
  }

  /** PUT /address-groups/{id}/add_addresses and remove_addresses, body {"addresses": […]}. */
  async action(ctx: Context, id: string, action: string, body: unknown): Promise<unknown> {
    const list = body && typeof body === 'object' ? (body as { addresses?: unknown }).addresses : undefined;
    if (list === undefined) throw badRequest("Unable to find 'addresses' in request body");
    if (!Array.isArray(list)) throw new NeutronError('AddrFormatError', 400, `invalid IPNetwork ${JSON.stringify(list)}`);
    const given = [...new Set(list.map(normalizeAddress))];
    const result = await this.tx(async (db) => {
      const obj = await this.fetchForWrite(db, ctx, id, action);
      const current = new Set((obj.addresses as string[]) ?? []);
      if (action === 'add_addresses') {
        const present = given.filter((a) => current.has(a));
        if (present.length) {
          throw new NeutronError(
            'AddressesAlreadyExist',
            400,
            `Addresses ${pyList(present)} already exist in the address group ${id}.`,
          );
        }
        if (given.length) {
          await db
            .insertInto(ASSOC)
            .values(given.map((address) => ({ address, address_group_id: id })))
            .execute();
        }
      } else {
        const missing = given.filter((a) => !current.has(a));
        if (missing.length) {
          throw new NeutronError('AddressesNotFound', 404, `Addresses ${pyList(missing)} not found in the address group ${id}.`);
        }
        if (given.length) await db.deleteFrom(ASSOC).where('address_group_id', '=', id).where('address', 'in', given).execute();
      }
      // No address given changes nothing, the revision included (as in Neutron).
      if (given.length) await this.touch(db, id);
      const row = await db.selectFrom(this.def.table).selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const [addresses] = (await this.addressesOf(db, [id])).values();
      const shown: Dict = {
        id,
        name: row.name,
        project_id: row.project_id,
        shared: false,
        addresses,
        revision_number: Number(row.revision_number),
        description: row.description,
        created_at: row.created_at,
        updated_at: row.updated_at,
        tenant_id: row.project_id,
      };
      await this.perCaller(db, ctx, [shown]);
      return shown;
    });
    if (given.length) this.notify?.([id]);
    return { address_group: result };
  }
}
