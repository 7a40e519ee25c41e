import assert from 'node:assert/strict';
import { assertError } from './support/assertions.ts';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createTestApp, TEST_DATABASE_URL, type Client, type TestApp } from './support/app.ts';
import { sleep } from './support/load.ts';

/**
 * Queries made slow on a healthy PostgreSQL: another session holds a lock on the chats table, so that reading a chat
 * waits for it. All the database work of a request counts against one deadline (DB_DEADLINE_MS), waiting for a
 * connection included; and a query that misses its deadline while the database answers does not open the circuit.
 */

const DEADLINE_MS = 2000;
/** Room for a loaded machine (two cores shared with other work). */
const SLACK_MS = 1000;

interface Setup {
  t: TestApp;
  alice: Client;
  chatId: string;
  admin: pg.Client;
}

async function setUp(): Promise<Setup> {
  // One connection, so that a second request waits for the first's; each timeout alone is the deadline.
  const t = await createTestApp({
    DB_POOL_SIZE: '1',
    DB_CONNECT_TIMEOUT_MS: String(DEADLINE_MS),
    DB_QUERY_TIMEOUT_MS: String(DEADLINE_MS),
  });
  const alice = await t.login('dl-alice');
  const chat = await alice.post('/v1/chats', { kind: 'group', name: 'slow reads' });
  assert.equal(chat.status, 201, JSON.stringify(chat.body));
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL! });
  await admin.connect();
  return { t, alice, chatId: chat.body.id as string, admin };
}

/** Until `release`, reading a chat waits for this session's lock. */
async function lockChats({ t, admin }: Setup): Promise<() => Promise<void>> {
  const schema = (t.config.database as { schema: string }).schema;
  await admin.query('begin');
  await admin.query(`lock table "${schema}".chats in access exclusive mode`);
  return async () => {
    await admin.query('rollback');
  };
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work;
  return { value, ms: Date.now() - started };
}

describe(
  'one deadline per request, and slow queries on a healthy database',
  {
    skip: TEST_DATABASE_URL
      ? false
      : 'PostgreSQL only: PGlite runs in the process, with no pool and no deadline',
  },
  () => {
    it('waiting for a connection and the query count against one deadline: 503 within it, not the sum', async (t) => {
      const setup = await setUp();
      const release = await lockChats(setup);
      try {
        const { alice, chatId } = setup;
        // The first holds the only connection until its query times out; the second waits for that connection, then
        // its own query waits for the lock. Each wait alone is within its timeout; together they are twice the
        // deadline.
        const first = timed(alice.get(`/v1/chats/${chatId}`));
        await sleep(200);
        const second = timed(alice.get(`/v1/chats/${chatId}`));
        const [a, b] = await Promise.all([first, second]);
        for (const answer of [a, b]) {
          assertError(answer.value, 503, 'unavailable');
          assert.equal(answer.value.headers['retry-after'], '1');
        }
        assert.ok(a.ms <= DEADLINE_MS + SLACK_MS, `the first took ${a.ms} ms`);
        assert.ok(b.ms <= DEADLINE_MS + SLACK_MS, `the second took ${b.ms} ms: the waits added up`);
        t.diagnostic(
          `deadline ${DEADLINE_MS} ms: the first 503 after ${a.ms} ms, the one behind it after ${b.ms} ms`,
        );
      } finally {
        await release();
        await setup.admin.end();
        await setup.t.close();
      }
    });

    it('a query that misses its deadline on a healthy database does not open the circuit', async (t) => {
      const setup = await setUp();
      const { t: app, alice, chatId } = setup;
      let release: (() => Promise<void>) | null = await lockChats(setup);
      try {
        const slow = await timed(alice.get(`/v1/chats/${chatId}`));
        assert.equal(slow.value.status, 503, JSON.stringify(slow.value.body));
        // The lock is still held, but the database answers: the probe says so, and requests that do not need the
        // locked table are served, during the probe and after it, none refused at once.
        const answers: number[] = [];
        const until = Date.now() + 1500;
        while (Date.now() < until) {
          const [me, ready] = await Promise.all([alice.get('/v1/me'), app.request('GET', '/health/ready')]);
          answers.push(me.status, ready.status);
          await sleep(50);
        }
        assert.ok(
          answers.every((status) => status === 200),
          `answers while one table was locked: ${answers.join(' ')}`,
        );
        assert.equal(app.app.parley.store.health.available, true, 'no outage');
        await release();
        release = null;
        const chat = await alice.get(`/v1/chats/${chatId}`);
        assert.equal(chat.status, 200, JSON.stringify(chat.body));
        t.diagnostic(
          `the slow read answered 503 after ${slow.ms} ms; ${answers.length} requests served meanwhile`,
        );
      } finally {
        await release?.();
        await setup.admin.end();
        await app.close();
      }
    });
  },
);
