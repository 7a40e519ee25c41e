import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ParleyClient, ParleyError } from '../packages/client/src/index.ts';
import { LocalFileStore } from '../src/attachments/file.store.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { png } from './support/files.ts';

describe(`typed client: files (${ENGINE})`, () => {
  let t: TestApp;
  let base: string;

  const clientFor = async (sub: string, tenant?: string) => {
    const client = new ParleyClient({
      baseUrl: base,
      token: await t.token(sub, tenant ? { tenant } : {}),
    });
    await client.me();
    return client;
  };

  before(async () => {
    t = await createTestApp({
      PARLEY_FILES_SWEEP_S: '0',
      PARLEY_FILES_TENANTS: JSON.stringify({ tiny: { maxBytes: 100 }, pics: { types: ['image/*'] } }),
    });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });

  after(async () => {
    await t?.close();
  });

  it('uploads a file streamed, with progress up to its size, and sends it with a message', async () => {
    const alice = await clientFor('cf-alice');
    const chat = await alice.createChat({ kind: 'group', name: 'files' });
    const bytes = Buffer.concat([png(300, 200), randomBytes(3 * 1024 * 1024)]);
    const progress: [number, number][] = [];
    const file = await alice.uploadFile(chat.id, new Blob([bytes]), {
      name: 'photo.png',
      onProgress: (sent, total) => progress.push([sent, total]),
    });
    assert.equal(file.contentType, 'image/png');
    assert.deepEqual([file.width, file.height, file.size, file.name], [300, 200, bytes.length, 'photo.png']);
    assert.ok(progress.length > 2, `progress was reported ${progress.length} times`);
    assert.ok(progress.every(([, total]) => total === bytes.length));
    assert.ok(
      progress.every(([sent], i) => i === 0 || sent >= progress[i - 1]![0]),
      'progress never goes back',
    );
    assert.deepEqual(progress.at(-1), [bytes.length, bytes.length]);

    // The signed link works without a token, as an <img src> would fetch it.
    const url = alice.fileUrl(file);
    assert.ok(url.startsWith(`${base}/files/`), url);
    const download = await fetch(url);
    assert.equal(download.status, 200);
    assert.ok(Buffer.from(await download.arrayBuffer()).equals(bytes));

    const message = await alice.sendMessage(chat.id, { text: 'a photo', attachments: [file.id] });
    assert.equal(message.attachments?.[0]?.id, file.id);
    const again = await alice.getFile(file.id);
    assert.equal(again.messageId, message.id);
  });

  it('reports refusals as ParleyErrors: 404 outside the chat, 413 over the tenant’s limit', async () => {
    const alice = await clientFor('cf-owner');
    const chat = await alice.createChat({ kind: 'group', name: 'closed' });
    const bob = await clientFor('cf-bob');
    await assert.rejects(bob.uploadFile(chat.id, new Blob(['hello'])), (error: unknown) => {
      assert.ok(error instanceof ParleyError);
      assert.equal(error.status, 404);
      assert.equal(error.code, 'not_found');
      return true;
    });
    const tiny = await clientFor('cf-tiny', 'tiny');
    const own = await tiny.createChat({ kind: 'group', name: 'tiny' });
    await assert.rejects(tiny.uploadFile(own.id, new Blob([randomBytes(5000)])), (error: unknown) => {
      assert.ok(error instanceof ParleyError);
      assert.equal(error.status, 413);
      assert.equal(error.code, 'payload_too_large');
      assert.deepEqual(error.details, [{ limit: 'file_bytes', max: 100 }]);
      return true;
    });
  });

  it('refuses a large file of a type not accepted from its first bytes, and the connection goes on', async () => {
    const pics = await clientFor('cf-pics', 'pics');
    const chat = await pics.createChat({ kind: 'group', name: 'pictures' });
    const progress: number[] = [];
    const started = performance.now();
    await assert.rejects(
      pics.uploadFile(chat.id, new Blob([Buffer.alloc(40 * 1024 * 1024, 'a')]), {
        type: 'text/plain',
        onProgress: (sent) => progress.push(sent),
      }),
      (error: unknown) => {
        assert.ok(error instanceof ParleyError, String(error));
        assert.equal(error.status, 415);
        assert.equal(error.code, 'unsupported_media_type');
        return true;
      },
    );
    assert.ok(performance.now() - started < 10_000);
    const store = t.app.parley.ctx.files?.store;
    assert.ok(store instanceof LocalFileStore);
    assert.deepEqual(await store.staged(), []);
    // The same client goes on uploading.
    const image = await pics.uploadFile(chat.id, new Blob([png(8, 8)]));
    assert.equal(image.contentType, 'image/png');
  });
});
