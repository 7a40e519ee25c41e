import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatView, Page } from './support/api.ts';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createGroup, sendMessages } from './support/factories.ts';
import { ACCEPT, assertMany, assertOne, SEND } from './support/jsonapi.ts';
import { StreamClient } from './support/ws.ts';

const settingsOf = (chatId: string) => `/v1/chats/${chatId}/settings` as const;

async function listed(client: Client, query = ''): Promise<string[]> {
  const res = await client.get<Page<ChatView>>(`/v1/chats${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.map((c) => c.id);
}

describe(`chat settings (${ENGINE})`, () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let base: string;

  before(async () => {
    t = await createTestApp();
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    alice = await t.login('cs-alice');
    bob = await t.login('cs-bob');
  });
  after(async () => {
    await t.close();
  });

  it('starts with nothing set, in the settings and in every chat view', async () => {
    const chat = await createGroup(alice, [bob]);
    const empty = { muted: false, mutedUntil: null, archived: false, hidden: false };
    assert.deepEqual(chat.settings, empty);
    assert.deepEqual((await bob.get(settingsOf(chat.id))).body, empty);
    assert.deepEqual((await bob.get(`/v1/chats/${chat.id}`)).body.settings, empty);
  });

  it('mutes for ever or until a time, unmutes, and refuses a past time or a contradiction', async () => {
    const chat = await createGroup(alice, [bob]);
    const forever = await bob.patch(settingsOf(chat.id), { muted: true });
    assert.equal(forever.status, 200, JSON.stringify(forever.body));
    assert.deepEqual(forever.body, { muted: true, mutedUntil: null, archived: false, hidden: false });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const timed = await bob.patch(settingsOf(chat.id), { mutedUntil: until });
    assert.equal(timed.body.muted, true);
    assert.equal(timed.body.mutedUntil, until);
    assert.equal((await bob.patch(settingsOf(chat.id), { mutedUntil: null })).body.muted, false);
    assert.equal((await bob.patch(settingsOf(chat.id), { muted: true })).body.muted, true);
    assert.equal((await bob.patch(settingsOf(chat.id), { muted: false })).body.muted, false);
    assertError(
      await bob.patch(settingsOf(chat.id), { mutedUntil: '2001-01-01T00:00:00.000Z' }),
      400,
      'invalid_request',
      'mutedUntil',
    );
    assertError(
      await bob.patch(settingsOf(chat.id), { muted: false, mutedUntil: until }),
      400,
      'invalid_request',
      'mutedUntil',
    );
    assertError(await bob.patch(settingsOf(chat.id), {}), 400, 'invalid_request');
    // Only the caller's own settings: alice's are untouched.
    assert.equal((await alice.get(settingsOf(chat.id))).body.muted, false);
  });

  it('is not_found to a non-member and another tenant', async () => {
    const chat = await createGroup(alice, [bob]);
    const outsider = await t.login('cs-outsider');
    const foreign = await t.login('cs-alice', { tenant: 'cs-other' });
    for (const stranger of [outsider, foreign]) {
      assertError(await stranger.get(settingsOf(chat.id)), 404, 'not_found');
      assertError(await stranger.patch(settingsOf(chat.id), { archived: true }), 404, 'not_found');
    }
  });

  it('leaves archived and hidden chats out of the list; filters list them; a new message shows a hidden chat', async () => {
    const carol = await t.login('cs-carol');
    const [kept, archived, hidden] = [
      await createGroup(carol, [bob]),
      await createGroup(carol, [bob]),
      await createGroup(carol, [bob]),
    ];
    await sendMessages(bob, hidden.id, 1);
    assert.equal((await carol.patch(settingsOf(archived.id), { archived: true })).body.archived, true);
    assert.equal((await carol.patch(settingsOf(hidden.id), { hidden: true })).body.hidden, true);
    assert.deepEqual((await listed(carol)).sort(), [kept.id]);
    assert.deepEqual(await listed(carol, '?archived=true'), [archived.id]);
    assert.deepEqual((await listed(carol, '?includeHidden=true')).sort(), [kept.id, hidden.id].sort());
    const view = await carol.get(`/v1/chats/${hidden.id}`);
    assert.equal(view.body.settings.hidden, true);
    // Bob's list is his own.
    const bobs = await listed(bob);
    assert.ok([kept.id, archived.id, hidden.id].every((id) => bobs.includes(id)));

    // The next message, by anyone, shows the hidden chat again; an archived chat stays archived.
    await sendMessages(bob, hidden.id, 1);
    await sendMessages(bob, archived.id, 1);
    assert.deepEqual((await listed(carol)).sort(), [kept.id, hidden.id].sort());
    assert.equal((await carol.get(settingsOf(hidden.id))).body.hidden, false);
    assert.equal((await carol.patch(settingsOf(archived.id), { archived: false })).body.archived, false);
    assert.equal((await listed(carol)).length, 3);
  });

  it('leaves muted, archived and hidden chats out of the unread total, listing them and their mentions', async () => {
    const dave = await t.login('cs-dave');
    const [loud, muted, archived] = [
      await createGroup(dave, [bob]),
      await createGroup(dave, [bob]),
      await createGroup(dave, [bob]),
    ];
    for (const chat of [loud, muted, archived]) {
      await sendMessages(bob, chat.id, 2);
      assert.equal((await bob.post(`/v1/chats/${chat.id}/messages`, { text: 'hi @cs-dave' })).status, 201);
    }
    await dave.patch(settingsOf(muted.id), { muted: true });
    await dave.patch(settingsOf(archived.id), { archived: true });
    const unread = await dave.get('/v1/unread');
    assert.equal(unread.status, 200);
    assert.equal(unread.body.total, 3, 'only the loud chat counts');
    assert.equal(unread.body.mentionTotal, 3, 'mentions count in every chat');
    const byId = new Map(unread.body.chats.map((c) => [c.chatId, c]));
    assert.deepEqual(
      [loud, muted, archived].map((c) => {
        const row = byId.get(c.id)!;
        return [row.unreadCount, row.mentionCount, row.muted, row.archived, row.hidden];
      }),
      [
        [3, 1, false, false, false],
        [3, 1, true, false, false],
        [3, 1, false, true, false],
      ],
    );
  });

  it('keeps each change whole under parallel requests', async () => {
    const chat = await createGroup(alice, [bob]);
    const answers = await Promise.all([
      bob.patch(settingsOf(chat.id), { muted: true }),
      bob.patch(settingsOf(chat.id), { archived: true }),
      bob.patch(settingsOf(chat.id), { hidden: true }),
    ]);
    assert.ok(answers.every((a) => a.status === 200));
    assert.deepEqual((await bob.get(settingsOf(chat.id))).body, {
      muted: true,
      mutedUntil: null,
      archived: true,
      hidden: true,
    });
  });

  it('tells the caller’s own streams, every device, and nobody else; a muted chat still tells mentions', async () => {
    const chat = await createGroup(alice, [bob]);
    const [phone, laptop, other] = await Promise.all([
      StreamClient.connect(base, bob.token),
      StreamClient.connect(base, bob.token),
      StreamClient.connect(base, alice.token),
    ]);
    try {
      const res = await bob.patch(settingsOf(chat.id), { muted: true });
      for (const ws of [phone, laptop]) {
        const [event] = await ws.waitFor('settings.updated', (f) => f.chatId === chat.id);
        assert.deepEqual(event, { type: 'settings.updated', chatId: chat.id, settings: res.body });
      }
      const sent = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'ping @cs-bob' });
      const [mention] = await phone.waitFor('mention.created', (f) => f.message.seq === sent.body.seq);
      assert.equal(mention!.chatId, chat.id);
      await other.quietFor(200);
      assert.equal(other.of('settings.updated').length, 0);
    } finally {
      for (const ws of [phone, laptop, other]) {
        ws.socket.close();
      }
    }
  });

  it('speaks JSON:API: settings as the chat’s attribute, list filters, the unread meta', async () => {
    const erin = await t.login('cs-erin');
    const chat = await createGroup(erin, [bob]);
    await sendMessages(bob, chat.id, 1, 'hi @cs-erin');
    const changed = assertOne(
      await erin.patch(
        settingsOf(chat.id),
        { data: { type: 'chats', id: chat.id, attributes: { settings: { archived: true } } } },
        SEND,
      ),
      200,
    );
    assert.deepEqual(changed.data.attributes?.settings, {
      muted: false,
      mutedUntil: null,
      archived: true,
      hidden: false,
    });
    assert.equal(assertOne(await erin.get(settingsOf(chat.id), ACCEPT), 200).data.id, chat.id);
    assert.deepEqual(
      assertMany(await erin.get('/v1/chats', ACCEPT), 200).data.map((r) => r.id),
      [],
    );
    assert.deepEqual(
      assertMany(await erin.get('/v1/chats?filter[archived]=true', ACCEPT), 200).data.map((r) => r.id),
      [chat.id],
    );
    const unread = assertMany(await erin.get('/v1/unread', ACCEPT), 200);
    assert.deepEqual(unread.meta, { total: 0, mentionTotal: 1, threads: [] });
    assert.deepEqual(unread.data[0]?.meta, { mentionCount: 1, muted: false, archived: true, hidden: false });
  });
});
