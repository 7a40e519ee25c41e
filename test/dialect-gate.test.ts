import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/env.ts';
import { createTestApp, TEST_SECRET, type TestApp } from './support/app.ts';

const KEY = 'k3y-0f-the-d1alect-gate-0123456789';

/** One request with a chosen client address (`app.inject` connects from 127.0.0.1 unless told). */
async function call(
  t: TestApp,
  method: 'GET' | 'POST',
  url: string,
  options: { body?: unknown; headers?: Record<string, string>; from?: string } = {},
) {
  const response = await t.app.inject({
    method,
    url,
    remoteAddress: options.from ?? '127.0.0.1',
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
  });
  const text = response.body;
  return {
    status: response.statusCode,
    headers: response.headers,
    body: (text ? JSON.parse(text) : null) as Record<string, unknown> | unknown[] | null,
  };
}

/** A harmless read of each dialect, and the error body each answers a refusal with. */
const DIALECTS = {
  avito: {
    read: { method: 'POST' as const, url: '/chats/get', body: { user: 'nobody' } },
    /** Avito keeps Parley's own error body. */
    refusal: (body: unknown, code: string) => {
      const error = (body as { error: { code: string; message: string } }).error;
      assert.equal(error.code, code);
      assert.match(error.message, /avito/);
    },
  },
  drf: {
    read: { method: 'GET' as const, url: '/users/' },
    /** DRF's user views answer `{"detail"}`. */
    refusal: (body: unknown) => {
      assert.deepEqual(Object.keys(body as object), ['detail']);
      assert.match((body as { detail: string }).detail, /drf/);
    },
  },
  instabug: {
    read: { method: 'GET' as const, url: '/api/v1/applications' },
    /** The Rails applications of /api/v1 answer `{"message"}`. */
    refusal: (body: unknown) => {
      assert.deepEqual(Object.keys(body as object), ['message']);
      assert.match((body as { message: string }).message, /instabug/);
    },
  },
};

const NAMES = ['avito', 'drf', 'instabug'] as const;

describe('dialect gate: open by default', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ DIALECTS: 'avito,drf,instabug' });
  });
  after(async () => {
    await t.close();
  });

  it('lets any address in without a key when no gate is configured', async () => {
    for (const name of NAMES) {
      const { read } = DIALECTS[name];
      const res = await call(t, read.method, read.url, {
        body: 'body' in read ? read.body : undefined,
        from: '203.0.113.9',
      });
      assert.notEqual(res.status, 401, name);
      assert.notEqual(res.status, 403, name);
      assert.ok(res.status < 500, `${name}: ${res.status}`);
    }
  });
});

