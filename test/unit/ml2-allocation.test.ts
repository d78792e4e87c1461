// Segmentation-id pools against a real database (SQLite in memory; PostgreSQL when
// NEUTRINO_TEST_DB names one): one shared suite every pool passes (VXLAN, GRE, Geneve, VLAN per
// physical network), then the type drivers' reserve/allocate/release on top, and flat networks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { type Database, type DB, openDatabase } from '../../src/db/connection.js';
import { upgrade } from '../../src/db/migrations.js';
import { Store } from '../../src/db/store.js';
import { AllocationPool, type PoolTable } from '../../src/plugins/ml2/allocations.js';
import { ml2Config } from '../../src/plugins/ml2/config.js';
import type { SegmentSpec } from '../../src/plugins/ml2/segment.js';
import { TypeManager } from '../../src/plugins/ml2/type-manager.js';
import { transaction } from '../../src/plugins/service.js';
import { freshPostgresDatabase, isPostgresUrl } from '../helpers.js';

let database: Database;
let store: Store;
let drop: (() => Promise<void>) | undefined;

before(async () => {
  const url = process.env.NEUTRINO_TEST_DB ?? 'sqlite://';
  const fresh = isPostgresUrl(url) ? await freshPostgresDatabase(url) : undefined;
  drop = fresh?.drop;
  database = await openDatabase(fresh?.url ?? url, { poolSize: 8 });
  await upgrade(database.db);
  store = new Store(database.db, database.dialect);
});
after(async () => {
  await database.close();
  await drop?.();
});

const tx = <T>(fn: (db: DB) => Promise<T>) => transaction(store, fn);

const POOLS: Array<{ name: string; spec: PoolTable; physnet: string | null; max: number }> = [
  { name: 'vxlan', spec: { table: 'ml2_vxlan_allocations', idColumn: 'vxlan_vni' }, physnet: null, max: 2 ** 24 - 1 },
  { name: 'gre', spec: { table: 'ml2_gre_allocations', idColumn: 'gre_id' }, physnet: null, max: 2 ** 32 - 1 },
  { name: 'geneve', spec: { table: 'ml2_geneve_allocations', idColumn: 'geneve_vni' }, physnet: null, max: 2 ** 24 - 1 },
  {
    name: 'vlan',
    spec: { table: 'ml2_vlan_allocations', idColumn: 'vlan_id', physnetColumn: 'physical_network' },
    physnet: 'physnetA',
    max: 4094,
  },
];

for (const { name, spec, physnet, max } of POOLS) {
  describe(`${name} pool`, () => {
    let pool: AllocationPool;
    const rows = async () => {
      let q = database.db.selectFrom(spec.table).select([spec.idColumn, 'allocated']);
      if (spec.physnetColumn) q = q.where(spec.physnetColumn, '=', physnet);
      const rs = await q.orderBy(spec.idColumn).execute();
      return rs.map((r) => [Number(r[spec.idColumn]), Boolean(r.allocated)] as const);
    };
    const ids = async (allocated?: boolean) =>
      (await rows()).filter(([, a]) => allocated === undefined || a === allocated).map(([id]) => id);

    before(async () => {
      pool = new AllocationPool(store, spec);
      await tx((db) => pool.sync(db, [{ min: 1, max: 5 }], physnet));
    });

    test('sync adds one free row per id of the ranges, and is idempotent', async () => {
      assert.deepEqual(await ids(false), [1, 2, 3, 4, 5]);
      await tx((db) => pool.sync(db, [{ min: 1, max: 5 }], physnet));
      assert.equal((await rows()).length, 5);
    });

    test('allocateAny hands out each id once, then null', async () => {
      const got: number[] = [];
      for (let i = 0; i < 5; i++) got.push((await tx((db) => pool.allocateAny(db, physnet))) as number);
      assert.deepEqual(
        [...got].sort((a, b) => a - b),
        [1, 2, 3, 4, 5],
      );
      assert.equal(await tx((db) => pool.allocateAny(db, physnet)), null);
    });

    test('allocate takes a free id of the ranges, refuses a taken one, adds one outside', async () => {
      await tx((db) => pool.release(db, 3, [{ min: 1, max: 5 }], physnet));
      assert.equal(await tx((db) => pool.allocate(db, 3, physnet)), true);
      assert.equal(await tx((db) => pool.allocate(db, 3, physnet)), false);
      assert.equal(await tx((db) => pool.allocate(db, max, physnet)), true);
      assert.equal(await tx((db) => pool.allocate(db, max, physnet)), false);
      assert.deepEqual(await ids(true), [1, 2, 3, 4, 5, max]);
    });

    test('release returns ids of the ranges to the pool and deletes the others', async () => {
      await tx((db) => pool.release(db, 2, [{ min: 1, max: 5 }], physnet));
      await tx((db) => pool.release(db, max, [{ min: 1, max: 5 }], physnet));
      assert.deepEqual(await rows(), [
        [1, true],
        [2, false],
        [3, true],
        [4, true],
        [5, true],
      ]);
    });

    test('a new range: free rows outside go, allocated ones stay, new ids come', async () => {
      await tx((db) => pool.sync(db, [{ min: 4, max: 8 }], physnet));
      assert.deepEqual(await rows(), [
        [1, true],
        [3, true],
        [4, true],
        [5, true],
        [6, false],
        [7, false],
        [8, false],
      ]);
      // Released outside the ranges now: the row goes.
      await tx((db) => pool.release(db, 1, [{ min: 4, max: 8 }], physnet));
      assert.deepEqual(await ids(), [3, 4, 5, 6, 7, 8]);
      await tx((db) => pool.sync(db, [], physnet));
      assert.deepEqual(await ids(), [3, 4, 5]);
    });

    test('concurrent allocations never share an id', async () => {
      await tx((db) => pool.sync(db, [{ min: 100, max: 111 }], physnet));
      const got = await Promise.all(Array.from({ length: 20 }, () => tx((db) => pool.allocateAny(db, physnet))));
      const ids = got.filter((x) => x !== null) as number[];
      assert.equal(ids.length, 12);
      assert.equal(new Set(ids).size, 12);
    });
  });
}

