import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { pruneChanges } from '../src/chats/change.service.ts';
import type { Envelope } from '../src/events.ts';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { createGroup, sendMessages } from './support/factories.ts';
import { SseClient } from './support/sse.ts';
import { StreamClient, type Frame } from './support/ws.ts';

const CHANGES = ['message.updated', 'message.deleted', 'reaction.added', 'reaction.removed'];
const THUMBS = '👍';

/** The change frames (events with a `rev`) of a chat among `frames`, in arrival order. */
function changesOf(frames: Frame[], chatId: string): (Frame & { rev: number })[] {
  return frames.filter(
    (f): f is Frame & { rev: number } =>
      CHANGES.includes(f.type) && 'chatId' in f && f.chatId === chatId && 'rev' in f,
  );
}

const revsOf = (frames: Frame[], chatId: string) => changesOf(frames, chatId).map((f) => f.rev);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe(`stream: a chat's changes in rev order, resumable (${ENGINE})`, () => {
  let t: TestApp;
  let base: string;
  const open: StreamClient[] = [];

  async function connect(client: Client, query: Record<string, string> = {}): Promise<StreamClient> {
    const stream = await StreamClient.connect(base, client.token, query);
    open.push(stream);
    return stream;
  }

  /** Edits message 1, deletes message 2, and reacts to message 3 and takes it back: four changes. */
  async function fourChanges(alice: Client, chatId: string): Promise<void> {
    assert.equal((await alice.patch(`/v1/chats/${chatId}/messages/1`, { text: 'edited' })).status, 200);
    assert.equal((await alice.delete(`/v1/chats/${chatId}/messages/2`)).status, 204);
    const reaction = `/v1/chats/${chatId}/messages/3/reactions/${encodeURIComponent(THUMBS)}`;
    assert.equal((await alice.put(reaction)).status, 201);
    assert.equal((await alice.delete(reaction)).status, 204);
  }

  /** A group of alice and bob with three messages; bob's stream saw them and closed. */
  async function missedChat(prefix: string) {
    const alice = await t.login(`${prefix}-alice`);
    const bob = await t.login(`${prefix}-bob`);
    const chat = await createGroup(alice, [bob]);
    await sendMessages(alice, chat.id, 3);
    // One change before bob goes away: his stream has a rev to resume from.
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/3`, { text: 'first edit' })).status, 200);
    const first = await connect(bob);
    const ready = first.of('ready')[0]!;
    assert.deepEqual(ready.changes, { [chat.id]: 1 }, 'ready says where each chat’s changes start');
    await first.close();
    return { alice, bob, chat, lastSeq: 3, lastRev: 1 };
  }

  before(async () => {
    t = await createTestApp({ PARLEY_RESUME_GRACE_MS: '0', PARLEY_GAP_WAIT_MS: '25' });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await Promise.all(open.map((s) => s.close()));
    await t.close();
  });

  it('replays missed messages, then the missed changes in rev order, once each (resume at connect)', async () => {
    const { alice, bob, chat, lastSeq, lastRev } = await missedChat('rs');
    await fourChanges(alice, chat.id);
    await sendMessages(alice, chat.id, 1, 'after');
    const resume = JSON.stringify({ chats: { [chat.id]: lastSeq }, changes: { [chat.id]: lastRev } });
    const again = await connect(bob, { resume });
    await again.waitFor('resumed');
    assert.deepEqual(again.seqs(chat.id), [4]);
    assert.deepEqual(
      changesOf(again.frames, chat.id).map((f) => [f.type, f.rev]),
      [
        ['message.updated', 2],
        ['message.deleted', 3],
        ['reaction.added', 4],
        ['reaction.removed', 5],
      ],
    );
    const types = again.frames.map((f) => f.type);
    assert.ok(types.indexOf('message.created') < types.indexOf('message.updated'), 'messages first');
    const [updated] = changesOf(again.frames, chat.id);
    assert.equal(updated?.type === 'message.updated' && updated.message.text, 'edited');
    // Live from there: the next change is the next rev, once.
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/4`, { text: 'live' })).status, 200);
    await again.waitFor('message.updated', (f) => f.rev === 6);
    assert.deepEqual(revsOf(again.frames, chat.id), range(2, 6));
  });

  it('replays them on a resume frame too, and the changes alone when only they are asked for', async () => {
    const { alice, bob, chat, lastSeq, lastRev } = await missedChat('rf');
    await fourChanges(alice, chat.id);
    const again = await connect(bob);
    again.send({ type: 'resume', chats: { [chat.id]: lastSeq }, changes: { [chat.id]: lastRev } });
    await again.waitFor('resumed');
    assert.deepEqual(revsOf(again.frames, chat.id), [2, 3, 4, 5]);
    assert.deepEqual(again.seqs(chat.id), []);

    const onlyChanges = await connect(bob);
    onlyChanges.send({ type: 'resume', chats: {}, changes: { [chat.id]: 3 } });
    await onlyChanges.waitFor('resumed');
    assert.deepEqual(revsOf(onlyChanges.frames, chat.id), [4, 5]);
  });

  it('without `changes`, a resume replays messages only, and changes go on from the present', async () => {
    const { alice, bob, chat, lastSeq } = await missedChat('old');
    await fourChanges(alice, chat.id);
    await sendMessages(alice, chat.id, 2, 'after');
    const again = await connect(bob, { resume: JSON.stringify({ [chat.id]: lastSeq }) });
    await again.waitFor('resumed');
    assert.deepEqual(again.seqs(chat.id), [4, 5]);
    assert.deepEqual(revsOf(again.frames, chat.id), []);
    const framed = await connect(bob);
    framed.send({ type: 'resume', chats: { [chat.id]: lastSeq } });
    await framed.waitFor('resumed');
    assert.deepEqual(revsOf(framed.frames, chat.id), []);
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/5`, { text: 'live' })).status, 200);
    for (const stream of [again, framed]) {
      const [live] = await stream.waitFor('message.updated');
      assert.equal(live!.rev, 6);
    }
  });

  it('on a late resume, sends the older missed changes once, after the live ones already sent', async () => {
    const { alice, bob, chat } = await missedChat('late');
    await fourChanges(alice, chat.id);
    const stream = await connect(bob);
    assert.deepEqual(stream.of('ready')[0]!.changes, { [chat.id]: 5 });
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/3`, { text: 'live' })).status, 200);
    await stream.waitFor('message.updated', (f) => f.rev === 6);
    stream.send({ type: 'resume', chats: {}, changes: { [chat.id]: 1 } });
    await stream.waitFor('resumed');
    assert.deepEqual(revsOf(stream.frames, chat.id), [6, 2, 3, 4, 5]);
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/3`, { text: 'again' })).status, 200);
    await stream.waitFor('message.updated', (f) => f.rev === 7);
    assert.deepEqual(revsOf(stream.frames, chat.id), [6, 2, 3, 4, 5, 7]);
  });

  it('starts a member added while connected at the rev at which they joined', async () => {
    const { alice, chat } = await missedChat('join');
    await fourChanges(alice, chat.id);
    const dave = await t.login('join-dave');
    const stream = await connect(dave);
    assert.equal((await alice.post(`/v1/chats/${chat.id}/members`, { userId: dave.userId })).status, 201);
    await stream.waitFor('member.added', (f) => f.userId === dave.userId);
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'for dave' })).status, 200);
    await stream.waitFor('message.updated');
    assert.deepEqual(revsOf(stream.frames, chat.id), [6]);
  });

  it('refuses a changes cursor that is not one', async () => {
    const bob = await t.login('bad-bob');
    const stream = await connect(bob);
    stream.send({ type: 'resume', chats: {}, changes: { x: -1 } });
    const [error] = await stream.waitFor('error');
    assert.match(error!.error.message, /changes\.x/);
    const refused = await fetch(
      `${base}/v1/events?resume=${encodeURIComponent('{"chats":{},"changes":{"x":"1"}}')}`,
      { method: 'HEAD', headers: { authorization: `Bearer ${bob.token}` } },
    );
    assert.equal(refused.status, 400);
  });

  it('resumes Server-Sent Events from Last-Event-ID, which carries revs; the seqs-only id still works', async () => {
    const { alice, bob, chat } = await missedChat('sse');
    const url = `${base}/v1/events?access_token=${bob.token}`;
    const first = await SseClient.connect(url);
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'seen' })).status, 200);
    await first.waitFor('message.updated');
    const lastId = first.events.at(-1)!.id!;
    assert.ok(lastId, 'a change carries an id');
    first.close();
    await fourChanges(alice, chat.id);
    const again = await SseClient.connect(url, { 'last-event-id': lastId });
    await again.waitFor('resumed');
    assert.deepEqual(revsOf(again.frames, chat.id), [3, 4, 5, 6]);
    const ids = again.events.filter((e) => CHANGES.includes(e.data.type)).map((e) => e.id);
    assert.ok(ids.every((id) => id !== null));
    const cursor = JSON.parse(Buffer.from(ids.at(-1)!, 'base64url').toString('utf8')) as unknown;
    assert.deepEqual(cursor, { chats: { [chat.id]: 3 }, changes: { [chat.id]: 6 } });
    again.close();

    // An id from before revs: the seqs alone; messages are replayed, changes go on from the present.
    const oldId = Buffer.from(JSON.stringify({ [chat.id]: 2 })).toString('base64url');
    const old = await SseClient.connect(url, { 'last-event-id': oldId });
    await old.waitFor('resumed');
    assert.deepEqual(
      old.frames.flatMap((f) => (f.type === 'message.created' ? [f.message.seq] : [])),
      [3],
    );
    assert.deepEqual(revsOf(old.frames, chat.id), []);
    old.close();
  });

  it('fills a change whose bus event was lost from the change log, and a change waits for its message', async () => {
    const alice = await t.login('lost-alice');
    const bob = await t.login('lost-bob');
    const chat = await createGroup(alice, [bob]);
    const stream = await connect(bob);
    await sendMessages(alice, chat.id, 1);
    await stream.waitFor('message.created', (f) => f.chatId === chat.id);
    const bus = t.app.parley.bus;
    const publish = bus.publish.bind(bus);
    const lost = new Set<string>(['reaction.added', 'message.created']);
    bus.publish = (event: Envelope) => {
      const payload = event.payload as { chatId?: string };
      if (payload.chatId === chat.id && lost.delete(event.type)) {
        return;
      }
      publish(event);
    };
    try {
      // The reaction's event is lost; the next change shows the gap, which the log fills.
      const reaction = `/v1/chats/${chat.id}/messages/1/reactions/${encodeURIComponent(THUMBS)}`;
      assert.equal((await alice.put(reaction)).status, 201);
      assert.equal((await alice.delete(reaction)).status, 204);
      await stream.waitFor('reaction.removed');
      assert.deepEqual(
        changesOf(stream.frames, chat.id).map((f) => [f.type, f.rev]),
        [
          ['reaction.added', 1],
          ['reaction.removed', 2],
        ],
      );
      // A new message's event is lost: a reaction to it waits, and the message is read first.
      const [message] = await sendMessages(alice, chat.id, 1, 'unheard');
      const second = `/v1/chats/${chat.id}/messages/${message!.seq}/reactions/${encodeURIComponent(THUMBS)}`;
      assert.equal((await alice.put(second)).status, 201);
      await stream.waitFor('reaction.added', (f) => f.rev === 3);
      const order = stream.frames
        .filter((f) => f.type === 'message.created' || CHANGES.includes(f.type))
        .map((f) => (f.type === 'message.created' ? `m${f.message.seq}` : `r${(f as { rev: number }).rev}`));
      assert.deepEqual(order, ['m1', 'r1', 'r2', 'm2', 'r3']);
      assert.equal(lost.size, 0, 'both events were lost');
    } finally {
      bus.publish = publish;
    }
  });

  it('numbers concurrent changes of one chat without gaps, and streams them in order', async () => {
    const alice = await t.login('par-alice');
    const reactors = await Promise.all(range(1, 8).map((i) => t.login(`par-${i}`)));
    const chat = await createGroup(alice, reactors);
    await sendMessages(alice, chat.id, 2);
    const stream = await connect(alice);
    const answers = await Promise.all(
      reactors.flatMap((r, i) => [
        r.put(`/v1/chats/${chat.id}/messages/${(i % 2) + 1}/reactions/${encodeURIComponent(THUMBS)}`),
        r.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'not mine' }),
      ]),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      reactors.flatMap(() => [201, 403]),
    );
    await Promise.all([
      alice.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'a' }),
      alice.patch(`/v1/chats/${chat.id}/messages/2`, { text: 'b' }),
    ]);
    await stream.waitFor((f) => CHANGES.includes(f.type), 10);
    assert.deepEqual(revsOf(stream.frames, chat.id), range(1, 10));
    const rows = await sql<{ rev: number }>`
      select rev from chat_changes where chat_id = ${chat.id} order by rev`.execute(t.app.parley.store.db);
    assert.deepEqual(
      rows.rows.map((r) => r.rev),
      range(1, 10),
    );
  });

  it('says chat.resync when the missed changes were pruned, and goes on live', async () => {
    const { alice, bob, chat, lastSeq, lastRev } = await missedChat('prune');
    await fourChanges(alice, chat.id);
    const db = t.app.parley.store.db;
    await sql`update chat_changes set created_at = now() - interval '30 days'
              where chat_id = ${chat.id} and rev <= 3`.execute(db);
    assert.equal(t.config.realtime.changeRetentionDays, 7, 'PARLEY_CHANGE_RETENTION_DAYS by default');
    assert.ok((await pruneChanges(t.app.parley.ctx, t.config.realtime.changeRetentionDays)) >= 3);
    const again = await connect(bob, {
      resume: JSON.stringify({ chats: { [chat.id]: lastSeq }, changes: { [chat.id]: lastRev } }),
    });
    await again.waitFor('resumed');
    assert.deepEqual(
      again.of('chat.resync').map((f) => [f.chatId, f.rev]),
      [[chat.id, 5]],
    );
    assert.deepEqual(revsOf(again.frames, chat.id), []);
    // A rev the log still holds is replayed as usual.
    const recent = await connect(bob, {
      resume: JSON.stringify({ chats: { [chat.id]: lastSeq }, changes: { [chat.id]: 3 } }),
    });
    await recent.waitFor('resumed');
    assert.deepEqual(revsOf(recent.frames, chat.id), [4, 5]);
    assert.deepEqual(recent.of('chat.resync'), []);
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'later' })).status, 200);
    const [live] = await again.waitFor('message.updated');
    assert.equal(live!.rev, 6);
  });
});
