import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { openStore } from '../src/db/connect.ts';
import type { Db } from '../src/db/database.ts';
import { migrateToLatest, migrations } from '../src/db/migrate.ts';
import { drainSearchQueue, SEARCH_INDEX_LOCK } from '../src/search/search.indexer.ts';
import type { MessageView } from './support/api.ts';
import { createTestApp, dropSchema, ENGINE, testConfig, type Client, type TestApp } from './support/app.ts';
import { createGroup } from './support/factories.ts';
import { sleep } from './support/load.ts';

/**
 * Search indexing off the send path (migration 0026): triggers queue every change to a message in its own
 * transaction, and an indexer writes the search rows afterwards. Nothing committed is missed, whoever writes, and
 * concurrent changes and drains end with every search row matching its message as it is now.
 */

async function send(client: Client, chatId: string, text: string): Promise<MessageView> {
  const res = await client.post<MessageView>(`/v1/chats/${chatId}/messages`, { text });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

describe('search indexing', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });
  const db = () => t.app.parley.store.db;

  /** Whether the message has a search row. */
  async function indexed(chatId: string, seq: number): Promise<boolean> {
    const result = await sql<{ n: number }>`
      select count(*)::int as n from message_search where chat_id = ${chatId} and seq = ${seq}`.execute(db());
    return result.rows[0]!.n === 1;
  }

  /** Messages whose search row differs from what their current text gives, or is missing, or is left over. */
  async function mismatches(chatIds: string[]): Promise<unknown[]> {
    const result = await sql`
      select m.chat_id, m.seq, m.text, m.deleted_at, x.folded
        from messages m
        full join message_search x on x.chat_id = m.chat_id and x.seq = m.seq
       where coalesce(m.chat_id, x.chat_id) = any(${chatIds}::text[])
         and (case
                when m.deleted_at is not null or m.text is null then x.chat_id is not null
                else x.chat_id is null
                  or x.folded is distinct from parley_fold(m.text)
                  or x.vector is distinct from to_tsvector(x.config, m.text)
              end)`.execute(db());
    return result.rows;
  }

  it('indexes a send in the background, with no search to ask for it, within a second', async () => {
    const alice = await t.login('ix-alice');
    const chat = await createGroup(alice);
    const sent = await send(alice, chat.id, 'background indexing of a quokka');
    const started = Date.now();
    while (!(await indexed(chat.id, sent.seq))) {
      assert.ok(Date.now() - started < 1000, 'not indexed within a second');
      await sleep(10);
    }
    const queued = await sql<{ n: number }>`
      select count(*)::int as n from message_search_queue where chat_id = ${chat.id}`.execute(db());
    assert.equal(queued.rows[0]!.n, 0);
    assert.deepEqual(await mismatches([chat.id]), []);
    // The pass shows in the metrics: how many it indexed, how long the oldest had waited.
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.ok(Number(/^parley_search_indexed_total (\d+)$/m.exec(metrics)?.[1]) >= 1, metrics);
    const passes = Number(/^parley_search_index_delay_seconds_count (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(passes >= 1);
    const waited = Number(/^parley_search_index_delay_seconds_sum (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(waited >= 0 && waited < 5 * passes, `${waited} s over ${passes} passes`);
  });

  /** A writer other than the send function: three rows inserted by hand, the second edited, the third deleted. */
  async function writeByHand(trx: Db, chatId: string): Promise<void> {
    await sql`
      insert into messages (chat_id, seq, id, author_id, text, created_at)
      select ${chatId}, g, 'ix-manual-' || g, ${'ix-bob'}, 'manual numbat ' || g, now()
        from generate_series(1, 3) g`.execute(trx);
    await sql`update messages set text = 'edited wombat' where chat_id = ${chatId} and seq = 2`.execute(trx);
    await sql`update messages set deleted_at = now(), text = null where chat_id = ${chatId} and seq = 3`.execute(
      trx,
    );
  }

  it('queues what any statement writes, in its transaction; a drain that rolls back leaves it queued', async () => {
    const alice = await t.login('ix-bob');
    const chat = await createGroup(alice);
    const rolledBack = new Error('rolled back');
    await db()
      .transaction()
      .execute(async (trx) => {
        // Holding the indexer's lock: no drain runs until this transaction ends.
        await sql`select pg_advisory_xact_lock(${SEARCH_INDEX_LOCK}, hashtext(current_schema()))`.execute(
          trx,
        );
        await writeByHand(trx, chat.id);
        const queued = await sql<{ seq: number }>`
          select seq::int from message_search_queue where chat_id = ${chat.id} order by seq`.execute(trx);
        assert.deepEqual(
          queued.rows.map((r) => r.seq),
          [1, 2, 2, 3, 3],
        );
        // A drain inside the transaction indexes them; the rollback below undoes it, and the queue with it.
        assert.equal(await drainSearchQueue(trx, { wait: true }), 5);
        assert.equal((await sql`select 1 from message_search_queue`.execute(trx)).rows.length, 0);
        throw rolledBack;
      })
      .catch((error: unknown) => {
        if (error !== rolledBack) {
          throw error;
        }
      });
    assert.equal(
      (await sql`select 1 from messages where chat_id = ${chat.id}`.execute(db())).rows.length,
      0,
      'the rollback undid the messages too',
    );
    // Committed this time; a drain writes the two live ones and nothing for the deleted one.
    await db()
      .transaction()
      .execute(async (trx) => {
        await writeByHand(trx, chat.id);
        await sql`update chats set last_seq = 3, message_count = 3 where id = ${chat.id}`.execute(trx);
      });
    await drainSearchQueue(db(), { wait: true });
    assert.deepEqual(await mismatches([chat.id]), []);
    const folded = await sql<{ folded: string }>`
      select folded from message_search where chat_id = ${chat.id} order by seq`.execute(db());
    assert.deepEqual(
      folded.rows.map((r) => r.folded),
      ['manual numbat 1', 'edited wombat'],
    );
    // A row removed outright (no API does; a cascade or an operator might) takes its search row with it.
    await sql`delete from messages where chat_id = ${chat.id} and seq = 1`.execute(db());
    await drainSearchQueue(db(), { wait: true });
    assert.deepEqual(await mismatches([chat.id]), []);
    const left = await sql<{ seq: number }>`
      select seq::int from message_search where chat_id = ${chat.id}`.execute(db());
    assert.deepEqual(left.rows, [{ seq: 2 }]);
  });

  it('concurrent edits, deletes and drains end with every search row matching its message', async () => {
    const alice = await t.login('ix-carol');
    const chats = [await createGroup(alice), await createGroup(alice)];
    const messages: { chatId: string; seq: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const chatId = chats[i % 2]!.id;
      messages.push({ chatId, seq: (await send(alice, chatId, `seed ${i} platypus`)).seq });
    }
    // Many changes at once, while drains run beside them on other connections, waiting and not.
    let changing = true;
    const drains = Array.from({ length: 3 }, async (_, d) => {
      let rounds = 0;
      while (changing || rounds === 0) {
        await drainSearchQueue(db(), { wait: d === 0, limit: 7 });
        rounds++;
        // PGlite answers in process: a loop with no timer in it would keep the requests from ever running.
        await sleep(1);
      }
      return rounds;
    });
    const changes = Array.from({ length: 120 }, async (_, k) => {
      const target = messages[k % messages.length]!;
      const url = `/v1/chats/${target.chatId}/messages/${target.seq}`;
      if (k % 17 === 5) {
        const res = await alice.delete(url);
        assert.ok([204, 404].includes(res.status), `${res.status} ${JSON.stringify(res.body)}`);
      } else {
        const res = await alice.patch(url, { text: `edit ${k} échidna Ümlaut` });
        assert.ok([200, 404, 409].includes(res.status), `${res.status} ${JSON.stringify(res.body)}`);
      }
    });
    let rounds: number[];
    try {
      await Promise.all(changes);
    } finally {
      changing = false;
      rounds = await Promise.all(drains);
    }
    assert.ok(rounds.every((n) => n > 0));
    await drainSearchQueue(db(), { wait: true });
    assert.deepEqual(
      await mismatches(chats.map((c) => c.id)),
      [],
      `${ENGINE}: search rows that differ from their messages`,
    );
    // And search answers from them: the edits by their new words, accents folded, the deleted ones not at all.
    const found = await alice.get<{ data: { message: MessageView }[] }>(
      `/v1/search/messages?q=echidna&limit=200`,
    );
    assert.equal(found.status, 200);
    const live = await sql<{ n: number }>`
      select count(*)::int as n from messages
       where chat_id = any(${chats.map((c) => c.id)}::text[]) and deleted_at is null and text like 'edit %'`.execute(
      db(),
    );
    assert.equal(found.body.data.length, live.rows[0]!.n);
    assert.ok(found.body.data.length > 0);
  });

  it('an upgrade indexes the messages written before it, in their tenant languages', async () => {
    const config = testConfig();
    const store = await openStore(config.database);
    try {
      const current = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
      const migrator = new Migrator({
        db: store.unbounded,
        provider: { getMigrations: async () => migrations },
        migrationTableSchema: current.rows[0]!.schema,
      });
      const before = await migrator.migrateTo('0025_send_generic_plan');
      assert.equal(before.error, undefined);
      // Written the way the previous version wrote: the columns it indexed, filled by its trigger.
      await sql`
        insert into tenants (id, name, settings)
        values ('up-de', 'de', '{"searchLanguage": "german"}'), ('up-en', 'en', '{}')`.execute(store.db);
      for (const tenant of ['up-de', 'up-en']) {
        await sql`insert into users (tenant_id, id, username) values (${tenant}, 'u', 'u')`.execute(store.db);
        await sql`
          insert into chats (id, tenant_id, number, kind, created_by, last_seq, message_count)
          values (${`${tenant}-chat`}, ${tenant}, 1, 'group', 'u', 3, 3)`.execute(store.db);
        await sql`
          insert into messages (chat_id, seq, id, author_id, text, created_at, deleted_at)
          values (${`${tenant}-chat`}, 1, ${`${tenant}-1`}, 'u', 'Die Häuser sind groß', now(), null),
                 (${`${tenant}-chat`}, 2, ${`${tenant}-2`}, 'u', 'Houses are big', now(), null),
                 (${`${tenant}-chat`}, 3, ${`${tenant}-3`}, 'u', null, now(), now())`.execute(store.db);
      }
      await migrateToLatest(store.unbounded);
      const rows = await sql<{
        chat_id: string;
        seq: number;
        config: string;
        vector: string;
        folded: string;
      }>`
        select chat_id, seq::int, config::text, vector::text, folded from message_search order by chat_id, seq`.execute(
        store.db,
      );
      assert.deepEqual(
        rows.rows.map((r) => [r.chat_id, r.seq, r.config.replace(/^.*\./, ''), r.folded]),
        [
          ['up-de-chat', 1, 'parley_german', 'die hauser sind gross'],
          ['up-de-chat', 2, 'parley_german', 'houses are big'],
          ['up-en-chat', 1, 'parley_english', 'die hauser sind gross'],
          ['up-en-chat', 2, 'parley_english', 'houses are big'],
        ],
      );
      // German stems "Häuser" to "haus"; English leaves a word it does not know.
      assert.match(rows.rows[0]!.vector, /'haus'/);
      assert.match(rows.rows[3]!.vector, /'hous'/);
      const columns = await sql<{ name: string }>`
        select column_name as name from information_schema.columns
         where table_schema = current_schema() and table_name = 'messages' and column_name like 'search%'`.execute(
        store.db,
      );
      assert.deepEqual(columns.rows, [], 'the columns the send path kept up are gone');
    } finally {
      await store.close();
      await dropSchema(config.database.kind === 'postgres' ? (config.database.schema ?? '') : '');
    }
  });
});
