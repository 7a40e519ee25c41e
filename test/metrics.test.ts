import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { register as globalRegistry } from 'prom-client';
import { mintToken, parley } from '../src/index.ts';
import { ConfigError } from '../src/env.ts';
import { isPrivateAddress, metricsAccess } from '../src/metrics/metrics.access.ts';
import { Metrics } from '../src/metrics/metrics.registry.ts';
import {
  clientFor,
  createTestApp,
  dropSchema,
  ENGINE,
  testAppConfig,
  testConfig,
  testSchemaName,
  type TestApp,
} from './support/app.ts';
import { createGroup } from './support/factories.ts';
import { parsePrometheusText, sampleValue, samples, type Family } from './support/prometheus.ts';
import { StreamClient } from './support/ws.ts';

type Families = Map<string, Family>;

async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<Families> {
  const res = await t.app.inject({ method: 'GET', url: '/metrics', headers });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(res.body);
}

const SEND_ROUTE = { method: 'POST', route: '/v1/chats/:id/messages' };

describe(`metrics (${ENGINE})`, () => {
  let t: TestApp;
  let base: string;

  before(async () => {
    t = await createTestApp({ PARLEY_RESUME_GRACE_MS: '0' });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await t.close();
  });

  it('answers the Prometheus text format: every family typed, histograms whole, the default process metrics', async () => {
    const alice = await t.login('format-alice');
    await createGroup(alice);
    const families = await scrape(t);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_gc_duration_seconds',
    ]) {
      assert.ok(families.has(name), `${name} is missing`);
    }
    const expected: Record<string, string> = {
      parley_info: 'gauge',
      parley_http_requests_total: 'counter',
      parley_http_request_duration_seconds: 'histogram',
      parley_sends_total: 'counter',
      parley_send_batch_size: 'histogram',
      parley_send_batch_duration_seconds: 'histogram',
      parley_send_queue_length: 'gauge',
      parley_send_batches_in_flight: 'gauge',
      parley_stream_connections: 'gauge',
      parley_bus_lag_seconds: 'histogram',
      parley_db_pool_connections: 'gauge',
      parley_db_pool_idle_connections: 'gauge',
      parley_db_pool_waiting_clients: 'gauge',
      parley_db_pool_max_connections: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) {
      assert.equal(families.get(name)?.type, type, name);
      assert.ok(families.get(name)?.help, `${name} has no HELP`);
    }
    assert.equal(sampleValue(families, 'parley_info', { engine: ENGINE, bus: t.app.parley.bus.kind }), 1);
    assert.equal(
      sampleValue(families, 'parley_db_pool_max_connections'),
      ENGINE === 'pglite' ? 1 : t.config.database.kind === 'postgres' ? t.config.database.poolSize : 0,
    );
    const connections = sampleValue(families, 'parley_db_pool_connections');
    assert.ok(connections >= 1 && connections <= sampleValue(families, 'parley_db_pool_max_connections'));
    // The parser is strict: it refuses what a scraper would.
    assert.throws(() => parsePrometheusText('x{a="1"} 1\ny 2\nx{a="2"} 3\n'), /not in one group/);
    assert.throws(() => parsePrometheusText('x{a="1} 1\n'), /never ends/);
    assert.throws(
      () => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n'),
      /\+Inf/,
    );
    assert.throws(() => parsePrometheusText('x one\n'), /not a number/);
  });

  it('counts sends, their batches and the requests under the route pattern, by the right amounts', async () => {
    const alice = await t.login('count-alice');
    const bob = await t.login('count-bob');
    const eve = await t.login('count-eve');
    const chat = await createGroup(alice, [bob]);
    const before = await scrape(t);

    const sent = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? bob : alice).post(`/v1/chats/${chat.id}/messages`, { text: `m${i}` }),
      ),
    );
    assert.deepEqual(
      sent.map((r) => r.status),
      Array(10).fill(201),
    );
    // A send the batch does not write: its outcome (not a member) answers 404.
    assert.equal((await eve.post(`/v1/chats/${chat.id}/messages`, { text: 'not a member' })).status, 404);
    assert.equal((await alice.get(`/v1/chats/${chat.id}/messages/3`)).status, 200);
    assert.equal((await alice.get(`/v1/chats/${chat.id}/messages/999`)).status, 404);
    const after = await scrape(t);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);

    assert.equal(delta('parley_http_requests_total', { ...SEND_ROUTE, status: '201' }), 10);
    assert.equal(delta('parley_http_requests_total', { ...SEND_ROUTE, status: '404' }), 1);
    assert.equal(
      delta('parley_http_request_duration_seconds_count', { ...SEND_ROUTE, status_class: '2xx' }),
      10,
    );
    assert.equal(
      delta('parley_http_request_duration_seconds_count', { ...SEND_ROUTE, status_class: '4xx' }),
      1,
    );
    const seqRoute = { method: 'GET', route: '/v1/chats/:id/messages/:seq' };
    assert.equal(delta('parley_http_requests_total', { ...seqRoute, status: '200' }), 1);
    assert.equal(delta('parley_http_requests_total', { ...seqRoute, status: '404' }), 1);
    assert.equal(delta('parley_sends_total', { result: 'written' }), 10);
    assert.equal(delta('parley_sends_total', { result: 'skipped' }), 1);
    assert.equal(delta('parley_sends_total', { result: 'failed' }), 0);
    // Eleven sends went through the group commit, in at least one batch and at most eleven.
    assert.equal(delta('parley_send_batch_size_sum'), 11);
    const batches = delta('parley_send_batch_size_count');
    assert.ok(batches >= 1 && batches <= 11, `${batches} batches`);
    assert.equal(delta('parley_send_batch_duration_seconds_count'), batches);
    assert.ok(delta('parley_send_batch_duration_seconds_sum') > 0);
    assert.equal(sampleValue(after, 'parley_send_queue_length'), 0);
  });

  it('labels requests by route pattern only: no id, seq or unmatched URL ever becomes a label', async () => {
    const alice = await t.login('label-alice');
    const chat = await createGroup(alice);
    await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'x' });
    await alice.get(`/v1/chats/${chat.id}/messages/1`);
    await alice.get(`/v1/users/label-alice`);
    const secret = `probe-${Math.random().toString(36).slice(2)}`;
    assert.equal((await t.request('GET', `/no/such/${secret}`)).status, 404);
    assert.equal((await t.request('DELETE', `/v1/${secret}`)).status, 404);
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    for (const value of [chat.id, secret, 'label-alice']) {
      assert.ok(!res.body.includes(value), `${value} appears in the metrics`);
    }
    const families = parsePrometheusText(res.body);
    const routes = new Set(
      samples(families)
        .filter((s) => s.name.startsWith('parley_http_'))
        .map((s) => s.labels.route),
    );
    for (const route of routes) {
      assert.ok(route === 'unmatched' || route?.startsWith('/'), `route label ${route}`);
    }
    for (const route of [
      '/v1/chats/:id/messages',
      '/v1/chats/:id/messages/:seq',
      '/v1/users/:id',
      'unmatched',
    ]) {
      assert.ok(routes.has(route), `no series for ${route}`);
    }
    assert.ok(
      sampleValue(families, 'parley_http_requests_total', { route: 'unmatched', status: '404' }) >= 2,
    );
  });

  it('exposes every histogram bucket, cumulative, with +Inf', async () => {
    const families = await scrape(t);
    const les = (name: string, labels: Record<string, string> = {}) =>
      samples(families)
        .filter(
          (s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
        )
        .map((s) => s.labels.le);
    assert.deepEqual(les('parley_http_request_duration_seconds', { ...SEND_ROUTE, status_class: '2xx' }), [
      '0.001',
      '0.0025',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '+Inf',
    ]);
    assert.deepEqual(les('parley_send_batch_size'), [
      '1',
      '2',
      '5',
      '10',
      '20',
      '50',
      '100',
      '200',
      '500',
      '+Inf',
    ]);
    assert.equal(les('parley_send_batch_duration_seconds').length, 14);
    assert.equal(les('parley_bus_lag_seconds', { bus: t.app.parley.bus.kind }).length, 13);
  });

  it('counts open stream connections by transport and times the bus; clients never see the publish time', async () => {
    const alice = await t.login('stream-alice');
    const bob = await t.login('stream-bob');
    const chat = await createGroup(alice, [bob]);
    const start = await scrape(t);
    const ws = await StreamClient.connect(base, bob.token);
    const sse = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${bob.token}` } });
    assert.equal(sse.status, 200);
    const reader = sse.body!.getReader();
    let sseText = '';
    const readUntil = async (needle: string) => {
      while (!sseText.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) {
          throw new Error(`SSE ended before ${needle}`);
        }
        sseText += new TextDecoder().decode(value);
      }
    };
    await readUntil('"ready"');
    const open = await scrape(t);
    assert.equal(sampleValue(open, 'parley_stream_connections', { transport: 'ws' }), 1);
    assert.equal(sampleValue(open, 'parley_stream_connections', { transport: 'sse' }), 1);

    const lagBefore = sampleValue(open, 'parley_bus_lag_seconds_count', { bus: t.app.parley.bus.kind });
    await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'lag' });
    const [frame] = await ws.waitFor((f) => f.type === 'message.created' && f.chatId === chat.id);
    await readUntil('message.created');
    assert.ok(frame && !('publishedAt' in frame), JSON.stringify(frame));
    assert.deepEqual(Object.keys(frame).sort(), ['chatId', 'message', 'type']);
    assert.ok(!sseText.includes('publishedAt'), sseText);
    const delivered = await scrape(t);
    const lagCount = sampleValue(delivered, 'parley_bus_lag_seconds_count', { bus: t.app.parley.bus.kind });
    assert.ok(lagCount >= lagBefore + 1, `bus lag count ${lagBefore} → ${lagCount}`);
    const lagSum = sampleValue(delivered, 'parley_bus_lag_seconds_sum', { bus: t.app.parley.bus.kind });
    assert.ok(lagSum >= 0 && lagSum < 60 * lagCount, `bus lag sum ${lagSum}`);

    await ws.close();
    await reader.cancel();
    const closed = await waitForGauge(t, { ws: 0, sse: 0 });
    assert.equal(sampleValue(closed, 'parley_stream_connections', { transport: 'ws' }), 0);
    assert.equal(sampleValue(closed, 'parley_stream_connections', { transport: 'sse' }), 0);
    // A refused stream request is an ordinary answer, and counted as one.
    assert.equal((await t.request('GET', '/v1/events')).status, 401);
    const refused = await scrape(t);
    assert.equal(
      sampleValue(refused, 'parley_http_requests_total', { route: '/v1/events', status: '401' }) -
        sampleValue(start, 'parley_http_requests_total', { route: '/v1/events', status: '401' }),
      1,
    );
  });

  it('keeps each app in a registry of its own', async () => {
    const other = await createTestApp();
    try {
      const me = { method: 'GET', route: '/v1/me', status: '200' };
      const mineBefore = sampleValue(await scrape(t), 'parley_http_requests_total', me);
      const alice = await other.login('own-alice');
      for (let i = 0; i < 3; i++) {
        await alice.get('/v1/me');
      }
      const mine = await scrape(t);
      const theirs = await scrape(other);
      assert.equal(sampleValue(theirs, 'parley_http_requests_total', me), 4);
      assert.equal(sampleValue(mine, 'parley_http_requests_total', me), mineBefore);
      assert.notEqual(other.app.parley.metrics!.registry, t.app.parley.metrics!.registry);
      // Both show the process's metrics.
      assert.ok(theirs.has('process_resident_memory_bytes') && mine.has('process_resident_memory_bytes'));
    } finally {
      await other.close();
    }
  });
});

async function waitForGauge(t: TestApp, expected: { ws: number; sse: number }): Promise<Families> {
  for (let attempt = 0; ; attempt++) {
    const families = await scrape(t);
    const ws = sampleValue(families, 'parley_stream_connections', { transport: 'ws' });
    const sse = sampleValue(families, 'parley_stream_connections', { transport: 'sse' });
    if ((ws === expected.ws && sse === expected.sse) || attempt > 100) {
      return families;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe(`metrics of an embedded Parley (${ENGINE})`, () => {
  it('answers under the prefix, labels routes with it, counts none of the host routes, leaves the global registry alone', async () => {
    const schema = testSchemaName();
    const config = await testAppConfig({}, schema);
    // Opening and migrating the embedded database can take longer than Fastify's default 10 s plugin timeout.
    const host = Fastify({ pluginTimeout: 120_000 });
    host.get('/hello', async () => ({ hello: 'host' }));
    await host.register(parley, { config, prefix: '/chat' });
    try {
      const alice = clientFor(host, 'alice', await mintToken(config.jwt, { sub: 'alice' }));
      assert.equal((await alice.get('/chat/v1/me')).status, 200);
      assert.equal((await host.inject({ method: 'GET', url: '/hello' })).statusCode, 200);
      assert.equal((await host.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
      const res = await host.inject({ method: 'GET', url: '/chat/metrics' });
      assert.equal(res.statusCode, 200);
      const families = parsePrometheusText(res.body);
      assert.equal(
        sampleValue(families, 'parley_http_requests_total', { route: '/chat/v1/me', status: '200' }),
        1,
      );
      const routes = samples(families)
        .filter((s) => s.name === 'parley_http_requests_total')
        .map((s) => s.labels.route);
      assert.ok(!routes.includes('/hello'), routes.join(', '));
      assert.ok(!(await globalRegistry.metrics()).includes('parley_'));
      assert.equal(globalRegistry.getSingleMetric('process_resident_memory_bytes'), undefined);
    } finally {
      await host.close();
      await dropSchema(schema);
    }
  });
});

describe(`who may read the metrics (${ENGINE})`, () => {
  const NOT_FOUND = { error: { code: 'not_found', message: 'no route for GET /metrics' } };

  it('without a token: private and loopback peers that did not come through a proxy, else a plain 404', async () => {
    const t = await createTestApp();
    try {
      const read = (remoteAddress: string, headers: Record<string, string> = {}) =>
        t.app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers });
      for (const address of [
        '127.0.0.1',
        '::1',
        '10.1.2.3',
        '172.20.0.5',
        '192.168.1.9',
        '::ffff:10.0.0.8',
        'fd12::1',
      ]) {
        assert.equal((await read(address)).statusCode, 200, address);
      }
      for (const address of ['203.0.113.7', '8.8.8.8', '2001:db8::1', '::ffff:1.1.1.1']) {
        const res = await read(address);
        assert.equal(res.statusCode, 404, address);
        assert.deepEqual(JSON.parse(res.body), NOT_FOUND);
      }
      // What an unknown path answers: the same body.
      assert.deepEqual((await t.request('GET', '/metricz')).body, {
        error: { code: 'not_found', message: 'no route for GET /metricz' },
      });
      const proxied: Record<string, string>[] = [
        { 'x-forwarded-for': '10.0.0.1' },
        { forwarded: 'for=127.0.0.1' },
      ];
      for (const headers of proxied) {
        const res = await read('127.0.0.1', headers);
        assert.equal(res.statusCode, 404, JSON.stringify(headers));
        assert.ok(!res.body.includes('parley_'));
      }
    } finally {
      await t.close();
    }
  });

  it('PARLEY_METRICS_ALLOW=any opens it to every address', async () => {
    const t = await createTestApp({ PARLEY_METRICS_ALLOW: 'any' });
    try {
      const res = await t.app.inject({
        method: 'GET',
        url: '/metrics',
        remoteAddress: '203.0.113.7',
        headers: { 'x-forwarded-for': '198.51.100.1' },
      });
      assert.equal(res.statusCode, 200);
      parsePrometheusText(res.body);
    } finally {
      await t.close();
    }
  });

  it('with PARLEY_METRICS_TOKEN: the bearer token from any address, 401 without it', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const t = await createTestApp({ PARLEY_METRICS_TOKEN: token });
    try {
      const read = (headers: Record<string, string>, remoteAddress = '203.0.113.7') =>
        t.app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers });
      const wrong: Record<string, string>[] = [
        {},
        { authorization: `Bearer ${token}x` },
        { authorization: `Bearer ${token.slice(0, -1)}` },
        { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` },
        { authorization: token },
      ];
      for (const headers of wrong) {
        for (const address of ['127.0.0.1', '203.0.113.7']) {
          const res = await read(headers, address);
          assert.equal(res.statusCode, 401, `${JSON.stringify(headers)} from ${address}`);
          assert.equal(res.headers['www-authenticate'], 'Bearer realm="metrics"');
          assert.equal(JSON.parse(res.body).error.code, 'unauthorized');
          assert.ok(!res.body.includes('parley_'));
        }
      }
      for (const authorization of [`Bearer ${token}`, `bearer ${token}`]) {
        const res = await read({ authorization, 'x-forwarded-for': '198.51.100.1' });
        assert.equal(res.statusCode, 200, authorization);
        assert.ok(parsePrometheusText(res.body).has('parley_http_requests_total'));
      }
      // Refused scrapes are requests like any other.
      const families = parsePrometheusText((await read({ authorization: `Bearer ${token}` })).body);
      assert.ok(
        sampleValue(families, 'parley_http_requests_total', { route: '/metrics', status: '401' }) >= 10,
      );
    } finally {
      await t.close();
    }
  });

  it('PARLEY_METRICS=false: no route, no collection', async () => {
    const t = await createTestApp({ PARLEY_METRICS: 'false' });
    try {
      assert.equal(t.app.parley.metrics, null);
      const res = await t.request('GET', '/metrics');
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, NOT_FOUND);
    } finally {
      await t.close();
    }
  });

  it('checks the settings at start', () => {
    assert.deepEqual(testConfig().metrics, { enabled: true, token: null, allow: 'private' });
    assert.deepEqual(
      testConfig({ PARLEY_METRICS: 'off', PARLEY_METRICS_TOKEN: 'abc', PARLEY_METRICS_ALLOW: 'any' }).metrics,
      {
        enabled: false,
        token: 'abc',
        allow: 'any',
      },
    );
    for (const [variable, value] of [
      ['PARLEY_METRICS', 'sometimes'],
      ['PARLEY_METRICS_ALLOW', 'public'],
      ['PARLEY_METRICS_TOKEN', 'two words'],
    ] as const) {
      assert.throws(
        () => testConfig({ [variable]: value }),
        (error: unknown) => error instanceof ConfigError && error.variable === variable,
        variable,
      );
    }
  });

  it('counts a failed batch as failed sends, and a partly written one by what it wrote', async () => {
    const metrics = new Metrics({ engine: 'postgres', bus: 'local', pool: () => null });
    metrics.sendBatch({ size: 5, seconds: 0.02, written: 0, failed: true });
    metrics.sendBatch({ size: 7, seconds: 0.01, written: 4, failed: false });
    const families = parsePrometheusText(await metrics.render());
    assert.equal(sampleValue(families, 'parley_sends_total', { result: 'failed' }), 5);
    assert.equal(sampleValue(families, 'parley_sends_total', { result: 'written' }), 4);
    assert.equal(sampleValue(families, 'parley_sends_total', { result: 'skipped' }), 3);
    assert.equal(sampleValue(families, 'parley_send_batch_size_count'), 2);
    assert.equal(sampleValue(families, 'parley_send_batch_size_bucket', { le: '5' }), 1);
    assert.equal(sampleValue(families, 'parley_send_batch_size_bucket', { le: '10' }), 2);
    // Without a pool to read (a host's Kysely instance), no pool gauges at all.
    assert.ok(!families.has('parley_db_pool_connections'));
  });

  it('tells private addresses from public ones', () => {
    for (const address of [
      '127.0.0.1',
      '127.8.9.10',
      '10.255.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.1.1',
      '100.64.0.1',
      '::1',
      'fc00::1',
      'fe80::1',
      '::ffff:192.168.3.4',
    ]) {
      assert.equal(isPrivateAddress(address), true, address);
    }
    for (const address of [
      undefined,
      '',
      'localhost',
      '172.32.0.1',
      '11.0.0.1',
      '100.128.0.1',
      '1.2.3.4',
      '2001:db8::1',
      '::ffff:8.8.8.8',
      '::',
    ]) {
      assert.equal(isPrivateAddress(address), false, String(address));
    }
    const config = { enabled: true, token: null, allow: 'private' as const };
    assert.equal(
      metricsAccess(config, { authorization: undefined, peerAddress: '10.0.0.1', forwarded: false }),
      'allowed',
    );
    assert.equal(
      metricsAccess(config, { authorization: undefined, peerAddress: '10.0.0.1', forwarded: true }),
      'hidden',
    );
  });
});
