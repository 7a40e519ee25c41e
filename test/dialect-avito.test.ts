import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { clientFor, createTestApp, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';

/** Avito's task statement: what each of its routes answers. */
interface AvitoChat {
  id: string;
  name: string;
  users: string[];
  created_at: string;
}
interface AvitoMessage {
  id: string;
  chat: string;
  author: string;
  text: string;
  created_at: string;
}
interface AvitoAnswers {
  '/users/add': { id: string };
  '/chats/add': { id: string };
  '/messages/add': { id: string };
  '/chats/get': AvitoChat[];
  '/messages/get': AvitoMessage[];
}
type AvitoAnswer<U extends string> = U extends keyof AvitoAnswers ? AvitoAnswers[U] : unknown;

describe('Avito dialect', () => {
  let t: TestApp;
  const post = <U extends string>(url: U, body: unknown) => t.request<AvitoAnswer<U>>('POST', url, body);
  const addUser = async (username: string): Promise<string> => {
    const res = await post('/users/add', { username });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  };
  const addChat = async (name: string, users: string[]): Promise<string> => {
    const res = await post('/chats/add', { name, users });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  };
  const addMessage = async (chat: string, author: string, text: string): Promise<string> => {
    const res = await post('/messages/add', { chat, author, text });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  };

  before(async () => {
    t = await createTestApp({ DIALECTS: 'avito,drf' });
  });
  after(async () => {
    await t.close();
  });

  it('runs the task statement example end to end', async () => {
    const user1 = await addUser('user_1');
    const user2 = await addUser('user_2');
    assert.equal(typeof user1, 'string');
    const chat = await addChat('chat_1', [user1, user2]);
    const m1 = await addMessage(chat, user1, 'hi');
    const m2 = await addMessage(chat, user2, 'hello');

    const chats = await post('/chats/get', { user: user2 });
    assert.equal(chats.status, 200);
    assert.equal(chats.body.length, 1);
    const [view] = chats.body;
    assert.ok(view);
    assert.deepEqual(Object.keys(view).sort(), ['created_at', 'id', 'name', 'users']);
    assert.equal(view.id, chat);
    assert.equal(view.name, 'chat_1');
    assert.deepEqual(view.users, [user1, user2]);
    assert.ok(!Number.isNaN(Date.parse(view.created_at)));

    const messages = await post('/messages/get', { chat });
    assert.equal(messages.status, 200);
    assert.deepEqual(
      messages.body.map((m) => [m.id, m.chat, m.author, m.text]),
      [
        [m1, chat, user1, 'hi'],
        [m2, chat, user2, 'hello'],
      ],
    );
    assert.deepEqual(Object.keys(messages.body[0] ?? {}).sort(), [
      'author',
      'chat',
      'created_at',
      'id',
      'text',
    ]);
  });

  it('answers GET /health with 200', async () => {
    const res = await t.request<{ status: string }>('GET', '/health');
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'ok');
  });

  it('takes the port from PORT, so PORT=9000 works', () => {
    assert.equal(loadConfig({ PORT: '9000', PARLEY_DATA_DIR: 'memory://', JWT_SECRET: 'x' }).port, 9000);
  });

  it('keeps usernames unique: a second user_x is a 409', async () => {
    await addUser('dup_user');
    const res = await post('/users/add', { username: 'dup_user' });
    assertError(res, 409, 'conflict', /username/);
  });

  it('refuses invalid input with 400 naming the field', async () => {
    for (const [url, body, field] of [
      ['/users/add', {}, 'username'],
      ['/users/add', { username: '' }, 'username'],
      ['/users/add', { username: 'has space' }, 'username'],
      ['/users/add', { username: 'ok', extra: 1 }, 'extra'],
      ['/chats/add', { name: 'x', users: [] }, 'users'],
      ['/chats/add', { users: ['a'] }, 'name'],
      ['/chats/add', { name: 'x', users: [1] }, 'users[0]'],
      ['/messages/add', { chat: 'c', author: 'a' }, 'text'],
      ['/chats/get', { user: 5 }, 'user'],
      ['/messages/get', {}, 'chat'],
    ] as const) {
      const res = await post(url, body);
      assert.equal(res.status, 400, `${url} ${JSON.stringify(body)}`);
      assertError(res, 400, 'invalid_request', field);
    }
  });

  it('refuses a blank message text with 400', async () => {
    const a = await addUser('blank_a');
    const chat = await addChat('blank_chat', [a]);
    const res = await post('/messages/add', { chat, author: a, text: '   ' });
    assertError(res, 400, 'invalid_request', 'text');
  });

  it('answers 404 for unknown users and chats', async () => {
    const a = await addUser('nf_a');
    const chat = await addChat('nf_chat', [a]);
    const cases: [string, unknown, RegExp][] = [
      ['/chats/add', { name: 'nf_chat_2', users: [a, 'ghost'] }, /^users\[1\]:.*ghost/],
      ['/messages/add', { chat: 'no-such-chat', author: a, text: 'x' }, /^chat:/],
      ['/messages/add', { chat, author: 'ghost', text: 'x' }, /^author:/],
      ['/chats/get', { user: 'ghost' }, /^user:/],
      ['/messages/get', { chat: 'no-such-chat' }, /^chat:/],
    ];
    for (const [url, body, message] of cases) {
      const res = await post(url, body);
      assert.equal(res.status, 404, `${url} ${JSON.stringify(body)}`);
      assertError(res, 404, 'not_found', message);
    }
  });

  it('keeps chat names unique in the tenant: 409', async () => {
    const a = await addUser('cn_a');
    await addChat('cn_chat', [a]);
    const res = await post('/chats/add', { name: 'cn_chat', users: [a] });
    assertError(res, 409, 'conflict', 'name');
  });

  it('refuses an author who is not in the chat with 403', async () => {
    const a = await addUser('fb_a');
    const b = await addUser('fb_b');
    const chat = await addChat('fb_chat', [a]);
    const res = await post('/messages/add', { chat, author: b, text: 'let me in' });
    assertError(res, 403, 'forbidden', 'author');
    assert.deepEqual((await post('/messages/get', { chat })).body, []);
  });

  it('takes any number of users, listed once each, the first one first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await addUser(`many_${i}`));
    }
    const chat = await addChat('many_chat', [ids[2]!, ...ids, ids[0]!]);
    const res = await post('/chats/get', { user: ids[4] });
    const view = res.body.find((c) => c.id === chat);
    assert.ok(view);
    assert.equal(view.users.length, 5);
    assert.equal(view.users[0], ids[2]);
    assert.deepEqual([...view.users].sort(), [...ids].sort());
  });

  it('lists chats by their last message, latest first; chats without messages by creation time', async () => {
    const u = await addUser('order_u');
    const first = await addChat('order_1', [u]);
    const second = await addChat('order_2', [u]);
    const third = await addChat('order_3', [u]);
    await addMessage(first, u, 'bump');
    // first: its message is the latest activity; third: created after second and has no message.
    const res = await post('/chats/get', { user: u });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.map((c) => c.name),
      ['order_1', 'order_3', 'order_2'],
    );
    await addMessage(second, u, 'bump');
    const again = await post('/chats/get', { user: u });
    assert.deepEqual(
      again.body.map((c) => c.id),
      [second, first, third],
    );
  });

  it('lists a user without chats as an empty array', async () => {
    const u = await addUser('lonely');
    const res = await post('/chats/get', { user: u });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, []);
  });

  it('lists messages earliest first', async () => {
    const u = await addUser('seq_u');
    const chat = await addChat('seq_chat', [u]);
    const sent: string[] = [];
    for (let i = 1; i <= 5; i++) {
      sent.push(await addMessage(chat, u, `m${i}`));
    }
    const res = await post('/messages/get', { chat });
    assert.deepEqual(
      res.body.map((m) => m.id),
      sent,
    );
    const times = res.body.map((m) => Date.parse(m.created_at));
    assert.deepEqual(
      times,
      [...times].sort((x, y) => x - y),
    );
  });

  it('is readable through the native API in the avito tenant', async () => {
    const a = await addUser('native_a');
    const b = await addUser('native_b');
    const chat = await addChat('native_chat', [a, b]);
    await addMessage(chat, a, 'from avito');

    const asB = clientFor(t.app, b, await t.token(b, { tenant: 'avito' }));
    const view = await asB.get(`/v1/chats/${chat}`);
    assert.equal(view.status, 200, JSON.stringify(view.body));
    assert.equal(view.body.kind, 'group');
    assert.equal(view.body.name, 'native_chat');
    assert.equal(view.body.createdBy, a);
    assert.equal(view.body.memberCount, 2);
    assert.equal(view.body.role, 'member');
    assert.equal(view.body.unreadCount, 1);
    const members = await asB.get(`/v1/chats/${chat}/members`);
    assert.deepEqual(
      members.body.data.map((m) => [m.userId, m.role]).sort(),
      [
        [a, 'owner'],
        [b, 'member'],
      ].sort(),
    );
    const history = await asB.get(`/v1/chats/${chat}/messages`);
    assert.deepEqual(
      history.body.data.map((m) => [m.authorId, m.text]),
      [[a, 'from avito']],
    );
    // A message sent natively shows through Avito.
    const sent = await asB.post(`/v1/chats/${chat}/messages`, { text: 'from native' });
    assert.equal(sent.status, 201);
    const listed = await post('/messages/get', { chat });
    assert.deepEqual(
      listed.body.map((m) => m.text),
      ['from avito', 'from native'],
    );
    // Another tenant sees none of it.
    const outsider = clientFor(t.app, b, await t.token(b));
    assert.equal((await outsider.get(`/v1/chats/${chat}`)).status, 404);
  });

  it('answers a long chat whole, read and written a page at a time', async () => {
    const a = await addUser('long_a');
    const chat = await addChat('long_chat', [a]);
    await addMessage(chat, a, 'first');
    // Past a page (500 messages) and a few into the third; three deleted, one in each page.
    const db = t.app.parley.ctx.db;
    await sql`insert into messages (chat_id, seq, id, author_id, text, created_at)
              select ${chat}, 1 + g, 'long-' || lpad(g::text, 5, '0'), ${a}, 'm ' || g,
                     now() + g * interval '1 ms'
              from generate_series(1, 1233) g`.execute(db);
    await sql`update chats set last_seq = 1234, message_count = 1234 where id = ${chat}`.execute(db);
    await sql`update messages set deleted_at = now(), text = null
              where chat_id = ${chat} and seq in (2, 600, 1234)`.execute(db);
    const expected = (
      await sql<{ id: string; text: string; created_at: Date }>`
        select id, text, created_at from messages where chat_id = ${chat} and deleted_at is null order by seq`.execute(
        db,
      )
    ).rows.map((m) => ({ id: m.id, chat, author: a, text: m.text, created_at: m.created_at.toISOString() }));
    for (let i = 0; i < 2; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/messages/get', payload: { chat } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      // Streamed: no length known up front. The text is what one serialization of the whole list would be.
      assert.equal(res.headers['content-length'], undefined);
      assert.equal(res.body, JSON.stringify(expected));
    }
    const short = await t.app.inject({
      method: 'POST',
      url: '/messages/get',
      payload: { chat: await addChat('short_chat', [a]) },
    });
    assert.equal(short.body, '[]');
    assert.equal(short.headers['content-length'], '2', 'a chat that fits one page is answered whole');
  });

  it('leaves out messages deleted through the native API', async () => {
    const a = await addUser('del_a');
    const chat = await addChat('del_chat', [a]);
    await addMessage(chat, a, 'keep');
    await addMessage(chat, a, 'drop');
    const asA = clientFor(t.app, a, await t.token(a, { tenant: 'avito' }));
    assert.equal((await asA.delete(`/v1/chats/${chat}/messages/2`)).status, 204);
    const res = await post('/messages/get', { chat });
    assert.deepEqual(
      res.body.map((m) => m.text),
      ['keep'],
    );
  });
});

describe('DIALECTS', () => {
  it('mounts none by default', () => {
    assert.deepEqual(loadConfig({ PARLEY_DATA_DIR: 'memory://', JWT_SECRET: 'x' }).dialects, []);
  });

  it('takes a subset, in any case and with spaces', () => {
    const config = loadConfig({ DIALECTS: ' DRF, avito ', PARLEY_DATA_DIR: 'memory://', JWT_SECRET: 'x' });
    assert.deepEqual(config.dialects, ['drf', 'avito']);
  });

  it('refuses an unknown dialect name', () => {
    assert.throws(
      () => loadConfig({ DIALECTS: 'avito,nope', PARLEY_DATA_DIR: 'memory://', JWT_SECRET: 'x' }),
      /DIALECTS: unknown dialect "nope"/,
    );
  });
});
