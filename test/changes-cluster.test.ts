import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../src/auth/token.ts';
import { dropSchema, TEST_DATABASE_URL, testConfig, testSchemaName } from './support/app.ts';
import { call as api, clusterEnv, startServer, type ServerProcess } from './support/server.ts';
import { StreamClient, type Frame } from './support/ws.ts';

const skip = TEST_DATABASE_URL ? false : 'several processes share one database only on PostgreSQL';
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const CHANGES = ['message.updated', 'message.deleted', 'reaction.added', 'reaction.removed'];
/** A call answered without a body (204): its status. */
async function status(server: ServerProcess, token: string, method: string, path: string): Promise<number> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
  });
  await response.arrayBuffer();
  return response.status;
}

const revsOf = (frames: Frame[]) =>
  frames.filter((f) => CHANGES.includes(f.type)).map((f) => (f as Frame & { rev: number }).rev);

describe('a chat’s changes across two server processes on the postgres bus', { skip }, () => {
  const schema = testSchemaName();
  const config = testConfig({}, schema);
  const servers: ServerProcess[] = [];
  const streams: StreamClient[] = [];
  const env = clusterEnv(schema, { PARLEY_BUS: 'postgres', PARLEY_RESUME_GRACE_MS: '0' });

  before(async () => {
    servers.push(await startServer(env));
    servers.push(await startServer(env));
  });

  after(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await Promise.all(servers.map((s) => s.stop()));
    await dropSchema(schema);
  });

  it('streams changes made on both processes in rev order, once, and resumes them on the other', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const [alice, bob, carol] = await Promise.all(
      ['alice', 'bob', 'carol'].map((sub) => mintToken(config.jwt, { sub })),
    );
    for (const token of [alice!, bob!, carol!]) {
      assert.equal((await api(a, token, 'GET', '/v1/me')).status, 200);
    }
    const chat = await api(a, alice!, 'POST', '/v1/chats', {
      kind: 'group',
      name: 'changes',
      members: ['bob', 'carol'],
    });
    assert.equal(chat.status, 201);
    const chatId = chat.body.id as string;
    for (const i of range(1, 4)) {
      assert.equal(
        (await api(a, alice!, 'POST', `/v1/chats/${chatId}/messages`, { text: `m${i}` })).status,
        201,
      );
    }
    const bobStream = await StreamClient.connect(b.url, bob!);
    streams.push(bobStream);

    // Edits on one process and reactions on the other, all at once.
    const emoji = ['👍', '🎉', '🚀', '👀'];
    const answers = await Promise.all([
      ...range(1, 4).map((seq) =>
        api(b, alice!, 'PATCH', `/v1/chats/${chatId}/messages/${seq}`, { text: `edited ${seq}` }),
      ),
      ...emoji.map((e, i) =>
        api(
          a,
          carol!,
          'PUT',
          `/v1/chats/${chatId}/messages/${(i % 4) + 1}/reactions/${encodeURIComponent(e)}`,
        ),
      ),
    ]);
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 200, 200, 200, 201, 201, 201, 201],
    );
    await bobStream.waitFor((f) => CHANGES.includes(f.type), 8);
    // A message sent afterwards comes after anything still on its way from before.
    assert.equal(
      (await api(b, alice!, 'POST', `/v1/chats/${chatId}/messages`, { text: 'barrier' })).status,
      201,
    );
    await bobStream.waitFor('message.created', (f) => f.message.seq === 5);
    assert.deepEqual(revsOf(bobStream.frames), range(1, 8));

    // Bob goes away; changes go on on process a; he resumes on process a and gets exactly those.
    await bobStream.close();
    assert.equal(await status(a, alice!, 'DELETE', `/v1/chats/${chatId}/messages/4`), 204);
    const reaction = `/v1/chats/${chatId}/messages/1/reactions/${encodeURIComponent('👍')}`;
    assert.equal(await status(b, carol!, 'DELETE', reaction), 204);
    await api(a, alice!, 'POST', `/v1/chats/${chatId}/messages`, { text: 'm6' });
    await api(b, alice!, 'PATCH', `/v1/chats/${chatId}/messages/6`, { text: 'edited 6' });
    const resume = JSON.stringify({ chats: { [chatId]: 5 }, changes: { [chatId]: 8 } });
    const again = await StreamClient.connect(a.url, bob!, { resume });
    streams.push(again);
    await again.waitFor('resumed');
    assert.deepEqual(again.seqs(chatId), [6]);
    assert.deepEqual(
      again.frames.filter((f) => CHANGES.includes(f.type)).map((f) => [f.type, (f as { rev: number }).rev]),
      [
        ['message.deleted', 9],
        ['reaction.removed', 10],
        ['message.updated', 11],
      ],
    );
    // Live again, from the other process.
    await api(b, carol!, 'PUT', `/v1/chats/${chatId}/messages/6/reactions/${encodeURIComponent('🎉')}`);
    await again.waitFor('reaction.added', (f) => f.rev === 12);
    assert.deepEqual(revsOf(again.frames), [9, 10, 11, 12]);
  });
});
