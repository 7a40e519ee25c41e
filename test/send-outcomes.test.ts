import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import type { Actor } from '../src/auth/actor.ts';
import type { Context } from '../src/context.ts';
import { quotedCurrentSchema } from '../src/db/migrations/schema.ts';
import { AppError } from '../src/errors/codes.ts';
import { MessageBatcher, type BatchObserver } from '../src/messages/message.batcher.ts';
import { sendMessage, type SentMessage } from '../src/messages/message.service.ts';
import { migrations } from '../src/db/migrate.ts';
import { sendFunction, sendFunctionDigest } from '../src/messages/message.sql.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { createGroup } from './support/factories.ts';

type Batch = Parameters<BatchObserver>[0];

function actor(userId: string, tenantId = 'default'): Actor {
  return {
    tenantId,
    userId,
    isAdmin: false,
    permissions: [],
    profile: { username: null, displayName: null },
  };
}

/** The error a send was refused with, as the API would answer it. */
async function refusal(send: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  try {
    await send;
  } catch (error) {
    assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
    return { status: error.status, code: error.code, message: error.message };
  }
  assert.fail('the send was not refused');
}

describe(`send outcomes: the batch is the only write path (${ENGINE})`, () => {
  let t: TestApp;
  let ctx: Context;
  before(async () => {
    t = await createTestApp();
    ctx = t.app.parley.ctx;
  });
  after(async () => {
    await t.close();
  });

  /** A context whose sends go through a batcher of its own, so that a test sees each batch it makes. */
  function batching(maxInFlight = 1): { ctx: Context; batches: Batch[] } {
    const batches: Batch[] = [];
    const sends = new MessageBatcher(ctx.db, { maxInFlight, maxBatch: 500, observe: (b) => batches.push(b) });
    return { ctx: { ...ctx, sends }, batches };
  }

  async function stored(chatId: string) {
    const chat = await sql<{ last_seq: number; message_count: number }>`
      select last_seq, message_count from chats where id = ${chatId}`.execute(ctx.db);
    const messages = await sql<{ seq: number; author_id: string; text: string; client_id: string | null }>`
      select seq, author_id, text, client_id from messages where chat_id = ${chatId} order by seq`.execute(
      ctx.db,
    );
    return { chat: chat.rows[0]!, messages: messages.rows };
  }

  it('writes a send of a member: created, numbered from the chat counter, counted as read by its author', async () => {
    const alice = await t.login('out-alice');
    const bob = await t.login('out-bob');
    const chat = await createGroup(alice, [bob]);
    const sent = await sendMessage(ctx, actor('out-alice'), chat.id, { text: 'hello', clientId: 'w-1' });
    assert.equal(sent.created, true);
    assert.deepEqual(
      [sent.message.seq, sent.message.authorId, sent.message.text, sent.message.clientId],
      [1, 'out-alice', 'hello', 'w-1'],
    );
    assert.deepEqual((await stored(chat.id)).chat, { last_seq: 1, message_count: 1 });
    assert.equal(
      (await alice.get(`/v1/chats/${chat.id}`)).body.unreadCount,
      0,
      'the author has read their own',
    );
    assert.equal((await bob.get(`/v1/chats/${chat.id}`)).body.unreadCount, 1);
  });

  it('answers 404 exactly as for a chat that does not exist to a non-member, another tenant and a deleted chat', async () => {
    const alice = await t.login('nf-alice');
    await t.login('nf-mallory');
    const chat = await createGroup(alice);
    const gone = await createGroup(alice);
    assert.equal((await alice.delete(`/v1/chats/${gone.id}`)).status, 204);
    const refusals = await Promise.all([
      refusal(sendMessage(ctx, actor('nf-mallory'), chat.id, { text: 'let me in' })),
      refusal(sendMessage(ctx, actor('nf-alice', 'elsewhere'), chat.id, { text: 'cross tenant' })),
      refusal(sendMessage(ctx, actor('nf-alice'), gone.id, { text: 'into a deleted chat' })),
      refusal(sendMessage(ctx, actor('nf-alice'), 'no-such-chat', { text: 'nowhere' })),
    ]);
    assert.deepEqual(refusals, [
      { status: 404, code: 'not_found', message: `chat ${chat.id} not found` },
      { status: 404, code: 'not_found', message: `chat ${chat.id} not found` },
      { status: 404, code: 'not_found', message: `chat ${gone.id} not found` },
      { status: 404, code: 'not_found', message: 'chat no-such-chat not found' },
    ]);
    // A member removed from the chat is refused like anyone else, even with a clientId it had used there.
    const bob = await t.login('nf-bob');
    const shared = await createGroup(alice, [bob]);
    await sendMessage(ctx, actor('nf-bob'), shared.id, { text: 'before leaving', clientId: 'nf-1' });
    assert.equal((await bob.delete(`/v1/chats/${shared.id}/members/nf-bob`)).status, 204);
    assert.deepEqual(
      await refusal(sendMessage(ctx, actor('nf-bob'), shared.id, { text: 'again', clientId: 'nf-1' })),
      {
        status: 404,
        code: 'not_found',
        message: `chat ${shared.id} not found`,
      },
    );
    assert.deepEqual(
      (await stored(chat.id)).chat,
      { last_seq: 0, message_count: 0 },
      'refused sends took no seq',
    );
    assert.deepEqual((await stored(shared.id)).chat, { last_seq: 1, message_count: 1 });
  });

  it('answers 400 to a reply to a seq the chat does not have, and takes no seq for it', async () => {
    const alice = await t.login('br-alice');
    const chat = await createGroup(alice);
    await sendMessage(ctx, actor('br-alice'), chat.id, { text: 'first' });
    assert.deepEqual(await refusal(sendMessage(ctx, actor('br-alice'), chat.id, { text: 'x', replyTo: 2 })), {
      status: 400,
      code: 'invalid_request',
      message: 'replyTo: no message 2 in this chat',
    });
    // The check comes before the clientId's: a refused send does not spend its clientId either.
    assert.equal(
      (
        await refusal(
          sendMessage(ctx, actor('br-alice'), chat.id, { text: 'y', replyTo: 99, clientId: 'br-1' }),
        )
      ).status,
      400,
    );
    const reply = await sendMessage(ctx, actor('br-alice'), chat.id, {
      text: 'z',
      replyTo: 1,
      clientId: 'br-1',
    });
    assert.deepEqual([reply.created, reply.message.seq, reply.message.replyTo], [true, 2, 1]);
    assert.deepEqual(
      (await stored(chat.id)).messages.map((m) => m.seq),
      [1, 2],
    );
  });

  it('answers a clientId sent before, in an earlier batch, with the first message (created false)', async () => {
    const alice = await t.login('dl-alice');
    const bob = await t.login('dl-bob');
    const chat = await createGroup(alice, [bob]);
    const first = await sendMessage(ctx, actor('dl-alice'), chat.id, { text: 'once', clientId: 'dl-1' });
    const again = await sendMessage(ctx, actor('dl-alice'), chat.id, {
      text: 'other text',
      clientId: 'dl-1',
    });
    assert.deepEqual(again, { message: first.message, created: false });
    // The same clientId from another author is another send.
    const bobs = await sendMessage(ctx, actor('dl-bob'), chat.id, { text: 'from bob', clientId: 'dl-1' });
    assert.deepEqual([bobs.created, bobs.message.seq], [true, 2]);
    // A deleted message is still the answer to its clientId.
    assert.equal((await alice.delete(`/v1/chats/${chat.id}/messages/1`)).status, 204);
    const afterDelete = await sendMessage(ctx, actor('dl-alice'), chat.id, {
      text: 'once',
      clientId: 'dl-1',
    });
    assert.deepEqual(
      [
        afterDelete.created,
        afterDelete.message.id,
        afterDelete.message.text,
        afterDelete.message.deletedAt !== null,
      ],
      [false, first.message.id, null, true],
    );
    assert.deepEqual((await stored(chat.id)).chat, { last_seq: 2, message_count: 1 });
  });

  it('answers the sends of one batch that repeat a clientId with the first one written', async () => {
    const alice = await t.login('db-alice');
    const chat = await createGroup(alice);
    const { ctx: own, batches } = batching();
    const sent = await Promise.all(
      ['one', 'two', 'three'].map((text) =>
        sendMessage(own, actor('db-alice'), chat.id, { text, clientId: 'db-1' }),
      ),
    );
    assert.deepEqual(
      batches.map((b) => [b.size, b.written]),
      [[3, 1]],
      'one batch, one message written',
    );
    assert.deepEqual(
      sent.map((s) => s.created),
      [true, false, false],
    );
    assert.deepEqual(
      sent.map((s) => s.message),
      [sent[0]!.message, sent[0]!.message, sent[0]!.message],
    );
    assert.equal(sent[0]!.message.text, 'one', 'the first in the batch is the one written');
    const { chat: counters, messages } = await stored(chat.id);
    assert.deepEqual(counters, { last_seq: 1, message_count: 1 });
    assert.deepEqual(
      messages.map((m) => [m.seq, m.text, m.client_id]),
      [[1, 'one', 'db-1']],
    );
  });

  it('writes the rest of a mixed batch, numbered per chat in order, and answers each refused send with its reason', async () => {
    const alice = await t.login('mx-alice');
    const bob = await t.login('mx-bob');
    await t.login('mx-eve');
    const one = await createGroup(alice, [bob]);
    const two = await createGroup(alice, [bob]);
    await sendMessage(ctx, actor('mx-alice'), one.id, { text: 'stored', clientId: 'mx-used' });
    const { ctx: own, batches } = batching();
    const sends: [string, string, Parameters<typeof sendMessage>[3]][] = [
      ['mx-alice', one.id, { text: 'a' }],
      ['mx-eve', one.id, { text: 'not a member' }],
      ['mx-bob', two.id, { text: 'b', clientId: 'mx-new' }],
      ['mx-bob', one.id, { text: 'bad reply', replyTo: 50 }],
      ['mx-alice', one.id, { text: 'retry', clientId: 'mx-used' }],
      ['mx-bob', one.id, { text: 'c', replyTo: 1 }],
      ['mx-bob', two.id, { text: 'b again', clientId: 'mx-new' }],
      ['mx-alice', two.id, { text: 'd' }],
    ];
    const settled = await Promise.allSettled(
      sends.map(([userId, chatId, body]) => sendMessage(own, actor(userId), chatId, body)),
    );
    assert.deepEqual(
      batches.map((b) => [b.size, b.written, b.failed]),
      [[8, 4, false]],
    );
    const answers = settled.map((s) => {
      if (s.status === 'rejected') {
        const error = s.reason as AppError;
        return [error.status, error.message];
      }
      const { message, created }: SentMessage = s.value;
      return [created ? 201 : 200, message.chatId === one.id ? 'one' : 'two', message.seq, message.text];
    });
    assert.deepEqual(answers, [
      [201, 'one', 2, 'a'],
      [404, `chat ${one.id} not found`],
      [201, 'two', 1, 'b'],
      [400, 'replyTo: no message 50 in this chat'],
      [200, 'one', 1, 'stored'],
      [201, 'one', 3, 'c'],
      [200, 'two', 1, 'b'],
      [201, 'two', 2, 'd'],
    ]);
    assert.deepEqual(
      (await stored(one.id)).messages.map((m) => [m.seq, m.text]),
      [
        [1, 'stored'],
        [2, 'a'],
        [3, 'c'],
      ],
    );
    assert.deepEqual((await stored(two.id)).chat, { last_seq: 2, message_count: 2 });
    assert.equal((await bob.get(`/v1/chats/${one.id}`)).body.unreadCount, 2, "bob's own reply is not unread");
  });

  it('rejects every send of a batch the database refuses, and writes nothing of it', async () => {
    const alice = await t.login('fl-alice');
    const chat = await createGroup(alice);
    const { ctx: own, batches } = batching();
    // Past the API's validation: a seq that is not a whole number makes PostgreSQL refuse the whole statement.
    const settled = await Promise.allSettled([
      sendMessage(own, actor('fl-alice'), chat.id, { text: 'fine' }),
      sendMessage(own, actor('fl-alice'), chat.id, { text: 'odd', replyTo: 1.5 }),
      sendMessage(own, actor('fl-alice'), chat.id, { text: 'fine too', clientId: 'fl-1' }),
    ]);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.deepEqual(
      batches.map((b) => [b.size, b.written, b.failed]),
      [[3, 0, true]],
    );
    assert.deepEqual((await stored(chat.id)).chat, { last_seq: 0, message_count: 0 });
    const retried = await sendMessage(own, actor('fl-alice'), chat.id, {
      text: 'fine too',
      clientId: 'fl-1',
    });
    assert.deepEqual([retried.created, retried.message.seq], [true, 1]);
  });

  it('answers two batches in flight at once that carry the same clientIds one by the other, without a gap', async () => {
    const users = ['cc-alice', 'cc-bob'];
    const [alice, bob] = await Promise.all(users.map((u) => t.login(u)));
    const chats = await Promise.all([createGroup(alice!, [bob!]), createGroup(alice!, [bob!])]);
    // Two batchers stand for two processes: the same sends reach both, in different orders.
    const a = batching(4);
    const b = batching(4);
    const plan = Array.from({ length: 24 }, (_, i) => ({
      userId: users[i % 2]!,
      chatId: chats[i % 3 === 0 ? 0 : 1]!.id,
      body: { text: `twin ${i}`, clientId: `cc-${i}` },
    }));
    // A transaction holds the chats' row locks until both batches wait for them: then they race for real.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    let holderPid = 0;
    const holder = ctx.db.transaction().execute(async (trx) => {
      holderPid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
      await sql`select id from chats where id in (${chats[0]!.id}, ${chats[1]!.id}) order by id for update`.execute(
        trx,
      );
      locked();
      await released;
    });
    await isLocked;
    const sendsA = plan.map((p) => sendMessage(a.ctx, actor(p.userId), p.chatId, p.body));
    const sendsB = [...plan].reverse().map((p) => sendMessage(b.ctx, actor(p.userId), p.chatId, p.body));
    try {
      if (ENGINE === 'postgres') {
        // Wait until both batches are blocked: one on the holder, the other on the holder or behind the first.
        let blocked = 0;
        for (let i = 0; i < 500 && blocked < 2; i++) {
          const waiting = await sql<{ n: number }>`
            with recursive waiter(pid) as (
              select a.pid from pg_stat_activity a where ${holderPid}::int = any(pg_blocking_pids(a.pid))
              union
              select a.pid from pg_stat_activity a join waiter w on w.pid = any(pg_blocking_pids(a.pid))
            )
            select count(*)::int as n from waiter`.execute(ctx.db);
          blocked = waiting.rows[0]!.n;
          if (blocked < 2) {
            await sleep(10);
          }
        }
        assert.equal(blocked, 2, 'both batches wait for the chats at once');
      } else {
        await sleep(50);
      }
    } finally {
      release();
      await holder;
    }
    const [fromA, fromB] = await Promise.all([
      Promise.all(sendsA),
      Promise.all(sendsB).then((r) => r.reverse()),
    ]);
    assert.equal(a.batches.concat(b.batches).filter((x) => x.failed).length, 0, 'no batch failed');
    for (const [i, p] of plan.entries()) {
      const [x, y] = [fromA[i]!, fromB[i]!];
      assert.deepEqual(
        [x.created, y.created].sort(),
        [false, true],
        `send ${i}: one copy writes, the other is answered with it`,
      );
      assert.deepEqual(x.message, y.message, `send ${i}`);
      assert.equal(x.message.clientId, p.body.clientId);
    }
    for (const chat of chats) {
      const { chat: counters, messages } = await stored(chat.id);
      assert.deepEqual(
        messages.map((m) => m.seq),
        Array.from({ length: messages.length }, (_, k) => k + 1),
        'seqs 1..N, none spent on a duplicate',
      );
      assert.equal(counters.last_seq, messages.length);
      assert.equal(
        new Set(messages.map((m) => m.client_id)).size,
        messages.length,
        'each clientId stored once',
      );
    }
    assert.equal(
      (await stored(chats[0]!.id)).messages.length + (await stored(chats[1]!.id)).messages.length,
      plan.length,
    );
  });
});

