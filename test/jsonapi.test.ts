import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Jsona } from 'jsona';
import { NATIVE_ROUTES } from '../src/jsonapi/jsonapi.operations.ts';
import type { ChatView } from './support/api.ts';
import { createTestApp, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createGroup, sendMessages } from './support/factories.ts';
import {
  ACCEPT,
  assertDocument,
  assertErrors,
  assertMany,
  assertOne,
  assertValidRequest,
  ids,
  isValidRequest,
  JSONAPI,
  linkage,
  linkages,
  ref,
  resource,
  SEND,
  send,
  type Document,
  type Identifier,
  type Resource,
} from './support/jsonapi.ts';

/** The native view a users resource stands for. */
const userView = (r: Resource) => ({ id: r.id, ...r.attributes });
/** The native view a chats resource stands for (without `lastMessage`, a relationship). */
const chatView = (r: Resource) => ({
  id: r.id,
  ...r.attributes,
  createdBy: linkage(r.relationships?.creator).id,
});
const memberView = (r: Resource) => ({
  chatId: linkage(r.relationships?.chat).id,
  userId: linkage(r.relationships?.user).id,
  ...r.attributes,
});
/** The native view a messages resource stands for (without `replyTo`, a relationship to the replied message). */
const messageView = (r: Resource) => ({
  id: r.id,
  chatId: linkage(r.relationships?.chat).id,
  authorId: linkage(r.relationships?.author).id,
  ...r.attributes,
});
const withoutKeys = (view: object, ...keys: string[]) => {
  const copy: Record<string, unknown> = { ...view };
  for (const key of keys) {
    delete copy[key];
  }
  return copy;
};

/** Every included resource once, none of them primary data, each one referenced by some relationship (full linkage). */
function assertCompound(doc: Document): void {
  const primary = (Array.isArray(doc.data) ? doc.data : [doc.data]).filter((r) => r != null).map(resource);
  const included = doc.included ?? [];
  const key = (r: Identifier) => `${r.type}:${r.id}`;
  const keys = included.map(key);
  assert.equal(new Set(keys).size, keys.length, `included twice: ${keys.join(', ')}`);
  for (const k of primary.map(key)) {
    assert.ok(!keys.includes(k), `${k} is primary data and included`);
  }
  const linked = new Set<string>();
  for (const resource of [...primary, ...included]) {
    for (const relationship of Object.values(resource.relationships ?? {})) {
      for (const identifier of [relationship.data ?? []].flat()) {
        linked.add(key(identifier));
      }
    }
  }
  for (const k of keys) {
    assert.ok(linked.has(k), `${k} is included but nothing links to it`);
  }
}

const included = (doc: Document, type: string) => (doc.included ?? []).filter((r) => r.type === type);

/** What jsona makes of the documents below: plain objects with relationships as nested objects. */
interface JsonaUser {
  id: string;
  displayName: string;
}
interface JsonaChat {
  type: string;
  id: string;
  name: string;
  topic: string;
  role: string;
  members: JsonaUser[];
}
interface JsonaMessage {
  id: string;
  text: string;
  author: JsonaUser;
  replyTo?: JsonaMessage;
}

/** The part of the OpenAPI document the coverage test reads. */
interface OpenApiPaths {
  paths: Record<string, Record<string, { tags?: string[] }>>;
}

