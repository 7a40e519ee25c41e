import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp, ENGINE } from './support/app.ts';

const ACCEPT_JSONAPI = { accept: 'application/vnd.api+json' };
/** The per-address bucket: 5 requests at once, then one a second. */
const IP_LIMIT = {
  PARLEY_RATE_LIMIT_IP: '1',
  PARLEY_RATE_LIMIT_IP_BURST: '5',
  PARLEY_RATE_LIMIT_USER: '1000',
};

/** A listening app with `env`, and a GET of `path` without a token, with `headers`, answering status and code. */
async function serve(env: Record<string, string>) {
  const t = await createTestApp({ ...IP_LIMIT, ...env });
  const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const get = async (headers: Record<string, string> = {}, path = '/v1/me') => {
    const res = await fetch(`${base}${path}`, { headers });
    const body = (await res.json()) as { error?: { code: string; message: string } };
    return { status: res.status, code: body.error?.code ?? null, message: body.error?.message ?? '' };
  };
  return { t, base, get };
}

/** Spends the bucket of whoever `headers` make the caller: five 401s, then a 429. */
async function drain(get: Awaited<ReturnType<typeof serve>>['get'], headers: Record<string, string> = {}) {
  for (let i = 0; i < 5; i++) {
    assert.equal((await get(headers)).status, 401, `request ${i + 1} of the burst`);
  }
  const refused = await get(headers);
  assert.equal(refused.status, 429);
  assert.match(refused.message, /^requests_per_ip: /);
}

/**
 * `count` requests, 50 at a time, each with the headers `headersOf(i)` gives, all charged to one bucket: every one
 * refused but those the bucket refilled for meanwhile (one a second). Without a trusted address, each would have a
 * bucket of its own and none would be refused.
 */
async function assertAllCharged(
  get: Awaited<ReturnType<typeof serve>>['get'],
  count: number,
  headersOf: (i: number) => Record<string, string>,
  message: string,
): Promise<void> {
  const started = Date.now();
  const statuses: number[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from({ length: Math.min(50, count - start) }, (_, k) => get(headersOf(start + k)));
    statuses.push(...(await Promise.all(batch)).map((answer) => answer.status));
  }
  const refilled = Math.ceil((Date.now() - started) / 1000) + 1;
  const passed = statuses.filter((status) => status !== 429);
  assert.ok(
    passed.length <= refilled && passed.every((status) => status === 401),
    `${message}: ${passed.length} of ${count} not refused (the bucket refilled for at most ${refilled})`,
  );
}

const madeUp = (i: number) => `198.51.${Math.floor(i / 250)}.${(i % 250) + 1}`;

