import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MemberView, Page } from './support/api.ts';
import { createTestApp, type Client, type Response, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createDirect, createGroup } from './support/factories.ts';

/** userId → role, as `client` sees the member list. */
async function rolesOf(client: Client, chatId: string): Promise<Record<string, string>> {
  const res = await client.get(`/v1/chats/${chatId}/members?limit=200`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.nextCursor, null);
  return Object.fromEntries(res.body.data.map((m) => [m.userId, m.role]));
}

/** The chat's memberCount as `client` sees it, checked against the member list. */
async function memberCount(client: Client, chatId: string): Promise<number> {
  const chat = await client.get(`/v1/chats/${chatId}`);
  assert.equal(chat.status, 200, JSON.stringify(chat.body));
  const listed = Object.keys(await rolesOf(client, chatId)).length;
  assert.equal(chat.body.memberCount, listed, 'memberCount matches the member list');
  const inList = (await client.get('/v1/chats?limit=200')).body.data.find((c) => c.id === chatId);
  assert.equal(inList?.memberCount, listed, 'memberCount in GET /v1/chats matches the member list');
  return chat.body.memberCount;
}

async function add(by: Client, chatId: string, userId: string, role?: string): Promise<Response<MemberView>> {
  return by.post(`/v1/chats/${chatId}/members`, role === undefined ? { userId } : { userId, role });
}

async function setRole(
  by: Client,
  chatId: string,
  userId: string,
  role: string,
): Promise<Response<MemberView>> {
  return by.patch(`/v1/chats/${chatId}/members/${userId}`, { role });
}

async function remove(by: Client, chatId: string, userId: string): Promise<Response> {
  return by.delete(`/v1/chats/${chatId}/members/${userId}`);
}

