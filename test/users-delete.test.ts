import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import type { MessageView, Page, UserView } from './support/api.ts';
import { assertError } from './support/assertions.ts';
import { createDirect, createGroup, sendMessages } from './support/factories.ts';
import { StreamClient } from './support/ws.ts';

describe(`user deletion (${ENGINE})`, () => {
  let t: TestApp;
  let base: string;
  const open: StreamClient[] = [];

  before(async () => {
    t = await createTestApp({ PARLEY_RESUME_GRACE_MS: '0' });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await Promise.all(open.map((s) => s.close()));
    await t.close();
  });

  const db = () => t.app.parley.ctx.db;

  /** Every membership row of a user, in any chat (live or deleted): what must be gone after the deletion. */
  async function membershipRows(userId: string): Promise<number> {
    const rows = await db().selectFrom('members').select('chat_id').where('user_id', '=', userId).execute();
    return rows.length;
  }

  /** A tenant of its own (so directories show only the test's users) and its administrator. */
  async function tenant(name: string): Promise<{ admin: Client; user: (sub: string) => Promise<Client> }> {
    const admin = await t.login(`${name}-admin`, { tenant: name, admin: true });
    return { admin, user: (sub) => t.login(`${name}-${sub}`, { tenant: name, username: `${name}-${sub}` }) };
  }

  async function connect(client: Client): Promise<StreamClient> {
    const stream = await StreamClient.connect(base, client.token);
    open.push(stream);
    return stream;
  }

  async function history(client: Client, chatId: string): Promise<MessageView[]> {
    const res = await client.get(`/v1/chats/${chatId}/messages?after=0&limit=200`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data;
  }

  describe('who may delete', () => {
    it('DELETE /v1/me: 204, then the token (and any other for that sub) is refused with 401', async () => {
      const { admin, user } = await tenant('self');
      const me = await user('me');
      const res = await me.delete('/v1/me');
      assert.equal(res.status, 204);
      assert.equal(res.body, null);
      assertError(await me.get('/v1/me'), 401, 'unauthorized', /has been deleted/);
      assertError(await me.post('/v1/chats', { kind: 'group', name: 'x' }), 401, 'unauthorized');
      const fresh = await t.as(me.userId, { tenant: 'self', username: 'self-me' });
      assertError(await fresh.get('/v1/me'), 401, 'unauthorized', /has been deleted/);
      // Not re-provisioned: the id stays the tombstone's, and cannot be created again either.
      assertError(await admin.post('/v1/users', { id: me.userId, username: 'again' }), 409, 'conflict', 'id');
    });

    it('a tenant administrator deletes any user of the tenant: 204; gone or unknown: 404', async () => {
      const { admin, user } = await tenant('adm');
      const target = await user('target');
      assert.equal((await admin.delete(`/v1/users/${target.userId}`)).status, 204);
      assertError(await admin.delete(`/v1/users/${target.userId}`), 404, 'not_found');
      assertError(await admin.delete('/v1/users/nobody-at-all'), 404, 'not_found');
      assertError(await target.get('/v1/me'), 401, 'unauthorized');
    });

    it('anyone else is refused: 403 for a user of the tenant, 404 across tenants; nothing changes', async () => {
      const { user } = await tenant('ref');
      const plain = await user('plain');
      const target = await user('target');
      assertError(await plain.delete(`/v1/users/${target.userId}`), 403, 'forbidden');
      const other = await tenant('ref-other');
      assertError(await other.admin.delete(`/v1/users/${target.userId}`), 404, 'not_found');
      const still = await plain.get(`/v1/users/${target.userId}`);
      assert.equal(still.status, 200);
      assert.equal(still.body.deletedAt, null);
      assert.equal((await target.get('/v1/me')).status, 200);
    });

    it('a plain user may delete themself through /v1/users/{own id}', async () => {
      const { user } = await tenant('own');
      const me = await user('me');
      assert.equal((await me.delete(`/v1/users/${me.userId}`)).status, 204);
      assertError(await me.get('/v1/me'), 401, 'unauthorized');
    });
  });

  describe('what remains', () => {
    it('the view: id kept, placeholder names, personal fields erased; out of the directory, username free', async () => {
      const { admin, user } = await tenant('view');
      const gone = await user('gone');
      await gone.patch('/v1/me', { displayName: 'Real Name', statusText: 'at home', status: 'busy' });
      const watcher = await user('watcher');
      assert.equal((await gone.delete('/v1/me')).status, 204);
      const shown = await watcher.get(`/v1/users/${gone.userId}`);
      assert.equal(shown.status, 200);
      const { createdAt, deletedAt, ...rest } = shown.body;
      assert.deepEqual(rest, {
        id: gone.userId,
        username: 'deleted-user',
        displayName: 'Deleted user',
        status: 'offline',
        statusText: null,
      });
      assert.ok(deletedAt !== null && Date.parse(deletedAt) >= Date.parse(createdAt));
      const stored = await db()
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', 'view')
        .where('id', '=', gone.userId)
        .executeTakeFirstOrThrow();
      assert.equal(stored.display_name, null);
      assert.equal(stored.status_text, null);
      // The old username is free; the stored one is outside the username alphabet, so no real user can hold it.
      assert.equal(stored.username, `#deleted:${gone.userId}`);
      const directory = await watcher.get<Page<UserView>>('/v1/users?limit=200');
      assert.ok(!directory.body.data.some((u) => u.id === gone.userId));
      assert.equal((await watcher.get('/v1/users?username=view-gone')).body.data.length, 0);
      const reused = await admin.post('/v1/users', { username: 'view-gone' });
      assert.equal(reused.status, 201, JSON.stringify(reused.body));
      // A deleted user cannot be added to chats or given a direct chat.
      assertError(
        await watcher.post('/v1/chats', { kind: 'group', name: 'with-ghost', members: [gone.userId] }),
        400,
        'invalid_request',
        'members[0]',
      );
      assertError(
        await watcher.post('/v1/chats', { kind: 'direct', members: [gone.userId] }),
        400,
        'invalid_request',
      );
    });

    it('messages stay with their author id and text; seqs stay gapless; unread counts stay exact', async () => {
      const { user } = await tenant('msgs');
      const owner = await user('owner');
      const gone = await user('gone');
      const reader = await user('reader');
      const chat = await createGroup(owner, [gone, reader]);
      await sendMessages(owner, chat.id, 1, 'owner');
      await sendMessages(gone, chat.id, 2, 'gone');
      await owner.post(`/v1/chats/${chat.id}/read`, { seq: 3 });
      assert.equal((await reader.get(`/v1/chats/${chat.id}`)).body.unreadCount, 3);
      assert.equal((await gone.delete('/v1/me')).status, 204);

      const after = await history(reader, chat.id);
      assert.deepEqual(
        after.map((m) => [m.seq, m.authorId, m.text]),
        [
          [1, owner.userId, 'owner 1'],
          [2, gone.userId, 'gone 1'],
          [3, gone.userId, 'gone 2'],
        ],
      );
      assert.equal((await reader.get(`/v1/chats/${chat.id}`)).body.unreadCount, 3);
      assert.equal((await owner.get(`/v1/chats/${chat.id}`)).body.unreadCount, 0);
      const next = await owner.post(`/v1/chats/${chat.id}/messages`, { text: 'after' });
      assert.equal(next.body.seq, 4);
      assert.equal((await reader.get('/v1/unread')).body.total, 4);
      const members = await owner.get(`/v1/chats/${chat.id}/members`);
      assert.deepEqual(members.body.data.map((m) => m.userId).sort(), [owner.userId, reader.userId].sort());
      assert.equal((await owner.get(`/v1/chats/${chat.id}`)).body.memberCount, 2);
      assert.equal(await membershipRows(gone.userId), 0);
    });

    it('the last owner of a group: the longest-standing admin, else member, becomes owner; an empty group goes', async () => {
      const { user } = await tenant('own2');
      const owner = await user('owner');
      const first = await user('first');
      const second = await user('second');
      const admin = await user('admin');
      const byMembers = await createGroup(owner, [first, second]);
      const byAdmin = await createGroup(owner, [first, admin]);
      assert.equal(
        (await owner.patch(`/v1/chats/${byAdmin.id}/members/${admin.userId}`, { role: 'admin' })).status,
        200,
      );
      const alone = await createGroup(owner);
      assert.equal((await owner.delete('/v1/me')).status, 204);

      const roles = async (chatId: string, as: Client) =>
        Object.fromEntries(
          (await as.get(`/v1/chats/${chatId}/members`)).body.data.map((m) => [m.userId, m.role]),
        );
      // first and second joined in one statement: the tie goes to the lower id, as on a leave.
      const successor = [first.userId, second.userId].sort()[0]!;
      assert.equal((await roles(byMembers.id, first))[successor], 'owner');
      assert.deepEqual(await roles(byAdmin.id, first), { [first.userId]: 'member', [admin.userId]: 'owner' });
      const emptied = await db()
        .selectFrom('chats')
        .select(['deleted_at', 'member_count'])
        .where('id', '=', alone.id)
        .executeTakeFirstOrThrow();
      assert.notEqual(emptied.deleted_at, null);
      assert.equal(emptied.member_count, 0);
    });

    it('a direct chat stays readable by the other party, with its history, and takes no new message', async () => {
      const { user } = await tenant('dm');
      const stays = await user('stays');
      const gone = await user('gone');
      const chat = await createDirect(stays, gone);
      await sendMessages(gone, chat.id, 1, 'from gone');
      await sendMessages(stays, chat.id, 1, 'from stays');
      assert.equal((await gone.delete('/v1/me')).status, 204);
      const read = await stays.get(`/v1/chats/${chat.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.memberCount, 1);
      assert.deepEqual(
        (await history(stays, chat.id)).map((m) => m.text),
        ['from gone 1', 'from stays 1'],
      );
      assert.equal(
        (await stays.get('/v1/chats')).body.data.some((c) => c.id === chat.id),
        true,
      );
      assert.equal(await membershipRows(gone.userId), 0);
      assertError(
        await stays.post(`/v1/chats/${chat.id}/messages`, { text: 'anyone there?' }),
        403,
        'forbidden',
        /deleted/,
      );
      assert.equal((await history(stays, chat.id)).length, 2);
      // A group with one member left still takes messages.
      const other = await user('other');
      const group = await createGroup(stays, [other]);
      assert.equal((await other.delete('/v1/me')).status, 204);
      assert.equal((await stays.post(`/v1/chats/${group.id}/messages`, { text: 'alone' })).status, 201);
    });
  });

  describe('the stream', () => {
    it('each chat hears member.removed, the tenant user.deleted; the user’s streams close with 4001', async () => {
      const { admin, user } = await tenant('strm');
      const stays = await user('stays');
      const gone = await user('gone');
      const bystander = await user('bystander');
      const chat = await createGroup(stays, [gone]);
      const watching = await connect(stays);
      const elsewhere = await connect(bystander);
      const own = await connect(gone);
      const ownSecond = await connect(gone);
      await watching.waitFor('presence', (f) => f.userId === gone.userId && f.status === 'online');

      assert.equal((await admin.delete(`/v1/users/${gone.userId}`)).status, 204);
      const [removed] = await watching.waitFor('member.removed', (f) => f.userId === gone.userId);
      assert.equal(removed!.chatId, chat.id);
      await watching.waitFor('user.deleted', (f) => f.userId === gone.userId);
      await elsewhere.waitFor('user.deleted', (f) => f.userId === gone.userId);
      assert.equal(elsewhere.of('member.removed').length, 0);
      assert.equal(await own.waitForClose(), 4001);
      assert.equal(await ownSecond.waitForClose(), 4001);
      await assert.rejects(StreamClient.connect(base, gone.token), /HTTP 401/);
      const presence = await sql<{ n: number }>`
        select count(*)::int as n from presence where user_id = ${gone.userId}`.execute(db());
      assert.equal(presence.rows[0]!.n, 0);
      // Messages of the chat still reach the members who stayed.
      await sendMessages(stays, chat.id, 1, 'still live');
      await watching.waitFor(
        'message.created',
        (f) => f.chatId === chat.id && f.message.text === 'still live 1',
      );
    });
  });

  describe('races', () => {
    it('sends from the user racing their deletion: every stored message was acknowledged, seqs gapless, none after', async () => {
      const { admin, user } = await tenant('race');
      const stays = await user('stays');
      const gone = await user('gone');
      const chat = await createGroup(stays, [gone]);
      const sends = Array.from({ length: 30 }, (_, i) =>
        gone.post(`/v1/chats/${chat.id}/messages`, { text: `race ${i}` }),
      );
      const others = Array.from({ length: 10 }, (_, i) =>
        stays.post(`/v1/chats/${chat.id}/messages`, { text: `other ${i}` }),
      );
      const deletion = admin.delete(`/v1/users/${gone.userId}`);
      const answers = await Promise.all(sends);
      assert.equal((await deletion).status, 204);
      for (const other of await Promise.all(others)) {
        assert.equal(other.status, 201, JSON.stringify(other.body));
      }
      const accepted = answers.filter((a) => a.status === 201);
      for (const refused of answers.filter((a) => a.status !== 201)) {
        assert.ok(refused.status === 401 || refused.status === 404, JSON.stringify(refused.body));
      }
      const stored = await history(stays, chat.id);
      assert.deepEqual(
        stored.map((m) => m.seq),
        stored.map((_, i) => i + 1),
      );
      assert.deepEqual(
        stored
          .filter((m) => m.authorId === gone.userId)
          .map((m) => m.text)
          .sort(),
        accepted.map((a) => (a.body as MessageView).text).sort(),
      );
      assertError(await gone.post(`/v1/chats/${chat.id}/messages`, { text: 'late' }), 401, 'unauthorized');
      assert.equal(await membershipRows(gone.userId), 0);
      assert.equal((await stays.get(`/v1/chats/${chat.id}`)).body.unreadCount, accepted.length);
    });

    it('sends into a direct chat racing the other member’s deletion: gapless, and none accepted after it', async () => {
      const { admin, user } = await tenant('dmrace');
      const stays = await user('stays');
      const gone = await user('gone');
      const chat = await createDirect(stays, gone);
      const sends = Array.from({ length: 20 }, (_, i) =>
        stays.post(`/v1/chats/${chat.id}/messages`, { text: `to gone ${i}` }),
      );
      const theirs = Array.from({ length: 10 }, (_, i) =>
        gone.post(`/v1/chats/${chat.id}/messages`, { text: `from gone ${i}` }),
      );
      const deletion = admin.delete(`/v1/users/${gone.userId}`);
      const answers = await Promise.all([...sends, ...theirs]);
      assert.equal((await deletion).status, 204);
      for (const answer of answers) {
        assert.ok([201, 401, 403, 404].includes(answer.status), JSON.stringify(answer.body));
      }
      const accepted = answers.filter((a) => a.status === 201).map((a) => (a.body as MessageView).text);
      const stored = await history(stays, chat.id);
      assert.deepEqual(
        stored.map((m) => m.seq),
        stored.map((_, i) => i + 1),
      );
      assert.deepEqual(stored.map((m) => m.text).sort(), accepted.sort());
      assertError(await stays.post(`/v1/chats/${chat.id}/messages`, { text: 'late' }), 403, 'forbidden');
    });

    it('memberships added while the user is deleted: none survives the deletion', async () => {
      const { admin, user } = await tenant('join');
      const owner = await user('owner');
      const gone = await user('gone');
      const groups = await Promise.all(Array.from({ length: 8 }, () => createGroup(owner)));
      const publicGroups = await Promise.all(
        Array.from({ length: 4 }, () => createGroup(owner, [], { visibility: 'public' })),
      );
      const adds = groups.map((g) => owner.post(`/v1/chats/${g.id}/members`, { userId: gone.userId }));
      const joins = publicGroups.map((g) => gone.post(`/v1/chats/${g.id}/members`, { userId: gone.userId }));
      const creations = Array.from({ length: 4 }, (_, i) =>
        owner.post('/v1/chats', { kind: 'group', name: `join-new-${i}`, members: [gone.userId] }),
      );
      const deletion = admin.delete(`/v1/users/${gone.userId}`);
      const answers = await Promise.all([...adds, ...joins, ...creations]);
      assert.equal((await deletion).status, 204);
      for (const answer of answers) {
        assert.ok([200, 201, 400, 401, 404].includes(answer.status), JSON.stringify(answer.body));
      }
      assert.equal(await membershipRows(gone.userId), 0);
    });

    it('deletions of one user at once: exactly one 204, the others 404 (or 401 for the user themself)', async () => {
      const { admin, user } = await tenant('twice');
      const gone = await user('gone');
      const chat = await createGroup(admin, [gone]);
      const answers = await Promise.all([
        admin.delete(`/v1/users/${gone.userId}`),
        admin.delete(`/v1/users/${gone.userId}`),
        gone.delete('/v1/me'),
      ]);
      const statuses = answers.map((a) => a.status);
      assert.equal(statuses.filter((s) => s === 204).length, 1, JSON.stringify(statuses));
      assert.ok(statuses[0] === 204 || statuses[0] === 404, JSON.stringify(statuses));
      assert.ok(statuses[1] === 204 || statuses[1] === 404, JSON.stringify(statuses));
      assert.ok([204, 401, 404].includes(statuses[2]!), JSON.stringify(statuses));
      assert.equal((await admin.get(`/v1/chats/${chat.id}`)).body.memberCount, 1);
      const counted = await sql<{
        n: number;
      }>`select count(*)::int as n from members where chat_id = ${chat.id}`.execute(db());
      assert.equal(counted.rows[0]!.n, 1);
    });
  });
});
