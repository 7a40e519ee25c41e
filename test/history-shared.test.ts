import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { HistoryCache } from '../src/messages/history.cache.ts';
import { listChatPage } from '../src/messages/history.repository.ts';
import { createTestApp, ENGINE, JSONAPI, type Client, type TestApp } from './support/app.ts';
import { createGroup, sendMessages } from './support/factories.ts';

interface Answer {
  status: number;
  texts: (string | null)[];
}

/** Concurrent history reads that miss together share one database read, and never miss what came before them. */
describe(`history pages read once for concurrent misses (${ENGINE})`, () => {
  let t: TestApp;
  let base: string;
  let cache: HistoryCache;

  before(async () => {
    t = await createTestApp();
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    cache = t.app.parley.ctx.history!;
  });

  after(async () => {
    await t.close();
  });

  /** A GET over real HTTP (native, or JSON:API: its page size is `page[size]`), with the texts it answered. */
  async function page(client: Client, url: string, jsonapi = false): Promise<Answer> {
    const target = jsonapi ? url.replace('limit=', 'page%5Bsize%5D=') : url;
    const res = await fetch(`${base}${target}`, {
      headers: { authorization: `Bearer ${client.token}`, ...(jsonapi ? { accept: JSONAPI } : {}) },
    });
    const body = (await res.json()) as {
      data?: { text?: string | null; attributes?: { text: string | null } }[];
    };
    const texts = (body.data ?? []).map((m) => (jsonapi ? m.attributes!.text : (m.text ?? null)));
    return { status: res.status, texts };
  }

  /** `meanwhile` run while the page's reads wait for the database, which answers them once it is done. */
  async function holdingReads<T>(meanwhile: () => Promise<T>): Promise<T> {
    const db = t.app.parley.store.db;
    if (ENGINE === 'pglite') {
      const slow = sql`select pg_sleep(0.6)`.execute(db);
      const result = await meanwhile();
      await slow;
      return result;
    }
    return db.connection().execute(async (conn) => {
      await sql`begin`.execute(conn);
      await sql`lock table messages in access exclusive mode`.execute(conn);
      try {
        return await meanwhile();
      } finally {
        await sql`commit`.execute(conn);
      }
    });
  }

  async function send(client: Client, chatId: string, text: string): Promise<void> {
    const res = await fetch(`${base}/v1/chats/${chatId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });
    assert.equal(res.status, 201, await res.text());
  }

  it('answers many parallel reads after a send with the current page, read from the database far fewer times', async (context) => {
    const owner = await t.login('hs-owner');
    const members = await Promise.all([1, 2, 3].map((i) => t.login(`hs-member-${i}`)));
    const stranger = await t.login('hs-stranger');
    const readers = [owner, ...members];
    const chat = await createGroup(owner, members);
    await sendMessages(owner, chat.id, 3);
    const url = `/v1/chats/${chat.id}/messages?limit=50`;
    assert.equal((await page(owner, url)).status, 200, 'the page is cached at its state');

    let reads = 0;
    let asked = 0;
    const shared = cache.shared;
    for (let round = 1; round <= 3; round++) {
      await send(owner, chat.id, `round ${round}`);
      const expected = [
        'message 1',
        'message 2',
        'message 3',
        ...Array.from({ length: round }, (_, i) => `round ${i + 1}`),
      ];
      const misses = cache.misses;
      // The page's reads held back until every request has asked, so that they miss together: on PostgreSQL behind a
      // lock on the messages, on PGlite (one connection) behind a statement that takes a while.
      const answers = await holdingReads(async () => {
        const parallel = Array.from({ length: 32 }, (_, i) =>
          page(readers[i % readers.length]!, url, i % 8 === 7),
        );
        const refused = page(stranger, url);
        await new Promise((resolve) => setTimeout(resolve, 500));
        return { parallel, refused };
      });
      assert.equal(
        (await answers.refused).status,
        404,
        'a non-member gets nothing, however many read at once',
      );
      const parallel = await Promise.all(answers.parallel);
      for (const answer of parallel) {
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.texts, expected, 'every read holds the message sent before it');
      }
      reads += cache.misses - misses;
      asked += parallel.length;
    }
    context.diagnostic(
      `${asked} reads: ${reads} from the database, ${cache.shared - shared} joined another's`,
    );
    assert.ok(
      reads <= asked / 2,
      `${asked} reads after sends read the page from the database ${reads} times`,
    );
    if (ENGINE === 'postgres') {
      assert.ok(cache.shared > shared, 'requests joined a read another one asked for');
    }
    const scraped = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(scraped.body, /parley_history_cache_requests_total\{result="shared"\} \d/);
  });

  it('every read issued after a send has answered holds that message, under concurrent reads', async () => {
    const author = await t.login('hs-author');
    const readers = await Promise.all([1, 2, 3, 4].map((i) => t.login(`hs-reader-${i}`)));
    const chat = await createGroup(author, readers);
    const url = `/v1/chats/${chat.id}/messages?limit=20`;
    let done = false;
    let background = 0;
    // Readers that keep the page's reads under way (and shared) the whole time.
    const loops = readers.map(async (reader, i) => {
      while (!done) {
        const answer = await page(reader, url, i === 3);
        assert.equal(answer.status, 200);
        background += 1;
      }
    });
    try {
      for (let i = 1; i <= 40; i++) {
        const text = `interleaved ${i}`;
        await send(author, chat.id, text);
        const [own, other] = await Promise.all([page(author, url), page(readers[i % 3]!, url)]);
        assert.equal(own.texts.at(-1), text, `the author's read after send ${i}`);
        assert.equal(other.texts.at(-1), text, `another member's read after send ${i}`);
      }
    } finally {
      done = true;
      await Promise.all(loops);
    }
    assert.ok(background > 40, `the readers read ${background} times meanwhile`);
  });

  it('a shared read answers only the requests whose users are members in its own snapshot', async () => {
    const owner = await t.login('hs-keeper');
    const leaving = await t.login('hs-leaving');
    const chat = await createGroup(owner, [leaving]);
    await sendMessages(owner, chat.id, 2);
    const range = { limit: 51, direction: 'backward' as const };
    const db = t.app.parley.store.db;
    const before = await listChatPage(db, 'default', chat.id, range, [
      'hs-keeper',
      'hs-leaving',
      'hs-stranger',
    ]);
    assert.deepEqual([...before.members].sort(), ['hs-keeper', 'hs-leaving']);
    assert.equal(before.page?.rows.length, 2);
    // Removed after a check of theirs could have passed: the read itself no longer counts them.
    assert.equal((await owner.delete(`/v1/chats/${chat.id}/members/hs-leaving`)).status, 204);
    const after = await listChatPage(db, 'default', chat.id, range, ['hs-keeper', 'hs-leaving']);
    assert.deepEqual([...after.members], ['hs-keeper']);
    assert.equal(after.page?.rows.length, 2);
  });
});
