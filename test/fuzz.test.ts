import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { createValidatorCompiler } from '../src/http/validation.ts';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import {
  anyObject,
  anyValue,
  asText,
  encodeComponent,
  HOSTILE_STRINGS,
  invalidObject,
  invalidValue,
  text,
  validValue,
  type JsonSchema,
  type Pools,
} from './support/arbitraries.ts';
import { JSONAPI } from './support/jsonapi.ts';
import {
  answer,
  dataFingerprint,
  errorBodyProblem,
  registeredRoutes,
  type Answer,
  type RawRequest,
  type RegisteredRoute,
} from './support/routes.ts';
import { documentedStatuses } from './support/openapi.ts';
import { refusedTokens } from './support/tokens.ts';

/**
 * Property-based fuzzing of every /v1 route: path parameters, query strings and bodies drawn from the routes' own
 * schemas (values they accept and values they refuse, with hostile text everywhere), malformed and oversized
 * bodies, and bad media types. Whatever comes in: never a 5xx, every refusal in the standard error body, refused
 * requests change no row, and the app still answers afterwards.
 *
 * PARLEY_FUZZ_RUNS sets the number of cases over all properties (default 10,000); PARLEY_FUZZ_SEED replays a run
 * (fast-check prints the seed of a failing one).
 */

const TOTAL = Number(process.env.PARLEY_FUZZ_RUNS ?? 10_000);
/** PARLEY_FUZZ_DEBUG=1 prints what every route answered, and why it refused. */
const DEBUG = process.env.PARLEY_FUZZ_DEBUG === '1';
const SEED = process.env.PARLEY_FUZZ_SEED === undefined ? undefined : Number(process.env.PARLEY_FUZZ_SEED);
/** The cases of one property: its share of the total. */
const share = (fraction: number) => Math.max(5, Math.round(TOTAL * fraction));
const SHARES = {
  routes: share(0.5),
  refused: share(0.3),
  malformed: share(0.12),
  lenient: share(0.07),
  oversized: share(0.01),
};

function settings(numRuns: number): fc.Parameters<unknown> {
  return {
    numRuns,
    ...(SEED === undefined ? {} : { seed: SEED }),
    endOnFailure: true,
    includeErrorInReport: true,
  };
}

const compileValidator = createValidatorCompiler();
/** The route's own validator for a part of the request: whether it would accept `value` (on a copy). */
function accepts(schema: unknown, httpPart: 'body' | 'querystring' | 'params', value: unknown): boolean {
  const validate = compileValidator({ schema: schema as object, httpPart, method: 'POST', url: '/' }) as (
    data: unknown,
  ) => boolean;
  return validate(structuredClone(value)) === true;
}

const schemaOf = (schema: unknown): JsonSchema | null => (schema ? (schema as JsonSchema) : null);

/** Media types no /v1 route reads: every one is a 415. */
const UNSUPPORTED_TYPES = [
  'text/plain',
  'text/html',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/jsonx',
  'application/json-patch+json',
  'application/x-json',
  'image/png',
  'json',
  'application/',
  ';',
];

const ACCEPTS = [
  JSONAPI,
  `${JSONAPI}; ext=x`,
  `${JSONAPI};q=0`,
  `${JSONAPI};q=abc`,
  `${JSONAPI}, application/json`,
  `${JSONAPI}; profile="a,b", ${JSONAPI}; ext=y`,
  'text/html',
  '*/*',
  ',,,',
  'application/json;q=0',
];

