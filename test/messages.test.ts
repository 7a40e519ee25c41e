import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatView, MessageView, Page } from './support/api.ts';
import { createTestApp, type Client, type Response, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createGroup, sendMessages } from './support/factories.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const seqs = (page: Response<Page<MessageView>>) => page.body.data.map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function chatOf(client: Client, chatId: string): Promise<ChatView> {
  const res = await client.get(`/v1/chats/${chatId}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

describe('messages', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  describe('send', () => {
    it('answers 201 with the message view and numbers messages from 1', async () => {
      const alice = await t.login('send-alice');
      const bob = await t.login('send-bob');
      const chat = await createGroup(alice, [bob]);
      assert.equal(chat.messageCount, 0);
      assert.equal(chat.lastMessageAt, null);

      const first = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'hello' });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const m = first.body;
      assert.deepEqual(Object.keys(m).sort(), [
        'alsoInChat',
        'authorId',
        'chatId',
        'clientId',
        'createdAt',
        'deletedAt',
        'editedAt',
        'id',
        'mentions',
        'mentionsAll',
        'mentionsHere',
        'replyTo',
        'seq',
        'text',
        'thread',
        'threadRoot',
      ]);
      assert.equal(typeof m.id, 'string');
      assert.ok(m.id.length > 0);
      assert.equal(m.chatId, chat.id);
      assert.equal(m.seq, 1);
      assert.equal(m.authorId, 'send-alice');
      assert.equal(m.text, 'hello');
      assert.equal(m.replyTo, null);
      assert.equal(m.clientId, null);
      assert.match(m.createdAt, ISO);
      assert.equal(m.editedAt, null);
      assert.equal(m.deletedAt, null);

      const second = await bob.post(`/v1/chats/${chat.id}/messages`, { text: 'hi alice' });
      assert.equal(second.status, 201);
      assert.equal(second.body.seq, 2);
      assert.equal(second.body.authorId, 'send-bob');
      assert.notEqual(second.body.id, m.id);
      const third = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'third' });
      assert.equal(third.body.seq, 3);

      const view = await chatOf(alice, chat.id);
      assert.equal(view.messageCount, 3);
      assert.ok(view.lastMessageAt !== null && view.lastMessage);
      assert.match(view.lastMessageAt, ISO);
      assert.ok(view.lastMessageAt >= m.createdAt);
      assert.equal(view.lastMessageAt, third.body.createdAt);
      assert.equal(view.lastMessage.seq, 3);
      assert.equal(view.lastMessage.text, 'third');
    });

    it('keeps text exactly as sent, including surrounding whitespace and unicode', async () => {
      const alice = await t.login('verbatim-alice');
      const chat = await createGroup(alice);
      const text = '  Grüße 😀 — 日本語\nsecond line  ';
      const res = await alice.post(`/v1/chats/${chat.id}/messages`, { text });
      assert.equal(res.status, 201);
      assert.equal(res.body.text, text);
      const read = await alice.get(`/v1/chats/${chat.id}/messages/${res.body.seq}`);
      assert.equal(read.body.text, text);
    });

    it('refuses blank, missing, empty and non-string text, and unknown fields', async () => {
      const alice = await t.login('valid-alice');
      const chat = await createGroup(alice);
      const url = `/v1/chats/${chat.id}/messages` as const;
      assertError(await alice.post(url, { text: '   \n\t ' }), 400, 'invalid_request', 'text');
      assertError(await alice.post(url, { text: '' }), 400, 'invalid_request', 'text');
      assertError(await alice.post(url, {}), 400, 'invalid_request', /^text: is required/);
      assertError(await alice.post(url, { text: 42 }), 400, 'invalid_request', 'text');
      assertError(
        await alice.post(url, { text: 'x', extra: 1 }),
        400,
        'invalid_request',
        /^extra: is not a known field/,
      );
      assertError(await alice.post(url, { text: 'x', clientId: '' }), 400, 'invalid_request', 'clientId');
      assertError(
        await alice.post(url, { text: 'x', clientId: 'c'.repeat(129) }),
        400,
        'invalid_request',
        'clientId',
      );
      assertError(await alice.post(url, { text: 'x', replyTo: '1' }), 400, 'invalid_request', 'replyTo');
      assertError(
        await alice.post(url, { text: 'x'.repeat(10_001) }),
        400,
        'invalid_request',
        /^text: must be at most 10000 characters/,
      );
      assert.equal((await alice.post(url, { text: 'x'.repeat(10_000) })).status, 201);
      // Nothing refused was stored or numbered.
      const view = await chatOf(alice, chat.id);
      assert.equal(view.messageCount, 1);
      const page = await alice.get(url);
      assert.deepEqual(seqs(page), [1]);
    });

    it('answers 404 to non-members, other tenants and missing chats, and stores nothing', async () => {
      const alice = await t.login('nm-alice');
      const mallory = await t.login('nm-mallory');
      const other = await t.login('nm-alice', { tenant: 't2' });
      const chat = await createGroup(alice);
      const url = `/v1/chats/${chat.id}/messages` as const;
      assertError(await mallory.post(url, { text: 'let me in' }), 404, 'not_found');
      assertError(await other.post(url, { text: 'cross tenant' }), 404, 'not_found');
      assertError(await mallory.get(url), 404, 'not_found');
      assertError(await mallory.get(`${url}/1`), 404, 'not_found');
      assertError(await alice.post('/v1/chats/no-such-chat/messages', { text: 'x' }), 404, 'not_found');
      const missing = await alice.get('/v1/chats/no-such-chat/messages');
      const notMember = await mallory.get(url);
      assert.equal(missing.status, notMember.status);
      assert.equal((await chatOf(alice, chat.id)).messageCount, 0);
      const sent = await alice.post(url, { text: 'first' });
      assert.equal(sent.body.seq, 1, 'refused sends took no seq');
    });

    it('answers 401 without a token', async () => {
      const alice = await t.login('anon-alice');
      const chat = await createGroup(alice);
      assertError(
        await t.request('POST', `/v1/chats/${chat.id}/messages`, { text: 'x' }),
        401,
        'unauthorized',
      );
    });
  });

  describe('text limit (PARLEY_MAX_MESSAGE_CHARS=20)', () => {
    let small: TestApp;
    before(async () => {
      small = await createTestApp({ PARLEY_MAX_MESSAGE_CHARS: '20' });
    });
    after(async () => {
      await small.close();
    });

    it('accepts exactly 20 characters and refuses 21, on send and on edit', async () => {
      const alice = await small.login('limit-alice');
      const chat = await createGroup(alice);
      const url = `/v1/chats/${chat.id}/messages` as const;
      const ok = await alice.post(url, { text: 'a'.repeat(20) });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assertError(
        await alice.post(url, { text: 'a'.repeat(21) }),
        400,
        'invalid_request',
        /^text: must be at most 20 characters/,
      );
      assert.equal((await alice.patch(`${url}/1`, { text: 'b'.repeat(20) })).status, 200);
      assertError(
        await alice.patch(`${url}/1`, { text: 'b'.repeat(21) }),
        400,
        'invalid_request',
        /^text: must be at most 20/,
      );
      const stored = await alice.get(`${url}/1`);
      assert.equal(stored.body.text, 'b'.repeat(20), 'the refused edit changed nothing');
    });

    it('counts an emoji as one character', async () => {
      const alice = await small.login('emoji-alice');
      const chat = await createGroup(alice);
      const url = `/v1/chats/${chat.id}/messages` as const;
      const twenty = '😀'.repeat(20); // 40 UTF-16 code units
      const ok = await alice.post(url, { text: twenty });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.equal(ok.body.text, twenty);
      const mixed = `${'😀'.repeat(10)}${'é'.repeat(10)}`;
      assert.equal((await alice.post(url, { text: mixed })).status, 201);
      assertError(await alice.post(url, { text: '😀'.repeat(21) }), 400, 'invalid_request', 'text');
      assertError(await alice.post(url, { text: `${'😀'.repeat(20)}a` }), 400, 'invalid_request', 'text');
    });
  });

  describe('clientId idempotency', () => {
    it('answers 200 with the first message when the same author repeats a clientId in the same chat', async () => {
      const alice = await t.login('idem-alice');
      const chat = await createGroup(alice);
      const url = `/v1/chats/${chat.id}/messages` as const;
      const first = await alice.post(url, { text: 'once', clientId: 'c-1' });
      assert.equal(first.status, 201);
      assert.equal(first.body.clientId, 'c-1');
      const again = await alice.post(url, { text: 'once, retried with other text', clientId: 'c-1' });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body, first.body, 'the very first message comes back');
      assert.equal(again.body.text, 'once');

      const page = await alice.get(url);
      assert.deepEqual(seqs(page), [1]);
      assert.equal((await chatOf(alice, chat.id)).messageCount, 1);
      const next = await alice.post(url, { text: 'next', clientId: 'c-2' });
      assert.equal(next.status, 201);
      assert.equal(next.body.seq, 2, 'the retry consumed no seq');
    });

    it('treats the same clientId from another author, or in another chat, as a new message', async () => {
      const alice = await t.login('idem2-alice');
      const bob = await t.login('idem2-bob');
      const chat = await createGroup(alice, [bob]);
      const otherChat = await createGroup(alice, [bob]);
      const url = `/v1/chats/${chat.id}/messages` as const;
      const a = await alice.post(url, { text: 'from alice', clientId: 'same' });
      const b = await bob.post(url, { text: 'from bob', clientId: 'same' });
      assert.equal(a.status, 201);
      assert.equal(b.status, 201);
      assert.notEqual(a.body.id, b.body.id);
      assert.deepEqual([a.body.seq, b.body.seq], [1, 2]);
      assert.equal(b.body.text, 'from bob');

      const elsewhere = await alice.post(`/v1/chats/${otherChat.id}/messages`, {
        text: 'other chat',
        clientId: 'same',
      });
      assert.equal(elsewhere.status, 201);
      assert.notEqual(elsewhere.body.id, a.body.id);
      assert.equal(elsewhere.body.chatId, otherChat.id);
      assert.equal(elsewhere.body.seq, 1);

      assert.equal((await chatOf(alice, chat.id)).messageCount, 2);
      assert.equal((await chatOf(alice, otherChat.id)).messageCount, 1);
    });
  });

  describe('replyTo', () => {
    it('stores a reply to an existing message and refuses one beyond the last seq', async () => {
      const alice = await t.login('reply-alice');
      const bob = await t.login('reply-bob');
      const chat = await createGroup(alice, [bob]);
      const url = `/v1/chats/${chat.id}/messages` as const;
      await sendMessages(alice, chat.id, 2);
      const reply = await bob.post(url, { text: 'answering 1', replyTo: 1 });
      assert.equal(reply.status, 201);
      assert.equal(reply.body.replyTo, 1);
      assert.equal(reply.body.seq, 3);
      const stored = await alice.get(`${url}/3`);
      assert.equal(stored.body.replyTo, 1);
      // The latest message itself may be answered.
      assert.equal((await bob.post(url, { text: 'answering 3', replyTo: 3 })).body.replyTo, 3);

      assertError(
        await bob.post(url, { text: 'to the future', replyTo: 5 }),
        400,
        'invalid_request',
        'replyTo',
      );
      assertError(await bob.post(url, { text: 'to nothing', replyTo: 0 }), 400, 'invalid_request', 'replyTo');
      assert.equal((await chatOf(alice, chat.id)).messageCount, 4);
    });

    it('refuses any replyTo in an empty chat', async () => {
      const alice = await t.login('reply2-alice');
      const chat = await createGroup(alice);
      assertError(
        await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'x', replyTo: 1 }),
        400,
        'invalid_request',
        'replyTo',
      );
    });
  });

  describe('history', () => {
    let alice: Client;
    let bob: Client;
    let chatId: string;
    let url: `/v1/chats/${string}/messages`;
    before(async () => {
      alice = await t.login('hist-alice');
      bob = await t.login('hist-bob');
      chatId = (await createGroup(alice, [bob])).id;
      url = `/v1/chats/${chatId}/messages`;
      // 7 messages, alternating authors.
      for (let i = 1; i <= 7; i++) {
        const res = await (i % 2 ? alice : bob).post(url, { text: `m${i}` });
        assert.equal(res.body.seq, i);
      }
    });

    it('returns the latest page, ascending, when neither bound is given', async () => {
      const all = await bob.get(url);
      assert.equal(all.status, 200);
      assert.deepEqual(seqs(all), range(1, 7));
      assert.deepEqual(
        all.body.data.map((m) => m.text),
        range(1, 7).map((i) => `m${i}`),
      );
      assert.equal(all.body.nextCursor, null);

      const latest = await bob.get(`${url}?limit=3`);
      assert.deepEqual(seqs(latest), [5, 6, 7]);
      assert.equal(typeof latest.body.nextCursor, 'string');
    });

    it('continues backward from the latest page with nextCursor until it is null', async () => {
      const pages: number[][] = [];
      let next: `${typeof url}?${string}` = `${url}?limit=3`;
      for (let guard = 0; guard < 10; guard++) {
        const page = await alice.get(next);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        pages.push(seqs(page));
        if (page.body.nextCursor === null) {
          break;
        }
        next = `${url}?limit=3&cursor=${encodeURIComponent(page.body.nextCursor)}`;
      }
      assert.deepEqual(pages, [[5, 6, 7], [2, 3, 4], [1]]);
    });

    it('pages forward from after with nextCursor, visiting every message once in order', async () => {
      const visited: number[] = [];
      let next: `${typeof url}?${string}` = `${url}?after=0&limit=3`;
      let pages = 0;
      for (; pages < 10; pages++) {
        const page = await alice.get(next);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        visited.push(...seqs(page));
        if (page.body.nextCursor === null) {
          break;
        }
        next = `${url}?limit=3&cursor=${encodeURIComponent(page.body.nextCursor)}`;
      }
      assert.deepEqual(visited, range(1, 7));
      assert.equal(pages + 1, 3);

      const fromMiddle = await alice.get(`${url}?after=4&limit=2`);
      assert.deepEqual(seqs(fromMiddle), [5, 6]);
      assert.notEqual(fromMiddle.body.nextCursor, null);
      const exact = await alice.get(`${url}?after=0&limit=7`);
      assert.deepEqual(seqs(exact), range(1, 7));
      assert.equal(exact.body.nextCursor, null, 'no empty extra page when the page ends exactly at the end');
      const pastEnd = await alice.get(`${url}?after=7`);
      assert.deepEqual(pastEnd.body, { data: [], nextCursor: null });
    });

    it('pages backward from before', async () => {
      const page = await alice.get(`${url}?before=5&limit=3`);
      assert.deepEqual(seqs(page), [2, 3, 4]);
      assert.ok(page.body.nextCursor !== null);
      const older = await alice.get(`${url}?limit=3&cursor=${encodeURIComponent(page.body.nextCursor)}`);
      assert.deepEqual(seqs(older), [1]);
      assert.equal(older.body.nextCursor, null);
      const first = await alice.get(`${url}?before=1`);
      assert.deepEqual(first.body, { data: [], nextCursor: null });
      const beyond = await alice.get(`${url}?before=100&limit=2`);
      assert.deepEqual(seqs(beyond), [6, 7]);
    });

    it('returns the range between after and before, and pages within it', async () => {
      const between = await alice.get(`${url}?after=2&before=6`);
      assert.deepEqual(seqs(between), [3, 4, 5]);
      assert.equal(between.body.nextCursor, null);
      const adjacent = await alice.get(`${url}?after=2&before=3`);
      assert.deepEqual(adjacent.body, { data: [], nextCursor: null });

      const visited: number[] = [];
      let next: `${typeof url}?${string}` = `${url}?after=1&before=6&limit=2`;
      for (let guard = 0; guard < 10; guard++) {
        const page = await alice.get(next);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        visited.push(...seqs(page));
        if (page.body.nextCursor === null) {
          break;
        }
        next = `${url}?limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`;
      }
      assert.deepEqual(visited, [2, 3, 4, 5], 'paging a range never leaves it');
    });

    it('refuses before <= after, a cursor combined with a bound, bad cursors and bad limits', async () => {
      assertError(await alice.get(`${url}?after=5&before=5`), 400, 'invalid_request', 'before');
      assertError(await alice.get(`${url}?after=5&before=3`), 400, 'invalid_request', 'before');
      const page = await alice.get(`${url}?limit=2`);
      assert.ok(page.body.nextCursor !== null);
      const cursor = encodeURIComponent(page.body.nextCursor);
      assertError(await alice.get(`${url}?cursor=${cursor}&after=1`), 400, 'invalid_request', 'cursor');
      assertError(await alice.get(`${url}?cursor=${cursor}&before=7`), 400, 'invalid_request', 'cursor');
      assertError(await alice.get(`${url}?cursor=not-a-cursor`), 400, 'invalid_request', 'cursor');
      const forged = Buffer.from(JSON.stringify(['x', 3])).toString('base64url');
      assertError(await alice.get(`${url}?cursor=${forged}`), 400, 'invalid_request', 'cursor');
      const inverted = Buffer.from(JSON.stringify(['f', 5, 3])).toString('base64url');
      assertError(await alice.get(`${url}?cursor=${inverted}`), 400, 'invalid_request', 'cursor');
      const backwardRange = Buffer.from(JSON.stringify(['b', 3, 5])).toString('base64url');
      assertError(await alice.get(`${url}?cursor=${backwardRange}`), 400, 'invalid_request', 'cursor');
      const wrongShape = Buffer.from(JSON.stringify({ seq: 3 })).toString('base64url');
      assertError(await alice.get(`${url}?cursor=${wrongShape}`), 400, 'invalid_request', 'cursor');
      assertError(await alice.get(`${url}?limit=0`), 400, 'invalid_request', 'limit');
      assertError(await alice.get(`${url}?limit=201`), 400, 'invalid_request', 'limit');
      assertError(await alice.get(`${url}?after=abc`), 400, 'invalid_request', 'after');
      assertError(await alice.get(`${url}?unknown=1`), 400, 'invalid_request');
    });

    it('reads one message by seq and answers 404 for a seq that does not exist', async () => {
      const one = await bob.get(`${url}/4`);
      assert.equal(one.status, 200);
      assert.equal(one.body.seq, 4);
      assert.equal(one.body.text, 'm4');
      assert.equal(one.body.authorId, 'hist-bob');
      assert.equal(one.body.chatId, chatId);
      assertError(await bob.get(`${url}/8`), 404, 'not_found');
      assertError(await bob.get(`${url}/999999`), 404, 'not_found');
      assertError(await bob.get(`${url}/0`), 400, 'invalid_request', 'seq');
      assertError(await bob.get(`${url}/abc`), 400, 'invalid_request', 'seq');
    });
  });

  describe('edit', () => {
    it('lets the author edit, sets editedAt, and refuses everyone else with 403', async () => {
      const alice = await t.login('edit-alice');
      const bob = await t.login('edit-bob');
      const chat = await createGroup(alice, [bob]);
      const url = `/v1/chats/${chat.id}/messages` as const;
      const [sent] = await sendMessages(bob, chat.id, 1);
      assert.ok(sent);

      // Not even the chat owner may edit someone else's message.
      assertError(await alice.patch(`${url}/1`, { text: 'owner rewrite' }), 403, 'forbidden');
      const outsider = await t.login('edit-outsider');
      assertError(await outsider.patch(`${url}/1`, { text: 'x' }), 404, 'not_found');
      assert.equal((await bob.get(`${url}/1`)).body.text, sent.text);

      const edited = await bob.patch(`${url}/1`, { text: 'fixed typo' });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      assert.equal(edited.body.text, 'fixed typo');
      assert.equal(edited.body.seq, 1);
      assert.equal(edited.body.id, sent.id);
      assert.equal(edited.body.createdAt, sent.createdAt);
      assert.ok(edited.body.editedAt !== null);
      assert.match(edited.body.editedAt, ISO);
      assert.ok(edited.body.editedAt >= sent.createdAt);
      const stored = await alice.get(`${url}/1`);
      assert.equal(stored.body.text, 'fixed typo');
      assert.equal(stored.body.editedAt, edited.body.editedAt);
      assert.equal((await chatOf(alice, chat.id)).messageCount, 1, 'an edit is not a new message');
    });

    it('validates the new text and answers 404 for a missing message', async () => {
      const alice = await t.login('edit2-alice');
      const chat = await createGroup(alice);
      const url = `/v1/chats/${chat.id}/messages` as const;
      await sendMessages(alice, chat.id, 1);
      assertError(await alice.patch(`${url}/1`, { text: '  ' }), 400, 'invalid_request', 'text');
      assertError(await alice.patch(`${url}/1`, {}), 400, 'invalid_request', /^text: is required/);
      assertError(
        await alice.patch(`${url}/1`, { text: 'x', clientId: 'c' }),
        400,
        'invalid_request',
        'clientId',
      );
      assertError(
        await alice.patch(`${url}/1`, { text: 'x'.repeat(10_001) }),
        400,
        'invalid_request',
        'text',
      );
      assertError(await alice.patch(`${url}/2`, { text: 'nothing there' }), 404, 'not_found');
      const stored = await alice.get(`${url}/1`);
      assert.equal(stored.body.editedAt, null, 'refused edits changed nothing');
    });

    it('answers 409 when the message is deleted', async () => {
      const alice = await t.login('edit3-alice');
      const chat = await createGroup(alice);
      const url = `/v1/chats/${chat.id}/messages` as const;
      await sendMessages(alice, chat.id, 1);
      assert.equal((await alice.delete(`${url}/1`)).status, 204);
      assertError(await alice.patch(`${url}/1`, { text: 'resurrect' }), 409, 'conflict');
      const stored = await alice.get(`${url}/1`);
      assert.equal(stored.body.text, null);
      assert.equal(stored.body.editedAt, null);
    });
  });

  describe('delete', () => {
    it('soft-deletes: text null, deletedAt set, seq kept, counts drop once, idempotent', async () => {
      const alice = await t.login('del-alice');
      const bob = await t.login('del-bob');
      const chat = await createGroup(alice, [bob]);
      const url = `/v1/chats/${chat.id}/messages` as const;
      await sendMessages(bob, chat.id, 3);
      assert.equal((await chatOf(alice, chat.id)).messageCount, 3);

      const res = await bob.delete(`${url}/2`);
      assert.equal(res.status, 204);
      assert.equal(res.body, null);
      const stored = await alice.get(`${url}/2`);
      assert.equal(stored.status, 200);
      assert.equal(stored.body.text, null);
      assert.match(String(stored.body.deletedAt), ISO);
      assert.equal(stored.body.seq, 2);
      assert.equal(stored.body.authorId, 'del-bob');

      const history = await alice.get(url);
      assert.deepEqual(seqs(history), [1, 2, 3], 'the deleted message keeps its place in history');
      assert.equal(history.body.data[1]?.text, null);
      assert.notEqual(history.body.data[1]?.deletedAt, null);
      assert.equal(history.body.data[0]?.text, 'message 1');
      assert.equal((await chatOf(alice, chat.id)).messageCount, 2);

      // Deleting again: 204, and nothing changes.
      assert.equal((await bob.delete(`${url}/2`)).status, 204);
      assert.equal((await alice.delete(`${url}/2`)).status, 204);
      assert.equal((await chatOf(alice, chat.id)).messageCount, 2, 'a repeated delete does not count twice');
      assert.equal((await alice.get(`${url}/2`)).body.deletedAt, stored.body.deletedAt);

      // The next message still gets the next seq.
      const next = await bob.post(url, { text: 'after delete' });
      assert.equal(next.body.seq, 4);
      assert.equal((await chatOf(alice, chat.id)).messageCount, 3);
      assertError(await bob.delete(`${url}/9`), 404, 'not_found');
    });

    it('lets chat owners and admins delete others’ messages, but not plain members', async () => {
      const owner = await t.login('del2-owner');
      const admin = await t.login('del2-admin');
      const member = await t.login('del2-member');
      const author = await t.login('del2-author');
      const chat = await createGroup(owner, [member, author]);
      const added = await owner.post(`/v1/chats/${chat.id}/members`, { userId: admin.userId, role: 'admin' });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const url = `/v1/chats/${chat.id}/messages` as const;
      await sendMessages(author, chat.id, 3);

      assertError(await member.delete(`${url}/1`), 403, 'forbidden');
      assert.equal((await member.get(`${url}/1`)).body.deletedAt, null);
      const outsider = await t.login('del2-outsider');
      assertError(await outsider.delete(`${url}/1`), 404, 'not_found');

      assert.equal((await admin.delete(`${url}/1`)).status, 204);
      assert.equal((await owner.delete(`${url}/2`)).status, 204);
      const history = await member.get(url);
      assert.deepEqual(
        history.body.data.map((m) => [m.seq, m.text === null, m.deletedAt !== null]),
        [
          [1, true, true],
          [2, true, true],
          [3, false, false],
        ],
      );
      assert.equal((await chatOf(owner, chat.id)).messageCount, 1);
      // A plain member may delete their own.
      const own = await member.post(url, { text: 'mine' });
      assert.equal((await member.delete(`${url}/${own.body.seq}`)).status, 204);
      assert.equal((await chatOf(owner, chat.id)).messageCount, 1);
    });

    it('makes the chat’s lastMessage skip deleted messages', async () => {
      const alice = await t.login('del3-alice');
      const bob = await t.login('del3-bob');
      const chat = await createGroup(alice, [bob]);
      const url = `/v1/chats/${chat.id}/messages` as const;
      await sendMessages(alice, chat.id, 3);
      assert.equal((await chatOf(bob, chat.id)).lastMessage?.seq, 3);

      assert.equal((await alice.delete(`${url}/3`)).status, 204);
      let view = await chatOf(bob, chat.id);
      assert.equal(view.lastMessage?.seq, 2);
      assert.equal(view.lastMessage.text, 'message 2');
      const listed = (await bob.get('/v1/chats')).body.data.find((c) => c.id === chat.id);
      assert.ok(listed);
      assert.equal(listed.lastMessage?.seq, 2);
      assert.equal(listed.messageCount, 2);

      assert.equal((await alice.delete(`${url}/1`)).status, 204);
      assert.equal((await alice.delete(`${url}/2`)).status, 204);
      view = await chatOf(bob, chat.id);
      assert.equal(view.lastMessage, null);
      assert.equal(view.messageCount, 0);
    });
  });

  describe('read cursor and unread counts', () => {
    it('moves forward only and answers the exact unread count', async () => {
      const alice = await t.login('read-alice');
      const bob = await t.login('read-bob');
      const chat = await createGroup(alice, [bob]);
      const read = `/v1/chats/${chat.id}/read` as const;
      await sendMessages(alice, chat.id, 5);
      assert.equal((await chatOf(bob, chat.id)).unreadCount, 5);
      assert.equal((await chatOf(bob, chat.id)).lastReadSeq, 0);

      const r3 = await bob.post(read, { seq: 3 });
      assert.equal(r3.status, 200, JSON.stringify(r3.body));
      assert.deepEqual(r3.body, { lastReadSeq: 3, unreadCount: 2 });

      const back = await bob.post(read, { seq: 1 });
      assert.equal(back.status, 200);
      assert.deepEqual(back.body, { lastReadSeq: 3, unreadCount: 2 }, 'a lower seq keeps the higher cursor');
      const view = await chatOf(bob, chat.id);
      assert.equal(view.lastReadSeq, 3);
      assert.equal(view.unreadCount, 2);
      const members = await bob.get(`/v1/chats/${chat.id}/members`);
      assert.equal(members.body.data.find((m) => m.userId === 'read-bob')?.lastReadSeq, 3);

      assert.deepEqual((await bob.post(read, { seq: 0 })).body, { lastReadSeq: 3, unreadCount: 2 });
      assert.deepEqual((await bob.post(read, { seq: 5 })).body, { lastReadSeq: 5, unreadCount: 0 });
    });

    it('refuses a seq beyond the last message, a seq as a string, and non-members', async () => {
      const alice = await t.login('read2-alice');
      const bob = await t.login('read2-bob');
      const chat = await createGroup(alice, [bob]);
      const read = `/v1/chats/${chat.id}/read` as const;
      assertError(await bob.post(read, { seq: 1 }), 400, 'invalid_request', 'seq');
      await sendMessages(alice, chat.id, 3);
      assertError(await bob.post(read, { seq: 4 }), 400, 'invalid_request', 'seq');
      assertError(await bob.post(read, { seq: '3' }), 400, 'invalid_request', 'seq');
      assertError(await bob.post(read, { seq: -1 }), 400, 'invalid_request', 'seq');
      assertError(await bob.post(read, { seq: 1.5 }), 400, 'invalid_request', 'seq');
      assertError(await bob.post(read, {}), 400, 'invalid_request', /^seq: is required/);
      assertError(await bob.post(read, { seq: 1, extra: true }), 400, 'invalid_request', 'extra');
      const outsider = await t.login('read2-outsider');
      assertError(await outsider.post(read, { seq: 1 }), 404, 'not_found');
      const view = await chatOf(bob, chat.id);
      assert.equal(view.lastReadSeq, 0, 'refused reads moved nothing');
      assert.equal(view.unreadCount, 3);
    });

    it('counts only others’ live messages, and /v1/chats and /v1/unread agree', async () => {
      const alice = await t.login('unread-alice');
      const bob = await t.login('unread-bob');
      const carol = await t.login('unread-carol');
      const one = await createGroup(alice, [bob, carol]);
      const two = await createGroup(bob, [alice]);
      const quiet = await createGroup(alice, [bob]);
      const u1 = `/v1/chats/${one.id}/messages` as const;

      // In `one`: alice 3, bob 2, carol 2, interleaved.
      for (const [who, text] of [
        [alice, 'a1'],
        [bob, 'b1'],
        [carol, 'c1'],
        [alice, 'a2'],
        [bob, 'b2'],
        [carol, 'c2'],
        [alice, 'a3'],
      ] as [Client, string][]) {
        assert.equal((await who.post(u1, { text })).status, 201);
      }
      // In `two`: bob 4 messages. In `quiet`: alice 2 messages, which bob then reads.
      await sendMessages(bob, two.id, 4);
      await sendMessages(alice, quiet.id, 2);
      assert.equal((await bob.post(`/v1/chats/${quiet.id}/read`, { seq: 2 })).body.unreadCount, 0);

      // Own messages never count.
      assert.equal((await chatOf(alice, one.id)).unreadCount, 4);
      assert.equal((await chatOf(bob, one.id)).unreadCount, 5);
      assert.equal((await chatOf(carol, one.id)).unreadCount, 5);
      assert.equal((await chatOf(bob, two.id)).unreadCount, 0);
      assert.equal((await chatOf(alice, two.id)).unreadCount, 4);
      assert.equal((await chatOf(alice, quiet.id)).unreadCount, 0);

      // Deleted messages don't count: carol deletes c1 (seq 3), alice deletes a2 (seq 4).
      assert.equal((await carol.delete(`${u1}/3`)).status, 204);
      assert.equal((await alice.delete(`${u1}/4`)).status, 204);
      assert.equal((await chatOf(alice, one.id)).unreadCount, 3);
      assert.equal((await chatOf(bob, one.id)).unreadCount, 3);
      assert.equal((await chatOf(carol, one.id)).unreadCount, 4);

      // Bob reads up to b1 (seq 2): what is left for him is c2 (6) and a3 (7); b2 (5) is his own, 3 and 4 deleted.
      assert.deepEqual((await bob.post(`/v1/chats/${one.id}/read`, { seq: 2 })).body, {
        lastReadSeq: 2,
        unreadCount: 2,
      });

      const expectations: [Client, Record<string, { unreadCount: number; lastReadSeq: number }>][] = [
        [
          alice,
          { [one.id]: { unreadCount: 3, lastReadSeq: 0 }, [two.id]: { unreadCount: 4, lastReadSeq: 0 } },
        ],
        [bob, { [one.id]: { unreadCount: 2, lastReadSeq: 2 } }],
        [carol, { [one.id]: { unreadCount: 4, lastReadSeq: 0 } }],
      ];
      for (const [who, expected] of expectations) {
        const unread = await who.get('/v1/unread');
        assert.equal(unread.status, 200);
        const listed = Object.fromEntries(
          unread.body.chats.map((c) => [
            c.chatId,
            { unreadCount: c.unreadCount, lastReadSeq: c.lastReadSeq },
          ]),
        );
        assert.deepEqual(listed, expected, `/v1/unread for ${who.userId}`);
        const total = Object.values(expected).reduce((sum, c) => sum + c.unreadCount, 0);
        assert.equal(unread.body.total, total, `total for ${who.userId}`);
        assert.ok(unread.body.chats.every((c) => c.unreadCount > 0));
        assert.ok(!(quiet.id in listed), 'a chat with nothing unread is absent');

        const chats = await who.get('/v1/chats?limit=200');
        assert.equal(chats.status, 200);
        for (const chat of chats.body.data) {
          assert.equal(
            chat.unreadCount,
            expected[chat.id]?.unreadCount ?? 0,
            `/v1/chats ${chat.id} for ${who.userId}`,
          );
          if (expected[chat.id]) {
            assert.equal(chat.lastReadSeq, expected[chat.id]!.lastReadSeq);
          }
        }
        assert.equal(
          chats.body.data.reduce((sum, c) => sum + c.unreadCount, 0),
          unread.body.total,
          `/v1/chats and /v1/unread agree for ${who.userId}`,
        );
      }

      // Reading everything empties /v1/unread.
      await carol.post(`/v1/chats/${one.id}/read`, { seq: 7 });
      assert.deepEqual((await carol.get('/v1/unread')).body, {
        total: 0,
        mentionTotal: 0,
        chats: [],
        threads: [],
      });
    });

    it('does not count a message the reader wrote, even past the cursor', async () => {
      const alice = await t.login('own-alice');
      const bob = await t.login('own-bob');
      const chat = await createGroup(alice, [bob]);
      await sendMessages(bob, chat.id, 3);
      assert.equal((await chatOf(bob, chat.id)).unreadCount, 0);
      assert.deepEqual((await bob.get('/v1/unread')).body, {
        total: 0,
        mentionTotal: 0,
        chats: [],
        threads: [],
      });
      assert.equal((await chatOf(alice, chat.id)).unreadCount, 3);
      // Alice answers without reading: her own answer does not count for her, and counts for bob.
      await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'reply' });
      assert.equal((await chatOf(alice, chat.id)).unreadCount, 3);
      assert.equal((await chatOf(bob, chat.id)).unreadCount, 1);
      const unread = await alice.get('/v1/unread');
      assert.deepEqual(unread.body, {
        total: 3,
        mentionTotal: 0,
        chats: [
          {
            chatId: chat.id,
            unreadCount: 3,
            lastReadSeq: 0,
            mentionCount: 0,
            muted: false,
            archived: false,
            hidden: false,
          },
        ],
        threads: [],
      });
    });
  });
});
