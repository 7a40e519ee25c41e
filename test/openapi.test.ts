import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './support/app.ts';

/** The parts of the OpenAPI document these tests read. */
interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[];
        requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
        responses: Record<string, unknown>;
      }
    >
  >;
}

describe('OpenAPI, explorer and health', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  it('publishes every native endpoint in /openapi.json, generated from the route schemas', async () => {
    const res = await t.request<OpenApiDocument>('GET', '/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.body.openapi, /^3\./);
    const expected: [string, string][] = [
      ['/v1/me', 'get'],
      ['/v1/me', 'patch'],
      ['/v1/users', 'post'],
      ['/v1/users', 'get'],
      ['/v1/users/{id}', 'get'],
      ['/v1/chats', 'post'],
      ['/v1/chats', 'get'],
      ['/v1/chats/{id}', 'get'],
      ['/v1/chats/{id}', 'patch'],
      ['/v1/chats/{id}', 'delete'],
      ['/v1/chats/{id}/members', 'get'],
      ['/v1/chats/{id}/members', 'post'],
      ['/v1/chats/{id}/members/{userId}', 'patch'],
      ['/v1/chats/{id}/members/{userId}', 'delete'],
      ['/v1/chats/{id}/messages', 'post'],
      ['/v1/chats/{id}/messages', 'get'],
      ['/v1/chats/{id}/messages/{seq}', 'get'],
      ['/v1/chats/{id}/messages/{seq}', 'patch'],
      ['/v1/chats/{id}/messages/{seq}', 'delete'],
      ['/v1/chats/{id}/read', 'post'],
      ['/v1/unread', 'get'],
      ['/health/live', 'get'],
      ['/health/ready', 'get'],
    ];
    for (const [path, method] of expected) {
      assert.ok(res.body.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
    }
    const send = res.body.paths['/v1/chats/{id}/messages']?.post;
    assert.deepEqual(send?.security, [{ bearerAuth: [] }]);
    assert.ok(send.requestBody?.content['application/json']?.schema.properties?.text);
    assert.ok(send.responses['201']);
  });

  it('serves the explorer at /docs and /explorer', async () => {
    const docs = await t.request('GET', '/docs/');
    assert.equal(docs.status, 200);
    assert.match(String(docs.headers['content-type']), /text\/html/);
    const alias = await t.request('GET', '/explorer');
    assert.equal(alias.status, 302);
    assert.equal(alias.headers.location, '/docs');
  });

  it('answers liveness and readiness', async () => {
    assert.deepEqual((await t.request('GET', '/health/live')).body, { status: 'ok' });
    const ready = await t.request('GET', '/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ok', database: 'up' });
  });

  it('answers 503 on readiness once the database is gone', async () => {
    const t2 = await createTestApp();
    await t2.app.parley.store.close();
    try {
      const ready = await t2.request('GET', '/health/ready');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.database, 'down');
    } finally {
      // The store is already closed, so closing the app may complain; the test schema is dropped regardless.
      await t2.close().catch(() => {});
    }
  });
});
