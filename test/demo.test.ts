import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { parley } from '../src/plugin.ts';
import { clientFor, createTestApp, ENGINE, inject, testConfig, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';

describe(`demo page (${ENGINE})`, () => {
  let t: TestApp;
  const mounted: FastifyInstance[] = [];

  /** Parley with `env` on top of the test configuration, on the test app's database (already migrated). */
  async function mount(env: Record<string, string>, prefix = ''): Promise<FastifyInstance> {
    const app = Fastify({ routerOptions: { maxParamLength: 512 }, pluginTimeout: 120_000 });
    const config = { ...testConfig(env), database: t.config.database, bus: t.config.bus, migrate: false };
    await app.register(parley, { config, store: t.app.parley.store, prefix });
    await app.ready();
    mounted.push(app);
    return app;
  }

  before(async () => {
    t = await createTestApp();
  });

  after(async () => {
    await Promise.all(mounted.map((app) => app.close()));
    await t.close();
  });

  it('is on outside production unless PARLEY_DEMO=false, and in production only with PARLEY_DEMO=true', () => {
    const secret = { JWT_SECRET: 'x'.repeat(40), PARLEY_DATA_DIR: 'memory://' };
    const demo = (env: Record<string, string>) => loadConfig({ ...secret, ...env }).demo;
    assert.deepEqual(demo({}), { enabled: true, devTokens: true }, 'development');
    assert.deepEqual(demo({ NODE_ENV: 'test' }), { enabled: true, devTokens: true });
    assert.deepEqual(demo({ PARLEY_DEMO: 'false' }), { enabled: false, devTokens: false });
    assert.deepEqual(demo({ NODE_ENV: 'production' }), { enabled: false, devTokens: false });
    assert.deepEqual(
      demo({ NODE_ENV: 'production', PARLEY_DEMO: 'true' }),
      { enabled: true, devTokens: false },
      'the page, but never the token endpoint, in production',
    );
    assert.throws(() => demo({ PARLEY_DEMO: 'maybe' }), /PARLEY_DEMO: must be true or false/);
  });

  it('serves the page and its files, with a content security policy', async () => {
    const page = await t.request<string>('GET', '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<title>Parley<\/title>/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    for (const [file, type] of [
      ['app.js', /^text\/javascript/],
      ['style.css', /^text\/css/],
      ['favicon.svg', /^image\/svg\+xml/],
    ] as const) {
      const res = await t.request('GET', `/demo/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(String(res.headers['content-type']), type, file);
    }
    // Every module the page has is served: a file missing from the list would break the page's imports.
    const modules = readdirSync(path.resolve(import.meta.dirname, '..', 'web')).filter(
      (name) => name.endsWith('.js') && name !== 'parley-client.js',
    );
    assert.ok(modules.length > 5, 'the page is split into modules');
    for (const file of modules) {
      const res = await t.request<string>('GET', `/demo/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(String(res.headers['content-type']), /^text\/javascript/, file);
      for (const [, imported] of res.body.matchAll(/^import [^;]*?'\.\/([\w.-]+)';$/gms)) {
        assert.ok(
          imported === 'parley-client.js' || modules.includes(imported ?? ''),
          `${file} imports ${imported}`,
        );
      }
    }
    assert.equal((await t.request('GET', '/demo/parley-client.d.ts')).status, 404, 'only the page files');
    assert.equal((await t.request('GET', '/demo/..%2Fpackage.json')).status, 404);
  });

  it('bundles the typed client for the browser without any server code', async () => {
    const res = await t.request('GET', '/demo/parley-client.js');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/javascript/);
    const bundle = String(res.body);
    assert.match(bundle, /export\s*\{[^}]*\bParleyClient\b/);
    assert.match(bundle, /export\s*\{[^}]*\bParleyStream\b/);
    for (const server of ['fastify', 'kysely', 'typebox', 'pglite', 'node:', 'pino', 'jose']) {
      assert.ok(!bundle.includes(server), `the bundle carries nothing of ${server}`);
    }
    // It imports nothing by name: Node 20's `ws` fallback (never reached where a global WebSocket exists) is named
    // through a variable, so that no bundler goes looking for a package the client does not depend on.
    assert.equal(bundle.match(/\bimport\s*\(?\s*["'][^"']+["']/g), null);
    assert.match(bundle, /\bimport\(\s*(\/\*[^*]*\*\/\s*)*\w+\s*\)/, 'the fallback, through a variable');
  });

  it('signs in anyone with a development token, which works on /v1', async () => {
    const res = await t.request('POST', '/dev/token', { userId: 'demo-dora', name: 'Dora' });
    assert.equal(res.status, 200);
    assert.equal(res.body.userId, 'demo-dora');
    assert.equal(res.body.expiresIn, 12 * 3600);
    const dora = clientFor(t.app, 'demo-dora', res.body.token);
    const me = await dora.get('/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.username, 'demo-dora');
    assert.equal(me.body.displayName, 'Dora');
    assert.equal((await t.request('POST', '/dev/token', {})).status, 400);
    assert.equal((await t.request('POST', '/dev/token', { userId: 'x', admin: 'yes' })).status, 400);
    // A tenant administrator's token, to try moderation from the page; without `admin`, a plain user's.
    assert.equal((await dora.get('/v1/reports')).status, 403);
    const boss = await t.request('POST', '/dev/token', { userId: 'demo-boss', admin: true });
    assert.equal(boss.status, 200);
    assert.equal((await clientFor(t.app, 'demo-boss', boss.body.token).get('/v1/reports')).status, 200);
  });

  it('is not there in production: the page and the token endpoint are 404', async () => {
    const production = await mount({ NODE_ENV: 'production' });
    for (const [method, url] of [
      ['GET', '/'],
      ['GET', '/demo/app.js'],
      ['GET', '/demo/parley-client.js'],
      ['POST', '/dev/token'],
    ] as const) {
      const res = await inject(
        production,
        method,
        url,
        method === 'POST' ? { userId: 'mallory' } : undefined,
      );
      assert.equal(res.status, 404, `${method} ${url}`);
      assertError(res, 404, 'not_found');
    }
    assert.equal((await inject(production, 'GET', '/health/ready')).status, 200, 'the rest is there');
  });

  it('PARLEY_DEMO=true in production serves the page but signs no tokens; PARLEY_DEMO=false serves nothing', async () => {
    const shown = await mount({ NODE_ENV: 'production', PARLEY_DEMO: 'true' });
    assert.equal((await inject(shown, 'GET', '/')).status, 200);
    assert.equal((await inject(shown, 'POST', '/dev/token', { userId: 'mallory' })).status, 404);
    const off = await mount({ PARLEY_DEMO: 'false' });
    assert.equal((await inject(off, 'GET', '/')).status, 404);
    assert.equal((await inject(off, 'POST', '/dev/token', { userId: 'mallory' })).status, 404);
  });

  it('under a prefix, sends /chat to /chat/ so that the page finds its files and the API', async () => {
    const host = await mount({}, '/chat');
    const bare = await inject(host, 'GET', '/chat?x=1');
    assert.equal(bare.status, 302);
    assert.equal(bare.headers.location, '/chat/?x=1');
    assert.equal((await inject(host, 'GET', '/chat/')).status, 200);
    assert.equal((await inject(host, 'GET', '/chat/demo/app.js')).status, 200);
    assert.equal((await inject(host, 'POST', '/chat/dev/token', { userId: 'p' })).status, 200);
  });
});
