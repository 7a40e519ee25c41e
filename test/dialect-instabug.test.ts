/**
 * The Instabug dialect at the seed text's paths (`/api`), in andrewawni/chat_system's shapes (its README's requests,
 * its Go service's answers, its Rails models' `as_json`), its search (both originals' Elasticsearch `match`: OR),
 * and what Parley adds: exact counts, numbers without races, the same data through the native API.
 * civilcoder55's RSpec request specs and Insomnia collection are in dialect-instabug-rails.test.ts, whole lists and
 * query plans in dialect-instabug-lists.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, dropSchema, TEST_DATABASE_URL, testSchemaName, type TestApp } from './support/app.ts';
import { clusterEnv, startServer, type ServerProcess } from './support/server.ts';

/** What creating answers (andrewawni's Go service; the seed text). */
interface CreatedApplication {
  type: 'application';
  application_token: string;
  application_name: string;
}
interface CreatedChat {
  type: 'chat';
  application_token: string;
  chat_number: number;
  chat_name: string;
}
interface CreatedMessage {
  type: 'message';
  application_token: string;
  chat_number: number;
  message_number: number;
  message_content: string;
}
/** What reading answers (andrewawni's `as_json(only: ...)`, with the seed text's counts). */
interface SeedApplication {
  token: string;
  name: string;
  chats_count: number;
}
interface SeedChat {
  number: number;
  name: string;
  messages_count: number;
}
interface SeedMessage {
  number: number;
  content: string;
}

type PathOf<U extends string> = U extends `${infer P}?${string}` ? P : U;
/** What a route under `/api` answers, by method and path. */
type SeedAnswer<M extends string, P extends string> = P extends `${string}/search`
  ? SeedMessage[]
  : P extends `${string}/chats/${string}/messages/${string}`
    ? SeedMessage
    : P extends `${string}/chats/${string}/messages`
      ? M extends 'GET'
        ? SeedMessage[]
        : CreatedMessage
      : P extends `${string}/chats/${string}`
        ? M extends 'POST'
          ? CreatedMessage
          : SeedChat
        : P extends `${string}/chats`
          ? M extends 'GET'
            ? SeedChat[]
            : CreatedChat
          : P extends `${string}/applications/${string}`
            ? SeedApplication
            : P extends `${string}/applications`
              ? M extends 'GET'
                ? SeedApplication[]
                : CreatedApplication
              : unknown;

const ID_KEYS = ['id', 'chatId', 'chat_id', 'application_id', 'app_id', 'tenantId', 'authorId'];

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

