// Provisioning blocks, as Neutron's: a bound port is ACTIVE only once every entity that must wire
// it (its L2 agent; the DHCP agent serving its network) has said it is done. Each entity's block is a row;
// completing removes it, and whoever removes the last one turns the port ACTIVE, so two agents
// finishing at once cannot leave it stuck.
import type { RawBuilder } from 'kysely';
import type { DB } from '../../db/connection.js';

export const BLOCKS_TABLE = 'provisioningblocks';
export const ENTITY_L2 = 'L2';
export const ENTITY_DHCP = 'DHCP';

export async function addBlock(db: DB, portId: string, entity: string): Promise<void> {
  await db.deleteFrom(BLOCKS_TABLE).where('port_id', '=', portId).where('entity', '=', entity).execute();
  await db.insertInto(BLOCKS_TABLE).values({ port_id: portId, entity }).execute();
}

export async function clearBlocks(db: DB, portId: string): Promise<void> {
  await db.deleteFrom(BLOCKS_TABLE).where('port_id', '=', portId).execute();
}

/** Removes `entity`'s block; whether there was one. */
export async function removeBlock(db: DB, portId: string, entity: string): Promise<boolean> {
  const r = await db.deleteFrom(BLOCKS_TABLE).where('port_id', '=', portId).where('entity', '=', entity).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Whether any entity still blocks the port. */
export async function isBlocked(db: DB, portId: string): Promise<boolean> {
  return (await db.selectFrom(BLOCKS_TABLE).select('entity').where('port_id', '=', portId).executeTakeFirst()) !== undefined;
}

/** The blocks of `portIds`, with `anyOf` the store's one-parameter `IN (…)` (Store.anyOf). */
export async function blocksOf(
  db: DB,
  portIds: string[],
  anyOf: (values: string[]) => RawBuilder<string>,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (portIds.length === 0) return out;
  const rows = await db
    .selectFrom(BLOCKS_TABLE)
    .select(['port_id', 'entity'])
    .where('port_id', 'in', anyOf(portIds))
    .orderBy('entity')
    .execute();
  for (const r of rows) out.set(r.port_id as string, [...(out.get(r.port_id as string) ?? []), r.entity as string]);
  return out;
}

/** Locks a port's row for the rest of the transaction (a no-op update: SQLite has no FOR UPDATE,
 * and serialises writers anyway). Status changes take it first, so that two entities completing
 * at once see each other's delete, and a report checked against a binding cannot interleave with
 * a rebind. */
export async function lockPort(db: DB, portId: string): Promise<void> {
  await db
    .updateTable('ports')
    .set((eb) => ({ status: eb.ref('status') }))
    .where('id', '=', portId)
    .execute();
}

/** Removes `entity`'s block; true when none is left, i.e. the port may now be ACTIVE. A
 * repeated report (nothing left to remove) also answers true when nothing else holds the port. */
export async function completeBlock(db: DB, portId: string, entity: string): Promise<boolean> {
  await lockPort(db, portId);
  await removeBlock(db, portId, entity);
  return !(await isBlocked(db, portId));
}
