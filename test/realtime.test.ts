import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { createGroup } from './support/factories.ts';
import { parseSseBlock, type SseEvent } from './support/sse.ts';
import { StreamClient } from './support/ws.ts';
import type { MessageView } from './support/api.ts';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe(`real-time stream (${ENGINE})`, () => {
  let t: TestApp;
  let base: string;
  const open: StreamClient[] = [];

  async function connect(client: Client | null, query: Record<string, string> = {}): Promise<StreamClient> {
    const stream = await StreamClient.connect(base, client?.token ?? null, query);
    open.push(stream);
    return stream;
  }

  async function send(author: Client, chatId: string, text: string): Promise<MessageView> {
    const res = await author.post(`/v1/chats/${chatId}/messages`, { text });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  before(async () => {
    t = await createTestApp({ PARLEY_RESUME_GRACE_MS: '0', PARLEY_TYPING_INTERVAL_MS: '60000' });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await Promise.all(open.map((s) => s.close()));
    await t.close();
  });

  it('authenticates with the Authorization header or ?access_token=, and refuses without', async () => {
    const alice = await t.login('auth-alice');
    const byHeader = await connect(alice);
    assert.deepEqual(byHeader.of('ready'), [{ type: 'ready', userId: 'auth-alice' }]);
    const byQuery = await connect(null, { access_token: alice.token });
    assert.equal(byQuery.of('ready')[0]?.userId, 'auth-alice');
    await assert.rejects(StreamClient.connect(base, null), /HTTP 401/);
    await assert.rejects(StreamClient.connect(base, 'not-a-token'), /HTTP 401/);
  });

  it('answers a plain HTTP request (no Upgrade) with 426 and the standard error body', async () => {
    const alice = await t.login('plain-alice');
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await fetch(`${base}/v1/stream`, {
        method,
        headers: { authorization: `Bearer ${alice.token}` },
      });
      assert.equal(res.status, 426, method);
      assert.equal(res.headers.get('upgrade'), 'websocket', method);
      if (method === 'GET') {
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'upgrade_required');
        assert.match(body.error.message, /WebSocket/);
      }
    }
    const anonymous = await fetch(`${base}/v1/stream`);
    assert.equal(anonymous.status, 401);
  });

  it('delivers message.created to every member, in seq order, with the same view as the REST answer', async () => {
    const alice = await t.login('order-alice');
    const bob = await t.login('order-bob');
    const eve = await t.login('order-eve');
    const chat = await createGroup(alice, [bob]);
    const bobStream = await connect(bob);
    const eveStream = await connect(eve);
    const sent = [];
    for (let i = 1; i <= 5; i++) {
      sent.push(await send(alice, chat.id, `hello ${i}`));
    }
    const frames = await bobStream.waitFor('message.created', (f) => f.chatId === chat.id, 5);
    assert.deepEqual(
      frames.map((f) => f.message),
      sent,
    );
    assert.deepEqual(bobStream.seqs(chat.id), [1, 2, 3, 4, 5]);
    assert.deepEqual(eveStream.of('message.created'), [], 'a non-member hears nothing');
  });

  it('replays what a client missed on resume, then goes live, with nothing twice', async () => {
    const alice = await t.login('resume-alice');
    const bob = await t.login('resume-bob');
    const chat = await createGroup(alice, [bob]);
    const first = await connect(bob);
    for (let i = 1; i <= 3; i++) {
      await send(alice, chat.id, `before ${i}`);
    }
    await first.waitFor((f) => f.type === 'message.created' && f.chatId === chat.id, 3);
    await first.close();
    for (let i = 4; i <= 8; i++) {
      await send(alice, chat.id, `offline ${i}`);
    }
    const second = await connect(bob);
    second.send({ type: 'resume', chats: { [chat.id]: 3 } });
    await second.waitFor((f) => f.type === 'resumed');
    assert.deepEqual(second.seqs(chat.id), [4, 5, 6, 7, 8]);
    await send(alice, chat.id, 'live 9');
    await second.waitFor((f) => f.type === 'message.created' && f.message.seq === 9);
    assert.deepEqual(second.seqs(chat.id), [4, 5, 6, 7, 8, 9]);
  });

  it('loses nothing and repeats nothing when messages are sent while the replay runs', async () => {
    const alice = await t.login('race-alice');
    const bob = await t.login('race-bob');
    const carol = await t.login('race-carol');
    const chat = await createGroup(alice, [bob, carol]);
    for (let i = 1; i <= 60; i++) {
      await send(alice, chat.id, `backlog ${i}`);
    }
    const stream = await connect(bob, { resume: JSON.stringify({ [chat.id]: 0 }) });
    const live = Promise.all(range(61, 200).map((i) => send(i % 2 ? alice : carol, chat.id, `during ${i}`)));
    await live;
    await stream.waitFor((f) => f.type === 'message.created' && f.chatId === chat.id, 200);
    await stream.quietFor(150);
    assert.deepEqual(stream.seqs(chat.id), range(1, 200));
    assert.equal(stream.of('resumed').length, 1);
  });

  it('delivers a burst of parallel sends to every socket of the chat once each, in seq order, frame for frame', async () => {
    const members = await Promise.all(range(1, 4).map((i) => t.login(`burst-${i}`)));
    const chat = await createGroup(members[0]!, members.slice(1));
    // Two sockets per member: one event goes out to all eight in the same turn, some of them in several frames.
    const streams = await Promise.all([...members, ...members].map((member) => connect(member)));
    const sent = await Promise.all(
      range(1, 80).map((i) => send(members[i % members.length]!, chat.id, `burst ${i} ${'é'.repeat(i)}`)),
    );
    const bySeq = new Map(sent.map((message) => [message.seq, message]));
    for (const stream of streams) {
      await stream.waitFor('message.created', (f) => f.chatId === chat.id, 80);
    }
    await streams[0]!.quietFor(100);
    for (const stream of streams) {
      assert.deepEqual(stream.seqs(chat.id), range(1, 80), 'each message once, in seq order');
      for (const frame of stream.of('message.created')) {
        assert.deepEqual(
          frame.message,
          bySeq.get(frame.message.seq),
          'the frame is the message the send answered',
        );
      }
    }
  });

  it('stops delivering to a removed member at once and starts delivering to an added one', async () => {
    const alice = await t.login('mem-alice');
    const bob = await t.login('mem-bob');
    const dave = await t.login('mem-dave');
    const chat = await createGroup(alice, [bob]);
    const bobStream = await connect(bob);
    const daveStream = await connect(dave);
    await send(alice, chat.id, 'one');
    await bobStream.waitFor((f) => f.type === 'message.created' && f.chatId === chat.id);

    assert.equal((await alice.delete(`/v1/chats/${chat.id}/members/${bob.userId}`)).status, 204);
    await bobStream.waitFor((f) => f.type === 'member.removed' && f.userId === bob.userId);
    assert.equal((await alice.post(`/v1/chats/${chat.id}/members`, { userId: dave.userId })).status, 201);
    await daveStream.waitFor((f) => f.type === 'member.added' && f.chatId === chat.id);
    await send(alice, chat.id, 'two');
    await daveStream.waitFor((f) => f.type === 'message.created' && f.chatId === chat.id);
    assert.deepEqual(daveStream.seqs(chat.id), [2], 'the new member starts right after the seq at joining');
    assert.deepEqual(await bobStream.quietFor(150), [], 'the removed member hears nothing more');
    assert.deepEqual(bobStream.seqs(chat.id), [1]);
    assert.equal(bobStream.of('member.removed').length, 1, 'told once, not twice');
  });

  it('tells members of a new chat with their own view of it', async () => {
    const alice = await t.login('new-alice');
    const bob = await t.login('new-bob');
    const bobStream = await connect(bob);
    const aliceStream = await connect(alice);
    const chat = await createGroup(alice, [bob]);
    const [forBob] = await bobStream.waitFor('chat.created', (f) => f.chat.id === chat.id);
    const [forAlice] = await aliceStream.waitFor('chat.created', (f) => f.chat.id === chat.id);
    assert.equal(forBob!.chat.role, 'member');
    assert.equal(forAlice!.chat.role, 'owner');
    await send(alice, chat.id, 'first');
    await bobStream.waitFor((f) => f.type === 'message.created' && f.chatId === chat.id);
    assert.equal((await alice.patch(`/v1/chats/${chat.id}`, { topic: 'news' })).status, 200);
    const [updated] = await bobStream.waitFor('chat.updated');
    assert.equal(updated!.chat.topic, 'news');
    assert.equal(updated!.chat.unreadCount, 1, "bob's own unread count");
  });

  it('delivers edits, deletes and read cursors after the message they concern', async () => {
    const alice = await t.login('edit-alice');
    const bob = await t.login('edit-bob');
    const chat = await createGroup(alice, [bob]);
    const stream = await connect(bob);
    const message = await send(alice, chat.id, 'draft');
    assert.equal((await alice.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'final' })).status, 200);
    assert.equal((await alice.delete(`/v1/chats/${chat.id}/messages/1`)).status, 204);
    assert.equal((await alice.post(`/v1/chats/${chat.id}/read`, { seq: 1 })).status, 200);
    await stream.waitFor((f) => f.type === 'read.updated');
    const types = stream.frames.filter((f) => 'chatId' in f && f.chatId === chat.id).map((f) => f.type);
    assert.deepEqual(types, ['message.created', 'message.updated', 'message.deleted', 'read.updated']);
    const updated = stream.of('message.updated')[0]!;
    assert.equal(updated.message.id, message.id);
    assert.equal(updated.message.text, 'final');
    assert.equal(stream.of('message.deleted')[0]!.message.text, null);
    const read = stream.of('read.updated')[0]!;
    assert.deepEqual(read, {
      type: 'read.updated',
      chatId: chat.id,
      userId: alice.userId,
      seq: 1,
      readAt: read.readAt,
    });
    assert.ok(!Number.isNaN(Date.parse(read.readAt)));
  });

  it('relays typing to the other members, rate-limited per socket, and answers ping', async () => {
    const alice = await t.login('typing-alice');
    const bob = await t.login('typing-bob');
    const chat = await createGroup(alice, [bob]);
    const aliceStream = await connect(alice);
    const bobStream = await connect(bob);
    for (let i = 0; i < 5; i++) {
      aliceStream.send({ type: 'typing', chatId: chat.id });
    }
    await bobStream.waitFor((f) => f.type === 'typing');
    await bobStream.quietFor(150);
    assert.deepEqual(bobStream.of('typing'), [{ type: 'typing', chatId: chat.id, userId: alice.userId }]);
    assert.deepEqual(aliceStream.of('typing'), [], 'nobody hears their own typing');
    aliceStream.send({ type: 'typing', chatId: 'not-my-chat' });
    const [error] = await aliceStream.waitFor('error');
    assert.equal(error!.error.code, 'not_found');
    aliceStream.send({ type: 'ping' });
    await aliceStream.waitFor((f) => f.type === 'pong');
  });

  it('answers malformed frames with an error frame and stays open', async () => {
    const alice = await t.login('frames-alice');
    const stream = await connect(alice);
    stream.socket.send('not json');
    stream.send({ type: 'dance' });
    stream.send({ type: 'resume', chats: { x: -1 } });
    stream.send({ type: 'resume', chats: [1, 2] });
    const errors = await stream.waitFor('error', undefined, 4);
    assert.ok(errors.every((f) => f.error.code === 'invalid_request'));
    assert.match(errors[1]!.error.message, /type: must be one of/);
    stream.send({ type: 'ping' });
    await stream.waitFor((f) => f.type === 'pong');
  });

  it('announces presence: online with the first socket, offline after the last closes', async () => {
    const alice = await t.login('presence-alice');
    const bob = await t.login('presence-bob');
    const watcher = await connect(alice);
    const first = await connect(bob);
    const second = await connect(bob);
    await watcher.waitFor((f) => f.type === 'presence' && f.userId === bob.userId && f.status === 'online');
    assert.equal((await alice.get(`/v1/users/${bob.userId}`)).body.status, 'online');
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(
      (await alice.get(`/v1/users/${bob.userId}`)).body.status,
      'online',
      'one socket is still open',
    );
    await second.close();
    await watcher.waitFor((f) => f.type === 'presence' && f.userId === bob.userId && f.status === 'offline');
    assert.equal((await alice.get(`/v1/users/${bob.userId}`)).body.status, 'offline');
    const online = watcher.of('presence').filter((f) => f.userId === bob.userId && f.status === 'online');
    assert.equal(online.length, 1);
  });

  it('streams the same events as Server-Sent Events, resuming from Last-Event-ID', async () => {
    const alice = await t.login('sse-alice');
    const bob = await t.login('sse-bob');
    const chat = await createGroup(alice, [bob]);
    const events = await readSse(`${base}/v1/events?access_token=${bob.token}`, null, async (frames) => {
      await send(alice, chat.id, 'over sse 1');
      await send(alice, chat.id, 'over sse 2');
      await until(() => frames.filter((f) => f.data.type === 'message.created').length === 2);
    });
    assert.equal(events[0]!.data.type, 'ready');
    const created = events.filter((e) => e.data.type === 'message.created');
    assert.deepEqual(seqsOf(created), [1, 2]);
    const lastId = created[1]!.id!;
    assert.ok(lastId, 'message events carry an id');
    await send(alice, chat.id, 'missed 3');
    await send(alice, chat.id, 'missed 4');
    const resumed = await readSse(
      `${base}/v1/events`,
      { authorization: `Bearer ${bob.token}`, 'last-event-id': lastId },
      async (frames) => {
        await until(() => frames.some((f) => f.data.type === 'resumed'));
      },
    );
    assert.deepEqual(seqsOf(resumed), [3, 4]);
  });
});

/** The seqs of the message.created events among `events`, in order. */
const seqsOf = (events: SseEvent[]) =>
  events.flatMap((e) => (e.data.type === 'message.created' ? [e.data.message.seq] : []));

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) {
      throw new Error('timed out');
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Opens an SSE stream, runs `during` while frames arrive, then disconnects and returns the frames. */
function readSse(
  url: string,
  headers: Record<string, string> | null,
  during: (frames: SseEvent[]) => Promise<void>,
): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const frames: SseEvent[] = [];
    const request = http.get(url, { headers: headers ?? {} }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`HTTP ${response.statusCode}`));
        return;
      }
      assert.match(String(response.headers['content-type']), /text\/event-stream/);
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseSseBlock(block);
          if (event) {
            frames.push(event);
          }
          end = buffer.indexOf('\n\n');
        }
      });
      until(() => frames.some((f) => f.data.type === 'ready'))
        .then(() => during(frames))
        .then(() => {
          request.destroy();
          resolve(frames);
        }, reject);
    });
    request.on('error', (error) => {
      if (!request.destroyed) {
        reject(error);
      }
    });
  });
}