describe('members', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  describe('GET /v1/chats/{id}/members', () => {
    it('lists members ordered by userId, for members only', async () => {
      const owner = await t.login('list-c-owner');
      const bob = await t.login('list-b-member');
      const ann = await t.login('list-a-member');
      const outsider = await t.login('list-outsider');
      const chat = await createGroup(owner, [bob, ann], { visibility: 'public' });
      const res = await bob.get(`/v1/chats/${chat.id}/members`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.nextCursor, null);
      assert.deepEqual(
        res.body.data.map((m) => [m.userId, m.role]),
        [
          [ann.userId, 'member'],
          [bob.userId, 'member'],
          [owner.userId, 'owner'],
        ],
      );
      for (const m of res.body.data) {
        assert.equal(m.chatId, chat.id);
        assert.equal(m.lastReadSeq, 0);
        assert.ok(!Number.isNaN(Date.parse(m.joinedAt)));
        assert.deepEqual(Object.keys(m).sort(), ['chatId', 'joinedAt', 'lastReadSeq', 'role', 'userId']);
      }
      // Not even a public group shows its members to a non-member.
      assertError(await outsider.get(`/v1/chats/${chat.id}/members`), 404, 'not_found');
      const elsewhere = await t.login('list-c-owner', { tenant: 'list-t2' });
      assertError(await elsewhere.get(`/v1/chats/${chat.id}/members`), 404, 'not_found');
      assertError(await owner.get('/v1/chats/no-such-chat/members'), 404, 'not_found');
    });

    it('paginates with limit and cursor, visiting every member once', async () => {
      const owner = await t.login('page-owner');
      const others: Client[] = [];
      for (const name of ['page-e', 'page-a', 'page-d', 'page-b', 'page-c', 'page-f']) {
        others.push(await t.login(name));
      }
      const chat = await createGroup(owner, others);
      const expected = [owner, ...others].map((c) => c.userId).sort();
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/chats/${chat.id}/members?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await others[0]!.get<Page<MemberView>>(url);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        seen.push(...res.body.data.map((m) => m.userId));
        sizes.push(res.body.data.length);
        cursor = res.body.nextCursor;
        pages++;
        assert.ok(pages <= 10, 'pagination does not end');
      } while (cursor);
      assert.deepEqual(seen, expected);
      assert.deepEqual(sizes, [3, 3, 1]);
      assertError(await owner.get(`/v1/chats/${chat.id}/members?limit=0`), 400, 'invalid_request', 'limit');
      assertError(
        await owner.get(`/v1/chats/${chat.id}/members?cursor=%%%`),
        400,
        'invalid_request',
        'cursor',
      );
    });
  });

  describe('POST /v1/chats/{id}/members', () => {
    it('lets the owner add with any role, counting each one', async () => {
      const owner = await t.login('addown-owner');
      const m = await t.login('addown-m');
      const a = await t.login('addown-a');
      const o = await t.login('addown-o');
      const chat = await createGroup(owner);
      assert.equal(chat.memberCount, 1);

      const plain = await add(owner, chat.id, m.userId);
      assert.equal(plain.status, 201, JSON.stringify(plain.body));
      assert.equal(plain.body.chatId, chat.id);
      assert.equal(plain.body.userId, m.userId);
      assert.equal(plain.body.role, 'member');
      assert.equal(plain.body.lastReadSeq, 0);
      assert.ok(!Number.isNaN(Date.parse(plain.body.joinedAt)));

      const admin = await add(owner, chat.id, a.userId, 'admin');
      assert.equal(admin.status, 201, JSON.stringify(admin.body));
      assert.equal(admin.body.role, 'admin');
      const second = await add(owner, chat.id, o.userId, 'owner');
      assert.equal(second.status, 201, JSON.stringify(second.body));
      assert.equal(second.body.role, 'owner');

      assert.deepEqual(await rolesOf(m, chat.id), {
        [owner.userId]: 'owner',
        [m.userId]: 'member',
        [a.userId]: 'admin',
        [o.userId]: 'owner',
      });
      assert.equal(await memberCount(owner, chat.id), 4);
      // The added user now sees the chat with their role.
      const seen = await a.get(`/v1/chats/${chat.id}`);
      assert.equal(seen.status, 200);
      assert.equal(seen.body.role, 'admin');
    });

    it('lets an admin add plain members only, and refuses plain members', async () => {
      const owner = await t.login('addadm-owner');
      const admin = await t.login('addadm-admin');
      const member = await t.login('addadm-member');
      const x = await t.login('addadm-x');
      const y = await t.login('addadm-y');
      const chat = await createGroup(owner, [member]);
      assert.equal((await add(owner, chat.id, admin.userId, 'admin')).status, 201);

      assertError(await add(admin, chat.id, x.userId, 'admin'), 403, 'forbidden');
      assertError(await add(admin, chat.id, x.userId, 'owner'), 403, 'forbidden');
      assertError(await add(member, chat.id, x.userId), 403, 'forbidden');
      assertError(await add(member, chat.id, x.userId, 'member'), 403, 'forbidden');
      assert.equal(await memberCount(owner, chat.id), 3);

      const byAdmin = await add(admin, chat.id, x.userId, 'member');
      assert.equal(byAdmin.status, 201, JSON.stringify(byAdmin.body));
      assert.equal(byAdmin.body.role, 'member');
      const implicit = await add(admin, chat.id, y.userId);
      assert.equal(implicit.status, 201, JSON.stringify(implicit.body));
      assert.equal(implicit.body.role, 'member');
      assert.equal(await memberCount(owner, chat.id), 5);
    });

    it('answers 400 for an unknown user, 409 for a member, 403 in a direct chat', async () => {
      const owner = await t.login('addbad-owner');
      const member = await t.login('addbad-member');
      const other = await t.login('addbad-other');
      await t.login('addbad-foreign', { tenant: 'addbad-t2' });
      const chat = await createGroup(owner, [member]);

      const ghost = await add(owner, chat.id, 'addbad-ghost');
      assert.ok(assertError(ghost, 400, 'invalid_request', 'userId').message.includes('addbad-ghost'));
      assertError(await add(owner, chat.id, 'addbad-foreign'), 400, 'invalid_request', 'userId');
      assertError(await add(owner, chat.id, member.userId), 409, 'conflict', 'userId');
      assertError(await add(owner, chat.id, member.userId, 'admin'), 409, 'conflict');
      assertError(await add(owner, chat.id, owner.userId), 409, 'conflict');
      assertError(await add(member, chat.id, member.userId), 409, 'conflict');
      assertError(await add(owner, chat.id, ''), 400, 'invalid_request', 'userId');
      assertError(await add(owner, chat.id, other.userId, 'king'), 400, 'invalid_request', 'role');
      assertError(
        await owner.post(`/v1/chats/${chat.id}/members`, { userId: other.userId, extra: 1 }),
        400,
        'invalid_request',
        { includes: 'extra: is not a known field' },
      );
      assertError(await owner.post(`/v1/chats/${chat.id}/members`, {}), 400, 'invalid_request', 'userId');
      assert.deepEqual(await rolesOf(owner, chat.id), { [owner.userId]: 'owner', [member.userId]: 'member' });
      assert.equal(await memberCount(owner, chat.id), 2);

      const direct = await createDirect(owner, member);
      assertError(await add(owner, direct.id, other.userId), 403, 'forbidden');
      assertError(await add(member, direct.id, other.userId), 403, 'forbidden');
      assertError(await add(other, direct.id, other.userId), 404, 'not_found');
      assert.equal(await memberCount(owner, direct.id), 2);
    });

    it('lets anyone join a public group as a member; private groups stay hidden', async () => {
      const owner = await t.login('join-owner');
      const joiner = await t.login('join-joiner');
      const greedy = await t.login('join-greedy');
      const friend = await t.login('join-friend');
      const pub = await createGroup(owner, [], { visibility: 'public' });
      const priv = await createGroup(owner, [], { visibility: 'private' });

      assertError(await add(greedy, pub.id, greedy.userId, 'admin'), 403, 'forbidden', 'role');
      assertError(await add(greedy, pub.id, greedy.userId, 'owner'), 403, 'forbidden');
      assertError(await greedy.get(`/v1/chats/${pub.id}`), 404, 'not_found');

      const joined = await add(joiner, pub.id, joiner.userId);
      assert.equal(joined.status, 201, JSON.stringify(joined.body));
      assert.equal(joined.body.role, 'member');
      assert.equal(joined.body.userId, joiner.userId);
      const asMember = await add(greedy, pub.id, greedy.userId, 'member');
      assert.equal(asMember.status, 201, JSON.stringify(asMember.body));
      const view = await joiner.get(`/v1/chats/${pub.id}`);
      assert.equal(view.status, 200);
      assert.equal(view.body.role, 'member');
      assert.equal(await memberCount(owner, pub.id), 3);
      assertError(await add(joiner, pub.id, joiner.userId), 409, 'conflict');

      // A non-member can only add themselves, and only to a public group.
      assertError(await add(friend, pub.id, joiner.userId), 404, 'not_found');
      const outsider = await t.login('join-outsider');
      assertError(await add(outsider, pub.id, friend.userId), 404, 'not_found');
      assertError(await add(joiner, priv.id, joiner.userId), 404, 'not_found');
      assertError(await joiner.get(`/v1/chats/${priv.id}`), 404, 'not_found');
      assert.equal(await memberCount(owner, priv.id), 1);

      // A public group of another tenant is not there at all.
      const stranger = await t.login('join-stranger', { tenant: 'join-t2' });
      assertError(await add(stranger, pub.id, stranger.userId), 404, 'not_found');
      assert.equal(await memberCount(owner, pub.id), 3);
    });

    it('keeps memberCount exact when many join a public group at once', async () => {
      const owner = await t.login('rush-owner');
      const chat = await createGroup(owner, [], { visibility: 'public' });
      const joiners = await Promise.all(Array.from({ length: 10 }, (_, i) => t.login(`rush-${i}`)));
      const results = await Promise.all(
        joiners.flatMap((j) => [add(j, chat.id, j.userId), add(j, chat.id, j.userId)]),
      );
      assert.equal(results.filter((r) => r.status === 201).length, 10);
      for (const r of results.filter((x) => x.status !== 201)) {
        assertError(r, 409, 'conflict');
      }
      assert.equal(await memberCount(owner, chat.id), 11);
    });
  });

  describe('PATCH /v1/chats/{id}/members/{userId}', () => {
    it('lets only the owner change roles', async () => {
      const owner = await t.login('role-owner');
      const admin = await t.login('role-admin');
      const member = await t.login('role-member');
      const outsider = await t.login('role-outsider');
      const chat = await createGroup(owner, [admin, member]);

      const promoted = await setRole(owner, chat.id, admin.userId, 'admin');
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.equal(promoted.body.role, 'admin');
      assert.equal(promoted.body.userId, admin.userId);
      assert.equal(promoted.body.chatId, chat.id);

      assertError(await setRole(admin, chat.id, member.userId, 'admin'), 403, 'forbidden');
      assertError(await setRole(admin, chat.id, admin.userId, 'owner'), 403, 'forbidden');
      assertError(await setRole(member, chat.id, member.userId, 'admin'), 403, 'forbidden');
      assertError(await setRole(outsider, chat.id, member.userId, 'admin'), 404, 'not_found');
      assertError(await setRole(owner, chat.id, outsider.userId, 'admin'), 404, 'not_found');
      assertError(await setRole(owner, chat.id, 'role-ghost', 'admin'), 404, 'not_found');
      assertError(await setRole(owner, chat.id, member.userId, 'boss'), 400, 'invalid_request', 'role');
      assertError(
        await owner.patch(`/v1/chats/${chat.id}/members/${member.userId}`, {}),
        400,
        'invalid_request',
      );

      const demoted = await setRole(owner, chat.id, admin.userId, 'member');
      assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
      assert.equal(demoted.body.role, 'member');
      assert.deepEqual(await rolesOf(member, chat.id), {
        [owner.userId]: 'owner',
        [admin.userId]: 'member',
        [member.userId]: 'member',
      });
      assert.equal(await memberCount(owner, chat.id), 3);
    });

    it('refuses to demote the only owner (409), but allows it with two owners', async () => {
      const owner = await t.login('demote-owner');
      const second = await t.login('demote-second');
      const chat = await createGroup(owner, [second]);
      assertError(await setRole(owner, chat.id, owner.userId, 'admin'), 409, 'conflict');
      assertError(await setRole(owner, chat.id, owner.userId, 'member'), 409, 'conflict');
      const same = await setRole(owner, chat.id, owner.userId, 'owner');
      assert.equal(same.status, 200, JSON.stringify(same.body));
      assert.equal(same.body.role, 'owner');

      assert.equal((await setRole(owner, chat.id, second.userId, 'owner')).status, 200);
      const stepDown = await setRole(owner, chat.id, owner.userId, 'admin');
      assert.equal(stepDown.status, 200, JSON.stringify(stepDown.body));
      assert.equal(stepDown.body.role, 'admin');
      assert.deepEqual(await rolesOf(owner, chat.id), { [owner.userId]: 'admin', [second.userId]: 'owner' });
      // The former owner is an admin now: no longer allowed to change roles.
      assertError(await setRole(owner, chat.id, second.userId, 'member'), 403, 'forbidden');
      assertError(await setRole(second, chat.id, second.userId, 'member'), 409, 'conflict');
    });

    it('is 403 in a direct chat', async () => {
      const a = await t.login('rdirect-a');
      const b = await t.login('rdirect-b');
      const direct = await createDirect(a, b);
      assertError(await setRole(a, direct.id, b.userId, 'admin'), 403, 'forbidden');
      assertError(await setRole(a, direct.id, a.userId, 'owner'), 403, 'forbidden');
      assert.deepEqual(await rolesOf(b, direct.id), { [a.userId]: 'member', [b.userId]: 'member' });
    });
  });

  describe('DELETE /v1/chats/{id}/members/{userId}', () => {
    it('lets a member leave (204); the chat is then 404 for them', async () => {
      const owner = await t.login('leave-owner');
      const member = await t.login('leave-member');
      const stay = await t.login('leave-stay');
      const chat = await createGroup(owner, [member, stay]);
      const res = await remove(member, chat.id, member.userId);
      assert.equal(res.status, 204);
      assert.equal(res.body, null);
      assertError(await member.get(`/v1/chats/${chat.id}`), 404, 'not_found');
      assertError(await member.get(`/v1/chats/${chat.id}/members`), 404, 'not_found');
      assertError(
        await member.post(`/v1/chats/${chat.id}/messages`, { text: 'still here?' }),
        404,
        'not_found',
      );
      assertError(await remove(member, chat.id, member.userId), 404, 'not_found');
      assert.ok(!(await member.get('/v1/chats')).body.data.some((c) => c.id === chat.id));
      assert.deepEqual(await rolesOf(owner, chat.id), { [owner.userId]: 'owner', [stay.userId]: 'member' });
      assert.equal(await memberCount(stay, chat.id), 2);
    });

    it('lets owners and admins remove members, admins only plain ones', async () => {
      const owner = await t.login('rm-owner');
      const admin = await t.login('rm-admin');
      const admin2 = await t.login('rm-admin2');
      const m1 = await t.login('rm-m1');
      const m2 = await t.login('rm-m2');
      const chat = await createGroup(owner, [m1, m2]);
      assert.equal((await add(owner, chat.id, admin.userId, 'admin')).status, 201);
      assert.equal((await add(owner, chat.id, admin2.userId, 'admin')).status, 201);
      assert.equal(await memberCount(owner, chat.id), 5);

      assertError(await remove(m1, chat.id, m2.userId), 403, 'forbidden');
      assertError(await remove(m1, chat.id, admin.userId), 403, 'forbidden');
      assertError(await remove(admin, chat.id, admin2.userId), 403, 'forbidden');
      assertError(await remove(admin, chat.id, owner.userId), 403, 'forbidden');
      assertError(await remove(owner, chat.id, 'rm-ghost'), 404, 'not_found');
      const outsider = await t.login('rm-outsider');
      assertError(await remove(owner, chat.id, outsider.userId), 404, 'not_found');
      assertError(await remove(outsider, chat.id, m1.userId), 404, 'not_found');
      // A plain member may remove nobody: asking about a non-member does not reveal whether they are one.
      assertError(await remove(m1, chat.id, outsider.userId), 403, 'forbidden');
      assert.equal(await memberCount(owner, chat.id), 5);

      assert.equal((await remove(admin, chat.id, m1.userId)).status, 204);
      assertError(await m1.get(`/v1/chats/${chat.id}`), 404, 'not_found');
      assert.equal(await memberCount(owner, chat.id), 4);
      assert.equal((await remove(owner, chat.id, admin2.userId)).status, 204);
      assert.equal((await remove(owner, chat.id, m2.userId)).status, 204);
      assert.deepEqual(await rolesOf(admin, chat.id), { [owner.userId]: 'owner', [admin.userId]: 'admin' });
      assert.equal(await memberCount(admin, chat.id), 2);
      // A removed user can come back when added again.
      assert.equal((await add(admin, chat.id, m1.userId)).status, 201);
      assert.equal(await memberCount(m1, chat.id), 3);
    });

    it('is 403 in a direct chat, leaving included', async () => {
      const a = await t.login('ldirect-a');
      const b = await t.login('ldirect-b');
      const direct = await createDirect(a, b);
      assertError(await remove(a, direct.id, a.userId), 403, 'forbidden');
      assertError(await remove(a, direct.id, b.userId), 403, 'forbidden');
      assert.equal(await memberCount(b, direct.id), 2);
    });

    it('hands ownership to the longest-standing admin, else the longest-standing member', async () => {
      const owner = await t.login('hand-owner');
      // Joined in this order; user ids sort the other way round so that only join time can explain the outcome.
      const member = await t.login('hand-z-member');
      const olderAdmin = await t.login('hand-y-admin');
      const newerAdmin = await t.login('hand-x-admin');
      const lateMember = await t.login('hand-a-member');
      const chat = await createGroup(owner);
      assert.equal((await add(owner, chat.id, member.userId)).status, 201);
      assert.equal((await add(owner, chat.id, olderAdmin.userId, 'admin')).status, 201);
      assert.equal((await add(owner, chat.id, newerAdmin.userId, 'admin')).status, 201);
      assert.equal((await add(owner, chat.id, lateMember.userId)).status, 201);
      assert.equal(await memberCount(owner, chat.id), 5);

      assert.equal((await remove(owner, chat.id, owner.userId)).status, 204);
      assert.deepEqual(await rolesOf(member, chat.id), {
        [member.userId]: 'member',
        [olderAdmin.userId]: 'owner',
        [newerAdmin.userId]: 'admin',
        [lateMember.userId]: 'member',
      });
      assert.equal(await memberCount(member, chat.id), 4);
      assert.equal((await olderAdmin.get(`/v1/chats/${chat.id}`)).body.role, 'owner');

      assert.equal((await remove(olderAdmin, chat.id, olderAdmin.userId)).status, 204);
      assert.deepEqual(await rolesOf(member, chat.id), {
        [member.userId]: 'member',
        [newerAdmin.userId]: 'owner',
        [lateMember.userId]: 'member',
      });

      assert.equal((await remove(newerAdmin, chat.id, newerAdmin.userId)).status, 204);
      assert.deepEqual(await rolesOf(member, chat.id), {
        [member.userId]: 'owner',
        [lateMember.userId]: 'member',
      });
      assert.equal(await memberCount(lateMember, chat.id), 2);
      // The new owner has an owner's powers.
      const renamed = await member.patch(`/v1/chats/${chat.id}`, { topic: 'inherited' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    });

    it('hands nothing on while another owner remains, and not when an admin or member leaves', async () => {
      const owner = await t.login('keep-owner');
      const coOwner = await t.login('keep-coowner');
      const admin = await t.login('keep-admin');
      const member = await t.login('keep-member');
      const chat = await createGroup(owner, [member]);
      assert.equal((await add(owner, chat.id, admin.userId, 'admin')).status, 201);
      assert.equal((await add(owner, chat.id, coOwner.userId, 'owner')).status, 201);

      assert.equal((await remove(owner, chat.id, owner.userId)).status, 204);
      assert.deepEqual(await rolesOf(member, chat.id), {
        [coOwner.userId]: 'owner',
        [admin.userId]: 'admin',
        [member.userId]: 'member',
      });
      assert.equal((await remove(admin, chat.id, admin.userId)).status, 204);
      assert.equal((await remove(member, chat.id, member.userId)).status, 204);
      assert.deepEqual(await rolesOf(coOwner, chat.id), { [coOwner.userId]: 'owner' });
      assert.equal(await memberCount(coOwner, chat.id), 1);
    });

    it('hands ownership to a member when there is no admin', async () => {
      const owner = await t.login('mhand-owner');
      const first = await t.login('mhand-z');
      const second = await t.login('mhand-a');
      const chat = await createGroup(owner);
      assert.equal((await add(owner, chat.id, first.userId)).status, 201);
      assert.equal((await add(owner, chat.id, second.userId)).status, 201);
      assert.equal((await remove(owner, chat.id, owner.userId)).status, 204);
      assert.deepEqual(await rolesOf(second, chat.id), {
        [first.userId]: 'owner',
        [second.userId]: 'member',
      });
      assert.equal(await memberCount(second, chat.id), 2);
    });

    it('deletes the chat when the last member leaves, freeing its name', async () => {
      const owner = await t.login('last-owner');
      const member = await t.login('last-member');
      const chat = await createGroup(owner, [member], { name: 'Last One Out', visibility: 'public' });
      assertError(await member.post('/v1/chats', { kind: 'group', name: 'last one out' }), 409, 'conflict');

      assert.equal((await remove(member, chat.id, member.userId)).status, 204);
      assert.equal(await memberCount(owner, chat.id), 1);
      assert.equal((await remove(owner, chat.id, owner.userId)).status, 204);

      assertError(await owner.get(`/v1/chats/${chat.id}`), 404, 'not_found');
      // Gone, not just empty: even a public group cannot be joined again.
      assertError(await add(member, chat.id, member.userId), 404, 'not_found');
      assert.ok(!(await owner.get('/v1/chats')).body.data.some((c) => c.id === chat.id));
      const again = await member.post('/v1/chats', { kind: 'group', name: 'last one out' });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.notEqual(again.body.id, chat.id);
    });
  });
});
