import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { buildApp } from '../src/app.ts';
import type { Actor } from '../src/auth/actor.ts';
import { HistoryCache } from '../src/messages/history.cache.ts';
import { listMessages } from '../src/messages/history.service.ts';
import { clientFor, createTestApp, ENGINE, TEST_DATABASE_URL, type TestApp } from './support/app.ts';
import { createGroup, sendMessages } from './support/factories.ts';

const texts = (body: { data: { text: string | null }[] }) => body.data.map((m) => m.text);

describe('the history cache keeps pages by size, least recently used out first', () => {
  const page = (text: string) => ({
    data: [
      {
        id: 'm',
        chatId: 'c',
        seq: 1,
        authorId: 'a',
        text,
        replyTo: null,
        clientId: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        editedAt: null,
        deletedAt: null,
        threadRoot: null,
        alsoInChat: false,
        thread: null,
      },
    ],
    nextCursor: null,
  });
  it('evicts the oldest entry past the limit and never keeps a page larger than the whole', () => {
    const cache = new HistoryCache(4000);
    const state = { lastSeq: 1, revision: 0 };
    cache.set('a', state, page('x'.repeat(500)));
    cache.set('b', state, page('x'.repeat(500)));
    assert.ok(cache.get('a'), 'a is kept, and is now the most recently used');
    cache.set('c', state, page('x'.repeat(500)));
    assert.equal(cache.get('b'), undefined, 'b was the least recently used');
    assert.ok(cache.get('a') && cache.get('c'));
    assert.ok(cache.sizeBytes <= 4000);
    const huge = cache.set('d', state, page('x'.repeat(5000)));
    assert.equal(cache.get('d'), undefined);
    assert.equal(huge.data[0]!.text!.length, 5000, 'a page too big to keep is still answered');
    assert.throws(() => {
      (cache.get('a')!.page.data[0] as { text: string | null }).text = 'changed';
    }, 'cached pages are frozen');
  });
});

