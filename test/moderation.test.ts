import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createDirect, createGroup, sendMessages } from './support/factories.ts';
import { ACCEPT, assertMany, assertOne, send } from './support/jsonapi.ts';
import { StreamClient } from './support/ws.ts';

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

describe(`moderation (${ENGINE})`, () => {
  let t: TestApp;
  let owner: Client;
  let admin: Client;
  let bob: Client;
  let carol: Client;
  let boss: Client;

  before(async () => {
    t = await createTestApp();
    owner = await t.login('md-owner');
    admin = await t.login('md-admin');
    bob = await t.login('md-bob');
    carol = await t.login('md-carol');
    boss = await t.login('md-boss', { admin: true });
  });
  after(async () => {
    await t.close();
  });

  let listening: Promise<string> | undefined;
  const baseUrl = () => (listening ??= t.app.listen({ port: 0, host: '127.0.0.1' }));

  async function group(): Promise<string> {
    const chat = await createGroup(owner, [admin, bob, carol]);
    assert.equal(
      (await owner.patch(`/v1/chats/${chat.id}/members/${admin.userId}`, { role: 'admin' })).status,
      200,
    );
    return chat.id;
  }

  describe('mutes', () => {
    it('refuses a muted member’s sends (403, muted, until) until unmuted; others still send', async () => {
      const chatId = await group();
      const until = inAnHour();
      const muted = await admin.post(`/v1/chats/${chatId}/members/${bob.userId}/mute`, {
        until,
        reason: 'spam',
      });
      assert.equal(muted.status, 200, JSON.stringify(muted.body));
      assert.deepEqual({ ...muted.body, createdAt: undefined } as unknown, {
        chatId,
        userId: bob.userId,
        until,
        reason: 'spam',
        mutedBy: admin.userId,
        createdAt: undefined,
      });
      const refused = await bob.post(`/v1/chats/${chatId}/messages`, { text: 'hello?' });
      const error = assertError(refused, 403, 'forbidden', /muted in this chat until/);
      assert.deepEqual(error.details, [{ reason: 'muted', until }]);
      assert.equal((await carol.post(`/v1/chats/${chatId}/messages`, { text: 'fine' })).status, 201);
      assert.equal((await admin.delete(`/v1/chats/${chatId}/members/${bob.userId}/mute`)).status, 204);
      assert.equal((await bob.post(`/v1/chats/${chatId}/messages`, { text: 'back' })).status, 201);
    });

    it('a mute without an end lasts until unmuted; one whose time has passed no longer refuses', async () => {
      const chatId = await group();
      assert.equal((await owner.post(`/v1/chats/${chatId}/members/${bob.userId}/mute`, {})).status, 200);
      const refused = await bob.post(`/v1/chats/${chatId}/messages`, { text: 'x' });
      assert.deepEqual(assertError(refused, 403, 'forbidden').details, [{ reason: 'muted', until: null }]);
      const soon = new Date(Date.now() + 1200).toISOString();
      assert.equal(
        (await owner.post(`/v1/chats/${chatId}/members/${bob.userId}/mute`, { until: soon })).status,
        200,
      );
      assertError(await bob.post(`/v1/chats/${chatId}/messages`, { text: 'x' }), 403, 'forbidden');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal((await bob.post(`/v1/chats/${chatId}/messages`, { text: 'time is up' })).status, 201);
    });

    it('refuses a time in the past, oneself, non-members, admins muting admins, plain members and outsiders', async () => {
      const chatId = await group();
      const path = (who: Client) => `/v1/chats/${chatId}/members/${who.userId}/mute`;
      assertError(
        await owner.post(path(bob), { until: '2001-01-01T00:00:00Z' }),
        400,
        'invalid_request',
        'until',
      );
      assertError(await owner.post(path(owner), {}), 400, 'invalid_request', 'userId');
      assertError(await owner.post(`/v1/chats/${chatId}/members/md-nobody/mute`, {}), 404, 'not_found');
      assertError(await admin.post(path(owner), {}), 403, 'forbidden');
      assertError(await carol.post(path(bob), {}), 403, 'forbidden');
      const outsider = await t.login('md-outsider');
      assertError(await outsider.post(path(bob), {}), 404, 'not_found');
      const direct = await createDirect(owner, bob);
      assertError(
        await owner.post(`/v1/chats/${direct.id}/members/${bob.userId}/mute`, {}),
        403,
        'forbidden',
      );
    });

    it('a tenant administrator outside the chat may mute anyone in it, the owner too', async () => {
      const chatId = await group();
      assert.equal((await boss.post(`/v1/chats/${chatId}/members/${owner.userId}/mute`, {})).status, 200);
      assertError(await owner.post(`/v1/chats/${chatId}/messages`, { text: 'x' }), 403, 'forbidden');
    });

    it('a mute racing sends: every send after the mute commits is refused, none half-judged', async () => {
      const chatId = await group();
      const sends = Array.from({ length: 20 }, (_, i) =>
        bob.post(`/v1/chats/${chatId}/messages`, { text: `race ${i}` }),
      );
      const mute = admin.post(`/v1/chats/${chatId}/members/${bob.userId}/mute`, {});
      const answers = await Promise.all(sends);
      assert.equal((await mute).status, 200);
      for (const answer of answers) {
        assert.ok(answer.status === 201 || answer.status === 403, JSON.stringify(answer.body));
      }
      const written = answers.filter((a) => a.status === 201).length;
      const history = await owner.get(`/v1/chats/${chatId}/messages?limit=200`);
      assert.equal(history.body.data.length, written);
      assertError(await bob.post(`/v1/chats/${chatId}/messages`, { text: 'after' }), 403, 'forbidden');
    });
  });

  describe('bans', () => {
    it('removes the member, keeps them out (re-adding, joining) until unbanned', async () => {
      const chatId = await group();
      const banned = await admin.post(`/v1/chats/${chatId}/members/${bob.userId}/ban`, { reason: 'abuse' });
      assert.equal(banned.status, 200, JSON.stringify(banned.body));
      assert.equal(banned.body.reason, 'abuse');
      assertError(await bob.get(`/v1/chats/${chatId}`), 404, 'not_found');
      assertError(await owner.get(`/v1/chats/${chatId}/members/${bob.userId}`), 404, 'not_found');
      assertError(
        await owner.post(`/v1/chats/${chatId}/members`, { userId: bob.userId }),
        403,
        'forbidden',
        'userId',
      );
      const bans = await admin.get(`/v1/chats/${chatId}/bans`);
      assert.deepEqual(
        bans.body.data.map((b: { userId: string }) => b.userId),
        [bob.userId],
      );
      assert.equal((await owner.delete(`/v1/chats/${chatId}/members/${bob.userId}/ban`)).status, 204);
      assert.equal((await owner.post(`/v1/chats/${chatId}/members`, { userId: bob.userId })).status, 201);
    });

    it('a ban racing sends: each send is written before it or refused after it (404), never lost or half-done', async () => {
      const chatId = await group();
      const sends = Array.from({ length: 20 }, (_, i) =>
        bob.post(`/v1/chats/${chatId}/messages`, { text: `race ${i}`, clientId: `ban-race-${i}` }),
      );
      const ban = owner.post(`/v1/chats/${chatId}/members/${bob.userId}/ban`, {});
      const answers = await Promise.all(sends);
      assert.equal((await ban).status, 200);
      for (const answer of answers) {
        assert.ok(answer.status === 201 || answer.status === 404, JSON.stringify(answer.body));
      }
      const written = answers.filter((a) => a.status === 201).length;
      const history = await owner.get(`/v1/chats/${chatId}/messages?limit=200`);
      assert.equal(history.body.data.length, written);
      assert.equal((await owner.get(`/v1/chats/${chatId}`)).body.memberCount, 3);
    });

    it('a banned user cannot join a public group themselves; a ban ahead of time works too', async () => {
      const chat = await createGroup(owner, [], { visibility: 'public' });
      assert.equal((await owner.post(`/v1/chats/${chat.id}/members/${carol.userId}/ban`, {})).status, 200);
      assertError(
        await carol.post(`/v1/chats/${chat.id}/members`, { userId: carol.userId }),
        403,
        'forbidden',
      );
      assertError(await owner.post(`/v1/chats/${chat.id}/members/md-ghost/ban`, {}), 404, 'not_found');
    });

    it('tells the chat and the banned member, who hears no more of it', async () => {
      const chatId = await group();
      const base = await baseUrl();
      const watcher = await StreamClient.connect(base, carol.token);
      const victim = await StreamClient.connect(base, bob.token);
      try {
        assert.equal((await owner.post(`/v1/chats/${chatId}/members/${bob.userId}/ban`, {})).status, 200);
        await watcher.waitFor('member.banned', (f) => f.chatId === chatId && f.userId === bob.userId);
        await victim.waitFor('member.banned', (f) => f.chatId === chatId);
        await victim.waitFor('member.removed', (f) => f.chatId === chatId && f.userId === bob.userId);
        await sendMessages(owner, chatId, 1, 'after the ban');
        await watcher.waitFor('message.created', (f) => f.chatId === chatId);
        const heard = await victim.quietFor(200);
        assert.ok(!heard.some((f) => f.type === 'message.created'), JSON.stringify(heard));
      } finally {
        await watcher.close();
        await victim.close();
      }
    });
  });

  describe('blocks', () => {
    it('refuses the blocked user’s direct messages and new direct chats, without saying why; unblock lifts it', async () => {
      const dave = await t.login('md-dave');
      const erin = await t.login('md-erin');
      const frank = await t.login('md-frank');
      const direct = await createDirect(dave, erin);
      const put = await dave.put(`/v1/me/blocks/${erin.userId}`);
      assert.equal(put.status, 201);
      assert.equal(put.body.userId, erin.userId);
      assert.equal((await dave.put(`/v1/me/blocks/${erin.userId}`)).status, 200);
      assert.equal((await dave.put(`/v1/me/blocks/${frank.userId}`)).status, 201);
      const refused = assertError(
        await erin.post(`/v1/chats/${direct.id}/messages`, { text: 'hi' }),
        403,
        'forbidden',
      );
      assert.doesNotMatch(refused.message, /block/i);
      assert.equal(refused.details, undefined);
      // The blocker still may write; a group they share is as it was.
      assert.equal((await dave.post(`/v1/chats/${direct.id}/messages`, { text: 'bye' })).status, 201);
      const shared = await createGroup(dave, [erin]);
      assert.equal(
        (await erin.post(`/v1/chats/${shared.id}/messages`, { text: 'in the group' })).status,
        201,
      );
      const opened = await frank.post('/v1/chats', { kind: 'direct', members: [dave.userId] });
      assert.doesNotMatch(assertError(opened, 403, 'forbidden', 'members').message, /block/i);
      const list = await dave.get('/v1/me/blocks?limit=1');
      assert.equal(list.body.data.length, 1);
      assert.notEqual(list.body.nextCursor, null);
      const rest = await dave.get(`/v1/me/blocks?cursor=${list.body.nextCursor}`);
      assert.deepEqual(
        [...list.body.data, ...rest.body.data].map((b: { userId: string }) => b.userId).sort(),
        [erin.userId, frank.userId].sort(),
      );
      assert.equal((await dave.delete(`/v1/me/blocks/${erin.userId}`)).status, 204);
      assert.equal((await dave.delete(`/v1/me/blocks/${erin.userId}`)).status, 204);
      assert.equal((await erin.post(`/v1/chats/${direct.id}/messages`, { text: 'hi again' })).status, 201);
      assertError(await dave.put(`/v1/me/blocks/${dave.userId}`), 400, 'invalid_request', 'userId');
      assertError(await dave.put('/v1/me/blocks/md-nobody'), 404, 'not_found');
    });
  });

  describe('reports', () => {
    it('a member reports once; tenant admins list, resolve with an action; the log records it all', async () => {
      const chatId = await group();
      const [message] = await sendMessages(bob, chatId, 1, 'rude');
      const seq = message!.seq;
      const path = `/v1/chats/${chatId}/messages/${seq}/report` as const;
      const report = await carol.post(path, { reason: 'rude words' });
      assert.equal(report.status, 201, JSON.stringify(report.body));
      assert.equal(report.body.status, 'open');
      assert.equal(report.body.authorId, bob.userId);
      assert.equal(report.body.text, 'rude 1');
      assertError(await carol.post(path, { reason: 'again' }), 409, 'conflict');
      assertError(await bob.post(path, { reason: 'me' }), 400, 'invalid_request');
      assertError(await (await t.login('md-stranger')).post(path, { reason: 'x' }), 404, 'not_found');
      const second = await owner.post(path, { reason: 'also rude' });
      assert.equal(second.status, 201);

      assertError(await owner.get('/v1/reports'), 403, 'forbidden');
      const open = await boss.get(`/v1/reports?status=open&chatId=${chatId}`);
      assert.deepEqual(
        open.body.data.map((r: { id: string }) => r.id),
        [report.body.id, second.body.id],
      );
      assert.equal((await boss.get(`/v1/reports/${report.body.id}`)).body.reason, 'rude words');
      // The administrator, not in the chat, reads what was reported.
      assert.deepEqual(
        open.body.data.map((r: { text: string | null }) => r.text),
        ['rude 1', 'rude 1'],
      );

      const base = await baseUrl();
      const ws = await StreamClient.connect(base, carol.token);
      try {
        const resolved = await boss.post(`/v1/reports/${report.body.id}/resolve`, {
          action: 'delete_message',
          reason: 'not welcome here',
        });
        assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
        assert.equal(resolved.body.status, 'resolved');
        assert.equal(resolved.body.action, 'delete_message');
        assert.equal(resolved.body.resolvedBy, boss.userId);
        assert.equal(resolved.body.text, null, 'the message is deleted');
        await ws.waitFor(
          'report.resolved',
          (f) => f.reportId === report.body.id && f.action === 'delete_message',
        );
        await ws.waitFor('message.deleted', (f) => f.chatId === chatId && f.message.seq === seq);
      } finally {
        await ws.close();
      }
      assert.notEqual((await owner.get(`/v1/chats/${chatId}/messages/${seq}`)).body.deletedAt, null);
      // Every open report of the message went with it.
      assert.equal((await boss.get(`/v1/reports/${second.body.id}`)).body.status, 'resolved');
      assert.equal((await boss.get(`/v1/reports/${second.body.id}`)).body.text, null);
      assertError(
        await boss.post(`/v1/reports/${second.body.id}/resolve`, { action: 'dismiss' }),
        409,
        'conflict',
      );

      const log = await owner.get(`/v1/chats/${chatId}/moderation-log`);
      assert.deepEqual(
        log.body.data.map((e: { action: string; actorId: string }) => [e.action, e.actorId]),
        [
          ['delete_message', boss.userId],
          ['report', owner.userId],
          ['report', carol.userId],
        ],
      );
      assert.equal(log.body.data[0]!.reason, 'not welcome here');
      assert.equal(log.body.data[0]!.reportId, report.body.id);
      assertError(await bob.get(`/v1/chats/${chatId}/moderation-log`), 403, 'forbidden');
      const tenant = await boss.get(`/v1/moderation-log?chatId=${chatId}&limit=2`);
      assert.equal(tenant.body.data.length, 2);
      const next = await boss.get(`/v1/moderation-log?chatId=${chatId}&cursor=${tenant.body.nextCursor}`);
      assert.deepEqual(
        next.body.data.map((e: { action: string }) => e.action),
        ['report'],
      );
      assertError(await owner.get('/v1/moderation-log'), 403, 'forbidden');
    });

    it('mute_author and ban_author act on the author; two admins resolving at once: one wins, one gets 409', async () => {
      const chatId = await group();
      const [first, second] = await sendMessages(bob, chatId, 2, 'bad');
      const r1 = await carol.post(`/v1/chats/${chatId}/messages/${first!.seq}/report`, { reason: 'a' });
      const other = await t.login('md-boss2', { admin: true });
      const race = await Promise.all([
        boss.post(`/v1/reports/${r1.body.id}/resolve`, { action: 'mute_author', until: inAnHour() }),
        other.post(`/v1/reports/${r1.body.id}/resolve`, { action: 'dismiss' }),
      ]);
      assert.deepEqual(race.map((r) => r.status).sort(), [200, 409], JSON.stringify(race.map((r) => r.body)));
      const winner = race.find((r) => r.status === 200)!.body;
      if (winner.action === 'mute_author') {
        assertError(await bob.post(`/v1/chats/${chatId}/messages`, { text: 'x' }), 403, 'forbidden');
      }
      const r2 = await carol.post(`/v1/chats/${chatId}/messages/${second!.seq}/report`, { reason: 'b' });
      const banned = await boss.post(`/v1/reports/${r2.body.id}/resolve`, {
        action: 'ban_author',
        reason: 'enough',
      });
      assert.equal(banned.status, 200, JSON.stringify(banned.body));
      assertError(await bob.get(`/v1/chats/${chatId}`), 404, 'not_found');
      assertError(await owner.post(`/v1/chats/${chatId}/members`, { userId: bob.userId }), 403, 'forbidden');
      const log = await boss.get(`/v1/moderation-log?chatId=${chatId}`);
      assert.equal(log.body.data[0]!.action, 'ban');
      assert.equal(log.body.data[0]!.targetUserId, bob.userId);
      assert.equal(log.body.data[0]!.reportId, r2.body.id);
      assertError(
        await boss.post(`/v1/reports/${r2.body.id}/resolve`, { action: 'dismiss', until: inAnHour() }),
        400,
        'invalid_request',
        'until',
      );
      assertError(await boss.post('/v1/reports/nope/resolve', { action: 'dismiss' }), 404, 'not_found');
    });
  });

  describe('JSON:API', () => {
    it('mutes, bans, blocks, reports and log entries are resources of their own', async () => {
      const chatId = await group();
      const mute = assertOne(
        await send(t, owner, 'POST', `/v1/chats/${chatId}/members/${bob.userId}/mute`, 'create', {
          data: { type: 'mutes', attributes: { reason: 'calm down' } },
        }),
        200,
      );
      assert.equal(mute.data.type, 'mutes');
      assert.equal(mute.data.id, `${chatId}:${bob.userId}`);
      assert.equal(mute.data.attributes?.reason, 'calm down');
      const self = String(mute.data.links?.self).replace(/^https?:\/\/[^/]+/, '');
      assert.equal(assertOne(await owner.get(self, ACCEPT), 200).data.id, mute.data.id);

      const block = assertOne(await carol.put(`/v1/me/blocks/${bob.userId}`, undefined, ACCEPT), 201);
      assert.deepEqual([block.data.type, block.data.id], ['blocks', bob.userId]);
      assert.equal(assertMany(await carol.get('/v1/me/blocks', ACCEPT), 200).data.length, 1);

      const [message] = await sendMessages(owner, chatId, 1, 'reported');
      const report = assertOne(
        await send(t, carol, 'POST', `/v1/chats/${chatId}/messages/${message!.seq}/report`, 'create', {
          data: { type: 'reports', attributes: { reason: 'spam' } },
        }),
        201,
      );
      assert.equal(report.data.type, 'reports');
      const open = assertMany(
        await boss.get(`/v1/reports?filter[status]=open&filter[chatId]=${chatId}`, ACCEPT),
        200,
      );
      assert.deepEqual(
        open.data.map((r) => r.id),
        [report.data.id],
      );
      const resolved = assertOne(
        await send(t, boss, 'POST', `/v1/reports/${report.data.id}/resolve`, 'update', {
          data: { type: 'reports', id: report.data.id, attributes: { action: 'dismiss' } },
        }),
        200,
      );
      assert.equal(resolved.data.attributes?.status, 'resolved');
      const log = assertMany(await boss.get(`/v1/moderation-log?filter[chatId]=${chatId}`, ACCEPT), 200);
      assert.deepEqual(
        log.data.map((e) => [e.type, e.attributes?.action]),
        [
          ['logEntries', 'dismiss_report'],
          ['logEntries', 'report'],
          ['logEntries', 'mute'],
        ],
      );
      const entry = String(log.data[0]!.links?.self).replace(/^https?:\/\/[^/]+/, '');
      assert.equal(assertOne(await owner.get(entry, ACCEPT), 200).data.id, log.data[0]!.id);
      assertError(await bob.get(entry), 404, 'not_found');
    });
  });

  it('refuses a forged cursor with a 400, whatever time it claims', async () => {
    const chatId = await group();
    const forged = Buffer.from(JSON.stringify(["1'0x_", 'G'])).toString('base64url');
    for (const path of [
      `/v1/chats/${chatId}/bans?cursor=${forged}`,
      `/v1/chats/${chatId}/moderation-log?cursor=${forged}`,
      `/v1/moderation-log?cursor=${forged}`,
      `/v1/reports?cursor=${forged}`,
    ]) {
      assertError(await boss.get(path), 400, 'invalid_request');
    }
  });
});
