// Subnet pools: prefixes kept merged and sorted, prefix length bounds, address scope
// association rules, one default pool per IP version, and the add/remove prefix actions.

import { badRequest, errors, invalidInput, NeutronError, policyNotAuthorized } from '../../common/errors.js';
import type { DB } from '../../db/connection.js';
import { canonicalCidr, formatCidr, parseCidr, widthOf } from '../../ipam/address.js';
import { anyOverlap, coveredBy, mergeCidrs } from '../../ipam/prefixes.js';
import { UNSET } from '../../resources/types.js';
import { validators } from '../../validation/validators.js';
import type { Context } from '../context.js';
import { deletePoliciesOf, grantToAll } from '../rbac/access.js';
import { BaseService, type Dict } from '../service.js';
import type { AddressScopeService } from './address-scopes.js';
import type { NetworkService } from './networks.js';

const set = (v: unknown) => v !== UNSET && v !== undefined;

export class SubnetPoolService extends BaseService {
  protected notFoundType = 'SubnetPool';
  protected notFoundLabel = 'Subnet pool';
  scopes!: AddressScopeService;
  networks!: NetworkService;
  /** The subnets service, seen only as onboarding needs it (subnets.ts imports this file). */
  subnets!: { joinPool(db: DB, ids: string[], poolId: string): Promise<void> };

  protected override readonly rbacType = 'subnetpool' as const;

  /** Canonical, merged, sorted prefixes of one IP version. */
  private normalizePrefixes(prefixes: string[]): { prefixes: string[]; version: 4 | 6 } {
    const canon = prefixes.map((p) => canonicalCidr(p) as string);
    const versions = new Set(canon.map((p) => parseCidr(p)?.version));
    if (versions.size !== 1) throw errors.prefixVersionMismatch();
    return { prefixes: mergeCidrs(canon), version: [...versions][0] as 4 | 6 };
  }

  private checkBounds(version: 4 | 6, min: number, max: number, def: number): void {
    const width = widthOf(version);
    const bad = (type: string, len: number, base: string, baseLen: number) =>
      errors.illegalSubnetPoolPrefixBounds(`Illegal prefix bounds: ${type}=${len}, ${base}=${baseLen}.`);
    if (max > width) throw bad('max_prefixlen', max, 'ip_version_max', width);
    if (min > max) throw bad('min_prefixlen', min, 'max_prefixlen', max);
    if (def < min) throw bad('default_prefixlen', def, 'min_prefixlen', min);
    if (def > max) throw bad('default_prefixlen', def, 'max_prefixlen', max);
  }

  /** An address scope the pool may join: visible, same IP version, no prefix overlap inside it. */
  private async checkScope(
    db: DB,
    ctx: Context,
    scopeId: string,
    pool: { id?: string; version: number; prefixes: string[] },
  ): Promise<void> {
    // Visible means owned or shared with the caller by an RBAC policy: usable.
    const scope = await this.scopes.visible(db, ctx, scopeId);
    if (Number(scope.ip_version) !== pool.version) {
      throw errors.illegalSubnetPoolIpVersionAssociationToAddressScope(pool.id ?? '', scopeId, Number(scope.ip_version));
    }
    let q = db.selectFrom('subnetpools').select(['id', 'prefixes']).where('address_scope_id', '=', scopeId);
    if (pool.id) q = q.where('id', '!=', pool.id);
    for (const other of await q.execute()) {
      if (anyOverlap(JSON.parse(other.prefixes as string), pool.prefixes)) throw errors.addressScopePrefixConflict();
    }
  }

  /** The id of the default pool of an IP version (at most one exists), other than `exceptId`. */
  private async defaultOf(db: DB, version: number, exceptId?: string): Promise<string | undefined> {
    const yes = this.store.mapping(this.def).filterValue('is_default', true);
    let q = db.selectFrom('subnetpools').select('id').where('is_default', '=', yes).where('ip_version', '=', version);
    if (exceptId) q = q.where('id', '!=', exceptId);
    return (await q.executeTakeFirst())?.id as string | undefined;
  }

  /** The default pool of an IP version if the caller can see it (default-subnetpools: a subnet
   * created with use_default_subnetpool takes its prefix from it). */
  async visibleDefault(db: DB, ctx: Context, version: number): Promise<Dict | undefined> {
    const id = await this.defaultOf(db, version);
    if (!id) return undefined;
    try {
      return await this.visible(db, ctx, id);
    } catch (err) {
      if (err instanceof NeutronError && err.status === 404) return undefined;
      throw err;
    }
  }

  private async checkDefault(db: DB, version: number, exceptId?: string): Promise<void> {
    if (await this.defaultOf(db, version, exceptId)) {
      throw invalidInput(
        'A default subnetpool for this IP family has already been set. Only one default may exist per IP family',
      );
    }
  }

