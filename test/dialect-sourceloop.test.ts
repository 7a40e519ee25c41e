import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type Client, type Response, type TestApp } from './support/app.ts';

const ALL = ['ViewMessage', 'CreateMessage', 'UpdateMessage', 'DeleteMessage'];
const BASE = '/sourceloop';

/** SourceLoop's models as LoopBack serialises them (chat-service), as these tests read them. */
interface Audited {
  id: string;
  createdBy: string;
  createdOn: string;
  modifiedBy: string;
  modifiedOn: string;
  deleted: boolean;
  deletedOn: string | null;
  deletedBy: string | null;
}
interface SlMessage extends Audited {
  body: string | null;
  channelId: string;
  channelType: string;
  status: number;
  subject: string | null;
  toUserId: string | null;
  parentMessageId: string | null;
}
interface SlRecipient extends Audited {
  channelId: string;
  recipientId: string;
  messageId: string;
  isRead: boolean;
  isFavorite: boolean;
  isForwarded: boolean;
  forwardedBy: string | null;
}
interface SlAttachment extends Audited {
  channelId: string;
  messageId: string | null;
  fileKey: string;
  metaData: Record<string, unknown>;
}
interface Count {
  count: number;
}
/** One problem of a LoopBack 422 (ajv's): where, which rule, what it says, the rule's parameters. */
interface Detail {
  path: string;
  code: string;
  message: string;
  info: Record<string, unknown>;
}
/** LoopBack's error body. */
interface LoopBackError {
  error: { statusCode: number; name: string; code?: string; message: string; details?: Detail[] };
}

type PathOf<U extends string> = U extends `${infer P}?${string}` ? P : U;
/** What a route answers on success, by method and path: a list, one model, a count, or nothing (204). */
type SourceLoopAnswer<M extends string, P extends string> = P extends `${string}/count`
  ? Count
  : M extends 'PUT'
    ? null
    : M extends 'PATCH' | 'DELETE'
      ? P extends `${typeof BASE}/${string}/${string}/${string}`
        ? Count
        : P extends `${typeof BASE}/${string}/${string}`
          ? null
          : Count
      : P extends `${string}/message-recipients/${string}/message`
        ? SlMessage
        : P extends `${string}/attach-files/bulk`
          ? SlAttachment[]
          : P extends `${string}/message-recipients`
            ? M extends 'GET'
              ? SlRecipient[]
              : SlRecipient
            : P extends `${string}/message-recipients/${string}`
              ? SlRecipient
              : P extends `${string}/attach-files`
                ? M extends 'GET'
                  ? SlAttachment[]
                  : SlAttachment
                : P extends `${string}/attach-files/${string}`
                  ? SlAttachment
                  : P extends `${string}/messages`
                    ? M extends 'GET'
                      ? SlMessage[]
                      : SlMessage
                    : P extends `${string}/messages/${string}`
                      ? SlMessage
                      : unknown;

/** A dialect URL: `path` under the base path, with `query` as LoopBack clients send it (JSON values). */
function url<P extends string>(path: P, query: Record<string, unknown> = {}): `${typeof BASE}${P}` {
  const params = new URLSearchParams(
    Object.entries(query).map(([k, v]): [string, string] => [
      k,
      typeof v === 'string' ? v : JSON.stringify(v),
    ]),
  ).toString();
  // The query string is left out of the type: the answer's type depends on the path alone.
  return `${BASE}${path}${params ? `?${params}` : ''}` as `${typeof BASE}${P}`;
}

/** A LoopBack error answer's `error`, checked: `{statusCode, name, code, message}`, its statusCode the status. */
function loopBackError(res: Response<unknown>): LoopBackError['error'] {
  const shown = JSON.stringify(res.body);
  const error = (res.body as Partial<LoopBackError> | null)?.error;
  assert.ok(error, shown);
  assert.equal(error.statusCode, res.status, shown);
  assert.equal(typeof error.name, 'string', shown);
  if (error.code !== undefined) {
    assert.equal(typeof error.code, 'string', shown);
  }
  assert.ok(['string', 'object'].includes(typeof error.message), shown);
  return error;
}

/** `client` speaking the dialect: each answer's body typed from the method and path (`SourceLoopAnswer`). */
function sl(client: Client) {
  type Answer<M extends string, U extends string> = SourceLoopAnswer<M, PathOf<U>>;
  return {
    get: <U extends string>(path: U) => client.get<Answer<'GET', U>>(path),
    post: <U extends string>(path: U, body?: unknown) => client.post<Answer<'POST', U>>(path, body),
    patch: <U extends string>(path: U, body?: unknown) => client.patch<Answer<'PATCH', U>>(path, body),
    put: <U extends string>(path: U, body?: unknown) => client.put<Answer<'PUT', U>>(path, body),
    delete: <U extends string>(path: U) => client.delete<Answer<'DELETE', U>>(path),
  };
}

