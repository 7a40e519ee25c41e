import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { mintToken } from '../src/auth/token.ts';
import {
  dropSchema,
  TEST_DATABASE_URL,
  TEST_ISSUER,
  TEST_SECRET,
  testConfig,
  testSchemaName,
} from './support/app.ts';
import type { ChatView } from './support/api.ts';
import { request, SendLedger, sleep, type Answer } from './support/load.ts';
import { copyMigratedCluster } from './support/pglite-template.ts';
import { clusterEnv, startServer, type ServerProcess } from './support/server.ts';

/**
 * Crash safety: a server process killed with SIGKILL in the middle of a load of sends, restarted on the same data,
 * loses nothing it acknowledged, and the clients' retries (same clientId) neither duplicate nor lose a message.
 */

const USERS = ['k-alice', 'k-bob', 'k-carol', 'k-dave', 'k-erin', 'k-frank'];
const CHATS = 4;
const CLIENTS = 24;
/** Kill rounds: each kills the process mid-load, restarts it and retries what was not acknowledged. */
const ROUNDS = Number(process.env.PARLEY_CRASH_ROUNDS ?? 2);
/** Acknowledged sends per round before the kill. */
const ACKS_BEFORE_KILL = 300;

interface Engine {
  name: string;
  skip: string | false;
  /** The environment of a server process on this engine's data; called once per test. */
  setup(): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>;
}

const ENGINES: Engine[] = [
  {
    name: 'PGlite data directory',
    skip: false,
    async setup() {
      const dir = mkdtempSync(path.join(tmpdir(), 'parley-crash-'));
      await copyMigratedCluster(dir);
      return {
        env: {
          NODE_ENV: 'test',
          JWT_SECRET: TEST_SECRET,
          JWT_ISSUER: TEST_ISSUER,
          PARLEY_DATA_DIR: dir,
          // The embedded engine, whatever the suite's environment says.
          DATABASE_URL: '',
          DB_HOST: '',
          PARLEY_BUS: '',
        },
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL schema',
    skip: TEST_DATABASE_URL ? false : 'runs on PostgreSQL only when PARLEY_TEST_DATABASE_URL is set',
    async setup() {
      const schema = testSchemaName();
      return { env: clusterEnv(schema), cleanup: () => dropSchema(schema) };
    },
  },
];

for (const engine of ENGINES) {
  describe(`SIGKILL under load (${engine.name})`, { skip: engine.skip }, () => {
    it('keeps every acknowledged send; retries with the same clientId store each send exactly once', async (t: TestContext) => {
      const { env, cleanup } = await engine.setup();
      let server: ServerProcess | null = null;
      try {
        server = await startServer(env);
        const config = testConfig();
        const tokens = await Promise.all(USERS.map((sub) => mintToken(config.jwt, { sub })));
        for (const token of tokens) {
          assert.equal((await request(server.url, token, 'GET', '/v1/me')).status, 200);
        }
        const chatIds: string[] = [];
        for (let i = 0; i < CHATS; i++) {
          const chat: Answer<ChatView> = await request(server.url, tokens[0]!, 'POST', '/v1/chats', {
            kind: 'group',
            name: `crash ${i}`,
            members: USERS.slice(1),
          });
          assert.equal(chat.status, 201, JSON.stringify(chat.body));
          chatIds.push(chat.body.id);
        }

        const ledger = new SendLedger();
        const next = new Array<number>(CLIENTS).fill(0);
        let inFlightAtKills = 0;
        for (let round = 1; round <= ROUNDS; round++) {
          const live: ServerProcess = server;
          const ackedBefore = ledger.acked.size;
          let stopping = false;
          let failure: unknown = null;
          // Each client sends one message after another, to the chats in turn, each with a clientId of its own.
          const clients = Array.from({ length: CLIENTS }, async (_, c) => {
            try {
              while (!stopping) {
                const n = next[c]!++;
                const answer = await ledger.send(live.url, {
                  chatId: chatIds[(c + n) % CHATS]!,
                  clientId: `r${round}-c${c}-${n}`,
                  text: `round ${round}, client ${c}, message ${n}`,
                  token: tokens[c % tokens.length]!,
                });
                assert.ok(
                  answer?.status !== 503 && (answer !== null || stopping),
                  'a send failed before the kill',
                );
              }
            } catch (error) {
              failure ??= error;
              stopping = true;
            }
          });
          const deadline = Date.now() + 30_000;
          while (ledger.acked.size - ackedBefore < ACKS_BEFORE_KILL && failure === null) {
            assert.ok(
              Date.now() < deadline,
              `only ${ledger.acked.size - ackedBefore} sends acknowledged in 30 s`,
            );
            await sleep(5);
          }
          if (failure !== null) {
            throw failure;
          }
          // Anywhere in a batch's life: queued, being written, committed but not yet answered.
          await sleep(Math.floor(Math.random() * 40));
          // The signal goes out first: whatever the clients have asked by then is in flight.
          const killed = live.kill();
          stopping = true;
          await killed;
          await Promise.all(clients);
          if (failure !== null) {
            throw failure;
          }
          // Sends the process had not answered when it died; usually a batch's worth, rarely none at all.
          const inFlight = ledger.unanswered.size;
          inFlightAtKills += inFlight;

          server = await startServer(env);
          await ledger.retryAll(server.url);
          t.diagnostic(
            `round ${round}: ${ledger.acked.size} acknowledged; ${inFlight} sends in flight at the kill, ` +
              `on retry ${ledger.foundOnRetry} found stored (200), ${ledger.createdOnRetry} stored now (201) so far`,
          );
        }

        assert.ok(inFlightAtKills > 0, 'the kills left sends in flight');
        const counts = await ledger.verify(server.url, tokens[1]!, chatIds);
        t.diagnostic(`chats hold ${[...counts.values()].join(', ')} messages, seqs 1..N each`);
        // Search lost nothing either: every stored message was indexed or still queued when the process died, and
        // the search finds each once.
        const found = new Set<string>();
        let cursor: string | null = null;
        do {
          const page: Answer<{ data: { message: { id: string } }[]; nextCursor: string | null }> =
            await request(
              server.url,
              tokens[1]!,
              'GET',
              `/v1/search/messages?q=round&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            );
          assert.equal(page.status, 200, JSON.stringify(page.body));
          for (const hit of page.body.data) {
            assert.ok(!found.has(hit.message.id), 'a message found twice');
            found.add(hit.message.id);
          }
          cursor = page.body.nextCursor;
        } while (cursor);
        const stored = [...counts.values()].reduce((a, b) => a + b, 0);
        assert.equal(found.size, stored, 'every stored message is found by search');
        // After all that, the chats still take sends and number them on.
        const after = await request(server.url, tokens[0]!, 'POST', `/v1/chats/${chatIds[0]}/messages`, {
          text: 'after the crashes',
        });
        assert.equal(after.status, 201);
        assert.equal(after.body.seq, counts.get(chatIds[0]!)! + 1);
      } finally {
        await server?.stop();
        await cleanup();
      }
    });
  });
}
