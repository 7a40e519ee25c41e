import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatView, Page } from './support/api.ts';
import { createTestApp, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createDirect, createGroup, sendMessages } from './support/factories.ts';

async function membersOf(client: Client, chatId: string): Promise<Record<string, string>> {
  const res = await client.get(`/v1/chats/${chatId}/members?limit=200`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return Object.fromEntries(res.body.data.map((m) => [m.userId, m.role]));
}

async function chatIds(client: Client): Promise<string[]> {
  const res = await client.get('/v1/chats?limit=200');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data.map((c) => c.id);
}

describe('chats', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  describe('POST /v1/chats (group)', () => {
    it('creates a group: 201, creator owner, others members, exact memberCount, defaults', async () => {
      const alice = await t.login('create-alice');
      const bob = await t.login('create-bob');
      const carol = await t.login('create-carol');
      const res = await alice.post('/v1/chats', {
        kind: 'group',
        name: 'Create Basics',
        members: [bob.userId, carol.userId],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const chat = res.body;
      assert.equal(typeof chat.id, 'string');
      assert.ok(Number.isInteger(chat.number) && chat.number >= 1);
      assert.equal(chat.kind, 'group');
      assert.equal(chat.name, 'Create Basics');
      assert.equal(chat.topic, null);
      assert.equal(chat.visibility, 'private');
      assert.equal(chat.createdBy, alice.userId);
      assert.ok(!Number.isNaN(Date.parse(chat.createdAt)));
      assert.equal(chat.lastMessageAt, null);
      assert.equal(chat.messageCount, 0);
      assert.equal(chat.memberCount, 3);
      assert.equal(chat.lastMessage, null);
      assert.equal(chat.unreadCount, 0);
      assert.equal(chat.lastReadSeq, 0);
      assert.equal(chat.role, 'owner');

      assert.deepEqual(await membersOf(alice, chat.id), {
        [alice.userId]: 'owner',
        [bob.userId]: 'member',
        [carol.userId]: 'member',
      });
      const asBob = await bob.get(`/v1/chats/${chat.id}`);
      assert.equal(asBob.status, 200);
      assert.equal(asBob.body.role, 'member');
      assert.equal(asBob.body.memberCount, 3);
      // The creation answers with the chat exactly as reading it back shows it.
      assert.deepEqual(chat, (await alice.get(`/v1/chats/${chat.id}`)).body);
    });

    it('takes topic and visibility, and trims the name', async () => {
      const alice = await t.login('opts-alice');
      const res = await alice.post('/v1/chats', {
        kind: 'group',
        name: '  Options Group  ',
        topic: 'all about options',
        visibility: 'public',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.name, 'Options Group');
      assert.equal(res.body.topic, 'all about options');
      assert.equal(res.body.visibility, 'public');
      assert.equal(res.body.memberCount, 1);
    });

    it('ignores duplicates and the creator in members', async () => {
      const alice = await t.login('dup-alice');
      const bob = await t.login('dup-bob');
      const carol = await t.login('dup-carol');
      const res = await alice.post('/v1/chats', {
        kind: 'group',
        name: 'Dup Members',
        members: [bob.userId, alice.userId, bob.userId, carol.userId, carol.userId],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.memberCount, 3);
      assert.equal(res.body.role, 'owner');
      assert.deepEqual(await membersOf(alice, res.body.id), {
        [alice.userId]: 'owner',
        [bob.userId]: 'member',
        [carol.userId]: 'member',
      });
    });

    it('answers 400 naming members[i] for an unknown member, and creates nothing', async () => {
      const alice = await t.login('unknown-alice');
      const bob = await t.login('unknown-bob');
      const before = await chatIds(alice);
      const first = await alice.post('/v1/chats', {
        kind: 'group',
        name: 'Unknown Member',
        members: ['unknown-ghost'],
      });
      const error = assertError(first, 400, 'invalid_request', 'members[0]');
      assert.ok(error.message.includes('unknown-ghost'), error.message);

      // The index is the one in the request, even after duplicates and the creator.
      const later = await alice.post('/v1/chats', {
        kind: 'group',
        name: 'Unknown Member',
        members: [bob.userId, alice.userId, bob.userId, 'unknown-ghost'],
      });
      assertError(later, 400, 'invalid_request', 'members[3]');

      // A user of another tenant is unknown here.
      await t.login('unknown-elsewhere', { tenant: 'unknown-t2' });
      const elsewhere = await alice.post('/v1/chats', {
        kind: 'group',
        name: 'Unknown Member',
        members: ['unknown-elsewhere'],
      });
      assertError(elsewhere, 400, 'invalid_request', 'members[0]');
      assert.deepEqual(await chatIds(alice), before);
    });

    it('requires a non-blank name of at most 200 characters', async () => {
      const alice = await t.login('name-alice');
      assertError(await alice.post('/v1/chats', { kind: 'group' }), 400, 'invalid_request', 'name');
      assertError(await alice.post('/v1/chats', { kind: 'group', name: '' }), 400, 'invalid_request', 'name');
      assertError(
        await alice.post('/v1/chats', { kind: 'group', name: '   ' }),
        400,
        'invalid_request',
        'name',
      );
      assertError(
        await alice.post('/v1/chats', { kind: 'group', name: 'x'.repeat(201) }),
        400,
        'invalid_request',
        'name',
      );
      assertError(await alice.post('/v1/chats', { kind: 'group', name: 42 }), 400, 'invalid_request', 'name');
      const longest = await alice.post('/v1/chats', { kind: 'group', name: 'y'.repeat(200) });
      assert.equal(longest.status, 201, JSON.stringify(longest.body));
      assert.equal(longest.body.name, 'y'.repeat(200));
    });

    it('rejects unknown fields and unknown kinds', async () => {
      const alice = await t.login('fields-alice');
      assertError(
        await alice.post('/v1/chats', { kind: 'group', name: 'Extra Field', extra: true }),
        400,
        'invalid_request',
        { includes: 'extra: is not a known field' },
      );
      assertError(
        await alice.post('/v1/chats', { kind: 'channel', name: 'Bad Kind' }),
        400,
        'invalid_request',
        'kind',
      );
      assertError(await alice.post('/v1/chats', { name: 'No Kind' }), 400, 'invalid_request', 'kind');
      assertError(
        await alice.post('/v1/chats', { kind: 'group', name: 'Bad Visibility', visibility: 'secret' }),
        400,
        'invalid_request',
        'visibility',
      );
    });

    it('needs a token', async () => {
      const res = await t.request('POST', '/v1/chats', { kind: 'group', name: 'No Token' });
      assertError(res, 401, 'unauthorized');
    });
  });

  describe('POST /v1/chats (direct)', () => {
    it('creates 201 once, then answers 200 with the same chat from either side', async () => {
      const alice = await t.login('direct-alice');
      const bob = await t.login('direct-bob');
      const first = await alice.post('/v1/chats', { kind: 'direct', members: [bob.userId] });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.kind, 'direct');
      assert.equal(first.body.name, null);
      assert.equal(first.body.topic, null);
      assert.equal(first.body.memberCount, 2);
      assert.equal(first.body.role, 'member');
      assert.equal(first.body.createdBy, alice.userId);

      const again = await alice.post('/v1/chats', { kind: 'direct', members: [bob.userId] });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(first.body, again.body, 'the 201 and the 200 show the chat alike');
      assert.equal(again.body.id, first.body.id);
      assert.equal(again.body.number, first.body.number);

      const fromBob = await bob.post('/v1/chats', { kind: 'direct', members: [alice.userId] });
      assert.equal(fromBob.status, 200, JSON.stringify(fromBob.body));
      assert.equal(fromBob.body.id, first.body.id);
      assert.equal(fromBob.body.role, 'member');
      assert.equal(fromBob.body.memberCount, 2);

      assert.deepEqual(await membersOf(bob, first.body.id), {
        [alice.userId]: 'member',
        [bob.userId]: 'member',
      });
      assert.deepEqual(
        (await chatIds(bob)).filter((id) => id === first.body.id),
        [first.body.id],
      );
    });

    it('is a different chat for a different pair', async () => {
      const alice = await t.login('pair-alice');
      const bob = await t.login('pair-bob');
      const carol = await t.login('pair-carol');
      const ab = await createDirect(alice, bob);
      const ac = await createDirect(alice, carol);
      const bc = await createDirect(bob, carol);
      assert.equal(new Set([ab.id, ac.id, bc.id]).size, 3);
    });

    it('rejects self, several ids, none, group fields and unknown users with 400', async () => {
      const alice = await t.login('dbad-alice');
      const bob = await t.login('dbad-bob');
      const carol = await t.login('dbad-carol');
      assertError(
        await alice.post('/v1/chats', { kind: 'direct', members: [alice.userId] }),
        400,
        'invalid_request',
        'members',
      );
      assertError(
        await alice.post('/v1/chats', { kind: 'direct', members: [bob.userId, carol.userId] }),
        400,
        'invalid_request',
        'members',
      );
      assertError(
        await alice.post('/v1/chats', { kind: 'direct', members: [bob.userId, bob.userId] }),
        400,
        'invalid_request',
        'members',
      );
      assertError(
        await alice.post('/v1/chats', { kind: 'direct', members: [] }),
        400,
        'invalid_request',
        'members',
      );
      assertError(await alice.post('/v1/chats', { kind: 'direct' }), 400, 'invalid_request', 'members');
      assertError(
        await alice.post('/v1/chats', { kind: 'direct', members: [bob.userId], name: 'Direct Name' }),
        400,
        'invalid_request',
        'name',
      );
      assertError(
        await alice.post('/v1/chats', { kind: 'direct', members: [bob.userId], topic: 'a topic' }),
        400,
        'invalid_request',
        'topic',
      );
      assertError(
        await alice.post('/v1/chats', { kind: 'direct', members: [bob.userId], visibility: 'public' }),
        400,
        'invalid_request',
        'visibility',
      );
      const ghost = await alice.post('/v1/chats', { kind: 'direct', members: ['dbad-ghost'] });
      assert.ok(assertError(ghost, 400, 'invalid_request', 'members[0]').message.includes('dbad-ghost'));
      assert.deepEqual(await chatIds(alice), []);
    });

    it('opened by both sides at once yields exactly one chat, and no number is used up', async () => {
      const tenant = 'race-tenant';
      const alice = await t.login('race-alice', { tenant });
      const bob = await t.login('race-bob', { tenant });
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 === 0
            ? alice.post('/v1/chats', { kind: 'direct', members: [bob.userId] })
            : bob.post('/v1/chats', { kind: 'direct', members: [alice.userId] }),
        ),
      );
      for (const res of results) {
        assert.ok(res.status === 200 || res.status === 201, `${res.status} ${JSON.stringify(res.body)}`);
      }
      assert.equal(results.filter((r) => r.status === 201).length, 1);
      const ids = new Set(results.map((r) => r.body.id));
      assert.equal(ids.size, 1);
      const [id] = [...ids];
      assert.equal(results[0]!.body.number, 1);
      assert.deepEqual(await chatIds(alice), [id]);
      assert.deepEqual(await chatIds(bob), [id]);
      const members = await alice.get(`/v1/chats/${id}/members`);
      assert.equal(members.body.data.length, 2);
      const group = await createGroup(alice);
      assert.equal(group.number, 2);
    });
  });

  describe('group names', () => {
    it('are unique per tenant case-insensitively (409), and a refused create uses no number', async () => {
      const tenant = 'names-tenant';
      const alice = await t.login('names-alice', { tenant });
      const bob = await t.login('names-bob', { tenant });
      const first = await createGroup(alice, [], { name: 'Design' });
      const same = await bob.post('/v1/chats', { kind: 'group', name: 'Design' });
      assertError(same, 409, 'conflict', 'name');
      assertError(await bob.post('/v1/chats', { kind: 'group', name: 'dESIGN' }), 409, 'conflict', 'name');
      assertError(
        await alice.post('/v1/chats', { kind: 'group', name: '  design  ' }),
        409,
        'conflict',
        'name',
      );
      const next = await createGroup(bob, [], { name: 'Design 2' });
      assert.equal(next.number, first.number + 1);
      assert.deepEqual(await chatIds(bob), [next.id]);
    });

    it('may repeat in another tenant', async () => {
      const alice = await t.login('tenname-alice');
      const other = await t.login('tenname-alice', { tenant: 'tenname-t2' });
      const here = await createGroup(alice, [], { name: 'Shared Name' });
      const there = await other.post('/v1/chats', { kind: 'group', name: 'shared name' });
      assert.equal(there.status, 201, JSON.stringify(there.body));
      assert.notEqual(there.body.id, here.id);
      assert.equal(there.body.number, 1);
    });

    it('are free again once the group is deleted', async () => {
      const alice = await t.login('freed-alice');
      const bob = await t.login('freed-bob');
      const old = await createGroup(alice, [], { name: 'Phoenix' });
      assertError(await bob.post('/v1/chats', { kind: 'group', name: 'phoenix' }), 409, 'conflict', 'name');
      assert.equal((await alice.delete(`/v1/chats/${old.id}`)).status, 204);
      const reborn = await bob.post('/v1/chats', { kind: 'group', name: 'phoenix' });
      assert.equal(reborn.status, 201, JSON.stringify(reborn.body));
      assert.notEqual(reborn.body.id, old.id);
    });
  });

  describe('chat numbers', () => {
    it('count from 1 per tenant, independently, groups and directs alike', async () => {
      const a1 = await t.login('num-a1', { tenant: 'num-a' });
      const a2 = await t.login('num-a2', { tenant: 'num-a' });
      const b1 = await t.login('num-b1', { tenant: 'num-b' });
      assert.equal((await createGroup(a1)).number, 1);
      assert.equal((await createGroup(a2)).number, 2);
      assert.equal((await createGroup(b1)).number, 1);
      assert.equal((await createDirect(a1, a2)).number, 3);
      assert.equal((await createDirect(a2, a1)).number, 3);
      assert.equal((await createGroup(b1)).number, 2);
      assert.equal((await createGroup(a2)).number, 4);
    });
  });

  describe('GET /v1/chats', () => {
    it('orders by last activity and carries unreadCount and lastMessage', async () => {
      const alice = await t.login('order-alice');
      const bob = await t.login('order-bob');
      const a = await createGroup(alice, [bob], { name: 'Order A' });
      const b = await createGroup(alice, [bob], { name: 'Order B' });
      const c = await createGroup(alice, [], { name: 'Order C' });
      assert.deepEqual(await chatIds(alice), [c.id, b.id, a.id]);

      await sendMessages(bob, a.id, 2, 'from bob');
      let list = (await alice.get('/v1/chats')).body;
      assert.deepEqual(
        list.data.map((x) => x.id),
        [a.id, c.id, b.id],
      );
      assert.equal(list.nextCursor, null);
      const first = list.data[0];
      assert.ok(first?.lastMessage);
      assert.equal(first.unreadCount, 2);
      assert.equal(first.messageCount, 2);
      assert.equal(first.lastMessage.seq, 2);
      assert.equal(first.lastMessage.text, 'from bob 2');
      assert.equal(first.lastMessage.authorId, bob.userId);
      assert.equal(first.lastMessageAt, first.lastMessage.createdAt);
      for (const other of list.data.slice(1)) {
        assert.equal(other.unreadCount, 0);
        assert.equal(other.lastMessage, null);
      }
      // Bob's own messages are not unread for him.
      const bobsView = (await bob.get('/v1/chats')).body.data.find((x) => x.id === a.id);
      assert.equal(bobsView?.unreadCount, 0);

      // Activity in B moves it first.
      await sendMessages(alice, b.id, 1, 'from alice');
      assert.deepEqual(await chatIds(alice), [b.id, a.id, c.id]);

      // The last message is the latest one not deleted; deleting it also drops it from the unread count.
      assert.equal((await bob.delete(`/v1/chats/${a.id}/messages/2`)).status, 204);
      list = (await alice.get('/v1/chats')).body;
      const entry = list.data.find((x) => x.id === a.id);
      assert.ok(entry?.lastMessage);
      assert.equal(entry.lastMessage.seq, 1);
      assert.equal(entry.lastMessage.text, 'from bob 1');
      assert.equal(entry.unreadCount, 1);
      assert.equal(entry.messageCount, 1);
      assert.equal((await bob.delete(`/v1/chats/${a.id}/messages/1`)).status, 204);
      const emptied = (await alice.get('/v1/chats')).body.data.find((x) => x.id === a.id);
      assert.ok(emptied);
      assert.equal(emptied.lastMessage, null);
      assert.equal(emptied.unreadCount, 0);

      // Reading moves the cursor, and the list follows.
      await sendMessages(bob, b.id, 3, 'more');
      const read = await alice.post(`/v1/chats/${b.id}/read`, { seq: 2 });
      assert.equal(read.status, 200, JSON.stringify(read.body));
      const afterRead = (await alice.get('/v1/chats')).body.data.find((x) => x.id === b.id);
      assert.ok(afterRead);
      assert.equal(afterRead.lastReadSeq, 2);
      assert.equal(afterRead.unreadCount, 2);
      assert.equal(afterRead.lastMessage?.seq, 4);
    });

    it('lists only the caller’s chats in the caller’s tenant', async () => {
      const alice = await t.login('mine-alice');
      const bob = await t.login('mine-bob');
      const alice2 = await t.login('mine-alice', { tenant: 'mine-t2' });
      const shared = await createGroup(alice, [bob]);
      const bobs = await createGroup(bob);
      assert.deepEqual(await chatIds(alice), [shared.id]);
      assert.deepEqual(await chatIds(bob), [bobs.id, shared.id]);
      assert.deepEqual(await chatIds(alice2), []);
    });

    it('paginates with limit and cursor, visiting every chat once in order', async () => {
      const alice = await t.login('page-alice');
      const bob = await t.login('page-bob');
      const created: ChatView[] = [];
      for (let i = 0; i < 7; i++) {
        created.push(await createGroup(alice, [], { name: `Page ${i}` }));
      }
      created.push(await createDirect(bob, alice));
      // Activity reorders: the oldest group becomes the most recent.
      await sendMessages(alice, created[0]!.id, 1);
      const all = await chatIds(alice);
      assert.equal(all.length, 8);
      assert.equal(all[0], created[0]!.id);
      assert.equal(all[1], created[7]!.id);

      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/chats?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await alice.get<Page<ChatView>>(url);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        for (const chat of res.body.data) {
          assert.equal(typeof chat.unreadCount, 'number');
          assert.ok('lastMessage' in chat);
        }
        seen.push(...res.body.data.map((c) => c.id));
        sizes.push(res.body.data.length);
        cursor = res.body.nextCursor;
        pages++;
        assert.ok(pages <= 10, 'pagination does not end');
      } while (cursor);
      assert.deepEqual(sizes, [3, 3, 2]);
      assert.deepEqual(seen, all);

      const exact = await alice.get('/v1/chats?limit=8');
      assert.equal(exact.body.data.length, 8);
      assert.equal(exact.body.nextCursor, null);
    });

    it('rejects a bad limit or cursor with 400', async () => {
      const alice = await t.login('badpage-alice');
      assertError(await alice.get('/v1/chats?limit=0'), 400, 'invalid_request', 'limit');
      assertError(await alice.get('/v1/chats?limit=201'), 400, 'invalid_request', 'limit');
      assertError(await alice.get('/v1/chats?cursor=not-a-cursor'), 400, 'invalid_request', 'cursor');
    });
  });

  describe('GET /v1/chats/{id}', () => {
    it('answers members, and 404 alike for non-members, missing chats and other tenants', async () => {
      const alice = await t.login('get-alice');
      const bob = await t.login('get-bob');
      const eve = await t.login('get-eve');
      const aliceElsewhere = await t.login('get-alice', { tenant: 'get-t2' });
      const chat = await createGroup(alice, [bob], { name: 'Get Chat', visibility: 'public' });

      const ok = await bob.get(`/v1/chats/${chat.id}`);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.id, chat.id);
      assert.equal(ok.body.name, 'Get Chat');
      assert.equal(ok.body.role, 'member');
      assert.equal(ok.body.memberCount, 2);
      assert.equal(ok.body.lastMessage, null);

      const missingId = '01900000-0000-7000-8000-000000000000';
      const nonMember = await eve.get(`/v1/chats/${chat.id}`);
      const missing = await alice.get(`/v1/chats/${missingId}`);
      const otherTenant = await aliceElsewhere.get(`/v1/chats/${chat.id}`);
      const [hidden, absent] = [nonMember, missing, otherTenant].map((res) =>
        assertError(res, 404, 'not_found'),
      );
      // Nothing tells a hidden chat apart from a missing one.
      assert.equal(hidden?.message.replace(chat.id, 'ID'), absent?.message.replace(missingId, 'ID'));
      assert.deepEqual(nonMember.body, otherTenant.body);
    });
  });

  describe('PATCH /v1/chats/{id}', () => {
    it('lets the owner and admins change name, topic and visibility', async () => {
      const owner = await t.login('patch-owner');
      const admin = await t.login('patch-admin');
      const chat = await createGroup(owner, [admin], { name: 'Patch Old', topic: 'old topic' });
      const promote = await owner.patch(`/v1/chats/${chat.id}/members/${admin.userId}`, { role: 'admin' });
      assert.equal(promote.status, 200, JSON.stringify(promote.body));

      const renamed = await owner.patch(`/v1/chats/${chat.id}`, { name: '  Patch New  ' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.name, 'Patch New');
      assert.equal(renamed.body.topic, 'old topic');
      assert.equal(renamed.body.role, 'owner');

      const byAdmin = await admin.patch(`/v1/chats/${chat.id}`, { topic: 'new topic', visibility: 'public' });
      assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
      assert.equal(byAdmin.body.topic, 'new topic');
      assert.equal(byAdmin.body.visibility, 'public');
      assert.equal(byAdmin.body.name, 'Patch New');
      assert.equal(byAdmin.body.role, 'admin');

      const cleared = await owner.patch(`/v1/chats/${chat.id}`, { topic: null });
      assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
      assert.equal(cleared.body.topic, null);

      const read = await owner.get(`/v1/chats/${chat.id}`);
      assert.equal(read.body.name, 'Patch New');
      assert.equal(read.body.topic, null);
      assert.equal(read.body.visibility, 'public');
      assert.equal(read.body.memberCount, 2);

      // Renaming releases the old name and may change the case of its own.
      const reused = await admin.post('/v1/chats', { kind: 'group', name: 'patch old' });
      assert.equal(reused.status, 201, JSON.stringify(reused.body));
      const recased = await owner.patch(`/v1/chats/${chat.id}`, { name: 'PATCH NEW' });
      assert.equal(recased.status, 200, JSON.stringify(recased.body));
      assert.equal(recased.body.name, 'PATCH NEW');
    });

    it('refuses plain members (403), direct chats (400) and non-members (404)', async () => {
      const owner = await t.login('patchno-owner');
      const member = await t.login('patchno-member');
      const outsider = await t.login('patchno-outsider');
      const chat = await createGroup(owner, [member], { name: 'Patch Refusals' });
      assertError(await member.patch(`/v1/chats/${chat.id}`, { name: 'Hijacked' }), 403, 'forbidden');
      assertError(await member.patch(`/v1/chats/${chat.id}`, { topic: null }), 403, 'forbidden');
      assertError(await outsider.patch(`/v1/chats/${chat.id}`, { name: 'Hijacked' }), 404, 'not_found');
      assert.equal((await owner.get(`/v1/chats/${chat.id}`)).body.name, 'Patch Refusals');

      const direct = await createDirect(owner, member);
      assertError(
        await owner.patch(`/v1/chats/${direct.id}`, { name: 'Direct Name' }),
        400,
        'invalid_request',
      );
      assertError(await member.patch(`/v1/chats/${direct.id}`, { topic: 'x' }), 400, 'invalid_request');
      assert.equal((await owner.get(`/v1/chats/${direct.id}`)).body.name, null);
    });

    it('validates the body: empty, blank, too long, unknown fields → 400; a taken name → 409', async () => {
      const owner = await t.login('patchval-owner');
      const chat = await createGroup(owner, [], { name: 'Patch Valid' });
      await createGroup(owner, [], { name: 'Patch Taken' });
      assertError(await owner.patch(`/v1/chats/${chat.id}`, {}), 400, 'invalid_request');
      assertError(await owner.patch(`/v1/chats/${chat.id}`, { name: '   ' }), 400, 'invalid_request', 'name');
      assertError(
        await owner.patch(`/v1/chats/${chat.id}`, { name: 'z'.repeat(201) }),
        400,
        'invalid_request',
        'name',
      );
      assertError(await owner.patch(`/v1/chats/${chat.id}`, { name: null }), 400, 'invalid_request', 'name');
      assertError(
        await owner.patch(`/v1/chats/${chat.id}`, { visibility: 'hidden' }),
        400,
        'invalid_request',
        'visibility',
      );
      assertError(await owner.patch(`/v1/chats/${chat.id}`, { kind: 'direct' }), 400, 'invalid_request', {
        includes: 'kind: is not a known field',
      });
      assertError(
        await owner.patch(`/v1/chats/${chat.id}`, { name: 'patch TAKEN' }),
        409,
        'conflict',
        'name',
      );
      assert.equal((await owner.get(`/v1/chats/${chat.id}`)).body.name, 'Patch Valid');
    });
  });

  describe('DELETE /v1/chats/{id}', () => {
    it('lets the owner delete (204); the chat is then 404 for everyone', async () => {
      const owner = await t.login('del-owner');
      const member = await t.login('del-member');
      const chat = await createGroup(owner, [member], { name: 'Delete Me' });
      await sendMessages(member, chat.id, 2);
      const res = await owner.delete(`/v1/chats/${chat.id}`);
      assert.equal(res.status, 204);
      assert.equal(res.body, null);
      for (const who of [owner, member]) {
        assertError(await who.get(`/v1/chats/${chat.id}`), 404, 'not_found');
        assertError(await who.get(`/v1/chats/${chat.id}/messages`), 404, 'not_found');
        assertError(await who.get(`/v1/chats/${chat.id}/members`), 404, 'not_found');
        assert.ok(!(await chatIds(who)).includes(chat.id));
      }
      assertError(await member.post(`/v1/chats/${chat.id}/messages`, { text: 'hello?' }), 404, 'not_found');
      assertError(await owner.delete(`/v1/chats/${chat.id}`), 404, 'not_found');
      assertError(await owner.patch(`/v1/chats/${chat.id}`, { topic: 'x' }), 404, 'not_found');
      const unread = await member.get('/v1/unread');
      assert.ok(!unread.body.chats.some((c) => c.chatId === chat.id));
    });

    it('refuses admins and members (403), direct chats (403) and non-members (404)', async () => {
      const owner = await t.login('delno-owner');
      const admin = await t.login('delno-admin');
      const member = await t.login('delno-member');
      const outsider = await t.login('delno-outsider');
      const chat = await createGroup(owner, [admin, member], { name: 'Delete Refusals' });
      assert.equal(
        (await owner.patch(`/v1/chats/${chat.id}/members/${admin.userId}`, { role: 'admin' })).status,
        200,
      );
      assertError(await admin.delete(`/v1/chats/${chat.id}`), 403, 'forbidden');
      assertError(await member.delete(`/v1/chats/${chat.id}`), 403, 'forbidden');
      assertError(await outsider.delete(`/v1/chats/${chat.id}`), 404, 'not_found');
      const still = await member.get(`/v1/chats/${chat.id}`);
      assert.equal(still.status, 200);
      assert.equal(still.body.memberCount, 3);

      const direct = await createDirect(owner, member);
      assertError(await owner.delete(`/v1/chats/${direct.id}`), 403, 'forbidden');
      assertError(await member.delete(`/v1/chats/${direct.id}`), 403, 'forbidden');
      assert.equal((await member.get(`/v1/chats/${direct.id}`)).status, 200);
    });
  });
});
