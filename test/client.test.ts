import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Duplex } from 'node:stream';
import {
  backoffDelay,
  ParleyClient,
  ParleyError,
  type ChatView,
  type MessageView,
  type ParleyStream,
  type StreamEventMap,
} from '../packages/client/src/index.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Resolves when `check` holds, polling; rejects after `ms` with `what`. */
async function until(check: () => boolean, what: () => string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Records a stream's frames of one type. */
function record<K extends keyof StreamEventMap>(stream: ParleyStream, type: K): StreamEventMap[K][] {
  const seen: StreamEventMap[K][] = [];
  stream.on(type, (event) => seen.push(event));
  return seen;
}

describe(`typed client (${ENGINE})`, () => {
  let t: TestApp;
  let base: string;
  const streams: ParleyStream[] = [];

  async function clientFor(sub: string, options: { admin?: boolean } = {}): Promise<ParleyClient> {
    const client = new ParleyClient({ baseUrl: base, token: await t.token(sub, options) });
    await client.me();
    return client;
  }

  function open(client: ParleyClient, options: Parameters<ParleyClient['stream']>[0] = {}): ParleyStream {
    const stream = client.stream({ backoff: { initialMs: 20, maxMs: 200 }, ...options });
    streams.push(stream);
    return stream;
  }

  before(async () => {
    t = await createTestApp({ PARLEY_RESUME_GRACE_MS: '1000', PARLEY_TYPING_INTERVAL_MS: '0' });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    for (const stream of streams) {
      stream.close();
    }
    await t.close();
  });

  it('deletes users (deleteUser, deleteMe); a deleted user’s stream stops for good', async () => {
    const admin = await clientFor('c-del-admin', { admin: true });
    const gone = await clientFor('c-del-gone');
    const self = await clientFor('c-del-self');
    const stream = open(gone);
    await stream.connect();
    const drops = record(stream, 'disconnect');
    await admin.deleteUser('c-del-gone');
    await until(
      () => drops.length > 0,
      () => 'the disconnect',
    );
    assert.deepEqual(drops[0], { code: 4001, reason: 'user deleted', reconnectInMs: null });
    assert.equal(stream.state, 'closed');
    assert.equal((await admin.getUser('c-del-gone')).deletedAt !== null, true);
    await self.deleteMe();
    await assert.rejects(self.me(), (error: unknown) => error instanceof ParleyError && error.status === 401);
  });

  it('covers the REST API with typed calls', async () => {
    const admin = await clientFor('c-admin', { admin: true });
    const created = await admin.createUser({ id: 'c-bob', username: 'c-bob', displayName: 'Bob' });
    assert.equal(created.displayName, 'Bob');
    const bob = await clientFor('c-bob');
    assert.equal((await bob.updateMe({ statusText: 'around' })).statusText, 'around');
    assert.equal((await admin.getUser('c-bob')).username, 'c-bob');
    assert.ok((await admin.listUsers({ q: 'c-bob' })).data.some((u) => u.id === 'c-bob'));

    const chat: ChatView = await admin.createChat({ kind: 'group', name: 'typed', members: ['c-bob'] });
    assert.equal(chat.role, 'owner');
    assert.equal((await admin.updateChat(chat.id, { topic: 'types' })).topic, 'types');
    assert.equal((await bob.getChat(chat.id)).role, 'member');
    assert.deepEqual((await admin.listMembers(chat.id)).data.map((m) => m.userId).sort(), [
      'c-admin',
      'c-bob',
    ]);
    assert.equal((await admin.updateMember(chat.id, 'c-bob', { role: 'admin' })).role, 'admin');
    assert.equal((await bob.getMember(chat.id, 'c-admin')).role, 'owner');

    const first: MessageView = await admin.sendMessage(chat.id, { text: 'typed hello', clientId: 'k1' });
    assert.equal(first.seq, 1);
    assert.equal((await admin.sendMessage(chat.id, { text: 'typed hello', clientId: 'k1' })).id, first.id);
    await admin.sendMessage(chat.id, { text: 'second', replyTo: 1 });
    assert.deepEqual(
      (await bob.listMessages(chat.id, { after: 0 })).data.map((m) => m.seq),
      [1, 2],
    );
    assert.equal((await bob.getMessage(chat.id, 2)).replyTo, 1);
    assert.equal((await admin.editMessage(chat.id, 2, { text: 'edited' })).text, 'edited');
    assert.deepEqual(await bob.addReaction(chat.id, 1, '👍'), {
      chatId: chat.id,
      seq: 1,
      messageId: first.id,
      emoji: '👍',
      count: 1,
      me: true,
    });
    assert.equal((await admin.addReaction(chat.id, 1, '👍')).count, 2);
    assert.deepEqual((await bob.getMessage(chat.id, 1)).reactions, [{ emoji: '👍', count: 2, me: true }]);
    const reactors = await admin.listReactionUsers(chat.id, 1, '👍', { limit: 1 });
    assert.deepEqual(
      reactors.data.map((r) => r.userId),
      ['c-bob'],
    );
    assert.ok(reactors.nextCursor);
    await bob.removeReaction(chat.id, 1, '👍');
    assert.deepEqual((await bob.listMessages(chat.id, { after: 0 })).data[0]?.reactions, [
      { emoji: '👍', count: 1, me: false },
    ]);
    const pinned = await bob.pinMessage(chat.id, 2);
    assert.equal(pinned.pinnedBy, 'c-bob');
    assert.equal((await admin.getMessage(chat.id, 2)).pinnedAt, pinned.pinnedAt);
    assert.deepEqual(
      (await admin.listPins(chat.id, { limit: 5 })).data.map((m) => [m.seq, m.pinnedBy]),
      [[2, 'c-bob']],
    );
    await admin.unpinMessage(chat.id, 2);
    assert.deepEqual((await bob.listPins(chat.id)).data, []);
    assert.equal((await bob.unread()).total, 2);
    assert.deepEqual(await bob.markRead(chat.id, 2), { lastReadSeq: 2, unreadCount: 0 });
    const seen = await admin.listReceipts(chat.id, 2);
    assert.deepEqual(
      seen.data.map((r) => [r.userId, r.lastReadSeq]),
      [['c-bob', 2]],
    );
    assert.ok(seen.data[0]?.lastReadAt);
    const threaded = await bob.sendThreadReply(chat.id, 1, { text: 'in the thread' });
    assert.equal(threaded.threadRoot, 1);
    assert.equal(threaded.alsoInChat, false);
    assert.deepEqual(
      (await admin.listThreadMessages(chat.id, 1)).data.map((m) => m.text),
      ['in the thread'],
    );
    assert.deepEqual((await admin.getMessage(chat.id, 1)).thread?.participants, [first.authorId, 'c-bob']);
    const threads = (await admin.unread()).threads;
    assert.deepEqual(
      threads.map((x) => [x.threadRoot, x.unreadCount]),
      [[1, 1]],
    );
    assert.deepEqual(await admin.markThreadRead(chat.id, 1, threaded.seq), {
      messageId: first.id,
      lastReadSeq: threaded.seq,
      unreadCount: 0,
      participant: true,
    });
    assert.equal((await bob.searchMessages({ q: 'hello' })).data[0]?.message.seq, 1);
    await admin.deleteMessage(chat.id, 2);
    assert.equal((await bob.getMessage(chat.id, 2)).text, null);

    const more = await Promise.all(
      range(1, 5).map((i) => admin.createChat({ kind: 'group', name: `typed ${i}`, members: ['c-bob'] })),
    );
    const all: string[] = [];
    for await (const each of bob.all((query) => bob.listChats({ ...query, limit: 2 }))) {
      all.push(each.id);
    }
    assert.deepEqual(all.sort(), [chat.id, ...more.map((c) => c.id)].sort(), 'every page, once');

    await bob.removeMember(chat.id, 'c-bob');
    await admin.addMember(chat.id, { userId: 'c-bob' });
    await admin.deleteChat(chat.id);
    assert.equal((await admin.ready()).status, 'ok');
  });

  it('moderates: mutes, bans, blocks, reports and the log, with their stream events', async () => {
    const owner = await clientFor('c-mod-owner');
    const bob = await clientFor('c-mod-bob');
    const carol = await clientFor('c-mod-carol');
    const boss = await clientFor('c-mod-boss', { admin: true });
    const chat = await owner.createChat({
      kind: 'group',
      name: 'moderated',
      members: ['c-mod-bob', 'c-mod-carol'],
    });
    const stream = open(carol);
    const muted = record(stream, 'member.muted');
    const resolvedEvents = record(stream, 'report.resolved');
    await stream.connect();

    const until5 = new Date(Date.now() + 300_000).toISOString();
    const mute = await owner.muteMember(chat.id, 'c-mod-bob', { until: until5, reason: 'cool off' });
    assert.deepEqual([mute.userId, mute.until, mute.reason], ['c-mod-bob', until5, 'cool off']);
    await until(
      () => muted.length === 1,
      () => 'member.muted',
    );
    assert.deepEqual(muted[0], { type: 'member.muted', chatId: chat.id, userId: 'c-mod-bob', until: until5 });
    await assert.rejects(bob.sendMessage(chat.id, { text: 'let me talk' }), (error: unknown) => {
      assert.ok(error instanceof ParleyError);
      assert.deepEqual(
        [error.status, error.code, error.details],
        [403, 'forbidden', [{ reason: 'muted', until: until5 }]],
      );
      return true;
    });
    await owner.unmuteMember(chat.id, 'c-mod-bob');
    const message = await bob.sendMessage(chat.id, { text: 'rude' });

    const report = await carol.reportMessage(chat.id, message.seq, 'rude');
    assert.equal(report.status, 'open');
    assert.deepEqual(
      (await boss.listReports({ status: 'open', chatId: chat.id })).data.map((r) => r.id),
      [report.id],
    );
    assert.equal((await boss.getReport(report.id)).reason, 'rude');
    const resolved = await boss.resolveReport(report.id, { action: 'ban_author', reason: 'enough' });
    assert.deepEqual([resolved.status, resolved.action], ['resolved', 'ban_author']);
    await until(
      () => resolvedEvents.length === 1,
      () => 'report.resolved',
    );
    assert.equal(resolvedEvents[0]!.action, 'ban_author');
    assert.deepEqual(
      (await owner.listBans(chat.id)).data.map((b) => b.userId),
      ['c-mod-bob'],
    );
    await owner.unbanMember(chat.id, 'c-mod-bob');
    await owner.banMember(chat.id, 'c-mod-bob', { reason: 'again' });
    const log = await owner.chatModerationLog(chat.id);
    assert.deepEqual(
      log.data.map((e) => e.action),
      ['ban', 'unban', 'ban', 'report', 'unmute', 'mute'],
    );
    assert.equal((await boss.moderationLog({ chatId: chat.id, limit: 1 })).data[0]!.reason, 'again');

    assert.equal((await carol.blockUser('c-mod-owner')).userId, 'c-mod-owner');
    assert.deepEqual(
      (await carol.listBlocks()).data.map((b) => b.userId),
      ['c-mod-owner'],
    );
    await carol.unblockUser('c-mod-owner');
    assert.deepEqual((await carol.listBlocks()).data, []);
  });

  it('throws the API error as a ParleyError with its status and code, and network failures as `network`', async () => {
    const alice = await clientFor('c-alice');
    await assert.rejects(alice.getChat('nope'), (error: unknown) => {
      assert.ok(error instanceof ParleyError);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'not_found');
      return true;
    });
    await assert.rejects(alice.createChat({ kind: 'group', name: '' }), {
      status: 400,
      code: 'invalid_request',
    });
    const anonymous = new ParleyClient({ baseUrl: base, token: 'not-a-token' });
    await assert.rejects(anonymous.me(), { status: 401, code: 'unauthorized' });
    const nowhere = new ParleyClient({ baseUrl: 'http://127.0.0.1:1', token: () => 'x' });
    await assert.rejects(nowhere.me(), { status: 0, code: 'network' });
  });

  it('streams typed events: messages in order, typing, presence and new chats', async () => {
    const alice = await clientFor('s-alice');
    const bob = await clientFor('s-bob');
    const stream = open(bob);
    const created = record(stream, 'message.created');
    const typing = record(stream, 'typing');
    const chats = record(stream, 'chat.created');
    await stream.connect();
    assert.equal(stream.state, 'live');
    assert.equal(stream.userId, 's-bob');

    const aliceStream = open(alice);
    const presence = record(aliceStream, 'presence');
    await aliceStream.connect();
    const chat = await alice.createChat({ kind: 'group', name: 'stream', members: ['s-bob'] });
    await until(
      () => chats.some((c) => c.chat.id === chat.id),
      () => 'chat.created',
    );
    assert.equal(chats[0]?.chat.role, 'member', "the recipient's own view");
    assert.equal(stream.positions()[chat.id], 0, 'a new chat is followed from its first message');

    for (const i of range(1, 5)) {
      await alice.sendMessage(chat.id, { text: `m${i}` });
    }
    await until(
      () => created.length === 5,
      () => `5 messages, got ${created.length}`,
    );
    assert.deepEqual(
      created.map((f) => [f.type, f.chatId, f.message.seq, f.message.text]),
      range(1, 5).map((i) => ['message.created', chat.id, i, `m${i}`]),
    );
    assert.equal(stream.positions()[chat.id], 5);

    const reactions = record(stream, 'reaction.added');
    await alice.addReaction(chat.id, 5, '🎉');
    await until(
      () => reactions.length === 1,
      () => 'reaction.added',
    );
    assert.deepEqual(
      [reactions[0]?.seq, reactions[0]?.emoji, reactions[0]?.userId, reactions[0]?.count],
      [5, '🎉', 's-alice', 1],
    );
    const reads = record(stream, 'read.updated');
    await alice.markRead(chat.id, 5);
    await until(
      () => reads.length === 1,
      () => 'read.updated',
    );
    assert.deepEqual([reads[0]?.userId, reads[0]?.seq], ['s-alice', 5]);
    const pins = record(stream, 'message.pinned');
    const pinned = await alice.pinMessage(chat.id, 5);
    await until(
      () => pins.length === 1,
      () => 'message.pinned',
    );
    assert.deepEqual(pins[0], {
      type: 'message.pinned',
      chatId: chat.id,
      seq: 5,
      messageId: pinned.id,
      pinnedBy: 's-alice',
      pinnedAt: pinned.pinnedAt,
      rev: pins[0]!.rev,
    });
    assert.ok(Number.isInteger(pins[0]!.rev) && pins[0]!.rev > 0);

    const settings = record(stream, 'settings.updated');
    const mentions = record(stream, 'mention.created');
    assert.deepEqual(await bob.updateChatSettings(chat.id, { muted: true }), {
      muted: true,
      mutedUntil: null,
      archived: false,
      hidden: false,
    });
    const mentioning = await alice.sendMessage(chat.id, { text: 'muted, but @s-bob' });
    assert.deepEqual(mentioning.mentions, ['s-bob']);
    await until(
      () => settings.length === 1 && mentions.length === 1,
      () => 'settings.updated and mention.created',
    );
    assert.deepEqual([settings[0]?.chatId, settings[0]?.settings.muted], [chat.id, true]);
    assert.deepEqual([mentions[0]?.via, mentions[0]?.message.seq], ['name', 6]);
    assert.equal((await bob.getChatSettings(chat.id)).muted, true);
    const unread = await bob.unread();
    assert.deepEqual(
      [unread.total, unread.mentionTotal],
      [0, 1],
      'muted: out of the total, its mention counted',
    );

    assert.equal(aliceStream.typing(chat.id), true);
    assert.equal(aliceStream.typing(chat.id), false, 'at most one per interval from the client');
    await until(
      () => typing.length === 1,
      () => 'typing',
    );
    assert.deepEqual(typing[0], { type: 'typing', chatId: chat.id, userId: 's-alice' });

    const carol = await clientFor('s-carol');
    const carolStream = open(carol);
    await carolStream.connect();
    await until(
      () => presence.some((p) => p.userId === 's-carol' && p.status === 'online'),
      () => 'presence online',
    );
    carolStream.close();
    assert.equal(carolStream.state, 'closed');
    await until(
      () => presence.some((p) => p.userId === 's-carol' && p.status === 'offline'),
      () => 'presence offline',
    );
  });

  it('reconnects after the server drops the socket and resumes without loss or repetition', async () => {
    const alice = await clientFor('r-alice');
    const bob = await clientFor('r-bob');
    const chat = await alice.createChat({ kind: 'group', name: 'dropped', members: ['r-bob'] });
    // Every stream connection's TCP socket, to cut as a network failure would.
    const upgraded = new Set<Duplex>();
    t.app.server.on('upgrade', (_request, socket: Duplex) => upgraded.add(socket));
    const stream = open(bob, { cursors: { [chat.id]: 0 } });
    const seqs = record(stream, 'message.created');
    const drops = record(stream, 'disconnect');
    await stream.connect();
    let sent = 0;
    const sender = (async () => {
      for (const i of range(1, 60)) {
        await alice.sendMessage(chat.id, { text: `m${i}` });
        sent = i;
      }
    })();
    for (const at of [15, 30, 45]) {
      await until(
        () => sent >= at,
        () => `${at} sent`,
      );
      for (const socket of upgraded) {
        socket.destroy();
      }
    }
    await sender;
    await until(
      () => seqs.length >= 60,
      () => `60 messages, got ${seqs.length}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      seqs.map((f) => f.message.seq),
      range(1, 60),
    );
    assert.ok(stream.connections >= 4, `reconnected (${stream.connections} connections)`);
    assert.ok(drops.every((d) => d.reconnectInMs !== null && d.reconnectInMs <= 200));
    assert.equal(stream.duplicatesDropped, 0, 'the server sent nothing twice');
  });

  it('tracks each chat’s change rev and resumes the changes missed while disconnected, in order, once', async () => {
    const alice = await clientFor('rev-alice');
    const bob = await clientFor('rev-bob');
    const chat = await alice.createChat({ kind: 'group', name: 'changes', members: ['rev-bob'] });
    for (const i of range(1, 3)) {
      await alice.sendMessage(chat.id, { text: `m${i}` });
    }
    await alice.editMessage(chat.id, 1, { text: 'before bob' });
    const upgraded = new Set<Duplex>();
    t.app.server.on('upgrade', (_request, socket: Duplex) => upgraded.add(socket));
    // Reconnects 1.5 s after a drop: the changes below are made while it is away.
    const stream = open(bob, { backoff: { initialMs: 1500, maxMs: 1500 }, random: () => 1 });
    const changes: { type: string; rev: number }[] = [];
    for (const type of [
      'message.updated',
      'message.deleted',
      'reaction.added',
      'reaction.removed',
    ] as const) {
      stream.on(type, (frame) => changes.push({ type, rev: frame.rev }));
    }
    const drops = record(stream, 'disconnect');
    await stream.connect();
    assert.deepEqual(stream.changePositions(), { [chat.id]: 1 }, 'the rev the server started the chat at');
    await alice.editMessage(chat.id, 2, { text: 'seen live' });
    await until(
      () => changes.length === 1,
      () => 'the live edit',
    );
    for (const socket of upgraded) {
      socket.destroy();
    }
    await until(
      () => drops.length === 1,
      () => 'the drop',
    );
    await alice.deleteMessage(chat.id, 3);
    await alice.addReaction(chat.id, 1, '👍');
    await alice.removeReaction(chat.id, 1, '👍');
    await until(
      () => changes.length === 4,
      () => `4 changes, got ${JSON.stringify(changes)}`,
    );
    assert.equal(stream.connections, 2);
    assert.deepEqual(changes, [
      { type: 'message.updated', rev: 2 },
      { type: 'message.deleted', rev: 3 },
      { type: 'reaction.added', rev: 4 },
      { type: 'reaction.removed', rev: 5 },
    ]);
    assert.deepEqual(stream.changePositions(), { [chat.id]: 5 });
    assert.equal(stream.duplicatesDropped, 0);

    // A later stream given the positions picks up where this one stopped.
    stream.close();
    await alice.editMessage(chat.id, 2, { text: 'while closed' });
    const later = open(bob, { cursors: stream.positions(), changes: stream.changePositions() });
    const edits = record(later, 'message.updated');
    await later.connect();
    await until(
      () => edits.length === 1,
      () => 'the edit made while closed',
    );
    assert.equal(edits[0]!.rev, 6);
    assert.equal(edits[0]!.message.text, 'while closed');
  });

  it('resumes with a frame when the cursors do not fit in a URL', async () => {
    const alice = await clientFor('f-alice');
    const bob = await clientFor('f-bob');
    const chat = await alice.createChat({ kind: 'group', name: 'many chats', members: ['f-bob'] });
    for (const i of range(1, 3)) {
      await alice.sendMessage(chat.id, { text: `before ${i}` });
    }
    // Cursors for 300 chats the user is not in (the server ignores them): far too long for a URL.
    const cursors: Record<string, number> = { [chat.id]: 1 };
    for (const i of range(1, 300)) {
      cursors[`not-a-chat-of-yours-${String(i).padStart(20, '0')}`] = i;
    }
    const stream = open(bob, { cursors });
    const seqs = record(stream, 'message.created');
    await stream.connect();
    await alice.sendMessage(chat.id, { text: 'live 4' });
    await until(
      () => seqs.length === 3,
      () => `3 messages, got ${seqs.length}`,
    );
    assert.deepEqual(
      seqs.map((f) => f.message.seq),
      [2, 3, 4],
    );
  });

  it('keeps a quiet connection alive with pings', async () => {
    const quiet = await clientFor('q-alice');
    const stream = open(quiet, { idleTimeoutMs: 300 });
    const pongs = record(stream, 'pong');
    await stream.connect();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(stream.connections, 1, 'never presumed dead');
    assert.ok(pongs.length >= 3, `${pongs.length} pongs`);
  });

  it('waits with exponential backoff and full jitter', () => {
    const options = { initialMs: 100, maxMs: 5000 };
    assert.equal(
      backoffDelay(0, options, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(0, options, () => 0.999999),
      99,
    );
    assert.equal(
      backoffDelay(3, options, () => 0.5),
      400,
    );
    assert.equal(
      backoffDelay(10, options, () => 0.999999),
      4999,
      'capped',
    );
    assert.equal(
      backoffDelay(1000, options, () => 0.5),
      2500,
      'no overflow',
    );
    const spread = new Set(range(1, 200).map(() => backoffDelay(4, options)));
    assert.ok(spread.size > 100, 'random within the window');
    assert.ok([...spread].every((ms) => ms >= 0 && ms < 1600));
  });
});