describe('SourceLoop dialect: messages', () => {
  let t: TestApp;
  /** Users with every message permission, and a group chat (channel) they share. */
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let channelId: string;

  const send = (as: Client, body: string, extra: Record<string, unknown> = {}) =>
    sl(as).post(url('/messages'), { body, channelId, channelType: 'group', ...extra });

  before(async () => {
    t = await createTestApp({ DIALECTS: 'instabug,sourceloop' });
    alice = await t.login('sl-alice', { permissions: ALL });
    bob = await t.login('sl-bob', { permissions: ALL });
    carol = await t.login('sl-carol', { permissions: ALL });
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'sl-general', members: ['sl-bob'] });
    channelId = chat.body.id;
  });
  after(async () => {
    await t.close();
  });

  it('answers 401 without or with a bad token and 403 without the permission', async () => {
    const none = await t.request('GET', url('/messages'));
    assert.equal(none.status, 401);
    assert.equal(loopBackError(none).statusCode, 401);
    assert.equal(loopBackError(none).name, 'UnauthorizedError');
    const bad = await t.request('GET', url('/messages'), undefined, { authorization: 'Bearer nope' });
    assert.equal(bad.status, 401);
    const viewer = await t.as('sl-viewer', { permissions: ['ViewMessage'] });
    const refused = await sl(viewer).post(url('/messages'), { body: 'x', channelId, channelType: 'group' });
    assert.equal(refused.status, 403);
    assert.equal(loopBackError(refused).name, 'ForbiddenError');
    assert.match(loopBackError(refused).message, /CreateMessage/);
    // As in LoopBack's sequence, the body is validated before the permission is checked: an empty body is a 422.
    assert.equal((await sl(viewer).post(url('/messages'), {})).status, 422);
    const nothing = await t.as('sl-nothing');
    assert.equal((await sl(nothing).get(url('/messages'))).status, 403);
    assert.equal((await sl(nothing).get(url('/messages/count'))).status, 403);
    for (const [method, path] of [
      ['PATCH', '/messages'],
      ['PATCH', '/messages/x'],
      ['PUT', '/messages/x'],
      ['DELETE', '/messages/x'],
      ['DELETE', '/messages/x/messages'],
    ] as const) {
      const valid = { body: 'x', channelId, channelType: 'group' };
      const res = await t.request(method, url(path), method === 'DELETE' ? undefined : valid, {
        authorization: `Bearer ${viewer.token}`,
      });
      assert.equal(res.status, 403, `${method} ${path}`);
    }
  });

  it('accepts any of the permissions, including the numeric aliases', async () => {
    const numeric = await t.as('sl-numeric', { permissions: ['1'] });
    assert.equal((await sl(numeric).get(url('/messages'))).status, 200);
    const valid = { body: 'x', channelId: 'c', channelType: 'group' };
    assert.equal((await sl(numeric).post(url('/messages'), valid)).status, 403);
    const creator = await t.as('sl-creator', { permissions: ['2', 'SomethingElse'] });
    assert.equal((await sl(creator).post(url('/messages'), {})).status, 422);
  });

  it('creates a message: 200 with the LoopBack shape, visible natively as the same message', async () => {
    const res = await send(alice, 'hello sourceloop');
    assert.equal(res.status, 200);
    assert.equal(res.body.body, 'hello sourceloop');
    assert.equal(res.body.channelId, channelId);
    assert.equal(res.body.channelType, 'group');
    assert.equal(res.body.createdBy, 'sl-alice');
    assert.equal(res.body.status, 0);
    assert.equal(res.body.deleted, false);
    assert.ok(res.body.createdOn && res.body.modifiedOn);
    // As the package answers a create: what has no value is left out (a read shows it as null).
    for (const key of ['subject', 'toUserId', 'parentMessageId', 'deletedOn', 'deletedBy']) {
      assert.equal(key in res.body, false, key);
    }
    const read = await sl(alice).get(url(`/messages/${res.body.id}`));
    assert.equal(read.body.toUserId, null);
    assert.equal(read.body.subject, null);
    const native = await bob.get(`/v1/chats/${channelId}/messages`);
    const same = native.body.data.find((m) => m.id === res.body.id);
    assert.ok(same);
    assert.equal(same.text, 'hello sourceloop');
    assert.equal(same.authorId, 'sl-alice');
    // Audit fields are accepted, and Parley keeps its own values.
    const audited = await send(alice, 'audited', {
      deletedBy: 'someone',
      deleted: false,
      createdOn: '2000-01-01',
    });
    assert.equal(audited.status, 200);
    assert.notEqual(audited.body.createdOn.slice(0, 4), '2000');
  });

  it('refuses invalid bodies with 422 VALIDATION_FAILED naming the field', async () => {
    for (const [body, field] of [
      [{ channelId, channelType: 'group' }, 'body'],
      [{ body: 'x', channelId }, 'channelType'],
      [{ body: 'x', channelId, channelType: 'group', colour: 'red' }, 'colour'],
      [{ body: '', channelId, channelType: 'group' }, 'body'],
      [{ body: 'x', channelType: 'group' }, 'channelId'],
    ] as const) {
      const res = await sl(alice).post(url('/messages'), body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal(loopBackError(res).code, 'VALIDATION_FAILED');
      assert.equal(loopBackError(res).name, 'UnprocessableEntityError');
      const details = loopBackError(res).details ?? [];
      assert.ok(
        details.some((d) => d.path.endsWith(`/${field}`) || Object.values(d.info).includes(field)),
        JSON.stringify(details),
      );
    }
  });

  it('only sees channels the caller belongs to', async () => {
    const secret = await send(alice, 'members only');
    const notMember = await sl(carol).post(url('/messages'), { body: 'x', channelId, channelType: 'group' });
    assert.equal(notMember.status, 404);
    assert.equal(loopBackError(notMember).name, 'NotFoundError');
    assert.equal((await sl(carol).get(url(`/messages/${secret.body.id}`))).status, 404);
    const list = await sl(carol).get(url('/messages'));
    assert.equal(list.status, 200);
    assert.equal(
      list.body.some((m) => m.channelId === channelId),
      false,
    );
    assert.equal((await sl(carol).get(url('/messages/count', { where: { channelId } }))).body.count, 0);
    const other = await t.login('sl-other', { tenant: 'sl-t2', permissions: ALL });
    assert.equal((await sl(other).get(url(`/messages/${secret.body.id}`))).status, 404);
  });

  it('sends to toUserId through the direct chat with that user, the same one the native API opens', async () => {
    const res = await sl(alice).post(url('/messages'), {
      body: 'psst',
      toUserId: 'sl-carol',
      channelType: 'direct',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.toUserId, 'sl-carol');
    assert.equal(res.body.channelType, 'direct');
    const direct = await carol.post('/v1/chats', { kind: 'direct', members: ['sl-alice'] });
    assert.equal(direct.status, 200);
    assert.equal(direct.body.id, res.body.channelId);
    const mismatch = await sl(alice).post(url('/messages'), {
      body: 'x',
      channelId,
      toUserId: 'sl-carol',
      channelType: 'direct',
    });
    assert.equal(mismatch.status, 422);
    assert.match(loopBackError(mismatch).message, /^toUserId:/);
    const unknown = await sl(alice).post(url('/messages'), {
      body: 'x',
      toUserId: 'sl-nobody',
      channelType: 'direct',
    });
    assert.equal(unknown.status, 422);
  });

  it('filters with where (eq, neq, gt/gte/lt/lte, inq, like, and/or), order, limit, skip and fields', async () => {
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'sl-filters', members: ['sl-bob'] });
    const ch = chat.body.id;
    const made: SlMessage[] = [];
    for (const [who, text] of [
      [alice, 'apple pie'],
      [bob, 'banana split'],
      [alice, 'cherry tart'],
      [bob, 'apple crumble'],
    ] as const) {
      made.push(
        (await sl(who).post(url('/messages'), { body: text, channelId: ch, channelType: 'group' })).body,
      );
    }
    const find = async (filter: unknown) => {
      const res = await sl(alice).get(url('/messages', { filter }));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.map((m) => m.body);
    };
    assert.deepEqual(await find({ where: { channelId: ch } }), [
      'apple pie',
      'banana split',
      'cherry tart',
      'apple crumble',
    ]);
    assert.deepEqual(await find({ where: { channelId: ch, createdBy: 'sl-bob' } }), [
      'banana split',
      'apple crumble',
    ]);
    assert.deepEqual(await find({ where: { channelId: ch, createdBy: { neq: 'sl-bob' } } }), [
      'apple pie',
      'cherry tart',
    ]);
    assert.deepEqual(await find({ where: { channelId: ch, body: { like: 'apple%' } } }), [
      'apple pie',
      'apple crumble',
    ]);
    assert.deepEqual(await find({ where: { channelId: ch, id: { inq: [made[0]!.id, made[2]!.id] } } }), [
      'apple pie',
      'cherry tart',
    ]);
    assert.deepEqual(
      await find({
        where: { and: [{ channelId: ch }, { or: [{ body: 'banana split' }, { body: 'cherry tart' }] }] },
      }),
      ['banana split', 'cherry tart'],
    );
    assert.deepEqual(await find({ where: { channelId: ch, createdOn: { gt: made[1]!.createdOn } } }), [
      'cherry tart',
      'apple crumble',
    ]);
    assert.deepEqual(
      await find({
        where: { channelId: ch, createdOn: { gte: made[1]!.createdOn, lte: made[2]!.createdOn } },
      }),
      ['banana split', 'cherry tart'],
    );
    assert.deepEqual(await find({ where: { channelId: ch, createdOn: { lt: made[1]!.createdOn } } }), [
      'apple pie',
    ]);
    assert.deepEqual(await find({ where: { channelId: ch }, order: ['createdOn DESC'], limit: 2 }), [
      'apple crumble',
      'cherry tart',
    ]);
    assert.deepEqual(await find({ where: { channelId: ch }, order: 'body ASC', skip: 1, limit: 2 }), [
      'apple pie',
      'banana split',
    ]);
    assert.deepEqual(await find({ where: { channelId: ch }, offset: 3 }), ['apple crumble']);
    const fields = await sl(alice).get(
      url('/messages', { filter: { where: { channelId: ch }, fields: { body: true, id: true }, limit: 1 } }),
    );
    assert.deepEqual(Object.keys(fields.body[0] ?? {}).sort(), ['body', 'id']);
    const listFields = await sl(alice).get(
      url('/messages', { filter: { where: { channelId: ch }, fields: ['body'], limit: 1 } }),
    );
    assert.deepEqual(listFields.body, [{ body: 'apple pie' }]);
    // Deep-object parameters, as LoopBack's explorer sends them.
    const deep = await sl(alice).get(
      `${BASE}/messages?filter[where][channelId]=${ch}&filter[where][body][like]=%25crumble&filter[limit]=5`,
    );
    assert.deepEqual(
      deep.body.map((m) => m.body),
      ['apple crumble'],
    );
    // A where value that looks like SQL is only ever a value.
    assert.deepEqual(await find({ where: { body: "x' or '1'='1" } }), []);
  });

  it('refuses invalid filters with 400 INVALID_PARAMETER_VALUE naming the path', async () => {
    for (const [filter, path] of [
      [{ where: { password: 'x' } }, 'filter.where.password'],
      [{ where: { body: { regexp: '(' } } }, 'filter.where.body.regexp'],
      [{ where: { body: { between: ['a'] } } }, 'filter.where.body.between'],
      [{ where: { createdOn: { gt: 'not a date' } } }, 'filter.where.createdOn.gt'],
      [{ where: { id: { inq: 'x' } } }, 'filter.where.id.inq'],
      [{ where: { body: { like: 5 } } }, 'filter.where.body.like'],
      [{ order: 'body SIDEWAYS' }, 'filter.order[0]'],
      [{ limit: -1 }, 'filter.limit'],
      [{ skip: 'many' }, 'filter.skip'],
      [{ fields: { password: true } }, 'filter.fields.password'],
      [{ include: [{ relation: 'password' }] }, 'filter.include[0]'],
      [{ sneaky: 1 }, 'filter.sneaky'],
    ] as const) {
      const res = await sl(alice).get(url('/messages', { filter }));
      assert.equal(res.status, 400, JSON.stringify(filter));
      const error = loopBackError(res);
      if (path.startsWith('filter.include')) {
        // LoopBack's own answer to an unknown relation: no details, the entry named in the message.
        assert.equal(error.code, 'INVALID_INCLUSION_FILTER');
        assert.match(error.message, /"password" is not a relation of Message/);
        continue;
      }
      assert.equal(error.name, 'BadRequestError');
      assert.equal(error.code, 'INVALID_PARAMETER_VALUE');
      assert.equal(error.details?.[0]?.path, path, JSON.stringify(error));
    }
    assert.equal((await sl(alice).get(`${BASE}/messages?filter={bad json`)).status, 400);
    const byIdWhere = await sl(alice).get(url('/messages/x', { filter: { where: { body: 'x' } } }));
    assert.equal(byIdWhere.status, 400);
  });

  it('caps limit: a larger limit returns at most 500 rows', async () => {
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'sl-cap' });
    const ch = chat.body.id;
    await Promise.all(
      Array.from({ length: 505 }, (_, i) => alice.post(`/v1/chats/${ch}/messages`, { text: `m${i}` })),
    );
    const res = await sl(alice).get(url('/messages', { filter: { where: { channelId: ch }, limit: 10000 } }));
    assert.equal(res.body.length, 500);
    const none = await sl(alice).get(url('/messages', { filter: { where: { channelId: ch } } }));
    assert.equal(none.body.length, 100);
    assert.equal((await sl(alice).get(url('/messages/count', { where: { channelId: ch } }))).body.count, 505);
  });

  it('counts with where, gets by id, and soft-deletes: 404 and out of the count afterwards', async () => {
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'sl-count', members: ['sl-bob'] });
    const ch = chat.body.id;
    const a = (await sl(alice).post(url('/messages'), { body: 'one', channelId: ch, channelType: 'group' }))
      .body;
    await sl(bob).post(url('/messages'), { body: 'two', channelId: ch, channelType: 'group' });
    const count = await sl(alice).get(url('/messages/count', { where: { channelId: ch } }));
    assert.deepEqual([count.status, count.body], [200, { count: 2 }]);
    assert.equal(
      (await sl(alice).get(url('/messages/count', { where: { channelId: ch, createdBy: 'sl-bob' } }))).body
        .count,
      1,
    );
    const one = await sl(bob).get(url(`/messages/${a.id}`));
    assert.equal(one.status, 200);
    assert.equal(one.body.body, 'one');
    const picked = await sl(bob).get(url(`/messages/${a.id}`, { filter: { fields: ['id'] } }));
    assert.deepEqual(picked.body, { id: a.id });
    assert.equal((await sl(bob).delete(url(`/messages/${a.id}`))).status, 403);
    const del = await sl(alice).delete(url(`/messages/${a.id}`));
    assert.equal(del.status, 204);
    const gone = await sl(alice).get(url(`/messages/${a.id}`));
    assert.equal(gone.status, 404);
    // The package's two 404s by id: a read's and a change's.
    assert.deepEqual(gone.body, {
      error: { statusCode: 404, name: 'NotFoundError', message: 'EntityNotFound' },
    });
    const again = await sl(alice).delete(url(`/messages/${a.id}`));
    assert.equal(again.status, 404);
    assert.equal(loopBackError(again).code, 'ENTITY_NOT_FOUND');
    assert.equal(loopBackError(again).message, `Entity not found: messages with id "${a.id}"`);
    assert.equal((await sl(alice).get(url('/messages/count', { where: { channelId: ch } }))).body.count, 1);
    assert.equal(
      (await sl(alice).get(url('/messages/count', { where: { channelId: ch, deleted: true } }))).body.count,
      0,
    );
    assert.equal((await alice.get(`/v1/chats/${ch}`)).body.messageCount, 1);
    assert.equal((await sl(alice).get(url('/messages/unknown-id'))).status, 404);
  });

  it('edits with PATCH and PUT by id (204); only the author; the channel cannot change', async () => {
    const m = (await send(alice, 'first draft')).body;
    assert.equal((await sl(alice).patch(url(`/messages/${m.id}`), { body: 'second draft' })).status, 204);
    const read = await sl(alice).get(url(`/messages/${m.id}`));
    assert.equal(read.body.body, 'second draft');
    assert.ok(read.body.modifiedOn > read.body.createdOn);
    const put = await sl(alice).put(url(`/messages/${m.id}`), {
      body: 'final',
      channelId,
      channelType: 'whatever',
    });
    assert.equal(put.status, 204);
    const history = (await bob.get(`/v1/chats/${channelId}/messages?limit=200`)).body.data;
    assert.equal(history.find((x) => x.id === m.id)?.text, 'final');
    const incomplete = await sl(alice).put(url(`/messages/${m.id}`), { body: 'x' });
    assert.equal(incomplete.status, 422);
    assert.deepEqual(loopBackError(incomplete).details?.[0]?.info, { missingProperty: 'channelId' });
    const moved = await sl(alice).patch(url(`/messages/${m.id}`), { channelId: 'elsewhere' });
    assert.equal(moved.status, 422);
    assert.match(loopBackError(moved).message, /^channelId: cannot be changed/);
    const notAuthor = await sl(bob).patch(url(`/messages/${m.id}`), { body: 'hijack' });
    assert.equal(notAuthor.status, 403);
    assert.equal((await sl(alice).patch(url('/messages/nope'), { body: 'x' })).status, 404);
    assert.equal((await sl(alice).patch(url(`/messages/${m.id}`), { body: 5 })).status, 422);
  });

  it('PATCH /messages?where= edits the caller’s own matching messages and answers the count', async () => {
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'sl-bulk', members: ['sl-bob'] });
    const ch = chat.body.id;
    for (const who of [alice, alice, bob]) {
      await sl(who).post(url('/messages'), { body: 'old', channelId: ch, channelType: 'group' });
    }
    const res = await sl(alice).patch(url('/messages', { where: { channelId: ch } }), { body: 'new' });
    assert.deepEqual([res.status, res.body], [200, { count: 2 }]);
    const texts = (await sl(alice).get(url('/messages', { filter: { where: { channelId: ch } } }))).body.map(
      (m) => [m.createdBy, m.body],
    );
    assert.deepEqual(texts, [
      ['sl-alice', 'new'],
      ['sl-alice', 'new'],
      ['sl-bob', 'old'],
    ]);
  });

  it('stores subject, status and channelType as sent; PATCH changes them, PUT replaces them; all filterable', async () => {
    const m = (await send(alice, 'with extras', { subject: 'plans', status: 3, channelType: 'team' })).body;
    assert.deepEqual([m.subject, m.status, m.channelType], ['plans', 3, 'team']);
    const read = async () => (await sl(bob).get(url(`/messages/${m.id}`))).body;
    assert.deepEqual([(await read()).subject, (await read()).status], ['plans', 3]);
    assert.equal((await sl(alice).patch(url(`/messages/${m.id}`), { status: 4 })).status, 204);
    assert.deepEqual(
      [(await read()).subject, (await read()).status, (await read()).channelType],
      ['plans', 4, 'team'],
    );
    // PUT is a whole replacement (LoopBack's replaceById): what it leaves out is cleared.
    const put = await sl(alice).put(url(`/messages/${m.id}`), {
      body: 'replaced',
      channelId,
      channelType: 'ops',
    });
    assert.equal(put.status, 204);
    const after = await read();
    assert.deepEqual(
      [after.body, after.subject, after.status, after.channelType],
      ['replaced', null, 0, 'ops'],
    );
    assert.equal((await sl(bob).patch(url(`/messages/${m.id}`), { subject: 'mine now' })).status, 403);
    const tagged = (await send(alice, 'tagged', { subject: 'Release notes', status: 7 })).body;
    const find = async (where: unknown) =>
      (await sl(alice).get(url('/messages', { filter: { where, order: 'createdOn ASC' } }))).body.map(
        (x) => x.id,
      );
    assert.deepEqual(await find({ subject: { regexp: '/^release/i' }, channelId }), [tagged.id]);
    assert.deepEqual(await find({ status: { between: [5, '8'] }, channelId }), [tagged.id]);
    assert.deepEqual(await find({ channelType: 'ops', channelId }), [m.id]);
    assert.deepEqual(
      await find({ and: [{ subject: { exists: true } }, { subject: { nilike: 'x%' } }], channelId }),
      [tagged.id],
    );
    assert.ok((await find({ id: { nin: [tagged.id] }, channelId })).includes(m.id));
    assert.equal((await find({ id: { nin: [tagged.id] }, channelId })).includes(tagged.id), false);
    // Natively sent messages show their chat's kind and no subject.
    const native = await alice.post(`/v1/chats/${channelId}/messages`, { text: 'native' });
    const shown = (await sl(alice).get(url(`/messages/${native.body.id}`))).body;
    assert.deepEqual([shown.channelType, shown.subject, shown.status], ['group', null, 0]);
  });

  it('includes relations with their scope: replies, parent, recipients, files', async () => {
    const parent = (await send(alice, 'root')).body;
    for (const body of ['r1', 'r2', 'r3']) {
      await sl(bob).post(url(`/messages/${parent.id}/messages`), { body, channelId, channelType: 'group' });
    }
    const filter = {
      where: { id: parent.id },
      include: [
        { relation: 'messages', scope: { order: 'body DESC', limit: 2, fields: ['body'] } },
        { relation: 'messageRecipients', scope: { fields: { recipientId: true } } },
        'attachmentFiles',
      ],
    };
    const [root] = (await sl(alice).get(url('/messages', { filter }))).body as unknown as Record<
      string,
      unknown
    >[];
    assert.deepEqual(root?.messages, [{ body: 'r3' }, { body: 'r2' }]);
    assert.deepEqual(root?.messageRecipients, [{ recipientId: 'sl-bob' }]);
    // No related rows: no property, as LoopBack leaves it.
    assert.equal(root && 'attachmentFiles' in root, false);
    const replies = await sl(alice).get(
      url(`/messages/${parent.id}/messages`, { filter: { include: ['parentMessage'], order: 'body ASC' } }),
    );
    const parents = (replies.body as unknown as { parentMessage?: { id: string } }[]).map(
      (r) => r.parentMessage?.id,
    );
    assert.deepEqual(parents, [parent.id, parent.id, parent.id]);
    // By id, with include and fields: the relation stays beside the chosen fields.
    const one = await sl(alice).get(
      url(`/messages/${parent.id}`, {
        filter: { fields: ['id'], include: [{ relation: 'messages', scope: { limit: 1 } }] },
      }),
    );
    assert.deepEqual(Object.keys(one.body), ['id', 'messages']);
    // Someone outside the channel sees nothing of it through a relation either.
    assert.equal(
      (await sl(carol).get(url(`/messages/${parent.id}`, { filter: { include: ['messages'] } }))).status,
      404,
    );
  });

  it('threads: replies by parentMessageId, listed, bulk-edited and bulk-deleted under the parent', async () => {
    const parent = (await send(alice, 'thread start')).body;
    const r1 = await sl(bob).post(url(`/messages/${parent.id}/messages`), {
      body: 'reply one',
      channelType: 'group',
    });
    assert.equal(r1.status, 200);
    assert.equal(r1.body.parentMessageId, parent.id);
    assert.equal(r1.body.channelId, channelId);
    const r2 = await send(alice, 'reply two', { parentMessageId: parent.id });
    assert.equal(r2.body.parentMessageId, parent.id);
    // Natively, the reply is a replyTo of the parent's seq.
    const native = (await alice.get(`/v1/chats/${channelId}/messages?limit=200`)).body.data;
    const parentSeq = native.find((m) => m.id === parent.id)?.seq;
    assert.ok(parentSeq);
    assert.equal(native.find((m) => m.id === r1.body.id)?.replyTo, parentSeq);
    const list = await sl(alice).get(url(`/messages/${parent.id}/messages`));
    assert.deepEqual(
      list.body.map((m) => m.body),
      ['reply one', 'reply two'],
    );
    const filtered = await sl(alice).get(
      url(`/messages/${parent.id}/messages`, { filter: { where: { createdBy: 'sl-bob' } } }),
    );
    assert.deepEqual(
      filtered.body.map((m) => m.body),
      ['reply one'],
    );
    assert.deepEqual(
      (await sl(alice).get(url('/messages', { filter: { where: { parentMessageId: parent.id } } }))).body
        .length,
      2,
    );
    const edited = await sl(bob).patch(url(`/messages/${parent.id}/messages`), { body: 'reply one, edited' });
    assert.deepEqual(edited.body, { count: 1 });
    assert.equal((await sl(bob).get(url(`/messages/${r1.body.id}`))).body.body, 'reply one, edited');
    const badParent = await send(alice, 'orphan', { parentMessageId: 'missing' });
    assert.equal(badParent.status, 422);
    assert.match(loopBackError(badParent).message, /^parentMessageId:/);
    const wrongParent = await sl(bob).post(url(`/messages/${parent.id}/messages`), {
      body: 'x',
      channelType: 'group',
      parentMessageId: r1.body.id,
    });
    assert.equal(wrongParent.status, 422);
    assert.equal(
      (await sl(bob).post(url('/messages/missing/messages'), { body: 'x', channelType: 'group' })).status,
      404,
    );
    // Bob may delete only his own reply; Alice (the owner) then deletes the rest.
    const bobDeletes = await sl(bob).delete(url(`/messages/${parent.id}/messages`));
    assert.deepEqual(bobDeletes.body, { count: 1 });
    const aliceDeletes = await sl(alice).delete(
      url(`/messages/${parent.id}/messages`, { where: { body: 'reply two' } }),
    );
    assert.deepEqual(aliceDeletes.body, { count: 1 });
    assert.deepEqual((await sl(alice).get(url(`/messages/${parent.id}/messages`))).body, []);
  });
});

