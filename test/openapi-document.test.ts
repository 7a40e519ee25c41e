import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { ERROR_STATUS } from '../src/errors/codes.ts';
import { createTestApp, JSONAPI, type TestApp } from './support/app.ts';

/**
 * /openapi.json as code generators read it: every operation named, the views named once, every error an
 * operation can answer declared once and referred to, JSON:API's media type where it is spoken; and the answers of
 * the running app conform to it.
 */

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, Response>;
}

interface Response {
  $ref?: string;
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: Schema }>;
}

type Schema = Record<string, unknown>;

interface Document {
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses?: Record<string, Response> };
}

const operations = (document: Document) =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );

const documentOf = async (t: TestApp) => (await t.request<Document>('GET', '/openapi.json')).body;

/** A JSON pointer as a URI fragment: `/paths/~1v1~1chats/get`. */
const pointer = (...segments: (string | number)[]) =>
  segments.map((s) => `/${encodeURIComponent(String(s).replace(/~/g, '~0').replace(/\//g, '~1'))}`).join('');

/** Where an answer's documented schema is: the operation's response for the status (or the one it refers to). */
function schemaAt(document: Document, method: string, path: string, status: number, type: string): string {
  const response = document.paths[path]?.[method]?.responses[status];
  assert.ok(response, `${method.toUpperCase()} ${path} documents no ${status}`);
  const name = response.$ref?.split('/').pop();
  const found = name === undefined ? response : document.components.responses?.[name];
  assert.ok(
    found?.content?.[type]?.schema,
    `${method.toUpperCase()} ${path} ${status} has no ${type} content`,
  );
  return name === undefined
    ? pointer('paths', path, method, 'responses', status, 'content', type, 'schema')
    : pointer('components', 'responses', name, 'content', type, 'schema');
}