  protected async createOne(db: DB, ctx: Context, item: Dict): Promise<string> {
    const p = this.newObject(item);
    const { prefixes, version } = this.normalizePrefixes(p.prefixes as string[]);
    p.prefixes = prefixes;
    p.ip_version = version;
    const width = widthOf(version);
    p.min_prefixlen = set(p.min_prefixlen) ? p.min_prefixlen : version === 4 ? 8 : 64;
    p.max_prefixlen = set(p.max_prefixlen) ? p.max_prefixlen : width;
    p.default_prefixlen = set(p.default_prefixlen) ? p.default_prefixlen : p.min_prefixlen;
    this.checkBounds(version, Number(p.min_prefixlen), Number(p.max_prefixlen), Number(p.default_prefixlen));
    p.default_quota = set(p.default_quota) ? p.default_quota : null;
    p.address_scope_id = set(p.address_scope_id) ? p.address_scope_id : null;
    if (p.address_scope_id) await this.checkScope(db, ctx, p.address_scope_id as string, { version, prefixes });
    if (p.is_default) await this.checkDefault(db, version);
    await this.store.insert(db, this.def, p);
    if (p.shared === true) await grantToAll(db, 'subnetpool', p);
    return p.id as string;
  }

  protected override async updateOne(db: DB, ctx: Context, obj: Dict, changes: Dict): Promise<void> {
    const version = Number(obj.ip_version) as 4 | 6;
    let prefixes = obj.prefixes as string[];
    if ('prefixes' in changes) {
      const n = this.normalizePrefixes(changes.prefixes as string[]);
      if (n.version !== version) throw errors.prefixVersionMismatch();
      if (!(obj.prefixes as string[]).every((old) => coveredBy(old, n.prefixes))) {
        throw errors.illegalSubnetPoolPrefixUpdate('Existing prefixes must be a subset of the new prefixes');
      }
      await this.checkSharedScopePrefixChange(db, ctx, obj);
      prefixes = n.prefixes;
      changes.prefixes = prefixes;
    }
    const min = Number(changes.min_prefixlen ?? obj.min_prefixlen);
    const max = Number(changes.max_prefixlen ?? obj.max_prefixlen);
    const def = Number(changes.default_prefixlen ?? obj.default_prefixlen);
    this.checkBounds(version, min, max, Math.max(def, min));
    if ('min_prefixlen' in changes && !('default_prefixlen' in changes) && def < min) changes.default_prefixlen = min;
    const scopeId =
      'address_scope_id' in changes ? (changes.address_scope_id as string | null) : (obj.address_scope_id as string | null);
    if (scopeId && ('address_scope_id' in changes || 'prefixes' in changes)) {
      await this.checkScope(db, ctx, scopeId, { id: obj.id as string, version, prefixes });
    }
    if (changes.is_default === true && !obj.is_default) await this.checkDefault(db, version, obj.id as string);
    await super.updateOne(db, ctx, obj, changes);
  }

  /** A non-admin may not change the prefixes of a pool in someone else's shared address scope. */
  private async checkSharedScopePrefixChange(db: DB, ctx: Context, obj: Dict): Promise<void> {
    if (ctx.isAdmin || !obj.address_scope_id) return;
    const scope = await db
      .selectFrom('address_scopes')
      .select(['project_id'])
      .where('id', '=', obj.address_scope_id as string)
      .executeTakeFirst();
    if (scope && scope.project_id !== ctx.projectId) {
      throw errors.illegalSubnetPoolPrefixUpdate(
        `Cannot update prefixes of subnet pool ${obj.id} associated with address scope ${obj.address_scope_id} owned by another project`,
      );
    }
  }

  protected override async deleteOne(db: DB, ctx: Context, obj: Dict): Promise<void> {
    const used = await db
      .selectFrom('subnets')
      .select('id')
      .where('subnetpool_id', '=', obj.id as string)
      .limit(1)
      .executeTakeFirst();
    if (used) {
      throw new NeutronError('SubnetPoolDeleteError', 400, 'Unable to delete subnet pool: Subnet pool has existing allocations.');
    }
    await deletePoliciesOf(db, 'subnetpool', obj.id as string);
    await super.deleteOne(db, ctx, obj);
  }

