import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { ConfigError } from '../src/env.ts';
import { loadConfig } from '../src/config.ts';
import { RateLimiter, TokenBucket } from '../src/limits/rate.limiter.ts';
import { createTestApp, ENGINE, type Response } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createDirect, createGroup } from './support/factories.ts';
import { ACCEPT, assertErrors, SEND } from './support/jsonapi.ts';
import { StreamClient, type Frame } from './support/ws.ts';
import type { ErrorBody } from './support/api.ts';

/** The HTTP status a WebSocket upgrade is refused with (101 when it is accepted, and then closed again). */
function upgradeStatus(base: string, token: string): Promise<number> {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (request, response) => {
      request.destroy();
      resolve(response.statusCode ?? 0);
    });
    socket.once('open', () => {
      socket.terminate();
      resolve(101);
    });
    socket.once('error', reject);
  });
}

interface Attempt {
  /** The connection became a stream (its first frame was `ready`); otherwise it was closed. */
  ready: boolean;
  frames: Frame[];
  closeCode: number | null;
  socket: WebSocket;
}

/** Opens a WebSocket stream and waits for `ready` or for the close, whichever comes first. */
function attempt(base: string, token: string): Promise<Attempt> {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const result: Attempt = { ready: false, frames: [], closeCode: null, socket };
  return new Promise((resolve, reject) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      result.frames.push(frame);
      if (frame.type === 'ready') {
        result.ready = true;
        resolve(result);
      }
    });
    socket.on('close', (code) => {
      result.closeCode = code;
      resolve(result);
    });
    socket.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 429 in the standard body, with `Retry-After` and the limit named in the message and the details. */
function assertRateLimited(res: Response, limit: string): ErrorBody['error'] {
  const error = assertError(res, 429, 'rate_limited', limit);
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(error.details?.[0]?.limit, limit);
  assert.equal(error.details[0].retryAfter, 1);
  return error;
}

function assertConfigError(env: Record<string, string>, variable: string): void {
  assert.throws(
    () => loadConfig({ PARLEY_DATA_DIR: 'memory://', JWT_SECRET: 'x', ...env }),
    (error: unknown) => error instanceof ConfigError && error.variable === variable,
  );
}

const config = (env: Record<string, string> = {}) =>
  loadConfig({ PARLEY_DATA_DIR: 'memory://', JWT_SECRET: 'x', ...env });

describe('rate limit configuration', () => {
  it('limits 100 requests a second per user and per address by default, bursts of ten seconds’ worth', () => {
    assert.deepEqual(config().rateLimit, {
      user: { rate: 100, burst: 1000 },
      ip: { rate: 100, burst: 1000 },
      maxKeys: 100_000,
    });
  });

  it('reads the rates and bursts; 0 turns a limit off; a lower rate lowers the default burst', () => {
    const custom = config({
      PARLEY_RATE_LIMIT_USER: '5',
      PARLEY_RATE_LIMIT_IP: '0',
      PARLEY_RATE_LIMIT_KEYS: '500',
    });
    assert.deepEqual(custom.rateLimit, { user: { rate: 5, burst: 50 }, ip: null, maxKeys: 500 });
    assert.deepEqual(
      config({ PARLEY_RATE_LIMIT_USER: '5', PARLEY_RATE_LIMIT_USER_BURST: '7' }).rateLimit.user,
      { rate: 5, burst: 7 },
    );
  });

  it('refuses bad values, naming the variable', () => {
    assertConfigError({ PARLEY_RATE_LIMIT_USER: 'fast' }, 'PARLEY_RATE_LIMIT_USER');
    assertConfigError({ PARLEY_RATE_LIMIT_USER: '-1' }, 'PARLEY_RATE_LIMIT_USER');
    assertConfigError({ PARLEY_RATE_LIMIT_USER_BURST: '0' }, 'PARLEY_RATE_LIMIT_USER_BURST');
    assertConfigError({ PARLEY_RATE_LIMIT_IP: '1.5' }, 'PARLEY_RATE_LIMIT_IP');
    assertConfigError({ PARLEY_RATE_LIMIT_IP_BURST: 'lots' }, 'PARLEY_RATE_LIMIT_IP_BURST');
    assertConfigError({ PARLEY_RATE_LIMIT_KEYS: '10' }, 'PARLEY_RATE_LIMIT_KEYS');
  });
});

