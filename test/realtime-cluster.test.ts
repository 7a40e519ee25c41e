import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../src/auth/token.ts';
import { dropSchema, TEST_DATABASE_URL, testConfig, testSchemaName } from './support/app.ts';
import { call as api, clusterEnv, startServer, type ServerProcess } from './support/server.ts';
import { StreamClient } from './support/ws.ts';

const skip = TEST_DATABASE_URL ? false : 'several processes share one database only on PostgreSQL';
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const BUSES: { bus: string; env: Record<string, string> }[] = [
  { bus: 'postgres', env: {} },
  { bus: 'redis', env: { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } },
  { bus: 'nats', env: { NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' } },
];

for (const { bus, env: busEnv } of BUSES) {
  describe(`three server processes on the ${bus} bus`, { skip }, () => {
    const schema = testSchemaName();
    const config = testConfig({}, schema);
    const servers: ServerProcess[] = [];
    const streams: StreamClient[] = [];
    const env = clusterEnv(schema, {
      PARLEY_BUS: bus,
      PARLEY_RESUME_GRACE_MS: '0',
      PARLEY_PRESENCE_TTL_MS: '1200',
      ...busEnv,
    });

    before(async () => {
      // Migrate once first, so that the three processes start on a ready schema.
      servers.push(await startServer(env));
      servers.push(...(await Promise.all([startServer(env), startServer(env)])));
    });

    after(async () => {
      await Promise.all(streams.map((s) => s.close()));
      await Promise.all(servers.map((s) => s.stop()));
      await dropSchema(schema);
    });

    async function connect(server: ServerProcess, token: string, query: Record<string, string> = {}) {
      const stream = await StreamClient.connect(server.url, token, query);
      streams.push(stream);
      return stream;
    }

    it('delivers every message sent on one process to receivers on the others, once each, in order', async () => {
      const [a, b, c] = servers as [ServerProcess, ServerProcess, ServerProcess];
      const [alice, bob, carol, dave] = await Promise.all(
        ['alice', 'bob', 'carol', 'dave'].map((sub) => mintToken(config.jwt, { sub })),
      );
      for (const token of [alice!, bob!, carol!, dave!]) {
        assert.equal((await api(a, token, 'GET', '/v1/me')).status, 200);
      }
      const chat = await api(a, alice!, 'POST', '/v1/chats', {
        kind: 'group',
        name: 'cluster',
        members: ['bob', 'carol', 'dave'],
      });
      assert.equal(chat.status, 201);
      const chatId = chat.body.id as string;

      const watcher = await connect(a, alice!);
      const bobStream = await connect(b, bob!);
      const carolStream = await connect(c, carol!);
      const daveStream = await connect(b, dave!);
      await watcher.waitFor((f) => f.type === 'presence' && f.userId === 'dave' && f.status === 'online');

      // Sent ten at a time; every tenth is larger than a NOTIFY payload may be.
      for (let start = 1; start <= 100; start += 10) {
        await Promise.all(
          range(start, start + 9).map((i) =>
            api(a, alice!, 'POST', `/v1/chats/${chatId}/messages`, {
              text: i % 10 === 0 ? `${i} ${'y'.repeat(9000)}` : `message ${i}`,
            }),
          ),
        );
      }
      for (const stream of [bobStream, carolStream, daveStream]) {
        await stream.waitFor((f) => f.type === 'message.created' && f.chatId === chatId, 100);
        await stream.quietFor(100);
        assert.deepEqual(stream.seqs(chatId), range(1, 100));
      }
      const big = carolStream.of('message.created').filter((f) => (f.message.text ?? '').length > 9000);
      assert.equal(big.length, 10, 'events over the NOTIFY limit arrive whole');
      assert.ok(big.every((f) => f.message.text?.endsWith('y'.repeat(9000))));

      // Bob's and Dave's process dies without a word; Bob resumes on another process and misses nothing.
      const lastSeen = bobStream.seqs(chatId).at(-1)!;
      await b.kill();
      await Promise.all(
        range(101, 120).map((i) =>
          api(a, alice!, 'POST', `/v1/chats/${chatId}/messages`, { text: `after ${i}` }),
        ),
      );
      const again = await connect(c, bob!, { resume: JSON.stringify({ [chatId]: lastSeen }) });
      await again.waitFor((f) => f.type === 'resumed');
      await api(a, alice!, 'POST', `/v1/chats/${chatId}/messages`, { text: 'live 121' });
      await again.waitFor((f) => f.type === 'message.created' && f.message.seq === 121);
      assert.deepEqual(again.seqs(chatId), range(101, 121));

      // Dave never came back: once his dead process's presence expires, everyone hears he is offline.
      await watcher.waitFor(
        (f) => f.type === 'presence' && f.userId === 'dave' && f.status === 'offline',
        1,
        15_000,
      );
      assert.equal((await api(a, alice!, 'GET', '/v1/users/dave')).body.status, 'offline');
      assert.equal(
        (await api(c, alice!, 'GET', '/v1/users/bob')).body.status,
        'online',
        'bob is back on process c',
      );
      void daveStream;
    });
  });
}