describe(`the client address (${ENGINE})`, () => {
  it('by default is the connection: a made-up X-Forwarded-For does not escape the per-address limit', async () => {
    const { t, get } = await serve({});
    try {
      await drain(get);
      await assertAllCharged(
        get,
        300,
        (i) => ({ 'x-forwarded-for': madeUp(i) }),
        'charged to the connection, 127.0.0.1',
      );
      // Nor do Forwarded or X-Real-IP.
      assert.equal((await get({ forwarded: 'for=198.51.100.7', 'x-real-ip': '198.51.100.8' })).status, 429);
    } finally {
      await t.close();
    }
  });

  it('behind a proxy named in PARLEY_TRUST_PROXY is the one the proxy forwards, and only that one', async () => {
    const { t, get } = await serve({ PARLEY_TRUST_PROXY: '127.0.0.1' });
    try {
      await drain(get, { 'x-forwarded-for': '10.0.0.1' });
      assert.equal(
        (await get({ 'x-forwarded-for': '10.0.0.2' })).status,
        401,
        'another client: its own bucket',
      );
      assert.equal((await get()).status, 401, 'the proxy itself (nothing forwarded): its own bucket');
      // The proxy appends the address it saw; whatever the client wrote before it is not believed.
      await assertAllCharged(
        get,
        300,
        (i) => ({ 'x-forwarded-for': `${madeUp(i)}, 10.0.0.1` }),
        'charged to 10.0.0.1',
      );

      // Metrics still go by the connection and refuse anything proxied: a forwarded 127.0.0.1 unlocks nothing.
      const scrape = (remoteAddress: string, headers: Record<string, string>) =>
        t.app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers });
      assert.equal((await scrape('203.0.113.7', { 'x-forwarded-for': '127.0.0.1' })).statusCode, 404);
      assert.equal((await scrape('127.0.0.1', { 'x-forwarded-for': '127.0.0.1' })).statusCode, 404);
      assert.equal((await scrape('127.0.0.1', {})).statusCode, 200);

      // JSON:API links follow X-Forwarded-Proto and -Host from the trusted proxy only.
      const alice = await t.login('addr-alice');
      const forwarded = {
        ...ACCEPT_JSONAPI,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'chat.example.org',
      };
      const trusted = await alice.get<{ links: { self: string } }>('/v1/me', forwarded);
      assert.equal(trusted.body.links.self, 'https://chat.example.org/v1/me');
      const fromElsewhere = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        remoteAddress: '203.0.113.7',
        headers: { ...forwarded, authorization: `Bearer ${alice.token}`, host: 'parley.internal' },
      });
      assert.equal(fromElsewhere.json().links.self, 'http://parley.internal/v1/me');
    } finally {
      await t.close();
    }
  });

  it('PARLEY_TRUST_PROXY as a number of hops takes the address that many hops in', async () => {
    const hops = await serve({ PARLEY_TRUST_PROXY: '1' });
    try {
      await drain(hops.get, { 'x-forwarded-for': '10.0.0.3' });
      await assertAllCharged(
        hops.get,
        50,
        (i) => ({ 'x-forwarded-for': `${madeUp(i)}, 10.0.0.3` }),
        'charged to the address the nearest proxy saw',
      );
      assert.equal((await hops.get({ 'x-forwarded-for': '10.0.0.3, 10.0.0.4' })).status, 401, '10.0.0.4');
    } finally {
      await hops.t.close();
    }
  });

  it('PARLEY_TRUST_PROXY=true takes the left-most address; POST /dev/token still goes by the connection', async () => {
    const { t, base, get } = await serve({ PARLEY_TRUST_PROXY: 'true' });
    try {
      // `true` believes the whole header: only behind a proxy that replaces it rather than appending to it.
      await drain(get, { 'x-forwarded-for': '10.0.0.5' });
      assert.equal((await get({ 'x-forwarded-for': '10.0.0.5, 10.0.0.6' })).status, 429, 'the left-most');

      // Even with every forwarded address believed, the token endpoint answers clients on this machine only.
      // (Each address below asks less often than its bucket's burst of 5.)
      const local = await fetch(`${base}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'addr-dora' }),
      });
      assert.equal(local.status, 200, 'a client on 127.0.0.1');
      const { token } = (await local.json()) as { token: string };
      const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.status, 200);

      const mint = (
        remoteAddress: string,
        headers: Record<string, string> = {},
        payload = { userId: 'addr-eve' },
      ) =>
        t.app.inject({
          method: 'POST',
          url: '/dev/token',
          remoteAddress,
          headers: { 'content-type': 'application/json', ...headers },
          payload: JSON.stringify(payload),
        });
      for (const address of ['::1', '::ffff:127.0.0.1', '127.0.0.2']) {
        assert.equal((await mint(address)).statusCode, 200, address);
      }
      const unknownRoute = await t.app.inject({
        method: 'POST',
        url: '/dev/nothing',
        remoteAddress: '192.0.2.10',
      });
      for (const [address, headers, payload] of [
        ['192.0.2.10', {}, undefined],
        ['10.0.0.7', {}, undefined],
        ['::ffff:192.0.2.10', {}, undefined],
        ['2001:db8::1', {}, undefined],
        // A forwarded loopback address is not the connection's.
        ['192.0.2.10', { 'x-forwarded-for': '127.0.0.1' }, undefined],
        // A request that came through a proxy on this machine may be anyone's.
        ['127.0.0.1', { 'x-forwarded-for': '203.0.113.5' }, undefined],
        ['127.0.0.1', { forwarded: 'for=203.0.113.5' }, undefined],
        // Refused before its body is read: an invalid one gets no 400 that would tell the route is there.
        ['192.0.2.10', {}, { nonsense: true }],
      ] as const) {
        const res = await mint(address, headers, payload as { userId: string } | undefined);
        assert.equal(res.statusCode, 404, `${address} ${JSON.stringify(headers)}`);
        assert.deepEqual(res.json(), {
          error: { code: 'not_found', message: 'no route for POST /dev/token' },
        });
        assert.equal(res.headers['content-type'], unknownRoute.headers['content-type']);
      }
      assert.equal(unknownRoute.statusCode, 404);
    } finally {
      await t.close();
    }
  });
});