describe('JSON:API', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  describe('negotiation', () => {
    it('answers JSON:API only when asked; native clients see no change', async () => {
      const alice = await t.login('neg-alice');
      const native = await alice.get('/v1/me');
      assert.equal(native.status, 200);
      assert.match(String(native.headers['content-type']), /^application\/json/);
      assert.equal(native.body.id, 'neg-alice');
      assert.ok(!('data' in native.body));

      const doc = assertOne(await alice.get('/v1/me', ACCEPT), 200);
      assert.deepEqual(ref(doc.data), { type: 'users', id: 'neg-alice' });
      assert.deepEqual(userView(doc.data), native.body);
      assert.deepEqual(doc.jsonapi, { version: '1.0' });
    });

    it('HEAD answers as GET does: the same status and media type, JSON:API query parameters included', async () => {
      const alice = await t.login('neg-head');
      const headers = { ...ACCEPT, authorization: `Bearer ${alice.token}` };
      for (const url of ['/v1/me', '/v1/users?filter[username]=neg-head', '/v1/chats?page[size]=1']) {
        const get = await t.app.inject({ method: 'GET', url, headers });
        const head = await t.app.inject({ method: 'HEAD', url, headers });
        assert.equal(get.statusCode, 200, `GET ${url}: ${get.body}`);
        assert.equal(head.statusCode, 200, `HEAD ${url}`);
        assert.equal(head.headers['content-type'], JSONAPI, `HEAD ${url}`);
        assert.equal(head.body, '');
      }
    });

    it('refuses (406) an Accept whose every JSON:API media type has parameters; one plain instance is enough', async () => {
      const alice = await t.login('neg-406');
      for (const accept of [
        `${JSONAPI}; ext="https://example.com/ext"`,
        `${JSONAPI};profile=x, ${JSONAPI};ext=y`,
      ]) {
        assertErrors(await alice.get('/v1/me', { accept }), 406, 'not_acceptable');
      }
      for (const accept of [
        `${JSONAPI}; ext=x, ${JSONAPI}`,
        `text/html, ${JSONAPI};q=0.8`,
        `${JSONAPI}, */*`,
      ]) {
        const doc = assertOne(await alice.get('/v1/me', { accept }), 200);
        assert.equal(doc.data.type, 'users', accept);
      }
      // q=0 means "not acceptable": that client asks for plain JSON.
      const refused = await alice.get('/v1/me', { accept: `${JSONAPI};q=0, application/json` });
      assert.match(String(refused.headers['content-type']), /^application\/json/);
    });

    it('refuses (415) a JSON:API Content-Type with media type parameters', async () => {
      const alice = await t.login('neg-415');
      const doc = { data: { type: 'chats', attributes: { kind: 'group', name: 'neg-415' } } };
      for (const contentType of [`${JSONAPI}; charset=utf-8`, `${JSONAPI}; ext=x`]) {
        const res = await alice.post('/v1/chats', doc, { accept: JSONAPI, 'content-type': contentType });
        assertErrors(res, 415, 'unsupported_media_type', { detail: /media type parameters/ });
      }
      const chats = await alice.get('/v1/chats');
      assert.equal(chats.body.data.length, 0, 'nothing was created');
    });

    it('answers a JSON:API body in JSON:API unless Accept names application/json', async () => {
      const alice = await t.login('neg-body');
      const doc = { data: { type: 'chats', attributes: { kind: 'group', name: 'neg-body-1' } } };
      assertValidRequest('create', doc);
      const jsonapi = await alice.post('/v1/chats', doc, { 'content-type': JSONAPI });
      assert.equal(assertOne(jsonapi, 201).data.attributes?.name, 'neg-body-1');

      const doc2 = { data: { type: 'chats', attributes: { kind: 'group', name: 'neg-body-2' } } };
      const native = await alice.post('/v1/chats', doc2, {
        'content-type': JSONAPI,
        accept: 'application/json',
      });
      assert.equal(native.status, 201);
      assert.match(String(native.headers['content-type']), /^application\/json/);
      assert.equal(native.body.name, 'neg-body-2');
      assert.equal(native.body.kind, 'group');
    });

    it('answers a native body in JSON:API when Accept asks for it', async () => {
      const alice = await t.login('neg-native-body');
      const res = await alice.post('/v1/chats', { kind: 'group', name: 'neg-native' }, ACCEPT);
      const doc = assertOne(res, 201);
      assert.equal(doc.data.type, 'chats');
      assert.equal(doc.data.attributes?.name, 'neg-native');
    });

    it('answers JSON:API errors for unknown routes, missing tokens and unknown methods', async () => {
      const alice = await t.login('neg-errors');
      assertErrors(await alice.get('/v1/nope', ACCEPT), 404, 'not_found');
      assertErrors(await t.request('GET', '/nowhere', undefined, ACCEPT), 404, 'not_found');
      assertErrors(await t.request('GET', '/v1/me', undefined, ACCEPT), 401, 'unauthorized');
      assertErrors(await alice.put('/v1/me', { displayName: 'x' }, ACCEPT), 404, 'not_found');
      // Natively these stay as they were.
      assertError(await t.request('GET', '/v1/me'), 401, 'unauthorized');
    });

    it('leaves routes that are not resources alone (health)', async () => {
      const res = await t.request('GET', '/health/live', undefined, ACCEPT);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ok' });
    });

    it('builds links from the request, not from forwarded headers no trusted proxy sent', async () => {
      // Behind a proxy named in PARLEY_TRUST_PROXY they are followed: test/client-address.test.ts.
      const alice = await t.login('neg-proxy');
      const doc = assertOne(
        await alice.get('/v1/me', {
          ...ACCEPT,
          host: 'parley.internal:3000',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'chat.example.org',
        }),
        200,
      );
      assert.equal(doc.data.links?.self, 'http://parley.internal:3000/v1/users/neg-proxy');
      assert.equal(doc.links?.self, 'http://parley.internal:3000/v1/me');
    });
  });

  describe('users', () => {
    it('GET and PATCH /v1/me: the same view, updated through a resource document', async () => {
      const me = await t.login('usr-me', { name: 'Me' });
      const body = {
        data: {
          type: 'users',
          id: 'usr-me',
          attributes: { displayName: 'Me Again', status: 'busy', statusText: null },
        },
      };
      const doc = assertOne(await send(t, me, 'PATCH', '/v1/me', 'update', body), 200);
      assert.equal(doc.data.attributes?.displayName, 'Me Again');
      assert.equal(doc.data.attributes?.status, 'busy');
      assert.deepEqual(userView(doc.data), (await me.get('/v1/me')).body);
    });

    it('PATCH /v1/me names the caller: another id is a 409, none a 400, no attributes a 400', async () => {
      const me = await t.login('usr-me-409');
      const other = { data: { type: 'users', id: 'someone-else', attributes: { displayName: 'x' } } };
      assertErrors(await send(t, me, 'PATCH', '/v1/me', 'update', other), 409, 'conflict', {
        pointer: '/data/id',
      });
      const noId = { data: { type: 'users', attributes: { displayName: 'x' } } };
      assert.ok(!isValidRequest('update', noId), 'an update without id is not a valid document');
      assertErrors(await me.patch('/v1/me', noId, SEND), 400, 'invalid_request', { pointer: '/data/id' });
      const empty = { data: { type: 'users', id: 'usr-me-409' } };
      assertErrors(await send(t, me, 'PATCH', '/v1/me', 'update', empty), 400, 'invalid_request', {
        pointer: '/data/attributes',
      });
      assertErrors(
        await send(t, me, 'PATCH', '/v1/me', 'update', {
          data: { type: 'users', id: 'usr-me-409', attributes: { status: 'asleep' } },
        }),
        400,
        'invalid_request',
        { pointer: '/data/attributes/status', detail: /^status: must be one of/ },
      );
    });

    it('POST /v1/users: an admin creates a user with a client-generated id → 201 with Location', async () => {
      const admin = await t.login('usr-admin', { admin: true });
      const body = {
        data: { type: 'users', id: 'usr-new', attributes: { username: 'usr-new', displayName: 'New' } },
      };
      const res = await send(t, admin, 'POST', '/v1/users', 'create', body);
      const doc = assertOne(res, 201);
      assert.deepEqual(ref(doc.data), { type: 'users', id: 'usr-new' });
      assert.equal(res.headers.location, doc.data.links?.self);
      assert.deepEqual(userView(doc.data), (await admin.get('/v1/users/usr-new')).body);

      const taken = { data: { type: 'users', attributes: { username: 'USR-NEW' } } };
      assertErrors(await send(t, admin, 'POST', '/v1/users', 'create', taken), 409, 'conflict', {
        pointer: '/data/attributes/username',
      });
      const plain = await t.login('usr-plain');
      const other = { data: { type: 'users', attributes: { username: 'usr-nope' } } };
      assertErrors(await send(t, plain, 'POST', '/v1/users', 'create', other), 403, 'forbidden');
    });

    it('GET /v1/users/{id}: the same view; another tenant is a 404', async () => {
      const a = await t.login('usr-read-a');
      await t.login('usr-read-b');
      const doc = assertOne(await a.get('/v1/users/usr-read-b', ACCEPT), 200);
      assert.deepEqual(userView(doc.data), (await a.get('/v1/users/usr-read-b')).body);
      const stranger = await t.login('usr-read-c', { tenant: 'usr-other' });
      assertErrors(await stranger.get('/v1/users/usr-read-b', ACCEPT), 404, 'not_found');
    });

    it('GET /v1/users: filter[username], filter[q], page[size] and sort as in the native list', async () => {
      const a = await t.login('usr-list-zed', { username: 'usrlist-zed' });
      for (const name of ['usrlist-amy', 'usrlist-bo', 'usrlist-cy']) {
        await t.login(name, { username: name });
      }
      const native = await a.get('/v1/users?q=usrlist-&limit=200');
      const doc = assertMany(await a.get('/v1/users?filter[q]=usrlist-&sort=username', ACCEPT), 200);
      assert.deepEqual(doc.data.map(userView), native.body.data);
      assert.deepEqual(
        doc.data.map((u) => u.attributes?.username),
        ['usrlist-amy', 'usrlist-bo', 'usrlist-cy', 'usrlist-zed'],
      );
      const exact = assertMany(await a.get('/v1/users?filter[username]=USRLIST-BO', ACCEPT), 200);
      assert.deepEqual(ids(exact.data), ['usrlist-bo']);
    });
  });

  describe('chats', () => {
    let owner: Client;
    let bob: Client;
    before(async () => {
      owner = await t.login('cht-owner');
      bob = await t.login('cht-bob');
    });

    it('POST /v1/chats: a group with members as a relationship → 201, Location, the native view', async () => {
      const body = {
        data: {
          type: 'chats',
          attributes: { kind: 'group', name: 'cht-group', topic: 'plans', visibility: 'public' },
          relationships: { members: { data: [{ type: 'users', id: 'cht-bob' }] } },
        },
      };
      const res = await send(t, owner, 'POST', '/v1/chats?include=members,creator', 'create', body);
      const doc = assertOne(res, 201);
      assertCompound(doc);
      assert.equal(res.headers.location, doc.data.links?.self);
      const native = await owner.get(`/v1/chats/${doc.data.id}`);
      assert.deepEqual(chatView(doc.data), withoutKeys(native.body, 'lastMessage'));
      assert.deepEqual(doc.data.relationships?.lastMessage?.data, null);
      assert.deepEqual(doc.data.relationships?.creator?.data, { type: 'users', id: 'cht-owner' });
      assert.deepEqual(ids(linkages(doc.data.relationships?.members)).sort(), ['cht-bob', 'cht-owner']);
      assert.deepEqual(ids(included(doc, 'users')).sort(), ['cht-bob', 'cht-owner']);
      assert.equal(doc.data.attributes?.role, 'owner');
      assert.equal(doc.data.attributes?.memberCount, 2);
    });

    it('POST /v1/chats: a direct chat → 201 first, then 200 with the same chat for either side', async () => {
      const body = {
        data: {
          type: 'chats',
          attributes: { kind: 'direct' },
          relationships: { members: { data: [ref({ type: 'users', id: 'cht-bob' })] } },
        },
      };
      const first = assertOne(await send(t, owner, 'POST', '/v1/chats', 'create', body), 201);
      const mirrored = {
        data: {
          type: 'chats',
          attributes: { kind: 'direct' },
          relationships: { members: { data: [{ type: 'users', id: 'cht-owner' }] } },
        },
      };
      const again = assertOne(await send(t, bob, 'POST', '/v1/chats', 'create', mirrored), 200);
      assert.equal(again.data.id, first.data.id);
      assert.equal(again.data.attributes?.kind, 'direct');
    });

    it('GET /v1/chats: the native list, order and views, with lastMessage linkage', async () => {
      const carol = await t.login('cht-carol');
      const a = await createGroup(carol, [bob], { name: 'cht-list-a' });
      const b = await createGroup(carol, [], { name: 'cht-list-b' });
      await sendMessages(bob, a.id, 2);
      const native = await carol.get('/v1/chats');
      const doc = assertMany(await carol.get('/v1/chats?sort=-activity', ACCEPT), 200);
      assert.deepEqual(ids(doc.data), [a.id, b.id]);
      assert.deepEqual(
        doc.data.map(chatView),
        native.body.data.map((c) => withoutKeys(c, 'lastMessage')),
      );
      assert.deepEqual(doc.data[0]?.relationships?.lastMessage?.data, {
        type: 'messages',
        id: native.body.data[0]?.lastMessage?.id,
      });
      assert.equal(doc.data[0]?.attributes?.unreadCount, 2);
      assert.equal(doc.data[1]?.relationships?.lastMessage?.data, null);
      assert.equal(doc.links?.next, null);
      assert.equal(doc.links?.prev, null);
    });

    it('GET /v1/chats/{id}: the same view; a chat the caller is not in is a 404', async () => {
      const chat = await createGroup(owner, [bob], { name: 'cht-read' });
      const doc = assertOne(await bob.get(`/v1/chats/${chat.id}`, ACCEPT), 200);
      assert.deepEqual(
        chatView(doc.data),
        withoutKeys((await bob.get(`/v1/chats/${chat.id}`)).body, 'lastMessage'),
      );
      assert.equal(doc.data.attributes?.role, 'member');
      const stranger = await t.login('cht-stranger');
      assertErrors(await stranger.get(`/v1/chats/${chat.id}`, ACCEPT), 404, 'not_found');
    });

    it('PATCH /v1/chats/{id}: name and topic by the owner; others 403; relationships cannot be set here', async () => {
      const chat = await createGroup(owner, [bob], { name: 'cht-patch' });
      const body = { data: { type: 'chats', id: chat.id, attributes: { name: 'cht-patched', topic: null } } };
      const doc = assertOne(await send(t, owner, 'PATCH', `/v1/chats/${chat.id}`, 'update', body), 200);
      assert.equal(doc.data.attributes?.name, 'cht-patched');
      assert.equal(doc.data.attributes?.topic, null);
      assert.equal((await owner.get(`/v1/chats/${chat.id}`)).body.name, 'cht-patched');

      assertErrors(await send(t, bob, 'PATCH', `/v1/chats/${chat.id}`, 'update', body), 403, 'forbidden');
      const wrongId = { data: { type: 'chats', id: 'another-chat', attributes: { name: 'x' } } };
      assertErrors(
        await send(t, owner, 'PATCH', `/v1/chats/${chat.id}`, 'update', wrongId),
        409,
        'conflict',
        {
          pointer: '/data/id',
        },
      );
      const members = {
        data: {
          type: 'chats',
          id: chat.id,
          relationships: { members: { data: [{ type: 'users', id: 'cht-bob' }] } },
        },
      };
      assertErrors(
        await send(t, owner, 'PATCH', `/v1/chats/${chat.id}`, 'update', members),
        403,
        'forbidden',
        {
          pointer: '/data/relationships/members',
        },
      );
      const readOnly = { data: { type: 'chats', id: chat.id, attributes: { messageCount: 7 } } };
      assertErrors(
        await send(t, owner, 'PATCH', `/v1/chats/${chat.id}`, 'update', readOnly),
        400,
        'invalid_request',
        {
          pointer: '/data/attributes/messageCount',
        },
      );
    });

    it('DELETE /v1/chats/{id}: 204 without a body; the owner only; gone afterwards', async () => {
      const chat = await createGroup(owner, [bob], { name: 'cht-delete' });
      assertErrors(await bob.delete(`/v1/chats/${chat.id}`, ACCEPT), 403, 'forbidden');
      const res = await owner.delete(`/v1/chats/${chat.id}`, ACCEPT);
      assert.equal(res.status, 204);
      assert.equal(res.body, null);
      assertErrors(await owner.get(`/v1/chats/${chat.id}`, ACCEPT), 404, 'not_found');
    });
  });

  describe('members', () => {
    let owner: Client;
    let chat: ChatView;
    before(async () => {
      owner = await t.login('mbr-owner');
      await t.login('mbr-bob');
      await t.login('mbr-carol');
      chat = await createGroup(owner, [], { name: 'mbr-chat' });
    });

    it('POST /v1/chats/{id}/members: user (and chat) as relationships, role as attribute → 201', async () => {
      const body = {
        data: {
          type: 'members',
          attributes: { role: 'admin' },
          relationships: {
            user: { data: { type: 'users', id: 'mbr-bob' } },
            chat: { data: { type: 'chats', id: chat.id } },
          },
        },
      };
      const res = await send(t, owner, 'POST', `/v1/chats/${chat.id}/members?include=user`, 'create', body);
      const doc = assertOne(res, 201);
      assert.equal(doc.data.id, `${chat.id}:mbr-bob`);
      assert.equal(res.headers.location, doc.data.links?.self);
      assert.deepEqual(memberView(doc.data), (await owner.get(`/v1/chats/${chat.id}/members/mbr-bob`)).body);
      assert.equal(doc.data.attributes?.role, 'admin');
      assert.deepEqual(ids(included(doc, 'users')), ['mbr-bob']);

      assertErrors(
        await send(t, owner, 'POST', `/v1/chats/${chat.id}/members`, 'create', body),
        409,
        'conflict',
        {
          pointer: '/data/relationships/user/data',
          detail: /^user: /,
        },
      );
      const ghost = {
        data: { type: 'members', relationships: { user: { data: { type: 'users', id: 'mbr-ghost' } } } },
      };
      assertErrors(
        await send(t, owner, 'POST', `/v1/chats/${chat.id}/members`, 'create', ghost),
        400,
        'invalid_request',
        {
          pointer: '/data/relationships/user/data',
        },
      );
      const otherChat = {
        data: {
          type: 'members',
          relationships: {
            user: { data: { type: 'users', id: 'mbr-carol' } },
            chat: { data: { type: 'chats', id: 'some-other-chat' } },
          },
        },
      };
      assertErrors(
        await send(t, owner, 'POST', `/v1/chats/${chat.id}/members`, 'create', otherChat),
        400,
        'invalid_request',
        {
          pointer: '/data/relationships/chat/data/id',
        },
      );
    });

    it('GET /v1/chats/{id}/members and /members/{userId}: the native views, natively too', async () => {
      const native = await owner.get(`/v1/chats/${chat.id}/members`);
      const doc = assertMany(await owner.get(`/v1/chats/${chat.id}/members?sort=userId`, ACCEPT), 200);
      assert.deepEqual(doc.data.map(memberView), native.body.data);
      const one = await owner.get(`/v1/chats/${chat.id}/members/mbr-owner`);
      assert.equal(one.status, 200);
      assert.equal(one.body.role, 'owner');
      const oneDoc = assertOne(await owner.get(`/v1/chats/${chat.id}/members/mbr-owner`, ACCEPT), 200);
      assert.deepEqual(memberView(oneDoc.data), one.body);
      assert.equal((await owner.get(`/v1/chats/${chat.id}/members/mbr-carol`)).status, 404);
      const stranger = await t.login('mbr-stranger');
      assertErrors(await stranger.get(`/v1/chats/${chat.id}/members/mbr-owner`, ACCEPT), 404, 'not_found');
    });

    it('PATCH /v1/chats/{id}/members/{userId}: the role, with the member id in the document', async () => {
      await owner.post(`/v1/chats/${chat.id}/members`, { userId: 'mbr-carol' });
      const url = `/v1/chats/${chat.id}/members/mbr-carol` as const;
      const body = { data: { type: 'members', id: `${chat.id}:mbr-carol`, attributes: { role: 'admin' } } };
      const doc = assertOne(await send(t, owner, 'PATCH', url, 'update', body), 200);
      assert.equal(doc.data.attributes?.role, 'admin');
      const wrong = { data: { type: 'members', id: `${chat.id}:mbr-bob`, attributes: { role: 'member' } } };
      assertErrors(await send(t, owner, 'PATCH', url, 'update', wrong), 409, 'conflict', {
        pointer: '/data/id',
      });
      const bad = { data: { type: 'members', id: `${chat.id}:mbr-carol`, attributes: { role: 'king' } } };
      assertErrors(await send(t, owner, 'PATCH', url, 'update', bad), 400, 'invalid_request', {
        pointer: '/data/attributes/role',
      });
    });

    it('DELETE /v1/chats/{id}/members/{userId}: 204, the member is gone', async () => {
      const res = await owner.delete(`/v1/chats/${chat.id}/members/mbr-carol`, ACCEPT);
      assert.equal(res.status, 204);
      assertErrors(await owner.get(`/v1/chats/${chat.id}/members/mbr-carol`, ACCEPT), 404, 'not_found');
    });
  });

  describe('messages and read state', () => {
    let alice: Client;
    let bob: Client;
    let chat: ChatView;
    before(async () => {
      alice = await t.login('msg-alice');
      bob = await t.login('msg-bob');
      chat = await createGroup(alice, [bob], { name: 'msg-chat' });
    });

    it('POST /v1/chats/{id}/messages: text, clientId, and replyTo as a relationship to the message', async () => {
      const [first] = await sendMessages(alice, chat.id, 1, 'msg-first');
      assert.ok(first);
      const body = {
        data: {
          type: 'messages',
          attributes: { text: 'a reply', clientId: 'msg-c1' },
          relationships: {
            replyTo: { data: { type: 'messages', id: first.id } },
            chat: { data: { type: 'chats', id: chat.id } },
            author: { data: { type: 'users', id: 'msg-bob' } },
          },
        },
      };
      const res = await send(t, bob, 'POST', `/v1/chats/${chat.id}/messages?include=replyTo`, 'create', body);
      const doc = assertOne(res, 201);
      assertCompound(doc);
      assert.equal(res.headers.location, doc.data.links?.self);
      const native = (await bob.get(`/v1/chats/${chat.id}/messages/${doc.data.attributes?.seq}`)).body;
      // A send's answer, like its stream event, leaves out the reactions and the pin a read carries.
      assert.deepEqual(
        messageView(doc.data),
        withoutKeys(native, 'replyTo', 'reactions', 'pinnedAt', 'pinnedBy'),
      );
      assert.deepEqual(native.reactions, []);
      assert.equal(native.pinnedAt, null);
      assert.equal(native.replyTo, first.seq);
      assert.deepEqual(doc.data.relationships?.replyTo?.data, { type: 'messages', id: first.id });
      assert.deepEqual(ids(doc.included ?? []), [first.id]);

      const retry = assertOne(
        await send(t, bob, 'POST', `/v1/chats/${chat.id}/messages`, 'create', body),
        200,
      );
      assert.equal(retry.data.id, doc.data.id);
    });

    it('POST message problems point into the document', async () => {
      const post = (data: unknown) =>
        send(t, alice, 'POST', `/v1/chats/${chat.id}/messages`, 'create', { data });
      assertErrors(
        await post({ type: 'messages', attributes: { text: 'x'.repeat(10_001) } }),
        400,
        'invalid_request',
        {
          pointer: '/data/attributes/text',
          detail: /^text: must be at most 10000 characters/,
        },
      );
      assertErrors(await post({ type: 'messages', attributes: { text: '   ' } }), 400, 'invalid_request', {
        pointer: '/data/attributes/text',
      });
      assertErrors(await post({ type: 'messages', attributes: { text: 5 } }), 400, 'invalid_request', {
        pointer: '/data/attributes/text',
        detail: /^text: must be string/,
      });
      assertErrors(
        await post({
          type: 'messages',
          attributes: { text: 'x' },
          relationships: { replyTo: { data: { type: 'messages', id: 'no-such-message' } } },
        }),
        400,
        'invalid_request',
        { pointer: '/data/relationships/replyTo/data/id' },
      );
      assertErrors(
        await post({
          type: 'messages',
          attributes: { text: 'x' },
          relationships: { author: { data: { type: 'users', id: 'msg-bob' } } },
        }),
        400,
        'invalid_request',
        { pointer: '/data/relationships/author/data/id' },
      );
      assertErrors(
        await post({ type: 'messages', attributes: { text: 'x', authorId: 'msg-bob' } }),
        400,
        'invalid_request',
        {
          pointer: '/data/attributes/authorId',
        },
      );
      assertErrors(await post({ type: 'chats', attributes: { text: 'x' } }), 409, 'conflict', {
        pointer: '/data/type',
      });
      assertErrors(
        await post({ type: 'messages', id: 'mine', attributes: { text: 'x' } }),
        403,
        'forbidden',
        {
          pointer: '/data/id',
        },
      );
      const stranger = await t.login('msg-stranger');
      const res = await send(t, stranger, 'POST', `/v1/chats/${chat.id}/messages`, 'create', {
        data: { type: 'messages', attributes: { text: 'hi' } },
      });
      assertErrors(res, 404, 'not_found');
    });

    it('GET messages, one message, PATCH and DELETE: the same views and rules', async () => {
      const [m] = await sendMessages(alice, chat.id, 1, 'msg-edit');
      assert.ok(m);
      const url = `/v1/chats/${chat.id}/messages/${m.seq}` as const;
      const one = assertOne(await bob.get(url, ACCEPT), 200);
      assert.deepEqual(messageView(one.data), withoutKeys((await bob.get(url)).body, 'replyTo'));
      assert.equal(one.data.relationships?.replyTo?.data, null);

      const edit = { data: { type: 'messages', id: m.id, attributes: { text: 'edited' } } };
      assertErrors(await send(t, bob, 'PATCH', url, 'update', edit), 403, 'forbidden');
      const edited = assertOne(await send(t, alice, 'PATCH', url, 'update', edit), 200);
      assert.equal(edited.data.attributes?.text, 'edited');
      assert.notEqual(edited.data.attributes?.editedAt, null);
      const wrong = { data: { type: 'messages', id: 'not-this-one', attributes: { text: 'x' } } };
      assertErrors(await send(t, alice, 'PATCH', url, 'update', wrong), 409, 'conflict', {
        pointer: '/data/id',
      });

      const list = assertMany(await bob.get(`/v1/chats/${chat.id}/messages?sort=seq`, ACCEPT), 200);
      const native = await bob.get(`/v1/chats/${chat.id}/messages`);
      assert.deepEqual(
        list.data.map(messageView),
        native.body.data.map((v) => withoutKeys(v, 'replyTo')),
      );

      const deleted = await alice.delete(url, ACCEPT);
      assert.equal(deleted.status, 204);
      const after = assertOne(await bob.get(url, ACCEPT), 200);
      assert.equal(after.data.attributes?.text, null);
      assert.notEqual(after.data.attributes?.deletedAt, null);
      assertErrors(await send(t, alice, 'PATCH', url, 'update', edit), 409, 'conflict');
      assertErrors(await bob.get(`/v1/chats/${chat.id}/messages/9999`, ACCEPT), 404, 'not_found');
    });

    it('pins: PUT answers the pinned message, GET /pins lists messages, as natively', async () => {
      const [m] = await sendMessages(bob, chat.id, 1, 'msg-pinned');
      assert.ok(m);
      const url = `/v1/chats/${chat.id}/messages/${m.seq}/pin` as const;
      const pinned = assertOne(await alice.put(url, undefined, ACCEPT), 201);
      assert.equal(pinned.data.id, m.id);
      assert.equal(pinned.data.attributes?.pinnedBy, 'msg-alice');
      assert.ok(pinned.data.attributes?.pinnedAt);
      assertErrors(await bob.put(url, undefined, ACCEPT), 403, 'forbidden');
      const list = assertMany(await bob.get(`/v1/chats/${chat.id}/pins`, ACCEPT), 200);
      const native = await bob.get(`/v1/chats/${chat.id}/pins`);
      assert.deepEqual(
        list.data.map(messageView),
        native.body.data.map((v) => withoutKeys(v, 'replyTo')),
      );
      assert.deepEqual(
        list.data.map((r) => r.id),
        [m.id],
      );
      assert.equal((await alice.delete(url, ACCEPT)).status, 204);
      assert.deepEqual(assertMany(await bob.get(`/v1/chats/${chat.id}/pins`, ACCEPT), 200).data, []);
    });

    it('receipts: who has read a message, as users with their cursor in meta', async () => {
      const [m] = await sendMessages(alice, chat.id, 1, 'msg-receipt');
      assert.ok(m);
      assert.equal((await bob.post(`/v1/chats/${chat.id}/read`, { seq: m.seq })).status, 200);
      const url = `/v1/chats/${chat.id}/messages/${m.seq}/receipts` as const;
      const doc = assertMany(await alice.get(url, ACCEPT), 200);
      const native = (await alice.get(url)).body;
      assert.deepEqual(
        doc.data.map((r) => ({ type: r.type, id: r.id, meta: r.meta })),
        native.data.map(({ userId, lastReadSeq, lastReadAt }) => ({
          type: 'users',
          id: userId,
          meta: { lastReadSeq, lastReadAt },
        })),
      );
      assert.deepEqual(
        doc.data.map((r) => r.id),
        ['msg-bob'],
      );
    });

    it('POST /v1/chats/{id}/read and GET /v1/unread: read state as chats, the total in meta', async () => {
      const room = await createGroup(alice, [bob], { name: 'msg-read' });
      await sendMessages(alice, room.id, 3);
      const unread = assertMany(await bob.get('/v1/unread', ACCEPT), 200);
      const native = (await bob.get('/v1/unread')).body;
      assert.equal(unread.meta?.total, native.total);
      const entry = unread.data.find((c) => c.id === room.id);
      assert.deepEqual(entry?.attributes, { unreadCount: 3, lastReadSeq: 0 });
      assert.equal(entry.links?.self?.endsWith(`/v1/chats/${room.id}`), true);

      const body = { data: { type: 'chats', id: room.id, attributes: { lastReadSeq: 2 } } };
      const read = assertOne(await send(t, bob, 'POST', `/v1/chats/${room.id}/read`, 'update', body), 200);
      assert.deepEqual(read.data, {
        type: 'chats',
        id: room.id,
        attributes: { lastReadSeq: 2, unreadCount: 1 },
        links: { self: read.data.links?.self },
      });
      const beyond = { data: { type: 'chats', id: room.id, attributes: { lastReadSeq: 9 } } };
      assertErrors(
        await send(t, bob, 'POST', `/v1/chats/${room.id}/read`, 'update', beyond),
        400,
        'invalid_request',
        {
          pointer: '/data/attributes/lastReadSeq',
          detail: /^lastReadSeq: /,
        },
      );
      assertErrors(await bob.get('/v1/unread?include=lastMessage', ACCEPT), 400, 'invalid_request', {
        parameter: 'include',
      });
      const sparse = assertMany(await bob.get('/v1/unread?fields[chats]=unreadCount', ACCEPT), 200);
      assert.deepEqual(sparse.data.find((c) => c.id === room.id)?.attributes, { unreadCount: 1 });
    });
  });

  describe('include and sparse fieldsets', () => {
    let alice: Client;
    let bob: Client;
    let chat: ChatView;
    before(async () => {
      alice = await t.login('inc-alice');
      bob = await t.login('inc-bob');
      chat = await createGroup(alice, [bob], { name: 'inc-chat' });
      await sendMessages(alice, chat.id, 2, 'inc-a');
      await sendMessages(bob, chat.id, 2, 'inc-b');
    });

    it('includes several levels (lastMessage.author), each resource once, with full linkage', async () => {
      const doc = assertOne(
        await alice.get(
          `/v1/chats/${chat.id}?include=lastMessage.author,members,creator,lastMessage.chat`,
          ACCEPT,
        ),
        200,
      );
      assertCompound(doc);
      const [last] = included(doc, 'messages');
      assert.equal(last?.attributes?.text, 'inc-b 2');
      assert.deepEqual(last.relationships?.author?.data, { type: 'users', id: 'inc-bob' });
      // alice is creator and member, bob author and member: each user once; the chat is primary, never included.
      assert.deepEqual(ids(included(doc, 'users')).sort(), ['inc-alice', 'inc-bob']);
      assert.equal(included(doc, 'chats').length, 0);
      const bobView = (await alice.get('/v1/users/inc-bob')).body;
      assert.deepEqual(userView(resource(included(doc, 'users').find((u) => u.id === 'inc-bob'))), bobView);
    });

    it('includes the authors of a page of messages once each', async () => {
      const doc = assertMany(
        await alice.get(`/v1/chats/${chat.id}/messages?include=author,chat`, ACCEPT),
        200,
      );
      assertCompound(doc);
      assert.equal(doc.data.length, 4);
      assert.deepEqual(ids(included(doc, 'users')).sort(), ['inc-alice', 'inc-bob']);
      assert.deepEqual(ids(included(doc, 'chats')), [chat.id]);
    });

    it('includes the user and chat of members', async () => {
      const doc = assertMany(
        await alice.get(`/v1/chats/${chat.id}/members?include=user,chat.lastMessage`, ACCEPT),
        200,
      );
      assertCompound(doc);
      assert.deepEqual(ids(included(doc, 'users')).sort(), ['inc-alice', 'inc-bob']);
      assert.deepEqual(ids(included(doc, 'chats')), [chat.id]);
      assert.equal(included(doc, 'messages').length, 1);
    });

    it('shows only the fields asked for, per type, in primary and included data', async () => {
      const doc = assertOne(
        await alice.get(
          `/v1/chats/${chat.id}?include=lastMessage&fields[chats]=name,lastMessage&fields[messages]=text`,
          ACCEPT,
        ),
        200,
      );
      assert.deepEqual(doc.data.attributes, { name: 'inc-chat' });
      assert.deepEqual(Object.keys(doc.data.relationships ?? {}), ['lastMessage']);
      const [message] = doc.included ?? [];
      assert.deepEqual(message?.attributes, { text: 'inc-b 2' });
      assert.equal(message.relationships, undefined);
      const none = assertOne(await alice.get(`/v1/chats/${chat.id}?fields[chats]=`, ACCEPT), 200);
      assert.equal(none.data.attributes, undefined);
      assert.equal(none.data.relationships, undefined);
    });

    it('refuses unknown include paths, types and fields with a 400 naming the parameter', async () => {
      for (const [query, parameter] of [
        ['include=nope', 'include'],
        ['include=lastMessage.nope', 'include'],
        ['include=lastMessage.author.anything', 'include'],
        ['include=constructor', 'include'],
        ['fields[chats]=name,bogus', 'fields[chats]'],
        ['fields[planets]=name', 'fields[planets]'],
        ['include=members&include=creator', 'include'],
      ]) {
        assertErrors(await alice.get(`/v1/chats/${chat.id}?${query}`, ACCEPT), 400, 'invalid_request', {
          parameter: parameter!,
        });
      }
    });
  });

  describe('pagination, sort and filters', () => {
    let alice: Client;
    let chat: ChatView;
    before(async () => {
      alice = await t.login('pag-alice');
      chat = await createGroup(alice, [], { name: 'pag-chat' });
      await sendMessages(alice, chat.id, 7);
    });

    /** Follows `next` links from `url` and returns the pages' ids. */
    async function follow(client: Client, url: string): Promise<string[][]> {
      const pages: string[][] = [];
      let next: string | null = url;
      while (next) {
        const doc = assertMany(await client.get(next.replace(/^https?:\/\/[^/]+/, ''), ACCEPT), 200);
        pages.push(ids(doc.data));
        assert.equal(new URL(String(doc.links?.first)).searchParams.get('page[cursor]'), null);
        next = doc.links?.next ?? null;
        assert.ok(pages.length < 20);
      }
      return pages;
    }

    it('pages users with page[size] and next links through the whole native list', async () => {
      for (const name of ['pag-u1', 'pag-u2', 'pag-u3', 'pag-u4', 'pag-u5']) {
        await t.login(name);
      }
      const native = (await alice.get('/v1/users?q=pag-&limit=200')).body.data.map((u) => u.id);
      const pages = await follow(alice, '/v1/users?filter[q]=pag-&page[size]=2&sort=username');
      assert.deepEqual(
        pages.map((p) => p.length),
        [2, 2, 2],
      );
      assert.deepEqual(pages.flat(), native);
      const doc = assertMany(await alice.get('/v1/users?filter[q]=pag-&page[size]=2', ACCEPT), 200);
      const next = new URL(String(doc.links?.next));
      assert.equal(next.searchParams.get('page[size]'), '2');
      assert.equal(next.searchParams.get('filter[q]'), 'pag-');
      assert.equal(doc.links?.prev, null);
    });

    it('pages members and chats the same way', async () => {
      for (const name of ['pag-m1', 'pag-m2']) {
        await t.login(name);
        await alice.post(`/v1/chats/${chat.id}/members`, { userId: name });
      }
      const members = await follow(alice, `/v1/chats/${chat.id}/members?page[size]=2`);
      assert.deepEqual(
        members.flat(),
        ['pag-alice', 'pag-m1', 'pag-m2'].map((u) => `${chat.id}:${u}`),
      );
      await createGroup(alice, [], { name: 'pag-chat-2' });
      const chats = await follow(alice, '/v1/chats?page[size]=1');
      assert.deepEqual(
        chats.flat(),
        (await alice.get('/v1/chats')).body.data.map((c) => c.id),
      );
    });

    it('pages message history by seq both ways: next goes further, prev comes back', async () => {
      const seqs = (doc: { data: Resource[] }) => doc.data.map((m) => m.attributes?.seq);
      const get = async (url: string | null | undefined) =>
        assertMany(await alice.get(String(url).replace(/^https?:\/\/[^/]+/, ''), ACCEPT), 200);
      const latest = await get(`/v1/chats/${chat.id}/messages?page[size]=3`);
      assert.deepEqual(seqs(latest), [5, 6, 7]);
      assert.equal(latest.links?.prev, null);
      const older = await get(latest.links?.next);
      assert.deepEqual(seqs(older), [2, 3, 4]);
      const oldest = await get(older.links?.next);
      assert.deepEqual(seqs(oldest), [1]);
      assert.equal(oldest.links?.next, null);
      assert.deepEqual(seqs(await get(older.links?.prev)), [5, 6, 7]);

      const forward = await get(`/v1/chats/${chat.id}/messages?page[size]=3&page[after]=2`);
      assert.deepEqual(seqs(forward), [3, 4, 5]);
      assert.deepEqual(seqs(await get(forward.links?.next)), [6, 7]);
      assert.deepEqual(seqs(await get(forward.links?.prev)), [1, 2]);
      const ranged = await get(`/v1/chats/${chat.id}/messages?page[size]=2&page[after]=1&page[before]=6`);
      assert.deepEqual(seqs(ranged), [2, 3]);
      assert.deepEqual(seqs(await get(ranged.links?.next)), [4, 5]);

      const native = await alice.get(`/v1/chats/${chat.id}/messages?limit=3`);
      const cursored = await get(
        `/v1/chats/${chat.id}/messages?page[size]=3&page[cursor]=${native.body.nextCursor}`,
      );
      assert.deepEqual(seqs(cursored), [2, 3, 4]);
      assert.deepEqual(seqs(await get(cursored.links?.next)), [1]);
    });

    it('refuses unsupported page, sort and filter parameters, and native spellings, naming them', async () => {
      const cases: [string, string, RegExp?][] = [
        ['/v1/users?page[number]=2', 'page[number]'],
        ['/v1/users?page[size]=0', 'page[size]', /^page\[size\]: /],
        ['/v1/users?page[size]=201', 'page[size]'],
        ['/v1/users?page[cursor]=garbage', 'page[cursor]', /^page\[cursor\]: /],
        ['/v1/users?limit=5', 'limit', /page\[size\]/],
        ['/v1/users?q=a', 'q', /filter\[q\]/],
        ['/v1/users?sort=-username', 'sort'],
        ['/v1/users?sort=createdAt', 'sort'],
        ['/v1/users?filter[status]=busy', 'filter[status]'],
        ['/v1/chats?filter[name]=x', 'filter[name]'],
        ['/v1/me?sort=username', 'sort'],
        ['/v1/me?page[size]=2', 'page[size]'],
        ['/v1/users?customThing=1', 'customThing'],
        [`/v1/chats/${chat.id}/messages?page[after]=1&page[cursor]=abc`, 'page[cursor]'],
        [`/v1/chats/${chat.id}/messages?page[after]=5&page[before]=3`, 'page[before]'],
        [`/v1/chats/${chat.id}/messages?page[after]=-1`, 'page[after]'],
      ];
      for (const [url, parameter, detail] of cases) {
        assertErrors(await alice.get(url, ACCEPT), 400, 'invalid_request', {
          parameter,
          ...(detail ? { detail } : {}),
        });
      }
    });
  });

  describe('request documents', () => {
    let alice: Client;
    before(async () => {
      alice = await t.login('req-alice');
      await t.login('req-bob');
    });

    it('refuses documents that are not resource documents, pointing at the problem', async () => {
      const post = (body: unknown) => {
        assert.ok(!isValidRequest('create', body), `${JSON.stringify(body)} is not a valid document either`);
        return alice.post('/v1/chats', body, SEND);
      };
      assertErrors(await post({}), 400, 'invalid_request', { pointer: '/data' });
      assertErrors(await post({ data: [] }), 400, 'invalid_request', { pointer: '/data' });
      assertErrors(await post({ data: { attributes: { kind: 'group' } } }), 400, 'invalid_request', {
        pointer: '/data/type',
      });
      assertErrors(await post({ data: { type: 'chats' }, extra: 1 }), 400, 'invalid_request', {
        pointer: '/extra',
      });
      assertErrors(
        await post({ data: { type: 'chats', relationships: { members: { data: [{ type: 'users' }] } } } }),
        400,
        'invalid_request',
        { pointer: '/data/relationships/members/data' },
      );
      const invalidJson = await t.request('POST', '/v1/chats', '{"data":', {
        authorization: `Bearer ${alice.token}`,
        ...SEND,
      });
      assertErrors(invalidJson, 400, 'invalid_request');
      const empty = await t.request('POST', '/v1/chats', '', {
        authorization: `Bearer ${alice.token}`,
        ...SEND,
      });
      assertErrors(empty, 400, 'invalid_request');
    });

    it('points attribute and relationship problems at the member at fault', async () => {
      const create = (data: unknown) => send(t, alice, 'POST', '/v1/chats', 'create', { data });
      assertErrors(
        await create({ type: 'chats', attributes: { kind: 'group', name: 7 } }),
        400,
        'invalid_request',
        {
          pointer: '/data/attributes/name',
          detail: /^name: must be string/,
        },
      );
      assertErrors(await create({ type: 'chats', attributes: { kind: 'group' } }), 400, 'invalid_request', {
        pointer: '/data/attributes/name',
      });
      assertErrors(
        await create({ type: 'chats', attributes: { kind: 'group', name: 'req-x', bogus: 1 } }),
        400,
        'invalid_request',
        {
          pointer: '/data/attributes/bogus',
        },
      );
      assertErrors(
        await create({
          type: 'chats',
          attributes: { kind: 'group', name: 'req-y' },
          relationships: {
            members: {
              data: [
                { type: 'users', id: 'req-bob' },
                { type: 'users', id: 'req-ghost' },
              ],
            },
          },
        }),
        400,
        'invalid_request',
        { pointer: '/data/relationships/members/data/1', detail: /^members\[1\]: no user/ },
      );
      assertErrors(
        await create({
          type: 'chats',
          attributes: { kind: 'group', name: 'req-z' },
          relationships: { members: { data: [{ type: 'chats', id: 'req-bob' }] } },
        }),
        400,
        'invalid_request',
        { pointer: '/data/relationships/members/data/0/type' },
      );
      assertErrors(
        await create({
          type: 'chats',
          attributes: { kind: 'group', name: 'req-w' },
          relationships: { members: { data: { type: 'users', id: 'req-bob' } } },
        }),
        400,
        'invalid_request',
        { pointer: '/data/relationships/members/data' },
      );
      assertErrors(
        await create({
          type: 'chats',
          attributes: { kind: 'group', name: 'req-v' },
          relationships: { planets: { data: null } },
        }),
        400,
        'invalid_request',
        { pointer: '/data/relationships/planets' },
      );
      assertErrors(
        await create({ type: 'chats', attributes: { kind: 'group', name: 'req-u', createdBy: 'req-bob' } }),
        400,
        'invalid_request',
        { pointer: '/data/attributes/createdBy' },
      );
      assertErrors(
        await create({ type: 'chats', id: 'mine', attributes: { kind: 'group', name: 'req-t' } }),
        403,
        'forbidden',
        {
          pointer: '/data/id',
        },
      );
      await create({ type: 'chats', attributes: { kind: 'group', name: 'req-taken' } });
      assertErrors(
        await create({ type: 'chats', attributes: { kind: 'group', name: 'REQ-TAKEN' } }),
        409,
        'conflict',
        {
          pointer: '/data/attributes/name',
        },
      );
    });

    it('points native body problems at the native field when the body is plain JSON', async () => {
      const res = await alice.post(
        '/v1/chats',
        { kind: 'group', name: 'req-n', members: ['req-bob', 'req-none'] },
        ACCEPT,
      );
      assertErrors(res, 400, 'invalid_request', { pointer: '/members/1', detail: /^members\[1\]: / });
      const extra = await alice.post('/v1/chats', { kind: 'group', name: 'req-m', colour: 'red' }, ACCEPT);
      assertErrors(extra, 400, 'invalid_request', { pointer: '/colour' });
    });
  });

  describe('relationship endpoints', () => {
    let owner: Client;
    let member: Client;
    let chat: ChatView;
    const url = () => `/v1/chats/${chat.id}/relationships/members`;
    const users = (...names: string[]) => ({ data: names.map((id) => ({ type: 'users', id })) });
    const memberCount = async () => (await owner.get(`/v1/chats/${chat.id}`)).body.memberCount;

    before(async () => {
      owner = await t.login('rel-owner');
      member = await t.login('rel-member');
      for (const name of ['rel-carol', 'rel-dave', 'rel-erin']) {
        await t.login(name);
      }
      chat = await createGroup(owner, [member], { name: 'rel-chat', visibility: 'public' });
    });

    it('GET: the members as user identifiers, page by page, without an Accept header too', async () => {
      const doc = assertDocument(await owner.get(url()), 200);
      assert.deepEqual(doc.data, [
        { type: 'users', id: 'rel-member' },
        { type: 'users', id: 'rel-owner' },
      ]);
      assert.equal(doc.links?.next, null);
      const page = assertMany(await owner.get(`${url()}?page[size]=1`, ACCEPT), 200);
      assert.deepEqual(ids(page.data), ['rel-member']);
      const rest = assertMany(
        await owner.get(String(page.links?.next).replace(/^https?:\/\/[^/]+/, ''), ACCEPT),
        200,
      );
      assert.deepEqual(ids(rest.data), ['rel-owner']);
      assertErrors(await owner.get(`${url()}?include=members`, ACCEPT), 400, 'invalid_request', {
        parameter: 'include',
      });
    });

    it('POST adds users (all or none), leaving those already in as they are → 204', async () => {
      const add = await send(
        t,
        owner,
        'POST',
        url(),
        'relationship',
        users('rel-carol', 'rel-dave', 'rel-member'),
      );
      assert.equal(add.status, 204);
      assert.equal(await memberCount(), 4);
      assert.equal((await owner.get(`/v1/chats/${chat.id}/members/rel-carol`)).body.role, 'member');
      assert.equal((await send(t, owner, 'POST', url(), 'relationship', users('rel-carol'))).status, 204);
      assert.equal(await memberCount(), 4);

      const ghost = await send(t, owner, 'POST', url(), 'relationship', users('rel-erin', 'rel-ghost'));
      assertErrors(ghost, 400, 'invalid_request', { pointer: '/data/1/id' });
      assert.equal(await memberCount(), 4, 'rel-erin was not added either');
      assertErrors(await send(t, member, 'POST', url(), 'relationship', users('rel-erin')), 403, 'forbidden');
      assertErrors(
        await send(t, owner, 'POST', url(), 'relationship', { data: [{ type: 'chats', id: 'rel-erin' }] }),
        400,
        'invalid_request',
        { pointer: '/data/0/type' },
      );
      const joiner = await t.login('rel-joiner');
      assert.equal((await send(t, joiner, 'POST', url(), 'relationship', users('rel-joiner'))).status, 204);
      assert.equal((await joiner.get(`/v1/chats/${chat.id}`)).status, 200);
    });

    it('DELETE removes users (those not in are passed over); PATCH (replace all) is forbidden', async () => {
      const res = await send(
        t,
        owner,
        'DELETE',
        url(),
        'relationship',
        users('rel-dave', 'rel-erin', 'rel-joiner'),
      );
      assert.equal(res.status, 204);
      assert.equal((await owner.get(`/v1/chats/${chat.id}/members/rel-dave`)).status, 404);
      assert.equal(await memberCount(), 3);
      assertErrors(
        await send(t, member, 'DELETE', url(), 'relationship', users('rel-carol')),
        403,
        'forbidden',
      );
      assertErrors(
        await send(t, owner, 'PATCH', url(), 'relationship', users('rel-owner')),
        403,
        'forbidden',
      );
      const stranger = await t.login('rel-stranger');
      assertErrors(
        await send(t, stranger, 'DELETE', url(), 'relationship', users('rel-carol')),
        404,
        'not_found',
      );
      assertErrors(await send(t, stranger, 'POST', url(), 'relationship', users()), 404, 'not_found');
      assertErrors(await send(t, stranger, 'DELETE', url(), 'relationship', users()), 404, 'not_found');
      // Replacing is refused to members; to anyone else the chat does not exist.
      assertErrors(
        await send(t, stranger, 'PATCH', url(), 'relationship', users('rel-stranger')),
        404,
        'not_found',
      );
      assert.equal(await memberCount(), 3);
    });

    it('answers every relationship and related link a document shows', async () => {
      const [first] = await sendMessages(owner, chat.id, 1, 'rel-first');
      assert.ok(first);
      const replyBody = {
        data: {
          type: 'messages',
          attributes: { text: 'rel-reply' },
          relationships: { replyTo: { data: { type: 'messages', id: first.id } } },
        },
      };
      const reply = assertOne(
        await send(t, member, 'POST', `/v1/chats/${chat.id}/messages`, 'create', replyBody),
        201,
      );
      const docs = [
        reply,
        assertOne(await owner.get(`/v1/chats/${chat.id}`, ACCEPT), 200),
        assertOne(await owner.get(`/v1/chats/${chat.id}/members/rel-member`, ACCEPT), 200),
      ];
      let followed = 0;
      for (const doc of docs) {
        const resource = doc.data;
        const own = assertOne(
          await owner.get(String(resource.links?.self).replace(/^https?:\/\/[^/]+/, ''), ACCEPT),
          200,
        );
        assert.deepEqual(ref(own.data), ref(resource));
        for (const [name, relationship] of Object.entries(resource.relationships ?? {})) {
          const linkage = assertDocument(
            await owner.get(String(relationship.links?.self).replace(/^https?:\/\/[^/]+/, '')),
            200,
          );
          if (relationship.data !== undefined) {
            assert.deepEqual(linkage.data, relationship.data, name);
          }
          if (relationship.links?.related) {
            const related = assertOne(
              await owner.get(relationship.links?.related.replace(/^https?:\/\/[^/]+/, ''), ACCEPT),
              200,
            );
            assert.deepEqual(ref(related.data), relationship.data, name);
          }
          followed++;
        }
      }
      assert.equal(followed, 8);
      assertErrors(await owner.get(`/v1/chats/${chat.id}/relationships/planets`, ACCEPT), 404, 'not_found');
      assertErrors(
        await owner.get(`/v1/chats/${chat.id}/relationships/constructor`, ACCEPT),
        404,
        'not_found',
      );
      const stranger = await t.login('rel-stranger-2');
      assertErrors(
        await stranger.get(`/v1/chats/${chat.id}/relationships/creator`, ACCEPT),
        404,
        'not_found',
      );
    });
  });

  describe('a JSON:API client library (jsona)', () => {
    it('round-trips: requests serialized by jsona, responses deserialized by jsona', async () => {
      const jsona = new Jsona();
      const alice = await t.login('jsona-alice', { name: 'Alice' });
      await t.login('jsona-bob', { name: 'Bob' });

      const createChat = jsona.serialize({
        stuff: {
          type: 'chats',
          kind: 'group',
          name: 'jsona-chat',
          topic: 'round trips',
          members: [{ type: 'users', id: 'jsona-bob' }],
          relationshipNames: ['members'],
        },
      });
      const created = await send(t, alice, 'POST', '/v1/chats?include=members', 'create', createChat);
      const chat = jsona.deserialize(assertDocument(created, 201)) as JsonaChat;
      assert.equal(chat.type, 'chats');
      assert.equal(chat.name, 'jsona-chat');
      assert.equal(chat.role, 'owner');
      assert.deepEqual(chat.members.map((u) => u.displayName).sort(), ['Alice', 'Bob']);

      const first = jsona.deserialize(
        assertDocument(
          await send(
            t,
            alice,
            'POST',
            `/v1/chats/${chat.id}/messages`,
            'create',
            jsona.serialize({ stuff: { type: 'messages', text: 'hello' } }),
          ),
          201,
        ),
      ) as JsonaMessage;
      const reply = jsona.serialize({
        stuff: {
          type: 'messages',
          text: 'hi back',
          replyTo: { type: 'messages', id: first.id },
          relationshipNames: ['replyTo'],
        },
      });
      const bob = await t.as('jsona-bob');
      assertDocument(await send(t, bob, 'POST', `/v1/chats/${chat.id}/messages`, 'create', reply), 201);

      const page = await alice.get(`/v1/chats/${chat.id}/messages?include=author,replyTo.author`, ACCEPT);
      const messages = jsona.deserialize(assertDocument(page, 200)) as JsonaMessage[];
      assert.deepEqual(
        messages.map((m) => m.text),
        ['hello', 'hi back'],
      );
      assert.equal(messages[1]?.author.displayName, 'Bob');
      assert.equal(messages[1].replyTo?.text, 'hello');
      assert.equal(messages[1].replyTo.author.displayName, 'Alice');

      const rename = jsona.serialize({ stuff: { type: 'chats', id: chat.id, topic: 'renamed by jsona' } });
      const updated = jsona.deserialize(
        assertDocument(await send(t, alice, 'PATCH', `/v1/chats/${chat.id}`, 'update', rename), 200),
      ) as JsonaChat;
      assert.equal(updated.topic, 'renamed by jsona');
      assert.equal((await alice.get(`/v1/chats/${chat.id}`)).body.topic, 'renamed by jsona');
    });
  });

  describe('search', () => {
    it('GET /v1/search/messages: hits as messages with highlight and rank in meta, filters and sort', async () => {
      const alice = await t.login('srch-alice');
      const chat = await createGroup(alice, [], { name: 'srch-chat' });
      await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'the zebrafish swims' });
      await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'nothing to see' });
      const native = await alice.get(`/v1/search/messages?q=zebrafish&chatId=${chat.id}`);
      assert.equal(native.status, 200, JSON.stringify(native.body));
      const doc = assertMany(
        await alice.get(
          `/v1/search/messages?filter[q]=zebrafish&filter[chatId]=${chat.id}&include=author`,
          ACCEPT,
        ),
        200,
      );
      assert.deepEqual(
        ids(doc.data),
        native.body.data.map((hit) => hit.message.id),
      );
      assert.deepEqual(doc.data[0]?.meta, {
        highlight: native.body.data[0]?.highlight,
        rank: native.body.data[0]?.rank,
      });
      assert.deepEqual(
        messageView(resource(doc.data[0])),
        withoutKeys(native.body.data[0]?.message ?? {}, 'replyTo'),
      );
      assert.deepEqual(ids(doc.included ?? []), ['srch-alice']);
      const recent = await alice.get(`/v1/search/messages?filter[q]=zebrafish&sort=-createdAt`, ACCEPT);
      assert.equal(assertMany(recent, 200).data.length, 1);
      assertErrors(
        await alice.get('/v1/search/messages?filter[q]=x&sort=recent', ACCEPT),
        400,
        'invalid_request',
        {
          parameter: 'sort',
        },
      );
      assertErrors(await alice.get('/v1/search/messages', ACCEPT), 400, 'invalid_request', {
        parameter: 'filter[q]',
      });
    });
  });

  describe('coverage', () => {
    it('gives every native /v1 route of the OpenAPI document a JSON:API face', async () => {
      const spec = (await t.request<OpenApiPaths>('GET', '/openapi.json')).body;
      const native: string[] = [];
      for (const [path, operations] of Object.entries(spec.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          // The stream (WebSocket and Server-Sent Events) is not a resource: it has no JSON:API face.
          const resource = !operation.tags?.includes('jsonapi') && !operation.tags?.includes('stream');
          if (path.startsWith('/v1/') && resource) {
            native.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
          }
        }
      }
      assert.ok(native.length >= 22);
      const missing = native.filter((route) => !(route in NATIVE_ROUTES));
      assert.deepEqual(missing, [], `routes without a JSON:API face: ${missing.join(', ')}`);
    });
  });
});
