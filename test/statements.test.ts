import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { CLIENT_SHAPED, StatementNames } from '../src/db/statements.ts';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { createGroup } from './support/factories.ts';

describe('which query texts are prepared', () => {
  it('a text from its second execution on, plain DML only, search never, at most the capacity', () => {
    const names = new StatementNames(2);
    const history = 'select * from messages where chat_id = $1';
    assert.equal(names.nameFor(history), undefined, 'a text seen once runs unnamed');
    const name = names.nameFor(history);
    assert.ok(name);
    assert.equal(names.nameFor(history), name, 'the same text keeps its name');
    for (const text of [
      'begin',
      'commit',
      'explain select 1',
      'set search_path = x',
      `select * from message_search x where x.vector @@ websearch_to_tsquery($1, $2)`,
      `select * from messages where text ilike $1`,
      `select word_similarity($1, text) from messages`,
      `select 'x'::text <% $1`,
    ]) {
      names.nameFor(text);
      assert.equal(names.nameFor(text), undefined, text);
    }
    const other = 'update chats set name = $1 where id = $2';
    names.nameFor(other);
    assert.ok(names.nameFor(other));
    for (const text of [
      'select * from users where id in ($1, $2, $3)',
      'insert into members (chat_id, user_id) values ($1, $2), ($3, $4)',
      'select * from messages where text like $1',
      'select * from messages m where /* parley:unprepared */ m.seq > $1',
    ]) {
      names.nameFor(text);
      assert.equal(names.nameFor(text), undefined, text);
    }
    const third = 'delete from members where chat_id = $1';
    names.nameFor(third);
    assert.equal(names.nameFor(third), undefined, 'over the capacity: unnamed');
    assert.equal(names.size, 2);
  });
});

describe('query texts shaped by a client', () => {
  it('are prepared, but no more than a tenth of the capacity of them', () => {
    const names = new StatementNames(20);
    const shaped = (i: number) =>
      `select * from messages m where ${CLIENT_SHAPED} m.chat_id = $1 and m.seq > ${i}`;
    for (let i = 0; i < 2; i++) {
      names.nameFor(shaped(i));
      assert.ok(names.nameFor(shaped(i)), `client-shaped text ${i} is prepared from its second execution`);
    }
    names.nameFor(shaped(2));
    assert.equal(names.nameFor(shaped(2)), undefined, 'the third is over the budget of 2: unnamed');
    assert.ok(names.nameFor(shaped(0)), 'those prepared keep their names');
    const native = 'select * from chats where id = $1';
    names.nameFor(native);
    assert.ok(names.nameFor(native), 'other texts still take the remaining slots');
    assert.equal(names.size, 3);
  });
});

describe(`prepared statements on the database (${ENGINE})`, () => {
  let t: TestApp;
  // One connection, so that what one query prepared is what the next one sees.
  before(async () => {
    t = await createTestApp({ DB_POOL_SIZE: '1' });
  });
  after(async () => {
    await t.close();
  });

  const prepared = async () => {
    const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(
      t.app.parley.store.db,
    );
    return rows.map((r) => r.statement);
  };

  it('runs the hot queries of the API as named statements, with the same answers', async () => {
    const alice = await t.login('prep-alice');
    const bob = await t.login('prep-bob');
    const chat = await createGroup(alice, [bob]);
    for (let i = 1; i <= 5; i++) {
      assert.equal((await alice.post(`/v1/chats/${chat.id}/messages`, { text: `m${i}` })).status, 201);
      const page = await bob.get(`/v1/chats/${chat.id}/messages?limit=3`);
      assert.equal(page.status, 200);
      assert.deepEqual(
        page.body.data.map((m) => m.text),
        Array.from({ length: i }, (_, k) => `m${k + 1}`).slice(-3),
      );
      const unread = await bob.get('/v1/unread');
      assert.equal(unread.body.total, i);
    }
    const statements = await prepared();
    assert.ok(
      statements.some((s) => s.includes('from members me join chats c')),
      `the history page is prepared: ${statements.length} statements`,
    );
    assert.ok(statements.every((s) => !/tsquery/.test(s)));
  });

  it('recovers from a statement whose table changed shape under it, in and out of a transaction', async () => {
    const db = t.app.parley.store.db;
    await sql`create table prep_shape (a int)`.execute(t.app.parley.store.unbounded);
    await sql`insert into prep_shape values (1)`.execute(db);
    const read = () => sql<Record<string, unknown>>`select * from prep_shape`.execute(db);
    await read();
    assert.deepEqual((await read()).rows, [{ a: 1 }]);
    assert.ok(
      (await prepared()).some((s) => s.includes('prep_shape')),
      'the read is prepared',
    );

    // Another process migrates: the table gains a column, and the prepared `select *` can no longer answer.
    await sql`alter table prep_shape add column b int default 2`.execute(t.app.parley.store.unbounded);
    assert.deepEqual(
      (await read()).rows,
      [{ a: 1, b: 2 }],
      'outside a transaction: run again, freshly prepared',
    );

    await sql`alter table prep_shape add column c int default 3`.execute(t.app.parley.store.unbounded);
    await assert.rejects(
      db.transaction().execute(async (trx) => sql`select * from prep_shape`.execute(trx)),
      /cached plan/,
      'inside a transaction the query fails with the transaction',
    );
    // The next query on the connection finds it clean again.
    assert.deepEqual((await read()).rows, [{ a: 1, b: 2, c: 3 }]);

    // Statements gone behind the driver's back (a pooler that switched server connections, an administrator):
    // outside a transaction the query is prepared again.
    await sql`deallocate all`.execute(db);
    assert.deepEqual((await read()).rows, [{ a: 1, b: 2, c: 3 }]);

    // Inside a transaction, also after a rollback to a savepoint (which leaves the transaction open), the error is
    // the query's own: nothing is retried in a transaction the error has aborted.
    await read();
    await sql`deallocate all`.execute(db);
    const trx = await db.startTransaction().execute();
    try {
      const saved = await trx.savepoint('before').execute();
      await saved.rollbackToSavepoint('before').execute();
      await assert.rejects(sql`select * from prep_shape`.execute(saved), (error: { code?: string }) => {
        assert.equal(error.code, '26000', String(error));
        return true;
      });
    } finally {
      await trx.rollback().execute();
    }
    assert.deepEqual((await read()).rows, [{ a: 1, b: 2, c: 3 }]);
    const alice = await t.login('prep-alice');
    assert.equal((await alice.get('/v1/chats')).status, 200);
  });
});