describe(`fuzz (${ENGINE}, ${TOTAL} cases)`, () => {
  let t: TestApp;
  let routes: RegisteredRoute[];
  let statuses: Awaited<ReturnType<typeof documentedStatuses>>;
  let owner: Client;
  const clients = new Map<string, Client>();
  const chatIds: string[] = [];
  const messageIds: string[] = [];
  /** Reports of the pool's messages (moderation), for the routes that name one. */
  const reportIds: string[] = [];
  let badTokens: string[] = [];
  const counts: Record<string, number> = {};
  const tally = new Map<string, number>();
  /** The last requests sent, to say what was sent when a check fails. */
  const recent: string[] = [];

  /** A group the fuzzing callers are in (owner, admin, member), with a few messages; its id joins the pool. */
  async function addChat(visibility: 'private' | 'public' = 'private'): Promise<void> {
    const chat = await owner.post('/v1/chats', {
      kind: 'group',
      name: `fuzz-${chatIds.length}-${Date.now()}`,
      visibility,
      members: ['fz-admin', 'fz-member'],
    });
    assert.equal(chat.status, 201, JSON.stringify(chat.body));
    await owner.patch(`/v1/chats/${chat.body.id}/members/fz-admin`, { role: 'admin' });
    for (const [author, text] of [
      [owner, 'hello world'],
      [clients.get('member')!, 'deploy on friday'],
      [owner, "it's 100% done; drop table?"],
    ] as const) {
      const sent = await author.post(`/v1/chats/${chat.body.id}/messages`, { text });
      messageIds.push(sent.body.id);
    }
    const report = await clients.get('admin')!.post(`/v1/chats/${chat.body.id}/messages/2/report`, {
      reason: 'fuzzing',
    });
    assert.equal(report.status, 201, JSON.stringify(report.body));
    reportIds.push(report.body.id);
    chatIds.push(chat.body.id);
  }

  before(async () => {
    // Ten thousand requests as fast as they go from a handful of users: over any rate limit (limits.test.ts has those).
    t = await createTestApp({
      PARLEY_PRESENCE_TTL_MS: '3600000',
      PARLEY_RATE_LIMIT_USER: '0',
      PARLEY_RATE_LIMIT_IP: '0',
    });
    routes = (await registeredRoutes(t)).filter((r) => r.url.startsWith('/v1/') && r.method !== 'HEAD');
    statuses = await documentedStatuses(t);
    owner = await t.login('fz-owner');
    clients.set('owner', owner);
    clients.set('admin', await t.login('fz-admin'));
    clients.set('member', await t.login('fz-member'));
    clients.set('outsider', await t.login('fz-outsider'));
    clients.set('tenantAdmin', await t.login('fz-tadmin', { admin: true }));
    clients.set('otherTenant', await t.login('fz-owner', { tenant: 'fz-elsewhere', admin: true }));
    await addChat();
    await addChat();
    await addChat('public');
    const direct = await owner.post('/v1/chats', { kind: 'direct', members: ['fz-member'] });
    chatIds.push(direct.body.id);
    badTokens = [
      ...Object.values(await refusedTokens('fz-owner')),
      'not-a-jwt',
      'a.b.c',
      '',
      `${owner.token}x`,
      owner.token.split('.').slice(0, 2).join('.'),
    ];
  });

  after(async () => {
    await t?.close();
    // The case counts, for the record of a CI run.
    console.log(`fuzz cases on ${ENGINE}: ${JSON.stringify(counts)}`);
    if (DEBUG) {
      console.log(
        [...tally]
          .sort()
          .map(([key, n]) => `${n}\t${key}`)
          .join('\n'),
      );
    }
  });

  /** A pool value picked at run time, so ids added during the run are used too. */
  const fromPool = (pool: string[]) =>
    fc
      .tuple(fc.boolean(), fc.nat())
      // Mostly one of the newest (those are likeliest to be live), sometimes any.
      .map(
        ([newest, i]) =>
          pool[newest ? pool.length - 1 - (i % Math.min(4, pool.length)) : i % pool.length] ?? 'none',
      );
  const USER_IDS = ['fz-owner', 'fz-admin', 'fz-member', 'fz-outsider', 'fz-tadmin', 'no-such-user'];
  const users = fc.constantFrom(...USER_IDS);
  const seqs = fc.integer({ min: 0, max: 8 });
  const cursors = fc.oneof(
    fc
      .oneof(
        fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.constant(2 ** 60)), { maxLength: 3 }),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map((key) => Buffer.from(JSON.stringify(key) ?? '', 'utf8').toString('base64url')),
    text(0, 20),
  );
  /** Search queries: words, phrases, OR and exclusions in any arrangement, and any text at all. */
  const searchTerm = fc.oneof(
    fc.constantFrom('hello', 'deploy', 'friday', 'drop', 'wor', 'hel', 'a', 'the', 'café', '100%', "it's"),
    text(1, 8),
  );
  const searches = fc.oneof(
    text(1, 30),
    fc
      .array(
        fc.oneof(
          { weight: 4, arbitrary: searchTerm },
          { weight: 1, arbitrary: searchTerm.map((w) => `-${w}`) },
          {
            weight: 1,
            arbitrary: fc.array(searchTerm, { minLength: 1, maxLength: 3 }).map((ws) => `"${ws.join(' ')}"`),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom('OR', 'or', '-', '"', '""', '-""', '(', ')', '*', ':', '&', '|', '!'),
          },
        ),
        { minLength: 1, maxLength: 20 },
      )
      .map((parts) => parts.join(' ')),
  );

  /**
   * A JSON:API resource document for a route, without its attributes: the route's type (or another), an id,
   * relationships to users, chats and messages of the pools (or to nothing), meta of any shape.
   */
  function resourceDocument(route: RegisteredRoute): fc.Arbitrary<{ data: Record<string, unknown> }> {
    const types = fc.constantFrom('users', 'chats', 'members', 'messages', 'things');
    const ids = fc.oneof(users, fromPool(chatIds), fromPool(messageIds), text(0, 10));
    const identifier = fc.record({ type: types, id: ids });
    const linkage = fc.oneof(fc.constant(null), identifier, fc.array(identifier, { maxLength: 3 }));
    const names = fc.constantFrom(
      'members',
      'user',
      'chat',
      'replyTo',
      'author',
      'creator',
      'lastMessage',
      'nope',
    );
    return fc.record(
      {
        data: fc.record(
          {
            type: fc.oneof(
              { weight: 4, arbitrary: fc.constant(route.jsonapi?.type ?? 'users') },
              { weight: 1, arbitrary: types },
            ),
            id: ids,
            relationships: fc.dictionary(names, fc.record({ data: linkage }), { maxKeys: 2 }),
            meta: fc.jsonValue({ maxDepth: 2 }),
          },
          { requiredKeys: ['type'] },
        ),
        jsonapi: fc.record({ version: fc.constantFrom('1.0', '1.1', 'x') }),
        meta: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
      },
      { requiredKeys: ['data'] },
    );
  }

  /** Real values per field name: what gets requests past "not found" and into the services. */
  function poolsFor(route: RegisteredRoute): Pools {
    const usersRoute = route.url.startsWith('/v1/users/');
    const reportsRoute = route.url.startsWith('/v1/reports/') || route.url.startsWith('/v1/moderation-log/');
    return {
      id: usersRoute ? users : reportsRoute ? fromPool(reportIds) : fromPool(chatIds),
      chatId: fromPool(chatIds),
      userId: users,
      members: users,
      seq: seqs,
      replyTo: seqs,
      after: seqs,
      before: seqs,
      name: fc.constantFrom('lastMessage', 'creator', 'members', 'author', 'chat', 'replyTo', 'user', 'nope'),
      cursor: cursors,
      q: searches,
      username: fc.constantFrom('fz-owner', 'fz-member', 'FZ-OWNER', 'nobody'),
      role: fc.constantFrom('owner', 'admin', 'member'),
      type: fc.constantFrom('users', 'users', 'chats'),
      action: fc.constantFrom('delete_message', 'mute_author', 'ban_author', 'dismiss'),
      status: fc.constantFrom('open', 'resolved'),
      until: fc.oneof(
        fc
          .integer({ min: -3_600_000, max: 3_600_000 * 24 })
          .map((ms) => new Date(Date.now() + ms).toISOString()),
        text(0, 30),
      ),
    };
  }

  const callers = fc.oneof(
    { weight: 10, arbitrary: fc.constant('owner') },
    { weight: 3, arbitrary: fc.constant('admin') },
    { weight: 3, arbitrary: fc.constant('member') },
    { weight: 2, arbitrary: fc.constant('outsider') },
    { weight: 2, arbitrary: fc.constant('tenantAdmin') },
    { weight: 1, arbitrary: fc.constant('otherTenant') },
    { weight: 1, arbitrary: fc.constant('none') },
    { weight: 1, arbitrary: fc.constant('bad') },
  );

  function authorization(caller: string, badIndex: number): Record<string, string> {
    if (caller === 'none') {
      return {};
    }
    if (caller === 'bad') {
      return { authorization: `Bearer ${badTokens[badIndex % badTokens.length]}` };
    }
    return { authorization: `Bearer ${clients.get(caller)!.token}` };
  }

  function pathOf(route: RegisteredRoute, params: Record<string, unknown>): string {
    return route.url.replace(/:(\w+)/g, (_, name: string) => encodeComponent(asText(params[name] ?? '')));
  }

  function queryOf(pairs: [string, unknown][]): string {
    const parts: string[] = [];
    for (const [key, value] of pairs) {
      if (value === undefined) {
        continue;
      }
      // Arrays travel as repeated keys, as a client's query builder would send them.
      for (const item of Array.isArray(value) ? value : [value]) {
        parts.push(`${encodeComponent(key)}=${encodeComponent(asText(item))}`);
      }
    }
    return parts.length > 0 ? `?${parts.join('&')}` : '';
  }

  /** Path parameters that route and decode: the pools' real values (some name nothing that exists). */
  function goodParams(route: RegisteredRoute): fc.Arbitrary<Record<string, unknown>> {
    const pools = poolsFor(route);
    const names = Object.keys(schemaOf(route.schema.params)?.properties ?? {});
    return fc.record(Object.fromEntries(names.map((name) => [name, pools[name] ?? fc.constant('x')])));
  }

  /** Path parameters from their schemas, valid or not, often real. */
  function anyParams(route: RegisteredRoute): fc.Arbitrary<Record<string, unknown>> {
    const pools = poolsFor(route);
    const properties = schemaOf(route.schema.params)?.properties ?? {};
    return fc.record(
      Object.fromEntries(
        Object.entries(properties).map(([name, schema]) => [name, anyValue(schema, pools, name, 15)]),
      ),
    );
  }

  /** A value one time in ten, else null. */
  const sometimes = <T>(arbitrary: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

  /** Anything for a route: every part from its schema, valid or not, as any kind of caller. */
  function anyRequest(route: RegisteredRoute): fc.Arbitrary<RawRequest> {
    const pools = poolsFor(route);
    const query = schemaOf(route.schema.querystring);
    const body = schemaOf(route.schema.body);
    return fc
      .record({
        caller: callers,
        badIndex: fc.nat(),
        params: anyParams(route),
        query: query
          ? fc.record(
              Object.fromEntries(
                Object.entries(query.properties ?? {}).map(([name, schema]) => {
                  const value = anyValue(schema, pools, name, 10);
                  // Required parameters are there; optional ones now and then (unset: left out).
                  return [
                    name,
                    query.required?.includes(name)
                      ? value
                      : fc.oneof(
                          { weight: 3, arbitrary: fc.constant(undefined) },
                          { weight: 2, arbitrary: value },
                        ),
                  ];
                }),
              ),
            )
          : fc.constant({}),
        extraQuery: sometimes(
          fc.tuple(fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), text(1, 8)), text(0, 12)),
        ),
        jsonapiQuery: fc.oneof(
          fc.constant([] as [string, string][]),
          fc.array(
            fc.tuple(
              fc.constantFrom(
                'include',
                'fields[chats]',
                'fields[messages]',
                'page[size]',
                'page[cursor]',
                'page[after]',
                'page[before]',
                'filter[q]',
                'filter[chatId]',
                'filter[username]',
                'sort',
              ),
              fc.oneof(
                fc.constantFrom(
                  'lastMessage',
                  'members',
                  'author',
                  'chat,replyTo',
                  'lastMessage.author',
                  'name',
                  '-activity',
                  'seq',
                  '5',
                  '0',
                  '201',
                  '',
                ),
                text(0, 10),
              ),
            ),
            { maxLength: 2 },
          ),
        ),
        accept: fc.oneof(
          { weight: 6, arbitrary: fc.constant(undefined) },
          { weight: 3, arbitrary: fc.constant(JSONAPI) },
          { weight: 1, arbitrary: fc.constantFrom(...ACCEPTS) },
        ),
        body: body ? anyObject(body, pools, 6) : fc.constant(undefined),
        document: fc.constantFrom('none', 'wrapped', 'composed'),
        composed: route.jsonapi?.body ? resourceDocument(route) : fc.constant(undefined),
        lastEventId: sometimes(text(0, 20)),
      })
      .map((c) => {
        const jsonapi = c.accept !== undefined && c.accept.includes(JSONAPI);
        const pairs: [string, unknown][] = [
          ...(jsonapi ? c.jsonapiQuery : Object.entries(c.query)),
          ...(c.extraQuery === null ? [] : [c.extraQuery]),
        ];
        const headers: Record<string, string> = { ...authorization(c.caller, c.badIndex) };
        if (c.accept !== undefined) {
          headers.accept = c.accept;
        }
        if (c.lastEventId !== null) {
          headers['last-event-id'] = encodeComponent(c.lastEventId);
        }
        const request: RawRequest & { key?: string; route?: RegisteredRoute } = {
          key: route.key,
          route,
          method: route.method,
          url: pathOf(route, c.params as Record<string, unknown>) + queryOf(pairs),
          headers,
        };
        if (c.body !== undefined) {
          const spec = route.jsonapi;
          const asDocument = jsonapi && c.document !== 'none' && spec?.body !== undefined;
          headers['content-type'] = asDocument || spec?.only ? JSONAPI : 'application/json';
          let document: unknown = c.body;
          if (asDocument && c.document === 'wrapped') {
            document = { data: { type: spec!.type, attributes: c.body } };
          } else if (asDocument && c.composed !== undefined) {
            // The body's fields as the attributes of a composed document with relationships, ids and meta.
            document = { ...c.composed, data: { ...c.composed.data, attributes: c.body } };
          }
          request.payload = JSON.stringify(document);
        }
        return request;
      });
  }

  /** The checks every answer gets; `route`, when the request was made for one, documents its status. */
  function check(request: RawRequest & { route?: RegisteredRoute }, reply: Answer): void {
    const where = () =>
      `${request.method} ${request.url.slice(0, 300)} ${JSON.stringify(request.headers)} ${String(request.payload ?? '').slice(0, 300)}\n→ ${reply.status} ${reply.raw.slice(0, 500)}`;
    assert.ok(reply.status >= 200 && reply.status < 500, `a ${reply.status}: ${where()}`);
    if (request.route) {
      const documented = statuses(request.route.method, request.route.url);
      assert.ok(
        documented?.has(reply.status),
        `${request.route.key} answered ${reply.status}, not among the documented ${[...(documented ?? [])].join(', ')}: ${where()}`,
      );
    }
    if (reply.status >= 400) {
      const problem = errorBodyProblem(reply);
      assert.equal(problem, null, `${problem}: ${where()}`);
    } else if (reply.status !== 204 && reply.raw !== '') {
      assert.match(reply.type, /^application\/(json|vnd\.api\+json)/, where());
      assert.doesNotThrow(() => JSON.parse(reply.raw), where());
    }
  }

  async function send(request: RawRequest & { route?: RegisteredRoute }, property: string): Promise<Answer> {
    counts[property] = (counts[property] ?? 0) + 1;
    recent.push(`${request.method} ${request.url.slice(0, 200)}`);
    if (recent.length > 50) {
      recent.shift();
    }
    const reply = await answer(t, request);
    const bucket = `${property} ${Math.floor(reply.status / 100)}xx`;
    counts[bucket] = (counts[bucket] ?? 0) + 1;
    if (DEBUG) {
      // What each route answered, and why it refused: to see how deep the cases go.
      const route = (request as { key?: string }).key ?? request.method;
      const why = /"(?:detail|message)":"([^:"]{0,40})/.exec(reply.raw)?.[1] ?? '';
      for (const key of [
        `${property} ${route} ${reply.status}`,
        `${property} ${route} ${reply.status} ${why}`,
      ]) {
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }
    }
    check(request, reply);
    return reply;
  }

  /** The app is up, and still serves a plain request end to end. */
  async function assertAlive(): Promise<void> {
    assert.equal((await t.request('GET', '/health/live')).status, 200);
    assert.equal((await t.request('GET', '/health/ready')).status, 200);
    const me = await clients.get('member')!.get('/v1/me');
    assert.equal(me.status, 200, JSON.stringify(me.body));
  }

  /** Runs `cases` refused requests; the data must not change across any 100 of them, nor across all. */
  async function unchangedAcross(label: string, run: () => Promise<void>): Promise<void> {
    const before = await dataFingerprint(t);
    await run();
    const afterwards = await dataFingerprint(t);
    assert.deepEqual(afterwards, before, `${label} changed data; the last requests: ${recent.join('\n')}`);
  }

  it('the routes under test come from the app', () => {
    assert.ok(routes.length >= 30, `only ${routes.length} routes`);
  });

  /**
   * Deleting users would delete the callers the run needs (their tokens then answer 401): those two routes get only
   * the requests they must refuse here; test/users-delete.test.ts deletes for real.
   */
  const keepsUsers = (route: RegisteredRoute) =>
    !['DELETE /v1/me', 'DELETE /v1/users/:id'].includes(route.key);

  it('any request to any route: never a 5xx, refusals in the error body', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes.filter(keepsUsers)).chain(anyRequest), async (request) => {
        // Owners delete chats as they go: keep a few live ones in the pool.
        if (++sent % 100 === 0) {
          await addChat(sent % 500 === 0 ? 'public' : 'private');
        }
        await send(request, 'routes');
      }),
      settings(SHARES.routes),
    );
    await assertAlive();
  });

  /** A request the route must refuse, by construction: checked with the route's own validator. */
  function refusedRequest(): fc.Arbitrary<{ request: RawRequest; status?: number }> {
    const withBody = routes.filter((r) => r.schema.body);
    const withQuery = routes.filter((r) => r.schema.querystring);
    const withParams = routes.filter((r) => r.schema.params);
    const auth = () => ({ authorization: `Bearer ${owner.token}` });
    const invalidBody = fc
      .constantFrom(...withBody)
      .chain((route) =>
        fc.tuple(
          fc.constant(route),
          goodParams(route),
          invalidObject(schemaOf(route.schema.body)!, poolsFor(route)),
        ),
      )
      .filter(([route, , body]) => !accepts(route.schema.body, 'body', body))
      .map(([route, params, body]) => ({
        request: {
          route,
          method: route.method,
          url: pathOf(route, params),
          headers: { ...auth(), 'content-type': 'application/json' },
          payload: JSON.stringify(body) ?? 'null',
        },
      }));
    const invalidQuery = fc
      .constantFrom(...withQuery)
      .chain((route) => {
        const schema = schemaOf(route.schema.querystring)!;
        const names = Object.keys(schema.properties ?? {});
        const unknown = fc.tuple(
          fc.oneof(fc.constantFrom('extra', 'Limit', 'limit ', '__proto__', 'page[size]', 'q[]'), text(1, 6)),
          text(0, 8),
        );
        const bad: fc.Arbitrary<[string, unknown]> =
          names.length === 0
            ? unknown
            : fc.oneof(
                unknown,
                fc
                  .constantFrom(...names)
                  .chain((name) => fc.tuple(fc.constant(name), invalidValue(schema.properties![name]!))),
              );
        return fc.tuple(fc.constant(route), goodParams(route), validValue(schema, poolsFor(route)), bad);
      })
      .map(([route, params, query, [name, value]]) => {
        const pairs = [
          ...Object.entries(query as Record<string, unknown>).filter(([k]) => k !== name),
          [name, value],
        ] as [string, unknown][];
        return { route, params, pairs };
      })
      .filter(
        ({ route, pairs }) => !accepts(route.schema.querystring, 'querystring', parsedQuery(queryOf(pairs))),
      )
      .map(({ route, params, pairs }) => ({
        request: {
          route,
          method: route.method,
          url: pathOf(route, params) + queryOf(pairs),
          headers: auth(),
        },
      }));
    const invalidParams = fc
      .constantFrom(...withParams)
      .chain((route) => {
        const schema = schemaOf(route.schema.params)!;
        const names = Object.keys(schema.properties ?? {});
        return fc.tuple(
          fc.constant(route),
          goodParams(route),
          fc
            .constantFrom(...names)
            .chain((name) => fc.tuple(fc.constant(name), invalidValue(schema.properties![name]!))),
        );
      })
      .map(([route, params, [name, value]]) => ({ route, params: { ...params, [name]: asText(value) } }))
      .filter(({ route, params }) => !accepts(route.schema.params, 'params', params))
      .map(({ route, params }) => {
        const body = schemaOf(route.schema.body);
        return {
          request: {
            route,
            method: route.method,
            url: pathOf(route, params),
            headers: { ...auth(), ...(body ? { 'content-type': 'application/json' } : {}) },
            ...(body ? { payload: '{}' } : {}),
          },
        };
      });
    const badToken = fc
      .tuple(
        fc.constantFrom(...routes),
        fc.nat(),
        fc.constantFrom('Bearer ', 'bearer ', 'Basic ', '', 'Bearer  '),
      )
      .chain(([route, index, scheme]) =>
        fc.tuple(
          fc.constant(route),
          goodParams(route),
          fc.constant(`${scheme}${badTokens[index % badTokens.length]}`),
        ),
      )
      .map(([route, params, authorization]) => ({
        request: { route, method: route.method, url: pathOf(route, params), headers: { authorization } },
        status: 401,
      }));
    // A route that reads another media type (an upload's multipart) answers it in its own way.
    const jsonOnly = withBody.filter((r) => !r.schema.consumes);
    const badType = fc
      .constantFrom(...jsonOnly)
      .chain((route) =>
        fc.tuple(
          fc.constant(route),
          goodParams(route),
          validValue(schemaOf(route.schema.body)!, poolsFor(route)),
          fc.constantFrom(...UNSUPPORTED_TYPES),
        ),
      )
      .map(([route, params, body, type]) => ({
        request: {
          route,
          method: route.method,
          url: pathOf(route, params),
          headers: { ...auth(), 'content-type': type },
          payload: JSON.stringify(body),
        },
        status: 415,
      }));
    return fc.oneof(invalidBody, invalidQuery, invalidParams, badToken, badType);
  }

  /** The query object the server's parser makes of a query string (repeated keys become lists). */
  function parsedQuery(search: string): Record<string, string | string[]> {
    // No prototype: a generated key such as `toString` must not find an inherited function.
    const parsed: Record<string, string | string[]> = Object.create(null) as Record<
      string,
      string | string[]
    >;
    for (const [key, value] of new URLSearchParams(search.slice(1))) {
      const had = Object.hasOwn(parsed, key) ? parsed[key] : undefined;
      parsed[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
    }
    return parsed;
  }

  it('requests invalid by construction: each a 4xx in the error body, and no row changed', async () => {
    await unchangedAcross('refused requests', async () => {
      let sent = 0;
      let checkpoint = await dataFingerprint(t);
      await fc.assert(
        fc.asyncProperty(refusedRequest(), async ({ request, status }) => {
          const reply = await send(request, 'refused');
          assert.ok(
            reply.status >= 400,
            `accepted (${reply.status}): ${request.method} ${request.url} ${String(request.payload).slice(0, 300)}`,
          );
          if (status !== undefined) {
            assert.equal(
              reply.status,
              status,
              `${request.method} ${request.url}: ${reply.raw.slice(0, 300)}`,
            );
          }
          if (++sent % 100 === 0) {
            const now = await dataFingerprint(t);
            assert.deepEqual(now, checkpoint, `data changed; the last requests: ${recent.join('\n')}`);
            checkpoint = now;
          }
        }),
        settings(SHARES.refused),
      );
    });
    await assertAlive();
  });

  const bodyRoutes = () => routes.filter((r) => r.schema.body);

  /** Bodies that are not JSON at all, or JSON no route takes: deep nesting, truncation, garbage bytes. */
  const malformed = fc.oneof(
    fc.string({ maxLength: 60 }).filter((s) => !isJson(s)),
    fc.constantFrom(
      '',
      '{',
      '{"text": "a",}',
      "{'text': 'a'}",
      '{"text": "a" /* c */}',
      '{"text": NaN}',
      '{"text": Infinity}',
      '{"text": undefined}',
      '{"__proto__": {"admin": true}, "text": "a"}',
      '{"constructor": {"prototype": {"admin": true}}, "text": "a"}',
      '[]',
      'null',
      '"text"',
      '42',
      'true',
    ),
    fc
      .tuple(
        fc.constantFrom(
          '{"text":"hello","clientId":"c-1"}',
          '{"kind":"group","name":"n"}',
          '{"data":[{"type":"users","id":"fz-member"}]}',
        ),
        fc.nat(),
      )
      .map(([json, at]) => json.slice(0, at % json.length))
      .filter((s) => !isJson(s)),
    fc
      .constantFrom(1_000, 10_000, 100_000)
      .chain((depth) =>
        fc.constantFrom(
          '['.repeat(depth) + ']'.repeat(depth),
          '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
          `{"text":${'['.repeat(depth)}${']'.repeat(depth)}}`,
          `{"data":{"type":"x","attributes":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`,
        ),
      ),
    fc
      .tuple(
        fc.constantFrom(
          [0xff],
          [0xc0, 0xaf],
          [0xed, 0xa0, 0x80],
          [0xe2, 0x82],
          [0xf8, 0x88, 0x80, 0x80, 0x80],
        ),
        fc.nat(),
      )
      .map(([bytes, at]) => {
        // Bytes that are not UTF-8, between JSON tokens: never JSON, whatever a decoder makes of them.
        const json = '{"text": "hello", "clientId": "c"}';
        const cut = [1, 9, 16, 17, 33][at % 5]!;
        return Buffer.concat([
          Buffer.from(json.slice(0, cut)),
          Buffer.from(bytes),
          Buffer.from(json.slice(cut)),
        ]);
      }),
  );

  function isJson(text: string): boolean {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  }

  it('malformed bodies (not JSON, deeply nested, not UTF-8): a 400, and no row changed', async () => {
    await unchangedAcross('malformed bodies', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...bodyRoutes()).chain((route) => fc.tuple(fc.constant(route), goodParams(route))),
          malformed,
          fc.constantFrom('application/json', 'application/json; charset=utf-8', JSONAPI),
          async ([route, params], payload, type) => {
            const reply = await send(
              {
                route,
                method: route.method,
                url: pathOf(route, params),
                headers: { authorization: `Bearer ${owner.token}`, 'content-type': type },
                payload,
              },
              'malformed',
            );
            // 400, or 403/404/409 for a well-formed but wrong JSON:API document (a resource of another type).
            assert.ok(reply.status >= 400, `${route.key} took ${String(payload).slice(0, 200)}`);
          },
        ),
        settings(SHARES.malformed),
      );
    });
    await assertAlive();
  });

  it('odd but readable bodies (replaced bytes, a BOM, charsets, duplicate keys, nesting in meta): never a 5xx', async () => {
    const odd = fc.oneof(
      fc
        .tuple(fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82]), text(1, 10))
        .map(([bytes, words]) =>
          Buffer.concat([
            Buffer.from(`{"text": "${JSON.stringify(words).slice(1, -1)}`),
            Buffer.from(bytes),
            Buffer.from('"}'),
          ]),
        ),
      fc.constant('\ufeff{"text": "with a byte order mark"}'),
      fc.constant('{"text": "first", "text": "second"}'),
      fc.constant('{"text": "\\ud800\\udbff lone surrogates"}'),
      fc.constant('{"userId": "fz-outsider", "userId": "fz-member"}'),
      fc
        .constantFrom(1_000, 10_000)
        .map(
          (depth) =>
            `{"data":{"type":"messages","attributes":{"text":"deep meta"},"meta":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`,
        ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...bodyRoutes()).chain((route) => fc.tuple(fc.constant(route), goodParams(route))),
        odd,
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'application/json; charset=latin1',
          'application/json; charset=utf-16',
          JSONAPI,
          'Application/JSON',
        ),
        fc.constantFrom('owner', 'member', 'outsider'),
        async ([route, params], payload, type, caller) => {
          await send(
            {
              route,
              method: route.method,
              url: pathOf(route, params),
              headers: { authorization: `Bearer ${clients.get(caller)!.token}`, 'content-type': type },
              payload,
            },
            'lenient',
          );
        },
      ),
      settings(SHARES.lenient),
    );
    await assertAlive();
  });

  it('bodies over the limit: a 413, streamed or not, and no row changed', async () => {
    const limit = t.config.limits.bodyBytes;
    await unchangedAcross('oversized bodies', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...bodyRoutes()).chain((route) => fc.tuple(fc.constant(route), goodParams(route))),
          fc.integer({ min: 1, max: 4096 }),
          fc.boolean(),
          fc.constantFrom('application/json', JSONAPI),
          async ([route, params], over, streamed, type) => {
            const json = JSON.stringify({ text: 'x'.repeat(limit + over) });
            const reply = await send(
              {
                route,
                method: route.method,
                url: pathOf(route, params),
                headers: { authorization: `Bearer ${owner.token}`, 'content-type': type },
                payload: json,
              },
              'oversized',
            );
            assert.equal(reply.status, 413, reply.raw.slice(0, 200));
            if (streamed) {
              // Without a Content-Length: the limit holds while reading.
              const response = await t.app.inject({
                method: route.method as 'POST',
                url: pathOf(route, params),
                headers: { authorization: `Bearer ${owner.token}`, 'content-type': type },
                payload: Readable.from([Buffer.from(json)]),
              });
              assert.equal(response.statusCode, 413, response.body.slice(0, 200));
            }
          },
        ),
        settings(SHARES.oversized),
      );
    });
    await assertAlive();
  });
});
