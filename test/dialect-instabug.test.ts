import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, dropSchema, TEST_DATABASE_URL, testSchemaName, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { clusterEnv, startServer, type ServerProcess } from './support/server.ts';

/** What the Instabug challenge's API answers: the seed text's field names beside the de-facto ones. */
interface InstabugApplication {
  type: 'application';
  application_name: string;
  name: string;
  /** Left out of the list of every application. */
  application_token: string;
  token: string;
  chats_count: number;
  created_at: string;
  updated_at: string;
}
interface InstabugChat {
  type: 'chat';
  application_token: string;
  chat_number: number;
  number: number;
  chat_name: string | null;
  name: string | null;
  messages_count: number;
  created_at: string;
  updated_at: string;
}
interface InstabugMessage {
  type: 'message';
  application_token: string;
  chat_number: number;
  message_number: number;
  number: number;
  message_content: string | null;
  body: string | null;
  created_at: string;
  updated_at: string;
}
interface InstabugHit extends InstabugMessage {
  content: string | null;
}

type PathOf<U extends string> = U extends `${infer P}?${string}` ? P : U;
/** What a route answers, by method and path (under `/api`, `/api/v1` or the root). */
type InstabugAnswer<M extends string, P extends string> = P extends `${string}/search`
  ? InstabugHit[]
  : P extends `${string}/chats/${string}/messages/${string}`
    ? InstabugMessage
    : P extends `${string}/chats/${string}/messages`
      ? M extends 'GET'
        ? InstabugMessage[]
        : InstabugMessage
      : P extends `${string}/chats/${string}`
        ? M extends 'POST'
          ? InstabugMessage
          : InstabugChat
        : P extends `${string}/chats`
          ? M extends 'GET'
            ? InstabugChat[]
            : InstabugChat
          : P extends `${string}/applications/${string}`
            ? InstabugApplication
            : P extends `${string}/applications`
              ? M extends 'GET'
                ? InstabugApplication[]
                : InstabugApplication
              : unknown;

const ID_KEYS = ['id', 'chatId', 'chat_id', 'application_id', 'tenantId', 'authorId'];

/** No internal id anywhere in an answer, however deep. */
function assertNoIds(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach(assertNoIds);
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      assert.ok(!ID_KEYS.includes(key), `answer carries an internal id field "${key}"`);
      assertNoIds(inner);
    }
  }
}

