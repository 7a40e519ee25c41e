import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createDirect, createGroup, sendMessages } from './support/factories.ts';
import { StreamClient } from './support/ws.ts';

const receipts = (chatId: string, seq: number) => `/v1/chats/${chatId}/messages/${seq}/receipts` as const;
const receiptsPage = (chatId: string, seq: number, query: string) =>
  `${receipts(chatId, seq)}?${query}` as const;

describe(`read receipts (${ENGINE})`, () => {
  let t: TestApp;
  let base: string;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let dave: Client;
  let chatId: string;

  before(async () => {
    t = await createTestApp({ PARLEY_RECEIPTS_MAX_MEMBERS: '3' });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    alice = await t.login('rc-alice');
    bob = await t.login('rc-bob');
    carol = await t.login('rc-carol');
    dave = await t.login('rc-dave');
    chatId = (await createGroup(alice, [bob, carol])).id;
    await sendMessages(alice, chatId, 3);
  });
  after(async () => {
    await t.close();
  });

  it('lists the members whose cursor is at the message or past it, but its author, by user id, paged', async () => {
    assert.deepEqual((await bob.get(receipts(chatId, 2))).body, { data: [], nextCursor: null });
    const before = Date.now();
    assert.equal((await bob.post(`/v1/chats/${chatId}/read`, { seq: 2 })).status, 200);
    const seen = await carol.get(receipts(chatId, 2));
    assert.equal(seen.status, 200, JSON.stringify(seen.body));
    assert.deepEqual(
      seen.body.data.map((r) => [r.userId, r.lastReadSeq]),
      [[bob.userId, 2]],
    );
    const at = Date.parse(seen.body.data[0]!.lastReadAt!);
    assert.ok(at >= before - 1000 && at <= Date.now() + 1000, seen.body.data[0]!.lastReadAt!);
    assert.deepEqual((await carol.get(receipts(chatId, 3))).body.data, []);

    // The author reading their own message is no receipt of it.
    assert.equal((await alice.post(`/v1/chats/${chatId}/read`, { seq: 3 })).status, 200);
    assert.equal((await carol.post(`/v1/chats/${chatId}/read`, { seq: 3 })).status, 200);
    const first = await bob.get(receiptsPage(chatId, 1, 'limit=1'));
    assert.deepEqual(
      first.body.data.map((r) => r.userId),
      [bob.userId],
    );
    assert.ok(first.body.nextCursor);
    const rest = await bob.get(receiptsPage(chatId, 1, `limit=1&cursor=${first.body.nextCursor}`));
    assert.deepEqual(
      rest.body.data.map((r) => [r.userId, r.lastReadSeq]),
      [[carol.userId, 3]],
    );
    assert.equal(rest.body.nextCursor, null);

    // Someone else's message: its author's own cursor is no receipt, everyone else's is.
    const [reply] = await sendMessages(bob, chatId, 1, 'from bob');
    assert.equal((await alice.post(`/v1/chats/${chatId}/read`, { seq: reply!.seq })).status, 200);
    assert.equal((await bob.post(`/v1/chats/${chatId}/read`, { seq: reply!.seq })).status, 200);
    assert.deepEqual(
      (await carol.get(receipts(chatId, reply!.seq))).body.data.map((r) => r.userId),
      [alice.userId],
    );
    assertError(await bob.get(receiptsPage(chatId, 1, 'cursor=nonsense')), 400, 'invalid_request', 'cursor');
  });

  it('ignores a cursor moved back: the receipt, its time and the stream stay as they were', async () => {
    const ws = await StreamClient.connect(base, alice.token);
    try {
      const before = (await alice.get(receipts(chatId, 1))).body.data.find((r) => r.userId === bob.userId);
      const back = await bob.post(`/v1/chats/${chatId}/read`, { seq: 1 });
      assert.equal(back.status, 200);
      assert.ok(back.body.lastReadSeq > 1);
      const again = await bob.post(`/v1/chats/${chatId}/read`, { seq: back.body.lastReadSeq });
      assert.equal(again.body.lastReadSeq, back.body.lastReadSeq);
      const now = (await alice.get(receipts(chatId, 1))).body.data.find((r) => r.userId === bob.userId);
      assert.deepEqual(now, before);
      // A fence: the message comes after anything those reads would have told.
      const [fence] = await sendMessages(carol, chatId, 1, 'fence');
      await ws.waitFor('message.created', (f) => f.message.seq === fence!.seq);
      assert.deepEqual(
        ws.of('read.updated').filter((f) => f.userId === bob.userId),
        [],
      );
    } finally {
      ws.socket.close();
    }
  });

  it('tells the chat’s members when a cursor moves, once, with when: read.updated', async () => {
    const ws = await StreamClient.connect(base, alice.token);
    try {
      const [message] = await sendMessages(alice, chatId, 1, 'seen?');
      const seq = message!.seq;
      await ws.waitFor('message.created', (f) => f.message.seq === seq);
      // Reads racing to the same seq move the cursor once, and tell it once.
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => carol.post(`/v1/chats/${chatId}/read`, { seq })),
      );
      assert.ok(answers.every((a) => a.status === 200 && a.body.lastReadSeq === seq));
      const [event] = await ws.waitFor('read.updated', (f) => f.userId === carol.userId && f.seq === seq);
      const receipt = (await alice.get(receipts(chatId, seq))).body.data.find(
        (r) => r.userId === carol.userId,
      );
      assert.deepEqual(event, {
        type: 'read.updated',
        chatId,
        userId: carol.userId,
        seq,
        readAt: receipt!.lastReadAt,
      });
      const [fence] = await sendMessages(bob, chatId, 1, 'fence');
      await ws.waitFor('message.created', (f) => f.message.seq === fence!.seq);
      assert.equal(ws.of('read.updated').filter((f) => f.userId === carol.userId).length, 1);
    } finally {
      ws.socket.close();
    }
  });

  it('in a chat over the size limit: receipts are 409 limit_exceeded, and a move tells only the reader', async () => {
    const big = (await createGroup(alice, [bob, carol, dave])).id;
    await sendMessages(alice, big, 2);
    const error = assertError(await bob.get(receipts(big, 1)), 409, 'limit_exceeded', 'receipts_max_members');
    assert.deepEqual(error.details, [{ limit: 'receipts_max_members', max: 3 }]);
    const aliceWs = await StreamClient.connect(base, alice.token);
    const bobWs = await StreamClient.connect(base, bob.token);
    try {
      assert.equal((await bob.post(`/v1/chats/${big}/read`, { seq: 2 })).status, 200);
      const [own] = await bobWs.waitFor('read.updated', (f) => f.chatId === big);
      assert.equal(own?.seq, 2);
      const [fence] = await sendMessages(bob, big, 1, 'fence');
      await aliceWs.waitFor('message.created', (f) => f.chatId === big && f.message.seq === fence!.seq);
      assert.deepEqual(
        aliceWs.of('read.updated').filter((f) => f.chatId === big),
        [],
      );
    } finally {
      aliceWs.socket.close();
      bobWs.socket.close();
    }
  });

  it('works in a direct chat; is not_found to a non-member, another tenant, and for an unknown message', async () => {
    const direct = (await createDirect(alice, dave)).id;
    const [message] = await sendMessages(alice, direct, 1, 'direct');
    assert.equal((await dave.post(`/v1/chats/${direct}/read`, { seq: message!.seq })).status, 200);
    assert.deepEqual(
      (await alice.get(receipts(direct, message!.seq))).body.data.map((r) => r.userId),
      [dave.userId],
    );
    const foreign = await t.login('rc-alice', { tenant: 'rc-other-tenant' });
    for (const stranger of [dave, foreign]) {
      assertError(await stranger.get(receipts(chatId, 1)), 404, 'not_found');
    }
    assertError(await alice.get(receipts(chatId, 9999)), 404, 'not_found');
  });
});