  /** PUT /subnetpools/{id}/add_prefixes and remove_prefixes: body and answer are {"prefixes": […]};
   * onboard_network_subnets (subnet_onboard): see onboard. */
  async action(ctx: Context, id: string, action: string, body: unknown): Promise<unknown> {
    if (action === 'onboard_network_subnets') return this.onboard(ctx, id, body);
    const list = (body as { prefixes?: unknown } | null)?.prefixes;
    if (body === null || typeof body !== 'object' || list === undefined)
      throw badRequest("Unable to find 'prefixes' in request body");
    const reason = validators['type:subnet_list'](list);
    if (reason !== null) throw badRequest(`Invalid input for prefixes. Reason: ${reason}.`);
    const given = (list as string[]).map((p) => canonicalCidr(p) as string);
    return this.tx(async (db) => {
      const obj = await this.fetchForWrite(db, ctx, id, action);
      const current = obj.prefixes as string[];
      let next: string[];
      if (action === 'add_prefixes') {
        next = this.normalizePrefixes([...current, ...given]).prefixes;
        if (Number(parseCidr(next[0])?.version) !== Number(obj.ip_version)) throw errors.prefixVersionMismatch();
      } else {
        next = subtract(current, given);
        const inUse = await db.selectFrom('subnets').select('cidr').where('subnetpool_id', '=', id).execute();
        for (const s of inUse) {
          if (!coveredBy(s.cidr as string, next)) {
            throw errors.illegalSubnetPoolPrefixUpdate(`Cannot remove prefixes in use by subnet ${s.cidr}`);
          }
        }
      }
      if (!ctx.isAdmin && obj.project_id !== ctx.projectId) throw policyNotAuthorized(`${action}`);
      await this.checkSharedScopePrefixChange(db, ctx, obj);
      if (obj.address_scope_id) {
        await this.checkScope(db, ctx, obj.address_scope_id as string, { id, version: Number(obj.ip_version), prefixes: next });
      }
      await this.store.update(db, this.def, id, { prefixes: next });
      return { prefixes: next };
    });
  }

  /** PUT /subnetpools/{id}/onboard_network_subnets {"network_id"}: the network's subnets of the
   * pool's IP version join the pool, their CIDRs added to its prefixes (those already allocated
   * from it may not overlap them). Only the network's owner (or an admin) may move its subnets.
   * The answer is the list of the subnets moved, [{"id", "cidr"}], as Neutron returns it. */
  private onboard(ctx: Context, id: string, body: unknown): Promise<Array<{ id: string; cidr: string }>> {
    return this.tx(async (db) => {
      const pool = await this.fetchForWrite(db, ctx, id, 'onboard_network_subnets');
      const networkId = body !== null && typeof body === 'object' ? (body as { network_id?: unknown }).network_id : undefined;
      if (networkId === undefined || networkId === null) throw invalidInput('network_id must be specified.');
      const network = await this.networks.visible(db, ctx, networkId as string);
      if (!ctx.isAdmin && network.project_id !== ctx.projectId) throw new NeutronError('NotAuthorized', 403, 'Not authorized.');
      const moving = await db
        .selectFrom('subnets')
        .select(['id', 'cidr'])
        .where('network_id', '=', network.id as string)
        .where('ip_version', '=', Number(pool.ip_version))
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      const allocated = (await db.selectFrom('subnets').select('cidr').where('subnetpool_id', '=', id).execute()).map(
        (r) => r.cidr as string,
      );
      for (const sub of moving) {
        if (anyOverlap([sub.cidr as string], allocated)) {
          throw new NeutronError(
            'IllegalSubnetPoolUpdate',
            400,
            `Illegal subnetpool update : Onboarding subnet ${sub.id}: ${sub.cidr} conflicts with allocated prefixes in subnet pool ${id}.`,
          );
        }
      }
      const cidrs = moving.map((r) => r.cidr as string);
      await this.updateOne(db, ctx, { ...pool }, { prefixes: [...(pool.prefixes as string[]), ...cidrs] });
      await this.subnets.joinPool(
        db,
        moving.map((r) => r.id as string),
        id,
      );
      return moving.map((r) => ({ id: r.id as string, cidr: r.cidr as string }));
    });
  }
}

/** Removes whole prefixes and the parts of others covered by them. */
function subtract(current: string[], remove: string[]): string[] {
  const out: string[] = [];
  for (const c of current) {
    if (remove.some((r) => coveredBy(c, [r]))) continue;
    const inside = remove.filter((r) => coveredBy(r, [c]));
    if (inside.length === 0) {
      out.push(c);
      continue;
    }
    out.push(...splitExcluding(c, inside));
  }
  return mergeCidrs(out);
}

/** The parts of `cidr` outside `holes`, by halving until each half is clean. */
function splitExcluding(cidr: string, holes: string[]): string[] {
  if (holes.some((h) => coveredBy(cidr, [h]))) return [];
  if (!holes.some((h) => anyOverlap([cidr], [h]))) return [cidr];
  const c = parseCidr(cidr);
  if (!c) throw new NeutronError('InvalidInput', 400, `bad prefix ${cidr}`);
  const len = c.prefixlen + 1;
  const half = 1n << BigInt(widthOf(c.version) - len);
  const lo = formatCidr(c.version, c.network, len);
  const hi = formatCidr(c.version, c.network + half, len);
  return [...splitExcluding(lo, holes), ...splitExcluding(hi, holes)];
}
