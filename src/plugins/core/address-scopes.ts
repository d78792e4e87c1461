// Address scopes: owned or shared; a shared scope cannot be unshared, and a scope in use by a
// subnet pool cannot be deleted.
import { errors, NeutronError } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import type { Context } from '../context.js';
import { deletePoliciesOf, grantToAll } from '../rbac/access.js';
import { BaseService, type Dict } from '../service.js';

export class AddressScopeService extends BaseService {
  protected notFoundType = 'AddressScope';
  protected notFoundLabel = 'Address scope';

  protected override readonly rbacType = 'address_scope' as const;

  protected async createOne(db: DB, _ctx: Context, item: Dict): Promise<string> {
    const s = this.newObject(item);
    await this.store.insert(db, this.def, s);
    if (s.shared === true) await grantToAll(db, 'address_scope', s);
    return s.id as string;
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    // The stored column says whether a '*' policy exists (obj.shared is per caller).
    const row = await this.store.getRow(db, this.def, obj.id as string);
    const wildcard = row?.shared === true;
    if (changes.shared === true && !wildcard) await grantToAll(db, 'address_scope', obj);
    if (wildcard && changes.shared === false) {
      throw new NeutronError(
        'AddressScopeUpdateError',
        400,
        `Unable to update address scope ${obj.id} : Shared address scope can't be unshared.`,
      );
    }
    await super.updateOne(db, ctx, obj, changes);
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    const used = await db
      .selectFrom('subnetpools')
      .select('id')
      .where('address_scope_id', '=', obj.id as string)
      .limit(1)
      .executeTakeFirst();
    if (used) throw errors.addressScopeInUse(obj.id as string);
    await deletePoliciesOf(db, 'address_scope', obj.id as string);
    await super.deleteOne(db, ctx, obj);
  }
}
