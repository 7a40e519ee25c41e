import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { WebSocket } from 'ws';
import * as protocol from '../src/realtime/protocol.ts';
import { pruneChanges } from '../src/chats/change.service.ts';
import { mintToken, parley } from '../src/index.ts';
import {
  createTestApp,
  dropSchema,
  ENGINE,
  testAppConfig,
  testSchemaName,
  type TestApp,
} from './support/app.ts';
import {
  diagnose,
  fetchDocument,
  payloadValidators,
  serverMessages,
  type AsyncApiDocument,
  type Channel,
} from './support/asyncapi.ts';
import { createGroup } from './support/factories.ts';
import { SseClient } from './support/sse.ts';
import { StreamClient, type Frame } from './support/ws.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const { ClientFrames, CLOSE_CODES, ControlFrames, MAX_FRAME_BYTES, ServerEvents } = protocol;

describe(`the stream's AsyncAPI document (${ENGINE})`, () => {
  let t: TestApp;
  let base: string;
  let doc: AsyncApiDocument;

  before(async () => {
    t = await createTestApp({ PARLEY_RESUME_GRACE_MS: '0', PARLEY_TYPING_INTERVAL_MS: '0' });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    doc = await fetchDocument(`${base}/asyncapi.json`);
  });

  after(async () => {
    await t.close();
  });

  it('serves /asyncapi.json, which the official AsyncAPI parser reads with no error and no warning', async () => {
    const { document, errors, warnings } = await diagnose(doc);
    assert.deepEqual(errors, []);
    assert.deepEqual(warnings, []);
    assert.ok(document);
    assert.equal(document.version(), '3.0.0');

    const channels = Object.fromEntries(
      document
        .channels()
        .all()
        .map((c) => [c.id(), c.address()]),
    );
    assert.deepEqual(channels, { stream: '/v1/stream', events: '/v1/events' });
    const host = new URL(base).host;
    const servers = Object.fromEntries(
      document
        .servers()
        .all()
        .map((s) => [s.id(), `${s.protocol()}://${s.host()}`]),
    );
    assert.deepEqual(servers, { websocket: `ws://${host}`, sse: `http://${host}` });
    assert.deepEqual(Object.keys(doc.channels.stream!.bindings?.ws?.query.properties ?? {}), [
      'access_token',
      'resume',
    ]);
    const { bearerAuth, accessToken } = doc.components.securitySchemes;
    assert.deepEqual(
      [bearerAuth?.type, bearerAuth?.scheme, bearerAuth?.bearerFormat],
      ['http', 'bearer', 'JWT'],
    );
    assert.deepEqual(
      [accessToken?.type, accessToken?.in, accessToken?.name],
      ['httpApiKey', 'query', 'access_token'],
    );

    const operations = Object.fromEntries(
      document
        .operations()
        .all()
        .map((o) => [o.id(), `${o.action()} ${o.channels().all()[0]!.id()}`]),
    );
    assert.deepEqual(operations, {
      sendStreamEvents: 'send stream',
      sendStreamControl: 'send stream',
      receiveResume: 'receive stream',
      receiveTyping: 'receive stream',
      receivePing: 'receive stream',
      sendServerSentEvents: 'send events',
    });
    const replies = (id: string) =>
      document
        .operations()
        .get(id)
        ?.reply()
        ?.messages()
        .all()
        .map((m) => m.name());
    assert.deepEqual(replies('receivePing'), ['pong']);
    assert.deepEqual(replies('receiveResume'), ['resumed']);

    const events = Object.keys(ServerEvents).sort();
    assert.deepEqual(
      serverMessages(doc.channels.stream!),
      [...events, 'chat.resync', 'error', 'pong', 'ready', 'resumed'].sort(),
    );
    assert.deepEqual(
      serverMessages(doc.channels.events!),
      [...events, 'chat.resync', 'close', 'ready', 'resumed'].sort(),
    );
    assert.deepEqual(
      Object.keys(doc.channels.stream!.messages).filter((key) => key.startsWith('client.')),
      ['client.resume', 'client.typing', 'client.ping'],
    );
    for (const name of [
      'message.created',
      'message.updated',
      'message.deleted',
      'member.added',
      'user.deleted',
    ]) {
      assert.ok(events.includes(name), `${name} is an event of the stream`);
    }
  });

  it("is built from the code's own event schemas: every event a feature declares is in it, and nothing else", async () => {
    // Every `<feature>.events.ts`, found on disk: a feature that declares events the stream does not compose fails.
    const files = readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.events.ts'),
    );
    assert.ok(files.length >= 4, files.join());
    const declared: string[] = [];
    for (const file of files) {
      const module = (await import(pathToFileURL(path.join(ROOT, 'src', file)).href)) as Record<
        string,
        unknown
      >;
      const maps = Object.values(module).filter(
        (value): value is Record<string, { type: string }> =>
          typeof value === 'object' &&
          value !== null &&
          Object.values(value).every((schema) => (schema as { type?: string }).type === 'object'),
      );
      assert.equal(maps.length, 1, `${file} declares one map of event schemas`);
      declared.push(...Object.keys(maps[0]!));
    }
    declared.push(...Object.keys(protocol.StreamEvents));
    assert.equal(new Set(declared).size, declared.length, 'no event name is declared twice');
    assert.deepEqual([...declared].sort(), Object.keys(ServerEvents).sort());

    const documented = serverMessages(doc.channels.events!).filter((key) => !(key in ControlFrames));
    assert.deepEqual(documented, [...declared].sort());
    for (const [key, message] of Object.entries(doc.components.messages)) {
      assert.ok(message.description, `${key} is described`);
    }
    for (const [type, schema] of Object.entries({ ...ServerEvents, ...ControlFrames })) {
      const message = doc.components.messages[type]!;
      assert.equal(message.name, type);
      const payload = message.payload as { properties: Record<string, unknown>; required: string[] };
      assert.deepEqual(payload.properties.type, { type: 'string', const: type });
      assert.deepEqual(Object.keys(payload.properties), ['type', ...Object.keys(schema.properties)]);
    }
    for (const type of Object.keys(ClientFrames)) {
      assert.equal(doc.components.messages[`client.${type}`]?.name, type);
    }
  });

  it('lists every close code the server uses, each described, and the server closes with them', async () => {
    const constants = Object.entries(protocol).filter(
      ([name]) => name.startsWith('CLOSE_') && name !== 'CLOSE_CODES',
    );
    assert.ok(constants.length >= 9);
    const table = doc.channels.stream!.description;
    for (const [name, code] of constants) {
      assert.ok(CLOSE_CODES[code as number], `${name} is described`);
      assert.match(
        table,
        new RegExp(`\\| ${code as number} \\| \\w`),
        `${name} (${code}) is in the document`,
      );
    }
    assert.equal(Object.keys(CLOSE_CODES).length, constants.length, 'nothing but the constants is described');
    // Every close in the stream's code names its code by one of those constants.
    const sources = readdirSync(path.join(ROOT, 'src/realtime'), { recursive: true, encoding: 'utf8' });
    for (const file of sources.filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(path.join(ROOT, 'src/realtime', file), 'utf8');
      assert.doesNotMatch(source, /close\(\s*\d/, `${file} closes with a bare number`);
    }

    const alice = await t.login('close-alice');
    assert.equal(await closeCodeOf(`${base}/v1/stream?resume=%5B`, alice.token), protocol.CLOSE_POLICY);
    const big = await StreamClient.connect(base, alice.token);
    big.socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(MAX_FRAME_BYTES) }));
    assert.equal(await big.waitForClose(), protocol.CLOSE_MESSAGE_TOO_BIG);
  });

  it("describes every frame of a live session: each one validates against its message's payload schema", async () => {
    const validator = payloadValidators(doc);
    const stream = doc.channels.stream!;
    const events = doc.channels.events!;
    const [alice, bob, carol, dave] = await Promise.all(
      ['live-alice', 'live-bob', 'live-carol', 'live-dave'].map((name) => t.login(name)),
    );
    // Connected where the document says the stream is.
    const bobWs = await StreamClient.connect(base, bob!.token, {}, stream.address);
    const bobSse = await SseClient.connect(`${base}${events.address}?access_token=${bob!.token}`);
    const seen = async (type: Frame['type'], predicate: (frame: Frame) => boolean = () => true) => {
      await bobWs.waitFor((f) => f.type === type && predicate(f));
      if (serverMessages(events).includes(type)) {
        await bobSse.waitFor(type, predicate);
      }
    };

    const chat = await createGroup(alice!, [bob!, carol!]);
    const inChat = (f: Frame) => ('chatId' in f ? f.chatId : 'chat' in f ? f.chat.id : null) === chat.id;
    await seen('chat.created', inChat);
    const carolSse = await SseClient.connect(`${base}${events.address}`, {
      authorization: `Bearer ${carol!.token}`,
    });
    const sent = await alice!.post(`/v1/chats/${chat.id}/messages`, { text: 'hello', clientId: 'c-1' });
    assert.equal(sent.status, 201);
    await seen('message.created', inChat);
    assert.ok(
      bobSse.events.find((e) => e.data.type === 'message.created')?.id,
      'an SSE message carries an id',
    );
    assert.equal((await alice!.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'edited' })).status, 200);
    await seen('message.updated', inChat);
    assert.equal((await alice!.delete(`/v1/chats/${chat.id}/messages/1`)).status, 204);
    await seen('message.deleted', inChat);
    await alice!.post(`/v1/chats/${chat.id}/messages`, { text: 'again', replyTo: 1 });
    assert.equal((await alice!.put(`/v1/chats/${chat.id}/messages/2/reactions/%F0%9F%91%8D`)).status, 201);
    await seen('reaction.added', inChat);
    assert.equal((await alice!.delete(`/v1/chats/${chat.id}/messages/2/reactions/%F0%9F%91%8D`)).status, 204);
    await seen('reaction.removed', inChat);
    assert.equal((await alice!.put(`/v1/chats/${chat.id}/messages/2/pin`)).status, 201);
    await seen('message.pinned', inChat);
    assert.equal((await alice!.delete(`/v1/chats/${chat.id}/messages/2/pin`)).status, 204);
    await seen('message.unpinned', inChat);
    assert.equal((await alice!.post(`/v1/chats/${chat.id}/messages`, { text: 'hi @live-bob' })).status, 201);
    await seen('mention.created', inChat);
    const threaded = await alice!.post(`/v1/chats/${chat.id}/messages`, {
      text: 'in a thread',
      threadRoot: 2,
    });
    assert.equal(threaded.status, 201);
    await seen('thread.updated', inChat);
    assert.equal((await alice!.post(`/v1/chats/${chat.id}/read`, { seq: 2 })).status, 200);
    await seen('read.updated', inChat);
    assert.equal((await alice!.patch(`/v1/chats/${chat.id}`, { topic: 'a topic' })).status, 200);
    await seen('chat.updated', inChat);
    assert.equal((await bob!.patch(`/v1/chats/${chat.id}/settings`, { muted: true })).status, 200);
    await seen('settings.updated', inChat);
    assert.equal((await alice!.post(`/v1/chats/${chat.id}/members`, { userId: dave!.userId })).status, 201);
    await seen('member.added', (f) => inChat(f) && 'userId' in f && f.userId === dave!.userId);
    assert.equal((await alice!.delete(`/v1/chats/${chat.id}/members/${dave!.userId}`)).status, 204);
    await seen('member.removed', (f) => inChat(f) && 'userId' in f && f.userId === dave!.userId);
    const members = `/v1/chats/${chat.id}/members`;
    assert.equal((await alice!.post(`${members}/${carol!.userId}/mute`, {})).status, 200);
    await seen('member.muted', inChat);
    assert.equal((await alice!.delete(`${members}/${carol!.userId}/mute`)).status, 204);
    await seen('member.unmuted', inChat);
    assert.equal((await alice!.post(`${members}/${dave!.userId}/ban`, {})).status, 200);
    await seen('member.banned', inChat);
    assert.equal((await alice!.delete(`${members}/${dave!.userId}/ban`)).status, 204);
    await seen('member.unbanned', inChat);
    const report = await bob!.post(`/v1/chats/${chat.id}/messages/2/report`, { reason: 'a test' });
    const boss = await t.login('live-boss', { admin: true });
    assert.equal(
      (await boss.post(`/v1/reports/${report.body.id}/resolve`, { action: 'dismiss' })).status,
      200,
    );
    await seen('report.resolved', inChat);

    // Alice's first stream: the tenant hears her online; then she types.
    const aliceWs = await StreamClient.connect(base, alice!.token, {}, stream.address);
    await seen('presence', (f) => 'userId' in f && f.userId === alice!.userId);
    const sentByClient: [string, object][] = [
      ['client.typing', { type: 'typing', chatId: chat.id }],
      ['client.ping', { type: 'ping' }],
      ['client.resume', { type: 'resume', chats: { [chat.id]: 0 }, changes: { [chat.id]: 0 } }],
    ];
    for (const [key, frame] of sentByClient) {
      const validate = validator(key);
      assert.ok(validate(frame), `${key}: ${JSON.stringify(validate.errors)}`);
    }
    aliceWs.send(sentByClient[0]![1]);
    await seen('typing', inChat);
    bobWs.send(sentByClient[1]![1]);
    await bobWs.waitFor('pong');
    bobWs.send(sentByClient[2]![1]);
    await bobWs.waitFor('resumed');
    // A frame the document's schema refuses is one the server refuses too.
    const unknownChat = { type: 'typing' };
    assert.equal(validator('client.typing')(unknownChat), false);
    bobWs.send(unknownChat);
    await bobWs.waitFor('error');
    // The server resumes an SSE stream from its cursor as well, and says so.
    const lastId = bobSse.events.findLast((e) => e.data.type === 'message.created')!.id!;
    const resumedSse = await SseClient.connect(`${base}${events.address}`, {
      authorization: `Bearer ${bob!.token}`,
      'last-event-id': lastId,
    });
    await resumedSse.waitFor('resumed');
    resumedSse.close();
    // Changes no longer kept: a resume from before them is told to reload the chat.
    assert.ok((await pruneChanges(t.app.parley.ctx, 7, new Date(Date.now() + 30 * 86_400_000))) > 0);
    const fromScratch = JSON.stringify({ chats: { [chat.id]: 2 }, changes: { [chat.id]: 0 } });
    const resyncWs = await StreamClient.connect(base, bob!.token, { resume: fromScratch }, stream.address);
    await resyncWs.waitFor('chat.resync');
    const resyncSse = await SseClient.connect(
      `${base}${events.address}?resume=${encodeURIComponent(fromScratch)}`,
      { authorization: `Bearer ${bob!.token}` },
    );
    await resyncSse.waitFor('chat.resync');
    resyncSse.close();

    // Carol deletes herself: the chat hears her leave, the tenant hears it, her stream ends with 4001.
    assert.equal((await carol!.delete('/v1/me')).status, 204);
    await seen('member.removed', (f) => inChat(f) && 'userId' in f && f.userId === carol!.userId);
    await seen('user.deleted', (f) => 'userId' in f && f.userId === carol!.userId);
    const [closing] = await carolSse.waitFor('close');
    assert.deepEqual(closing, { type: 'close', code: protocol.CLOSE_USER_DELETED, reason: 'user deleted' });

    assert.equal((await alice!.delete(`/v1/chats/${chat.id}`)).status, 204);
    await seen('chat.deleted', inChat);

    // Every frame validates, and every frame type the document names for the server was seen live.
    const check = (frames: Frame[], channel: Channel, where: string) => {
      for (const frame of frames) {
        const validate = validator(frame.type);
        assert.ok(
          validate(frame),
          `${where} ${frame.type}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(frame)}`,
        );
      }
      const types = [...new Set(frames.map((f) => f.type))].sort();
      assert.deepEqual(
        types,
        serverMessages(channel),
        `${where}: the frame types seen are the documented ones`,
      );
    };
    check([...bobWs.frames, ...aliceWs.frames, ...resyncWs.frames], stream, 'WebSocket');
    check([...bobSse.frames, ...carolSse.frames, ...resumedSse.frames, ...resyncSse.frames], events, 'SSE');
    await Promise.all([bobWs.close(), aliceWs.close(), resyncWs.close()]);
    bobSse.close();
    carolSse.close();
  });

  it('is served under the prefix Parley is mounted at, with addresses that reach the stream', async () => {
    const schema = testSchemaName();
    const config = await testAppConfig({}, schema);
    // Opening and migrating the embedded database can take longer than Fastify's default 10 s plugin timeout.
    const host = Fastify({ pluginTimeout: 120_000 });
    await host.register(parley, { config, prefix: '/chat' });
    try {
      const url = await host.listen({ port: 0, host: '127.0.0.1' });
      const mounted = await fetchDocument(`${url}/chat/asyncapi.json`);
      assert.equal(mounted.channels.stream?.address, '/chat/v1/stream');
      assert.equal(mounted.channels.events?.address, '/chat/v1/events');
      assert.deepEqual((await diagnose(mounted)).errors, []);
      const token = await mintToken(config.jwt, { sub: 'mounted' });
      const ws = await StreamClient.connect(url, token, {}, mounted.channels.stream.address);
      assert.deepEqual(ws.of('ready'), [{ type: 'ready', userId: 'mounted' }]);
      await ws.close();
      const sse = await SseClient.connect(`${url}${mounted.channels.events.address}?access_token=${token}`);
      sse.close();
    } finally {
      await host.close();
      await dropSchema(schema);
    }
  });
});

/** Opens a WebSocket and resolves with the code it is closed with (for streams that never get to `ready`). */
function closeCodeOf(url: string, token: string): Promise<number> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers: { authorization: `Bearer ${token}` } });
  return new Promise((resolve, reject) => {
    socket.once('close', (code) => resolve(code));
    socket.once('error', reject);
  });
}