describe(`the send function in the database (${ENGINE})`, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  it('was installed by the newest migration that records its digest', () => {
    const recorded = Object.entries(migrations)
      .filter(([, migration]) => migration.installs?.sendFunction !== undefined)
      .map(([name, migration]) => ({ name, digest: migration.installs!.sendFunction! }));
    const newest = recorded[recorded.length - 1];
    assert.ok(newest, 'a migration installs the send function');
    assert.equal(
      sendFunctionDigest(),
      newest.digest,
      `src/messages/message.sql.ts changed since ${newest.name} installed it: add a migration that installs the ` +
        `new text (create or replace) and records its digest (${sendFunctionDigest()})`,
    );
  });

  it('is exactly the definition in src/messages/message.sql.ts', async () => {
    const db = t.app.parley.ctx.db;
    const expected = sendFunction(await quotedCurrentSchema(db as Kysely<unknown>));
    const installed = await sql<{
      arguments: string;
      result: string;
      language: string;
      volatility: string;
      settings: string[] | null;
      body: string;
    }>`
      select pg_get_function_arguments(p.oid) as arguments, pg_get_function_result(p.oid) as result,
             l.lanname as language, p.provolatile as volatility, p.proconfig as settings, p.prosrc as body
        from pg_proc p join pg_language l on l.oid = p.prolang
       where p.proname = ${expected.name} and p.pronamespace = (select n.oid from pg_namespace n where n.nspname = current_schema())`.execute(
      db,
    );
    assert.equal(installed.rows.length, 1, `one function ${expected.name} in the schema`);
    const actual = installed.rows[0]!;
    const hint =
      'the function a database gets from the migrations differs from the source: add a migration that installs it';
    assert.equal(actual.arguments, expected.arguments, hint);
    assert.equal(actual.result, expected.result, hint);
    assert.equal(actual.language, expected.language, hint);
    assert.equal(actual.volatility, 'v', hint);
    assert.deepEqual(
      actual.settings ?? [],
      Object.entries(expected.settings).map(([name, value]) => `${name}=${value}`),
      hint,
    );
    assert.equal(actual.body, expected.body, hint);
  });
});