describe('SourceLoop dialect: base path', () => {
  it('mounts under SOURCELOOP_BASE_PATH', async () => {
    const t = await createTestApp({ DIALECTS: 'sourceloop', SOURCELOOP_BASE_PATH: '/chat-service/' });
    try {
      const client = await t.login('bp-user', { permissions: ['ViewMessage'] });
      assert.equal((await client.get('/chat-service/messages')).status, 200);
      assert.equal((await client.get('/sourceloop/messages')).status, 404);
    } finally {
      await t.close();
    }
  });
});

describe('SourceLoop dialect: message recipients', () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let channelId: string;
  const RECIPIENT = [
    'ViewMessageRecipient',
    'CreateMessageRecipient',
    'UpdateMessageRecipient',
    'DeleteMessageRecipient',
  ];
  const send = async (as: Client, body: string) =>
    (await sl(as).post(url('/messages'), { body, channelId, channelType: 'group' })).body;

  before(async () => {
    t = await createTestApp({ DIALECTS: 'sourceloop' });
    const permissions = [...ALL, ...RECIPIENT];
    alice = await t.login('r-alice', { permissions });
    bob = await t.login('r-bob', { permissions });
    carol = await t.login('r-carol', { permissions });
    const chat = await alice.post('/v1/chats', {
      kind: 'group',
      name: 'r-room',
      members: ['r-bob', 'r-carol'],
    });
    channelId = chat.body.id;
  });
  after(async () => {
    await t.close();
  });

  it('lists a message’s recipients: every member but the author, isRead from the read cursor', async () => {
    const m = await send(alice, 'to everyone');
    const res = await sl(bob).get(url(`/messages/${m.id}/message-recipients`));
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.map((r) => [r.recipientId, r.isRead, r.isFavorite, r.isForwarded, r.messageId, r.channelId]),
      [
        ['r-bob', false, false, false, m.id, channelId],
        ['r-carol', false, false, false, m.id, channelId],
      ],
    );
    // Reading natively moves isRead.
    const seq = (await bob.get(`/v1/chats/${channelId}`)).body.lastMessage?.seq;
    assert.ok(seq);
    await bob.post(`/v1/chats/${channelId}/read`, { seq });
    const after = await sl(carol).get(
      url(`/messages/${m.id}/message-recipients`, { filter: { where: { isRead: true } } }),
    );
    assert.deepEqual(
      after.body.map((r) => r.recipientId),
      ['r-bob'],
    );
    assert.equal(
      (await sl(carol).get(url('/message-recipients/count', { where: { messageId: m.id, isRead: false } })))
        .body.count,
      1,
    );
  });

  it('marks read and favourite through PATCH; only the recipient changes its own state', async () => {
    const m = await send(alice, 'mark me');
    const list = (await sl(carol).get(url(`/messages/${m.id}/message-recipients`))).body;
    const mine = list.find((r) => r.recipientId === 'r-carol');
    const bobs = list.find((r) => r.recipientId === 'r-bob');
    assert.ok(mine && bobs);
    assert.equal(
      (await sl(carol).patch(url(`/message-recipients/${mine.id}`), { isRead: true, isFavorite: true }))
        .status,
      204,
    );
    const read = await sl(carol).get(url(`/message-recipients/${mine.id}`));
    assert.equal(read.status, 200);
    assert.deepEqual([read.body.isRead, read.body.isFavorite, read.body.isForwarded], [true, true, false]);
    // The read cursor moved natively too.
    assert.equal((await carol.get(`/v1/chats/${channelId}`)).body.unreadCount, 0);
    const forbidden = await sl(carol).patch(url(`/message-recipients/${bobs.id}`), { isFavorite: true });
    assert.equal(forbidden.status, 403);
    const unread = await sl(carol).patch(url(`/message-recipients/${mine.id}`), { isRead: false });
    assert.equal(unread.status, 422);
    assert.match(loopBackError(unread).message, /^isRead:/);
    const moved = await sl(carol).patch(url(`/message-recipients/${mine.id}`), { recipientId: 'r-bob' });
    assert.equal(moved.status, 422);
    const put = await sl(carol).put(url(`/message-recipients/${mine.id}`), {
      channelId,
      recipientId: 'r-carol',
      messageId: m.id,
      isForwarded: true,
    });
    assert.equal(put.status, 204);
    assert.equal((await sl(bob).get(url(`/message-recipients/${mine.id}`))).body.isForwarded, true);
    const message = await sl(bob).get(url(`/message-recipients/${mine.id}/message`));
    assert.equal(message.body.id, m.id);
    assert.equal(message.body.body, 'mark me');
    // DELETE clears the flags, not the read state.
    assert.equal((await sl(carol).delete(url(`/message-recipients/${mine.id}`))).status, 204);
    const cleared = (await sl(carol).get(url(`/message-recipients/${mine.id}`))).body;
    assert.deepEqual([cleared.isRead, cleared.isFavorite, cleared.isForwarded], [true, false, false]);
    assert.equal((await sl(bob).delete(url(`/message-recipients/${mine.id}`))).status, 403);
  });

  it('creates (POST) the row of a member, 422 for a non-member or the author, 404 for an unseen message', async () => {
    const m = await send(alice, 'created rows');
    const created = await sl(alice).post(url('/message-recipients'), {
      channelId,
      recipientId: 'r-bob',
      messageId: m.id,
      isRead: false,
    });
    assert.equal(created.status, 200);
    assert.equal(created.body.recipientId, 'r-bob');
    assert.equal(created.body.isRead, false);
    const inMessage = await sl(bob).post(url(`/messages/${m.id}/message-recipients`), {
      channelId,
      recipientId: 'r-bob',
      isFavorite: true,
    });
    assert.equal(inMessage.status, 200);
    assert.equal(inMessage.body.isFavorite, true);
    const forOther = await sl(alice).post(url('/message-recipients'), {
      channelId,
      recipientId: 'r-bob',
      messageId: m.id,
      isFavorite: false,
    });
    assert.equal(forOther.status, 403);
    const author = await sl(alice).post(url('/message-recipients'), {
      channelId,
      recipientId: 'r-alice',
      messageId: m.id,
    });
    assert.equal(author.status, 422);
    assert.match(loopBackError(author).message, /^recipientId:/);
    const stranger = await sl(alice).post(url('/message-recipients'), {
      channelId,
      recipientId: 'r-zed',
      messageId: m.id,
    });
    assert.equal(stranger.status, 422);
    const missing = await sl(alice).post(url('/message-recipients'), { channelId, recipientId: 'r-bob' });
    assert.equal(missing.status, 422);
    assert.equal(loopBackError(missing).code, 'VALIDATION_FAILED');
    const outsider = await t.login('r-out', { permissions: RECIPIENT });
    const notMine = await sl(outsider).post(url('/message-recipients'), {
      channelId,
      recipientId: 'r-bob',
      messageId: m.id,
    });
    assert.equal(notMine.status, 404);
    assert.equal((await sl(outsider).get(url(`/messages/${m.id}/message-recipients`))).status, 404);
    assert.equal((await sl(outsider).get(url('/message-recipients/count'))).body.count, 0);
    assert.equal((await sl(alice).get(url('/message-recipients/not-an-id'))).status, 404);
  });

  it('bulk PATCH and DELETE with where act on the caller’s own rows and count them', async () => {
    const a = await send(alice, 'bulk one');
    const b = await send(alice, 'bulk two');
    const patched = await sl(bob).patch(
      url('/message-recipients', { where: { messageId: { inq: [a.id, b.id] } } }),
      {
        isFavorite: true,
      },
    );
    assert.deepEqual(patched.body, { count: 2 });
    const favourites = await sl(carol).get(
      url('/message-recipients', {
        filter: { where: { isFavorite: true, messageId: { inq: [a.id, b.id] } } },
      }),
    );
    assert.deepEqual(
      favourites.body.map((r) => [r.recipientId, r.messageId]),
      [
        ['r-bob', a.id],
        ['r-bob', b.id],
      ],
    );
    const markRead = await sl(carol).patch(url(`/messages/${b.id}/message-recipients`), { isRead: true });
    assert.deepEqual(markRead.body, { count: 1 });
    assert.equal(
      (
        await sl(carol).get(
          url(`/messages/${a.id}/message-recipients`, { filter: { where: { recipientId: 'r-carol' } } }),
        )
      ).body[0]?.isRead,
      true,
    );
    const cleared = await sl(bob).delete(url(`/messages/${a.id}/message-recipients`));
    assert.deepEqual(cleared.body, { count: 1 });
    const left = await sl(bob).get(
      url('/message-recipients/count', {
        where: { isFavorite: true, recipientId: 'r-bob', messageId: { inq: [a.id, b.id] } },
      }),
    );
    assert.equal(left.body.count, 1);
    const refused = await sl(bob).get(url('/message-recipients', { filter: { where: { isRead: 'maybe' } } }));
    assert.equal(refused.status, 400);
    assert.equal(loopBackError(refused).details?.[0]?.path, 'filter.where.isRead');
    const deep = await sl(bob).get(
      `${BASE}/message-recipients?filter[where][isFavorite]=true&filter[where][recipientId]=r-bob&filter[where][messageId][inq][0]=${a.id}&filter[where][messageId][inq][1]=${b.id}`,
    );
    assert.deepEqual(
      deep.body.map((r) => r.messageId),
      [b.id],
    );
  });

  it('needs the recipient permissions (any-of, numeric aliases) and ViewMessage for the message route', async () => {
    const viewer = await t.as('r-viewer', { permissions: ['6'] });
    assert.equal((await sl(viewer).get(url('/message-recipients'))).status, 200);
    assert.equal((await sl(viewer).patch(url('/message-recipients'), {})).status, 403);
    assert.equal((await sl(viewer).get(url('/message-recipients/x/message'))).status, 403);
    const none = await t.request('GET', url('/message-recipients'));
    assert.equal(none.status, 401);
  });
});