describe(`history pages served again while their chat is unchanged (${ENGINE})`, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  it('serves an unchanged chat from the cache, and every append, edit or delete moves it on', async () => {
    const cache = t.app.parley.ctx.history!;
    assert.ok(cache, 'on by default');
    const alice = await t.login('hc-alice');
    const bob = await t.login('hc-bob');
    const chat = await createGroup(alice, [bob]);
    await sendMessages(alice, chat.id, 3);
    const url = `/v1/chats/${chat.id}/messages?limit=2` as const;
    const first = await bob.get(url);
    assert.equal(first.status, 200);
    const hits = cache.hits;
    const again = await alice.get(url);
    assert.deepEqual(again.body, first.body);
    assert.equal(cache.hits, hits + 1, 'the second read is a hit, for any member');
    // A hit sends the JSON it kept: the same media type as a page serialized afresh.
    assert.equal(first.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(again.headers['content-type'], first.headers['content-type']);
    // One member's own reactions are no other's: a page with `me` is made (and serialized) for its reader.
    assert.equal((await bob.put(`/v1/chats/${chat.id}/messages/3/reactions/👍`)).status, 201);
    const mine = (await bob.get(url)).body.data.at(-1)?.reactions;
    const theirs = (await alice.get(url)).body.data.at(-1)?.reactions;
    assert.deepEqual(mine, [{ emoji: '👍', count: 1, me: true }]);
    assert.deepEqual(theirs, [{ emoji: '👍', count: 1, me: false }]);
    assert.deepEqual((await bob.get(url)).body.data.at(-1)?.reactions, mine, 'and again, from the cache');

    const sent = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'fourth' });
    assert.equal(sent.status, 201);
    assert.deepEqual(texts((await bob.get(url)).body), [first.body.data[1]?.text, 'fourth'], 'an append');

    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/4`, { text: 'edited' })).status, 200);
    assert.deepEqual(texts((await bob.get(url)).body).at(-1), 'edited', 'an edit');

    assert.equal((await alice.delete(`/v1/chats/${chat.id}/messages/4`)).status, 204);
    const afterDelete = (await bob.get(url)).body;
    assert.equal(afterDelete.data.at(-1)?.text, null, 'a delete');
    assert.ok(afterDelete.data.at(-1)?.deletedAt);

    // A writer that goes around the services entirely: the database moves the state on itself.
    await sql`update messages set text = 'rewritten' where chat_id = ${chat.id} and seq = 3`.execute(
      t.app.parley.store.db,
    );
    assert.deepEqual(texts((await bob.get(url)).body), ['rewritten', null], 'an update by anyone');
    await sql`delete from messages where chat_id = ${chat.id} and seq = 4`.execute(t.app.parley.store.db);
    assert.deepEqual(texts((await bob.get(url)).body), ['message 2', 'rewritten'], 'a row deleted by anyone');

    // Other ranges are pages of their own.
    const older = await bob.get(`/v1/chats/${chat.id}/messages?after=0&limit=2`);
    assert.deepEqual(texts(older.body), ['message 1', 'message 2']);
  });

  it('checks membership on every read, cached or not', async () => {
    const alice = await t.login('hc-owner');
    const bob = await t.login('hc-leaver');
    const chat = await createGroup(alice, [bob]);
    await sendMessages(alice, chat.id, 2);
    const url = `/v1/chats/${chat.id}/messages` as const;
    assert.equal((await bob.get(url)).status, 200);
    assert.equal((await alice.get(url)).status, 200, 'now cached');
    assert.equal((await alice.delete(`/v1/chats/${chat.id}/members/${bob.userId}`)).status, 204);
    assert.equal((await bob.get(url)).status, 404, 'a former member gets nothing, cached page or not');
    const stranger = await t.login('hc-stranger');
    assert.equal((await stranger.get(url)).status, 404);
    const otherTenant = await t.as('hc-owner', { tenant: 'elsewhere' });
    assert.equal((await otherTenant.get(url)).status, 404, 'the same user id in another tenant');
  });

  it('never keeps what a transaction saw and then rolled back', async () => {
    const alice = await t.login('hc-tx');
    const chat = await createGroup(alice, []);
    await sendMessages(alice, chat.id, 2);
    const url = `/v1/chats/${chat.id}/messages` as const;
    assert.deepEqual(texts((await alice.get(url)).body), ['message 1', 'message 2']);
    const actor: Actor = {
      tenantId: 'default',
      userId: alice.userId,
      isAdmin: false,
      permissions: [],
      profile: { username: null, displayName: null },
    };
    const ctx = t.app.parley.ctx;
    await assert.rejects(
      ctx.db.transaction().execute(async (trx) => {
        await sql`update messages set text = 'never committed' where chat_id = ${chat.id} and seq = 2`.execute(
          trx,
        );
        const seen = await listMessages({ ...ctx, db: trx }, actor, chat.id, {});
        assert.deepEqual(
          seen.data.map((m) => m.text),
          ['message 1', 'never committed'],
        );
        throw new Error('roll back');
      }),
      /roll back/,
    );
    // The same state number, reached again by a committed edit: the page must be the committed one.
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/2`, { text: 'committed' })).status, 200);
    assert.deepEqual(texts((await alice.get(url)).body), ['message 1', 'committed']);
  });

  it('PARLEY_HISTORY_CACHE_MB=0 turns it off', async () => {
    const off = await createTestApp({ PARLEY_HISTORY_CACHE_MB: '0' });
    try {
      assert.equal(off.app.parley.ctx.history, undefined);
      const alice = await off.login('hc-off');
      const chat = await createGroup(alice, []);
      await sendMessages(alice, chat.id, 2);
      assert.deepEqual(texts((await alice.get(`/v1/chats/${chat.id}/messages`)).body), [
        'message 1',
        'message 2',
      ]);
    } finally {
      await off.close();
    }
  });

  it(
    'a change made through another process is seen at once',
    { skip: TEST_DATABASE_URL ? false : 'needs PostgreSQL: set PARLEY_TEST_DATABASE_URL' },
    async () => {
      const second = await buildApp(t.config);
      try {
        await second.ready();
        const alice = await t.login('hc-two');
        const elsewhere = clientFor(second, alice.userId, await t.token(alice.userId));
        const chat = await createGroup(alice, []);
        await sendMessages(alice, chat.id, 2);
        const url = `/v1/chats/${chat.id}/messages` as const;
        for (let i = 0; i < 2; i++) {
          assert.deepEqual(texts((await alice.get(url)).body), ['message 1', 'message 2']);
        }
        assert.equal(
          (await elsewhere.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'from afar' })).status,
          200,
        );
        assert.deepEqual(texts((await alice.get(url)).body), ['from afar', 'message 2']);
        assert.equal((await elsewhere.post(url, { text: 'third' })).status, 201);
        assert.deepEqual(texts((await alice.get(url)).body), ['from afar', 'message 2', 'third']);
      } finally {
        await second.close();
      }
    },
  );
});