for (const name of NAMES) {
  const upper = name.toUpperCase();
  const { read, refusal } = DIALECTS[name];
  const body = 'body' in read ? read.body : undefined;

  describe(`dialect gate: ${name} with a key and an allow-list`, () => {
    let t: TestApp;
    before(async () => {
      t = await createTestApp({
        DIALECTS: 'avito,drf,instabug',
        [`PARLEY_DIALECT_${upper}_KEY`]: KEY,
        [`PARLEY_DIALECT_${upper}_ALLOW`]: '127.0.0.0/8, 10.20.0.0/16, fd00::/8',
      });
    });
    after(async () => {
      await t.close();
    });

    it('lets the right key in, in X-Parley-Key or as a bearer token, from an allowed network', async () => {
      for (const headers of [{ 'x-parley-key': KEY }, { authorization: `Bearer ${KEY}` }] as Record<
        string,
        string
      >[]) {
        for (const from of ['127.0.0.1', '10.20.3.4', 'fd00::7', '::ffff:10.20.9.9']) {
          const res = await call(t, read.method, read.url, { body, headers, from });
          assert.ok(![401, 403].includes(res.status) && res.status < 500, `${from}: ${res.status}`);
        }
      }
    });

    it('answers 401 in the dialect’s own error body for a missing or wrong key', async () => {
      for (const headers of [
        {} as Record<string, string>,
        { 'x-parley-key': `${KEY}x` },
        { 'x-parley-key': 'short' },
        { authorization: `Bearer ${KEY.slice(1)}` },
        { authorization: `Basic ${KEY}` },
      ]) {
        const res = await call(t, read.method, read.url, { body, headers });
        assert.equal(res.status, 401, JSON.stringify(headers));
        refusal(res.body, 'unauthorized');
        assert.match(String(res.headers['www-authenticate']), /^Bearer realm="parley-/);
      }
    });

    if (name === 'drf') {
      it('answers DRF’s chat views in their own shape: {"status", "msg"}', async () => {
        const res = await call(t, 'GET', '/chat/chatroom/');
        assert.equal(res.status, 401);
        assert.deepEqual(Object.keys(res.body as object), ['status', 'msg']);
        assert.equal((res.body as { status: number }).status, 401);
      });
    }

    it('answers 403 in the dialect’s own error body to an address outside the allow-list, key or not', async () => {
      for (const from of ['10.21.0.1', '192.0.2.1', '2001:db8::1', '::ffff:192.0.2.1']) {
        const res = await call(t, read.method, read.url, { body, headers: { 'x-parley-key': KEY }, from });
        assert.equal(res.status, 403, from);
        refusal(res.body, 'forbidden');
      }
    });

    it('gates only this dialect: the others stay open', async () => {
      for (const other of NAMES.filter((n) => n !== name)) {
        const o = DIALECTS[other].read;
        const res = await call(t, o.method, o.url, {
          body: 'body' in o ? o.body : undefined,
          from: '192.0.2.1',
        });
        assert.ok(![401, 403].includes(res.status), `${other}: ${res.status}`);
      }
      const health = await call(t, 'GET', '/health', { from: '192.0.2.1' });
      assert.equal(health.status, 200);
    });
  });
}

describe('dialect gate: the client address behind a trusted proxy', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({
      DIALECTS: 'instabug',
      PARLEY_TRUST_PROXY: '127.0.0.1',
      PARLEY_DIALECT_INSTABUG_ALLOW: '198.51.100.0/24',
    });
  });
  after(async () => {
    await t.close();
  });

  it('judges the forwarded address when the proxy is trusted, and the connection’s otherwise', async () => {
    const allowed = await call(t, 'GET', '/api/applications', {
      headers: { 'x-forwarded-for': '198.51.100.20' },
    });
    assert.equal(allowed.status, 200);
    const refused = await call(t, 'GET', '/api/applications', {
      headers: { 'x-forwarded-for': '203.0.113.5' },
    });
    assert.equal(refused.status, 403);
    // The seed text's mount answers in its own shape: {"error": "..."}.
    assert.equal(typeof (refused.body as { error: unknown }).error, 'string');
    const untrusted = await call(t, 'GET', '/api/applications', {
      from: '192.0.2.50',
      headers: { 'x-forwarded-for': '198.51.100.20' },
    });
    assert.equal(untrusted.status, 403);
  });
});

describe('dialect gate: configuration', () => {
  /** A minimal env that touches no directory. */
  const base = {
    NODE_ENV: 'test',
    PARLEY_DATA_DIR: 'memory://gate',
    JWT_SECRET: TEST_SECRET,
    DIALECTS: 'avito',
  };

  it('is off for every dialect unless configured', () => {
    assert.deepEqual(loadConfig(base).dialectGates, { avito: null, drf: null, instabug: null });
  });

  it('reads a key and an allow-list per dialect', () => {
    const gates = loadConfig({
      ...base,
      PARLEY_DIALECT_DRF_KEY: KEY,
      PARLEY_DIALECT_AVITO_ALLOW: '10.0.0.1',
    }).dialectGates;
    assert.deepEqual(gates.drf, { key: KEY, allow: null });
    assert.deepEqual(gates.avito, {
      key: null,
      allow: [{ address: '10.0.0.1', prefix: 32, family: 'ipv4' }],
    });
    assert.equal(gates.instabug, null);
  });

  it('refuses a bad network, naming the setting', () => {
    for (const bad of [
      '10.0.0.0/33',
      'not-an-ip',
      '10.0.0.0/8,',
      'fd00::/129',
      '10.0.0.0/8/1',
      '10.0.0.0/x',
    ]) {
      assert.throws(
        () => loadConfig({ ...base, PARLEY_DIALECT_INSTABUG_ALLOW: bad }),
        (error: unknown) =>
          error instanceof ConfigError && error.variable === 'PARLEY_DIALECT_INSTABUG_ALLOW',
        bad,
      );
    }
  });

  it('refuses a short key, naming the setting', () => {
    assert.throws(
      () => loadConfig({ ...base, PARLEY_DIALECT_AVITO_KEY: 'short' }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'PARLEY_DIALECT_AVITO_KEY',
    );
  });
});