describe('SourceLoop dialect: attach-files', () => {
  let t: TestApp;
  let alice: Client;
  let bob: Client;
  let channelId: string;
  const FILES = [
    'CreateAttachmentFile',
    'ViewAttachmentFile',
    'UpdateAttachmentFile',
    'DeleteAttachmentFile',
  ];

  before(async () => {
    t = await createTestApp({ DIALECTS: 'sourceloop' });
    alice = await t.login('f-alice', { permissions: [...ALL, ...FILES] });
    bob = await t.login('f-bob', { permissions: [...ALL, ...FILES] });
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'f-room', members: ['f-bob'] });
    channelId = chat.body.id;
  });
  after(async () => {
    await t.close();
  });

  it('stores attachment metadata (200), for a channel and optionally one of its messages', async () => {
    const m = (await sl(alice).post(url('/messages'), { body: 'see file', channelId, channelType: 'group' }))
      .body;
    const res = await sl(alice).post(url('/attach-files'), {
      channelId,
      messageId: m.id,
      fileKey: 's3://bucket/report.pdf',
      metaData: { size: 1024, type: 'application/pdf' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.channelId, channelId);
    assert.equal(res.body.messageId, m.id);
    assert.equal(res.body.fileKey, 's3://bucket/report.pdf');
    assert.deepEqual(res.body.metaData, { size: 1024, type: 'application/pdf' });
    assert.equal(res.body.createdBy, 'f-alice');
    const read = await sl(bob).get(url(`/attach-files/${res.body.id}`));
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, { ...res.body, deletedOn: null, deletedBy: null });
    const chatOnly = await sl(bob).post(url('/attach-files'), { channelId, fileKey: 'k2' });
    assert.equal(chatOnly.status, 200);
    // A create answer leaves out what was not given; a read shows it.
    assert.equal('messageId' in chatOnly.body, false);
    assert.equal('metaData' in chatOnly.body, false);
    const chatOnlyRead = await sl(bob).get(url(`/attach-files/${chatOnly.body.id}`));
    assert.equal(chatOnlyRead.body.messageId, null);
    assert.deepEqual(chatOnlyRead.body.metaData, {});
    const byMessage = await sl(bob).get(url('/attach-files', { filter: { where: { messageId: m.id } } }));
    assert.deepEqual(
      byMessage.body.map((f) => f.fileKey),
      ['s3://bucket/report.pdf'],
    );
  });

  it('creates in bulk, counts, filters and refuses what is invalid with 422 / 404 / 403', async () => {
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'f-bulk', members: ['f-bob'] });
    const ch = chat.body.id;
    const bulk = await sl(alice).post(url('/attach-files/bulk'), {
      attachmentFiles: [
        { channelId: ch, fileKey: 'a.png' },
        { channelId: ch, fileKey: 'b.png' },
        { channelId: ch, fileKey: 'c.txt' },
      ],
    });
    assert.equal(bulk.status, 200);
    assert.deepEqual(
      bulk.body.map((f) => f.fileKey),
      ['a.png', 'b.png', 'c.txt'],
    );
    assert.deepEqual((await sl(bob).get(url('/attach-files/count', { where: { channelId: ch } }))).body, {
      count: 3,
    });
    assert.equal(
      (
        await sl(bob).get(
          url('/attach-files/count', { where: { channelId: ch, fileKey: { like: '%.png' } } }),
        )
      ).body.count,
      2,
    );
    const ordered = await sl(bob).get(
      url('/attach-files', { filter: { where: { channelId: ch }, order: 'fileKey DESC', limit: 1 } }),
    );
    assert.deepEqual(
      ordered.body.map((f) => f.fileKey),
      ['c.txt'],
    );
    const missingKey = await sl(alice).post(url('/attach-files'), { channelId: ch });
    assert.equal(missingKey.status, 422);
    assert.deepEqual(loopBackError(missingKey).details?.[0]?.info, { missingProperty: 'fileKey' });
    const badMessage = await sl(alice).post(url('/attach-files'), {
      channelId: ch,
      fileKey: 'x',
      messageId: 'nope',
    });
    assert.equal(badMessage.status, 422);
    assert.match(loopBackError(badMessage).message, /^messageId:/);
    const outsider = await t.login('f-out', { permissions: FILES });
    assert.equal(
      (await sl(outsider).post(url('/attach-files'), { channelId: ch, fileKey: 'x' })).status,
      404,
    );
    assert.equal((await sl(outsider).get(url(`/attach-files/${bulk.body[0]?.id}`))).status, 404);
    assert.equal((await sl(outsider).get(url('/attach-files/count'))).body.count, 0);
    // Attachment routes have no numeric aliases.
    const numeric = await t.as('f-numeric', { permissions: ['1', '2', '3', '4', '5', '6', '7', '8'] });
    assert.equal((await sl(numeric).get(url('/attach-files'))).status, 403);
    assert.equal((await t.request('GET', url('/attach-files'))).status, 401);
    const emptyBulk = await sl(alice).post(url('/attach-files/bulk'), { attachmentFiles: [] });
    assert.equal(emptyBulk.status, 422);
  });

  it('updates (PATCH/PUT 204, PATCH with where → count) and soft-deletes only what the caller attached', async () => {
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'f-edit', members: ['f-bob'] });
    const ch = chat.body.id;
    const mine = (await sl(alice).post(url('/attach-files'), { channelId: ch, fileKey: 'old' })).body;
    const theirs = (await sl(bob).post(url('/attach-files'), { channelId: ch, fileKey: 'bobs' })).body;
    assert.equal(
      (await sl(alice).patch(url(`/attach-files/${mine.id}`), { metaData: { pages: 3 } })).status,
      204,
    );
    const read = (await sl(alice).get(url(`/attach-files/${mine.id}`))).body;
    assert.deepEqual(read.metaData, { pages: 3 });
    assert.ok(read.modifiedOn >= read.createdOn);
    assert.equal(
      (await sl(alice).put(url(`/attach-files/${mine.id}`), { channelId: ch, fileKey: 'new' })).status,
      204,
    );
    assert.equal((await sl(bob).get(url(`/attach-files/${mine.id}`))).body.fileKey, 'new');
    assert.equal((await sl(alice).put(url(`/attach-files/${mine.id}`), { fileKey: 'x' })).status, 422);
    assert.equal(
      (await sl(alice).patch(url(`/attach-files/${mine.id}`), { channelId: 'elsewhere' })).status,
      422,
    );
    assert.equal(
      (await sl(alice).patch(url(`/attach-files/${theirs.id}`), { fileKey: 'mine now' })).status,
      403,
    );
    const bulk = await sl(alice).patch(url('/attach-files', { where: { channelId: ch } }), {
      metaData: { bulk: true },
    });
    assert.deepEqual(bulk.body, { count: 1 });
    assert.deepEqual((await sl(bob).get(url(`/attach-files/${theirs.id}`))).body.metaData, {});
    assert.equal((await sl(alice).delete(url(`/attach-files/${theirs.id}`))).status, 403);
    assert.equal((await sl(alice).delete(url(`/attach-files/${mine.id}`))).status, 204);
    assert.equal((await sl(alice).get(url(`/attach-files/${mine.id}`))).status, 404);
    assert.equal((await sl(alice).delete(url(`/attach-files/${mine.id}`))).status, 404);
    assert.equal((await sl(bob).get(url('/attach-files/count', { where: { channelId: ch } }))).body.count, 1);
  });
});
