/**
 * The Instabug dialect's whole lists and its search's query plan. Both originals answer every application, chat and
 * message (civilcoder55 `@chat.messages.all`, andrewawni `Message.get_all`), with no paging; Parley writes such a
 * list out page by page from the database as the client reads it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { anyWordQuery } from '../src/search/search.repository.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { plan } from './support/plans.ts';

const MESSAGES = 2600;
const CHATS = 520;
const APPLICATIONS = 130;

/** `count` requests, at most `width` at a time. */
async function inBatches<T>(count: number, width: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += width) {
    const batch = Array.from({ length: Math.min(width, count - start) }, (_, k) => one(start + k));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

describe(`Instabug dialect: whole lists, streamed (${ENGINE})`, () => {
  let t: TestApp;
  let token: string;

  before(async () => {
    t = await createTestApp({ DIALECTS: 'instabug', PARLEY_RATE_LIMIT_IP: '0' });
    const app = await t.request<{ token: string }>('POST', '/api/v1/applications', {
      name: 'big application',
    });
    token = app.body.token;
    await inBatches(CHATS, 50, async () => {
      const res = await t.request('POST', `/api/v1/applications/${token}/chats`, {});
      assert.equal(res.status, 201);
    });
    await inBatches(MESSAGES, 100, async (i) => {
      const res = await t.request('POST', `/api/v1/applications/${token}/chats/1/messages`, {
        body: `m ${i}`,
      });
      assert.equal(res.status, 201);
    });
  });
  after(async () => {
    await t.close();
  });

  // from civilcoder55 ror/spec/requests/messages/get_messages_spec.rb, "returns all messages" (10 there; here more
  // than five pages of the stream), in number order (`@chat.messages.all` reads them by id, which follows number)
  it(`answers all ${MESSAGES} messages of a chat, in number order, as a stream`, async () => {
    for (const url of [
      `/api/v1/applications/${token}/chats/1/messages`,
      `/applications/${token}/chats/1/messages`,
      `/api/applications/${token}/chats/1/messages`,
    ]) {
      const response = await t.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      // Written as it is read: no length is known in advance.
      assert.equal(response.headers['content-length'], undefined);
      const messages = response.json<{ number: number }[]>();
      assert.equal(messages.length, MESSAGES, url);
      assert.deepEqual(
        messages.map((m) => m.number),
        Array.from({ length: MESSAGES }, (_, i) => i + 1),
      );
    }
  });

  it('leaves out messages deleted through the native API, on every page', async () => {
    const row = await sql<{ id: string }>`select id from tenants where token = ${token}`.execute(
      t.app.parley.ctx.db,
    );
    const system = await t.as('instabug', { tenant: row.rows[0]!.id });
    const chats = await system.get('/v1/chats?limit=200');
    const chat = chats.body.data.find((c) => c.number === 1)!;
    for (const seq of [1, 700, 1500, MESSAGES]) {
      assert.equal((await system.delete(`/v1/chats/${chat.id}/messages/${seq}`)).status, 204);
    }
    const listed = await t.request<{ number: number }[]>(
      'GET',
      `/api/v1/applications/${token}/chats/1/messages`,
    );
    assert.equal(listed.body.length, MESSAGES - 4);
    const numbers = new Set(listed.body.map((m) => m.number));
    for (const seq of [1, 700, 1500, MESSAGES]) {
      assert.equal(numbers.has(seq), false, String(seq));
    }
    assert.equal((await t.request('GET', `/api/v1/applications/${token}/chats/1`)).status, 200);
  });

  // from civilcoder55 ror/spec/requests/chats/get_chats_spec.rb, "returns all chats"
  it(`answers all ${CHATS} chats of an application, in number order`, async () => {
    const listed = await t.request<{ number: number }[]>('GET', `/api/v1/applications/${token}/chats`);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.map((c) => c.number),
      Array.from({ length: CHATS }, (_, i) => i + 1),
    );
  });

  // from civilcoder55 ror/spec/requests/applications/get_applications_spec.rb, "returns all applications"
  it(`answers all applications (${APPLICATIONS} more), in creation order, tokens included`, async () => {
    const created = await inBatches(APPLICATIONS, 1, async (i) => {
      const res = await t.request<{ token: string }>('POST', '/api/v1/applications', { name: `app ${i}` });
      return res.body.token;
    });
    const listed = await t.request<{ token: string; name: string }[]>('GET', '/api/v1/applications');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.map((a) => a.token),
      [token, ...created],
    );
  });

  it('still answers one page when asked for one (?page=, ?per_page=)', async () => {
    const page = await t.request<{ number: number }[]>(
      'GET',
      `/api/v1/applications/${token}/chats/1/messages?page=3&per_page=100`,
    );
    assert.deepEqual(
      page.body.map((m) => m.number),
      Array.from({ length: 100 }, (_, i) => 201 + i),
    );
    assert.equal(
      (await t.request('GET', `/api/v1/applications/${token}/chats/1/messages?per_page=201`)).status,
      422,
    );
  });

  it('searches the big chat on indexes: never a sequential scan of messages', async () => {
    const db = t.app.parley.ctx.db;
    const ids = await sql<{ id: string; tenant_id: string }>`
      select c.id, c.tenant_id from chats c join tenants t on t.id = c.tenant_id
       where t.token = ${token} and c.number = 1`.execute(db);
    const chat = ids.rows[0]!;
    const config = await sql<{
      oid: number;
    }>`select parley_search_config(${chat.tenant_id})::oid as oid`.execute(db);
    const compiled = anyWordQuery({
      chatId: chat.id,
      config: Number(config.rows[0]!.oid),
      words: [
        { text: 'kenobi', partial: true },
        { text: 'ox', partial: false },
      ],
      limit: 200,
    }).compile(db);
    const scans = (await plan(db, compiled)).filter((n) => n['Relation Name'] === 'messages');
    assert.ok(scans.length > 0);
    assert.deepEqual(
      scans.filter((n) => n['Node Type'] === 'Seq Scan'),
      [],
    );
    // And the answer itself: the words are found among the big chat's messages.
    const found = await t.request<{ body: string }[]>(
      'GET',
      `/api/v1/applications/${token}/chats/1/messages/search?query=zzz%201234`,
    );
    assert.deepEqual(
      found.body.map((m) => m.body),
      ['m 1234'],
    );
  });
});