describe('Instabug dialect', () => {
  let t: TestApp;
  const req = <M extends string, U extends string>(method: M, url: U, body?: unknown) =>
    t.request<InstabugAnswer<M, PathOf<U>>>(method, url, body);

  async function newApp(name = 'my app'): Promise<string> {
    const res = await req('POST', '/api/applications', { application_name: name });
    assert.equal(res.status, 201);
    return res.body.application_token;
  }

  before(async () => {
    t = await createTestApp({ DIALECTS: 'instabug,sourceloop' });
  });
  after(async () => {
    await t.close();
  });

  it('creates an application with an unguessable token, in the seed shape and the de-facto one', async () => {
    const res = await req('POST', '/api/applications', { application_name: 'Seed app' });
    assert.equal(res.status, 201);
    assert.equal(res.body.type, 'application');
    assert.equal(res.body.application_name, 'Seed app');
    assert.equal(res.body.name, 'Seed app');
    assert.equal(res.body.chats_count, 0);
    assert.match(res.body.application_token, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(res.body.token, res.body.application_token);
    assert.ok(res.body.created_at && res.body.updated_at);
    assertNoIds(res.body);
    const other = await req('POST', '/applications', { name: 'De facto' });
    assert.equal(other.status, 201);
    assert.equal(other.body.application_name, 'De facto');
    assert.notEqual(other.body.application_token, res.body.application_token);
    const wrapped = await req('POST', '/api/v1/applications', { application: { name: 'Wrapped' } });
    assert.equal(wrapped.status, 201);
    assert.equal(wrapped.body.name, 'Wrapped');
  });

  it('refuses an application without a name with 422', async () => {
    for (const body of [{}, { application_name: '   ' }, { title: 'x' }]) {
      const res = await req('POST', '/api/applications', body);
      assertError(res, 422, 'invalid_request', /application_name/);
    }
    const wrongType = await req('POST', '/api/applications', { name: 5 });
    assertError(wrongType, 422, 'invalid_request', /^name: must be a string/);
    const tooLong = await req('POST', '/api/applications', { name: 'x'.repeat(201) });
    assert.equal(tooLong.status, 422);
  });

  it('reads, renames (PATCH and PUT) and lists applications; the list never shows tokens', async () => {
    const token = await newApp('before');
    const read = await req('GET', `/api/applications/${token}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.application_name, 'before');
    const patched = await req('PATCH', `/api/applications/${token}`, { application_name: 'patched' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.application_name, 'patched');
    assert.ok(patched.body.updated_at >= read.body.updated_at);
    const put = await req('PUT', `/api/applications/${token}`, { name: 'put' });
    assert.equal(put.status, 200);
    assert.equal(put.body.name, 'put');
    assert.equal((await req('GET', `/api/applications/${token}`)).body.name, 'put');
    const blank = await req('PUT', `/api/applications/${token}`, { name: '' });
    assert.equal(blank.status, 422);
    const list = await req('GET', '/api/applications?per_page=200');
    assert.equal(list.status, 200);
    const mine = list.body.find((a) => a.name === 'put');
    assert.ok(mine);
    assert.equal(mine.chats_count, 0);
    assert.equal(JSON.stringify(list.body).includes(token), false);
    assertNoIds(list.body);
    assert.equal((await req('GET', '/api/applications?page=0')).status, 422);
  });

  it('answers 404 for an unknown token at every level', async () => {
    for (const [method, url] of [
      ['GET', '/api/applications/nope'],
      ['PATCH', '/api/applications/nope'],
      ['GET', '/api/applications/nope/chats'],
      ['POST', '/api/applications/nope/chats'],
      ['GET', '/api/applications/nope/chats/1'],
      ['POST', '/api/applications/nope/chats/1/messages'],
      ['GET', '/api/applications/nope/chats/1/search?q=hi'],
    ] as const) {
      const res = await req(method, url, method === 'GET' ? undefined : { name: 'x', body: 'y' });
      assert.equal(res.status, 404, `${method} ${url}`);
      assertError(res, 404, 'not_found');
    }
  });

  it('numbers chats per application from 1, with or without a name, and counts them exactly', async () => {
    const a = await newApp('numbers a');
    const b = await newApp('numbers b');
    const first = await req('POST', `/api/applications/${a}/chats`, { chat_name: 'support' });
    assert.equal(first.status, 201);
    assert.deepEqual(
      {
        type: first.body.type,
        token: first.body.application_token,
        n: first.body.chat_number,
        name: first.body.chat_name,
      },
      { type: 'chat', token: a, n: 1, name: 'support' },
    );
    assert.equal(first.body.messages_count, 0);
    assertNoIds(first.body);
    // No body at all, and an empty body with a JSON content type (what Rails clients send).
    const second = await t.app.inject({ method: 'POST', url: `/applications/${a}/chats` });
    assert.equal(second.statusCode, 201);
    assert.equal(second.json<InstabugChat>().number, 2);
    const third = await t.app.inject({
      method: 'POST',
      url: `/api/v1/applications/${a}/chats`,
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    assert.equal(third.statusCode, 201);
    assert.equal(third.json<InstabugChat>().chat_number, 3);
    // Same name twice is fine: chats are told apart by number.
    assert.equal(
      (await req('POST', `/api/applications/${a}/chats`, { name: 'support' })).body.chat_number,
      4,
    );
    assert.equal((await req('POST', `/api/applications/${b}/chats`, {})).body.chat_number, 1);
    assert.equal((await req('GET', `/api/applications/${a}`)).body.chats_count, 4);
    assert.equal((await req('GET', `/api/applications/${b}`)).body.chats_count, 1);
    const list = await req('GET', `/api/applications/${a}/chats`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.map((c) => c.number),
      [1, 2, 3, 4],
    );
    const paged = await req('GET', `/api/applications/${a}/chats?page=2&per_page=3`);
    assert.deepEqual(
      paged.body.map((c) => c.number),
      [4],
    );
    assert.equal((await req('POST', `/api/applications/${a}/chats`, { chat_name: '  ' })).status, 422);
  });

  it('reads and renames a chat (PATCH and PUT); unknown or malformed numbers are 404', async () => {
    const a = await newApp('chat crud');
    await req('POST', `/api/applications/${a}/chats`, { chat_name: 'one' });
    const read = await req('GET', `/api/applications/${a}/chats/1`);
    assert.equal(read.status, 200);
    assert.equal(read.body.chat_name, 'one');
    const patched = await req('PATCH', `/api/applications/${a}/chats/1`, { chat_name: 'uno' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.name, 'uno');
    const put = await req('PUT', `/api/applications/${a}/chats/1`, { name: 'eins' });
    assert.equal(put.body.chat_name, 'eins');
    assert.equal((await req('PUT', `/api/applications/${a}/chats/1`, {})).status, 422);
    for (const n of ['2', '0', 'abc', '-1']) {
      const res = await req('GET', `/api/applications/${a}/chats/${n}`);
      assert.equal(res.status, 404, n);
      assertError(res, 404, 'not_found');
    }
  });

  it('numbers messages per chat from 1 through both create paths and both body fields', async () => {
    const a = await newApp('messages');
    await req('POST', `/api/applications/${a}/chats`, { chat_name: 'c1' });
    await req('POST', `/api/applications/${a}/chats`, { chat_name: 'c2' });
    const seed = await req('POST', `/api/applications/${a}/chats/1`, { message_content: 'hello there' });
    assert.equal(seed.status, 201);
    assert.deepEqual(
      {
        type: seed.body.type,
        application_token: seed.body.application_token,
        chat_number: seed.body.chat_number,
        message_number: seed.body.message_number,
        message_content: seed.body.message_content,
      },
      {
        type: 'message',
        application_token: a,
        chat_number: 1,
        message_number: 1,
        message_content: 'hello there',
      },
    );
    assertNoIds(seed.body);
    const variant = await req('POST', `/api/applications/${a}/chats/1/messages`, { body: 'second one' });
    assert.equal(variant.status, 201);
    assert.equal(variant.body.number, 2);
    assert.equal(variant.body.body, 'second one');
    const wrapped = await req('POST', `/applications/${a}/chats/1/messages`, { message: { body: 'third' } });
    assert.equal(wrapped.body.message_number, 3);
    const otherChat = await req('POST', `/api/applications/${a}/chats/2/messages`, { body: 'elsewhere' });
    assert.equal(otherChat.body.message_number, 1);
    assert.equal((await req('GET', `/api/applications/${a}/chats/1`)).body.messages_count, 3);
    for (const body of [{}, { body: '' }, { message_content: '  ' }]) {
      const res = await req('POST', `/api/applications/${a}/chats/1/messages`, body);
      assertError(res, 422, 'invalid_request', /message_content/);
    }
    assert.equal((await req('POST', `/api/applications/${a}/chats/9/messages`, { body: 'x' })).status, 404);
    const list = await req('GET', `/api/applications/${a}/chats/1/messages`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.map((m) => [m.number, m.body]),
      [
        [1, 'hello there'],
        [2, 'second one'],
        [3, 'third'],
      ],
    );
    assertNoIds(list.body);
    const page = await req('GET', `/api/applications/${a}/chats/1/messages?page=2&per_page=2`);
    assert.deepEqual(
      page.body.map((m) => m.number),
      [3],
    );
  });

  it('reads and edits one message (PATCH and PUT), 404 for an unknown number', async () => {
    const a = await newApp('message crud');
    await req('POST', `/api/applications/${a}/chats`, {});
    await req('POST', `/api/applications/${a}/chats/1`, { message_content: 'original' });
    const read = await req('GET', `/api/applications/${a}/chats/1/messages/1`);
    assert.equal(read.status, 200);
    assert.equal(read.body.message_content, 'original');
    const patched = await req('PATCH', `/api/applications/${a}/chats/1/messages/1`, {
      message_content: 'edited',
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.body, 'edited');
    assert.ok(patched.body.updated_at > patched.body.created_at);
    const put = await req('PUT', `/api/applications/${a}/chats/1/messages/1`, { body: 'put' });
    assert.equal(put.body.message_content, 'put');
    assert.equal((await req('PUT', `/api/applications/${a}/chats/1/messages/1`, { body: '' })).status, 422);
    assert.equal((await req('GET', `/api/applications/${a}/chats/1/messages/2`)).status, 404);
    assert.equal(
      (await req('PATCH', `/api/applications/${a}/chats/1/messages/2`, { body: 'x' })).status,
      404,
    );
  });

  it('searches one chat for parts of words, from the query string or the body; [] for an empty query', async () => {
    const a = await newApp('search');
    await req('POST', `/api/applications/${a}/chats`, {});
    await req('POST', `/api/applications/${a}/chats`, {});
    await req('POST', `/api/applications/${a}/chats/1`, { message_content: 'the elephant is grey' });
    await req('POST', `/api/applications/${a}/chats/1`, { message_content: 'nothing to see' });
    await req('POST', `/api/applications/${a}/chats/2`, { message_content: 'another elephant here' });
    const seed = await req('GET', `/api/applications/${a}/chats/1/search?search_query=eleph`);
    assert.equal(seed.status, 200);
    assert.deepEqual(
      seed.body.map((h) => [h.number, h.content]),
      [[1, 'the elephant is grey']],
    );
    assertNoIds(seed.body);
    const viaBody = await t.app.inject({
      method: 'GET',
      url: `/api/applications/${a}/chats/1/search`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ search_query: 'PHANT' }),
    });
    assert.equal(viaBody.statusCode, 200);
    assert.deepEqual(
      viaBody.json<InstabugHit[]>().map((h) => h.number),
      [1],
    );
    const deFacto = await req('GET', `/api/applications/${a}/chats/2/messages/search?query=phan`);
    assert.deepEqual(
      deFacto.body.map((h) => [h.message_number, h.body]),
      [[1, 'another elephant here']],
    );
    const q = await req('GET', `/api/applications/${a}/chats/1/messages/search?q=see`);
    assert.deepEqual(
      q.body.map((h) => h.number),
      [2],
    );
    for (const url of [
      `/api/applications/${a}/chats/1/search`,
      `/api/applications/${a}/chats/1/search?q=%20`,
    ] as const) {
      const empty = await req('GET', url);
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.body, []);
    }
    assert.equal((await req('GET', `/api/applications/${a}/chats/7/search?q=elephant`)).status, 404);
    const tooLong = await req('GET', `/api/applications/${a}/chats/1/search?q=${'a'.repeat(201)}`);
    assertError(tooLong, 422, 'invalid_request', 'search_query');
  });

  it('keeps applications apart: one token never reaches another application’s chats', async () => {
    const a = await newApp('wall a');
    const b = await newApp('wall b');
    await req('POST', `/api/applications/${a}/chats`, { chat_name: 'secret' });
    await req('POST', `/api/applications/${a}/chats/1`, { message_content: 'classified words' });
    assert.equal((await req('GET', `/api/applications/${b}/chats/1`)).status, 404);
    assert.equal((await req('GET', `/api/applications/${b}/chats`)).body.length, 0);
  });

  it('is the same data through the native API: tenant, system user, chat number and seq', async () => {
    const token = await newApp('native');
    await req('POST', `/api/applications/${token}/chats`, { chat_name: 'bridged' });
    await req('POST', `/api/applications/${token}/chats/1`, { message_content: 'from instabug' });
    const row = await sql<{ id: string }>`select id from tenants where token = ${token}`.execute(
      t.app.parley.ctx.db,
    );
    const tenant = row.rows[0]!.id;
    const system = await t.as('instabug', { tenant });
    const chats = await system.get('/v1/chats');
    assert.equal(chats.status, 200);
    assert.equal(chats.body.data.length, 1);
    const chat = chats.body.data[0];
    assert.ok(chat);
    assert.deepEqual([chat.number, chat.name, chat.role, chat.messageCount], [1, 'bridged', 'owner', 1]);
    const native = await system.post(`/v1/chats/${chat.id}/messages`, { text: 'from native' });
    assert.equal(native.status, 201);
    const via = await req('GET', `/api/applications/${token}/chats/1/messages/2`);
    assert.equal(via.body.message_content, 'from native');
    assert.equal((await req('GET', `/api/applications/${token}/chats/1`)).body.messages_count, 2);
  });
});

const skip = TEST_DATABASE_URL ? false : 'several processes share one database only on PostgreSQL';

describe('Instabug dialect across two server processes', { skip }, () => {
  const schema = testSchemaName();
  const servers: ServerProcess[] = [];
  async function call<M extends string, U extends string>(
    server: ServerProcess,
    method: M,
    path: U,
    body?: unknown,
  ) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    // The routes' answers, as the map above names them.
    return { status: response.status, body: (await response.json()) as InstabugAnswer<M, PathOf<U>> };
  }

  before(async () => {
    const env = clusterEnv(schema, { DIALECTS: 'instabug' });
    servers.push(...(await Promise.all([startServer(env), startServer(env)])));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await dropSchema(schema);
  });

  it('numbers chats and messages created at once through both processes 1..N exactly', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const app = await call(a, 'POST', '/api/applications', { application_name: 'race' });
    assert.equal(app.status, 201);
    const token = app.body.application_token;
    const chats = 40;
    const created = await Promise.all(
      Array.from({ length: chats }, (_, i) =>
        call(i % 2 === 0 ? a : b, 'POST', `/api/applications/${token}/chats`, {}),
      ),
    );
    assert.deepEqual(
      created.filter((r) => r.status !== 201),
      [],
    );
    assert.deepEqual(
      created.map((r) => r.body.chat_number).sort((x, y) => x - y),
      Array.from({ length: chats }, (_, i) => i + 1),
    );
    const total = 200;
    const sent = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        call(i % 2 === 0 ? a : b, 'POST', `/api/applications/${token}/chats/${(i % 2) + 1}/messages`, {
          body: `m${i}`,
        }),
      ),
    );
    assert.deepEqual(
      sent.filter((r) => r.status !== 201),
      [],
    );
    for (const chat of [1, 2]) {
      const numbers = sent
        .filter((r) => r.body.chat_number === chat)
        .map((r) => r.body.message_number)
        .sort((x, y) => x - y);
      assert.deepEqual(
        numbers,
        Array.from({ length: total / 2 }, (_, i) => i + 1),
      );
      assert.equal(
        (await call(b, 'GET', `/api/applications/${token}/chats/${chat}`)).body.messages_count,
        total / 2,
      );
    }
    assert.equal((await call(a, 'GET', `/api/applications/${token}`)).body.chats_count, chats);
  });
});
