import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verify } from '../src/webhooks/webhook.signature.ts';
import { createTestApp, ENGINE, type Client, type TestApp, JSONAPI } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createGroup } from './support/factories.ts';
import { Receiver, type Received } from './support/receiver.ts';

/** Webhooks (docs/webhooks.md) against real HTTP receivers this test starts. */

const FAST = {
  PARLEY_WEBHOOK_POLL_MS: '20',
  PARLEY_WEBHOOK_RETRY_BASE_MS: '50',
  PARLEY_WEBHOOK_RETRY_MAX_MS: '200',
  PARLEY_WEBHOOK_TIMEOUT_MS: '3000',
  PARLEY_WEBHOOKS_PER_TENANT: '3',
};

interface Hook {
  id: string;
  secret: string;
}

describe(`webhooks (${ENGINE})`, () => {
  let t: TestApp;
  let boss: Client;
  let alice: Client;
  let bob: Client;
  const receivers: Receiver[] = [];

  before(async () => {
    t = await createTestApp(FAST);
    boss = await t.login('wh-boss', { admin: true });
    alice = await t.login('wh-alice');
    bob = await t.login('wh-bob');
  });
  after(async () => {
    await t.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function receiver(): Promise<{ receiver: Receiver; url: string }> {
    const r = new Receiver();
    receivers.push(r);
    return { receiver: r, url: await r.start() };
  }

  async function subscribe(url: string, body: Record<string, unknown> = {}, as = boss): Promise<Hook> {
    const res = await as.post('/v1/webhooks', { url, ...body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as Hook;
  }

  async function unsubscribe(hook: Hook, as = boss): Promise<void> {
    assert.equal((await as.delete(`/v1/webhooks/${hook.id}`)).status, 204);
  }

  /** Until the subscription's log has nothing pending (the receiver answers before the worker records it). */
  async function settled(hook: Hook, as = boss): Promise<void> {
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      const pending = await as.get(`/v1/webhooks/${hook.id}/deliveries?status=pending`);
      if ((pending.body as { data: unknown[] }).data.length === 0) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('deliveries still pending');
  }

  const ofChat = (list: Received[], chatId: string) => list.filter((r) => r.body.data.chatId === chatId);

  describe('subscriptions', () => {
    it('are for tenant administrators; the secret is shown once; other tenants never see them', async () => {
      const refused = await alice.post('/v1/webhooks', { url: 'https://example.com/hook' });
      assertError(refused, 403, 'forbidden');
      assertError(await alice.get('/v1/webhooks'), 403, 'forbidden');

      const created = await boss.post('/v1/webhooks', {
        url: 'https://example.com/hook',
        eventTypes: ['message.created'],
        enabled: false,
        description: 'backend',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const hook = created.body as Hook & { secretHint: string; eventTypes: string[]; enabled: boolean };
      assert.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.equal(hook.secretHint, hook.secret.slice(-4));
      assert.deepEqual(hook.eventTypes, ['message.created']);
      assert.equal(hook.enabled, false);

      const got = await boss.get(`/v1/webhooks/${hook.id}`);
      assert.equal(got.status, 200);
      assert.equal((got.body as { secret?: string }).secret, undefined);
      const listed = await boss.get('/v1/webhooks');
      assert.equal(listed.status, 200);
      assert.ok(
        (listed.body as { data: { id: string; secret?: string }[] }).data.some((w) => w.id === hook.id),
      );
      assert.ok((listed.body as { data: { secret?: string }[] }).data.every((w) => w.secret === undefined));

      const stranger = await t.login('wh-other-boss', { admin: true, tenant: 'wh-other' });
      assertError(await stranger.get(`/v1/webhooks/${hook.id}`), 404, 'not_found');
      assertError(await stranger.patch(`/v1/webhooks/${hook.id}`, { enabled: true }), 404, 'not_found');
      assertError(await stranger.delete(`/v1/webhooks/${hook.id}`), 404, 'not_found');
      assert.deepEqual((await stranger.get('/v1/webhooks')).body, { data: [], nextCursor: null });

      const patched = await boss.patch(`/v1/webhooks/${hook.id}`, {
        secret: 'a-new-secret-of-enough-length',
        eventTypes: null,
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal((patched.body as { secret?: string }).secret, 'a-new-secret-of-enough-length');
      assert.equal((patched.body as { eventTypes: unknown }).eventTypes, null);
      await unsubscribe(hook);
      assertError(await boss.get(`/v1/webhooks/${hook.id}`), 404, 'not_found');
    });

    it('checks the URL, the event types and the limit per tenant', async () => {
      for (const url of [
        'ftp://example.com/x',
        'not a url',
        'http://example.com/hook',
        'https://u:p@example.com/',
      ]) {
        assertError(await boss.post('/v1/webhooks', { url }), 400, 'invalid_request');
      }
      assertError(
        await boss.post('/v1/webhooks', { url: 'https://example.com', eventTypes: ['nope'] }),
        400,
        'invalid_request',
      );
      assertError(
        await boss.post('/v1/webhooks', { url: 'https://example.com', secret: 'short' }),
        400,
        'invalid_request',
      );
      const tenant = await t.login('wh-limit-boss', { admin: true, tenant: 'wh-limit' });
      const hooks = [];
      for (let i = 0; i < 3; i++) {
        hooks.push(await subscribe('http://localhost:9/hook', {}, tenant));
      }
      const over = await tenant.post('/v1/webhooks', { url: 'https://example.com/hook' });
      assertError(over, 409, 'limit_exceeded');
      for (const hook of hooks) {
        await unsubscribe(hook, tenant);
      }
    });
  });

  describe('delivery', () => {
    it('delivers every event of a chat in order, signed, with the message and its recipients', async () => {
      const { receiver: r, url } = await receiver();
      const hook = await subscribe(url);
      const chat = await createGroup(alice, [bob]);
      const texts = Array.from({ length: 12 }, (_, i) => `hello ${i} @wh-bob`);
      const sends = await Promise.all(
        texts.map((text) => alice.post(`/v1/chats/${chat.id}/messages`, { text })),
      );
      for (const res of sends) {
        assert.equal(res.status, 201);
      }
      await r.until(
        () => ofChat(r.delivered, chat.id).filter((d) => d.body.type === 'message.created').length === 12,
      );
      const edited = await alice.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'edited' });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      await r.until(
        () => ofChat(r.delivered, chat.id).filter((d) => d.body.type === 'message.updated').length === 1,
      );
      await unsubscribe(hook);

      const events = ofChat(r.delivered, chat.id);
      const types = events.map((e) => e.body.type);
      assert.equal(types[0], 'chat.created');
      assert.deepEqual(types.slice(1, 3).sort(), ['member.added', 'member.added']);
      const created = events.filter((e) => e.body.type === 'message.created');
      assert.deepEqual(
        created.map((e) => (e.body.data.message as { seq: number }).seq),
        Array.from({ length: 12 }, (_, i) => i + 1),
      );
      assert.equal(types.at(-1), 'message.updated');
      const ids = events.map((e) => Number(e.body.id));
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );

      const first = created[0]!;
      assert.deepEqual(first.body.data.recipients, { offline: [bob.userId], mentioned: [bob.userId] });
      assert.equal(first.body.tenantId, 'default');
      for (const event of events) {
        const header = {
          signature: event.headers['parley-webhook-signature'] as string,
          timestamp: event.headers['parley-webhook-timestamp'] as string,
        };
        assert.ok(verify(hook.secret, header, event.raw), 'the signature verifies');
        assert.ok(!verify('another-secret-entirely', header, event.raw), 'not under another secret');
        assert.ok(!verify(hook.secret, header, event.raw.replace('}', ' }')), 'not for another body');
        assert.equal(event.headers['parley-webhook-id'], event.body.id);
      }
    });

    it('retries after the receiver fails, in order, and logs each delivery', async () => {
      const { receiver: r, url } = await receiver();
      let failures = 3;
      r.answer = () => (failures-- > 0 ? { status: 500 } : { status: 200 });
      const hook = await subscribe(url, { eventTypes: ['message.created'] });
      const chat = await createGroup(alice, [bob]);
      for (let i = 1; i <= 3; i++) {
        assert.equal((await alice.post(`/v1/chats/${chat.id}/messages`, { text: `m${i}` })).status, 201);
      }
      await r.until(() => ofChat(r.delivered, chat.id).length === 3);
      await settled(hook);
      // The first event was tried four times; nothing after it was sent before it went through.
      const seqs = ofChat(r.received, chat.id).map((e) => (e.body.data.message as { seq: number }).seq);
      assert.deepEqual(seqs, [1, 1, 1, 1, 2, 3]);
      assert.deepEqual(
        ofChat(r.received, chat.id).map((e) => e.body.attempt),
        [1, 2, 3, 4, 1, 1],
      );
      const log = await boss.get(`/v1/webhooks/${hook.id}/deliveries`);
      assert.equal(log.status, 200);
      const entries = (
        log.body as { data: { id: string; status: string; attempts: number; lastStatus: number }[] }
      ).data;
      assert.deepEqual(
        entries.map((e) => [e.status, e.attempts, e.lastStatus]),
        [
          ['delivered', 1, 200],
          ['delivered', 1, 200],
          ['delivered', 4, 200],
        ],
      );
      // Redelivered on request: a copy at the end of the queue.
      const again = await boss.post(`/v1/webhooks/${hook.id}/deliveries/${entries[2]!.id}/redeliver`);
      assert.equal(again.status, 202, JSON.stringify(again.body));
      await r.until(() => ofChat(r.delivered, chat.id).length === 4);
      await settled(hook);
      assert.equal(ofChat(r.delivered, chat.id)[3]!.body.type, 'message.created');
      assertError(
        await boss.post(`/v1/webhooks/${hook.id}/deliveries/999999999/redeliver`),
        404,
        'not_found',
      );
      await unsubscribe(hook);
    });

    it('dead-letters an event after the retry window, and the chat’s next events go on', async () => {
      const app = await createTestApp({ ...FAST, PARLEY_WEBHOOK_RETRY_WINDOW_MS: '300' });
      try {
        const admin = await app.login('wh-dl-boss', { admin: true });
        const author = await app.login('wh-dl-alice');
        const { receiver: r, url } = await receiver();
        let failing = true;
        r.answer = () => (failing ? { status: 503 } : { status: 200 });
        const hookRes = await admin.post('/v1/webhooks', { url, eventTypes: ['message.created'] });
        const hook = hookRes.body as Hook;
        const chat = await createGroup(author);
        await author.post(`/v1/chats/${chat.id}/messages`, { text: 'lost' });
        const deadline = Date.now() + 10_000;
        let dead: { status: string; lastStatus: number }[] = [];
        while (dead.length === 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          dead = (
            (await admin.get(`/v1/webhooks/${hook.id}/deliveries?status=dead`)).body as { data: typeof dead }
          ).data;
        }
        assert.equal(dead.length, 1);
        assert.equal(dead[0]!.lastStatus, 503);
        failing = false;
        await author.post(`/v1/chats/${chat.id}/messages`, { text: 'next' });
        await r.until(() => r.delivered.length === 1);
        assert.equal((r.delivered[0]!.body.data.message as { text: string }).text, 'next');
      } finally {
        await app.close();
      }
    });

    it('a slow receiver does not hold back another subscription', async () => {
      const slow = await receiver();
      const fast = await receiver();
      slow.receiver.answer = () => ({ status: 200, delayMs: 2500 });
      const slowHook = await subscribe(slow.url, { eventTypes: ['message.created'] });
      const fastHook = await subscribe(fast.url, { eventTypes: ['message.created'] });
      const chats = await Promise.all(Array.from({ length: 10 }, () => createGroup(alice)));
      const started = Date.now();
      await Promise.all(chats.map((chat) => alice.post(`/v1/chats/${chat.id}/messages`, { text: 'hi' })));
      await fast.receiver.until(() => fast.receiver.delivered.length === 10, 2000, 'the fast receiver');
      assert.ok(Date.now() - started < 2000);
      assert.ok(slow.receiver.delivered.length < 10, 'the slow one is still busy');
      await slow.receiver.until(() => slow.receiver.delivered.length === 10, 15_000, 'the slow receiver');
      await unsubscribe(slowHook);
      await unsubscribe(fastHook);
    });

    it('tells of members leaving and of reports, each with what it is about', async () => {
      const { receiver: r, url } = await receiver();
      const hook = await subscribe(url, { eventTypes: ['member.removed', 'report.created'] });
      const chat = await createGroup(alice, [bob]);
      await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'rude' });
      const reported = await bob.post(`/v1/chats/${chat.id}/messages/1/report`, { reason: 'rude' });
      assert.equal(reported.status, 201, JSON.stringify(reported.body));
      const removed = await alice.delete(`/v1/chats/${chat.id}/members/${bob.userId}`);
      assert.ok(removed.status < 300, JSON.stringify(removed.body));
      await r.until(() => ofChat(r.delivered, chat.id).length === 2);
      const [report, left] = ofChat(r.delivered, chat.id);
      assert.equal(report!.body.type, 'report.created');
      assert.deepEqual(
        { ...report!.body.data, reportId: undefined },
        {
          reportId: undefined,
          chatId: chat.id,
          seq: 1,
          reporterId: bob.userId,
          authorId: alice.userId,
          reason: 'rude',
        },
      );
      assert.equal(left!.body.type, 'member.removed');
      assert.deepEqual(left!.body.data, { chatId: chat.id, userId: bob.userId });
      await unsubscribe(hook);
    });

    it('with PARLEY_WEBHOOKS_DELIVER=false, records events and sends none', async () => {
      const app = await createTestApp({ ...FAST, PARLEY_WEBHOOKS_DELIVER: 'false' });
      try {
        const admin = await app.login('wh-off-boss', { admin: true });
        const author = await app.login('wh-off-alice');
        const { receiver: r, url } = await receiver();
        const hook = (await admin.post('/v1/webhooks', { url, eventTypes: ['message.created'] }))
          .body as Hook;
        const chat = await createGroup(author);
        assert.equal((await author.post(`/v1/chats/${chat.id}/messages`, { text: 'kept' })).status, 201);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(r.received.length, 0);
        const log = await admin.get(`/v1/webhooks/${hook.id}/deliveries`);
        assert.deepEqual(
          (log.body as { data: { status: string; eventType: string; attempts: number }[] }).data.map((d) => [
            d.eventType,
            d.status,
            d.attempts,
          ]),
          [['message.created', 'pending', 0]],
        );
        // One entry of the log, natively and as a JSON:API resource.
        const [entry] = (log.body as { data: { id: string; webhookId: string }[] }).data;
        const one = await admin.get(`/v1/webhooks/${hook.id}/deliveries/${entry!.id}`);
        assert.equal(one.status, 200);
        assert.equal((one.body as { webhookId: string }).webhookId, hook.id);
        const doc = await admin.get(`/v1/webhooks/${hook.id}/deliveries?filter[status]=pending`, {
          accept: JSONAPI,
        });
        assert.equal(doc.status, 200, JSON.stringify(doc.body));
        const data = (doc.body as { data: { type: string; id: string; attributes: { eventType: string } }[] })
          .data;
        assert.deepEqual(
          data.map((d) => [d.type, d.id, d.attributes.eventType]),
          [['webhookDeliveries', entry!.id, 'message.created']],
        );
        assert.equal((await admin.get(`/v1/webhooks/${hook.id}/deliveries/999999`)).status, 404);
      } finally {
        await app.close();
      }
    });

    it('records nothing for a tenant without subscriptions, nor for event types not asked for', async () => {
      const { receiver: r, url } = await receiver();
      const hook = await subscribe(url, { eventTypes: ['reaction.added'] });
      const chat = await createGroup(alice, [bob]);
      await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'x' });
      const reacted = await bob.put(`/v1/chats/${chat.id}/messages/1/reactions/${encodeURIComponent('👍')}`);
      assert.ok(reacted.status < 300, JSON.stringify(reacted.body));
      await r.until(() => r.delivered.length === 1);
      assert.equal(r.delivered[0]!.body.type, 'reaction.added');
      assert.equal(typeof r.delivered[0]!.body.data.rev, 'number');
      const log = await boss.get(`/v1/webhooks/${hook.id}/deliveries`);
      assert.equal((log.body as { data: unknown[] }).data.length, 1);
      await unsubscribe(hook);
    });
  });
});
