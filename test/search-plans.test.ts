import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import {
  estimateMatches,
  findTextSample,
  newestQuery,
  searchNewest,
  type NewestPlan,
} from '../src/search/newest.repository.ts';
import type { SearchParams, SearchRow } from '../src/search/search.repository.ts';
import { drainSearchQueue } from '../src/search/search.indexer.ts';
import { choosePlan } from '../src/search/search.service.ts';
import type { MessageView, Page, SearchHitView } from './support/api.ts';
import { createTestApp, type Client, type TestApp } from './support/app.ts';
import { createGroup } from './support/factories.ts';

async function send(client: Client, chatId: string, text: string): Promise<MessageView> {
  const res = await client.post(`/v1/chats/${chatId}/messages`, { text });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** Every page of a search, followed by its cursors; the hits in the order they came. */
async function allPages(client: Client, params: Record<string, string | number>): Promise<SearchHitView[]> {
  const hits: SearchHitView[] = [];
  let cursor: string | null = null;
  do {
    const entries = Object.entries({ ...params, ...(cursor ? { cursor } : {}) });
    const query = new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)]));
    const res: { status: number; body: Page<SearchHitView> } = await client.get<Page<SearchHitView>>(
      `/v1/search/messages?${query}`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    hits.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return hits;
}

describe('search plans', () => {
  let t: TestApp;
  let alice: Client;
  let chatIds: string[];
  let config: number;
  /** What alice can find with "orn" in her two chats, oldest first: [text, whole word?]. */
  const live: [string, boolean][] = [];

  before(async () => {
    t = await createTestApp();
    alice = await t.login('plans-alice');
    const bob = await t.login('plans-bob');
    const a = await createGroup(alice);
    const b = await createGroup(alice, [bob]);
    const bobs = await createGroup(bob);
    chatIds = [a.id, b.id];
    // Parts of words in both chats, interleaved in time, two whole words, one deleted match, one match alice
    // cannot see and a few messages without a match.
    const plan: [string, string, boolean][] = [
      [a.id, 'the orn is here', true],
      [b.id, 'a corner table', false],
      [a.id, 'unicorn 1', false],
      [a.id, 'nothing to see', false],
      [b.id, 'hornet nest', false],
    ];
    for (let i = 2; i <= 13; i++) {
      plan.push([i % 2 === 0 ? a.id : b.id, `acorn ${i}`, false]);
    }
    plan.push([b.id, 'orn again', true], [a.id, 'thornbush 14', false], [b.id, 'plain words', false]);
    for (const [chatId, text, whole] of plan) {
      const sent = await send(chatId === b.id ? bob : alice, chatId, text);
      if (text === 'acorn 7') {
        assert.equal((await alice.delete(`/v1/chats/${chatId}/messages/${sent.seq}`)).status, 204);
      } else if (/orn/.test(text)) {
        live.push([text, whole]);
      }
    }
    await send(bob, bobs.id, 'acorn in a chat alice is not in');
    // The statistics the plan is chosen from (autovacuum, or Parley's maintenance on PGlite, keeps them).
    // Every message indexed (the indexer runs in the background), then analyzed.
    await drainSearchQueue(t.app.parley.store.db, { wait: true });
    await sql`analyze messages`.execute(t.app.parley.store.db);
    await sql`analyze message_search`.execute(t.app.parley.store.db);
    const row = await sql<{ config: number }>`
      select parley_search_config(tenant_id)::oid as config from chats where id = ${a.id}`.execute(
      t.app.parley.store.db,
    );
    config = Number(row.rows[0]?.config);
  });
  after(async () => {
    await t.close();
  });

  it('by relevance: whole words ranked first, then parts of words newest first, the same in pages of any size', async () => {
    const newestPartials = live
      .filter(([, whole]) => !whole)
      .map(([text]) => text)
      .reverse();
    const wholeWords = live.filter(([, whole]) => whole).map(([text]) => text);
    // Small pages read the chats newest first until full; a page of 200 reads every match: both give this order.
    for (const limit of [2, 3, 200]) {
      const hits = await allPages(alice, { q: 'orn', limit });
      assert.deepEqual(
        hits
          .slice(0, 2)
          .map((h) => h.message.text)
          .sort(),
        [...wholeWords].sort(),
        `limit ${limit}`,
      );
      assert.ok(hits.slice(0, 2).every((h) => h.rank > 0));
      assert.deepEqual(
        hits.slice(2).map((h) => h.message.text),
        newestPartials,
        `limit ${limit}`,
      );
      assert.ok(hits.slice(2).every((h) => h.rank === 0));
      assert.ok(
        hits.slice(2).every((h) => /<mark>orn<\/mark>/i.test(h.highlight)),
        JSON.stringify(hits),
      );
    }
  });

  it('by recency: every match newest first, the same in pages of any size', async () => {
    const newest = live.map(([text]) => text).reverse();
    for (const limit of [1, 4, 200]) {
      const hits = await allPages(alice, { q: 'orn', sort: 'recent', limit });
      assert.deepEqual(
        hits.map((h) => h.message.text),
        newest,
        `limit ${limit}`,
      );
    }
  });

  /** Pages of `limit` from the repository with one plan, following the keyset of the last row. */
  async function pages(
    plan: NewestPlan,
    partialOnly: boolean,
    q: string,
    limit: number,
  ): Promise<SearchRow[]> {
    const rows: SearchRow[] = [];
    const params: SearchParams = {
      chatIds,
      config,
      query: q,
      substring: [{ include: [q], exclude: [] }],
      after: null,
      limit,
    };
    for (;;) {
      const page = await searchNewest(t.app.parley.store.db, params, { partialOnly, plan });
      rows.push(...page);
      const last = page[page.length - 1];
      if (page.length < limit || !last) {
        return rows;
      }
      params.after = {
        score: 0,
        createdUs: Number(last.created_us),
        chatId: last.chat_id,
        seq: Number(last.seq),
      };
    }
  }

  it('estimates how common a fragment is from the statistics, without reading the table', async () => {
    const params: SearchParams = {
      chatIds,
      config,
      query: 'orn',
      substring: [{ include: ['orn'], exclude: [] }],
      after: null,
      limit: 3,
    };
    const db = t.app.parley.store.db;
    const sample = await findTextSample(db);
    const estimate = await estimateMatches(db, params, { partialOnly: true, sample });
    assert.equal(estimate.sampled, sample.length);
    assert.ok(estimate.sampled >= 20, JSON.stringify(estimate));
    // Most of the messages contain "orn" inside a word; two have it as a word.
    assert.ok(estimate.hits >= estimate.sampled / 2, JSON.stringify(estimate));
    assert.ok(estimate.wordHits >= 2, JSON.stringify(estimate));
    // Twenty messages in her chats, one of them deleted.
    assert.equal(estimate.scope, 19);
    // Small pages of a common fragment: chat by chat, and the words alone will not fill a page; a fragment the
    // sample never saw, or a page of 200: by the indexes.
    const ctx = t.app.parley.ctx;
    assert.deepEqual(await choosePlan(ctx, params, true), { plan: 'walk', manyWords: false });
    assert.equal((await choosePlan(ctx, { ...params, limit: 201 }, true)).plan, 'bitmap');
    const rare = { ...params, substring: [{ include: ['zqx'], exclude: [] }] };
    assert.equal((await choosePlan(ctx, rare, true)).plan, 'bitmap');
    const none = await estimateMatches(
      t.app.parley.store.db,
      { ...params, substring: [{ include: ['zqx'], exclude: [] }] },
      { partialOnly: true, sample },
    );
    assert.equal(none.hits, 0);
  });

  it('reads the newest matches the same way by the indexes and chat by chat', async () => {
    for (const partialOnly of [true, false]) {
      for (const limit of [1, 3, 50]) {
        const bitmap = await pages('bitmap', partialOnly, 'orn', limit);
        const walk = await pages('walk', partialOnly, 'orn', limit);
        const expected = live
          .filter(([, whole]) => !partialOnly || !whole)
          .map(([text]) => text)
          .reverse();
        assert.deepEqual(
          bitmap.map((r) => r.text),
          expected,
        );
        assert.deepEqual(
          walk.map((r) => [r.chat_id, r.seq, r.score, r.headline]),
          bitmap.map((r) => [r.chat_id, r.seq, r.score, r.headline]),
        );
      }
    }
  });

  it('reads chat by chat with one branch per chat, ordered by the index on time, matching without LIKE', () => {
    const params: SearchParams = {
      chatIds: ['c1', 'c2', 'c3'],
      config: 1,
      query: 'orn',
      substring: [{ include: ['orn'], exclude: ['bye'] }],
      after: { score: 0, createdUs: 1, chatId: 'c1', seq: 2 },
      limit: 51,
    };
    const walk = newestQuery(params, { partialOnly: true, plan: 'walk' }).compile(t.app.parley.store.db).sql;
    assert.equal(walk.match(/ union all /g)?.length, 2);
    assert.equal(walk.match(/order by x\.created_at desc, x\.seq desc/g)?.length, 3);
    assert.match(walk, /x\.created_at <= to_timestamp\(/);
    assert.match(walk, /strpos\(x\.folded, parley_fold\(\$\d+\)\) > 0/);
    assert.doesNotMatch(walk, / like |@@/);
    const bitmap = newestQuery(params, { partialOnly: true, plan: 'bitmap' }).compile(
      t.app.parley.store.db,
    ).sql;
    assert.match(bitmap, /x\.chat_id = any\(\$\d+::text\[\]\)/);
    assert.match(bitmap, /x\.folded like '%' \|\| replace\(/);
    assert.match(bitmap, /not \(x\.vector @@ websearch_to_tsquery\(/);
  });
});
