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
import { request, sleep, type Answer } from './support/load.ts';
import { copyMigratedCluster } from './support/pglite-template.ts';
import { Receiver } from './support/receiver.ts';
import { clusterEnv, startServer, type ServerProcess } from './support/server.ts';

/**
 * Webhooks across a SIGKILL: the sending process is killed while it sends messages and delivers their events;
 * restarted on the same data, it delivers the event of every message that was committed (acknowledged or not), at
 * least once, and in seq order per chat (a redelivery only repeats what came before it).
 */

const USERS = ['wk-alice', 'wk-bob', 'wk-carol'];
const CHATS = 3;
const CLIENTS = 9;
const ACKS_BEFORE_KILL = 150;
const WEBHOOK_ENV = {
  PARLEY_WEBHOOK_POLL_MS: '20',
  PARLEY_WEBHOOK_TIMEOUT_MS: '1000',
  PARLEY_WEBHOOK_RETRY_BASE_MS: '50',
  PARLEY_WEBHOOK_RETRY_MAX_MS: '200',
};

const ENGINES = [
  {
    name: 'PGlite data directory',
    skip: false as string | false,
    async setup() {
      const dir = mkdtempSync(path.join(tmpdir(), 'parley-webhooks-crash-'));
      await copyMigratedCluster(dir);
      return {
        env: {
          NODE_ENV: 'test',
          JWT_SECRET: TEST_SECRET,
          JWT_ISSUER: TEST_ISSUER,
          PARLEY_DATA_DIR: dir,
          DATABASE_URL: '',
          DB_HOST: '',
          PARLEY_BUS: '',
          ...WEBHOOK_ENV,
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
      return { env: clusterEnv(schema, WEBHOOK_ENV), cleanup: () => dropSchema(schema) };
    },
  },
];

for (const engine of ENGINES) {
  describe(`webhooks across SIGKILL (${engine.name})`, { skip: engine.skip }, () => {
    it('delivers the event of every committed message, in order per chat, after a restart', async (t: TestContext) => {
      const { env, cleanup } = await engine.setup();
      const receiver = new Receiver();
      // Slow enough that deliveries are in flight when the process dies.
      receiver.answer = () => ({ status: 200, delayMs: 3 });
      let server: ServerProcess | null = null;
      try {
        const url = await receiver.start();
        server = await startServer(env);
        const config = testConfig();
        const tokens = await Promise.all(USERS.map((sub) => mintToken(config.jwt, { sub })));
        const admin = await mintToken(config.jwt, { sub: 'wk-boss', admin: true });
        for (const token of [...tokens, admin]) {
          assert.equal((await request(server.url, token, 'GET', '/v1/me')).status, 200);
        }
        const hook = await request(server.url, admin, 'POST', '/v1/webhooks', {
          url,
          eventTypes: ['message.created'],
        });
        assert.equal(hook.status, 201, JSON.stringify(hook.body));
        const chatIds: string[] = [];
        for (let i = 0; i < CHATS; i++) {
          const chat: Answer<ChatView> = await request(server.url, tokens[0]!, 'POST', '/v1/chats', {
            kind: 'group',
            name: `webhooks crash ${i}`,
            members: USERS.slice(1),
          });
          assert.equal(chat.status, 201, JSON.stringify(chat.body));
          chatIds.push(chat.body.id);
        }

        const live = server;
        let acked = 0;
        let stopping = false;
        const clients = Array.from({ length: CLIENTS }, async (_, c) => {
          for (let n = 0; !stopping; n++) {
            try {
              const answer = await request(
                live.url,
                tokens[c % tokens.length]!,
                'POST',
                `/v1/chats/${chatIds[(c + n) % CHATS]}/messages`,
                { text: `client ${c}, message ${n}` },
              );
              if (answer.status === 201) {
                acked += 1;
              }
            } catch {
              return; // the process died
            }
          }
        });
        const deadline = Date.now() + 30_000;
        while (acked < ACKS_BEFORE_KILL) {
          assert.ok(Date.now() < deadline, `only ${acked} sends acknowledged in 30 s`);
          await sleep(5);
        }
        await sleep(Math.floor(Math.random() * 20));
        const deliveredAtKill = receiver.delivered.length;
        const killed = live.kill();
        stopping = true;
        await killed;
        await Promise.all(clients);
        t.diagnostic(`killed after ${acked} acknowledged sends, ${deliveredAtKill} events delivered`);
        assert.ok(deliveredAtKill < acked, 'events were still to deliver at the kill');

        server = await startServer(env);
        const stored = new Map<string, number>();
        for (const chatId of chatIds) {
          const chat: Answer<unknown> = await request(server.url, tokens[0]!, 'GET', `/v1/chats/${chatId}`);
          assert.equal(chat.status, 200);
          stored.set(chatId, (chat.body as { messageCount: number }).messageCount);
        }
        const total = [...stored.values()].reduce((a, b) => a + b, 0);
        assert.ok(total >= acked);
        const seen = () =>
          new Set(
            receiver.delivered.map(
              (d) => `${d.body.data.chatId}:${(d.body.data.message as { seq: number }).seq}`,
            ),
          );
        await receiver.until(() => seen().size >= total, 30_000, 'every committed message’s event');
        for (const chatId of chatIds) {
          const seqs = receiver.received
            .filter((d) => d.body.data.chatId === chatId)
            .map((d) => (d.body.data.message as { seq: number }).seq);
          let max = 0;
          for (const seq of seqs) {
            assert.ok(seq <= max + 1, `chat ${chatId}: seq ${seq} sent before ${max + 1}`);
            max = Math.max(max, seq);
          }
          assert.equal(max, stored.get(chatId));
        }
        t.diagnostic(
          `${total} messages committed, ${receiver.delivered.length} deliveries ` +
            `(${receiver.delivered.length - seen().size} repeated after the kill)`,
        );
      } finally {
        await server?.stop();
        await receiver.close();
        await cleanup();
      }
    });
  });
}

describe(
  'webhooks delivered by two processes (PostgreSQL schema)',
  {
    skip: TEST_DATABASE_URL ? false : 'runs on PostgreSQL only when PARLEY_TEST_DATABASE_URL is set',
  },
  () => {
    it('shares the work without sending an event twice, in order per chat', async (t: TestContext) => {
      const schema = testSchemaName();
      const env = clusterEnv(schema, WEBHOOK_ENV);
      const receiver = new Receiver();
      receiver.answer = () => ({ status: 200, delayMs: 2 });
      const servers: ServerProcess[] = [];
      try {
        const url = await receiver.start();
        servers.push(await startServer(env));
        servers.push(await startServer(env));
        const config = testConfig();
        const tokens = await Promise.all(USERS.map((sub) => mintToken(config.jwt, { sub })));
        const admin = await mintToken(config.jwt, { sub: 'wk-boss', admin: true });
        for (const token of [...tokens, admin]) {
          assert.equal((await request(servers[0]!.url, token, 'GET', '/v1/me')).status, 200);
        }
        const hook = await request(servers[0]!.url, admin, 'POST', '/v1/webhooks', {
          url,
          eventTypes: ['message.created'],
        });
        assert.equal(hook.status, 201);
        const chatIds: string[] = [];
        for (let i = 0; i < CHATS * 2; i++) {
          const chat: Answer<ChatView> = await request(servers[0]!.url, tokens[0]!, 'POST', '/v1/chats', {
            kind: 'group',
            name: `webhooks shared ${i}`,
            members: USERS.slice(1),
          });
          chatIds.push(chat.body.id);
        }
        const PER_CLIENT = 20;
        await Promise.all(
          Array.from({ length: CLIENTS }, async (_, c) => {
            for (let n = 0; n < PER_CLIENT; n++) {
              const answer = await request(
                servers[(c + n) % 2]!.url,
                tokens[c % tokens.length]!,
                'POST',
                `/v1/chats/${chatIds[(c + n) % chatIds.length]}/messages`,
                { text: `client ${c}, message ${n}` },
              );
              assert.equal(answer.status, 201);
            }
          }),
        );
        const total = CLIENTS * PER_CLIENT;
        await receiver.until(() => receiver.delivered.length >= total, 30_000, 'every event');
        await sleep(300);
        const keys = receiver.received.map(
          (d) => `${d.body.data.chatId}:${(d.body.data.message as { seq: number }).seq}`,
        );
        assert.equal(new Set(keys).size, total);
        assert.equal(keys.length, total, 'no event was sent twice');
        for (const chatId of chatIds) {
          const seqs = receiver.received
            .filter((d) => d.body.data.chatId === chatId)
            .map((d) => (d.body.data.message as { seq: number }).seq);
          assert.deepEqual(
            seqs,
            seqs.map((_, i) => i + 1),
          );
        }
        t.diagnostic(`${total} events, each sent once`);
      } finally {
        await Promise.all(servers.map((s) => s.stop()));
        await receiver.close();
        await dropSchema(schema);
      }
    });
  },
);
