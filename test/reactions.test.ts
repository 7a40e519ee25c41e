import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { MessageView } from './support/api.ts';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createGroup, sendMessages } from './support/factories.ts';
import { StreamClient } from './support/ws.ts';

const THUMBS = '👍';
const PARTY = '🎉';
const FAMILY = '👨‍👩‍👧‍👦';
const ENGLAND = '🏴󠁧󠁢󠁥󠁮󠁧󠁿';

const path = (chatId: string, seq: number, emoji: string) =>
  `/v1/chats/${chatId}/messages/${seq}/reactions/${encodeURIComponent(emoji)}` as const;

function reactionsOf(page: { data: MessageView[] }, seq: number) {
  return page.data.find((m) => m.seq === seq)?.reactions;
}

describe(`reactions (${ENGINE})`, () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let chatId: string;

  before(async () => {
    t = await createTestApp({ PARLEY_MAX_REACTIONS_PER_MESSAGE: '5' });
    alice = await t.login('rx-alice');
    bob = await t.login('rx-bob');
    carol = await t.login('rx-carol');
    chatId = (await createGroup(alice, [bob, carol])).id;
    await sendMessages(alice, chatId, 3);
  });
  after(async () => {
    await t.close();
  });

  it('adds once per member and emoji (201, then 200), counts them and lists who reacted, first first', async () => {
    const first = await bob.put(path(chatId, 1, THUMBS));
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.count, 1);
    assert.equal(first.body.me, true);
    assert.equal(first.body.emoji, THUMBS);
    assert.equal(first.body.seq, 1);
    const again = await bob.put(path(chatId, 1, THUMBS));
    assert.equal(again.status, 200);
    assert.equal(again.body.count, 1);
    assert.equal((await carol.put(path(chatId, 1, THUMBS))).body.count, 2);
    assert.equal((await bob.put(path(chatId, 1, PARTY))).status, 201);

    const single = await carol.get(`/v1/chats/${chatId}/messages/1`);
    assert.deepEqual(single.body.reactions, [
      { emoji: THUMBS, count: 2, me: true },
      { emoji: PARTY, count: 1, me: false },
    ]);

    const users = await alice.get(`${path(chatId, 1, THUMBS)}/users?limit=1`);
    assert.equal(users.status, 200);
    assert.deepEqual(
      users.body.data.map((u) => u.userId),
      [bob.userId],
    );
    assert.ok(users.body.nextCursor);
    const rest = await alice.get(`${path(chatId, 1, THUMBS)}/users?limit=1&cursor=${users.body.nextCursor}`);
    assert.deepEqual(
      rest.body.data.map((u) => u.userId),
      [carol.userId],
    );
    assert.equal(rest.body.nextCursor, null);

    // Taking back: 204, also when there is nothing to take back; the last one removes the emoji.
    assert.equal((await bob.delete(path(chatId, 1, PARTY))).status, 204);
    assert.equal((await bob.delete(path(chatId, 1, PARTY))).status, 204);
    const after = await bob.get(`/v1/chats/${chatId}/messages/1`);
    assert.deepEqual(after.body.reactions, [{ emoji: THUMBS, count: 2, me: true }]);
    const messages = await bob.get(`/v1/chats/${chatId}/messages`);
    assert.deepEqual(reactionsOf(messages.body, 2), []);
  });

  it('serves one cached page to every member, with each one’s own `me`, and never stale counts', async () => {
    const cache = t.app.parley.ctx.history!;
    assert.equal((await alice.put(path(chatId, 2, PARTY))).status, 201);
    const url = `/v1/chats/${chatId}/messages?limit=3` as const;
    const asAlice = await alice.get(url);
    const hits = cache.hits;
    const asBob = await bob.get(url);
    const asCarol = await carol.get(url);
    assert.equal(cache.hits, hits + 2, 'the other members read the cached page');
    assert.deepEqual(reactionsOf(asAlice.body, 2), [{ emoji: PARTY, count: 1, me: true }]);
    assert.deepEqual(reactionsOf(asBob.body, 2), [{ emoji: PARTY, count: 1, me: false }]);
    assert.deepEqual(reactionsOf(asBob.body, 1), [{ emoji: THUMBS, count: 2, me: true }]);
    assert.deepEqual(reactionsOf(asCarol.body, 1), [{ emoji: THUMBS, count: 2, me: true }]);
    assert.deepEqual(reactionsOf(asAlice.body, 1), [{ emoji: THUMBS, count: 2, me: false }]);
    // A page served to one member is not changed by another's view of it.
    assert.deepEqual(reactionsOf((await alice.get(url)).body, 1), [{ emoji: THUMBS, count: 2, me: false }]);

    // A reaction moves the chat's state on: the next read is a fresh one, with the new count.
    assert.equal((await carol.put(path(chatId, 2, PARTY))).status, 201);
    const misses = cache.misses;
    const fresh = await bob.get(url);
    assert.equal(cache.misses, misses + 1);
    assert.deepEqual(reactionsOf(fresh.body, 2), [{ emoji: PARTY, count: 2, me: false }]);
    assert.equal((await carol.delete(path(chatId, 2, PARTY))).status, 204);
    assert.deepEqual(reactionsOf((await carol.get(url)).body, 2), [{ emoji: PARTY, count: 1, me: false }]);
  });

  it('takes emoji sequences and custom names; refuses empty, long, blank or control characters, naming emoji', async () => {
    for (const emoji of [FAMILY, ENGLAND, ':shipit:', '❤️']) {
      const res = await bob.put(path(chatId, 3, emoji));
      assert.equal(res.status, 201, `${emoji}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.emoji, emoji);
    }
    for (const emoji of ['a b', 'x\u0007', '\u200b', '\u202e👍', 'x'.repeat(33), '👍'.repeat(9), '\t']) {
      const res = await bob.put(path(chatId, 3, emoji));
      assertError(res, 400, 'invalid_request', 'emoji');
      assertError(await bob.delete(path(chatId, 3, emoji)), 400, 'invalid_request', 'emoji');
    }
    assertError(await bob.put(`/v1/chats/${chatId}/messages/0/reactions/x`), 400, 'invalid_request');
  });

  it('holds the limit on distinct emoji exactly under parallel requests; known emoji still count up', async () => {
    const [seq] = (await sendMessages(alice, chatId, 1, 'limit')).map((m) => m.seq);
    const reactors = [alice, bob, carol];
    const emoji = Array.from({ length: 24 }, (_, i) => `:e${i}:`);
    const answers = await Promise.all(emoji.map((e, i) => reactors[i % 3]!.put(path(chatId, seq!, e))));
    const added = answers.filter((a) => a.status === 201);
    assert.equal(added.length, 5, JSON.stringify(answers.map((a) => a.status)));
    for (const refused of answers.filter((a) => a.status !== 201)) {
      const error = assertError(refused, 409, 'limit_exceeded', 'reactions_per_message');
      assert.deepEqual(error.details, [{ limit: 'reactions_per_message', max: 5 }]);
    }
    const stored = await sql<{ n: number }>`
      select count(*)::int as n from message_reaction_counts where chat_id = ${chatId} and seq = ${seq}`.execute(
      t.app.parley.ctx.db,
    );
    assert.equal(stored.rows[0]!.n, 5);
    // An emoji the message has already takes more members.
    const known = added[0]!.body.emoji;
    const more = await Promise.all(reactors.map((r) => r.put(path(chatId, seq!, known))));
    assert.ok(more.every((a) => a.status === 201 || a.status === 200));
    assert.equal(
      (await alice.get(`/v1/chats/${chatId}/messages/${seq}`)).body.reactions?.find((r) => r.emoji === known)
        ?.count,
      3,
    );
    // Taking one back makes room for another.
    await Promise.all(reactors.map((r) => r.delete(path(chatId, seq!, known))));
    assert.equal((await bob.put(path(chatId, seq!, ':new:'))).status, 201);
    assertError(await bob.put(path(chatId, seq!, ':newer:')), 409, 'limit_exceeded', 'reactions_per_message');
  });

  it('refuses a deleted message (409) and shows it no reactions; an unknown message is 404', async () => {
    const [message] = await sendMessages(alice, chatId, 1, 'doomed');
    const seq = message!.seq;
    assert.equal((await bob.put(path(chatId, seq, THUMBS))).status, 201);
    assert.equal((await alice.delete(`/v1/chats/${chatId}/messages/${seq}`)).status, 204);
    assertError(await bob.put(path(chatId, seq, PARTY)), 409, 'conflict');
    assertError(await bob.delete(path(chatId, seq, THUMBS)), 409, 'conflict');
    assertError(await bob.get(`${path(chatId, seq, THUMBS)}/users`), 409, 'conflict');
    assert.deepEqual((await bob.get(`/v1/chats/${chatId}/messages/${seq}`)).body.reactions, []);
    assertError(await bob.put(path(chatId, 9999, THUMBS)), 404, 'not_found');
    assertError(await bob.get(`${path(chatId, 9999, THUMBS)}/users`), 404, 'not_found');
  });

  it('is not_found to a non-member and to another tenant, and changes nothing', async () => {
    const outsider = await t.login('rx-outsider');
    const foreign = await t.login('rx-alice', { tenant: 'rx-other-tenant' });
    for (const stranger of [outsider, foreign]) {
      assertError(await stranger.put(path(chatId, 1, ':x:')), 404, 'not_found');
      assertError(await stranger.delete(path(chatId, 1, THUMBS)), 404, 'not_found');
      assertError(await stranger.get(`${path(chatId, 1, THUMBS)}/users`), 404, 'not_found');
    }
    const view = await alice.get(`/v1/chats/${chatId}/messages/1`);
    assert.deepEqual(
      view.body.reactions?.map((r) => r.emoji),
      [THUMBS],
    );
  });

  it('keeps a deleted user’s reactions, counted and listed, as their messages stay', async () => {
    const dave = await t.login('rx-dave');
    const group = await createGroup(alice, [dave]);
    const [message] = await sendMessages(alice, group.id, 1, 'before dave leaves');
    const seq = message!.seq;
    assert.equal((await dave.put(path(group.id, seq, THUMBS))).status, 201);
    assert.equal((await alice.put(path(group.id, seq, THUMBS))).status, 201);
    assert.equal((await dave.delete('/v1/me')).status, 204);

    const view = await alice.get(`/v1/chats/${group.id}/messages/${seq}`);
    assert.deepEqual(view.body.reactions, [{ emoji: THUMBS, count: 2, me: true }]);
    const users = await alice.get(`${path(group.id, seq, THUMBS)}/users`);
    assert.deepEqual(
      users.body.data.map((u) => u.userId),
      [dave.userId, alice.userId],
    );
    const tombstone = await alice.get(`/v1/users/${dave.userId}`);
    assert.equal(tombstone.body.username, 'deleted-user');
  });

  it('tells the chat’s streams, after its message, with the new count', async () => {
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const ws = await StreamClient.connect(base, carol.token);
    try {
      const [message] = await sendMessages(alice, chatId, 1, 'streamed');
      const seq = message!.seq;
      await ws.waitFor('message.created', (f) => f.message.seq === seq);
      assert.equal((await bob.put(path(chatId, seq, PARTY))).status, 201);
      assert.equal((await alice.put(path(chatId, seq, PARTY))).status, 201);
      assert.equal((await alice.put(path(chatId, seq, PARTY))).status, 200);
      assert.equal((await bob.delete(path(chatId, seq, PARTY))).status, 204);
      const [first, second] = await ws.waitFor('reaction.added', (f) => f.seq === seq, 2);
      const [removed] = await ws.waitFor('reaction.removed', (f) => f.seq === seq);
      // Changes of the chat: numbered in the chat's change log, one after another.
      const rev = first!.rev;
      assert.deepEqual([second!.rev, removed!.rev], [rev + 1, rev + 2]);
      assert.deepEqual(second, {
        type: 'reaction.added',
        chatId,
        seq,
        messageId: message!.id,
        emoji: PARTY,
        userId: alice.userId,
        count: 2,
        rev: rev + 1,
      });
      assert.deepEqual(removed, {
        type: 'reaction.removed',
        chatId,
        seq,
        messageId: message!.id,
        emoji: PARTY,
        userId: bob.userId,
        count: 1,
        rev: rev + 2,
      });
      // The repeated add changed nothing and said nothing; the message came first.
      await ws.waitFor('reaction.removed', (f) => f.seq === seq);
      assert.equal(ws.of('reaction.added').filter((f) => f.seq === seq).length, 2);
      const order = ws.frames.map((f) => f.type);
      assert.ok(order.indexOf('message.created') < order.indexOf('reaction.added'));
    } finally {
      ws.socket.close();
    }
  });
});