describe('the OpenAPI document, for code generators', () => {
  let t: TestApp;
  let document: Document;
  before(async () => {
    t = await createTestApp();
    document = await documentOf(t);
  });
  after(async () => {
    await t?.close();
  });

  it('names every operation: a unique camelCase operationId, a summary and a tag, dialects included', async () => {
    const all = await createTestApp({ DIALECTS: 'avito,instabug,drf,sourceloop' });
    try {
      for (const doc of [document, await documentOf(all)]) {
        const ids = operations(doc).map(({ operation }) => operation.operationId ?? '');
        assert.ok(ids.length >= 36, `${ids.length} operations`);
        assert.deepEqual(
          ids.filter((id, i) => ids.indexOf(id) !== i),
          [],
          'operationIds used twice',
        );
        assert.deepEqual(
          ids.filter((id) => !/^[a-z][A-Za-z0-9]*$/.test(id)),
          [],
          'operationIds that are not camelCase',
        );
        for (const { path, method, operation } of operations(doc)) {
          assert.ok(operation.summary, `${method} ${path} has a summary`);
          assert.ok(operation.tags?.length, `${method} ${path} has a tag`);
          assert.ok(operation.security, `${method} ${path} says which security it needs (or none)`);
        }
        const declared = (doc.tags ?? []).map((tag) => tag.name);
        const used = new Set(operations(doc).flatMap(({ operation }) => operation.tags ?? []));
        assert.deepEqual(new Set(declared), used, 'every tag used is declared, once, and no other');
      }
    } finally {
      await all.close();
    }
    // Stable: the names a generated client has for the native API.
    const id = (method: string, path: string) => document.paths[path]?.[method]?.operationId;
    assert.equal(id('get', '/v1/chats'), 'listChats');
    assert.equal(id('post', '/v1/chats/{id}/messages'), 'sendMessage');
    assert.equal(id('get', '/v1/unread'), 'getUnread');
    assert.equal(id('get', '/v1/stream'), 'openStream');
    assert.equal(id('get', '/v1/events'), 'openEventStream');
    assert.equal(id('post', '/v1/chats/{id}/relationships/members'), 'addChatMembers');
  });

  it('names the views once (components.schemas) and refers to them from bodies and answers', () => {
    for (const name of ['Chat', 'Message', 'User', 'Member', 'UnreadSummary', 'SearchHit', 'Error']) {
      assert.ok(document.components.schemas[name], `components.schemas.${name}`);
    }
    const json = (method: string, path: string, status: number) =>
      document.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
    assert.deepEqual(json('get', '/v1/chats/{id}', 200), { $ref: '#/components/schemas/Chat' });
    assert.deepEqual(json('get', '/v1/chats', 200), { $ref: '#/components/schemas/ChatPage' });
    assert.deepEqual(json('get', '/v1/unread', 200), { $ref: '#/components/schemas/UnreadSummary' });
    const chat = document.components.schemas.Chat as { properties: Record<string, Schema> };
    assert.deepEqual(chat.properties.kind, { $ref: '#/components/schemas/ChatKind' });
    assert.deepEqual(document.components.schemas.Role, {
      type: 'string',
      enum: ['owner', 'admin', 'member'],
    });
    // Nothing named is left unused.
    const text = JSON.stringify({ paths: document.paths, components: document.components });
    for (const name of Object.keys(document.components.schemas)) {
      assert.ok(text.includes(`"#/components/schemas/${name}"`), `${name} is referred to`);
    }
  });

  it('declares each error response once, and refers to it for every error an operation can answer', () => {
    const responses = document.components.responses ?? {};
    for (const [name, response] of Object.entries(responses)) {
      assert.deepEqual(
        response.content?.['application/json']?.schema,
        { $ref: '#/components/schemas/Error' },
        name,
      );
      assert.deepEqual(
        response.content?.[JSONAPI]?.schema,
        { $ref: '#/components/schemas/JsonApiErrors' },
        name,
      );
    }
    assert.ok(responses.TooManyRequests?.headers?.['Retry-After']);
    assert.ok(responses.Unavailable?.headers?.['Retry-After']);
    const codes = (
      document.components.schemas.Error as { properties: { error: { properties: { code: Schema } } } }
    ).properties.error.properties.code;
    assert.deepEqual(codes.enum, Object.keys(ERROR_STATUS));

    const statuses = (method: string, path: string) =>
      Object.keys(document.paths[path]?.[method]?.responses ?? {}).map(Number);
    assert.deepEqual(
      statuses('post', '/v1/chats/{id}/messages'),
      [200, 201, 400, 401, 403, 404, 406, 409, 413, 415, 429, 500, 503],
    );
    assert.deepEqual(statuses('get', '/v1/me'), [200, 400, 401, 404, 406, 415, 429, 500, 503]);
    assert.deepEqual(
      statuses('delete', '/v1/chats/{id}'),
      [204, 400, 401, 403, 404, 406, 415, 429, 500, 503],
    );
    for (const { path, method, operation } of operations(document)) {
      const native = path.startsWith('/v1/') && !['/v1/stream', '/v1/events'].includes(path);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (native && Number(status) >= 400) {
          assert.match(response.$ref ?? '', /^#\/components\/responses\//, `${method} ${path} ${status}`);
        }
      }
      if (native) {
        for (const status of [401, 429, 500, 503]) {
          assert.ok(operation.responses[status], `${method} ${path} documents ${status}`);
        }
      }
    }
  });

  it('shows the JSON:API media type where the operation speaks it, and the server where Parley is mounted', () => {
    assert.deepEqual(
      document.servers?.map((server) => server.url),
      ['/'],
    );
    const send = document.paths['/v1/chats/{id}/messages']?.post;
    assert.deepEqual(Object.keys(send?.requestBody?.content ?? {}), ['application/json', JSONAPI]);
    assert.deepEqual(Object.keys(send?.responses[201]?.content ?? {}), ['application/json', JSONAPI]);
    // The relationship endpoints speak JSON:API only, with its query parameters.
    const members = document.paths['/v1/chats/{id}/relationships/members'];
    assert.deepEqual(Object.keys(members?.post?.requestBody?.content ?? {}), [JSONAPI]);
    assert.deepEqual(Object.keys(members?.get?.responses[200]?.content ?? {}), [JSONAPI]);
    assert.deepEqual(
      members?.get?.parameters?.filter((p) => p.in === 'query').map((p) => p.name),
      ['page[cursor]', 'page[size]'],
    );
    // The stream: an event stream, and errors in the native body only.
    const events = document.paths['/v1/events']?.get;
    assert.deepEqual(Object.keys(events?.responses[200]?.content ?? {}), ['text/event-stream']);
    assert.deepEqual(Object.keys(events?.responses[401]?.content ?? {}), ['application/json']);
    assert.match(events?.description ?? '', /docs\/stream\.md/);
  });

  it("has the running app's answers conform to it: views, pages, errors and JSON:API documents", async () => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats.default(ajv);
    ajv.addSchema({ ...document, $id: 'openapi.json' });
    const conforms = (
      method: string,
      path: string,
      answer: { status: number; body: unknown },
      type = 'application/json',
    ) => {
      const validate = ajv.compile({
        $ref: `openapi.json#${schemaAt(document, method, path, answer.status, type)}`,
      });
      assert.ok(
        validate(answer.body),
        `${method.toUpperCase()} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(answer.body).slice(0, 300)}`,
      );
    };
    const alice = await t.login('doc-alice');
    await t.login('doc-bob');
    conforms('get', '/v1/me', await alice.get('/v1/me'));
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'documented', members: ['doc-bob'] });
    conforms('post', '/v1/chats', chat);
    const sent = await alice.post(`/v1/chats/${chat.body.id}/messages`, { text: 'hi', clientId: 'doc-1' });
    conforms('post', '/v1/chats/{id}/messages', sent);
    conforms(
      'post',
      '/v1/chats/{id}/messages',
      await alice.post(`/v1/chats/${chat.body.id}/messages`, { text: 'hi', clientId: 'doc-1' }),
    );
    conforms('get', '/v1/chats', await alice.get('/v1/chats'));
    conforms('get', '/v1/chats/{id}/messages', await alice.get(`/v1/chats/${chat.body.id}/messages`));
    conforms('get', '/v1/chats/{id}/members', await alice.get(`/v1/chats/${chat.body.id}/members`));
    conforms('get', '/v1/unread', await (await t.as('doc-bob')).get('/v1/unread'));
    conforms('get', '/v1/search/messages', await alice.get('/v1/search/messages?q=hi'));
    conforms('get', '/v1/chats/{id}', await alice.get('/v1/chats/nope'));
    conforms('post', '/v1/chats', await alice.post('/v1/chats', { kind: 'group' }));
    conforms(
      'get',
      '/v1/chats/{id}',
      await alice.get(`/v1/chats/${chat.body.id}`, { accept: JSONAPI }),
      JSONAPI,
    );
    conforms('get', '/v1/chats/{id}', await alice.get('/v1/chats/nope', { accept: JSONAPI }), JSONAPI);
    conforms(
      'get',
      '/v1/chats/{id}/relationships/members',
      await alice.get(`/v1/chats/${chat.body.id}/relationships/members`, { accept: JSONAPI }),
      JSONAPI,
    );
    conforms('get', '/health/ready', await t.request('GET', '/health/ready'));
  });

  it('leaves out what is off: JSON:API, and 429 without rate limits', async () => {
    const plain = await createTestApp({
      PARLEY_JSONAPI: 'false',
      PARLEY_RATE_LIMIT_USER: '0',
      PARLEY_RATE_LIMIT_IP: '0',
    });
    try {
      const doc = await documentOf(plain);
      const text = JSON.stringify({ paths: doc.paths, components: doc.components });
      assert.ok(!text.includes(`"${JSONAPI}"`), 'no JSON:API media type');
      assert.deepEqual(
        Object.keys(doc.components.schemas).filter((name) => name.startsWith('JsonApi')),
        [],
      );
      assert.equal(doc.components.responses?.TooManyRequests, undefined);
      assert.equal(doc.paths['/v1/chats']?.get?.responses[429], undefined);
      assert.equal(doc.paths['/v1/chats/{id}/relationships/members'], undefined);
    } finally {
      await plain.close();
    }
  });
});
