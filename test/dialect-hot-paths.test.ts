import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';

/**
 * The dialects' hot paths (a send, a chat's messages) skip the look-ups their answers need only when something is
 * wrong, and remember what never changes (which chat a number names, which tenant a token names). A chat deleted
 * after it was remembered must still answer as it did: 404.
 */
describe(`dialect hot paths after a chat is gone (${ENGINE})`, () => {
  let t: TestApp;
  /** What these tests read of the answers, whichever dialect gives them. */
  interface Answer {
    status: number;
    body: {
      id: string;
      application_token: string;
      chat_number: number;
      msg: string;
      length: number;
      error: { code: string; message: string };
    };
  }
  const call = async (method: string, url: string, body?: unknown) =>
    (await t.request(method, url, body)) as unknown as Answer;
  const drop = async (chatId: string) => {
    await sql`update chats set deleted_at = now() where id = ${chatId}`.execute(t.app.parley.ctx.db);
  };

  before(async () => {
    t = await createTestApp({ DIALECTS: 'avito,drf,instabug' });
  });
  after(async () => {
    await t.close();
  });

  it('Instabug: a send and a list into a remembered chat that is gone are 404, as an unknown one', async () => {
    const app = await call('POST', '/api/applications', { application_name: 'hot' });
    const token = app.body.application_token;
    const chat = await call('POST', `/api/applications/${token}/chats`, { chat_name: 'hot' });
    const n = chat.body.chat_number;
    const messages = `/api/applications/${token}/chats/${n}/messages`;
    assert.equal((await call('POST', messages, { message_content: 'one' })).status, 201);
    assert.equal((await call('GET', messages)).body.length, 1);
    assert.equal((await call('POST', messages, { message_content: ' ' })).status, 422);
    const { rows } = await sql<{ id: string }>`
      select c.id from chats c join tenants t on t.id = c.tenant_id
      where t.token = ${token} and c.number = ${n}`.execute(t.app.parley.ctx.db);
    await drop(rows[0]!.id);
    // As this mount answers a chat it never had (`{"error": ...}`): the same 404 and body.
    const unknownChat = await call('GET', `/api/applications/${token}/chats/${n + 1}/messages`);
    assert.equal(unknownChat.status, 404);
    assert.deepEqual(unknownChat.body, { error: `chat number ${n + 1} not found` });
    for (const res of [
      await call('POST', messages, { message_content: 'two' }),
      await call('GET', messages),
      await call('GET', `${messages}?page=1&per_page=10`),
    ]) {
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.deepEqual(res.body, { error: `chat number ${n} not found` });
    }
    const neverHad = await call('POST', `/api/applications/${token}/chats/${n + 1}/messages`, {
      message_content: 'x',
    });
    assert.equal(neverHad.status, 404);
    assert.deepEqual(neverHad.body, unknownChat.body);
    const unknownToken = await call('GET', `/api/applications/${token}x/chats/${n}/messages`);
    assert.equal(unknownToken.status, 404);
    assert.equal(typeof unknownToken.body.error, 'string');
  });

  it('DRF: a send into a remembered room that is gone fails as an unknown room; a stranger and an unknown sender fail as before', async () => {
    // Every well-formed send is a task (SUCCESS or FAILURE): the checks made after a refused send name the same
    // failure the checks made first would.
    const user = async (username: string) =>
      (await call('POST', '/users/', { username, password: 'secret', profile: {} })).body.id;
    const a = await user('hot_drf_a');
    const b = await user('hot_drf_b');
    const room = (await t.request('POST', '/chat/chatroom/', {
      room_name: 'hot drf',
      room_member: [{ username: 'hot_drf_a' }],
    })) as unknown as { body: { data: { id: number } } };
    const number = room.body.data.id;
    const task = async (body: unknown) => {
      const sent = (await t.request('POST', `/chat/group/${number}/`, body)) as unknown as {
        status: number;
        body: { data: string };
      };
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      const state = await t.request('GET', `/chat/task_state/${sent.body.data}`);
      assert.equal(state.status, 200, JSON.stringify(state.body));
      return state.body as { state: string; result: unknown };
    };
    assert.equal((await task({ from: a, text: 'hi' })).state, 'SUCCESS');
    const stranger = await task({ from: b, text: 'let me in' });
    assert.equal(stranger.state, 'FAILURE');
    assert.match(String(stranger.result), /PermissionDenied: User doesn't belong to chatroom/);
    const unknown = await task({ from: 999999, text: 'who' });
    assert.equal(unknown.state, 'FAILURE');
    assert.match(String(unknown.result), /User\.DoesNotExist/);
    const blank = await task({ from: a, text: '   ' });
    assert.equal(blank.state, 'FAILURE');
    assert.match(String(blank.result), /ValidationError.*blank/);
    const { rows } = await sql<{ id: string }>`
      select id from chats where number = ${number} and name = 'hot drf'`.execute(t.app.parley.ctx.db);
    await drop(rows[0]!.id);
    const gone = await task({ from: a, text: 'anyone?' });
    assert.equal(gone.state, 'FAILURE');
    assert.match(String(gone.result), /ChatRoom\.DoesNotExist: ChatRoom matching query/);
    // An unknown sender is named first, as the original's task looks the sender up before the room.
    assert.match(String((await task({ from: 999999, text: 'who' })).result), /User\.DoesNotExist/);
  });

  it('DRF: reading a room marks it seen up to its last message, and writes nothing when it is seen already', async () => {
    const user = async (username: string) =>
      (await call('POST', '/users/', { username, password: 'secret', profile: {} })).body.id;
    const a = await user('hot_seen_a');
    const b = await user('hot_seen_b');
    const room = (await t.request('POST', '/chat/chatroom/', {
      room_name: 'hot seen',
      room_member: [{ username: 'hot_seen_a' }, { username: 'hot_seen_b' }],
    })) as unknown as { body: { data: { id: number } } };
    const number = room.body.data.id;
    const cursor = async () => {
      const { rows } = await sql<{ seq: number; updated: number }>`
        select m.last_read_seq::int as seq, m.xmin::text::bigint as updated from members m
        join chats c on c.id = m.chat_id where c.number = ${number} and c.name = 'hot seen' and m.user_id = ${String(a)}`.execute(
        t.app.parley.ctx.db,
      );
      return rows[0]!;
    };
    for (const text of ['one', 'two']) {
      assert.equal((await call('POST', `/chat/group/${number}/`, { from: b, text })).status, 200);
    }
    const read = async () => {
      const res = await t.request('GET', `/chat/messages/${number}/?user_id=${a}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return (res.body as { data: { messages: { text: string }[] } }).data.messages.map((m) => m.text);
    };
    assert.deepEqual(await read(), ['one', 'two']);
    const seen = await cursor();
    assert.equal(seen.seq, 2);
    assert.deepEqual(await read(), ['one', 'two']);
    assert.deepEqual(await cursor(), seen, 'the member row is not written again');
    assert.equal((await call('POST', `/chat/group/${number}/`, { from: b, text: 'three' })).status, 200);
    assert.deepEqual(await read(), ['one', 'two', 'three']);
    assert.equal((await cursor()).seq, 3);
    const stranger = await user('hot_seen_d');
    assert.equal((await t.request('GET', `/chat/messages/${number}/?user_id=${stranger}`)).status, 404);
    assert.equal((await t.request('GET', `/chat/messages/${number}/?user_id=987654`)).status, 404);
  });

  it('Avito: a send into and a read of a chat that is gone are 404 naming the chat', async () => {
    const a = (await call('POST', '/users/add', { username: 'hot_avito_a' })).body.id;
    const chat = (await call('POST', '/chats/add', { name: 'hot avito', users: [a] })).body.id;
    assert.equal((await call('POST', '/messages/add', { chat, author: a, text: 'hi' })).status, 201);
    assert.equal((await call('POST', '/messages/get', { chat })).body.length, 1);
    await drop(chat);
    for (const res of [
      await call('POST', '/messages/add', { chat, author: a, text: 'anyone?' }),
      await call('POST', '/messages/get', { chat }),
    ]) {
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.match(res.body.error.message, /chat/);
    }
  });
});
