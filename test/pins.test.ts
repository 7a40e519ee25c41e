import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { MessageView } from './support/api.ts';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createDirect, createGroup, sendMessages } from './support/factories.ts';
import { StreamClient } from './support/ws.ts';

const pin = (chatId: string, seq: number) => `/v1/chats/${chatId}/messages/${seq}/pin` as const;

function pinOf(page: { data: MessageView[] }, seq: number) {
  const message = page.data.find((m) => m.seq === seq);
  return message && { pinnedAt: message.pinnedAt, pinnedBy: message.pinnedBy };
}

describe(`pins (${ENGINE})`, () => {
  let t: TestApp;
  let owner: Client;
  let admin: Client;
  let member: Client;
  let chatId: string;
  let address: string | undefined;
  const listening = async () => (address ??= await t.app.listen({ port: 0, host: '127.0.0.1' }));

  before(async () => {
    t = await createTestApp({ PARLEY_MAX_PINS_PER_CHAT: '4' });
    owner = await t.login('pin-owner');
    admin = await t.login('pin-admin');
    member = await t.login('pin-member');
    chatId = (await createGroup(owner, [admin, member])).id;
    assert.equal(
      (await owner.patch(`/v1/chats/${chatId}/members/${admin.userId}`, { role: 'admin' })).status,
      200,
    );
    await sendMessages(member, chatId, 3);
  });
  after(async () => {
    await t.close();
  });

  it('owners and admins pin (201, then 200) and unpin (204, also when not pinned); members may not (403)', async () => {
    const first = await admin.put(pin(chatId, 1));
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.seq, 1);
    assert.equal(first.body.pinnedBy, admin.userId);
    assert.ok(first.body.pinnedAt && !Number.isNaN(Date.parse(first.body.pinnedAt)));
    assert.deepEqual(first.body.reactions, []);
    const again = await owner.put(pin(chatId, 1));
    assert.equal(again.status, 200);
    assert.equal(again.body.pinnedBy, admin.userId, 'pinning again changes nothing');
    assert.equal(again.body.pinnedAt, first.body.pinnedAt);

    assertError(await member.put(pin(chatId, 2)), 403, 'forbidden', /owner or admin/);
    assertError(await member.delete(pin(chatId, 1)), 403, 'forbidden', /owner or admin/);

    const single = await member.get(`/v1/chats/${chatId}/messages/1`);
    assert.equal(single.body.pinnedAt, first.body.pinnedAt);
    assert.equal(single.body.pinnedBy, admin.userId);
    assert.equal((await member.get(`/v1/chats/${chatId}/messages/2`)).body.pinnedAt, null);

    assert.equal((await owner.delete(pin(chatId, 1))).status, 204);
    assert.equal((await owner.delete(pin(chatId, 1))).status, 204);
    const unpinned = await member.get(`/v1/chats/${chatId}/messages/1`);
    assert.equal(unpinned.body.pinnedAt, null);
    assert.equal(unpinned.body.pinnedBy, null);
    assertError(await owner.put(pin(chatId, 9999)), 404, 'not_found');
    assertError(await owner.delete(pin(chatId, 9999)), 404, 'not_found');
  });

  it('lets both members of a direct chat pin', async () => {
    const direct = (await createDirect(member, admin)).id;
    const [message] = await sendMessages(admin, direct, 1, 'direct');
    const pinned = await member.put(pin(direct, message!.seq));
    assert.equal(pinned.status, 201);
    assert.equal(pinned.body.pinnedBy, member.userId);
    assert.equal((await admin.delete(pin(direct, message!.seq))).status, 204);
  });

  it('lists the pins newest first, a page at a time, with the message views', async () => {
    const chat = (await createGroup(owner, [member])).id;
    await sendMessages(member, chat, 4, 'listed');
    for (const seq of [2, 4, 1]) {
      assert.equal((await owner.put(pin(chat, seq))).status, 201);
    }
    const first = await member.get(`/v1/chats/${chat}/pins?limit=2`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(
      first.body.data.map((m) => m.seq),
      [1, 4],
    );
    assert.equal(first.body.data[0]!.text, 'listed 1');
    assert.equal(first.body.data[0]!.pinnedBy, owner.userId);
    assert.ok(first.body.nextCursor);
    const rest = await member.get(`/v1/chats/${chat}/pins?limit=2&cursor=${first.body.nextCursor}`);
    assert.deepEqual(
      rest.body.data.map((m) => m.seq),
      [2],
    );
    assert.equal(rest.body.nextCursor, null);
    assertError(await member.get(`/v1/chats/${chat}/pins?cursor=nonsense`), 400, 'invalid_request', 'cursor');
    assert.deepEqual((await member.get(`/v1/chats/${chatId}/pins`)).body.data, []);
  });

  it('shows pins on cached history pages, never stale: a pin moves the chat’s history on', async () => {
    const cache = t.app.parley.ctx.history!;
    const url = `/v1/chats/${chatId}/messages?limit=3` as const;
    await owner.get(url);
    const hits = cache.hits;
    assert.deepEqual(pinOf((await member.get(url)).body, 2), { pinnedAt: null, pinnedBy: null });
    assert.equal(cache.hits, hits + 1, 'the page is cached');
    const pinned = await owner.put(pin(chatId, 2));
    const misses = cache.misses;
    assert.deepEqual(pinOf((await member.get(url)).body, 2), {
      pinnedAt: pinned.body.pinnedAt,
      pinnedBy: owner.userId,
    });
    assert.equal(cache.misses, misses + 1);
    assert.equal((await admin.delete(pin(chatId, 2))).status, 204);
    assert.deepEqual(pinOf((await member.get(url)).body, 2), { pinnedAt: null, pinnedBy: null });
  });

  it('holds the limit of pins per chat exactly under parallel requests', async () => {
    const chat = (await createGroup(owner, [admin])).id;
    assert.equal(
      (await owner.patch(`/v1/chats/${chat}/members/${admin.userId}`, { role: 'admin' })).status,
      200,
    );
    await sendMessages(owner, chat, 12, 'many');
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? admin : owner).put(pin(chat, i + 1))),
    );
    const pinned = answers.filter((a) => a.status === 201);
    assert.equal(pinned.length, 4, JSON.stringify(answers.map((a) => a.status)));
    for (const refused of answers.filter((a) => a.status !== 201)) {
      const error = assertError(refused, 409, 'limit_exceeded', 'pins_per_chat');
      assert.deepEqual(error.details, [{ limit: 'pins_per_chat', max: 4 }]);
    }
    const stored = await sql<{ n: number }>`
      select count(*)::int as n from messages where chat_id = ${chat} and pinned_at is not null`.execute(
      t.app.parley.ctx.db,
    );
    assert.equal(stored.rows[0]!.n, 4);
    // Pinning a pinned message again is no new pin; unpinning one makes room for another.
    const seq = pinned[0]!.body.seq;
    assert.equal((await owner.put(pin(chat, seq))).status, 200);
    const free = answers.findIndex((a) => a.status !== 201) + 1;
    assertError(await owner.put(pin(chat, free)), 409, 'limit_exceeded');
    assert.equal((await owner.delete(pin(chat, seq))).status, 204);
    assert.equal((await owner.put(pin(chat, free))).status, 201);
  });

  it('unpins a message when it is deleted, and refuses to pin a deleted one (409)', async () => {
    const [message] = await sendMessages(member, chatId, 1, 'doomed');
    const seq = message!.seq;
    const pinned = await owner.put(pin(chatId, seq));
    assert.equal(pinned.status, 201);
    assert.ok((await member.get(`/v1/chats/${chatId}/pins`)).body.data.some((m) => m.seq === seq));
    // An edit keeps the pin, and its answer shows it.
    const edited = await member.patch(`/v1/chats/${chatId}/messages/${seq}`, { text: 'still pinned' });
    assert.equal(edited.body.pinnedAt, pinned.body.pinnedAt);
    assert.equal(edited.body.pinnedBy, owner.userId);
    assert.equal((await member.delete(`/v1/chats/${chatId}/messages/${seq}`)).status, 204);
    assert.ok(!(await member.get(`/v1/chats/${chatId}/pins`)).body.data.some((m) => m.seq === seq));
    const view = await member.get(`/v1/chats/${chatId}/messages/${seq}`);
    assert.equal(view.body.pinnedAt, null);
    assertError(await owner.put(pin(chatId, seq)), 409, 'conflict', /deleted/);
    assert.equal((await owner.delete(pin(chatId, seq))).status, 204);
  });

  it('is not_found to a non-member and to another tenant', async () => {
    const outsider = await t.login('pin-outsider');
    const foreign = await t.login('pin-owner', { tenant: 'pin-other-tenant' });
    for (const stranger of [outsider, foreign]) {
      assertError(await stranger.put(pin(chatId, 1)), 404, 'not_found');
      assertError(await stranger.delete(pin(chatId, 1)), 404, 'not_found');
      assertError(await stranger.get(`/v1/chats/${chatId}/pins`), 404, 'not_found');
    }
    assert.equal((await owner.get(`/v1/chats/${chatId}/messages/1`)).body.pinnedAt, null);
  });

  it('tells the chat’s streams, after the message: message.pinned, message.unpinned', async () => {
    const base = await listening();
    const ws = await StreamClient.connect(base, member.token);
    try {
      const [message] = await sendMessages(member, chatId, 1, 'streamed');
      const seq = message!.seq;
      await ws.waitFor('message.created', (f) => f.message.seq === seq);
      const pinned = await admin.put(pin(chatId, seq));
      assert.equal((await admin.put(pin(chatId, seq))).status, 200);
      assert.equal((await owner.delete(pin(chatId, seq))).status, 204);
      assert.equal((await owner.delete(pin(chatId, seq))).status, 204);
      const [pinnedEvent] = await ws.waitFor('message.pinned', (f) => f.seq === seq);
      const [unpinnedEvent] = await ws.waitFor('message.unpinned', (f) => f.seq === seq);
      assert.deepEqual(pinnedEvent, {
        type: 'message.pinned',
        chatId,
        seq,
        messageId: message!.id,
        pinnedBy: admin.userId,
        pinnedAt: pinned.body.pinnedAt,
        rev: pinnedEvent!.rev,
      });
      assert.ok(Number.isInteger(pinnedEvent!.rev) && pinnedEvent!.rev > 0);
      assert.deepEqual(unpinnedEvent, {
        type: 'message.unpinned',
        chatId,
        seq,
        messageId: message!.id,
        userId: owner.userId,
        rev: pinnedEvent!.rev + 1,
      });
      // The repeated pin and unpin changed nothing and said nothing.
      await sendMessages(member, chatId, 1, 'fence');
      await ws.waitFor('message.created', (f) => f.message.seq === seq + 1);
      assert.equal(ws.of('message.pinned').filter((f) => f.seq === seq).length, 1);
      assert.equal(ws.of('message.unpinned').filter((f) => f.seq === seq).length, 1);
    } finally {
      ws.socket.close();
    }
  });

  it('replays the pins a stream missed on a resume, in rev order', async () => {
    const base = await listening();
    const first = await StreamClient.connect(base, member.token);
    const [message] = await sendMessages(member, chatId, 1, 'pinned while away');
    const seq = message!.seq;
    let lastRev: number;
    try {
      await first.waitFor('message.created', (f) => f.message.seq === seq);
      assert.equal((await admin.put(pin(chatId, seq))).status, 201);
      const [pinnedEvent] = await first.waitFor('message.pinned', (f) => f.seq === seq);
      lastRev = pinnedEvent!.rev;
    } finally {
      first.socket.close();
    }
    assert.equal((await owner.delete(pin(chatId, seq))).status, 204);
    assert.equal((await owner.put(pin(chatId, seq))).status, 201);
    const resume = JSON.stringify({ chats: { [chatId]: seq }, changes: { [chatId]: lastRev } });
    const again = await StreamClient.connect(base, member.token, { resume });
    try {
      await again.waitFor('resumed');
      const [unpinned] = await again.waitFor('message.unpinned', (f) => f.seq === seq);
      const [repinned] = await again.waitFor('message.pinned', (f) => f.seq === seq);
      assert.deepEqual([unpinned!.rev, repinned!.rev], [lastRev + 1, lastRev + 2]);
      assert.equal(repinned!.pinnedBy, owner.userId);
    } finally {
      again.socket.close();
    }
  });
});
