import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { DeadlineError } from '../src/db/budget.ts';
import { QueryTimeoutError } from '../src/db/deadline.ts';
import { DatabaseDownError, DatabaseHealth } from '../src/db/health.ts';
import { AppError } from '../src/errors/codes.ts';
import { toErrorResponse } from '../src/errors/http.ts';
import { createTestApp, type Client, type Response, type TestApp } from './support/app.ts';
import type { ErrorBody } from './support/api.ts';
import { assertError } from './support/assertions.ts';
import { createGroup, sendMessages } from './support/factories.ts';
import { assertErrors, JSONAPI } from './support/jsonapi.ts';

/** Every error body is exactly `{error: {code, message, details?}}`. */
describe('errors', () => {
  let t: TestApp;
  let alice: Client;
  before(async () => {
    t = await createTestApp();
    alice = await t.login('err-alice');
  });
  after(async () => {
    await t.close();
  });

  const raw = (
    method: string,
    url: string,
    payload: string | undefined,
    headers: Record<string, string> = {},
  ) => t.request(method, url, payload, { authorization: `Bearer ${alice.token}`, ...headers });

  describe('routing', () => {
    it('unknown route → 404 not_found in the error shape', async () => {
      assertError(await t.request('GET', '/v1/nope'), 404, 'not_found');
      assertError(await alice.get('/v1/nope'), 404, 'not_found');
      assertError(await t.request('GET', '/definitely/not/here'), 404, 'not_found');
    });

    it('a known path with an unknown method → 404 not_found', async () => {
      assertError(await alice.put('/v1/me', { displayName: 'x' }), 404, 'not_found');
    });

    it('a URL the router cannot read → 400 invalid_request in the error shape', async () => {
      for (const url of ['/v1/chats/%E0%A4%A/messages', '/v1/chats/%ZZ', `/v1/chats/${'x'.repeat(600)}`]) {
        assertError(await alice.get(url), 400, 'invalid_request', 'path');
        assertError(await t.request('GET', url), 400, 'invalid_request', 'path');
      }
    });

    it('a missing resource → 404 not_found in the error shape', async () => {
      assertError(await alice.get('/v1/chats/does-not-exist'), 404, 'not_found');
    });
  });

  describe('request bodies', () => {
    it('invalid JSON → 400 invalid_request', async () => {
      for (const payload of ['{"kind":', '{kind: "group"}', "{'a':1}", 'not json', '{"a":1}}']) {
        const res = await raw('POST', '/v1/chats', payload);
        assertError(res, 400, 'invalid_request');
      }
    });

    it('an empty body with Content-Type JSON → 400 invalid_request', async () => {
      assertError(await raw('POST', '/v1/chats', ''), 400, 'invalid_request', 'body');
    });

    it('a JSON body that is not an object → 400 invalid_request', async () => {
      for (const payload of ['[]', '"group"', '42', 'null']) {
        assertError(await raw('POST', '/v1/chats', payload), 400, 'invalid_request');
      }
    });

    it('wrong Content-Type → 415 unsupported_media_type', async () => {
      const body = JSON.stringify({ kind: 'group', name: 'err-text-plain' });
      for (const type of [
        'text/plain',
        'application/xml',
        'application/x-www-form-urlencoded',
        'text/html',
      ]) {
        const res = await raw('POST', '/v1/chats', body, { 'content-type': type });
        assertError(res, 415, 'unsupported_media_type');
      }
      // Nothing was created by the refused requests.
      const chats = await alice.get('/v1/chats');
      assert.ok(chats.body.data.every((c) => c.name !== 'err-text-plain'));
    });

    it('application/json with a charset is fine', async () => {
      const res = await raw('POST', '/v1/chats', JSON.stringify({ kind: 'group', name: 'err-charset' }), {
        'content-type': 'application/json; charset=utf-8',
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    });

    it('a body over 1 MiB → 413 payload_too_large', async () => {
      const chat = await createGroup(alice);
      const res = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'x'.repeat(1024 * 1024 + 10) });
      assertError(res, 413, 'payload_too_large');
      assert.equal((await alice.get(`/v1/chats/${chat.id}`)).body.messageCount, 0);
    });

    it('an unknown body field → 400 naming the field', async () => {
      const chat = await createGroup(alice);
      const res = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'hi', extra: true });
      const error = assertError(res, 400, 'invalid_request', 'extra');
      assert.equal(error.message, 'extra: is not a known field');
      assert.deepEqual(error.details?.[0], {
        field: 'extra',
        in: 'body',
        problem: 'is not a known field',
      });
      const chatRes = await alice.post('/v1/chats', { kind: 'group', name: 'err-unknown', colour: 'red' });
      assertError(chatRes, 400, 'invalid_request', 'colour');
    });

    it('a missing required field → 400 naming it', async () => {
      const chat = await createGroup(alice);
      const res = await alice.post(`/v1/chats/${chat.id}/messages`, {});
      assert.match(assertError(res, 400, 'invalid_request', 'text').message, /is required/);
    });

    it('body types are not coerced', async () => {
      const chat = await createGroup(alice);
      await sendMessages(alice, chat.id, 3);
      assertError(await alice.post(`/v1/chats/${chat.id}/read`, { seq: '3' }), 400, 'invalid_request', 'seq');
      assertError(await alice.post(`/v1/chats/${chat.id}/read`, { seq: 2.5 }), 400, 'invalid_request', 'seq');
      assertError(
        await alice.post(`/v1/chats/${chat.id}/read`, { seq: true }),
        400,
        'invalid_request',
        'seq',
      );
      const text = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 123 });
      assertError(text, 400, 'invalid_request', 'text');
      const replyTo = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'r', replyTo: '1' });
      assertError(replyTo, 400, 'invalid_request', 'replyTo');
      // The well-typed request works.
      const ok = await alice.post(`/v1/chats/${chat.id}/read`, { seq: 3 });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.lastReadSeq, 3);
      assert.equal((await alice.get(`/v1/chats/${chat.id}`)).body.messageCount, 3);
    });

    it('a nested field is named with its path', async () => {
      const res = await alice.post('/v1/chats', { kind: 'group', name: 'err-nested', members: ['ok', 5] });
      assertError(res, 400, 'invalid_request', 'members[1]');
    });
  });

  describe('query strings and path parameters', () => {
    let chatId: string;
    before(async () => {
      const chat = await createGroup(alice);
      chatId = chat.id;
      await sendMessages(alice, chatId, 5);
    });

    it('limit is coerced from its digits', async () => {
      const res = await alice.get(`/v1/chats/${chatId}/messages?limit=2`);
      assert.equal(res.status, 200);
      assert.equal(res.body.data.length, 2);
      assert.ok(res.body.nextCursor);
    });

    it('a limit that is not a number → 400 naming limit', async () => {
      for (const limit of ['abc', '2x', '1.5', '']) {
        const res = await alice.get(`/v1/chats/${chatId}/messages?limit=${limit}`);
        assert.equal(assertError(res, 400, 'invalid_request', 'limit').details?.[0]?.in, 'querystring');
      }
    });

    it('a limit outside 1..200 → 400 naming limit', async () => {
      for (const limit of ['0', '-1', '201', '500']) {
        assertError(
          await alice.get(`/v1/chats/${chatId}/messages?limit=${limit}`),
          400,
          'invalid_request',
          'limit',
        );
      }
      assert.equal((await alice.get(`/v1/chats/${chatId}/messages?limit=200`)).status, 200);
      assert.equal((await alice.get(`/v1/chats/${chatId}/messages?limit=1`)).status, 200);
    });

    it('limit is checked the same way on every list', async () => {
      for (const url of ['/v1/chats', '/v1/users', `/v1/chats/${chatId}/members`]) {
        assert.equal((await alice.get(`${url}?limit=1`)).status, 200, url);
        assertError(await alice.get(`${url}?limit=abc`), 400, 'invalid_request', 'limit');
        assertError(await alice.get(`${url}?limit=500`), 400, 'invalid_request', 'limit');
      }
    });

    it('path numbers are coerced; a non-number → 400 naming the parameter', async () => {
      const ok = await alice.get(`/v1/chats/${chatId}/messages/2`);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.seq, 2);
      assertError(await alice.get(`/v1/chats/${chatId}/messages/two`), 400, 'invalid_request', 'seq');
      assertError(await alice.get(`/v1/chats/${chatId}/messages/0`), 400, 'invalid_request', 'seq');
      assertError(await alice.get(`/v1/chats/${chatId}/messages/99`), 404, 'not_found');
    });

    it('whole numbers beyond the exactly representable range → 400 naming the field, never a 500', async () => {
      const huge: [string, string][] = [
        [`/v1/chats/${chatId}/messages?after=100000000000000000000`, 'after'],
        [`/v1/chats/${chatId}/messages?after=1e400`, 'after'],
        [`/v1/chats/${chatId}/messages?before=9223372036854775808`, 'before'],
        [`/v1/chats/${chatId}/messages/100000000000000000000`, 'seq'],
        [`/v1/chats/${chatId}/messages/9007199254740992`, 'seq'],
      ];
      for (const [url, field] of huge) {
        assertError(await alice.get(url), 400, 'invalid_request', field);
      }
      assertError(
        await alice.post(`/v1/chats/${chatId}/messages`, { text: 'far', replyTo: 1e20 }),
        400,
        'invalid_request',
        'replyTo',
      );
      assertError(await alice.post(`/v1/chats/${chatId}/read`, { seq: 1e20 }), 400, 'invalid_request', 'seq');
      const jsonapi = await alice.get(`/v1/chats/${chatId}/messages?page[after]=100000000000000000000`, {
        accept: JSONAPI,
      });
      assertErrors(jsonapi, 400, 'invalid_request', { parameter: 'page[after]' });
      // The largest exact one is fine: nothing after it.
      const edge = await alice.get(`/v1/chats/${chatId}/messages?after=9007199254740991`);
      assert.equal(edge.status, 200, JSON.stringify(edge.body));
      assert.deepEqual(edge.body.data, []);
      assert.equal((await alice.get(`/v1/chats/${chatId}`)).body.messageCount, 5);
    });
  });

  describe('NUL characters never produce a 500', () => {
    /** A client error in the standard body, whatever its code; returns the error. */
    const assert4xx = (res: Response, what: string) => {
      assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      return assertError(res, res.status, (res.body as Partial<ErrorBody> | null)?.error?.code ?? 'internal');
    };

    it('in message text', async () => {
      const chat = await createGroup(alice);
      const res = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'before\u0000after' });
      assert.equal(assert4xx(res, 'message text').code, 'invalid_request');
      // The chat is unharmed: no seq was used up.
      const next = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'clean' });
      assert.equal(next.status, 201);
      assert.equal(next.body.seq, 1);
      const edit = await alice.patch(`/v1/chats/${chat.id}/messages/1`, { text: 'edit\u0000ed' });
      assert4xx(edit, 'edited text');
      assert.equal((await alice.get(`/v1/chats/${chat.id}/messages/1`)).body.text, 'clean');
    });

    it('in a clientId', async () => {
      const chat = await createGroup(alice);
      assert4xx(
        await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'x', clientId: 'c\u0000' }),
        'clientId',
      );
    });

    it('in path ids', async () => {
      assert4xx(await alice.get('/v1/chats/abc%00def'), 'chat id');
      assert4xx(await alice.get('/v1/chats/%00/messages'), 'chat id (messages)');
      assert4xx(await alice.post('/v1/chats/abc%00/messages', { text: 'x' }), 'chat id (post)');
      assert4xx(await alice.get('/v1/users/user%00id'), 'user id');
    });

    it('in query strings', async () => {
      assert4xx(await alice.get('/v1/users?q=a%00b'), 'q');
      assert4xx(await alice.get('/v1/users?username=a%00b'), 'username');
    });

    it('in chat and profile fields', async () => {
      assert4xx(await alice.post('/v1/chats', { kind: 'group', name: 'nul\u0000name' }), 'chat name');
      assert4xx(
        await alice.post('/v1/chats', { kind: 'group', name: 'nul-topic', topic: '\u0000' }),
        'topic',
      );
      assert4xx(
        await alice.post('/v1/chats', { kind: 'group', name: 'nul-member', members: ['a\u0000'] }),
        'member',
      );
      assert4xx(await alice.patch('/v1/me', { displayName: 'x\u0000y' }), 'displayName');
      assert4xx(await alice.patch('/v1/me', { statusText: '\u0000' }), 'statusText');
      assert.equal((await alice.get('/v1/me')).status, 200);
    });

    it('in the token sub', async () => {
      const nul = await t.as('nul\u0000sub');
      assert4xx(await nul.get('/v1/me'), 'sub');
    });
  });

  describe('lone surrogates (JSON "\\udc00") are stored as U+FFFD on both engines, never a 500', () => {
    const lone = ['é\udc00', '\udc00\udc00', '☀\udc00 sun', '\ud83d', 'end \ud83d\ud83d'];
    const stored = (text: string) =>
      text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

    it('in message text, sent and edited, and in a clientId', async () => {
      const chat = await createGroup(alice);
      for (const text of lone) {
        const sent = await alice.post(`/v1/chats/${chat.id}/messages`, { text, clientId: `c-${text}` });
        assert.equal(sent.status, 201, JSON.stringify(sent.body));
        assert.equal(sent.body.text, stored(text));
        assert.equal(sent.body.clientId, stored(`c-${text}`));
        const edited = await alice.patch(`/v1/chats/${chat.id}/messages/${sent.body.seq}`, {
          text: `${text}!`,
        });
        assert.equal(edited.status, 200, JSON.stringify(edited.body));
        assert.equal(edited.body.text, stored(`${text}!`));
      }
      assert.equal((await alice.get(`/v1/chats/${chat.id}`)).body.messageCount, lone.length);
    });

    it('in chat and profile fields and queries', async () => {
      for (const text of lone) {
        const chat = await alice.post('/v1/chats', { kind: 'group', name: `g ${text}`, topic: text });
        assert.equal(chat.status, 201, JSON.stringify(chat.body));
        assert.equal(chat.body.name, stored(`g ${text}`));
        const me = await alice.patch('/v1/me', { displayName: text, statusText: text });
        assert.equal(me.status, 200, JSON.stringify(me.body));
        assert.equal(me.body.statusText, stored(text));
        const search = await alice.get(`/v1/search/messages?q=${encodeURIComponent(stored(text))}`);
        assert.equal(search.status, 200, JSON.stringify(search.body));
      }
    });
  });

  describe('toErrorResponse', () => {
    it('hides the stack of an unexpected error unless exposeStack', () => {
      const error = new Error('secret internals: password=hunter2');
      const hidden = toErrorResponse(error, false);
      assert.equal(hidden.status, 500);
      assert.equal(hidden.report, true);
      assert.deepEqual(hidden.body, { error: { code: 'internal', message: 'internal error' } });
      assert.ok(!JSON.stringify(hidden.body).includes('hunter2'));

      const shown = toErrorResponse(error, true);
      assert.equal(shown.status, 500);
      assert.equal(shown.body.error.code, 'internal');
      const details = shown.body.error.details as { stack: string }[];
      assert.ok(details[0]?.stack.includes('secret internals'));
      assert.ok(details[0]?.stack.includes('    at '));
    });

    it('a thrown non-Error is a 500 without details either way', () => {
      for (const expose of [false, true]) {
        const res = toErrorResponse('just a string', expose);
        assert.equal(res.status, 500);
        assert.deepEqual(res.body, { error: { code: 'internal', message: 'internal error' } });
      }
    });

    it('an AppError keeps its code, status and details, never a stack', () => {
      const res = toErrorResponse(new AppError('conflict', 'name: taken', [{ field: 'name' }]), true);
      assert.equal(res.status, 409);
      assert.equal(res.report, false);
      assert.deepEqual(res.body, {
        error: { code: 'conflict', message: 'name: taken', details: [{ field: 'name' }] },
      });
    });

    it('a database that cannot be reached → 503 unavailable, not reported per request', () => {
      const refused = () =>
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      const sqlstate = (code: string) => Object.assign(new Error(`server says ${code}`), { code });
      for (const error of [
        refused(),
        sqlstate('57P01'), // admin_shutdown: terminating connection due to administrator command
        sqlstate('57P02'), // crash_shutdown
        sqlstate('57P03'), // cannot_connect_now: the database system is starting up / shutting down
        sqlstate('53300'), // too_many_connections
        sqlstate('08006'), // connection_failure
        Object.assign(new Error('connect EHOSTUNREACH 10.0.0.9:5432'), { code: 'EHOSTUNREACH' }),
        new Error('Connection terminated unexpectedly'),
        new Error('Connection terminated due to connection timeout'),
        new Error('timeout exceeded when trying to connect'),
        new Error('Client has encountered a connection error and is not queryable'),
        new AggregateError([refused(), refused()], 'every address refused'),
        new Error('query failed', { cause: refused() }),
        new QueryTimeoutError(5000),
        new DeadlineError(5000),
        new DatabaseDownError(),
      ]) {
        const res = toErrorResponse(error, false);
        assert.equal(res.status, 503, String(error));
        assert.equal(res.body.error.code, 'unavailable');
        assert.equal(res.body.error.details, undefined);
        assert.equal(res.report, false, 'an outage is logged once, not per request');
      }
    });

    it('an outage is logged when it starts, not per failure, and when it ends', () => {
      const lines: [string, string][] = [];
      const log = Object.fromEntries(
        ['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((level) => [
          level,
          (_fields: unknown, msg: string) => lines.push([level, msg]),
        ]),
      );
      const health = new DatabaseHealth();
      health.logTo(log as unknown as FastifyBaseLogger);
      const lost = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      health.answered();
      assert.deepEqual(lines, [], 'nothing to say while the database answers');
      for (let i = 0; i < 500; i++) {
        health.failed(lost);
      }
      assert.equal(health.available, false);
      health.answered();
      health.answered();
      assert.equal(health.available, true);
      health.failed(lost);
      assert.deepEqual(lines, [
        ['error', 'database unavailable: answering 503 until it is back'],
        ['warn', 'database reachable again'],
        ['error', 'database unavailable: answering 503 until it is back'],
      ]);
    });

    it('PostgreSQL refusing text (NUL, bad encoding) → 400 invalid_request, not 500', () => {
      for (const code of ['22021', '22P05']) {
        const error = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code });
        const res = toErrorResponse(error, true);
        assert.equal(res.status, 400);
        assert.equal(res.body.error.code, 'invalid_request');
        assert.equal(res.report, false);
        assert.equal(res.body.error.details, undefined);
      }
    });

    it('other database errors stay 500 internal', () => {
      const error = Object.assign(new Error('division by zero'), { code: '22012' });
      const res = toErrorResponse(error, false);
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { error: { code: 'internal', message: 'internal error' } });
    });
  });
});

describe('errors with a small body limit', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ PARLEY_BODY_LIMIT: '2048' });
  });
  after(async () => {
    await t.close();
  });

  it('PARLEY_BODY_LIMIT bounds every body → 413 payload_too_large', async () => {
    const alice = await t.login('limit-alice');
    const chat = await createGroup(alice);
    const under = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'x'.repeat(1900) });
    assert.equal(under.status, 201, JSON.stringify(under.body));
    const over = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'x'.repeat(2100) });
    assertError(over, 413, 'payload_too_large');
    const overChat = await alice.post('/v1/chats', { kind: 'group', name: 'big', topic: 't'.repeat(3000) });
    assertError(overChat, 413, 'payload_too_large');
    const overMe = await alice.patch('/v1/me', { statusText: 's'.repeat(3000) });
    assertError(overMe, 413, 'payload_too_large');
    assert.equal((await alice.get(`/v1/chats/${chat.id}`)).body.messageCount, 1);
  });
});
