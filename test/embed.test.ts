import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { mintToken, openStore, parley } from '../src/index.ts';
import { clientFor, dropSchema, inject, testAppConfig, testSchemaName } from './support/app.ts';
import { assertError } from './support/assertions.ts';

describe('mounting Parley into a host Fastify app', () => {
  it('serves Parley under a prefix beside the host routes, with its own error handling', async () => {
    const schema = testSchemaName();
    const config = await testAppConfig({}, schema);
    // Opening and migrating the embedded database can take longer than Fastify's default 10 s plugin timeout.
    const host = Fastify({ pluginTimeout: 120_000 });
    host.get('/hello', async () => ({ hello: 'host' }));
    host.post('/echo', async (request) => ({ got: request.body }));
    await host.register(parley, { config, prefix: '/chat' });
    try {
      assert.deepEqual((await inject(host, 'GET', '/hello')).body, { hello: 'host' });
      // The host keeps its own JSON handling: unknown fields are not Parley's business there.
      assert.deepEqual((await inject(host, 'POST', '/echo', { any: 1 })).body, { got: { any: 1 } });

      const alice = clientFor(host, 'alice', await mintToken(config.jwt, { sub: 'alice' }));
      const me = await alice.get('/chat/v1/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.id, 'alice');
      const chat = await alice.post('/chat/v1/chats', { kind: 'group', name: 'embedded' });
      assert.equal(chat.status, 201);
      const bad = await alice.post(`/chat/v1/chats/${chat.body.id}/messages`, { text: 'hi', extra: true });
      assertError(bad, 400, 'invalid_request');

      assert.equal((await inject(host, 'GET', '/chat/health/ready')).status, 200);
      const spec = await inject<{ servers: { url: string }[]; paths: Record<string, unknown> }>(
        host,
        'GET',
        '/chat/openapi.json',
      );
      assert.equal(spec.status, 200);
      // The prefix is the document's server; paths are Parley's own, as standalone (a client works under any prefix).
      assert.deepEqual(
        spec.body.servers.map((server) => server.url),
        ['/chat'],
      );
      assert.ok(spec.body.paths['/v1/chats/{id}/messages']);
      assert.ok(!Object.keys(spec.body.paths).some((p) => p.startsWith('/chat/')));
      // The stream's document beside it, its addresses under the prefix too (test/asyncapi.test.ts connects to them).
      const stream = await inject<{ channels: Record<string, { address: string }> }>(
        host,
        'GET',
        '/chat/asyncapi.json',
      );
      assert.equal(stream.status, 200);
      assert.deepEqual(
        Object.values(stream.body.channels).map((channel) => channel.address),
        ['/chat/v1/stream', '/chat/v1/events'],
      );
      assert.equal(
        (await inject(host, 'GET', '/v1/me')).status,
        404,
        'nothing is mounted outside the prefix',
      );
    } finally {
      await host.close();
      await dropSchema(schema);
    }
  });

  it('uses a database connection the host provides, and leaves it open', async () => {
    const schema = testSchemaName();
    const config = await testAppConfig({}, schema);
    const store = await openStore(config.database);
    // Opening and migrating the embedded database can take longer than Fastify's default 10 s plugin timeout.
    const host = Fastify({ pluginTimeout: 120_000 });
    await host.register(parley, { config, db: store.db, prefix: '/chat' });
    try {
      const bob = clientFor(host, 'bob', await mintToken(config.jwt, { sub: 'bob' }));
      assert.equal((await bob.get('/chat/v1/me')).status, 200);
      await host.close();
      // Parley wrote into the host's database and did not close the host's connection.
      const rows = await sql<{ id: string }>`select id from users where id = 'bob'`.execute(store.db);
      assert.deepEqual(rows.rows, [{ id: 'bob' }]);
    } finally {
      await host.close();
      await store.close();
      await dropSchema(schema);
    }
  });
});