describe('Instabug dialect, the seed text and andrewawni/chat_system at /api', () => {
  let t: TestApp;
  const req = <M extends string, U extends string>(method: M, url: U, body?: unknown) =>
    t.request<SeedAnswer<M, PathOf<U>>>(method, url, body);

  async function newApp(name = 'my app'): Promise<string> {
    const res = await req('POST', '/api/applications', { application_name: name });
    assert.equal(res.status, 201);
    return res.body.application_token;
  }
  /** A chat with these messages, in this order; its number. */
  async function chatWith(token: string, texts: string[]): Promise<number> {
    const chat = await req('POST', `/api/applications/${token}/chats`, { chat_name: 'chat' });
    assert.equal(chat.status, 201);
    for (const text of texts) {
      const sent = await req('POST', `/api/applications/${token}/chats/${chat.body.chat_number}`, {
        message_content: text,
      });
      assert.equal(sent.status, 201);
    }
    return chat.body.chat_number;
  }

  before(async () => {
    t = await createTestApp({ DIALECTS: 'instabug,sourceloop' });
  });
  after(async () => {
    await t.close();
  });

  describe('applications', () => {
    // from andrewawni README.md, "Create Application" (answered by go_service/app/app.go createApplication)
    it('creates an application: 201 {type, application_token, application_name}, an unguessable token', async () => {
      const res = await req('POST', '/api/applications', { application_name: 'myname' });
      assert.equal(res.status, 201);
      assert.deepEqual(Object.keys(res.body), ['type', 'application_token', 'application_name']);
      assert.equal(res.body.type, 'application');
      assert.equal(res.body.application_name, 'myname');
      // 192 random bits; andrewawni's is a UUID, civilcoder55's a SHA-1: both are opaque strings to a client.
      assert.match(res.body.application_token, /^[A-Za-z0-9_-]{32}$/);
      const other = await req('POST', '/api/applications', { application_name: 'myname' });
      assert.notEqual(other.body.application_token, res.body.application_token);
    });

    // the seed text: {"application_name"}; civilcoder55's {"name"} and Rails' wrapped form are read here too
    it('takes the name as application_name, name or {"application": {...}}; a missing or blank one is 422', async () => {
      assert.equal(
        (await req('POST', '/api/applications', { name: 'plain' })).body.application_name,
        'plain',
      );
      const wrapped = await req('POST', '/api/applications', {
        application: { application_name: 'wrapped' },
      });
      assert.equal(wrapped.body.application_name, 'wrapped');
      // andrewawni needs no minimum length (civilcoder55's 4 applies at /api/v1).
      assert.equal((await req('POST', '/api/applications', { application_name: 'ab' })).status, 201);
      for (const body of [{}, { application_name: '   ' }, { title: 'x' }]) {
        const res = await req('POST', '/api/applications', body);
        assert.equal(res.status, 422, JSON.stringify(body));
        assert.deepEqual(res.body, { error: "application_name: can't be blank" });
      }
      const wrongType = await req('POST', '/api/applications', { application_name: 5 });
      assert.equal(wrongType.status, 422);
      assert.deepEqual(wrongType.body, { error: 'application_name: must be a string' });
      assert.equal(
        (await req('POST', '/api/applications', { application_name: 'x'.repeat(201) })).status,
        422,
      );
    });

    // andrewawni go_service createApplication: a body that is not JSON is a 400 {"error"}
    it('answers a body that is not JSON with 400 {"error"}', async () => {
      const res = await req('POST', '/api/applications', '{"application_name": ');
      assert.equal(res.status, 400);
      assert.equal(typeof (res.body as unknown as { error: string }).error, 'string');
    });

    // from andrewawni README.md, "Supported endpoints": GET /api/applications, GET|PATCH|PUT /api/applications/:token
    // (apps_controller.rb: index, show, update with `application_name`; App#as_json: token and name)
    it('lists (tokens included), reads and renames (PATCH and PUT) applications', async () => {
      const token = await newApp('before');
      const read = await req('GET', `/api/applications/${token}`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, { token, name: 'before', chats_count: 0 });
      const patched = await req('PATCH', `/api/applications/${token}`, { application_name: 'patched' });
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.body, { token, name: 'patched', chats_count: 0 });
      const put = await req('PUT', `/api/applications/${token}`, { application_name: 'put' });
      assert.equal(put.body.name, 'put');
      assert.equal((await req('GET', `/api/applications/${token}`)).body.name, 'put');
      assert.equal((await req('PUT', `/api/applications/${token}`, { application_name: '' })).status, 422);
      const list = await req('GET', '/api/applications');
      assert.equal(list.status, 200);
      const mine = list.body.find((a) => a.token === token);
      assert.deepEqual(mine, { token, name: 'put', chats_count: 0 });
      assert.deepEqual(Object.keys(list.body[0]!), ['token', 'name', 'chats_count']);
      assertNoIds(list.body);
      // Creation order, as `App.all` reads them.
      const later = await newApp('later');
      const again = (await req('GET', '/api/applications')).body.map((a) => a.token);
      assert.ok(again.indexOf(token) < again.indexOf(later));
      // One page when asked for one.
      assert.equal((await req('GET', '/api/applications?per_page=1')).body.length, 1);
      assert.equal((await req('GET', '/api/applications?page=0')).status, 422);
    });

    it('answers 404 {"error"} for an unknown token at every level', async () => {
      for (const [method, url] of [
        ['GET', '/api/applications/nope'],
        ['PATCH', '/api/applications/nope'],
        ['GET', '/api/applications/nope/chats'],
        ['POST', '/api/applications/nope/chats'],
        ['GET', '/api/applications/nope/chats/1'],
        ['POST', '/api/applications/nope/chats/1'],
        ['POST', '/api/applications/nope/chats/1/messages'],
        ['GET', '/api/applications/nope/chats/1/messages'],
        ['GET', '/api/applications/nope/chats/1/search?search_query=hi'],
      ] as const) {
        const res = await req(
          method,
          url,
          method === 'GET' ? undefined : { application_name: 'x', body: 'y' },
        );
        assert.equal(res.status, 404, `${method} ${url}`);
        assert.deepEqual(res.body, { error: 'no application with this token' }, `${method} ${url}`);
      }
    });
  });

  describe('chats', () => {
    // from andrewawni README.md, "Create Chat" (go_service createChat): {type, application_token, chat_number,
    // chat_name}; numbered per application (spec/models/chat_spec.rb, "chat number is unique for apps")
    it('numbers chats per application from 1 and counts them exactly', async () => {
      const a = await newApp('numbers a');
      const b = await newApp('numbers b');
      const first = await req('POST', `/api/applications/${a}/chats`, { chat_name: 'mychatname' });
      assert.equal(first.status, 201);
      assert.deepEqual(first.body, {
        type: 'chat',
        application_token: a,
        chat_number: 1,
        chat_name: 'mychatname',
      });
      assert.equal(
        (await req('POST', `/api/applications/${a}/chats`, { chat_name: 'x' })).body.chat_number,
        2,
      );
      // Same name twice is fine: chats are told apart by number.
      assert.equal((await req('POST', `/api/applications/${a}/chats`, { name: 'x' })).body.chat_number, 3);
      assert.equal(
        (await req('POST', `/api/applications/${b}/chats`, { chat_name: 'y' })).body.chat_number,
        1,
      );
      assert.equal((await req('GET', `/api/applications/${a}`)).body.chats_count, 3);
      assert.equal((await req('GET', `/api/applications/${b}`)).body.chats_count, 1);
      const list = await req('GET', `/api/applications/${a}/chats`);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body, [
        { number: 1, name: 'mychatname', messages_count: 0 },
        { number: 2, name: 'x', messages_count: 0 },
        { number: 3, name: 'x', messages_count: 0 },
      ]);
      const paged = await req('GET', `/api/applications/${a}/chats?page=2&per_page=2`);
      assert.deepEqual(
        paged.body.map((c) => c.number),
        [3],
      );
      assert.equal((await req('POST', `/api/applications/${a}/chats`, { chat_name: '  ' })).status, 422);
    });

    // from spec/models/chat_spec.rb, "chat name cannot be null": andrewawni's worker then drops the chat it already
    // numbered; here a chat without a name is kept, named "Chat" (and a blank one is refused)
    it('keeps a chat created without a name (no body, an empty JSON body, {}), named "Chat"', async () => {
      const a = await newApp('nameless');
      const bare = await t.app.inject({ method: 'POST', url: `/api/applications/${a}/chats` });
      assert.equal(bare.statusCode, 201);
      assert.equal(bare.json<CreatedChat>().chat_name, 'Chat');
      const empty = await t.app.inject({
        method: 'POST',
        url: `/api/applications/${a}/chats`,
        headers: { 'content-type': 'application/json' },
        payload: '',
      });
      assert.equal(empty.json<CreatedChat>().chat_number, 2);
      assert.equal((await req('POST', `/api/applications/${a}/chats`, {})).body.chat_number, 3);
    });

    // from andrewawni README.md, "Supported endpoints": GET|PATCH|PUT /api/applications/:app_token/chats/:number
    // (chats_controller.rb update reads `chat_name`; Chat#as_json: number and name)
    it('reads and renames a chat (PATCH and PUT); unknown or malformed numbers are 404', async () => {
      const a = await newApp('chat crud');
      await req('POST', `/api/applications/${a}/chats`, { chat_name: 'one' });
      const read = await req('GET', `/api/applications/${a}/chats/1`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, { number: 1, name: 'one', messages_count: 0 });
      const patched = await req('PATCH', `/api/applications/${a}/chats/1`, { chat_name: 'uno' });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.name, 'uno');
      const put = await req('PUT', `/api/applications/${a}/chats/1`, { chat_name: 'eins' });
      assert.equal(put.body.name, 'eins');
      const missing = await req('PUT', `/api/applications/${a}/chats/1`, {});
      assert.equal(missing.status, 422);
      assert.deepEqual(missing.body, { error: "chat_name: can't be blank" });
      for (const n of ['2', '0', 'abc', '-1']) {
        const res = await req('GET', `/api/applications/${a}/chats/${n}`);
        assert.equal(res.status, 404, n);
        assert.equal(typeof (res.body as unknown as { error: string }).error, 'string');
      }
    });
  });

  describe('messages', () => {
    // from andrewawni README.md, "Create Message" (go_service createMessage, at .../chats/{n}/messages; the seed
    // text's POST .../chats/<n>): {type, application_token, chat_number, message_number, message_content}
    it('numbers messages per chat from 1 through both create paths', async () => {
      const a = await newApp('messages');
      await req('POST', `/api/applications/${a}/chats`, { chat_name: 'c1' });
      await req('POST', `/api/applications/${a}/chats`, { chat_name: 'c2' });
      const seed = await req('POST', `/api/applications/${a}/chats/1`, { message_content: 'hello world!' });
      assert.equal(seed.status, 201);
      assert.deepEqual(seed.body, {
        type: 'message',
        application_token: a,
        chat_number: 1,
        message_number: 1,
        message_content: 'hello world!',
      });
      const variant = await req('POST', `/api/applications/${a}/chats/1/messages`, {
        message_content: 'second',
      });
      assert.equal(variant.status, 201);
      assert.equal(variant.body.message_number, 2);
      const deFacto = await req('POST', `/api/applications/${a}/chats/1/messages`, { body: 'third' });
      assert.equal(deFacto.body.message_content, 'third');
      const otherChat = await req('POST', `/api/applications/${a}/chats/2/messages`, {
        message_content: 'else',
      });
      assert.equal(otherChat.body.message_number, 1);
      assert.equal((await req('GET', `/api/applications/${a}/chats/1`)).body.messages_count, 3);
      for (const body of [{}, { message_content: '' }, { message_content: '  ' }]) {
        const res = await req('POST', `/api/applications/${a}/chats/1/messages`, body);
        assert.equal(res.status, 422);
        assert.deepEqual(res.body, { error: "message_content: can't be blank" });
      }
      assert.equal((await req('POST', `/api/applications/${a}/chats/9/messages`, { body: 'x' })).status, 404);
      // messages_controller.rb index; Message#as_json: number and content
      const list = await req('GET', `/api/applications/${a}/chats/1/messages`);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body, [
        { number: 1, content: 'hello world!' },
        { number: 2, content: 'second' },
        { number: 3, content: 'third' },
      ]);
      const page = await req('GET', `/api/applications/${a}/chats/1/messages?page=2&per_page=2`);
      assert.deepEqual(
        page.body.map((m) => m.number),
        [3],
      );
    });

    // from andrewawni README.md, "Supported endpoints": GET|PATCH|PUT .../messages/:number (`message_content`)
    it('reads and edits one message (PATCH and PUT), 404 for an unknown number', async () => {
      const a = await newApp('message crud');
      await chatWith(a, ['original']);
      const read = await req('GET', `/api/applications/${a}/chats/1/messages/1`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, { number: 1, content: 'original' });
      const patched = await req('PATCH', `/api/applications/${a}/chats/1/messages/1`, {
        message_content: 'edited',
      });
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.body, { number: 1, content: 'edited' });
      const put = await req('PUT', `/api/applications/${a}/chats/1/messages/1`, { message_content: 'put' });
      assert.equal(put.body.content, 'put');
      const blank = await req('PUT', `/api/applications/${a}/chats/1/messages/1`, { message_content: '' });
      assert.equal(blank.status, 422);
      assert.equal((await req('GET', `/api/applications/${a}/chats/1/messages/2`)).status, 404);
      assert.equal(
        (await req('PATCH', `/api/applications/${a}/chats/1/messages/2`, { message_content: 'x' })).status,
        404,
      );
    });
  });

  describe('search', () => {
    // from andrewawni README.md, "Search Chat Messages": GET .../chats/<n>/search with {"search_query"} in the
    // body, answering [{number, content}]
    it('takes the words from the body or the query string, and answers [{number, content}]', async () => {
      const a = await newApp('search');
      await chatWith(a, ['hello world!', 'nothing to see']);
      const viaBody = await t.app.inject({
        method: 'GET',
        url: `/api/applications/${a}/chats/1/search`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ search_query: 'hello' }),
      });
      assert.equal(viaBody.statusCode, 200);
      assert.deepEqual(viaBody.json(), [{ number: 1, content: 'hello world!' }]);
      for (const url of [
        `/api/applications/${a}/chats/1/search?search_query=world`,
        `/api/applications/${a}/chats/1/messages/search?query=world`,
        `/api/applications/${a}/chats/1/search?q=WORLD`,
      ] as const) {
        assert.deepEqual((await req('GET', url)).body, [{ number: 1, content: 'hello world!' }], url);
      }
      for (const url of [
        `/api/applications/${a}/chats/1/search`,
        `/api/applications/${a}/chats/1/search?search_query=%20`,
        `/api/applications/${a}/chats/1/search?search_query=%21%3F`,
      ] as const) {
        const empty = await req('GET', url);
        assert.equal(empty.status, 200);
        assert.deepEqual(empty.body, []);
      }
      assert.equal((await req('GET', `/api/applications/${a}/chats/7/search?q=hello`)).status, 404);
      const tooLong = await req(
        'GET',
        `/api/applications/${a}/chats/1/search?search_query=${'a'.repeat(201)}`,
      );
      assert.equal(tooLong.status, 422);
      assert.match((tooLong.body as unknown as { error: string }).error, /^search_query: /);
    });

    // both originals search with Elasticsearch's `match` (civilcoder55 Message._search) or `query_string`
    // (andrewawni chats_controller.rb search), whose words are ORed: any word finds a message
    it('finds messages with ANY of the words: "kenobi zzzunknown" finds the Kenobi message', async () => {
      const a = await newApp('or');
      await chatWith(a, ['hello there general kenobi', 'nothing here']);
      const res = await req('GET', `/api/applications/${a}/chats/1/search?search_query=kenobi%20zzzunknown`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, [{ number: 1, content: 'hello there general kenobi' }]);
      assert.deepEqual((await req('GET', `/api/applications/${a}/chats/1/search?q=zzzunknown`)).body, []);
    });

    // Elasticsearch ranks a message matching more of the words higher; equal ranks keep the messages' order
    it('ranks messages with more of the words first, then by number', async () => {
      const a = await newApp('rank');
      await chatWith(a, [
        'the deploy failed',
        'unrelated chatter',
        'friday deploy of the release failed',
        'release notes',
        'the release on friday',
      ]);
      const res = await req('GET', `/api/applications/${a}/chats/1/search?q=friday%20release%20deploy`);
      assert.deepEqual(
        res.body.map((m) => m.number),
        [3, 5, 1, 4],
      );
    });

    // the seed text asks for partial matches (andrewawni appends `*` to the query; Instabug's feedback asks for
    // n-grams): parts of words of 3+ letters match, any case; whole words also by their stem
    it('matches parts of words, any case, and words by their stem', async () => {
      const a = await newApp('partial');
      await chatWith(a, ['my order is late', 'Elephants are GREY', 'ordinary day']);
      const parts = await req('GET', `/api/applications/${a}/chats/1/search?q=ord`);
      assert.deepEqual(
        parts.body.map((m) => m.number),
        [1, 3],
      );
      assert.deepEqual(
        (await req('GET', `/api/applications/${a}/chats/1/search?q=PHANT`)).body.map((m) => m.number),
        [2],
      );
      // "orders" is not part of "order", but has its stem.
      assert.deepEqual(
        (await req('GET', `/api/applications/${a}/chats/1/search?q=orders`)).body.map((m) => m.number),
        [1],
      );
      // Two letters: whole words only (and English stop words, as andrewawni's `english` analyzer drops them).
      await chatWith(a, ['an ox cart', 'oxford street']);
      assert.deepEqual(
        (await req('GET', `/api/applications/${a}/chats/2/search?q=ox`)).body.map((m) => m.number),
        [1],
      );
      assert.deepEqual((await req('GET', `/api/applications/${a}/chats/2/search?q=an`)).body, []);
    });

    // the seed text: "searches the messages of one specific chat"; Instabug's feedback: scope it to the chat
    it('never finds messages of another chat or another application', async () => {
      const a = await newApp('scope a');
      const b = await newApp('scope b');
      await chatWith(a, ['the elephant is grey']);
      await chatWith(a, ['another elephant here']);
      await chatWith(b, ['a third elephant']);
      assert.deepEqual((await req('GET', `/api/applications/${a}/chats/1/search?q=elephant`)).body, [
        { number: 1, content: 'the elephant is grey' },
      ]);
      assert.deepEqual((await req('GET', `/api/applications/${b}/chats/1/search?q=elephant`)).body, [
        { number: 1, content: 'a third elephant' },
      ]);
    });
  });

  it('keeps applications apart: one token never reaches another application’s chats', async () => {
    const a = await newApp('wall a');
    const b = await newApp('wall b');
    await chatWith(a, ['classified words']);
    assert.equal((await req('GET', `/api/applications/${b}/chats/1`)).status, 404);
    assert.equal((await req('GET', `/api/applications/${b}/chats`)).body.length, 0);
  });

  it('is the same data at every mount and through the native API: tenant, system user, number and seq', async () => {
    const token = await newApp('native');
    await req('POST', `/api/applications/${token}/chats`, { chat_name: 'bridged' });
    await req('POST', `/api/applications/${token}/chats/1`, { message_content: 'from instabug' });
    const rails = await t.request<{ number: number; body: string }>(
      'GET',
      `/api/v1/applications/${token}/chats/1/messages/1`,
    );
    assert.deepEqual([rails.body.number, rails.body.body], [1, 'from instabug']);
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
    assert.equal(via.body.content, 'from native');
    assert.equal((await req('GET', `/api/applications/${token}/chats/1`)).body.messages_count, 2);
    // A message deleted through the native API is gone here too: not listed, not found, not searched.
    assert.equal((await system.delete(`/v1/chats/${chat.id}/messages/2`)).status, 204);
    assert.equal((await req('GET', `/api/applications/${token}/chats/1/messages/2`)).status, 404);
    assert.deepEqual(
      (await req('GET', `/api/applications/${token}/chats/1/messages`)).body.map((m) => m.number),
      [1],
    );
    assert.deepEqual((await req('GET', `/api/applications/${token}/chats/1/search?q=native`)).body, []);
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
    return { status: response.status, body: (await response.json()) as SeedAnswer<M, PathOf<U>> };
  }

  before(async () => {
    const env = clusterEnv(schema, { DIALECTS: 'instabug' });
    servers.push(...(await Promise.all([startServer(env), startServer(env)])));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await dropSchema(schema);
  });

  // the seed text: "Concurrency tests fire N parallel creates and check there are no duplicate numbers and the
  // count is exactly N" (Instabug's feedback: "a race in number generation produces duplicate numbers")
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
