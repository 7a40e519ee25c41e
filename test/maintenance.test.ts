import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { maintainEmbedded } from '../src/db/maintenance.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { createGroup, sendMessages } from './support/factories.ts';

// PGlite's own autovacuum; a server runs the real one, which would race this test for the same tables.
describe('embedded database maintenance', { skip: ENGINE === 'pglite' ? false : 'PGlite only' }, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
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

  it('analyzes the tables that changed enough, vacuums those with dead rows, and leaves the rest', async () => {
    const db = t.app.parley.ctx.db;
    const alice = await t.login('maint-alice');
    const bob = await t.login('maint-bob');
    const chatId = (await createGroup(alice, [bob])).id;
    // Whatever setting up left behind is taken care of first.
    await maintainEmbedded(db);

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
    const pass = await maintainEmbedded(db);
    assert.ok(pass.analyzed.includes('messages'), `analyzed: ${pass.analyzed.join(', ')}`);
    // The update's dead row versions are what the vacuum is for.
    assert.ok(pass.vacuumed.includes('messages'), `vacuumed: ${pass.vacuumed.join(', ')}`);
    const afterwards = await statsOf('messages');
    assert.equal(afterwards.n_mod_since_analyze, 0);
    assert.ok(afterwards.last_analyze, 'messages has statistics');
    assert.ok(earlier.last_analyze === null || afterwards.last_analyze > earlier.last_analyze);
    assert.ok((await statsOf('messages')).last_vacuum);

    const idle = await maintainEmbedded(db);
    assert.deepEqual(idle, { analyzed: [], vacuumed: [] }, 'nothing changed: nothing to do');
  });
});
