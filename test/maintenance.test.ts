import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { autovacuumIsOff, MAINTENANCE_LOCK, maintainShared, maintainTables } from '../src/db/maintenance.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { createGroup, sendMessages } from './support/factories.ts';

// PGlite's own autovacuum, and a server's without one (this machine's test server runs with autovacuum off); a
// server's real autovacuum would race this test for the same tables.
describe(`database maintenance without autovacuum (${ENGINE})`, () => {
  let t: TestApp;
  let runs = true;
  before(async () => {
    t = await createTestApp();
    runs = ENGINE === 'pglite' || (await autovacuumIsOff(t.app.parley.ctx.db));
  });
  after(async () => {
    await t.close();
  });

  async function statsOf(table: string) {
    const result = await sql<{
      n_mod_since_analyze: number;
      last_analyze: Date | null;
      last_vacuum: Date | null;
    }>`
      select n_mod_since_analyze::int, last_analyze, last_vacuum from pg_stat_user_tables
      where schemaname = current_schema() and relname = ${table}`.execute(t.app.parley.ctx.db);
    return result.rows[0]!;
  }

  it('analyzes the tables that changed enough, vacuums those with dead rows, and leaves the rest', async (ctx) => {
    if (!runs) {
      ctx.skip('this PostgreSQL server runs autovacuum');
      return;
    }
    const db = t.app.parley.store.unbounded;
    // On a server the app's own scheduled passes take the advisory lock: held here, they skip while the test works.
    if (ENGINE !== 'pglite') {
      await db.connection().execute(async (conn) => {
        await sql`select pg_advisory_lock(${MAINTENANCE_LOCK}, hashtext(current_schema()))`.execute(conn);
        try {
          await analyzesAndVacuums(db);
        } finally {
          await sql`select pg_advisory_unlock(${MAINTENANCE_LOCK}, hashtext(current_schema()))`.execute(conn);
        }
      });
      return;
    }
    await analyzesAndVacuums(db);
  });

  async function analyzesAndVacuums(db: TestApp['app']['parley']['store']['unbounded']): Promise<void> {
    const alice = await t.login('maint-alice');
    const bob = await t.login('maint-bob');
    const chatId = (await createGroup(alice, [bob])).id;
    // Whatever setting up left behind is taken care of first.
    await maintainTables(db);

    await sendMessages(alice, chatId, 120);
    // One statement leaves 120 dead row versions behind (the sends' own updates of member and chat rows are mostly
    // pruned away as their pages are read again, so they are no dependable source of dead rows).
    await sql`update messages set edited_at = edited_at where chat_id = ${chatId}`.execute(db);
    // The counters reach the statistics view at the end of transactions, at most about once a second, every
    // table's at once: wait until all 120 inserts and 120 updates are counted.
    const deadline = Date.now() + 10_000;
    while ((await statsOf('messages')).n_mod_since_analyze < 240 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const earlier = await statsOf('messages');
    const pass = await maintainTables(db);
    assert.ok(pass.analyzed.includes('messages'), `analyzed: ${pass.analyzed.join(', ')}`);
    // The update's dead row versions are what the vacuum is for.
    assert.ok(pass.vacuumed.includes('messages'), `vacuumed: ${pass.vacuumed.join(', ')}`);
    const afterwards = await statsOf('messages');
    assert.equal(afterwards.n_mod_since_analyze, 0);
    assert.ok(afterwards.last_analyze, 'messages has statistics');
    assert.ok(earlier.last_analyze === null || afterwards.last_analyze > earlier.last_analyze);
    assert.ok((await statsOf('messages')).last_vacuum);

    const idle = await maintainTables(db);
    assert.deepEqual(idle, { analyzed: [], vacuumed: [] }, 'nothing changed: nothing to do');
  }

  it('on a server, one process at a time: a pass is skipped while another holds the lock', async (ctx) => {
    if (ENGINE === 'pglite' || !runs) {
      ctx.skip('several processes share a PostgreSQL server only');
      return;
    }
    const db = t.app.parley.store.unbounded;
    const alice = await t.login('maint-carol');
    const chatId = (await createGroup(alice, [])).id;
    // Another process's pass holds the lock: this one skips (nor can the app's own schedule run meanwhile).
    await db.connection().execute(async (other) => {
      await sql`select pg_advisory_lock(${MAINTENANCE_LOCK}, hashtext(current_schema()))`.execute(other);
      try {
        await sendMessages(alice, chatId, 80);
        const deadline = Date.now() + 10_000;
        while ((await statsOf('messages')).n_mod_since_analyze < 80 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal(await maintainShared(db), null, 'another process is at it');
        assert.ok((await statsOf('messages')).n_mod_since_analyze >= 80, 'nothing was analyzed');
      } finally {
        await sql`select pg_advisory_unlock(${MAINTENANCE_LOCK}, hashtext(current_schema()))`.execute(other);
      }
    });
    // Free again: a pass analyzes what changed (this one, or the app's own if it came first).
    const pass = await maintainShared(db);
    const stats = await statsOf('messages');
    assert.ok(
      pass?.analyzed.includes('messages') || stats.n_mod_since_analyze === 0,
      `analyzed: ${pass?.analyzed.join(', ')}; ${stats.n_mod_since_analyze} changes since`,
    );
    assert.equal(stats.n_mod_since_analyze, 0);
  });
});
