import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { answer, registeredRoutes } from './support/routes.ts';

/** `/v1/chats/:id` as OpenAPI writes it: `/v1/chats/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** The parts of the OpenAPI document these tests read. */
interface OpenApiParameter {
  in: string;
  name: string;
  required?: boolean;
  schema: { enum?: string[] };
}

interface OpenApiSchema {
  $ref?: string;
  properties?: Record<string, unknown>;
}

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: OpenApiSchema }> };
  responses: Record<string, { content: Record<string, unknown> } | undefined>;
  parameters: OpenApiParameter[];
}

interface OpenApiDocument {
  openapi: string;
  components: { securitySchemes: Record<string, unknown>; schemas?: Record<string, OpenApiSchema> };
  paths: Record<string, Record<string, OpenApiOperation> | undefined>;
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
    // The body is a named schema: a reference into components.schemas.
    const body = send.requestBody?.content['application/json']?.schema;
    assert.equal(body?.$ref, '#/components/schemas/SendMessageInput');
    assert.ok(res.body.components.schemas?.SendMessageInput?.properties?.text);
    assert.ok(send.responses['201']);
  });

  it('declares security on every route that needs a token, dialects and stream included, and on no other', async () => {
    const all = await createTestApp({
      DIALECTS: 'avito,instabug,drf,sourceloop',
      PARLEY_RATE_LIMIT_USER: '0',
      PARLEY_RATE_LIMIT_IP: '0',
    });
    try {
      const doc = (await all.request<OpenApiDocument>('GET', '/openapi.json')).body;
      const schemes = Object.keys(doc.components.securitySchemes);
      const needsToken: string[] = [];
      const undeclared: string[] = [];
      const needless: string[] = [];
      for (const route of await registeredRoutes(all)) {
        if (route.method === 'HEAD' || route.url.includes('*')) {
          continue;
        }
        // Without a token: a route that needs one refuses at once, whatever its parameters.
        const url = route.url.replace(/:[A-Za-z0-9_]+/g, 'x');
        const refused = (await answer(all, { method: route.method, url })).status === 401;
        const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
        const security = (operation?.security ?? []) as Record<string, string[]>[];
        for (const requirement of security) {
          for (const scheme of Object.keys(requirement)) {
            assert.ok(
              schemes.includes(scheme),
              `${route.key}: security names ${scheme}, which is not declared`,
            );
          }
        }
        if (refused) {
          needsToken.push(route.key);
          if (security.length === 0) {
            undeclared.push(route.key);
          }
        } else if (security.length > 0) {
          needless.push(route.key);
        }
      }
      assert.deepEqual(undeclared, [], 'routes that need a token but declare no security');
      assert.deepEqual(needless, [], 'routes that declare security but need no token');
      for (const key of ['GET /v1/stream', 'GET /v1/events', 'POST /sourceloop/messages', 'POST /v1/chats']) {
        assert.ok(needsToken.includes(key), `${key} needs a token`);
      }
      assert.ok(needsToken.length >= 50, `only ${needsToken.length} routes need a token`);
    } finally {
      await all.close();
    }
  });

  it('documents the stream: the WebSocket upgrade and Server-Sent Events, with the token in the query', async () => {
    const doc = (await t.request<OpenApiDocument>('GET', '/openapi.json')).body;
    assert.deepEqual(doc.components.securitySchemes.accessToken, {
      type: 'apiKey',
      in: 'query',
      name: 'access_token',
    });
    const tokenEitherWay = [{ bearerAuth: [] }, { accessToken: [] }];
    const events = doc.paths['/v1/events']?.get;
    assert.ok(events, 'GET /v1/events is documented');
    assert.deepEqual(events.security, tokenEitherWay);
    assert.deepEqual(Object.keys(events.responses['200']?.content ?? {}), ['text/event-stream']);
    assert.ok(events.responses['401']);
    const names = (operation: { parameters: { in: string; name: string }[] }) =>
      operation.parameters.map((p) => `${p.in} ${p.name}`);
    assert.ok(names(events).includes('query resume'));
    assert.ok(names(events).includes('header last-event-id'));

    const socket = doc.paths['/v1/stream']?.get;
    assert.ok(socket, 'GET /v1/stream is documented');
    assert.deepEqual(socket.security, tokenEitherWay);
    assert.ok(socket.responses['101'], 'the upgrade: 101 Switching Protocols');
    assert.ok(socket.responses['426'], 'a plain request: 426');
    const upgrade = socket.parameters.find((p) => p.name === 'upgrade');
    assert.ok(upgrade, 'the Upgrade header is documented');
    assert.deepEqual({ in: upgrade.in, required: upgrade.required }, { in: 'header', required: true });
    assert.deepEqual(upgrade.schema.enum, ['websocket']);
    assert.ok(names(socket).includes('query resume'));

    // Documentation only: the routes answer as before, not by these schemas.
    const token = await t.token('openapi-stream');
    const plain = await t.request('GET', '/v1/stream', undefined, { authorization: `Bearer ${token}` });
    assertError(plain, 426, 'upgrade_required');
    const badResume = await t.request('GET', '/v1/events?resume=%5B', undefined, {
      authorization: `Bearer ${token}`,
    });
    assert.equal(badResume.status, 400);
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