describe('token buckets', () => {
  it('let a burst through, then one request per 1/rate seconds', () => {
    const bucket = new TokenBucket({ rate: 10, burst: 3 }, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0)], [0, 0, 0]);
    assert.equal(bucket.take(0), 100, 'the next token is 100 ms away');
    assert.equal(bucket.take(50), 50);
    assert.equal(bucket.take(100), 0);
    assert.equal(bucket.take(100), 100);
    // Idle for long: full again, never more than the burst.
    assert.deepEqual([bucket.take(60_000), bucket.take(60_000), bucket.take(60_000)], [0, 0, 0]);
    assert.ok(bucket.take(60_000) > 0);
  });

  it('keep one bucket per key, forget keys idle long enough to be full, and keep at most maxKeys', () => {
    const limiter = new RateLimiter({ rate: 1, burst: 2 }, 100);
    assert.equal(limiter.take('a', 0), 0);
    assert.equal(limiter.take('a', 0), 0);
    assert.ok(limiter.take('a', 0) > 0, 'a has used its burst');
    assert.equal(limiter.take('b', 0), 0, 'b has a bucket of its own');
    assert.equal(limiter.size, 2);
    // Two seconds later both buckets are full again: as good as unknown, so both are forgotten.
    limiter.take('c', 2000);
    assert.equal(limiter.size, 1);
    assert.equal(limiter.take('a', 2000), 0);
    for (let i = 0; i < 1000; i++) {
      limiter.take(`flood-${i}`, 2500);
    }
    assert.equal(limiter.size, 100, 'never more than maxKeys');
    // The least recently used went first: the newest keys are still there, with their state.
    const last = 'flood-999';
    assert.equal(limiter.take(last, 2500), 0);
    assert.ok(limiter.take(last, 2500) > 0, 'flood-999 kept its bucket');
  });
});

