import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ParleyClient, ParleyError, type ParleyStream } from '../packages/client/src/index.ts';
import { mintToken } from '../src/auth/token.ts';
import { dropSchema, ENGINE, TEST_DATABASE_URL, testConfig, testSchemaName } from './support/app.ts';
import { copyMigratedCluster } from './support/pglite-template.ts';
import { clusterEnv, startServer, type ServerProcess } from './support/server.ts';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port that is free now: the restarted server comes back on the same address, as it would behind a proxy. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) {
    throw new Error('no port');
  }
  return address.port;
}

async function until(check: () => boolean, what: () => string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what()}`);
    }
    await sleep(20);
  }
}

/**
 * Sends with a clientId and retries until the server answers: a send whose answer was lost in a restart may have
 * committed, and its retry then answers the first message instead of sending a second one.
 */
async function sendSurely(client: ParleyClient, chatId: string, text: string, clientId: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await client.sendMessage(chatId, { text, clientId });
    } catch (error) {
      const retriable = error instanceof ParleyError && (error.status === 0 || error.status >= 500);
      if (!retriable || Date.now() > deadline) {
        throw error;
      }
      await sleep(25);
    }
  }
}

const PER_CHAT = 40;

describe(`the stream client across server restarts (${ENGINE})`, { timeout: 180_000 }, () => {
  // PGlite: every incarnation of the server opens the same data directory. PostgreSQL: the same schema.
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-client-restart-'));
  const schema = testSchemaName();
  const config = testConfig({}, schema);
  let env: Record<string, string>;
  let server: ServerProcess;
  let alice: ParleyClient;
  let bob: ParleyClient;
  const streams: ParleyStream[] = [];

  before(async () => {
    const port = String(await freePort());
    env = TEST_DATABASE_URL
      ? clusterEnv(schema, { PORT: port })
      : clusterEnv(schema, { PORT: port, DATABASE_URL: '', DB_SCHEMA: '', PARLEY_DATA_DIR: dir });
    if (!TEST_DATABASE_URL) {
      await copyMigratedCluster(dir);
    }
    server = await startServer(env);
    const [aliceToken, bobToken] = await Promise.all(
      ['alice', 'bob'].map((sub) => mintToken(config.jwt, { sub })),
    );
    alice = new ParleyClient({ baseUrl: server.url, token: aliceToken! });
    bob = new ParleyClient({ baseUrl: server.url, token: bobToken! });
    await Promise.all([alice.me(), bob.me()]);
  });

  after(async () => {
    for (const stream of streams) {
      stream.close();
    }
    await server?.stop();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`delivers seqs 1..N once each, in order per chat, while the server is restarted with ${signal}`, async () => {
      const chats = await Promise.all(
        ['one', 'two'].map((name) =>
          alice.createChat({ kind: 'group', name: `${name} ${signal}`, members: ['bob'] }),
        ),
      );
      const ids = chats.map((chat) => chat.id);
      const live = bob.stream({
        backoff: { initialMs: 50, maxMs: 400 },
        cursors: Object.fromEntries(ids.map((id) => [id, 0])),
      });
      streams.push(live);
      const received = new Map<string, { seq: number; text: string | null }[]>(ids.map((id) => [id, []]));
      live.on('message.created', ({ chatId, message }) => {
        received.get(chatId)?.push({ seq: message.seq, text: message.text });
      });
      await live.connect();

      let sent = 0;
      const sender = (async () => {
        for (const i of range(1, PER_CHAT)) {
          for (const [c, chatId] of ids.entries()) {
            await sendSurely(alice, chatId, `chat ${c} message ${i}`, `c${c}-m${i}`);
            sent += 1;
          }
          await sleep(10);
        }
      })();

      // Halfway through, the server goes down and comes back on the same address and data.
      await until(
        () => sent >= PER_CHAT,
        () => `${PER_CHAT} messages sent`,
      );
      await (signal === 'SIGTERM' ? server.stop() : server.kill());
      server = await startServer(env);
      await sender;
      const total = () => [...received.values()].reduce((n, list) => n + list.length, 0);
      await until(
        () => total() >= 2 * PER_CHAT,
        () => `${2 * PER_CHAT} messages streamed, got ${total()}`,
      );
      await sleep(300);

      for (const [c, chatId] of ids.entries()) {
        assert.deepEqual(
          received.get(chatId),
          range(1, PER_CHAT).map((i) => ({ seq: i, text: `chat ${c} message ${i}` })),
          `chat ${c}: every seq once, in order, each the message sent under it`,
        );
      }
      assert.ok(live.connections >= 2, `reconnected after the restart (${live.connections} connections)`);
      assert.equal(live.duplicatesDropped, 0, 'the server sent nothing twice');
      live.close();
    });
  }
});
