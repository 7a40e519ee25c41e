import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { isDatabaseUnavailable } from '../src/errors/database.ts';
import { createTestApp, TEST_DATABASE_URL } from './support/app.ts';
import { sleep } from './support/load.ts';

/**
 * A PostgreSQL connection that the server terminates while a query runs on it (a restart, a failover, an
 * administrator): the query fails as "unavailable" (503), and the process survives to serve the next request.
 */
describe(
  'a connection lost in the middle of a query',
  { skip: TEST_DATABASE_URL ? false : 'needs PARLEY_TEST_DATABASE_URL' },
  () => {
    it('fails that query as unavailable; the process lives on and the next request reconnects', async () => {
      const t = await createTestApp();
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL! });
      await admin.connect();
      try {
        // A query text no other test runs, to find its server process by.
        const marker = `select pg_sleep(3), ${Date.now()} as marker`;
        // Its failure is kept, not left unhandled while the test looks for the server process.
        const slow = sql
          .raw(marker)
          .execute(t.app.parley.store.db)
          .then(
            () => null,
            (error: unknown) => error,
          );
        let pid: number | undefined;
        for (let i = 0; i < 200 && pid === undefined; i++) {
          const found = await admin.query<{ pid: number }>(
            `select pid from pg_stat_activity where query = $1 and state = 'active'`,
            [marker],
          );
          pid = found.rows[0]?.pid;
          await sleep(10);
        }
        assert.ok(pid, 'the query is running');
        await admin.query('select pg_terminate_backend($1)', [pid]);
        // Before the fix, the connection's 'error' event, emitted while the pool had lent it out, ended the process.
        const failure = await slow;
        assert.ok(failure, 'the query failed');
        assert.ok(isDatabaseUnavailable(failure), String(failure));
        await sleep(50);
        assert.equal((await t.request('GET', '/health/ready')).status, 200);
        const alice = await t.login('lost-alice');
        assert.equal((await alice.post('/v1/chats', { kind: 'group', name: 'after the loss' })).status, 201);
      } finally {
        await admin.end();
        await t.close();
      }
    });
  },
);
