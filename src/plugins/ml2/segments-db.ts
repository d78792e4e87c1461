// The networksegments table: which segments each network maps onto, in segment_index order.
// Rows go with their network (ON DELETE CASCADE); releasing their ids is the type manager's job.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DB } from '../../db/connection.js';
import { nowStamp } from '../../db/store.js';
import type { Segment, SegmentSpec } from './segment.js';

export const SEGMENTS_TABLE = 'networksegments';

/** The static (non-dynamic) segments of each network, by network id, in index order. */
export async function segmentsOf(db: DB, networkIds: string[]): Promise<Map<string, Segment[]>> {
  const out = new Map<string, Segment[]>();
  if (networkIds.length === 0) return out;
  for (const id of networkIds) out.set(id, []);
  const rows = await db
    .selectFrom(SEGMENTS_TABLE)
    .select(['id', 'network_id', 'network_type', 'physical_network', 'segmentation_id'])
    .where('network_id', 'in', [...new Set(networkIds)])
    .where('is_dynamic', '=', sql.lit(false))
    .orderBy('network_id')
    .orderBy('segment_index')
    .execute();
  for (const r of rows) {
    out.get(r.network_id as string)?.push({
      id: r.id as string,
      network_id: r.network_id as string,
      network_type: r.network_type as string,
      physical_network: (r.physical_network as string | null) ?? null,
      segmentation_id: r.segmentation_id === null ? null : Number(r.segmentation_id),
    });
  }
  return out;
}

export async function addSegments(db: DB, networkId: string, specs: SegmentSpec[]): Promise<void> {
  if (specs.length === 0) return;
  const now = nowStamp();
  await db
    .insertInto(SEGMENTS_TABLE)
    .values(
      specs.map((s, i) => ({
        id: randomUUID(),
        network_id: networkId,
        network_type: s.network_type,
        physical_network: s.physical_network,
        segmentation_id: s.segmentation_id,
        segment_index: i,
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();
}

export async function setSegmentationId(db: DB, segmentId: string, segmentationId: number): Promise<void> {
  await db
    .updateTable(SEGMENTS_TABLE)
    .set((eb) => ({ segmentation_id: segmentationId, updated_at: nowStamp(), revision_number: eb('revision_number', '+', 1) }))
    .where('id', '=', segmentId)
    .execute();
}
