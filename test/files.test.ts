import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { LocalFileStore } from '../src/attachments/file.store.ts';
import type { FileView } from '../src/attachments/file.schema.ts';
import { sweepFiles } from '../src/attachments/file.service.ts';
import type { MessageView } from '../src/messages/message.schema.ts';
import { createTestApp, JSONAPI, type Client, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createGroup } from './support/factories.ts';
import { gif, jpeg, multipartBody, png, upload, webp } from './support/files.ts';
import { StreamClient } from './support/ws.ts';

function storeOf(t: TestApp): LocalFileStore {
  const store = t.app.parley.ctx.files?.store;
  assert.ok(store instanceof LocalFileStore);
  return store;
}

/** Every content file the store holds. */
function blobs(t: TestApp): string[] {
  const root = path.join(storeOf(t).dir, 'blobs');
  return readdirSync(root).flatMap((dir) => readdirSync(path.join(root, dir)));
}

async function countRows(t: TestApp, table: 'attachments' | 'file_blobs'): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(
    t.app.parley.store.db,
  );
  return rows[0]!.n;
}

/** A download through a signed link, without a token. */
async function download(t: TestApp, url: string) {
  const res = await t.app.inject({ method: 'GET', url });
  return res;
}

describe('files', () => {
  let t: TestApp;
  let owner: Client;
  let member: Client;
  let outsider: Client;
  let foreign: Client;
  let chatId: string;

  before(async () => {
    t = await createTestApp({
      PARLEY_FILES_SWEEP_S: '0',
      PARLEY_FILES_TENANTS: JSON.stringify({ small: { maxBytes: 1000, types: ['image/*'] } }),
    });
    owner = await t.login('file-owner');
    member = await t.login('file-member');
    outsider = await t.login('file-outsider');
    foreign = await t.login('file-owner', { tenant: 'file-elsewhere' });
    chatId = (await createGroup(owner, [member])).id;
  });

  after(async () => {
    await t?.close();
  });

  it('uploads an image: type read from its bytes, its dimensions, a signed link that works without a token', async () => {
    const bytes = png(640, 480, 5000);
    const res = await upload(t.app, member.token, chatId, bytes, {
      name: '..\\..\\cat<x>.png',
      type: 'text/plain',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const file = res.body;
    assert.equal(file.contentType, 'image/png', 'an image is what its bytes say, not its declared type');
    assert.equal(file.name, 'cat_x_.png', 'the name is its last segment, without markup characters');
    assert.deepEqual([file.width, file.height, file.size], [640, 480, bytes.length]);
    assert.equal(file.chatId, chatId);
    assert.equal(file.messageId, null);
    assert.match(file.sha256, /^[0-9a-f]{64}$/);
    assert.match(file.url, new RegExp(`^/files/${file.id}\\?exp=\\d+&sig=`));

    const got = await download(t, file.url);
    assert.equal(got.statusCode, 200);
    assert.ok(got.rawPayload.equals(bytes));
    assert.equal(got.headers['content-type'], 'image/png');
    assert.equal(got.headers['x-content-type-options'], 'nosniff');
    assert.match(String(got.headers['content-disposition']), /^inline; filename="cat_x_.png"/);
    assert.match(String(got.headers['content-security-policy']), /sandbox/);
    assert.equal(got.headers['content-length'], String(bytes.length));

    const fresh = await owner.get<FileView>(`/v1/files/${file.id}`);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.id, file.id);
    assert.equal((await download(t, fresh.body.url)).statusCode, 200);
  });

  it('reads the dimensions of JPEG, GIF and WebP', async () => {
    for (const [bytes, type, w, h] of [
      [jpeg(1024, 768), 'image/jpeg', 1024, 768],
      [gif(33, 17), 'image/gif', 33, 17],
      [webp(4000, 3000), 'image/webp', 4000, 3000],
    ] as const) {
      const res = await upload(t.app, member.token, chatId, bytes, { type: 'application/octet-stream' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.deepEqual([res.body.contentType, res.body.width, res.body.height], [type, w, h]);
    }
  });

  it('keeps a declared image that is not one as application/octet-stream, served as an attachment', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const res = await upload(t.app, member.token, chatId, svg, { name: 'x.svg', type: 'image/svg+xml' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.contentType, 'application/octet-stream');
    assert.equal(res.body.width, null);
    const got = await download(t, res.body.url);
    assert.equal(got.headers['content-type'], 'application/octet-stream');
    assert.match(String(got.headers['content-disposition']), /^attachment; /);
    assert.equal(got.headers['x-content-type-options'], 'nosniff');
  });

  it('stores the same content once, whoever uploads it', async () => {
    const bytes = randomBytes(4096);
    const before = blobs(t).length;
    const first = await upload(t.app, member.token, chatId, bytes);
    const second = await upload(t.app, owner.token, chatId, bytes);
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.notEqual(first.body.id, second.body.id);
    assert.equal(first.body.sha256, second.body.sha256);
    assert.equal(blobs(t).length, before + 1);
    assert.deepEqual(await storeOf(t).staged(), []);
  });

  it('is for members only: 404 to a non-member and to another tenant, on upload and on links', async () => {
    const res = await upload(t.app, member.token, chatId, randomBytes(100));
    const rows = await countRows(t, 'attachments');
    for (const stranger of [outsider, foreign]) {
      assertError(await upload(t.app, stranger.token, chatId, randomBytes(100)), 404, 'not_found');
      assertError(await stranger.get(`/v1/files/${res.body.id}`), 404, 'not_found');
    }
    assert.equal(await countRows(t, 'attachments'), rows);
    const anonymous = await t.app.inject({ method: 'GET', url: `/v1/files/${res.body.id}` });
    assert.equal(anonymous.statusCode, 401);
  });

  it('refuses forged, altered and expired links (403) and unknown files (404)', async () => {
    const res = await upload(t.app, member.token, chatId, randomBytes(100));
    const url = new URL(res.body.url, 'http://x');
    const sig = url.searchParams.get('sig')!;
    const exp = Number(url.searchParams.get('exp'));
    const forged = `/files/${res.body.id}?exp=${exp}&sig=${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    assertError(parse(await download(t, forged)), 403, 'forbidden');
    assertError(
      parse(await download(t, `/files/${res.body.id}?exp=${exp + 60}&sig=${sig}`)),
      403,
      'forbidden',
    );
    const other = await upload(t.app, member.token, chatId, randomBytes(100));
    assertError(parse(await download(t, `/files/${other.body.id}?exp=${exp}&sig=${sig}`)), 403, 'forbidden');
    // An expired link: signed as the server signs, an hour ago.
    const { signLink } = await import('../src/attachments/file.service.ts');
    const old = signLink(t.config.files, '/files', res.body.id, Date.now() - 3_600_000);
    assertError(parse(await download(t, old.url)), 403, 'forbidden', /expired/);
    assertError(parse(await download(t, `/files/nope?exp=${exp}&sig=${sig}`)), 403, 'forbidden');
  });

  it('refuses files over the tenant’s size limit (413) and types it does not accept (415), leaving nothing', async () => {
    const small = await t.login('file-small', { tenant: 'small' });
    const chat = (await createGroup(small)).id;
    const rows = await countRows(t, 'attachments');
    const contents = await countRows(t, 'file_blobs');
    const big = await upload(t.app, small.token, chat, png(10, 10, 2000));
    const error = assertError(big, 413, 'payload_too_large');
    assert.deepEqual(error.details, [{ limit: 'file_bytes', max: 1000 }]);
    const text = await upload(t.app, small.token, chat, Buffer.from('just some text, not an image'), {
      type: 'text/plain',
    });
    const refused = assertError(text, 415, 'unsupported_media_type');
    assert.deepEqual(refused.details, [{ limit: 'file_types', accepted: ['image/*'] }]);
    assert.equal((await upload(t.app, small.token, chat, png(10, 10, 100))).status, 201);
    // Not multipart at all.
    assertError(await small.post(`/v1/chats/${chat}/files`, { file: 'x' }), 415, 'unsupported_media_type');
    assertError(
      await upload(t.app, small.token, chat, Buffer.alloc(0), { type: 'image/png' }),
      400,
      'invalid_request',
    );
    assert.equal(await countRows(t, 'attachments'), rows + 1);
    assert.equal(await countRows(t, 'file_blobs'), contents + 1);
    assert.deepEqual(await storeOf(t).staged(), []);
  });

  it('refuses a body announced over the limit before reading it', async () => {
    const small = await t.login('file-small', { tenant: 'small' });
    const chat = (await createGroup(small)).id;
    const body = multipartBody('a.png', 'image/png', png(1, 1, 3 * 1024 * 1024));
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/chats/${chat}/files`,
      headers: { authorization: `Bearer ${small.token}`, 'content-type': body.contentType },
      payload: body.payload,
    });
    assertError(parse(res), 413, 'payload_too_large');
  });

  it('sends files with a message: in its answer, the history, the single message, JSON:API and the stream', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const ws = await StreamClient.connect(address, owner.token);
    try {
      const image = await upload(t.app, member.token, chatId, png(20, 10));
      const doc = await upload(t.app, member.token, chatId, Buffer.from('%PDF-1.4 ...'), {
        name: 'report.pdf',
        type: 'application/pdf',
      });
      const sent = await member.post<MessageView>(`/v1/chats/${chatId}/messages`, {
        text: 'two files',
        attachments: [doc.body.id, image.body.id],
      });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      const expected = [
        {
          id: doc.body.id,
          name: 'report.pdf',
          contentType: 'application/pdf',
          size: 12,
          width: null,
          height: null,
        },
        {
          id: image.body.id,
          name: 'file.bin',
          contentType: 'image/png',
          size: image.body.size,
          width: 20,
          height: 10,
        },
      ];
      assert.deepEqual(sent.body.attachments, expected);
      const [event] = await ws.waitFor('message.created', (f) => f.message.id === sent.body.id);
      assert.deepEqual(event!.message.attachments, expected);
      const history = await owner.get(`/v1/chats/${chatId}/messages`);
      const shown = history.body.data.find((m) => m.id === sent.body.id);
      assert.deepEqual(shown?.attachments, expected);
      assert.equal(
        history.body.data.filter((m) => m.attachments !== undefined).length,
        1,
        'a message without files has no attachments field',
      );
      const single = await owner.get(`/v1/chats/${chatId}/messages/${sent.body.seq}`);
      assert.deepEqual(single.body.attachments, expected);
      const jsonapi = await owner.get<{ data: { attributes: { attachments: unknown } } }>(
        `/v1/chats/${chatId}/messages/${sent.body.seq}`,
        { accept: JSONAPI },
      );
      assert.deepEqual(jsonapi.body.data.attributes.attachments, expected);
      const file = await owner.get<FileView>(`/v1/files/${image.body.id}`);
      assert.equal(file.body.messageId, sent.body.id);

      // Sent once: a second send with the same file, or someone else's file, is refused.
      for (const [client, id] of [
        [member, image.body.id],
        [owner, (await upload(t.app, member.token, chatId, randomBytes(10))).body.id],
        [member, 'no-such-file'],
      ] as const) {
        const again = await client.post(`/v1/chats/${chatId}/messages`, { text: 'again', attachments: [id] });
        assertError(again, 400, 'invalid_request', /attachments/);
      }
      const stranger = await outsider.post(`/v1/chats/${chatId}/messages`, {
        text: 'x',
        attachments: [image.body.id],
      });
      assertError(stranger, 404, 'not_found');
    } finally {
      ws.socket.close();
    }
  });

  it('hides the files of a deleted message: no link, no download, not in the views', async () => {
    const image = await upload(t.app, member.token, chatId, png(5, 5));
    const sent = await member.post<MessageView>(`/v1/chats/${chatId}/messages`, {
      text: 'to delete',
      attachments: [image.body.id],
    });
    assert.equal(sent.status, 201);
    assert.equal((await download(t, image.body.url)).statusCode, 200);
    assert.equal((await member.delete(`/v1/chats/${chatId}/messages/${sent.body.seq}`)).status, 204);
    assert.equal((await download(t, image.body.url)).statusCode, 404);
    assertError(await member.get(`/v1/files/${image.body.id}`), 404, 'not_found');
    const single = await owner.get(`/v1/chats/${chatId}/messages/${sent.body.seq}`);
    assert.equal(single.body.attachments, undefined);
  });

  it('sweeps files no message references after the grace period, and their contents once nothing names them', async () => {
    const swept = await createTestApp({ PARLEY_FILES_SWEEP_S: '0', PARLEY_FILES_GRACE_S: '0' });
    try {
      const alice = await swept.login('sweep-alice');
      const chat = (await createGroup(alice)).id;
      const kept = await upload(swept.app, alice.token, chat, png(3, 3));
      const unsent = await upload(swept.app, alice.token, chat, randomBytes(300));
      const shared = randomBytes(200);
      const deletedOne = await upload(swept.app, alice.token, chat, shared);
      const sameContent = await upload(swept.app, alice.token, chat, shared);
      const send = async (id: string) =>
        (await alice.post<MessageView>(`/v1/chats/${chat}/messages`, { text: 'f', attachments: [id] })).body;
      await send(kept.body.id);
      const gone = await send(deletedOne.body.id);
      await send(sameContent.body.id);
      assert.equal((await alice.delete(`/v1/chats/${chat}/messages/${gone.seq}`)).status, 204);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const removed = await sweepFiles(swept.app.parley.ctx);
      assert.deepEqual(removed, { files: 2, contents: 1 }, 'the unsent file and the deleted message’s file');
      assert.equal(await countRows(swept, 'attachments'), 2);
      assert.equal(blobs(swept).length, 2, 'the shared content stays while a sent message names it');
      assert.ok(!blobs(swept).includes(unsent.body.sha256));
      assert.equal((await download(swept, kept.body.url)).statusCode, 200);
      assert.equal((await download(swept, sameContent.body.url)).statusCode, 200);
      assert.deepEqual(await sweepFiles(swept.app.parley.ctx), { files: 0, contents: 0 });
    } finally {
      await swept.close();
    }
  });
});

function parse(res: { statusCode: number; body: string; headers: Record<string, unknown> }) {
  return { status: res.statusCode, body: JSON.parse(res.body) as unknown, headers: res.headers };
}
