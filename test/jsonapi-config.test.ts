import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { mintToken } from '../src/auth/token.ts';
import { ConfigError } from '../src/env.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { withJsonApiOptions } from '../src/jsonapi/jsonapi.config.ts';
import { openStore, type Store } from '../src/db/connect.ts';
import { parley } from '../src/plugin.ts';
import {
  clientFor,
  dropSchema,
  testAppConfig,
  testConfig,
  testSchemaName,
  type Client,
} from './support/app.ts';
import type { UserView } from './support/api.ts';
import { assertError } from './support/assertions.ts';
import {
  ACCEPT,
  assertDocument,
  assertErrors,
  assertMany,
  assertOne,
  assertValidRequest,
  JSONAPI,
  SEND,
} from './support/jsonapi.ts';

const SECRET = 'a-configured-secret-of-at-least-32-characters';
const env = (vars: Record<string, string>) => ({ PARLEY_DATA_DIR: 'memory://', JWT_SECRET: SECRET, ...vars });

function assertConfigError(run: () => unknown, variable: string, pattern?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.variable, variable);
    assert.ok(error.message.startsWith(`${variable}: `), error.message);
    if (pattern) {
      assert.match(error.message, pattern);
    }
    return true;
  });
}

describe('JSON:API configuration', () => {
  describe('from the environment', () => {
    it('defaults: on, links from each request, every attribute, nothing excluded, foreign keys only as relationships', () => {
      assert.deepEqual(loadConfig(env({})).jsonapi, {
        enabled: true,
        publicUrl: null,
        attributes: {},
        exclude: [],
        foreignKeys: {},
      });
    });

    it('reads PARLEY_JSONAPI, PARLEY_PUBLIC_URL and the per-type lists', () => {
      const config = loadConfig(
        env({
          PARLEY_JSONAPI: 'false',
          PARLEY_PUBLIC_URL: 'https://chat.example.com/api/',
          PARLEY_JSONAPI_ATTRIBUTES: ' users:username, displayName ; chats:name,topic ',
          PARLEY_JSONAPI_EXCLUDE: 'members, users.create',
          PARLEY_JSONAPI_FOREIGN_KEYS: 'messages;members:userId',
        }),
      ).jsonapi;
      assert.deepEqual(config, {
        enabled: false,
        publicUrl: 'https://chat.example.com/api',
        attributes: { users: ['username', 'displayName'], chats: ['name', 'topic'] },
        exclude: ['members', 'users.create'],
        foreignKeys: { messages: ['chatId', 'authorId'], members: ['userId'] },
      });
      assert.deepEqual(loadConfig(env({ PARLEY_JSONAPI_FOREIGN_KEYS: 'true' })).jsonapi.foreignKeys, {
        chats: ['createdBy'],
        members: ['chatId', 'userId'],
        messages: ['chatId', 'authorId'],
      });
      assert.deepEqual(loadConfig(env({ PARLEY_JSONAPI_FOREIGN_KEYS: 'false' })).jsonapi.foreignKeys, {});
    });

    it('refuses bad values with a message naming the variable', () => {
      const cases: [Record<string, string>, string, RegExp][] = [
        [{ PARLEY_JSONAPI: 'maybe' }, 'PARLEY_JSONAPI', /true or false/],
        [{ PARLEY_PUBLIC_URL: 'chat.example.com' }, 'PARLEY_PUBLIC_URL', /not a valid URL/],
        [{ PARLEY_PUBLIC_URL: 'ftp://chat.example.com' }, 'PARLEY_PUBLIC_URL', /http\(s\)/],
        [{ PARLEY_PUBLIC_URL: 'https://chat.example.com/?a=1' }, 'PARLEY_PUBLIC_URL', /without query/],
        [
          { PARLEY_JSONAPI_ATTRIBUTES: 'planets:name' },
          'PARLEY_JSONAPI_ATTRIBUTES',
          /unknown type "planets"/,
        ],
        [
          { PARLEY_JSONAPI_ATTRIBUTES: 'users:username,shoeSize' },
          'PARLEY_JSONAPI_ATTRIBUTES',
          /no attribute "shoeSize"/,
        ],
        [{ PARLEY_JSONAPI_ATTRIBUTES: 'users' }, 'PARLEY_JSONAPI_ATTRIBUTES', /names no fields for users/],
        [
          { PARLEY_JSONAPI_ATTRIBUTES: 'messages:text,authorId' },
          'PARLEY_JSONAPI_ATTRIBUTES',
          /foreign key.*FOREIGN_KEYS/,
        ],
        [{ PARLEY_JSONAPI_EXCLUDE: 'users.destroy' }, 'PARLEY_JSONAPI_EXCLUDE', /operations: list, read/],
        [{ PARLEY_JSONAPI_EXCLUDE: 'planets' }, 'PARLEY_JSONAPI_EXCLUDE', /unknown type/],
        [{ PARLEY_JSONAPI_EXCLUDE: 'users.create.now' }, 'PARLEY_JSONAPI_EXCLUDE', /type or type.operation/],
        [
          { PARLEY_JSONAPI_FOREIGN_KEYS: 'messages:text' },
          'PARLEY_JSONAPI_FOREIGN_KEYS',
          /no foreign key "text"/,
        ],
        [{ PARLEY_JSONAPI_FOREIGN_KEYS: 'yes please' }, 'PARLEY_JSONAPI_FOREIGN_KEYS', /unknown type/],
      ];
      for (const [vars, variable, pattern] of cases) {
        assertConfigError(() => loadConfig(env(vars)), variable, pattern);
      }
    });

    it('checks plugin options the same way, naming the option', async () => {
      const base = loadConfig(env({})).jsonapi;
      assert.deepEqual(withJsonApiOptions(base, { foreignKeys: { chats: true }, exclude: ['messages'] }), {
        ...base,
        foreignKeys: { chats: ['createdBy'] },
        exclude: ['messages'],
      });
      assertConfigError(
        () => withJsonApiOptions(base, { attributes: { users: ['nope'] } }),
        'jsonapi.attributes',
        /users has no attribute "nope"/,
      );
      assertConfigError(() => withJsonApiOptions(base, { publicUrl: 'nope' }), 'jsonapi.publicUrl');
      const host = Fastify({ pluginTimeout: 120_000 });
      await assert.rejects(
        async () => {
          await host.register(parley, { config: testConfig(), jsonapi: { exclude: ['users.shout'] } });
          await host.ready();
        },
        (error: unknown) => error instanceof ConfigError && error.variable === 'jsonapi.exclude',
      );
      await host.close();
    });
  });

  describe('switches (Parley mounted four ways over one database)', () => {
    const schema = testSchemaName();
    let store: Store;
    let host: FastifyInstance;
    let config: Config;
    /** A client of the user `sub`, through the mount at `prefix`; the user is provisioned there. */
    const login = async (prefix: string, sub: string, admin = false): Promise<Client> => {
      const client = clientFor(host, sub, await mintToken(config.jwt, { sub, admin }));
      assert.equal((await client.get(`${prefix}/v1/me`)).status, 200);
      return client;
    };

    before(async () => {
      config = await testAppConfig({}, schema);
      store = await openStore(config.database);
      host = Fastify({ routerOptions: { maxParamLength: 512 }, pluginTimeout: 120_000 });
      const mount = (prefix: string, options: Record<string, unknown>, over: Config = config) =>
        host.register(parley, { config: over, store, openapi: false, prefix, ...options });
      await mount('/off', { jsonapi: { enabled: false } });
      await mount(
        '/env',
        {},
        testConfig(
          {
            PARLEY_PUBLIC_URL: 'https://chat.example.com/api/',
            PARLEY_JSONAPI_ATTRIBUTES: 'users:username;chats:name,topic',
            PARLEY_JSONAPI_EXCLUDE: 'users.create,members.delete',
            PARLEY_JSONAPI_FOREIGN_KEYS: 'messages;members:userId',
          },
          schema,
        ),
      );
      await mount('/opt', {
        jsonapi: { attributes: { messages: ['text'] }, exclude: ['chats.delete'], foreignKeys: true },
      });
      await mount('/dev', {}, { ...config, nodeEnv: 'development' });
      await host.ready();
    });
    after(async () => {
      await host.close();
      await store.close();
      await dropSchema(schema);
    });

    it('PARLEY_JSONAPI=false: the native API only, whatever the client asks', async () => {
      const alice = await login('/off', 'off-alice');
      const me = await alice.get<UserView>('/off/v1/me', ACCEPT);
      assert.equal(me.status, 200);
      assert.match(String(me.headers['content-type']), /^application\/json/);
      assert.equal(me.body.id, 'off-alice');
      const doc = { data: { type: 'chats', attributes: { kind: 'group', name: 'off' } } };
      assertValidRequest('create', doc);
      const refused = await alice.post('/off/v1/chats', doc, SEND);
      assertError(refused, 415, 'unsupported_media_type');
      const chat = await alice.post('/off/v1/chats', { kind: 'group', name: 'off-chat' });
      assert.equal(
        (await alice.get(`/off/v1/chats/${chat.body.id}/relationships/members`, ACCEPT)).status,
        404,
      );
    });

    it('PARLEY_PUBLIC_URL and the per-type attribute whitelist shape every document', async () => {
      const alice = await login('/env', 'env-alice');
      const me = assertOne(await alice.get('/env/v1/me', ACCEPT), 200);
      assert.deepEqual(me.data.attributes, { username: 'env-alice' });
      assert.equal(me.data.links?.self, 'https://chat.example.com/api/v1/users/env-alice');
      assert.equal(me.links?.self, 'https://chat.example.com/api/v1/me');

      const chat = (await alice.post('/env/v1/chats', { kind: 'group', name: 'env-chat', topic: 't' })).body;
      const doc = assertOne(await alice.get(`/env/v1/chats/${chat.id}?include=creator`, ACCEPT), 200);
      assert.deepEqual(doc.data.attributes, { name: 'env-chat', topic: 't' });
      assert.deepEqual(doc.included?.[0]?.attributes, { username: 'env-alice' });
      assert.ok(
        doc.data.relationships?.lastMessage?.links?.self?.startsWith(
          'https://chat.example.com/api/v1/chats/',
        ),
      );
      assertErrors(
        await alice.get(`/env/v1/chats/${chat.id}?fields[chats]=memberCount`, ACCEPT),
        400,
        'invalid_request',
        {
          parameter: 'fields[chats]',
        },
      );
    });

    it('foreign keys configured per type show as attributes too, and stay relationships', async () => {
      const alice = await login('/env', 'env-fk');
      const chat = (await alice.post('/env/v1/chats', { kind: 'group', name: 'env-fk' })).body;
      await alice.post(`/env/v1/chats/${chat.id}/messages`, { text: 'hi' });
      const message = assertOne(await alice.get(`/env/v1/chats/${chat.id}/messages/1`, ACCEPT), 200).data;
      assert.equal(message.attributes?.chatId, chat.id);
      assert.equal(message.attributes?.authorId, 'env-fk');
      assert.deepEqual(message.relationships?.author?.data, { type: 'users', id: 'env-fk' });
      const member = assertOne(await alice.get(`/env/v1/chats/${chat.id}/members/env-fk`, ACCEPT), 200).data;
      assert.equal(member.attributes?.userId, 'env-fk');
      assert.equal(member.attributes?.chatId, undefined);
      // Not configured for chats: createdBy is the creator relationship only.
      const doc = assertOne(await alice.get(`/env/v1/chats/${chat.id}`, ACCEPT), 200);
      assert.equal(doc.data.attributes?.createdBy, undefined);
    });

    it('excluded operations refuse JSON:API (406, or 415 for a JSON:API body) and stay native', async () => {
      const admin = await login('/env', 'env-admin', true);
      const body = { data: { type: 'users', attributes: { username: 'env-made' } } };
      assertValidRequest('create', body);
      assertErrors(await admin.post('/env/v1/users', body, SEND), 415, 'unsupported_media_type');
      assertErrors(
        await admin.post('/env/v1/users', { username: 'env-made' }, ACCEPT),
        406,
        'not_acceptable',
      );
      const native = await admin.post(
        '/env/v1/users',
        { username: 'env-made' },
        { accept: `${JSONAPI}, application/json` },
      );
      assert.equal(native.status, 201);
      assert.equal(native.body.username, 'env-made');
      // Other operations of the type still speak JSON:API.
      assertDocument(await admin.get('/env/v1/users/env-admin', ACCEPT), 200);

      const chat = (
        await admin.post('/env/v1/chats', { kind: 'group', name: 'env-excl', members: [native.body.id] })
      ).body;
      assertErrors(
        await admin.delete(`/env/v1/chats/${chat.id}/members/${native.body.id}`, ACCEPT),
        406,
        'not_acceptable',
      );
      assertDocument(await admin.get(`/env/v1/chats/${chat.id}/members`, ACCEPT), 200);
      assert.equal((await admin.delete(`/env/v1/chats/${chat.id}/members/${native.body.id}`)).status, 204);
    });

    it('plugin options: whitelist, every foreign key, exclusions, and links under the mount prefix', async () => {
      const alice = await login('/opt', 'opt-alice');
      const chat = (await alice.post('/opt/v1/chats', { kind: 'group', name: 'opt-chat' })).body;
      await alice.post(`/opt/v1/chats/${chat.id}/messages`, { text: 'opt' });
      const doc = assertMany(await alice.get(`/opt/v1/chats/${chat.id}/messages`, ACCEPT), 200);
      const [message] = doc.data;
      assert.ok(message);
      assert.deepEqual(message.attributes, { text: 'opt', chatId: chat.id, authorId: 'opt-alice' });
      assert.equal(message.links?.self, `http://localhost:80/opt/v1/chats/${chat.id}/messages/1`);
      const author = message.relationships?.author?.links?.self;
      assert.ok(author);
      const linkage = await alice.get(author.replace('http://localhost:80', ''));
      assert.deepEqual(assertDocument(linkage, 200).data, { type: 'users', id: 'opt-alice' });
      const chatDoc = assertOne(await alice.get(`/opt/v1/chats/${chat.id}`, ACCEPT), 200);
      assert.equal(chatDoc.data.attributes?.createdBy, 'opt-alice');
      assertErrors(await alice.delete(`/opt/v1/chats/${chat.id}`, ACCEPT), 406, 'not_acceptable');
      assert.equal((await alice.delete(`/opt/v1/chats/${chat.id}`)).status, 204);
    });

    it('a stack trace in meta only with NODE_ENV=development', async () => {
      const dev = await login('/dev', 'dev-alice');
      const chat = (await dev.post('/dev/v1/chats', { kind: 'group', name: 'dev-chat' })).body;
      await dev.post(`/dev/v1/chats/${chat.id}/messages`, { text: 'x' });
      const test = await login('/env', 'dev-alice');
      // An unexpected failure: the messages table is briefly gone.
      await sql`alter table messages rename to messages_away`.execute(store.db);
      try {
        const shown = assertErrors(
          await dev.get(`/dev/v1/chats/${chat.id}/messages/1`, ACCEPT),
          500,
          'internal',
          {
            stack: true,
          },
        );
        assert.equal(typeof shown.meta?.stack, 'string');
        assert.match(String(shown.meta?.stack), /messages/);
        const hidden = await test.get(`/env/v1/chats/${chat.id}/messages/1`, ACCEPT);
        const error = assertErrors(hidden, 500, 'internal');
        assert.equal(error.meta, undefined);
      } finally {
        await sql`alter table messages_away rename to messages`.execute(store.db);
      }
      assert.equal((await dev.get(`/dev/v1/chats/${chat.id}/messages/1`)).status, 200);
    });
  });
});
