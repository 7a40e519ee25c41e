import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../src/app.ts';
import {
  clientFor,
  createTestApp,
  ENGINE,
  TEST_DATABASE_URL,
  type Client,
  type TestApp,
} from './support/app.ts';
import { createGroup } from './support/factories.ts';
import type { MessageView } from './support/api.ts';
import { assertError } from './support/assertions.ts';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sortNumbers = (values: number[]) => [...values].sort((a, b) => a - b);

/** Every message of a chat, oldest first, read forward page by page. */
async function history(client: Client, chatId: string): Promise<MessageView[]> {
  const all: MessageView[] = [];
  let url: `/v1/chats/${string}/messages?${string}` = `/v1/chats/${chatId}/messages?after=0&limit=200`;
  for (let guard = 0; guard < 100; guard++) {
    const page = await client.get(url);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    all.push(...page.body.data);
    if (page.body.nextCursor === null) {
      return all;
    }
    url = `/v1/chats/${chatId}/messages?limit=200&cursor=${encodeURIComponent(page.body.nextCursor)}`;
  }
  throw new Error('history did not end');
}

/** A deterministic shuffle, so interleavings differ from the order the work was listed in. */
function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  let state = 0x2545f491;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe(`concurrency (${ENGINE})`, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  it('numbers 250 parallel sends into one chat from several members 1..250', async () => {
    const members = await Promise.all(range(1, 5).map((i) => t.login(`one-chat-${i}`)));
    const chat = await createGroup(members[0]!, members.slice(1));
    const sends = range(1, 250).map((i) => {
      const author = members[i % members.length]!;
      return author.post(`/v1/chats/${chat.id}/messages`, { text: `parallel ${i}` });
    });
    const responses = await Promise.all(sends);
    assert.deepEqual(
      responses.map((r) => r.status),
      responses.map(() => 201),
      JSON.stringify(responses.find((r) => r.status !== 201)?.body),
    );
    assert.deepEqual(
      sortNumbers(responses.map((r) => r.body.seq)),
      range(1, 250),
      'each send got its own seq',
    );
    assert.equal(new Set(responses.map((r) => r.body.id)).size, 250);

    const stored = await history(members[2]!, chat.id);
    assert.deepEqual(
      stored.map((m) => m.seq),
      range(1, 250),
      'history is exactly 1..250, no gaps, no duplicates',
    );
    // Each stored message is the one its response described.
    const bySeq = new Map(responses.map((r) => [r.body.seq, r.body]));
    for (const m of stored) {
      assert.equal(m.id, bySeq.get(m.seq)?.id);
      assert.equal(m.text, bySeq.get(m.seq)?.text);
      assert.equal(m.authorId, bySeq.get(m.seq)?.authorId);
    }
    const view = await members[0]!.get(`/v1/chats/${chat.id}`);
    assert.equal(view.body.messageCount, 250);
    assert.equal(view.body.lastMessage?.seq, 250);
    // Every member's unread count is exact: the 250 minus their own 50.
    for (const member of members) {
      const mine = await member.get(`/v1/chats/${chat.id}`);
      assert.equal(mine.body.unreadCount, 200, member.userId);
    }
    const next = await members[0]!.post(`/v1/chats/${chat.id}/messages`, { text: 'after the storm' });
    assert.equal(next.body.seq, 251);
  });

  it('numbers 250 parallel sends spread over 25 chats 1..N in each chat', async () => {
    const alice = await t.login('many-alice');
    const bob = await t.login('many-bob');
    const chats = await Promise.all(range(1, 25).map(() => createGroup(alice, [bob])));
    // Uneven sizes (4, 8, 12 or 16 messages per chat), the last chat topped up so the plan holds exactly 250.
    const expected = new Map<string, number>(chats.map((chat, i) => [chat.id, 4 + (i % 4) * 4]));
    const planned = [...expected.values()].reduce((a, b) => a + b, 0);
    const last = chats[chats.length - 1]!.id;
    expected.set(last, expected.get(last)! + 250 - planned);
    const plan: { chatId: string; author: Client }[] = [];
    for (const chat of chats) {
      for (let k = 0; k < expected.get(chat.id)!; k++) {
        plan.push({ chatId: chat.id, author: k % 3 === 0 ? bob : alice });
      }
    }
    assert.equal(plan.length, 250);

    const responses = await Promise.all(
      shuffle(plan).map(({ chatId, author }, i) =>
        author.post(`/v1/chats/${chatId}/messages`, { text: `spread ${i}` }),
      ),
    );
    assert.ok(
      responses.every((r) => r.status === 201),
      JSON.stringify(responses.find((r) => r.status !== 201)?.body),
    );
    for (const chat of chats) {
      const n = expected.get(chat.id)!;
      const answered = responses.filter((r) => r.body.chatId === chat.id).map((r) => r.body.seq);
      assert.deepEqual(sortNumbers(answered), range(1, n), `answered seqs of chat ${chat.id}`);
      const stored = await history(bob, chat.id);
      assert.deepEqual(
        stored.map((m) => m.seq),
        range(1, n),
        `stored seqs of chat ${chat.id}`,
      );
      const view = await alice.get(`/v1/chats/${chat.id}`);
      assert.equal(view.body.messageCount, n);
    }
  });

  it('numbers 100 parallel group creations in a fresh tenant 1..100', async () => {
    const tenant = `conc-${randomBytes(4).toString('hex')}`;
    const owner = await t.login('creator', { tenant });
    const responses = await Promise.all(
      range(1, 100).map((i) => owner.post('/v1/chats', { kind: 'group', name: `parallel group ${i}` })),
    );
    assert.ok(
      responses.every((r) => r.status === 201),
      JSON.stringify(responses.find((r) => r.status !== 201)?.body),
    );
    assert.deepEqual(sortNumbers(responses.map((r) => r.body.number)), range(1, 100));
    const listed = await owner.get('/v1/chats?limit=200');
    assert.equal(listed.body.data.length, 100);
    assert.deepEqual(sortNumbers(listed.body.data.map((c) => c.number)), range(1, 100));
    const next = await owner.post('/v1/chats', { kind: 'group', name: 'after the batch' });
    assert.equal(next.body.number, 101);
  });

  it('keeps chat numbers gapless when parallel creations conflict on names', async () => {
    const tenant = `conc-${randomBytes(4).toString('hex')}`;
    const owner = await t.login('creator', { tenant });
    const other = await t.login('other-creator', { tenant });
    const existing = await owner.post('/v1/chats', { kind: 'group', name: 'Taken Already' });
    assert.equal(existing.body.number, 1);

    // 60 distinct new names, 20 repeats of some of them (differing in case, from another user),
    // and 20 attempts at the name that was taken before the batch.
    const requests: { client: Client; name: string }[] = [
      ...range(1, 60).map((i) => ({ client: owner, name: `room ${i}` })),
      ...range(1, 20).map((i) => ({ client: other, name: `ROOM ${i * 3}` })),
      ...range(1, 20).map((i) => ({ client: i % 2 ? owner : other, name: 'taken already' })),
    ];
    const responses = await Promise.all(
      shuffle(requests).map(({ client, name }) => client.post('/v1/chats', { kind: 'group', name })),
    );
    const created = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    assert.equal(
      created.length,
      60,
      `one creation per distinct name; the others: ${JSON.stringify(refused.map((r) => [r.status, r.body]).slice(0, 3))}`,
    );
    assert.equal(refused.length, 40);
    for (const r of refused) {
      assertError(r, 409, 'conflict', 'name');
    }
    assert.equal(new Set(created.map((r) => r.body.name?.toLowerCase())).size, 60);
    assert.deepEqual(
      sortNumbers(created.map((r) => r.body.number)),
      range(2, 61),
      'failed creations left no gaps in the numbers',
    );
    const next = await other.post('/v1/chats', { kind: 'group', name: 'after the conflicts' });
    assert.equal(next.status, 201);
    assert.equal(next.body.number, 62);
  });

  it('stores exactly one message for 50 concurrent sends with the same clientId', async () => {
    const alice = await t.login('retry-alice');
    const bob = await t.login('retry-bob');
    const chat = await createGroup(alice, [bob]);
    const url = `/v1/chats/${chat.id}/messages` as const;
    const responses = await Promise.all(
      range(1, 50).map((i) => alice.post(url, { text: `attempt ${i}`, clientId: 'flaky-network-1' })),
    );
    const statuses = responses.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
    assert.equal(statuses.filter((s) => s === 200).length, 49, JSON.stringify(responses.map((r) => r.body)));
    const first = responses.find((r) => r.status === 201)!.body;
    assert.equal(first.seq, 1);
    for (const r of responses) {
      assert.deepEqual(r.body, first, 'every answer is the one message');
    }

    const stored = await history(bob, chat.id);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.id, first.id);
    assert.equal((await bob.get(`/v1/chats/${chat.id}`)).body.messageCount, 1);
    const next = await alice.post(url, { text: 'next', clientId: 'flaky-network-2' });
    assert.equal(next.status, 201);
    assert.equal(next.body.seq, 2, 'the losing attempts consumed no seq');
  });

  it(
    'numbers sends from two Parley processes on the same schema gaplessly',
    { skip: TEST_DATABASE_URL ? false : 'needs PostgreSQL: set PARLEY_TEST_DATABASE_URL' },
    async () => {
      // The second process: its own app, its own pool, the schema the first one migrated.
      const second = await buildApp(t.config);
      try {
        await second.ready();
        const clients1 = await Promise.all(range(1, 4).map((i) => t.login(`proc-${i}`)));
        const clients2 = await Promise.all(
          clients1.map(async (c) => clientFor(second, c.userId, await t.token(c.userId))),
        );
        for (const c of clients2) {
          assert.equal((await c.get('/v1/me')).status, 200);
        }
        const chat = await createGroup(clients1[0]!, clients1.slice(1));
        const seen = await clients2[1]!.get(`/v1/chats/${chat.id}`);
        assert.equal(seen.status, 200, 'the second process sees the chat the first created');

        const sends = range(1, 200).map((i) => {
          const side = i % 2 ? clients1 : clients2;
          return side[i % side.length]!.post(`/v1/chats/${chat.id}/messages`, { text: `two processes ${i}` });
        });
        const responses = await Promise.all(sends);
        assert.ok(
          responses.every((r) => r.status === 201),
          JSON.stringify(responses.find((r) => r.status !== 201)?.body),
        );
        assert.deepEqual(sortNumbers(responses.map((r) => r.body.seq)), range(1, 200));
        for (const reader of [clients1[3]!, clients2[3]!]) {
          const stored = await history(reader, chat.id);
          assert.deepEqual(
            stored.map((m) => m.seq),
            range(1, 200),
          );
        }
        assert.equal((await clients2[0]!.get(`/v1/chats/${chat.id}`)).body.messageCount, 200);
      } finally {
        await second.close();
      }
    },
  );
});
