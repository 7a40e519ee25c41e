import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { buildApp } from '../src/app.ts';
import { mintToken } from '../src/auth/token.ts';
import { LocalFileStore } from '../src/attachments/file.store.ts';
import type { FileView } from '../src/attachments/file.schema.ts';
import {
  clientFor,
  createTestApp,
  dropSchema,
  ENGINE,
  testConfig,
  testSchemaName,
  type TestApp,
} from './support/app.ts';
import { createGroup } from './support/factories.ts';
import { multipartBody, png, upload } from './support/files.ts';
import { copyMigratedCluster } from './support/pglite-template.ts';

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error('timed out');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('an interrupted upload', () => {
  let t: TestApp;
  after(async () => {
    await t?.close();
  });

  it('leaves no staged file, no content and no row', async () => {
    t = await createTestApp({ PARLEY_FILES_SWEEP_S: '0' });
    const alice = await t.login('cut-alice');
    const chat = (await createGroup(alice)).id;
    const store = t.app.parley.ctx.files?.store;
    assert.ok(store instanceof LocalFileStore);
    const count = async (table: 'attachments' | 'file_blobs') =>
      (
        await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(
          t.app.parley.store.db,
        )
      ).rows[0]!.n;
    const rows = await count('attachments');
    const address = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' }));
    const body = multipartBody('big.bin', 'application/octet-stream', Buffer.alloc(8 * 1024 * 1024, 7));
    const socket = connect(Number(address.port), address.hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /v1/chats/${chat}/files HTTP/1.1\r\nHost: ${address.host}\r\n` +
        `Authorization: Bearer ${alice.token}\r\nContent-Type: ${body.contentType}\r\n` +
        `Content-Length: ${body.payload.length}\r\n\r\n`,
    );
    socket.write(body.payload.subarray(0, 2 * 1024 * 1024));
    // The upload is under way: its bytes are being staged.
    await until(async () => (await store.staged()).length > 0);
    socket.destroy();
    await until(async () => (await store.staged()).length === 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(await store.staged(), []);
    assert.equal(await count('attachments'), rows);
    assert.equal(await count('file_blobs'), 0);
    // The server is fine: the next upload works.
    assert.equal((await upload(t.app, alice.token, chat, png(2, 2))).status, 201);
  });
});

describe('a restart', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-files-restart-'));
  const schema = testSchemaName();
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it('keeps files: a link signed after it downloads what was uploaded before', async () => {
    if (ENGINE === 'pglite') {
      await copyMigratedCluster(dir);
    }
    const env = { PARLEY_DATA_DIR: dir, PARLEY_FILES_SWEEP_S: '0' };
    const config = testConfig(env, schema);
    const first = await buildApp(config);
    const token = await mintToken(config.jwt, { sub: 'restart-alice' });
    const alice = clientFor(first, 'restart-alice', token);
    await alice.get('/v1/me');
    const chat = (await createGroup(alice)).id;
    const bytes = png(7, 9, 100_000);
    const uploaded = await upload(first, token, chat, bytes);
    assert.equal(uploaded.status, 201);
    assert.equal(
      (await alice.post(`/v1/chats/${chat}/messages`, { text: 'kept', attachments: [uploaded.body.id] }))
        .status,
      201,
    );
    await first.close();

    const second = await buildApp(testConfig(env, schema));
    try {
      const again = clientFor(second, 'restart-alice', token);
      const file = await again.get<FileView>(`/v1/files/${uploaded.body.id}`);
      assert.equal(file.status, 200, JSON.stringify(file.body));
      const got = await second.inject({ method: 'GET', url: file.body.url });
      assert.equal(got.statusCode, 200);
      assert.ok(got.rawPayload.equals(bytes));
      // The link signed before the restart works too: the signing key comes from the configuration.
      assert.equal((await second.inject({ method: 'GET', url: uploaded.body.url })).statusCode, 200);
    } finally {
      await second.close();
    }
  });
});

describe('the sweeper', () => {
  it('runs on its timer: an unsent upload is gone after the grace period', async () => {
    const t = await createTestApp({ PARLEY_FILES_SWEEP_S: '1', PARLEY_FILES_GRACE_S: '0' });
    try {
      const alice = await t.login('timer-alice');
      const chat = (await createGroup(alice)).id;
      const unsent = await upload(t.app, alice.token, chat, png(2, 3));
      assert.equal(unsent.status, 201);
      const rows = async () =>
        (await sql<{ n: number }>`select count(*)::int as n from file_blobs`.execute(t.app.parley.store.db))
          .rows[0]!.n;
      await until(async () => (await rows()) === 0, 5_000);
      assert.equal((await t.app.inject({ method: 'GET', url: unsent.body.url })).statusCode, 404);
    } finally {
      await t.close();
    }
  });
});
