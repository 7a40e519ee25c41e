import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MessageView } from './support/api.ts';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { ACCEPT, SEND, type Document } from './support/jsonapi.ts';
import { createGroup, sendMessages } from './support/factories.ts';
import { StreamClient } from './support/ws.ts';

const messages = (chatId: string) => `/v1/chats/${chatId}/messages` as const;
const thread = (chatId: string, root: number) => `/v1/chats/${chatId}/messages/${root}/thread` as const;

async function reply(
  author: Client,
  chatId: string,
  root: number,
  text: string,
  alsoInChat?: boolean,
): Promise<MessageView> {
  const res = await author.post(messages(chatId), {
    text,
    threadRoot: root,
    ...(alsoInChat === undefined ? {} : { alsoInChat }),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** Sends `text` as is, a message of the main history. */
async function say(author: Client, chatId: string, text: string): Promise<MessageView> {
  const res = await author.post(messages(chatId), { text });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

describe(`threads (${ENGINE})`, () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let dave: Client;
  let chatId: string;

  before(async () => {
    t = await createTestApp();
    alice = await t.login('th-alice');
    bob = await t.login('th-bob');
    carol = await t.login('th-carol');
    dave = await t.login('th-dave');
    chatId = (await createGroup(alice, [bob, carol, dave])).id;
    await sendMessages(alice, chatId, 2);
  });
  after(async () => {
    await t.close();
  });

  it('refuses a root that is not a live top-level message of the chat, and alsoInChat without one', async () => {
    const root = (await sendMessages(alice, chatId, 1, 'root'))[0]!;
    const first = await reply(bob, chatId, root.seq, 'first');
    assert.equal(first.threadRoot, root.seq);
    assert.equal(first.alsoInChat, false);
    assert.equal(first.thread, null);
    assertError(
      await bob.post(messages(chatId), { text: 'x', threadRoot: first.seq }),
      400,
      'invalid_request',
      /threadRoot/,
    );
    assertError(
      await bob.post(messages(chatId), { text: 'x', threadRoot: 9999 }),
      400,
      'invalid_request',
      /threadRoot/,
    );
    assertError(await bob.post(messages(chatId), { text: 'x', threadRoot: 0 }), 400, 'invalid_request');
    assertError(
      await bob.post(messages(chatId), { text: 'x', alsoInChat: true }),
      400,
      'invalid_request',
      /alsoInChat/,
    );
    const gone = (await sendMessages(alice, chatId, 1, 'to delete'))[0]!;
    assert.equal((await alice.delete(`${messages(chatId)}/${gone.seq}`)).status, 204);
    assertError(
      await bob.post(messages(chatId), { text: 'x', threadRoot: gone.seq }),
      400,
      'invalid_request',
    );
    // The thread of a reply, or of no message, is not found.
    assertError(await bob.get(thread(chatId, first.seq)), 404, 'not_found');
    assertError(await bob.get(thread(chatId, 9999)), 404, 'not_found');
    // Another chat's member sees no chat at all.
    const other = await t.login('th-outsider');
    assertError(await other.get(thread(chatId, root.seq)), 404, 'not_found');
    assertError(await other.post(messages(chatId), { text: 'x', threadRoot: root.seq }), 404, 'not_found');
  });

  it('keeps thread-only replies out of the main history, shows alsoInChat ones, and pages the thread', async () => {
    const chat = (await createGroup(alice, [bob, carol])).id;
    const root = await say(alice, chat, 'root');
    const replies: MessageView[] = [];
    for (let i = 1; i <= 7; i++) {
      replies.push(await reply(i % 2 ? bob : carol, chat, root!.seq, `r${i}`, i === 4));
      await say(alice, chat, `main ${i}`);
    }
    const main = await alice.get(`${messages(chat)}?limit=200`);
    const shown = main.body.data.map((m) => m.text);
    assert.deepEqual(shown, [
      'root',
      'main 1',
      'main 2',
      'main 3',
      'r4',
      'main 4',
      'main 5',
      'main 6',
      'main 7',
    ]);
    // Pages of the main history are full pages, both ways, and chain.
    const back = await alice.get(`${messages(chat)}?limit=3`);
    assert.deepEqual(
      back.body.data.map((m) => m.text),
      ['main 5', 'main 6', 'main 7'],
    );
    const older = await alice.get(`${messages(chat)}?limit=3&cursor=${back.body.nextCursor}`);
    assert.deepEqual(
      older.body.data.map((m) => m.text),
      ['main 3', 'r4', 'main 4'],
    );
    const forward = await alice.get(`${messages(chat)}?after=0&limit=4`);
    assert.deepEqual(
      forward.body.data.map((m) => m.text),
      ['root', 'main 1', 'main 2', 'main 3'],
    );
    const next = await alice.get(`${messages(chat)}?limit=4&cursor=${forward.body.nextCursor}`);
    assert.deepEqual(
      next.body.data.map((m) => m.text),
      ['r4', 'main 4', 'main 5', 'main 6'],
    );

    // The thread: every reply, without the root, paged like the chat.
    const all = await carol.get(thread(chat, root!.seq));
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.data.map((m) => m.text),
      ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'],
    );
    const last = await carol.get(`${thread(chat, root!.seq)}?limit=3`);
    assert.deepEqual(
      last.body.data.map((m) => m.text),
      ['r5', 'r6', 'r7'],
    );
    const before = await carol.get(`${thread(chat, root!.seq)}?limit=3&cursor=${last.body.nextCursor}`);
    assert.deepEqual(
      before.body.data.map((m) => m.text),
      ['r2', 'r3', 'r4'],
    );
    const fromStart = await carol.get(`${thread(chat, root!.seq)}?after=${replies[1]!.seq}&limit=2`);
    assert.deepEqual(
      fromStart.body.data.map((m) => m.text),
      ['r3', 'r4'],
    );
    const rest = await carol.get(`${thread(chat, root!.seq)}?limit=10&cursor=${fromStart.body.nextCursor}`);
    assert.deepEqual(
      rest.body.data.map((m) => m.text),
      ['r5', 'r6', 'r7'],
    );
    assert.equal(rest.body.nextCursor, null);
    assertError(await carol.get(`${thread(chat, root!.seq)}?limit=0`), 400, 'invalid_request');

    // The root carries its summary, everywhere it is read; a deleted reply leaves the count.
    const summary = (await bob.get(`${messages(chat)}/${root!.seq}`)).body.thread;
    assert.equal(summary?.replyCount, 7);
    assert.equal(summary?.lastReplyAt, replies[6]!.createdAt);
    assert.deepEqual(summary?.participants, [alice.userId, bob.userId, carol.userId]);
    assert.equal((await bob.delete(`${messages(chat)}/${replies[6]!.seq}`)).status, 204);
    const page = await bob.get(`${messages(chat)}?after=0&limit=1`);
    assert.equal(page.body.data[0]!.thread?.replyCount, 6, 'the cached page moved on');
    const chats = await alice.get('/v1/chats');
    const listed = chats.body.data.find((c) => c.id === chat);
    assert.equal(listed?.lastMessage?.text, 'main 7', 'a chat’s last message is one of its main history');
  });

  it('caps the participants the root names, root author first, in the order they joined', async () => {
    const chat = (await createGroup(alice, [bob, carol])).id;
    const others: Client[] = [];
    for (let i = 0; i < 11; i++) {
      const user = await t.login(`th-many-${i}`);
      assert.equal((await alice.post(`/v1/chats/${chat}/members`, { userId: user.userId })).status, 201);
      others.push(user);
    }
    const root = await say(alice, chat, 'root');
    for (const user of [bob, ...others, bob, carol]) {
      await reply(user, chat, root!.seq, 'hi');
    }
    const summary = (await alice.get(`${messages(chat)}/${root!.seq}`)).body.thread!;
    assert.equal(summary.replyCount, 14);
    assert.deepEqual(summary.participants, [
      alice.userId,
      bob.userId,
      ...others.slice(0, 8).map((u) => u.userId),
    ]);
  });

  it('keeps the reply count exact under parallel replies', async () => {
    const chat = (await createGroup(alice, [bob, carol, dave])).id;
    const root = await say(alice, chat, 'root');
    const authors = [bob, carol, dave, alice];
    const sent = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        authors[i % 4]!.post(messages(chat), {
          text: `p${i}`,
          threadRoot: root!.seq,
          alsoInChat: i % 5 === 0,
        }),
      ),
    );
    assert.ok(sent.every((r) => r.status === 201));
    const summary = (await alice.get(`${messages(chat)}/${root!.seq}`)).body.thread!;
    assert.equal(summary.replyCount, 40);
    assert.deepEqual([...summary.participants].sort(), authors.map((a) => a.userId).sort());
    assert.equal(summary.participants[0], alice.userId);
    const seqs = sent.map((r) => r.body.seq).sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: 40 }, (_, i) => i + 2),
      'replies take the chat’s gapless seqs',
    );
    const page = await bob.get(`${thread(chat, root!.seq)}?limit=200`);
    assert.equal(page.body.data.length, 40);
    const main = await bob.get(`${messages(chat)}?limit=200`);
    assert.equal(main.body.data.length, 1 + 8);
  });

  it('counts thread-only replies unread for the thread’s participants only, exactly under parallel sends', async () => {
    const chat = (await createGroup(alice, [bob, carol, dave])).id;
    const root = await say(alice, chat, 'root');
    assert.equal((await dave.post(`/v1/chats/${chat}/read`, { seq: root!.seq })).status, 200);
    assert.equal((await carol.post(`/v1/chats/${chat}/read`, { seq: root!.seq })).status, 200);
    // bob replies (a participant from then on), alice is the root's author.
    await reply(bob, chat, root!.seq, 'joining');
    const parallel = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) =>
        carol.post(messages(chat), { text: `c${i}`, threadRoot: root!.seq }),
      ),
      ...Array.from({ length: 3 }, (_, i) =>
        carol.post(messages(chat), { text: `also ${i}`, threadRoot: root!.seq, alsoInChat: true }),
      ),
      ...Array.from({ length: 5 }, (_, i) => carol.post(messages(chat), { text: `main ${i}` })),
    ]);
    assert.ok(parallel.every((r) => r.status === 201));

    const unreadOf = async (client: Client) => (await client.get('/v1/unread')).body;
    // dave takes no part: only the main history counts (5 messages and 3 shown in the chat).
    const forDave = await unreadOf(dave);
    assert.deepEqual(forDave.chats.find((c) => c.chatId === chat)?.unreadCount, 8);
    assert.deepEqual(
      forDave.threads.filter((x) => x.chatId === chat),
      [],
    );
    const listed = (await dave.get('/v1/chats')).body.data.find((c) => c.id === chat);
    assert.equal(listed?.unreadCount, 8, 'the chat list counts the same');
    // bob took part with his reply: carol's 15 replies since are unread in the thread.
    const forBob = await unreadOf(bob);
    const bobThread = forBob.threads.find((x) => x.chatId === chat);
    assert.equal(bobThread?.threadRoot, root!.seq);
    assert.equal(bobThread?.unreadCount, 15);
    assert.equal(
      forBob.total,
      [...forBob.chats, ...forBob.threads].reduce((n, c) => n + c.unreadCount, 0),
    );
    // alice, the root's author, has them all: bob's and carol's.
    assert.equal((await unreadOf(alice)).threads.find((x) => x.chatId === chat)?.unreadCount, 16);
    // carol wrote them all: nothing unread in the thread for her.
    assert.equal(
      (await unreadOf(carol)).threads.find((x) => x.chatId === chat),
      undefined,
    );

    // A thread cursor moves forward only; a non-participant has none.
    const lastSeq = parallel.map((r) => r.body.seq).sort((a, b) => b - a)[0]!;
    const moved = await bob.post(`${thread(chat, root!.seq)}/read`, { seq: lastSeq });
    assert.deepEqual(moved.body, {
      messageId: root.id,
      lastReadSeq: lastSeq,
      unreadCount: 0,
      participant: true,
    });
    const back = await bob.post(`${thread(chat, root!.seq)}/read`, { seq: root!.seq });
    assert.deepEqual(back.body, {
      messageId: root.id,
      lastReadSeq: lastSeq,
      unreadCount: 0,
      participant: true,
    });
    assert.deepEqual((await dave.post(`${thread(chat, root!.seq)}/read`, { seq: lastSeq })).body, {
      messageId: root.id,
      lastReadSeq: lastSeq,
      unreadCount: 0,
      participant: false,
    });
    assertError(
      await bob.post(`${thread(chat, root!.seq)}/read`, { seq: lastSeq + 100 }),
      400,
      'invalid_request',
    );
    assert.equal(
      (await unreadOf(bob)).threads.find((x) => x.chatId === chat),
      undefined,
    );
    // dave replies: from then on, he takes part.
    await reply(dave, chat, root!.seq, 'me too');
    await reply(carol, chat, root!.seq, 'welcome');
    assert.equal((await unreadOf(dave)).threads.find((x) => x.chatId === chat)?.unreadCount, 1);
    assert.equal((await unreadOf(bob)).threads.find((x) => x.chatId === chat)?.unreadCount, 2);
    // Marking the chat read leaves the thread cursors where they are, and the chat count stays exact.
    const read = await dave.post(`/v1/chats/${chat}/read`, { seq: lastSeq + 2 });
    assert.equal(read.body.unreadCount, 0);
  });

  it('speaks JSON:API: a reply created with threadRoot, a thread listed, a thread read, unread threads', async () => {
    const chat = (await createGroup(alice, [bob])).id;
    const root = await say(alice, chat, 'root');
    const inject = async (client: Client, method: 'GET' | 'POST', url: string, body?: unknown) => {
      const res = await t.app.inject({
        method,
        url,
        headers: { ...(body ? SEND : ACCEPT), authorization: `Bearer ${client.token}` },
        ...(body ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: res.statusCode, doc: res.json<Document>() };
    };
    const created = await inject(bob, 'POST', messages(chat), {
      data: { type: 'messages', attributes: { text: 'threaded', threadRoot: root.seq, alsoInChat: true } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.doc));
    const reply = created.doc.data as { id: string; attributes: Record<string, unknown> };
    assert.equal(reply.attributes.threadRoot, root.seq);
    assert.equal(reply.attributes.alsoInChat, true);
    const listed = await inject(alice, 'GET', thread(chat, root.seq));
    assert.equal(listed.status, 200);
    assert.deepEqual(
      (listed.doc.data as { id: string }[]).map((m) => m.id),
      [reply.id],
    );
    const rootDoc = await inject(alice, 'GET', `${messages(chat)}/${root.seq}`);
    const summary = (rootDoc.doc.data as unknown as { attributes: { thread: { replyCount: number } } })
      .attributes.thread;
    assert.equal(summary.replyCount, 1);
    const unread = await inject(alice, 'GET', '/v1/unread');
    const threads = (unread.doc.meta as { threads: { chatId: string }[] }).threads;
    assert.deepEqual(
      threads.filter((x) => x.chatId === chat),
      [{ chatId: chat, threadRoot: root.seq, unreadCount: 1, lastReadSeq: root.seq }],
    );
    const read = await inject(alice, 'POST', `${thread(chat, root.seq)}/read`, {
      data: { type: 'messages', id: root.id, attributes: { seq: reply.attributes.seq } },
    });
    assert.equal(read.status, 200, JSON.stringify(read.doc));
    assert.deepEqual(read.doc.data, {
      type: 'messages',
      id: root.id,
      meta: { threadRead: { lastReadSeq: reply.attributes.seq, unreadCount: 0, participant: true } },
    });
  });

  it('streams replies as messages in seq order with thread.updated after them, and replays them on resume', async () => {
    const chat = (await createGroup(alice, [bob, carol])).id;
    const root = await say(alice, chat, 'root');
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const ws = await StreamClient.connect(base, carol.token);
    try {
      const first = await reply(bob, chat, root!.seq, 'streamed');
      const created = await ws.waitFor('message.created', (f) => f.message.seq === first.seq);
      assert.equal(created[0]!.message.threadRoot, root!.seq);
      const [updated] = await ws.waitFor('thread.updated', (f) => f.seq === root!.seq);
      assert.deepEqual(updated, {
        type: 'thread.updated',
        chatId: chat,
        seq: root!.seq,
        messageId: root!.id,
        replySeq: first.seq,
        thread: { replyCount: 1, lastReplyAt: first.createdAt, participants: [alice.userId, bob.userId] },
      });
      const order = ws.frames.map((f) => f.type);
      assert.ok(order.indexOf('message.created') < order.indexOf('thread.updated'));
      assert.equal((await bob.delete(`${messages(chat)}/${first.seq}`)).status, 204);
      const [, afterDelete] = await ws.waitFor('thread.updated', (f) => f.seq === root!.seq, 2);
      assert.equal(afterDelete!.thread.replyCount, 0);
    } finally {
      ws.socket.close();
    }
    await reply(bob, chat, root!.seq, 'offline 1');
    await say(alice, chat, 'offline main');
    await reply(bob, chat, root!.seq, 'offline 2', true);
    const resumed = await StreamClient.connect(base, carol.token, {
      resume: JSON.stringify({ [chat]: root!.seq }),
    });
    try {
      await resumed.waitFor((f) => f.type === 'resumed');
      await resumed.waitFor('message.created', (f) => f.chatId === chat, 4);
      assert.deepEqual(resumed.seqs(chat), [2, 3, 4, 5]);
      const replayed = resumed.of('message.created').map((f) => [f.message.text, f.message.threadRoot]);
      assert.deepEqual(replayed, [
        [null, root!.seq],
        ['offline 1', root!.seq],
        ['offline main', null],
        ['offline 2', root!.seq],
      ]);
    } finally {
      resumed.socket.close();
    }
  });
});
