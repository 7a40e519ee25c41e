import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../src/auth/token.ts';
import { dropSchema, TEST_DATABASE_URL, testConfig, testSchemaName } from './support/app.ts';
import { call, clusterEnv, startServer, type ServerProcess } from './support/server.ts';

const skip = TEST_DATABASE_URL ? false : 'several processes share one database only on PostgreSQL';

describe('several server processes on one PostgreSQL', { skip }, () => {
  const schema = testSchemaName();
  const servers: ServerProcess[] = [];
  const config = testConfig({}, schema);

  before(async () => {
    const env = clusterEnv(schema);
    // Both start at once: the migration lock lets exactly one of them migrate.
    servers.push(...(await Promise.all([startServer(env), startServer(env)])));
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await dropSchema(schema);
  });

  it('numbers messages sent through both processes at once 1..N without gaps or duplicates', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const tokens = await Promise.all(
      ['p-alice', 'p-bob', 'p-carol'].map((sub) => mintToken(config.jwt, { sub })),
    );
    for (const token of tokens) {
      assert.equal((await call(a, token, 'GET', '/v1/me')).status, 200);
    }
    const chat = await call(a, tokens[0]!, 'POST', '/v1/chats', {
      kind: 'group',
      name: 'two processes',
      members: ['p-bob', 'p-carol'],
    });
    assert.equal(chat.status, 201);

    const total = 300;
    const sends = Array.from({ length: total }, (_, i) =>
      call(i % 2 === 0 ? a : b, tokens[i % 3]!, 'POST', `/v1/chats/${chat.body.id}/messages`, {
        text: `m${i}`,
        clientId: `c${i}`,
      }),
    );
    const results = await Promise.all(sends);
    assert.deepEqual(
      results.filter((r) => r.status !== 201),
      [],
    );
    const seqs = results.map((r) => r.body.seq as number).sort((x, y) => x - y);
    assert.deepEqual(
      seqs,
      Array.from({ length: total }, (_, i) => i + 1),
    );
    const read = await call(b, tokens[1]!, 'GET', `/v1/chats/${chat.body.id}`);
    assert.equal(read.body.messageCount, total);
  });

  it('stores each send of a load once when every send goes twice at once, one copy to each process', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const users = ['twin-alice', 'twin-bob', 'twin-carol'];
    const tokens = await Promise.all(users.map((sub) => mintToken(config.jwt, { sub })));
    for (const token of tokens) {
      assert.equal((await call(b, token, 'GET', '/v1/me')).status, 200);
    }
    const chatIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const chat = await call(a, tokens[0]!, 'POST', '/v1/chats', {
        kind: 'group',
        name: `twins ${i}`,
        members: users.slice(1),
      });
      assert.equal(chat.status, 201);
      chatIds.push(chat.body.id as string);
    }
    const total = 240;
    const pairs = await Promise.all(
      Array.from({ length: total }, (_, i) => {
        const path = `/v1/chats/${chatIds[i % chatIds.length]}/messages` as const;
        const body = { text: `twin ${i}`, clientId: `twin-${i}` };
        const token = tokens[i % tokens.length]!;
        // Which process gets the first copy alternates, so that either can win the race.
        const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
        return Promise.all([call(first, token, 'POST', path, body), call(second, token, 'POST', path, body)]);
      }),
    );
    for (const [i, [one, two]] of pairs.entries()) {
      assert.deepEqual(
        [one.status, two.status].sort(),
        [200, 201],
        `send ${i}: one copy creates, the other finds it: ${JSON.stringify([one.body, two.body])}`,
      );
      assert.deepEqual(one.body, two.body, `send ${i}: both copies answer the one message`);
    }
    for (const [c, chatId] of chatIds.entries()) {
      const page = await call(b, tokens[1]!, 'GET', `/v1/chats/${chatId}/messages?after=0&limit=200`);
      assert.equal(page.status, 200);
      const expected = Array.from(
        { length: total / chatIds.length },
        (_, k) => `twin-${k * chatIds.length + c}`,
      );
      assert.deepEqual(
        page.body.data.map((m) => m.clientId).sort(),
        expected.sort(),
        `chat ${c} holds each of its sends exactly once`,
      );
      assert.deepEqual(
        page.body.data.map((m: { seq: number }) => m.seq),
        Array.from({ length: expected.length }, (_, k) => k + 1),
        `chat ${c}: seqs 1..N, no seq spent on a duplicate`,
      );
    }
  });

  it('numbers chats created through both processes at once 1..N in a fresh tenant', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const token = await mintToken(config.jwt, { sub: 'p-dave', tenant: 'processes' });
    const created = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        call(i % 2 === 0 ? a : b, token, 'POST', '/v1/chats', { kind: 'group', name: `room ${i}` }),
      ),
    );
    assert.deepEqual(
      created.filter((r) => r.status !== 201),
      [],
    );
    assert.deepEqual(
      created.map((r) => r.body.number as number).sort((x, y) => x - y),
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
  });
});
