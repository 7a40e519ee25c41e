import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { newId } from '../src/ids.ts';
import { MessageBatcher } from '../src/messages/message.batcher.ts';
import { insertMessageBatch, type BatchedMessage } from '../src/messages/message.repository.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { createGroup, sendMessages } from './support/factories.ts';
import { assertError } from './support/assertions.ts';

describe(`group commit of sends (${ENGINE})`, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  const message = (
    over: Partial<BatchedMessage> & Pick<BatchedMessage, 'chatId' | 'authorId'>,
  ): BatchedMessage => ({
    id: newId(),
    tenantId: 'default',
    text: 'hi',
    replyTo: null,
    clientId: null,
    ...over,
  });

  async function seqsOf(chatId: string): Promise<number[]> {
    const rows = await sql<{
      seq: number;
    }>`select seq from messages where chat_id = ${chatId} order by seq`.execute(t.app.parley.ctx.db);
    return rows.rows.map((r) => r.seq);
  }

  it('writes the valid sends of a mixed batch, numbered per chat in input order, and skips only the bad ones', async () => {
    const alice = await t.login('mix-alice');
    const bob = await t.login('mix-bob');
    const eve = await t.login('mix-eve');
    const one = await createGroup(alice, [bob]);
    const two = await createGroup(alice, [bob]);
    const gone = await createGroup(alice, [bob]);
    assert.equal((await alice.delete(`/v1/chats/${gone.id}`)).status, 204);
    await sendMessages(alice, one.id, 2);
    assert.equal(
      (await alice.post(`/v1/chats/${one.id}/messages`, { text: 'stored', clientId: 'used-before' })).status,
      201,
    );

    const batch = [
      message({ chatId: one.id, authorId: 'mix-alice', text: 'a' }),
      message({ chatId: two.id, authorId: 'mix-bob', text: 'b' }),
      message({ chatId: one.id, authorId: 'mix-eve', text: 'not a member' }),
      message({ chatId: gone.id, authorId: 'mix-alice', text: 'deleted chat' }),
      message({ chatId: one.id, authorId: 'mix-bob', text: 'bad reply', replyTo: 99 }),
      message({ chatId: one.id, authorId: 'mix-alice', text: 'retry', clientId: 'used-before' }),
      message({ chatId: one.id, authorId: 'mix-alice', text: 'other tenant', tenantId: 'elsewhere' }),
      message({ chatId: one.id, authorId: 'mix-bob', text: 'c', replyTo: 1 }),
      message({ chatId: two.id, authorId: 'mix-alice', text: 'd', clientId: 'fresh' }),
    ];
    const outcomes = await insertMessageBatch(t.app.parley.ctx.db, batch);
    assert.deepEqual(
      outcomes.map((o) => o.outcome),
      [
        'written',
        'written',
        'not_found',
        'not_found',
        'bad_reply',
        'duplicate',
        'not_found',
        'written',
        'written',
      ],
    );
    assert.deepEqual(
      outcomes.map((o, i) => (o.outcome === 'written' && o.row.id === batch[i]!.id ? o.row.seq : null)),
      [4, 1, null, null, null, null, null, 5, 2],
    );
    const retry = outcomes[5]!;
    assert.ok(retry.outcome === 'duplicate');
    assert.deepEqual([retry.row.seq, retry.row.text, retry.row.client_id], [3, 'stored', 'used-before']);
    assert.deepEqual(await seqsOf(one.id), [1, 2, 3, 4, 5]);
    assert.deepEqual(await seqsOf(two.id), [1, 2]);
    const chat = await alice.get(`/v1/chats/${one.id}`);
    assert.equal(chat.body.messageCount, 5);
    void eve;
  });

  it('answers every sender of a concurrent mixed load over HTTP with its own outcome', async () => {
    const alice = await t.login('http-alice');
    const bob = await t.login('http-bob');
    const eve = await t.login('http-eve');
    const chat = await createGroup(alice, [bob]);
    const sends = [
      ...Array.from({ length: 40 }, (_, i) => alice.post(`/v1/chats/${chat.id}/messages`, { text: `a${i}` })),
      ...Array.from({ length: 10 }, () => eve.post(`/v1/chats/${chat.id}/messages`, { text: 'let me in' })),
      ...Array.from({ length: 10 }, () =>
        bob.post(`/v1/chats/${chat.id}/messages`, { text: 'x', replyTo: 10_000 }),
      ),
      ...Array.from({ length: 10 }, () =>
        bob.post(`/v1/chats/${chat.id}/messages`, { text: 'same', clientId: 'k1' }),
      ),
    ];
    const results = await Promise.all(sends);
    const statuses = results.map((r) => r.status);
    assert.deepEqual(statuses.slice(0, 40), Array(40).fill(201));
    assert.deepEqual(statuses.slice(40, 50), Array(10).fill(404));
    assert.deepEqual(statuses.slice(50, 60), Array(10).fill(400));
    const retried = results.slice(60);
    assert.equal(retried.filter((r) => r.status === 201).length, 1, 'one clientId send is written');
    assert.equal(retried.filter((r) => r.status === 200).length, 9, 'the others get the first message back');
    assert.equal(new Set(retried.map((r) => r.body.id)).size, 1);
    assert.deepEqual(
      await seqsOf(chat.id),
      Array.from({ length: 41 }, (_, i) => i + 1),
    );
  });

  it('keeps one message for clientId duplicates inside one batch', async () => {
    const alice = await t.login('dup-alice');
    const chat = await createGroup(alice);
    const batcher = new MessageBatcher(t.app.parley.ctx.db, { maxInFlight: 1, maxBatch: 100 });
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        batcher.submit(message({ chatId: chat.id, authorId: 'dup-alice', clientId: 'twice', text: 'once' })),
      ),
    );
    assert.deepEqual(
      outcomes.map((o) => o.outcome),
      ['written', 'duplicate', 'duplicate', 'duplicate', 'duplicate'],
    );
    const ids = outcomes.map((o) => (o.outcome === 'written' || o.outcome === 'duplicate' ? o.row.id : null));
    assert.equal(new Set(ids).size, 1, 'every duplicate is answered with the one message written');
    assert.deepEqual(await seqsOf(chat.id), [1]);
  });

  it('fails the whole batch cleanly on a database error: every sender gets it, nothing is written', async () => {
    const alice = await t.login('err-alice');
    const chat = await createGroup(alice);
    await sendMessages(alice, chat.id, 1);
    const batcher = new MessageBatcher(t.app.parley.ctx.db, { maxInFlight: 1, maxBatch: 100 });
    // A seq that is not a whole number makes PostgreSQL refuse the statement, and with it the batch's transaction.
    const outcomes = await Promise.allSettled([
      batcher.submit(message({ chatId: chat.id, authorId: 'err-alice', text: 'fine' })),
      batcher.submit(message({ chatId: chat.id, authorId: 'err-alice', text: 'odd reply', replyTo: 1.5 })),
      batcher.submit(message({ chatId: chat.id, authorId: 'err-alice', text: 'also fine' })),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.deepEqual(await seqsOf(chat.id), [1], 'nothing of the failed batch was written');
    const next = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'after' });
    assert.equal(next.body.seq, 2, 'the counter did not move either');
    const nul = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'bad \u0000 byte' });
    assert.equal(nul.status, 400, 'NUL is refused before it can reach a batch');
    assertError(nul, 400, 'invalid_request', 'text');
  });
});
