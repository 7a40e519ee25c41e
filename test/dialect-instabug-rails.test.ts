/**
 * The Instabug dialect at civilcoder55's paths (`/api/v1`, and the same shapes at the root): its RSpec request specs
 * (ror/spec/requests/**) and its Insomnia collection (Insomnia_collection.json), case by case. Rails request specs
 * post `params:` as an HTML form, so these do too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './support/app.ts';

interface RailsApplication {
  name: string;
  token: string;
  chats_count: number;
  created_at: string;
  updated_at: string;
}
interface RailsChat {
  number: number;
  messages_count: number;
  created_at: string;
  updated_at: string;
}
interface RailsMessage {
  number: number;
  body: string;
  created_at: string;
  updated_at: string;
}

const APPLICATION_KEYS = ['name', 'token', 'chats_count', 'created_at', 'updated_at'];
const CHAT_KEYS = ['number', 'messages_count', 'created_at', 'updated_at'];
const MESSAGE_KEYS = ['number', 'body', 'created_at', 'updated_at'];
const NOT_FOUND = { message: 'resource not found' };

describe('Instabug dialect, civilcoder55 (Rails) at /api/v1', () => {
  let t: TestApp;

  /** A request as a Rails request spec sends it: `params` as a form, or nothing. */
  async function rails<T>(method: string, url: string, params?: Record<string, string>) {
    const response = await t.app.inject({
      method: method as 'GET',
      url,
      ...(params
        ? {
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams(params).toString(),
          }
        : {}),
    });
    return { status: response.statusCode, body: JSON.parse(response.body) as T };
  }

  /** FactoryBot's `create(:application)`: a name long enough, through the API. */
  let names = 0;
  async function createApplication(): Promise<RailsApplication> {
    names += 1;
    const res = await rails<RailsApplication>('POST', '/api/v1/applications', {
      name: `Factory App ${names}`,
    });
    assert.equal(res.status, 201);
    return res.body;
  }
  async function createChat(token: string): Promise<RailsChat> {
    const res = await rails<RailsChat>('POST', `/api/v1/applications/${token}/chats`);
    assert.equal(res.status, 201);
    return res.body;
  }
  async function createMessage(token: string, chat: number, body: string): Promise<RailsMessage> {
    const res = await rails<RailsMessage>('POST', `/api/v1/applications/${token}/chats/${chat}/messages`, {
      body,
    });
    assert.equal(res.status, 201);
    return res.body;
  }

  before(async () => {
    t = await createTestApp({ DIALECTS: 'instabug' });
  });
  after(async () => {
    await t.close();
  });

  describe('applications', () => {
    // from ror/spec/requests/applications/get_applications_spec.rb, "index" (its database holds those 10 only;
    // this one holds the other cases' too, so the ten are looked for among them)
    it('index: returns all applications, 200, without primary key', async () => {
      const created: RailsApplication[] = [];
      for (let i = 0; i < 10; i++) {
        created.push(await createApplication());
      }
      const res = await rails<RailsApplication[]>('GET', '/api/v1/applications');
      // "returns status code 200"
      assert.equal(res.status, 200);
      // "returns all applications": every one of them, tokens included, in creation order
      const tokens = res.body.map((a) => a.token);
      const mine = tokens.filter((token) => created.some((c) => c.token === token));
      assert.deepEqual(
        mine,
        created.map((c) => c.token),
      );
      // "returns results without primary key"
      assert.deepEqual(Object.keys(res.body[0]!), APPLICATION_KEYS);
      assert.deepEqual(
        res.body.find((a) => a.token === created[3]!.token),
        created[3],
      );
    });

    // from get_applications_spec.rb, "show" / "exists"
    it('show: an existing application without primary key, 200', async () => {
      const application = await createApplication();
      const res = await rails<RailsApplication>('GET', `/api/v1/applications/${application.token}`);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body), APPLICATION_KEYS);
      assert.deepEqual(res.body, application);
    });

    // from get_applications_spec.rb, "show" / "not exists"
    it('show: an unknown token is 404 {"message": "resource not found"}', async () => {
      const res = await rails('GET', '/api/v1/applications/1534545');
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, NOT_FOUND);
    });

    // from ror/spec/requests/applications/post_applications_spec.rb, "with valid parameters"
    it('create: returns the application, 201', async () => {
      const res = await rails<RailsApplication & { id?: unknown }>('POST', '/api/v1/applications', {
        name: 'first_app',
      });
      assert.equal(res.status, 201);
      assert.ok(Object.keys(res.body).includes('token'));
      assert.equal(res.body.name, 'first_app');
      assert.equal(res.body.chats_count, 0);
      assert.equal(res.body.id, undefined);
      assert.deepEqual(Object.keys(res.body), APPLICATION_KEYS);
    });

    // from post_applications_spec.rb, "with invalid parameters" (and the model's `length: { minimum: 4 }`)
    it('create: a name shorter than 4 characters is 422 with Rails’ errors', async () => {
      const res = await rails('POST', '/api/v1/applications', { name: 'asd' });
      assert.equal(res.status, 422);
      assert.deepEqual(res.body, { name: ['is too short (minimum is 4 characters)'] });
      const blank = await rails('POST', '/api/v1/applications', {});
      assert.equal(blank.status, 422);
      assert.deepEqual(blank.body, { name: ["can't be blank"] });
    });

    // from ror/spec/requests/applications/put_applications_spec.rb, "with valid parameters"
    it('update: returns the updated application, 200', async () => {
      const application = await createApplication();
      const res = await rails<RailsApplication & { id?: unknown }>(
        'PUT',
        `/api/v1/applications/${application.token}`,
        { name: 'updated_app' },
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.token, application.token);
      assert.equal(res.body.name, 'updated_app');
      assert.ok(Number.isInteger(res.body.chats_count));
      assert.equal(res.body.id, undefined);
      // PATCH is the same route in Rails' resources.
      const patched = await rails<RailsApplication>('PATCH', `/api/v1/applications/${application.token}`, {
        name: 'patched_app',
      });
      assert.equal(patched.body.name, 'patched_app');
    });

    // from put_applications_spec.rb, "with invalid parameters"
    it('update: a name shorter than 4 characters is 422, and the name stays', async () => {
      const application = await createApplication();
      const res = await rails('PUT', `/api/v1/applications/${application.token}`, { name: 'nwe' });
      assert.equal(res.status, 422);
      const read = await rails<RailsApplication>('GET', `/api/v1/applications/${application.token}`);
      assert.equal(read.body.name, application.name);
    });
  });

  describe('chats', () => {
    // from ror/spec/requests/chats/get_chats_spec.rb, "index"
    it('index: returns all chats, 200, without primary key', async () => {
      const application = await createApplication();
      for (let i = 0; i < 10; i++) {
        await createChat(application.token);
      }
      const res = await rails<RailsChat[]>('GET', `/api/v1/applications/${application.token}/chats`);
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 10);
      assert.deepEqual(Object.keys(res.body[0]!), CHAT_KEYS);
      assert.deepEqual(
        res.body.map((c) => c.number),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      );
    });

    // from get_chats_spec.rb, "show" / "exists"
    it('show: an existing chat without primary key, 200', async () => {
      const application = await createApplication();
      const chat = await createChat(application.token);
      const res = await rails<RailsChat>(
        'GET',
        `/api/v1/applications/${application.token}/chats/${chat.number}`,
      );
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body), CHAT_KEYS);
      assert.deepEqual(res.body, chat);
    });

    // from get_chats_spec.rb, "show" / "not exists"
    it('show: an unknown number is 404 {"message": "resource not found"}', async () => {
      const application = await createApplication();
      await createChat(application.token);
      const res = await rails('GET', `/api/v1/applications/${application.token}/chats/135454`);
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, NOT_FOUND);
    });

    // from ror/spec/requests/chats/post_chats_spec.rb, "returns the chats", "returns a created status"
    it('create: returns the chat numbered 1 with no messages, 201', async () => {
      const application = await createApplication();
      const res = await rails<RailsChat & { id?: unknown }>(
        'POST',
        `/api/v1/applications/${application.token}/chats`,
      );
      assert.equal(res.status, 201);
      assert.equal(res.body.number, 1);
      assert.equal(res.body.messages_count, 0);
      assert.equal(res.body.id, undefined);
      assert.deepEqual(Object.keys(res.body), CHAT_KEYS);
    });

    // from post_chats_spec.rb, "returns a correct number"
    it('create: numbers chats per application', async () => {
      const first = await createApplication();
      const second = await createApplication();
      assert.equal((await createChat(first.token)).number, 1);
      assert.equal((await createChat(first.token)).number, 2);
      assert.equal((await createChat(second.token)).number, 1);
    });

    // from post_chats_spec.rb, "queues database write": Parley stores before it answers, so the chat is there at
    // once (the spec checks that the write was queued, not yet made; a client can only see the difference as this)
    it('create: the chat is readable as soon as the answer arrives, and counted', async () => {
      const application = await createApplication();
      const chat = await createChat(application.token);
      const read = await rails<RailsChat>(
        'GET',
        `/api/v1/applications/${application.token}/chats/${chat.number}`,
      );
      assert.equal(read.status, 200);
      const app = await rails<RailsApplication>('GET', `/api/v1/applications/${application.token}`);
      assert.equal(app.body.chats_count, 1);
    });

    it('create: an unknown token is 404 {"message": "resource not found"}', async () => {
      const res = await rails('POST', '/api/v1/applications/unknown/chats');
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, NOT_FOUND);
    });
  });

  describe('messages', () => {
    // from ror/spec/requests/messages/get_messages_spec.rb, "index"
    it('index: returns all messages, 200, without primary key', async () => {
      const application = await createApplication();
      const chat = await createChat(application.token);
      for (let i = 0; i < 10; i++) {
        await createMessage(application.token, chat.number, `Lorem sentence ${i}.`);
      }
      const res = await rails<RailsMessage[]>(
        'GET',
        `/api/v1/applications/${application.token}/chats/${chat.number}/messages`,
      );
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 10);
      assert.deepEqual(Object.keys(res.body[0]!), MESSAGE_KEYS);
      assert.deepEqual(
        res.body.map((m) => m.body),
        Array.from({ length: 10 }, (_, i) => `Lorem sentence ${i}.`),
      );
    });

    // from get_messages_spec.rb, "show" / "exists"
    it('show: an existing message without primary key, 200', async () => {
      const application = await createApplication();
      const chat = await createChat(application.token);
      const message = await createMessage(application.token, chat.number, 'Lorem ipsum.');
      const res = await rails<RailsMessage>(
        'GET',
        `/api/v1/applications/${application.token}/chats/${chat.number}/messages/${message.number}`,
      );
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body), MESSAGE_KEYS);
      assert.deepEqual(res.body, message);
    });

    // from get_messages_spec.rb, "show" / "not exists"
    it('show: an unknown number is 404 {"message": "resource not found"}', async () => {
      const application = await createApplication();
      const chat = await createChat(application.token);
      await createMessage(application.token, chat.number, 'Lorem ipsum.');
      const res = await rails(
        'GET',
        `/api/v1/applications/${application.token}/chats/${chat.number}/messages/123435`,
      );
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, NOT_FOUND);
    });

    // from ror/spec/requests/messages/post_messages_spec.rb, "returns the message", "returns a created status"
    it('create: returns the message numbered 1, 201', async () => {
      const application = await createApplication();
      const chat = await createChat(application.token);
      await createChat(application.token);
      const res = await rails<RailsMessage & { id?: unknown }>(
        'POST',
        `/api/v1/applications/${application.token}/chats/${chat.number}/messages`,
        { body: 'some message' },
      );
      assert.equal(res.status, 201);
      assert.equal(res.body.number, 1);
      assert.equal(res.body.body, 'some message');
      assert.equal(res.body.id, undefined);
      assert.deepEqual(Object.keys(res.body), MESSAGE_KEYS);
    });

    // from post_messages_spec.rb, "returns a correct number"
    it('create: numbers messages per chat', async () => {
      const application = await createApplication();
      const [first, second] = [await createChat(application.token), await createChat(application.token)];
      assert.equal((await createMessage(application.token, first.number, 'some message')).number, 1);
      assert.equal((await createMessage(application.token, first.number, 'some message 2')).number, 2);
      assert.equal((await createMessage(application.token, second.number, 'some message 3')).number, 1);
    });

    // from post_messages_spec.rb, "queues database write": stored before the answer here, so readable at once
    it('create: the message is readable as soon as the answer arrives, and counted', async () => {
      const application = await createApplication();
      const chat = await createChat(application.token);
      await createMessage(application.token, chat.number, 'some message');
      const base = `/api/v1/applications/${application.token}/chats/${chat.number}`;
      assert.equal((await rails<RailsMessage>('GET', `${base}/messages/1`)).body.body, 'some message');
      assert.equal((await rails<RailsChat>('GET', base)).body.messages_count, 1);
    });

    // the model's `validates :body, presence: true`, through MessagesController#create
    it('create: a blank or missing body is 422 with Rails’ errors; an unknown chat 404', async () => {
      const application = await createApplication();
      const chat = await createChat(application.token);
      const base = `/api/v1/applications/${application.token}/chats`;
      for (const params of [{}, { body: '  ' }] as Record<string, string>[]) {
        const res = await rails('POST', `${base}/${chat.number}/messages`, params);
        assert.equal(res.status, 422);
        assert.deepEqual(res.body, { body: ["can't be blank"] });
      }
      const tooLong = await rails('POST', `${base}/${chat.number}/messages`, { body: 'x'.repeat(10_001) });
      assert.equal(tooLong.status, 422);
      assert.deepEqual(tooLong.body, { body: ['must be at most 10000 characters'] });
      const unknown = await rails('POST', `${base}/99/messages`, { body: 'x' });
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.body, NOT_FOUND);
    });
  });

  describe('the Insomnia collection', () => {
    // from Insomnia_collection.json: every request, in its order, with its bodies (JSON, as Insomnia sends them)
    it('runs the collection from creating an application to searching "ruby task"', async () => {
      const created = await t.request<RailsApplication>('POST', '/api/v1/applications', { name: 'test' });
      assert.equal(created.status, 201);
      const token = created.body.token;
      const list = await t.request<RailsApplication[]>('GET', '/api/v1/applications');
      assert.ok(list.body.some((a) => a.token === token));
      assert.equal(
        (await t.request<RailsApplication>('GET', `/api/v1/applications/${token}`)).body.name,
        'test',
      );
      const put = await t.request<RailsApplication>('PUT', `/api/v1/applications/${token}`, {
        name: 'application',
      });
      assert.equal(put.body.name, 'application');
      // POST .../chats with no body at all.
      const chat = await t.app.inject({ method: 'POST', url: `/api/v1/applications/${token}/chats` });
      assert.equal(chat.statusCode, 201);
      assert.equal((JSON.parse(chat.body) as RailsChat).number, 1);
      assert.equal(
        (await t.request<RailsChat[]>('GET', `/api/v1/applications/${token}/chats`)).body.length,
        1,
      );
      assert.equal((await t.request<RailsChat>('GET', `/api/v1/applications/${token}/chats/1`)).status, 200);
      const sent = await t.request<RailsMessage>('POST', `/api/v1/applications/${token}/chats/1/messages`, {
        body: 'this must be shows in search for ruby keyword',
      });
      assert.equal(sent.status, 201);
      const messages = await t.request<RailsMessage[]>(
        'GET',
        `/api/v1/applications/${token}/chats/1/messages`,
      );
      assert.deepEqual(
        messages.body.map((m) => m.number),
        [1],
      );
      const one = await t.request<RailsMessage>('GET', `/api/v1/applications/${token}/chats/1/messages/1`);
      assert.equal(one.body.body, 'this must be shows in search for ruby keyword');
      // "ruby task": Elasticsearch's match query is OR, so "ruby" alone finds it.
      const found = await t.request<RailsMessage[]>(
        'GET',
        `/api/v1/applications/${token}/chats/1/messages/search?query=ruby%20task`,
      );
      assert.equal(found.status, 200);
      assert.deepEqual(found.body, [one.body]);
    });
  });

  describe('the same shapes at the root (the seed text’s table of de-facto paths)', () => {
    it('answers /applications/... as /api/v1/applications/...', async () => {
      const created = await t.request<RailsApplication>('POST', '/applications', { name: 'at the root' });
      assert.equal(created.status, 201);
      assert.deepEqual(Object.keys(created.body), APPLICATION_KEYS);
      const chat = await t.request<RailsChat>('POST', `/applications/${created.body.token}/chats`);
      assert.deepEqual(Object.keys(chat.body), CHAT_KEYS);
      const message = await t.request<RailsMessage>(
        'POST',
        `/applications/${created.body.token}/chats/1/messages`,
        { body: 'root message' },
      );
      assert.deepEqual(Object.keys(message.body), MESSAGE_KEYS);
      const missing = await t.request('GET', `/applications/${created.body.token}/chats/2`);
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body, NOT_FOUND);
    });
  });
});
