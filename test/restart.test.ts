import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildApp } from '../src/app.ts';
import { mintToken } from '../src/auth/token.ts';
import { loadConfig } from '../src/config.ts';
import { clientFor } from './support/app.ts';

describe('PGlite data directory', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-restart-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps chats, messages and counters across a restart', async () => {
    // The embedded default: no DATABASE_URL, data under PARLEY_DATA_DIR; the JWT secret is generated there too.
    const config = loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', PARLEY_DATA_DIR: dir });
    assert.equal(config.database.kind, 'pglite');
    assert.equal(config.jwtSecretSource, 'generated');

    const first = await buildApp(config);
    const alice = clientFor(first, 'alice', await mintToken(config.jwt, { sub: 'alice' }));
    await alice.get('/v1/me');
    const chat = await alice.post('/v1/chats', { kind: 'group', name: 'durable' });
    assert.equal(chat.status, 201);
    for (const text of ['one', 'two']) {
      assert.equal((await alice.post(`/v1/chats/${chat.body.id}/messages`, { text })).status, 201);
    }
    await first.close();

    const reloaded = loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', PARLEY_DATA_DIR: dir });
    assert.equal(reloaded.jwtSecretSource, 'file');
    assert.equal(
      reloaded.jwt.secret,
      config.jwt.secret,
      'the generated secret is reused, so old tokens still work',
    );
    const second = await buildApp(reloaded);
    try {
      const again = clientFor(second, 'alice', alice.token);
      const history = await again.get(`/v1/chats/${chat.body.id}/messages`);
      assert.equal(history.status, 200);
      assert.deepEqual(
        history.body.data.map((m) => [m.seq, m.text]),
        [
          [1, 'one'],
          [2, 'two'],
        ],
      );
      const next = await again.post(`/v1/chats/${chat.body.id}/messages`, { text: 'three' });
      assert.equal(next.body.seq, 3, 'the seq counter continues after a restart');
      const another = await again.post('/v1/chats', { kind: 'group', name: 'second' });
      assert.equal(another.body.number, chat.body.number + 1, 'the chat counter continues after a restart');
    } finally {
      await second.close();
    }
  });
});