describe(`rate limits (${ENGINE})`, () => {
  it('limits each user on its own: 429 rate_limited with Retry-After, then lets them through again', async () => {
    // One token a second: the burst is spent before one comes back, even on a machine busy enough to take half a
    // second over three requests.
    const t = await createTestApp({ PARLEY_RATE_LIMIT_USER: '1', PARLEY_RATE_LIMIT_USER_BURST: '3' });
    try {
      const alice = await t.as('rl-alice');
      const bob = await t.as('rl-bob');
      const elsewhere = await t.as('rl-alice', { tenant: 'other-tenant' });
      for (let i = 0; i < 3; i++) {
        assert.equal((await alice.get('/v1/me')).status, 200);
      }
      const refused = await alice.get('/v1/me');
      assert.deepEqual(assertRateLimited(refused, 'requests_per_user').details?.[0], {
        limit: 'requests_per_user',
        rate: 1,
        burst: 3,
        retryAfter: 1,
      });
      // Any route, any method: a POST is refused before its body is looked at.
      assertRateLimited(await alice.post('/v1/chats', { kind: 'nonsense' }), 'requests_per_user');
      assert.equal((await bob.get('/v1/me')).status, 200, 'another user has a bucket of their own');
      assert.equal((await elsewhere.get('/v1/me')).status, 200, 'the same user id in another tenant too');
      // Nothing is charged to the address: requests without a token still pass.
      assertError(await t.request('GET', '/v1/me'), 401, 'unauthorized');
      await sleep(1100);
      assert.equal((await alice.get('/v1/me')).status, 200, 'a token came back after 1/rate seconds');
    } finally {
      await t.close();
    }
  });

  it('limits requests without a valid token per address, and never the health checks', async () => {
    const t = await createTestApp({
      PARLEY_RATE_LIMIT_IP: '1',
      PARLEY_RATE_LIMIT_IP_BURST: '2',
      PARLEY_RATE_LIMIT_USER: '1000',
      // Requests come from 127.0.0.1, as from a proxy there that forwards each client's address.
      PARLEY_TRUST_PROXY: '127.0.0.1',
    });
    try {
      const from = (ip: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...extra });
      assertError(await t.request('GET', '/v1/me', undefined, from('10.0.0.1')), 401, 'unauthorized');
      // A token that does not verify is no one's: it counts against the address, not the user it names.
      const forged = `${(await t.token('rl-carol')).slice(0, -4)}AAAA`;
      assertError(
        await t.request('GET', '/v1/me', undefined, from('10.0.0.1', { authorization: `Bearer ${forged}` })),
        401,
        'unauthorized',
      );
      assertRateLimited(await t.request('GET', '/v1/me', undefined, from('10.0.0.1')), 'requests_per_ip');
      assertRateLimited(
        await t.request('GET', '/no/such/route', undefined, from('10.0.0.1')),
        'requests_per_ip',
      );
      assertError(await t.request('GET', '/v1/me', undefined, from('10.0.0.2')), 401, 'unauthorized');
      // A valid token from the same address is charged to its user, not to the address.
      const carol = await t.token('rl-carol');
      const withToken = await t.request(
        'GET',
        '/v1/me',
        undefined,
        from('10.0.0.1', { authorization: `Bearer ${carol}` }),
      );
      assert.equal(withToken.status, 200);
      for (let i = 0; i < 20; i++) {
        assert.equal((await t.request('GET', '/health/live', undefined, from('10.0.0.1'))).status, 200);
        assert.equal((await t.request('GET', '/health/ready', undefined, from('10.0.0.1'))).status, 200);
      }
    } finally {
      await t.close();
    }
  });

  it('off (0): no limit at all', async () => {
    const t = await createTestApp({ PARLEY_RATE_LIMIT_USER: '0', PARLEY_RATE_LIMIT_IP: '0' });
    try {
      const alice = await t.as('rl-free');
      const answers = await Promise.all(Array.from({ length: 1500 }, () => alice.get('/v1/me')));
      assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
      const anonymous = await Promise.all(Array.from({ length: 1500 }, () => t.request('GET', '/v1/me')));
      assert.deepEqual([...new Set(anonymous.map((r) => r.status))], [401]);
    } finally {
      await t.close();
    }
  });

  it('speaks JSON:API to JSON:API clients and applies to the dialects, in their error formats', async () => {
    const t = await createTestApp({
      DIALECTS: 'avito,sourceloop',
      PARLEY_RATE_LIMIT_USER: '1',
      PARLEY_RATE_LIMIT_USER_BURST: '1',
      PARLEY_RATE_LIMIT_IP: '1',
      PARLEY_RATE_LIMIT_IP_BURST: '1',
    });
    try {
      const dave = await t.as('rl-dave');
      assert.equal((await dave.get('/v1/me', ACCEPT)).status, 200);
      const document = await dave.get('/v1/me', ACCEPT);
      assert.equal(document.headers['retry-after'], '1');
      assertErrors(document, 429, 'rate_limited', { detail: /^requests_per_user: / });

      // SourceLoop takes Parley's JWT: per user, in LoopBack's error shape.
      const erin = await t.as('rl-erin', { permissions: ['ViewMessage'] });
      assert.equal((await erin.get('/sourceloop/messages')).status, 200);
      const loopback = await erin.get<{ error: { name: string; code: string } }>('/sourceloop/messages');
      assert.equal(loopback.status, 429);
      assert.equal(loopback.headers['retry-after'], '1');
      assert.equal(loopback.body.error.name, 'TooManyRequestsError');
      assert.equal(loopback.body.error.code, 'rate_limited');

      // Avito has no tokens: per address, with its health check exempt.
      assert.equal((await t.request('POST', '/users/add', { username: 'rl-avito' })).status, 201);
      assertRateLimited(await t.request('POST', '/users/add', { username: 'rl-avito-2' }), 'requests_per_ip');
      assert.equal((await t.request('GET', '/health')).status, 200);
    } finally {
      await t.close();
    }
  });

  it('limits stream connections too: the upgrade is refused with 429', async () => {
    const t = await createTestApp({ PARLEY_RATE_LIMIT_USER: '1', PARLEY_RATE_LIMIT_USER_BURST: '2' });
    try {
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const frank = await t.login('rl-frank');
      const stream = await StreamClient.connect(base, frank.token);
      assert.equal(await upgradeStatus(base, frank.token), 429);
      const events = await fetch(`${base}/v1/events`, {
        headers: { authorization: `Bearer ${frank.token}` },
      });
      assert.equal(events.status, 429);
      assert.equal(events.headers.get('retry-after'), '1');
      assertError(
        { status: events.status, body: await events.json(), headers: events.headers },
        429,
        'rate_limited',
      );
      await stream.close();
    } finally {
      await t.close();
    }
  });
});