describe('vlan pools per physical network', () => {
  test('physical networks no longer configured lose their free rows, keep their allocated ones', async () => {
    const pool = new AllocationPool(store, {
      table: 'ml2_vlan_allocations',
      idColumn: 'vlan_id',
      physnetColumn: 'physical_network',
    });
    await tx(async (db) => {
      await pool.sync(db, [{ min: 1, max: 3 }], 'old');
      await pool.allocate(db, 2, 'old');
      await pool.sync(db, [{ min: 1, max: 3 }], 'kept');
      await pool.dropPhysnetsExcept(db, ['kept', 'physnetA']);
    });
    const rs = await database.db
      .selectFrom('ml2_vlan_allocations')
      .select(['physical_network', 'vlan_id'])
      .where('physical_network', 'in', ['old', 'kept'])
      .orderBy('physical_network')
      .orderBy('vlan_id')
      .execute();
    assert.deepEqual(
      rs.map((r) => `${r.physical_network}:${r.vlan_id}`),
      ['kept:1', 'kept:2', 'kept:3', 'old:2'],
    );
  });

  test('a large range is one statement, and a second sync finds it complete', async () => {
    const pool = new AllocationPool(store, {
      table: 'ml2_vlan_allocations',
      idColumn: 'vlan_id',
      physnetColumn: 'physical_network',
    });
    await tx((db) => pool.sync(db, [{ min: 1, max: 4094 }], 'big'));
    await tx((db) => pool.sync(db, [{ min: 1, max: 4094 }], 'big'));
    const { n } = (await database.db
      .selectFrom('ml2_vlan_allocations')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('physical_network', '=', 'big')
      .executeTakeFirstOrThrow()) as { n: number | string };
    assert.equal(Number(n), 4094);
  });
});

describe('type drivers on the pools', () => {
  let m: TypeManager;
  before(async () => {
    const cfg = loadConfig(
      [],
      [
        ['ml2_type_vlan', 'network_vlan_ranges', 'physnetT:10:11'],
        ['ml2_type_gre', 'tunnel_id_ranges', '1:2'],
        ['ml2', 'tenant_network_types', 'gre'],
      ],
    );
    m = new TypeManager(ml2Config(cfg), store);
    await m.initialize();
  });
  const reserve = (s: SegmentSpec) =>
    tx((db) => m.drivers.get(s.network_type)?.reserveProviderSegment(db, s) as Promise<SegmentSpec>);
  const seg = (t: string, p: string | null = null, id: number | null = null): SegmentSpec => ({
    network_type: t,
    physical_network: p,
    segmentation_id: id,
  });

  test('vlan: partial from the pool until 503, fully specified until 409', async () => {
    const a = await reserve(seg('vlan', 'physnetT'));
    const b = await reserve(seg('vlan', 'physnetT'));
    assert.deepEqual([a.segmentation_id, b.segmentation_id].sort(), [10, 11]);
    await assert.rejects(reserve(seg('vlan', 'physnetT')), { type: 'NoNetworkAvailable', status: 503 });
    await assert.rejects(reserve(seg('vlan', 'physnetT', 10)), { type: 'VlanIdInUse', status: 409 });
    assert.equal((await reserve(seg('vlan', 'physnetT', 99))).segmentation_id, 99);
    await tx((db) => m.drivers.get('vlan')?.releaseSegment(db, a) as Promise<void>);
    assert.equal((await reserve(seg('vlan', 'physnetT'))).segmentation_id, a.segmentation_id);
  });

  test('tenant segments come from the first tenant type; then NoNetworkAvailable', async () => {
    const item = {};
    const one = await tx((db) => m.reserveNetworkSegments(db, item));
    const two = await tx((db) => m.reserveNetworkSegments(db, item));
    assert.deepEqual([one[0].segmentation_id, two[0].segmentation_id].sort(), [1, 2]);
    await assert.rejects(
      tx((db) => m.reserveNetworkSegments(db, item)),
      { type: 'NoNetworkAvailable' },
    );
  });

  test('flat: one network per physical network until released', async () => {
    const flat = seg('flat', 'physnetF');
    await reserve(flat);
    await assert.rejects(reserve(flat), { type: 'FlatNetworkInUse', status: 409 });
    await tx((db) => m.drivers.get('flat')?.releaseSegment(db, flat) as Promise<void>);
    await reserve(flat);
  });
});
