import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createTestApp, TEST_ISSUER, TEST_SECRET, type TestApp } from './support/app.ts';
import { startSourceLoopOriginal, type SourceLoopOriginal } from './support/sourceloop-original.ts';

/**
 * The differential test of the SourceLoop dialect: the same requests, with the same token, to Parley's dialect and
 * to the published `@sourceloop/chat-service` (booted by `support/sourceloop-original.ts` on LoopBack's memory
 * connector, as the package's acceptance tests boot it), and the answers compared: status, and the JSON's shape
 * (keys, types, list order), with ids and times normalised. Cases ported from the package's acceptance tests
 * (`services/chat-service/src/__tests__/acceptance/*.ts` in sourcefuse/loopback4-microservice-catalog) say which.
 * Where Parley differs on purpose (docs/dialects/sourceloop.md), the case asserts the difference itself.
 */

const BASE = '/sourceloop';
const EVERY = [
  'ViewMessage',
  'CreateMessage',
  'UpdateMessage',
  'DeleteMessage',
  'CreateMessageRecipient',
  'ViewMessageRecipient',
  'UpdateMessageRecipient',
  'DeleteMessageRecipient',
  'CreateAttachmentFile',
  'ViewAttachmentFile',
  'UpdateAttachmentFile',
  'DeleteAttachmentFile',
];

/** A token both verify: Parley reads `sub` and `permissions`, LoopBack `id` (its createdBy) and `permissions`. */
async function tokenFor(user: string, permissions: string[]): Promise<string> {
  return new SignJWT({ id: user, permissions })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user)
    .setIssuer(TEST_ISSUER)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_SECRET));
}

interface Answer {
  status: number;
  body: unknown;
}

interface Request {
  method: string;
  /** Under the base path; `{name}` is replaced by each side's id of that name. */
  path: string;
  /** A value is sent as JSON; a string as it is. */
  body?: unknown;
  token?: string | null;
  contentType?: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/**
 * One side's answer, normalised for comparison: its ids (what its `ids` map names) → their names, times → `<time>`,
 * and, in reads (`nullIsAbsent`), `null` properties left out, as the memory connector leaves them out where the
 * package's PostgreSQL tables show `null`.
 */
function normalise(value: unknown, ids: Map<string, string>, nullIsAbsent: boolean): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => normalise(item, ids, nullIsAbsent));
  }
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => !(nullIsAbsent && v === null))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, normalise(v, ids, nullIsAbsent)]),
    );
  }
  if (typeof value === 'string') {
    return ids.get(value) ?? (TIME.test(value) ? '<time>' : value);
  }
  return value;
}

/** An error body's shape: its keys and their types, `statusCode`, `name` and `code` exactly, details' rules. */
function errorShape(body: unknown): unknown {
  const error = isObject(body) && isObject(body.error) ? body.error : null;
  if (!error) {
    return body;
  }
  // The first problem: LoopBack's validator lists every problem, Parley's the first it finds.
  const first: unknown = Array.isArray(error.details) ? error.details[0] : undefined;
  const details = isObject(first)
    ? { code: first.code, path: first.path, info: first.info }
    : typeof error.details;
  return {
    keys: Object.keys(error).sort(),
    statusCode: error.statusCode,
    name: error.name,
    code: error.code,
    message: typeof error.message,
    details,
  };
}

