import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type Client, type TestApp } from './support/app.ts';
import { assertValidResponse, JSONAPI } from './support/jsonapi.ts';
import {
  answer,
  dataFingerprint,
  errorBodyProblem,
  registeredRoutes,
  STREAMING,
  type Answer,
  type RegisteredRoute,
} from './support/routes.ts';
import { png, upload } from './support/files.ts';
import { documentedStatuses } from './support/openapi.ts';
import { refusedTokens } from './support/tokens.ts';

/**
 * The authorization matrix: every /v1 route the app registers × every kind of caller, native and JSON:API.
 * Each cell asserts the documented status; a refused request must answer the standard error body, carry none of
 * the data planted in the resources (chat name, topic, message text, user ids and names) and change no row.
 */

const TOKEN_PROBLEMS = ['none', 'badSignature', 'expired', 'wrongIssuer', 'algNone'] as const;
/** Valid tokens: the same sub as the owner in another tenant (an admin there), a tenant admin outside the chat,
 * a user of the tenant outside the chat, and the chat's plain member, the message's author, an admin, the owner. */
const VALID = ['otherTenant', 'tenantAdmin', 'nonMember', 'member', 'author', 'admin', 'owner'] as const;
const CALLERS = [...TOKEN_PROBLEMS, ...VALID] as const;
type ValidCaller = (typeof VALID)[number];
type Caller = (typeof CALLERS)[number];
type Row = Record<ValidCaller, number>;

/** The same status for every valid caller. */
const everyone = (status: number): Row => ({
  otherTenant: status,
  tenantAdmin: status,
  nonMember: status,
  member: status,
  author: status,
  admin: status,
  owner: status,
});

/** A chat route: 404 for everyone who cannot see the chat (never 403), then by role within it. */
const inChat = (member: number, author: number, admin: number, owner: number): Row => ({
  otherTenant: 404,
  tenantAdmin: 404,
  nonMember: 404,
  member,
  author,
  admin,
  owner,
});

const RUN = randomBytes(3).toString('hex');
/** Planted in user ids and names: unique enough that finding one in a body cannot be chance. */
const userId = (role: string) => `zq${RUN}${role}`;

interface Scenario {
  chatId: string;
  messageId: string;
  seq: number;
  /** The file sent with the message. */
  fileId: string;
  /** The chat's name and topic, and the message's text. */
  markers: string[];
}

interface Identity {
  userId: string;
  token: string;
}

type Visibility = 'private' | 'public';

