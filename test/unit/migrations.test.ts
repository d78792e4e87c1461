// Migrations applied out of order (parts built side by side took numbers ahead): a database missing
// an earlier one is not up to date, and an upgrade applies it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/db/connection.js';
import { isUpToDate, upgrade } from '../../src/db/migrations.js';

test('a migration missing below the latest one applied makes the database out of date; upgrade applies it', async () => {
  const database = await openDatabase('sqlite://');
  try {
    const db = database.db;
    assert.equal(await isUpToDate(db), false, 'a new database');
    await upgrade(db);
    assert.equal(await isUpToDate(db), true);
    // As if 003 had landed after the others were applied: its table and its record absent.
    await sql`drop table quotas`.execute(db);
    await sql`delete from neutrino_migrations where name = '003_quotas'`.execute(db);
    assert.equal(await isUpToDate(db), false, 'the latest is applied, an earlier one is not');
    assert.deepEqual(await upgrade(db), ['003_quotas']);
    assert.equal(await isUpToDate(db), true);
  } finally {
    await database.close();
  }
});