describe('SourceLoop dialect against the published @sourceloop/chat-service', () => {
  let t: TestApp;
  let original: SourceLoopOriginal;
  let alice: string;
  let viewer: string;
  let channelId: string;
  /** Each side's ids by name (what a case stores), and the other way round for normalising. */
  const named = { parley: new Map<string, string>(), original: new Map<string, string>() };
  const byId = { parley: new Map<string, string>(), original: new Map<string, string>() };

  const remember = (side: 'parley' | 'original', name: string, id: unknown) => {
    assert.equal(typeof id, 'string', `${side} gave ${name} an id`);
    named[side].set(name, id as string);
    byId[side].set(id as string, `<${name}>`);
  };

  const pathOn = (side: 'parley' | 'original', path: string) =>
    path.replace(/\{(\w+)\}/g, (_, name: string) => named[side].get(name) ?? name);

  async function toParley({ method, path, body, token = alice, contentType }: Request): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
    }
    const res = await t.app.inject({
      method: method as 'GET',
      url: `${BASE}${pathOn('parley', path)}`,
      headers,
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.statusCode, body: res.body === '' ? null : (JSON.parse(res.body) as unknown) };
  }

  async function toOriginal({ method, path, body, token = alice, contentType }: Request): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
    }
    const res = await fetch(`${original.url}${pathOn('original', path)}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  /**
   * Sends `request` to both and asserts the same status and shape; `create` compares key sets exactly (a create
   * leaves out what has no value), reads take `null` as absent. Returns both answers.
   */
  async function same(
    request: Request,
    options: { create?: boolean; name?: string; label?: string; detailsAsType?: boolean } = {},
  ) {
    const parley = await toParley(request);
    const theirs = await toOriginal(request);
    // Without an order the original's order is its store's (the memory connector's: by id); compare as sets.
    if (!/order/.test(decodeURIComponent(request.path))) {
      for (const [answer, ids] of [
        [parley, byId.parley],
        [theirs, byId.original],
      ] as const) {
        if (Array.isArray(answer.body)) {
          answer.body.sort((a, b) =>
            JSON.stringify(normalise(a, ids, true)).localeCompare(JSON.stringify(normalise(b, ids, true))),
          );
        }
      }
    }
    const label = `${request.method} ${request.path} ${options.label ?? ''}`;
    assert.equal(parley.status, theirs.status, `${label}: ${JSON.stringify({ parley, original: theirs })}`);
    if (options.name && parley.status === 200) {
      const name = options.name;
      const each = (body: unknown) => (Array.isArray(body) ? body : [body]) as Json[];
      each(parley.body).forEach((row, i) => remember('parley', `${name}${i || ''}`, row.id));
      each(theirs.body).forEach((row, i) => remember('original', `${name}${i || ''}`, row.id));
    }
    if (parley.status >= 400) {
      const shape = (body: unknown) => {
        const found = errorShape(body);
        return options.detailsAsType && isObject(found) ? { ...found, details: typeof found.details } : found;
      };
      assert.deepEqual(shape(parley.body), shape(theirs.body), label);
    } else {
      const nullIsAbsent = !options.create;
      assert.deepEqual(
        normalise(parley.body, byId.parley, nullIsAbsent),
        normalise(theirs.body, byId.original, nullIsAbsent),
        label,
      );
    }
    return { parley, original: theirs };
  }

  before(async () => {
    [t, original] = await Promise.all([
      createTestApp({ DIALECTS: 'sourceloop' }),
      startSourceLoopOriginal({ secret: TEST_SECRET, issuer: TEST_ISSUER }),
    ]);
    alice = await tokenFor('d-alice', EVERY);
    viewer = await tokenFor('d-viewer', ['ViewMessage']);
    const owner = await t.login('d-alice');
    await t.login('d-bob');
    const chat = await owner.post('/v1/chats', { kind: 'group', name: 'differential', members: ['d-bob'] });
    channelId = chat.body.id;
    // The channel's id is the same string on both sides (the original takes any channel id).
    byId.parley.set(channelId, '<channel>');
    byId.original.set(channelId, '<channel>');
  });
  after(async () => {
    await Promise.all([t?.close(), original?.stop()]);
  });

  const message = (body: string, extra: Json = {}) => ({ body, channelId, channelType: 'group', ...extra });

  // message.controller.acceptance.ts: "gives status 401 when no token is passed", "gives status 200 when token is
  // passed"; message-message.controller.acceptance.ts: "gives status 401 when no token is passed".
  it('401 without a token or with a bad one; 200 with one', async () => {
    await same({ method: 'GET', path: '/messages', token: null });
    await same({ method: 'GET', path: '/messages/{id}/messages', token: null });
    await same({ method: 'GET', path: '/messages', token: 'not.a.token' });
    await same({ method: 'GET', path: '/messages' });
  });

  // message.controller.acceptance.ts: "gives status 200 and an array of messages" (its addMessage body).
  it('creates a message and lists it: the create answer leaves out what has no value', async () => {
    await same(
      { method: 'POST', path: '/messages', body: message('test_body', { subject: 'test_subject' }) },
      {
        create: true,
        name: 'first',
      },
    );
    await same(
      { method: 'POST', path: '/messages', body: message('second', { status: 2 }) },
      {
        create: true,
        name: 'second',
      },
    );
    await same({ method: 'GET', path: '/messages' });
    await same({ method: 'GET', path: '/messages/{first}' });
    // should return count
    await same({ method: 'GET', path: '/messages/count' });
  });

  it('ignores the audit properties a client sends (the original stores them): the one difference', async () => {
    const sent = message('audited', { deletedBy: 'test_delete', createdBy: 'test_create', modifiedBy: 'x' });
    const parley = await toParley({ method: 'POST', path: '/messages', body: sent });
    const theirs = await toOriginal({ method: 'POST', path: '/messages', body: sent });
    assert.deepEqual([parley.status, theirs.status], [200, 200]);
    assert.equal((theirs.body as Json).deletedBy, 'test_delete');
    assert.equal('deletedBy' in (parley.body as Json), false);
    assert.equal((parley.body as Json).createdBy, 'd-alice');
    remember('parley', 'audited', (parley.body as Json).id);
    remember('original', 'audited', (theirs.body as Json).id);
    await same({ method: 'DELETE', path: '/messages/{audited}' });
  });

  // message.controller.acceptance.ts: "updates message successfully using PATCH request", "... using PUT
  // request" (with the message's own channel: see the last case), "deletes a message successfully".
  it('PATCH and PUT by id answer 204 and change what they send; DELETE 204, then 404', async () => {
    await same({ method: 'PATCH', path: '/messages/{first}', body: { body: 'updated_body' } });
    await same({ method: 'GET', path: '/messages/{first}', body: undefined });
    await same({
      method: 'PUT',
      path: '/messages/{second}',
      body: message('replaced', { subject: 'updated_subject', channelType: 'updated_channel_type' }),
    });
    // The original's PUT drops createdBy (a NOT NULL column on its PostgreSQL schema); Parley keeps it.
    const parley = await toParley({ method: 'GET', path: '/messages/{second}' });
    const theirs = await toOriginal({ method: 'GET', path: '/messages/{second}' });
    assert.equal((parley.body as Json).createdBy, 'd-alice');
    assert.equal('createdBy' in (theirs.body as Json), false);
    const { createdBy: _mine, ...rest } = parley.body as Json;
    assert.deepEqual(normalise(rest, byId.parley, true), normalise(theirs.body, byId.original, true));
    await same({ method: 'DELETE', path: '/messages/{second}' });
    await same({ method: 'GET', path: '/messages/{second}' });
    await same({ method: 'GET', path: '/messages/count' });
  });

  it('answers the package’s error bodies: 400, 403, 404, 413, 415, 422', async () => {
    await same({ method: 'POST', path: '/messages', body: '{bad' });
    await same({ method: 'POST', path: '/messages', body: 'body=x', contentType: 'text/plain' });
    await same({ method: 'POST', path: '/messages', body: message('x'.repeat(1024 * 1024)) });
    await same({ method: 'POST', path: '/messages', body: { body: 'x', channelId } });
    await same({ method: 'POST', path: '/messages', body: message('x', { colour: 'red' }) });
    await same({ method: 'POST', path: '/messages', body: [1] });
    await same({ method: 'PATCH', path: '/messages/{first}', body: { body: 5 } });
    await same({ method: 'PUT', path: '/messages/{first}', body: { body: 'x' } });
    await same({ method: 'POST', path: '/messages', body: message('x'), token: viewer });
    await same({ method: 'GET', path: '/nothing-here' });
    await same({ method: 'GET', path: '/messages/unknown' });
    await same({ method: 'PATCH', path: '/messages/unknown', body: { body: 'x' } });
    await same({ method: 'PUT', path: '/messages/unknown', body: message('x') });
    await same({ method: 'DELETE', path: '/messages/unknown' });
    await same({ method: 'GET', path: `/messages?filter=${encodeURIComponent('{bad')}` });
    await same({ method: 'GET', path: `/messages/count?where=${encodeURIComponent('{bad')}` });
    await same({ method: 'GET', path: `/messages?filter=${encodeURIComponent('{"include":["nope"]}')}` });
    // Filters LoopBack's schema refuses: the same status, name, code and keys (the details name the same thing in
    // Parley's words: `filter.limit`, where LoopBack's validator says `/limit`).
    for (const filter of [
      { limit: -1 },
      { limit: 0 },
      { skip: -1 },
      { fields: { nope: true } },
      { foo: 1 },
    ]) {
      await same(
        { method: 'GET', path: `/messages?filter=${encodeURIComponent(JSON.stringify(filter))}` },
        { label: JSON.stringify(filter), detailsAsType: true },
      );
    }
    await same(
      { method: 'GET', path: `/messages/{first}?filter=${encodeURIComponent('{"where":{"body":"x"}}')}` },
      { detailsAsType: true },
    );
  });

  it('filters alike: every operator, and/or, order, skip, limit, fields', async () => {
    for (const body of ['apple pie', 'Apple tart', 'banana split', 'cherry']) {
      await same(
        { method: 'POST', path: '/messages', body: message(body, { status: body.length }) },
        {
          create: true,
          name: body.replace(/\W/g, ''),
        },
      );
    }
    const filters: Json[] = [
      { where: { body: 'cherry' } },
      { where: { body: { neq: 'cherry' } }, order: 'body ASC' },
      { where: { status: { gt: 9 } }, order: ['status DESC', 'body ASC'] },
      { where: { and: [{ status: { gte: 9 } }, { status: { lte: 10 } }] }, order: 'body DESC' },
      { where: { status: { lt: 9 } }, order: 'body ASC' },
      { where: { body: { inq: ['cherry', 'apple pie'] } }, order: 'body ASC' },
      { where: { body: { nin: ['cherry', 'apple pie'] } }, order: 'body ASC' },
      { where: { status: { between: [6, 10] } }, order: 'body ASC' },
      { where: { body: { like: 'apple%' } } },
      { where: { body: { nlike: 'apple%' } }, order: 'body ASC' },
      { where: { body: { ilike: 'apple%' } }, order: 'body ASC' },
      { where: { body: { nilike: 'apple%' } }, order: 'body ASC' },
      { where: { body: { regexp: '^[ab]' } }, order: 'body ASC' },
      { where: { body: { regexp: '/^APPLE/i' } }, order: 'body ASC' },
      {
        where: { or: [{ body: 'cherry' }, { and: [{ body: { like: '%pie' } }, { status: 9 }] }] },
        order: 'body ASC',
      },
      { order: 'body ASC', skip: 1, limit: 2 },
      { order: 'body DESC', offset: 2, limit: 1, fields: { body: true, status: true } },
      { order: 'body ASC', fields: { createdOn: false, modifiedOn: false, createdBy: false } },
    ];
    for (const filter of filters) {
      await same(
        { method: 'GET', path: `/messages?filter=${encodeURIComponent(JSON.stringify(filter))}` },
        {
          label: JSON.stringify(filter),
        },
      );
    }
    await same({ method: 'GET', path: `/messages/count?where=${encodeURIComponent('{"status":{"gt":9}}')}` });
    await same({ method: 'GET', path: `/messages?filter[where][body][like]=banana%25&filter[limit]=5` });
  });

  // message-message.controller.acceptance.ts covers only the 401; these are its routes (9–12).
  it('replies under a message, and include with scopes', async () => {
    await same(
      { method: 'POST', path: '/messages/{first}/messages', body: message('a reply') },
      {
        create: true,
        name: 'reply',
      },
    );
    await same({ method: 'GET', path: '/messages/{first}/messages' });
    const include = {
      where: { body: { inq: ['updated_body', 'a reply'] } },
      order: 'body DESC',
      include: [
        { relation: 'messages', scope: { fields: { body: true, parentMessageId: true } } },
        'parentMessage',
      ],
    };
    await same({ method: 'GET', path: `/messages?filter=${encodeURIComponent(JSON.stringify(include))}` });
    await same({ method: 'PATCH', path: '/messages/{first}/messages', body: { body: 'edited reply' } });
    await same({ method: 'GET', path: '/messages/{reply}' });
  });

  // message-recipient.controller.acceptance.ts and message-message-recipient.controller.acceptance.ts (their
  // routes: a recipient of a message, read back, marked read, its message).
  it('message recipients: create, list, change, the recipient’s message', async () => {
    const recipient = { channelId, recipientId: 'd-bob' };
    await same(
      { method: 'POST', path: '/messages/{first}/message-recipients', body: recipient },
      {
        create: true,
        name: 'recipient',
      },
    );
    await same({ method: 'GET', path: '/messages/{first}/message-recipients' });
    await same({ method: 'GET', path: '/message-recipients/{recipient}' });
    await same({ method: 'GET', path: '/message-recipients/{recipient}/message' });
    // Parley's recipients are every member but the author, of every message: the original has the one row made.
    await same({
      method: 'GET',
      path: '/message-recipients?filter[where][messageId]={first}&filter[include][0]=message',
    });
    await same({ method: 'GET', path: '/message-recipients/count?where[messageId]={first}' });
    await same({ method: 'GET', path: '/message-recipients/unknown' });
  });

  // message-recipient.controller.acceptance.ts ("gives status 401 when no token is passed", "... 200 when token is
  // passed", "updates message recipient successfully using PATCH request", "should return count", with a real
  // message and member: Parley's recipients are members), message-message-recipient.controller.acceptance.ts
  // ("updates enitity successfully using PATCH request"), message-recipient-message.controller.acceptance.ts
  // ("gives status 403 when token is passed and message id not present": the route needs ViewMessage).
  it('message recipients: the package’s acceptance cases', async () => {
    const bob = await tokenFor('d-bob', EVERY);
    const recipientOnly = await tokenFor('d-bob', ['ViewMessageRecipient', 'CreateMessageRecipient']);
    await same({ method: 'GET', path: '/message-recipients', token: null });
    await same({ method: 'GET', path: '/message-recipients/{recipient}/message', token: recipientOnly });
    const forwarded = { channelId, recipientId: 'd-bob', messageId: '{cherry}', forwardedBy: 'test_forward' };
    const body = (side: 'parley' | 'original') => ({ ...forwarded, messageId: named[side].get('cherry') });
    const parley = await toParley({ method: 'POST', path: '/message-recipients', body: body('parley') });
    const theirs = await toOriginal({ method: 'POST', path: '/message-recipients', body: body('original') });
    assert.equal(parley.status, theirs.status, JSON.stringify({ parley, theirs }));
    remember('parley', 'forwarded', (parley.body as Json).id);
    remember('original', 'forwarded', (theirs.body as Json).id);
    assert.deepEqual(
      normalise(parley.body, byId.parley, false),
      normalise(theirs.body, byId.original, false),
    );
    // Only the recipient changes its own state in Parley (the original lets anyone): bob marks his row.
    await same({
      method: 'PATCH',
      path: '/message-recipients/{forwarded}',
      body: { isRead: true },
      token: bob,
    });
    await same({ method: 'GET', path: '/message-recipients/{forwarded}', token: bob });
    await same({
      method: 'PATCH',
      path: '/messages/{cherry}/message-recipients',
      body: { isFavorite: true, forwardedBy: 'd-alice' },
      token: bob,
    });
    await same({ method: 'GET', path: '/messages/{cherry}/message-recipients', token: bob });
    await same({ method: 'GET', path: '/message-recipients/count?where[messageId]={cherry}', token: bob });
  });

  // attachement-file.controller.acceptance.ts, case by case, with its dataMessageFile (on Parley's channel).
  it('attach-files: the package’s acceptance cases', async () => {
    const dataMessageFile = { channelId, fileKey: 'FK', metaData: { foo: 'bar' } };
    // "Post call for AttachmentFileController to create message files."
    await same(
      { method: 'POST', path: '/attach-files', body: dataMessageFile },
      { create: true, name: 'file' },
    );
    // "get call for AttachmentFileController to count."
    await same({ method: 'GET', path: '/attach-files/count' });
    // "gets call for AttachmentFileController to list or to get Array of MessageFile."
    await same({ method: 'GET', path: '/attach-files' });
    // "Patch call for AttachmentFileController to update all message files." (the same channel: not a move)
    await same({ method: 'PATCH', path: '/attach-files', body: dataMessageFile });
    // "gets call for MessageFile by id returns 404 not found on providing fake id"
    await same({ method: 'GET', path: '/attach-files/1000' });
    // "Patch call for message file by id returns 404 not found on providing fake id"
    await same({ method: 'PATCH', path: '/attach-files/1000', body: dataMessageFile });
    // "Delete call for message file returns 404 not found on providing fake id"
    await same({ method: 'DELETE', path: '/attach-files/1000' });
    await same(
      {
        method: 'POST',
        path: '/attach-files/bulk',
        body: { attachmentFiles: [{ channelId, fileKey: 'k2' }] },
      },
      { create: true, name: 'bulk' },
    );
    await same({ method: 'GET', path: '/attach-files/{file}' });
  });

  it('differs on purpose: several operators on one property all apply (LoopBack’s connectors use the first)', async () => {
    const filter = encodeURIComponent(
      JSON.stringify({ where: { status: { gte: 9, lte: 10 } }, order: 'body ASC' }),
    );
    const bodies = (answer: Answer) => (answer.body as Json[]).map((m) => m.body);
    const parley = await toParley({ method: 'GET', path: `/messages?filter=${filter}` });
    const theirs = await toOriginal({ method: 'GET', path: `/messages?filter=${filter}` });
    assert.deepEqual(bodies(parley), ['Apple tart', 'apple pie']);
    assert.deepEqual(bodies(theirs), ['Apple tart', 'apple pie', 'banana split']);
  });

  it('differs on purpose where the original cannot keep its data: a message cannot move to another channel', async () => {
    // message.controller.acceptance.ts "updates message successfully using PUT request" moves the message to
    // `updated_channel`; Parley's messages belong to their chat.
    const moved = message('updated_body', { channelId: 'updated_channel' });
    assert.equal((await toOriginal({ method: 'PUT', path: '/messages/{first}', body: moved })).status, 204);
    const parley = await toParley({ method: 'PUT', path: '/messages/{first}', body: moved });
    assert.equal(parley.status, 422);
    assert.deepEqual(errorShape(parley.body), {
      keys: ['code', 'details', 'message', 'name', 'statusCode'],
      statusCode: 422,
      name: 'UnprocessableEntityError',
      code: 'VALIDATION_FAILED',
      message: 'string',
      details: { code: 'invalid_request', path: '/channelId', info: {} },
    });
  });
});