interface Probe {
  /** The chat's visibility (default private). */
  visibility?: Visibility;
  /** Told apart in failure messages when a route has more than one. */
  label?: string;
  /** Path parameters other than the defaults (`id` the chat, `userId` the target member, `seq` the message). */
  params?: (s: Scenario) => Record<string, string>;
  /** The query string; `{chat}` in it stands for the chat's id. */
  query?: string;
  /** The same in JSON:API's spelling, where it differs. */
  jsonapiQuery?: string;
  /** Only these callers (default: every one). */
  only?: readonly Caller[];
  /** The native JSON body. */
  body?: (s: Scenario, caller: Identity) => unknown;
  /** The same as a JSON:API resource document (the relationship endpoints take theirs in both runs). */
  document?: (s: Scenario, caller: Identity) => unknown;
  expect: Row;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}-${RUN}-${++counter}`;

const TARGET = userId('target');
const NEWCOMER = userId('newcomer');
/** Words every planted message has, to search for without naming a marker in the request. */
const SEARCH_WORD = `alpha${RUN}`;

/**
 * The table: what each route answers each valid caller (token problems are 401 everywhere). The test fails when
 * the app has a route this table lacks, or the table a route the app lacks.
 */
const MATRIX: Record<string, Probe[]> = {
  'GET /v1/me': [{ expect: everyone(200) }],
  'PATCH /v1/me': [
    {
      body: () => ({ statusText: unique('status') }),
      document: (_s, caller) => ({
        data: { type: 'users', id: caller.userId, attributes: { statusText: unique('status') } },
      }),
      expect: everyone(200),
    },
  ],
  'POST /v1/users': [
    {
      body: () => ({ username: unique('made') }),
      document: () => ({ data: { type: 'users', attributes: { username: unique('made') } } }),
      // Tenant administrators only (the other tenant's caller is one, in its own tenant); chat roles do not count.
      expect: { ...everyone(403), otherTenant: 201, tenantAdmin: 201 },
    },
  ],
  'GET /v1/users': [{ expect: everyone(200) }],
  'GET /v1/users/:id': [{ params: () => ({ id: TARGET }), expect: { ...everyone(200), otherTenant: 404 } }],
  // Deleting: a user nobody has, so that no cell deletes a caller the next ones need (test/users-delete.test.ts
  // deletes for real). Access first: 403 for whoever is neither the user nor a tenant administrator.
  'DELETE /v1/users/:id': [
    {
      params: () => ({ id: userId('nobody') }),
      expect: { ...everyone(403), tenantAdmin: 404, otherTenant: 404 },
    },
  ],
  // Every valid caller may delete themself (test/users-delete.test.ts); here only the refused tokens.
  'DELETE /v1/me': [{ only: TOKEN_PROBLEMS, expect: everyone(204) }],
  'POST /v1/chats': [
    {
      body: () => ({ kind: 'group', name: unique('created') }),
      document: () => ({ data: { type: 'chats', attributes: { kind: 'group', name: unique('created') } } }),
      expect: everyone(201),
    },
  ],
  'GET /v1/chats': [{ expect: everyone(200) }],
  'GET /v1/chats/:id': [
    { expect: inChat(200, 200, 200, 200) },
    // Anyone may join a public group, but until then it is as invisible as a private one.
    { label: 'public group', visibility: 'public', expect: inChat(200, 200, 200, 200) },
  ],
  'PATCH /v1/chats/:id': [
    {
      body: () => ({ topic: unique('topic') }),
      document: (s) => ({ data: { type: 'chats', id: s.chatId, attributes: { topic: unique('topic') } } }),
      expect: inChat(403, 403, 200, 200),
    },
  ],
  'DELETE /v1/chats/:id': [{ expect: inChat(403, 403, 403, 204) }],
  // Every member has their own settings of the chat; nobody sees or changes another's.
  'GET /v1/chats/:id/settings': [{ expect: inChat(200, 200, 200, 200) }],
  'PATCH /v1/chats/:id/settings': [
    {
      body: () => ({ muted: true }),
      document: (s) => ({ data: { type: 'chats', id: s.chatId, attributes: { settings: { muted: true } } } }),
      expect: inChat(200, 200, 200, 200),
    },
  ],
  'GET /v1/chats/:id/members': [{ expect: inChat(200, 200, 200, 200) }],
  'POST /v1/chats/:id/members': [
    {
      body: () => ({ userId: NEWCOMER }),
      document: () => ({
        data: { type: 'members', relationships: { user: { data: { type: 'users', id: NEWCOMER } } } },
      }),
      expect: inChat(403, 403, 201, 201),
    },
    {
      label: 'public group, joining oneself',
      visibility: 'public',
      body: (_s, caller) => ({ userId: caller.userId }),
      document: (_s, caller) => ({
        data: { type: 'members', relationships: { user: { data: { type: 'users', id: caller.userId } } } },
      }),
      // Members are in already; another tenant's caller never sees the group.
      expect: { ...inChat(409, 409, 409, 409), tenantAdmin: 201, nonMember: 201 },
    },
  ],
  'GET /v1/chats/:id/members/:userId': [{ expect: inChat(200, 200, 200, 200) }],
  'PATCH /v1/chats/:id/members/:userId': [
    {
      body: () => ({ role: 'admin' }),
      document: (s) => ({
        data: { type: 'members', id: `${s.chatId}:${TARGET}`, attributes: { role: 'admin' } },
      }),
      expect: inChat(403, 403, 403, 200),
    },
  ],
  // The target is a plain member: admins may remove it, plain members may not (leaving oneself is another test).
  'DELETE /v1/chats/:id/members/:userId': [{ expect: inChat(403, 403, 204, 204) }],
  'POST /v1/chats/:id/messages': [
    {
      body: () => ({ text: unique('sent') }),
      document: () => ({ data: { type: 'messages', attributes: { text: unique('sent') } } }),
      expect: inChat(201, 201, 201, 201),
    },
    {
      label: 'a thread reply',
      body: (sc) => ({ text: unique('replied'), threadRoot: sc.seq }),
      document: (sc) => ({
        data: { type: 'messages', attributes: { text: unique('replied'), threadRoot: sc.seq } },
      }),
      expect: inChat(201, 201, 201, 201),
    },
  ],
  'GET /v1/chats/:id/messages': [{ expect: inChat(200, 200, 200, 200) }],
  'GET /v1/chats/:id/messages/:seq': [{ expect: inChat(200, 200, 200, 200) }],
  'PATCH /v1/chats/:id/messages/:seq': [
    {
      body: () => ({ text: unique('edited') }),
      document: (s) => ({
        data: { type: 'messages', id: s.messageId, attributes: { text: unique('edited') } },
      }),
      expect: inChat(403, 200, 403, 403),
    },
  ],
  'DELETE /v1/chats/:id/messages/:seq': [{ expect: inChat(403, 204, 204, 204) }],
  // A new emoji each time: every member's first reaction with it is a 201.
  'PUT /v1/chats/:id/messages/:seq/reactions/:emoji': [
    { params: () => ({ emoji: unique(':r') }), expect: inChat(201, 201, 201, 201) },
  ],
  'DELETE /v1/chats/:id/messages/:seq/reactions/:emoji': [
    { params: () => ({ emoji: unique(':r') }), expect: inChat(204, 204, 204, 204) },
  ],
  'GET /v1/chats/:id/messages/:seq/reactions/:emoji/users': [
    { params: () => ({ emoji: ':r:' }), expect: inChat(200, 200, 200, 200) },
  ],
  // A group's owners and admins pin; a fresh message is not pinned, so unpinning it is a 204 that changes nothing.
  'PUT /v1/chats/:id/messages/:seq/pin': [{ expect: inChat(403, 403, 201, 201) }],
  'DELETE /v1/chats/:id/messages/:seq/pin': [{ expect: inChat(403, 403, 204, 204) }],
  'GET /v1/chats/:id/pins': [{ expect: inChat(200, 200, 200, 200) }],
  // A member is told the body is not multipart (415); anyone else that there is no such chat. Uploads for real:
  // test/files.test.ts.
  'POST /v1/chats/:id/files': [
    {
      body: () => ({}),
      document: () => ({ data: { type: 'files', attributes: {} } }),
      expect: inChat(415, 415, 415, 415),
    },
  ],
  'GET /v1/files/:id': [{ params: (s) => ({ id: s.fileId }), expect: inChat(200, 200, 200, 200) }],
  'GET /v1/chats/:id/messages/:seq/receipts': [{ expect: inChat(200, 200, 200, 200) }],
  'GET /v1/chats/:id/messages/:seq/thread': [{ expect: inChat(200, 200, 200, 200) }],
  'POST /v1/chats/:id/messages/:seq/thread/read': [
    {
      body: (sc) => ({ seq: sc.seq }),
      document: (sc) => ({ data: { type: 'messages', id: sc.messageId, attributes: { seq: sc.seq } } }),
      expect: inChat(200, 200, 200, 200),
    },
  ],
  'POST /v1/chats/:id/read': [
    {
      body: () => ({ seq: 1 }),
      document: (s) => ({ data: { type: 'chats', id: s.chatId, attributes: { lastReadSeq: 1 } } }),
      expect: inChat(200, 200, 200, 200),
    },
  ],
  'GET /v1/unread': [{ expect: everyone(200) }],
  'GET /v1/search/messages': [
    {
      label: 'all chats',
      query: `?q=${SEARCH_WORD}`,
      jsonapiQuery: `?filter[q]=${SEARCH_WORD}`,
      expect: everyone(200),
    },
    {
      label: 'one chat',
      query: `?q=${SEARCH_WORD}&chatId={chat}`,
      jsonapiQuery: `?filter[q]=${SEARCH_WORD}&filter[chatId]={chat}`,
      expect: inChat(200, 200, 200, 200),
    },
  ],
  'GET /v1/chats/:id/relationships/members': [{ expect: inChat(200, 200, 200, 200) }],
  'POST /v1/chats/:id/relationships/members': [
    {
      body: () => ({ data: [{ type: 'users', id: NEWCOMER }] }),
      expect: inChat(403, 403, 204, 204),
    },
  ],
  'DELETE /v1/chats/:id/relationships/members': [
    {
      body: () => ({ data: [{ type: 'users', id: TARGET }] }),
      expect: inChat(403, 403, 204, 204),
    },
  ],
  // Replacing all members is refused to everyone who can see the chat; to the others the chat does not exist.
  'PATCH /v1/chats/:id/relationships/members': [
    {
      body: () => ({ data: [{ type: 'users', id: NEWCOMER }] }),
      expect: inChat(403, 403, 403, 403),
    },
  ],
  'GET /v1/chats/:id/relationships/:name': [
    { label: 'lastMessage', params: () => ({ name: 'lastMessage' }), expect: inChat(200, 200, 200, 200) },
    { label: 'creator', params: () => ({ name: 'creator' }), expect: inChat(200, 200, 200, 200) },
  ],
  'GET /v1/chats/:id/messages/:seq/relationships/:name': [
    { params: () => ({ name: 'author' }), expect: inChat(200, 200, 200, 200) },
  ],
  'GET /v1/chats/:id/members/:userId/relationships/:name': [
    { params: () => ({ name: 'user' }), expect: inChat(200, 200, 200, 200) },
  ],
  // Moderation (test/moderation.test.ts). Blocks are the caller's own: the target is blocked, looked up, unblocked.
  'GET /v1/me/blocks': [{ expect: everyone(200) }],
  'PUT /v1/me/blocks/:userId': [{ expect: { ...everyone(201), otherTenant: 404 } }],
  'GET /v1/me/blocks/:userId': [{ expect: { ...everyone(200), otherTenant: 404 } }],
  'DELETE /v1/me/blocks/:userId': [{ expect: everyone(204) }],
  // A chat's moderators: its owners and admins, and the tenant's administrators, in it or not. The target is a
  // plain member; looking a mute or ban up finds none (each write starts a fresh scenario).
  'POST /v1/chats/:id/members/:userId/mute': [
    {
      body: () => ({ reason: unique('why') }),
      document: () => ({ data: { type: 'mutes', attributes: { reason: unique('why') } } }),
      expect: { ...inChat(403, 403, 200, 200), tenantAdmin: 200 },
    },
  ],
  'GET /v1/chats/:id/members/:userId/mute': [{ expect: inChat(403, 403, 404, 404) }],
  'DELETE /v1/chats/:id/members/:userId/mute': [
    { expect: { ...inChat(403, 403, 204, 204), tenantAdmin: 204 } },
  ],
  'POST /v1/chats/:id/members/:userId/ban': [
    {
      body: () => ({ reason: unique('why') }),
      document: () => ({ data: { type: 'bans', attributes: { reason: unique('why') } } }),
      expect: { ...inChat(403, 403, 200, 200), tenantAdmin: 200 },
    },
  ],
  'GET /v1/chats/:id/members/:userId/ban': [{ expect: inChat(403, 403, 404, 404) }],
  'DELETE /v1/chats/:id/members/:userId/ban': [
    { expect: { ...inChat(403, 403, 204, 204), tenantAdmin: 204 } },
  ],
  'GET /v1/chats/:id/bans': [{ expect: { ...inChat(403, 403, 200, 200), tenantAdmin: 200 } }],
  'GET /v1/chats/:id/moderation-log': [{ expect: { ...inChat(403, 403, 200, 200), tenantAdmin: 200 } }],
  // Tenant administrators only (the other tenant's caller is one, in its own tenant).
  'GET /v1/moderation-log': [
    {
      query: '?chatId={chat}',
      jsonapiQuery: '?filter[chatId]={chat}',
      expect: { ...everyone(403), tenantAdmin: 200, otherTenant: 200 },
    },
  ],
  'GET /v1/moderation-log/:id': [{ params: () => ({ id: 'no-such-entry' }), expect: everyone(404) }],
  // Members report others' messages (message 1 is the author's own: 400).
  'POST /v1/chats/:id/messages/:seq/report': [
    {
      body: () => ({ reason: unique('report') }),
      document: () => ({ data: { type: 'reports', attributes: { reason: unique('report') } } }),
      expect: inChat(201, 400, 201, 201),
    },
  ],
  'GET /v1/reports': [
    {
      query: '?status=open&chatId={chat}',
      jsonapiQuery: '?filter[status]=open&filter[chatId]={chat}',
      expect: { ...everyone(403), tenantAdmin: 200, otherTenant: 200 },
    },
  ],
  'GET /v1/reports/:id': [
    {
      params: () => ({ id: 'no-such-report' }),
      expect: { ...everyone(403), tenantAdmin: 404, otherTenant: 404 },
    },
  ],
  'POST /v1/reports/:id/resolve': [
    {
      params: () => ({ id: 'no-such-report' }),
      body: () => ({ action: 'dismiss' }),
      document: () => ({
        data: { type: 'reports', id: 'no-such-report', attributes: { action: 'dismiss' } },
      }),
      expect: { ...everyone(403), tenantAdmin: 404, otherTenant: 404 },
    },
  ],
  // Webhook subscriptions (docs/webhooks.md): tenant administrators only; another tenant's are never seen.
  'POST /v1/webhooks': [
    {
      body: () => ({ url: 'https://example.com/hook', enabled: false, description: unique('hook') }),
      document: () => ({
        data: {
          type: 'webhooks',
          attributes: { url: 'https://example.com/hook', enabled: false, description: unique('hook') },
        },
      }),
      expect: { ...everyone(403), tenantAdmin: 201, otherTenant: 201 },
    },
  ],
  'GET /v1/webhooks': [{ expect: { ...everyone(403), tenantAdmin: 200, otherTenant: 200 } }],
  'GET /v1/webhooks/:id': [
    {
      params: () => ({ id: 'no-such-webhook' }),
      expect: { ...everyone(403), tenantAdmin: 404, otherTenant: 404 },
    },
  ],
  'PATCH /v1/webhooks/:id': [
    {
      params: () => ({ id: 'no-such-webhook' }),
      body: () => ({ enabled: true }),
      document: () => ({ data: { type: 'webhooks', id: 'no-such-webhook', attributes: { enabled: true } } }),
      expect: { ...everyone(403), tenantAdmin: 404, otherTenant: 404 },
    },
  ],
  'DELETE /v1/webhooks/:id': [
    {
      params: () => ({ id: 'no-such-webhook' }),
      expect: { ...everyone(403), tenantAdmin: 404, otherTenant: 404 },
    },
  ],
  'GET /v1/webhooks/:id/deliveries': [
    {
      params: () => ({ id: 'no-such-webhook' }),
      expect: { ...everyone(403), tenantAdmin: 404, otherTenant: 404 },
    },
  ],
  'GET /v1/webhooks/:id/deliveries/:deliveryId': [
    {
      params: () => ({ id: 'no-such-webhook', deliveryId: '1' }),
      expect: { ...everyone(403), tenantAdmin: 404, otherTenant: 404 },
    },
  ],
  'POST /v1/webhooks/:id/deliveries/:deliveryId/redeliver': [
    {
      params: () => ({ id: 'no-such-webhook', deliveryId: '1' }),
      expect: { ...everyone(403), tenantAdmin: 404, otherTenant: 404 },
    },
  ],
  // The real-time stream: any valid caller may open one (what it then receives is the realtime suites' concern).
  // A plain HTTP request to the WebSocket endpoint is told to upgrade.
  'GET /v1/stream': [{ expect: everyone(426) }],
  'GET /v1/events': [{ expect: everyone(200) }],
};

/**
 * Outside /v1, only these are served, to anyone: health, the API's description, the demo page (outside production,
 * or with PARLEY_DEMO) and the development token endpoint it signs in with (never in production: test/demo.test.ts).
 * `/metrics` guards itself (a token, or private addresses only: test/metrics.test.ts).
 */
const PUBLIC = [
  /^\/health\//,
  /^\/openapi\.json$/,
  /^\/asyncapi\.json$/,
  /^\/explorer$/,
  /^\/docs(\/|$)/,
  /^\/$/,
  /^\/demo\//,
  /^\/dev\/token$/,
  /^\/metrics$/,
  // Downloads through signed links: the signature is the capability (test/files.test.ts).
  /^\/files\//,
];

/** The routes under test: /v1, a HEAD route expected to answer as its GET does. */
function tableKey(route: RegisteredRoute): string {
  return route.method === 'HEAD' ? `GET ${route.url}` : route.key;
}

describe('authorization matrix', () => {
  let t: TestApp;
  let routes: RegisteredRoute[];
  let statuses: Awaited<ReturnType<typeof documentedStatuses>>;
  const actors = new Map<ValidCaller, Client>();
  const badTokens = new Map<Caller, string>();
  /** Every user id and name planted in the tenant, and each caller's own. */
  const userMarkers: string[] = [];
  const ownMarkers = new Map<ValidCaller, string[]>();
  /** The scenario each kind of chat is tested on, until a request changes it. */
  const current = new Map<Visibility, Scenario>();
  /** The data as the last refusal (or the newest scenario) left them; null when a request has succeeded since. */
  let fingerprint: Record<string, string> | null = null;
  let scenarios = 0;

  before(async () => {
    t = await createTestApp({ PARLEY_PRESENCE_TTL_MS: '3600000' });
    routes = await registeredRoutes(t);
    statuses = await documentedStatuses(t);
    const login = async (role: string, options: { admin?: boolean } = {}) => {
      const id = userId(role);
      const markers = [id, `${id}-name`, `Zq ${RUN} ${role}`];
      userMarkers.push(...markers);
      ownMarkers.set(role as ValidCaller, markers);
      return t.login(id, { username: markers[1], name: markers[2], ...options });
    };
    for (const role of ['owner', 'admin', 'member', 'author', 'target', 'newcomer', 'nonMember']) {
      const client = await login(role);
      if (VALID.includes(role as ValidCaller)) {
        actors.set(role as ValidCaller, client);
      }
    }
    actors.set('tenantAdmin', await login('tenantAdmin', { admin: true }));
    // The owner's own sub, as an administrator of another tenant: the wall is the tenant, not the user id.
    actors.set('otherTenant', await t.login(userId('owner'), { tenant: 'elsewhere', admin: true }));
    ownMarkers.set('otherTenant', [userId('owner')]);
    for (const [name, token] of Object.entries(await refusedTokens(userId('member')))) {
      badTokens.set(name as Caller, token);
    }
  });

  after(async () => {
    await t?.close();
  });

  const actor = (caller: ValidCaller): Client => actors.get(caller)!;

  /** A group: owner, an admin, members (one the author of message 1), the target; marked everywhere. */
  async function freshScenario(visibility: Visibility): Promise<Scenario> {
    const mark = `zq${RUN}s${++scenarios}`;
    const owner = actor('owner');
    const chat = await owner.post('/v1/chats', {
      kind: 'group',
      name: `${mark}name`,
      topic: `${mark}topic`,
      visibility,
      members: [userId('admin'), userId('member'), userId('author'), TARGET],
    });
    assert.equal(chat.status, 201, JSON.stringify(chat.body));
    const promoted = await owner.patch(`/v1/chats/${chat.body.id}/members/${userId('admin')}`, {
      role: 'admin',
    });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    const file = await upload(t.app, actor('author').token, chat.body.id, png(4, 4));
    assert.equal(file.status, 201, JSON.stringify(file.body));
    const sent = await actor('author').post(`/v1/chats/${chat.body.id}/messages`, {
      text: `${mark}text ${SEARCH_WORD}`,
      attachments: [file.body.id],
    });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    return {
      chatId: chat.body.id,
      messageId: sent.body.id,
      seq: sent.body.seq,
      fileId: file.body.id,
      markers: [`${mark}name`, `${mark}topic`, `${mark}text`],
    };
  }

  async function scenarioFor(visibility: Visibility): Promise<Scenario> {
    let scenario = current.get(visibility);
    if (!scenario) {
      scenario = await freshScenario(visibility);
      current.set(visibility, scenario);
      fingerprint = null;
    }
    return scenario;
  }

  function urlOf(route: RegisteredRoute, probe: Probe, s: Scenario, jsonapi: boolean): string {
    const params: Record<string, string> = {
      id: s.chatId,
      userId: TARGET,
      seq: String(s.seq),
      ...probe.params?.(s),
    };
    const path = route.url.replace(/:(\w+)/g, (_, name: string) => {
      const value = params[name];
      assert.ok(value !== undefined, `${route.key}: no value for :${name}`);
      return encodeURIComponent(value);
    });
    const query = (jsonapi ? (probe.jsonapiQuery ?? probe.query) : probe.query) ?? '';
    return path + query.replace('{chat}', s.chatId);
  }

  /** Waits until the data stop changing: what a closed stream writes (presence) lands after its answer. */
  async function settle(): Promise<void> {
    let last = await dataFingerprint(t);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const now = await dataFingerprint(t);
      if (JSON.stringify(now) === JSON.stringify(last)) {
        return;
      }
      last = now;
    }
  }

  async function call(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: unknown,
  ): Promise<Answer> {
    const reply = await answer(t, {
      method,
      url,
      headers,
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    if (reply.status === 200 && STREAMING.has(url.split('?')[0]!)) {
      // The stream was dropped at once: let its bookkeeping (presence) finish before the next fingerprint.
      await settle();
    }
    return reply;
  }

  /** The standard error body, as JSON:API exactly when the route answers this client in JSON:API. */
  function checkErrorBody(reply: Answer, jsonapi: boolean): string | null {
    const problem = errorBodyProblem(reply);
    if (problem) {
      return problem;
    }
    if (jsonapi !== (reply.type === JSONAPI)) {
      return `an error as ${reply.type}, expected ${jsonapi ? 'JSON:API' : 'JSON'}`;
    }
    if (jsonapi) {
      assertValidResponse(JSON.parse(reply.raw));
    }
    return null;
  }

  /**
   * What a caller must not find in an answer: for a refusal, any planted data at all; for a caller who cannot see
   * the chat, the chat's data (and, across tenants, the tenant's users), whatever the status. What the request
   * itself says (an id in the URL) and the caller's own identity may come back.
   */
  function leaks(caller: Caller, answer: Answer, s: Scenario, request: string): string[] {
    const own = ownMarkers.get(caller as ValidCaller) ?? [];
    const chatData = [...s.markers, s.chatId, s.messageId];
    let secret: string[] = [];
    if (answer.status >= 400) {
      secret = [...chatData, ...userMarkers];
    } else if (caller === 'otherTenant') {
      secret = [...chatData, ...userMarkers];
    } else if (caller === 'tenantAdmin' || caller === 'nonMember') {
      secret = chatData;
    }
    return secret.filter(
      (marker) => !request.includes(marker) && !own.includes(marker) && answer.raw.includes(marker),
    );
  }

  function headersFor(caller: Caller, jsonapi: boolean, hasBody: boolean, onlyJsonApi: boolean) {
    const headers: Record<string, string> = {};
    if (caller !== 'none') {
      const token = badTokens.get(caller) ?? actor(caller as ValidCaller).token;
      headers.authorization = `Bearer ${token}`;
    }
    if (jsonapi) {
      headers.accept = JSONAPI;
    }
    if (hasBody) {
      headers['content-type'] = jsonapi || onlyJsonApi ? JSONAPI : 'application/json';
    }
    return headers;
  }

  async function runCell(
    route: RegisteredRoute,
    probe: Probe,
    caller: Caller,
    jsonapi: boolean,
  ): Promise<string[]> {
    const visibility = probe.visibility ?? 'private';
    const s = await scenarioFor(visibility);
    const onlyJsonApi = route.jsonapi?.only === true;
    const who = badTokens.has(caller) || caller === 'none' ? null : actor(caller as ValidCaller);
    const identity = who ?? actor('member');
    const body =
      jsonapi && probe.document
        ? probe.document(s, identity)
        : probe.body
          ? probe.body(s, identity)
          : undefined;
    const url = urlOf(route, probe, s, jsonapi);
    // What a refusal is compared with: read again only when a request has succeeded since it was last read.
    const before = (fingerprint ??= await dataFingerprint(t));
    const answer = await call(
      route.method,
      url,
      headersFor(caller, jsonapi, body !== undefined, onlyJsonApi),
      route.method === 'HEAD' ? undefined : body,
    );
    const expected = (TOKEN_PROBLEMS as readonly string[]).includes(caller)
      ? 401
      : probe.expect[caller as ValidCaller];
    const where = `${jsonapi ? 'JSON:API ' : ''}${route.method} ${url}${probe.label ? ` (${probe.label})` : ''} as ${caller}`;
    const problems: string[] = [];
    if (answer.status !== expected) {
      problems.push(`${where}: ${answer.status}, expected ${expected}: ${answer.raw.slice(0, 300)}`);
    }
    // Every status a route answers is in its operation's responses in /openapi.json (HEAD twins are not there).
    const documented = route.method === 'HEAD' ? null : statuses(route.method, route.url);
    if (route.method !== 'HEAD' && !documented?.has(answer.status)) {
      problems.push(
        `${where}: ${answer.status} is not among the documented ${[...(documented ?? [])].join(', ')}`,
      );
    }
    const found = leaks(caller, answer, s, url + JSON.stringify(body ?? ''));
    if (found.length > 0) {
      problems.push(`${where}: the answer (${answer.status}) carries ${found.join(', ')}`);
    }
    const answersJsonApi = route.jsonapi !== null && (jsonapi || onlyJsonApi);
    if (answer.status >= 400 && route.method !== 'HEAD') {
      const shape = checkErrorBody(answer, answersJsonApi);
      if (shape) {
        problems.push(`${where}: ${shape}`);
      }
    } else if (answer.status < 300 && answer.status !== 204 && answersJsonApi) {
      if (answer.type !== JSONAPI) {
        problems.push(`${where}: ${answer.status} with content-type ${answer.type}`);
      } else if (route.method !== 'HEAD') {
        assertValidResponse(JSON.parse(answer.raw));
      }
    }
    if (answer.status >= 400) {
      const now = await dataFingerprint(t);
      const changed = Object.keys(now).filter((table) => now[table] !== before[table]);
      if (changed.length > 0) {
        problems.push(`${where}: refused with ${answer.status} but changed ${changed.join(', ')}`);
      }
      fingerprint = now;
    } else {
      fingerprint = null;
      if (route.method !== 'GET' && route.method !== 'HEAD') {
        current.delete(visibility);
      }
    }
    return problems;
  }

  it('the table covers every /v1 route the app registers, and nothing else', () => {
    const v1 = routes.filter((route) => route.url.startsWith('/v1/'));
    const untested = [...new Set(v1.map(tableKey))].filter((key) => !(key in MATRIX));
    assert.deepEqual(untested, [], 'routes without a row in the matrix');
    const stale = Object.keys(MATRIX).filter((key) => !v1.some((route) => route.key === key));
    assert.deepEqual(stale, [], 'rows for routes the app does not have');
    const others = routes
      .filter((route) => !route.url.startsWith('/v1/'))
      .filter((route) => !PUBLIC.some((pattern) => pattern.test(route.url)));
    assert.deepEqual(
      others.map((route) => route.key),
      [],
      'routes outside /v1 that are not public by design',
    );
  });

  for (const jsonapi of [false, true]) {
    describe(jsonapi ? 'JSON:API (Accept: application/vnd.api+json)' : 'native JSON', () => {
      // Known once `before` has run: one test per table row, each over its route and HEAD twin.
      for (const key of Object.keys(MATRIX)) {
        it(key, async () => {
          const problems: string[] = [];
          const twins = routes.filter((route) => tableKey(route) === key);
          assert.ok(twins.length > 0, `${key} is not registered`);
          for (const route of twins) {
            for (const probe of MATRIX[key]!) {
              for (const caller of probe.only ?? CALLERS) {
                problems.push(...(await runCell(route, probe, caller, jsonapi)));
              }
            }
          }
          assert.deepEqual(problems, []);
        });
      }
    });
  }
});