describe('stream limit configuration', () => {
  it('10 frames a second (20 at once) per socket and 20 streams per user by default', () => {
    const { frames, socketsPerUser } = config().realtime;
    assert.deepEqual(frames, { rate: 10, burst: 20 });
    assert.equal(socketsPerUser, 20);
    assert.equal(config({ PARLEY_WS_FRAME_RATE: '0' }).realtime.frames, null);
    assert.deepEqual(config({ PARLEY_WS_FRAME_RATE: '3' }).realtime.frames, { rate: 3, burst: 6 });
  });

  it('refuses bad values, naming the variable', () => {
    assertConfigError({ PARLEY_WS_FRAME_RATE: 'many' }, 'PARLEY_WS_FRAME_RATE');
    assertConfigError({ PARLEY_WS_FRAME_BURST: '0' }, 'PARLEY_WS_FRAME_BURST');
    assertConfigError({ PARLEY_MAX_SOCKETS_PER_USER: '0' }, 'PARLEY_MAX_SOCKETS_PER_USER');
    assertConfigError({ PARLEY_MAX_SOCKETS_PER_USER: 'ten' }, 'PARLEY_MAX_SOCKETS_PER_USER');
  });
});

describe(`stream limits (${ENGINE})`, () => {
  it('refuses frames over the rate with one error frame per run, and closes a socket that keeps on with 4029', async () => {
    const t = await createTestApp({ PARLEY_WS_FRAME_RATE: '2', PARLEY_WS_FRAME_BURST: '3' });
    try {
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const alice = await t.login('fr-alice');
      const stream = await StreamClient.connect(base, alice.token);
      for (let i = 0; i < 5; i++) {
        stream.send({ type: 'ping' });
      }
      const [error] = await stream.waitFor('error');
      assert.equal(error!.error.code, 'rate_limited');
      assert.match(error!.error.message, /^frames_per_socket: at most 2 frames a second \(3 at once\)/);
      await stream.waitFor((f) => f.type === 'pong', 3);
      // Calm for a second: the run is over. Nothing more came meanwhile.
      await stream.quietFor(1200);
      assert.equal(stream.of('pong').length, 3, 'the burst went through, the two frames over it did not');
      assert.equal(stream.of('error').length, 1, 'one error frame for the run, not one per refused frame');
      // Frames at the rate pass again.
      stream.send({ type: 'ping' });
      await stream.waitFor((f) => f.type === 'pong', 4);
      assert.equal(stream.closeCode, null);
      // A flood: more than the burst refused in a row, and the socket goes.
      for (let i = 0; i < 30 && stream.socket.readyState === WebSocket.OPEN; i++) {
        stream.send({ type: 'ping' });
      }
      assert.equal(await stream.waitForClose(), 4029);
      assert.equal(stream.socket.readyState, WebSocket.CLOSED);
      for (let waited = 0; t.app.parley.gateway.connectionCount > 0; waited += 20) {
        assert.ok(waited < 5000, 'the server dropped the connection');
        await sleep(20);
      }
      const again = await StreamClient.connect(base, alice.token);
      again.send({ type: 'ping' });
      await again.waitFor((f) => f.type === 'pong');
      await again.close();
    } finally {
      await t.close();
    }
  });

  it('counts every frame, bad ones too, and has no limit with PARLEY_WS_FRAME_RATE=0', async () => {
    const t = await createTestApp({ PARLEY_WS_FRAME_RATE: '0' });
    const limited = await createTestApp({ PARLEY_WS_FRAME_RATE: '1', PARLEY_WS_FRAME_BURST: '1' });
    try {
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const bob = await t.login('fr-bob');
      const stream = await StreamClient.connect(base, bob.token);
      for (let i = 0; i < 200; i++) {
        stream.send({ type: 'ping' });
      }
      await stream.waitFor((f) => f.type === 'pong', 200);
      assert.equal(stream.of('error').length, 0);
      await stream.close();

      const limitedBase = await limited.app.listen({ port: 0, host: '127.0.0.1' });
      const carol = await limited.login('fr-carol');
      const other = await StreamClient.connect(limitedBase, carol.token);
      other.socket.send('not json');
      other.send({ type: 'ping' });
      const errors = await other.waitFor('error', undefined, 2);
      // The bad frame took the only token (and is answered once the stream is open); the ping found none.
      assert.deepEqual(errors.map((f) => f.error.code).sort(), ['invalid_request', 'rate_limited']);
      assert.match(
        errors.find((f) => f.error.code === 'rate_limited')!.error.message,
        /^frames_per_socket: /,
      );
      assert.equal(other.of('pong').length, 0);
      await other.close();
    } finally {
      await Promise.all([t.close(), limited.close()]);
    }
  });

  it('holds each user to PARLEY_MAX_SOCKETS_PER_USER streams, WebSocket and SSE together, exactly under a rush', async () => {
    const t = await createTestApp({ PARLEY_MAX_SOCKETS_PER_USER: '3' });
    try {
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const dave = await t.login('so-dave');
      const erin = await t.login('so-erin');
      // Ten connects at once: exactly three become streams; the rest are told why and closed with 4009.
      const rush = await Promise.all(Array.from({ length: 10 }, () => attempt(base, dave.token)));
      const streams = rush.filter((a) => a.ready);
      const refused = rush.filter((a) => !a.ready);
      assert.equal(streams.length, 3);
      assert.equal(refused.length, 7);
      for (const a of refused) {
        assert.equal(a.closeCode, 4009);
        const [first] = a.frames;
        assert.equal(first?.type, 'error');
        assert.equal(first.error.code, 'limit_exceeded');
        assert.match(first.error.message, /^sockets_per_user: at most 3 open streams per user/);
      }
      // SSE counts too: the fourth stream is a 409 before the event stream starts.
      const sse = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${dave.token}` } });
      assertError(
        { status: sse.status, body: await sse.json(), headers: sse.headers },
        409,
        'limit_exceeded',
        'sockets_per_user',
      );
      // Another user has places of their own.
      const theirs = await StreamClient.connect(base, erin.token);
      // A place comes free when a stream closes; an SSE stream can take it, and then it is full again.
      streams[0]!.socket.close();
      for (let waited = 0; t.app.parley.gateway.connectionCount > 3; waited += 20) {
        assert.ok(waited < 5000, 'the closed stream is gone');
        await sleep(20);
      }
      const controller = new AbortController();
      const events = await fetch(`${base}/v1/events`, {
        headers: { authorization: `Bearer ${dave.token}` },
        signal: controller.signal,
      });
      assert.equal(events.status, 200);
      const full = await attempt(base, dave.token);
      assert.equal(full.closeCode, 4009);
      controller.abort();
      for (const a of streams.slice(1)) {
        a.socket.close();
      }
      await theirs.close();
    } finally {
      await t.close();
    }
  });
});

describe('chat limit configuration', () => {
  it('10000 members per chat and 10000 chats per user by default', () => {
    assert.equal(config().limits.chatMembers, 10_000);
    assert.equal(config().limits.chatsPerUser, 10_000);
    const custom = config({ PARLEY_MAX_CHAT_MEMBERS: '2', PARLEY_MAX_CHATS_PER_USER: '1' });
    assert.equal(custom.limits.chatMembers, 2);
    assert.equal(custom.limits.chatsPerUser, 1);
  });

  it('refuses bad values, naming the variable; a chat needs room for two', () => {
    assertConfigError({ PARLEY_MAX_CHAT_MEMBERS: '1' }, 'PARLEY_MAX_CHAT_MEMBERS');
    assertConfigError({ PARLEY_MAX_CHAT_MEMBERS: 'big' }, 'PARLEY_MAX_CHAT_MEMBERS');
    assertConfigError({ PARLEY_MAX_CHATS_PER_USER: '0' }, 'PARLEY_MAX_CHATS_PER_USER');
    assertConfigError({ PARLEY_MAX_CHATS_PER_USER: '-3' }, 'PARLEY_MAX_CHATS_PER_USER');
  });
});

/** A 409 limit_exceeded naming `limit`, with the maximum in the details. */
function assertLimit(res: Response, limit: string, max: number, messageIncludes = `${limit}:`): void {
  const error = assertError(res, 409, 'limit_exceeded', { includes: messageIncludes });
  assert.ok(error.message.startsWith(`${limit}: `), error.message);
  assert.deepEqual(error.details, [{ limit, max }]);
}

describe(`members per chat (${ENGINE})`, () => {
  it('refuses a group created with too many members, and members added to a full chat, in every way', async () => {
    const t = await createTestApp({ PARLEY_MAX_CHAT_MEMBERS: '3', DIALECTS: 'avito' });
    try {
      const owner = await t.login('mc-owner');
      const a = await t.login('mc-a');
      const b = await t.login('mc-b');
      const c = await t.login('mc-c');
      const tooBig = await owner.post('/v1/chats', {
        kind: 'group',
        name: 'too big',
        members: [a.userId, b.userId, c.userId],
      });
      assertLimit(tooBig, 'members_per_chat', 3, 'at most 3 members, and this one would have 4');
      assert.equal((await owner.get('/v1/chats')).body.data.length, 0, 'nothing was created');

      const chat = await createGroup(owner, [a, b], { visibility: 'public' });
      assert.equal(chat.memberCount, 3, 'exactly the maximum is fine');
      assertLimit(
        await owner.post(`/v1/chats/${chat.id}/members`, { userId: c.userId }),
        'members_per_chat',
        3,
      );
      assertLimit(await c.post(`/v1/chats/${chat.id}/members`, { userId: c.userId }), 'members_per_chat', 3);
      // Access comes first: a private chat the caller cannot see is still a 404, not a limit.
      const secret = await createGroup(owner, [a, b]);
      assertError(await c.post(`/v1/chats/${secret.id}/members`, { userId: c.userId }), 404, 'not_found');
      // And someone already in is still a conflict about them.
      assertError(await owner.post(`/v1/chats/${chat.id}/members`, { userId: a.userId }), 409, 'conflict');

      // JSON:API's relationship endpoint adds all or none.
      await owner.delete(`/v1/chats/${chat.id}/members/${b.userId}`);
      const d = await t.login('mc-d');
      const both = await owner.post(
        `/v1/chats/${chat.id}/relationships/members`,
        {
          data: [
            { type: 'users', id: c.userId },
            { type: 'users', id: d.userId },
          ],
        },
        SEND,
      );
      assertErrors(both, 409, 'limit_exceeded', { detail: /^members_per_chat: / });
      assert.equal((await owner.get(`/v1/chats/${chat.id}`)).body.memberCount, 2, 'none of them was added');
      assert.equal((await owner.post(`/v1/chats/${chat.id}/members`, { userId: c.userId })).status, 201);
      assert.equal((await owner.get(`/v1/chats/${chat.id}`)).body.memberCount, 3);

      // A direct chat has two members, within any maximum.
      assert.equal((await a.post('/v1/chats', { kind: 'direct', members: [c.userId] })).status, 201);

      // The token-less dialects go through the same rules.
      const ids: string[] = [];
      for (const username of ['mc-av-1', 'mc-av-2', 'mc-av-3', 'mc-av-4']) {
        ids.push((await t.request<{ id: string }>('POST', '/users/add', { username })).body.id);
      }
      const avito = await t.request('POST', '/chats/add', { name: 'avito room', users: ids });
      assertLimit(avito, 'members_per_chat', 3);
    } finally {
      await t.close();
    }
  });

  it('holds exactly under concurrent adds and joins', async () => {
    const t = await createTestApp({ PARLEY_MAX_CHAT_MEMBERS: '5' });
    try {
      const owner = await t.login('race-owner');
      const users = await Promise.all(Array.from({ length: 20 }, (_, i) => t.login(`race-${i}`)));
      const chat = await createGroup(owner);
      const adds = await Promise.all(
        users.map((u) => owner.post(`/v1/chats/${chat.id}/members`, { userId: u.userId })),
      );
      assert.equal(adds.filter((r) => r.status === 201).length, 4, 'four places next to the owner');
      for (const refused of adds.filter((r) => r.status !== 201)) {
        assertLimit(refused, 'members_per_chat', 5);
      }
      const members = await owner.get(`/v1/chats/${chat.id}/members?limit=200`);
      assert.equal(members.body.data.length, 5);
      assert.equal((await owner.get(`/v1/chats/${chat.id}`)).body.memberCount, 5);

      const open = await createGroup(owner, [], { visibility: 'public' });
      const joins = await Promise.all(
        users.map((u) => u.post(`/v1/chats/${open.id}/members`, { userId: u.userId })),
      );
      assert.equal(joins.filter((r) => r.status === 201).length, 4);
      assert.equal(joins.filter((r) => r.status === 409).length, 16);
      assert.equal((await owner.get(`/v1/chats/${open.id}/members?limit=200`)).body.data.length, 5);
    } finally {
      await t.close();
    }
  });
});

describe(`chats per user (${ENGINE})`, () => {
  it('refuses creating or joining one chat too many, for the caller and for the users they add', async () => {
    const t = await createTestApp({ PARLEY_MAX_CHATS_PER_USER: '3' });
    try {
      const alice = await t.login('cu-alice');
      const bob = await t.login('cu-bob');
      const carol = await t.login('cu-carol');
      const first = await createGroup(alice);
      await createGroup(alice);
      const direct = await createDirect(alice, bob);
      assertLimit(
        await alice.post('/v1/chats', { kind: 'group', name: 'fourth' }),
        'chats_per_user',
        3,
        'you are in 3 chats already; a user may be in at most 3',
      );
      assertLimit(
        await alice.post('/v1/chats', { kind: 'direct', members: [carol.userId] }),
        'chats_per_user',
        3,
      );
      // Opening a direct chat that exists creates nothing: still fine.
      const again = await alice.post('/v1/chats', { kind: 'direct', members: [bob.userId] });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, direct.id);

      // Others cannot put her in a fourth chat either: not at creation, not by adding, and she cannot join one.
      const byBob = await bob.post('/v1/chats', {
        kind: 'group',
        name: 'with alice',
        members: [alice.userId],
      });
      assertLimit(byBob, 'chats_per_user', 3, 'user "cu-alice" is in 3 chats already');
      const bobs = await createGroup(bob, [], { visibility: 'public' });
      assertLimit(
        await bob.post(`/v1/chats/${bobs.id}/members`, { userId: alice.userId }),
        'chats_per_user',
        3,
      );
      assertLimit(
        await alice.post(`/v1/chats/${bobs.id}/members`, { userId: alice.userId }),
        'chats_per_user',
        3,
      );
      assert.equal((await alice.get('/v1/chats')).body.data.length, 3);

      // Leaving one (or its deletion) makes room.
      assert.equal((await alice.delete(`/v1/chats/${first.id}`)).status, 204);
      assert.equal((await alice.post(`/v1/chats/${bobs.id}/members`, { userId: alice.userId })).status, 201);
      assertLimit(await alice.post('/v1/chats', { kind: 'group', name: 'fifth' }), 'chats_per_user', 3);
    } finally {
      await t.close();
    }
  });

  it('holds exactly under concurrent creations and adds', async () => {
    const t = await createTestApp({ PARLEY_MAX_CHATS_PER_USER: '5' });
    try {
      const dave = await t.login('cr-dave');
      const created = await Promise.all(
        Array.from({ length: 20 }, (_, i) => dave.post('/v1/chats', { kind: 'group', name: `dave ${i}` })),
      );
      assert.equal(created.filter((r) => r.status === 201).length, 5);
      for (const refused of created.filter((r) => r.status !== 201)) {
        assertLimit(refused, 'chats_per_user', 5);
      }
      assert.equal((await dave.get('/v1/chats')).body.data.length, 5);

      // Twenty owners add the same user to their chats at once; some of them also start direct chats with her.
      const erin = await t.login('cr-erin');
      const owners = await Promise.all(Array.from({ length: 20 }, (_, i) => t.login(`cr-owner-${i}`)));
      const chats = await Promise.all(owners.map((o) => createGroup(o)));
      const adds = await Promise.all([
        ...owners.map((o, i) => o.post(`/v1/chats/${chats[i]?.id}/members`, { userId: erin.userId })),
        ...owners.slice(0, 5).map((o) => o.post('/v1/chats', { kind: 'direct', members: [erin.userId] })),
      ]);
      assert.equal(adds.filter((r) => r.status === 201).length, 5);
      assert.equal(adds.filter((r) => r.status === 409).length, 20);
      assert.equal((await erin.get('/v1/chats')).body.data.length, 5);
    } finally {
      await t.close();
    }
  });

  it('does not bind Instabug’s system user, which is in every chat of its application', async () => {
    const t = await createTestApp({ PARLEY_MAX_CHATS_PER_USER: '2', DIALECTS: 'instabug' });
    try {
      const app = await t.request<{ token: string }>('POST', '/api/v1/applications', { name: 'busy app' });
      assert.equal(app.status, 201);
      for (let i = 0; i < 4; i++) {
        const chat = await t.request('POST', `/api/v1/applications/${app.body.token}/chats`, {});
        assert.equal(chat.status, 201, JSON.stringify(chat.body));
      }
    } finally {
      await t.close();
    }
  });
});
