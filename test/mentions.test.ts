import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MessageView } from './support/api.ts';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { createGroup } from './support/factories.ts';
import { StreamClient } from './support/ws.ts';

async function send(author: Client, chatId: string, text: string): Promise<MessageView> {
  const res = await author.post(`/v1/chats/${chatId}/messages`, { text });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function mentionCount(client: Client, chatId: string): Promise<number> {
  const res = await client.get('/v1/unread');
  assert.equal(res.status, 200);
  return res.body.chats.find((c) => c.chatId === chatId)?.mentionCount ?? 0;
}

describe(`mentions (${ENGINE})`, () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let outsider: Client;
  let chatId: string;
  let base: string;

  before(async () => {
    t = await createTestApp();
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    alice = await t.login('mn-alice');
    bob = await t.login('mn-bob');
    carol = await t.login('mn-carol');
    outsider = await t.login('mn-outsider');
    chatId = (await createGroup(alice, [bob, carol])).id;
  });
  after(async () => {
    await t.close();
  });

  it('resolves @username of members when sent; unknown names, non-members and the author are plain text', async () => {
    const message = await send(
      bob,
      chatId,
      'hey @MN-ALICE, @mn-carol. and @mn-outsider, @nobody, @mn-bob and mail@mn-alice',
    );
    assert.deepEqual(message.mentions, [alice.userId, carol.userId].sort());
    assert.equal(message.mentionsAll, false);
    assert.equal(message.mentionsHere, false);
    const single = await carol.get(`/v1/chats/${chatId}/messages/${message.seq}`);
    assert.deepEqual(single.body.mentions, message.mentions);
    const page = await carol.get(`/v1/chats/${chatId}/messages`);
    const onPage = page.body.data.find((m) => m.seq === message.seq);
    assert.deepEqual(onPage?.mentions, message.mentions);
    assert.equal(onPage?.mentionsAll, false);
    const plain = await send(bob, chatId, 'nothing to see');
    assert.deepEqual(plain.mentions, []);
  });

  it('takes @all and @here from an owner or admin only; a member’s are plain text', async () => {
    const byMember = await send(bob, chatId, '@all @here look');
    assert.equal(byMember.mentionsAll, false);
    assert.equal(byMember.mentionsHere, false);
    const byOwner = await send(alice, chatId, '@all look');
    assert.equal(byOwner.mentionsAll, true);
    assert.equal(
      (await alice.patch(`/v1/chats/${chatId}/members/${bob.userId}`, { role: 'admin' })).status,
      200,
    );
    const byAdmin = await send(bob, chatId, '@here look');
    assert.equal(byAdmin.mentionsHere, true);
    assert.equal(
      (await alice.patch(`/v1/chats/${chatId}/members/${bob.userId}`, { role: 'member' })).status,
      200,
    );
  });

  it('counts each member’s unread mentions exactly, by name, @all since joining, and not once read', async () => {
    const chat = (await createGroup(alice, [bob, carol])).id;
    await send(bob, chat, '@mn-carol one');
    await send(alice, chat, '@all two @mn-carol');
    await send(carol, chat, '@mn-bob three');
    assert.equal(await mentionCount(carol, chat), 2, 'a name and @all in one message count once');
    assert.equal(await mentionCount(bob, chat), 2);
    assert.equal(await mentionCount(alice, chat), 0, 'the author’s own @all is not a mention of them');
    const unread = await carol.get('/v1/unread');
    assert.equal(
      unread.body.mentionTotal,
      unread.body.chats.reduce((sum, c) => sum + c.mentionCount, 0),
    );

    // A member who joins later is not mentioned by the @all sent before.
    const dave = await t.login('mn-dave');
    assert.equal((await alice.post(`/v1/chats/${chat}/members`, { userId: dave.userId })).status, 201);
    assert.equal(await mentionCount(dave, chat), 0);
    await send(alice, chat, '@all welcome');
    assert.equal(await mentionCount(dave, chat), 1);

    // Reading past a mention clears it; a deleted message no longer counts.
    assert.equal((await carol.post(`/v1/chats/${chat}/read`, { seq: 1 })).status, 200);
    assert.equal(await mentionCount(carol, chat), 2);
    const doomed = await send(bob, chat, '@mn-carol doomed');
    assert.equal(await mentionCount(carol, chat), 3);
    assert.equal((await bob.delete(`/v1/chats/${chat}/messages/${doomed.seq}`)).status, 204);
    assert.equal(await mentionCount(carol, chat), 2);
    const deleted = await carol.get(`/v1/chats/${chat}/messages/${doomed.seq}`);
    assert.deepEqual(deleted.body.mentions, []);
  });

  it('keeps the counts exact under parallel sends and reads', async () => {
    const chat = (await createGroup(alice, [bob, carol])).id;
    const sends = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? bob : alice).post(`/v1/chats/${chat}/messages`, {
          text: i % 3 === 0 ? `@mn-carol ${i}` : `plain ${i}`,
        }),
      ),
    );
    assert.ok(sends.every((s) => s.status === 201));
    const mentioning = sends.filter((s) => s.body.mentions?.includes(carol.userId)).map((s) => s.body.seq);
    assert.equal(mentioning.length, 10);
    assert.equal(await mentionCount(carol, chat), 10);
    const cursor = 15;
    const [, counted] = await Promise.all([
      carol.post(`/v1/chats/${chat}/read`, { seq: cursor }),
      Promise.all(Array.from({ length: 5 }, () => send(bob, chat, '@mn-carol more'))),
    ]);
    assert.equal(counted.length, 5);
    assert.equal(await mentionCount(carol, chat), mentioning.filter((seq) => seq > cursor).length + 5);
  });

  it('re-resolves on edit: the new mentions replace the old, and only the newly mentioned are told', async () => {
    const chat = (await createGroup(alice, [bob, carol])).id;
    const ws = await StreamClient.connect(base, carol.token);
    try {
      const message = await send(bob, chat, 'hi @mn-alice');
      assert.equal(await mentionCount(alice, chat), 1);
      const pageOf = async () =>
        (await alice.get(`/v1/chats/${chat}/messages`)).body.data.find((m) => m.seq === message.seq)
          ?.mentions;
      assert.deepEqual(await pageOf(), [alice.userId], 'the page is now cached');
      const edited = await bob.patch(`/v1/chats/${chat}/messages/${message.seq}`, {
        text: 'hi @mn-carol and @mn-alice',
      });
      assert.equal(edited.status, 200);
      assert.deepEqual(edited.body.mentions, [alice.userId, carol.userId].sort());
      assert.deepEqual(await pageOf(), edited.body.mentions, 'no cached page shows the old mentions');
      const [told] = await ws.waitFor('mention.created', (f) => f.chatId === chat);
      assert.equal(told!.via, 'name');
      assert.equal(told!.message.seq, message.seq);
      const again = await bob.patch(`/v1/chats/${chat}/messages/${message.seq}`, { text: 'hi @mn-carol!' });
      assert.deepEqual(again.body.mentions, [carol.userId]);
      assert.equal(await mentionCount(alice, chat), 0);
      assert.equal(await mentionCount(carol, chat), 1);
      await ws.quietFor(200);
      assert.equal(ws.of('mention.created').filter((f) => f.chatId === chat).length, 1, 'told once');
    } finally {
      ws.socket.close();
    }
  });

  it('tells the mentioned user on their own stream, @here only those online, @all the whole chat', async () => {
    const chat = (await createGroup(alice, [bob, carol])).id;
    const carolStream = await StreamClient.connect(base, carol.token);
    const outsiderStream = await StreamClient.connect(base, outsider.token);
    try {
      const named = await send(bob, chat, '@mn-carol and @mn-outsider');
      const [byName] = await carolStream.waitFor('mention.created', (f) => f.message.seq === named.seq);
      assert.deepEqual(byName, { type: 'mention.created', chatId: chat, message: named, via: 'name' });
      const here = await send(alice, chat, '@here standup');
      assert.equal(here.mentionsHere, true);
      const [byHere] = await carolStream.waitFor('mention.created', (f) => f.message.seq === here.seq);
      assert.equal(byHere!.via, 'here');
      assert.equal(await mentionCount(carol, chat), 2);
      assert.equal(await mentionCount(bob, chat), 0, 'bob was offline: @here did not reach him');
      const all = await send(alice, chat, '@all release');
      const [byAll] = await carolStream.waitFor('mention.created', (f) => f.message.seq === all.seq);
      assert.equal(byAll!.via, 'all');
      assert.equal(await mentionCount(bob, chat), 1);
      await outsiderStream.quietFor(200);
      assert.equal(outsiderStream.of('mention.created').length, 0, 'a non-member hears nothing');
      // message.created comes first, and carries the mentions.
      const order = carolStream.frames.map((f) => f.type);
      assert.ok(order.indexOf('message.created') < order.indexOf('mention.created'));
    } finally {
      carolStream.socket.close();
      outsiderStream.socket.close();
    }
  });
});
