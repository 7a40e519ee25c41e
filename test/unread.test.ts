import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { createGroup } from './support/factories.ts';

/** A small deterministic generator, so that a failing run can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Recount {
  chat_id: string;
  user_id: string;
  unread: number;
}

/**
 * Unread counts are kept from counters (seqs past the cursor, less the member's own messages there, less others'
 * deleted ones), never by counting messages. These tests compare them with a plain count, after many operations that
 * move the counters racing each other: sends by several members, reads, deletes by authors and admins, leaving and
 * rejoining.
 */
describe(`unread counters agree with a recount (${ENGINE})`, () => {
  let t: TestApp;
  let users: Client[];
  let chats: string[];

  before(async () => {
    t = await createTestApp();
    users = await Promise.all(['ua', 'ub', 'uc', 'ud'].map((id) => t.login(`unread-${id}`)));
    chats = [];
    for (let i = 0; i < 3; i++) {
      chats.push((await createGroup(users[0]!, users.slice(1), { visibility: 'public' })).id);
    }
  });
  after(async () => {
    await t.close();
  });

  async function recount(): Promise<Map<string, number>> {
    const rows = await sql<Recount>`
      select m.chat_id, m.user_id,
             (select count(*) from messages x
               where x.chat_id = m.chat_id and x.seq > m.last_read_seq and x.author_id <> m.user_id
                 and x.deleted_at is null)::int as unread
        from members m where m.chat_id = any(${chats}::text[])`.execute(t.app.parley.ctx.db);
    return new Map(rows.rows.map((r) => [`${r.chat_id}/${r.user_id}`, r.unread]));
  }

  async function assertAgree(): Promise<void> {
    const expected = await recount();
    for (const user of users) {
      const summary = await user.get('/v1/unread');
      assert.equal(summary.status, 200);
      const list = await user.get('/v1/chats?limit=200');
      assert.equal(list.status, 200);
      for (const chatId of chats) {
        const want = expected.get(`${chatId}/${user.userId}`);
        const listed = list.body.data.find((c) => c.id === chatId);
        const summarised = summary.body.chats.find((c) => c.chatId === chatId);
        if (want === undefined) {
          assert.equal(listed, undefined, `${user.userId} left ${chatId} but it is listed`);
          continue;
        }
        assert.equal(listed?.unreadCount, want, `chat list: ${user.userId} in ${chatId}`);
        assert.equal(summarised?.unreadCount ?? 0, want, `summary: ${user.userId} in ${chatId}`);
        const one = await user.get(`/v1/chats/${chatId}`);
        assert.equal(one.body.unreadCount, want, `chat: ${user.userId} in ${chatId}`);
      }
      assert.equal(
        summary.body.total,
        chats.reduce((sum, chatId) => sum + (expected.get(`${chatId}/${user.userId}`) ?? 0), 0),
      );
    }
  }

  it('after rounds of racing sends, reads, deletes, leaves and rejoins', async () => {
    const seed = Number(process.env.UNREAD_SEED ?? Date.now() % 100000);
    const next = random(seed);
    const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
    for (let round = 0; round < 6; round++) {
      const operations: (() => Promise<unknown>)[] = [];
      for (let i = 0; i < 40; i++) {
        const user = pick(users);
        const chatId = pick(chats);
        const roll = next();
        if (roll < 0.55) {
          operations.push(() => user.post(`/v1/chats/${chatId}/messages`, { text: `r${round} ${i}` }));
        } else if (roll < 0.75) {
          operations.push(async () => {
            const chat = await user.get(`/v1/chats/${chatId}`);
            const lastSeq = chat.status === 200 ? (chat.body.lastMessage?.seq ?? 0) : 0;
            if (lastSeq > 0) {
              const seq = 1 + Math.floor(next() * lastSeq);
              const read = await user.post(`/v1/chats/${chatId}/read`, { seq });
              // 404: the same user left the chat meanwhile (an operation below).
              assert.ok([200, 404].includes(read.status), `${read.status} ${JSON.stringify(read.body)}`);
            }
          });
        } else if (roll < 0.88) {
          // The owner (users[0]) deletes anyone's message; others only their own, or get a 403.
          operations.push(async () => {
            const chat = await user.get(`/v1/chats/${chatId}`);
            const lastSeq = chat.status === 200 ? (chat.body.lastMessage?.seq ?? 0) : 0;
            if (lastSeq > 0) {
              const seq = 1 + Math.floor(next() * lastSeq);
              const res = await user.delete(`/v1/chats/${chatId}/messages/${seq}`);
              // 404: the same user left the chat meanwhile.
              assert.ok([204, 403, 404].includes(res.status), `${res.status} ${JSON.stringify(res.body)}`);
            }
          });
        } else if (user !== users[0]) {
          operations.push(async () => {
            const left = await user.delete(`/v1/chats/${chatId}/members/${user.userId}`);
            assert.ok([204, 404].includes(left.status), `${left.status} ${JSON.stringify(left.body)}`);
            const joined = await user.post(`/v1/chats/${chatId}/members`, { userId: user.userId });
            assert.ok([201, 409].includes(joined.status), `${joined.status} ${JSON.stringify(joined.body)}`);
          });
        }
      }
      await Promise.all(operations.map((operation) => operation()));
      await assertAgree().catch((error: unknown) => {
        throw new Error(`seed ${seed}, round ${round}: ${(error as Error).message}`);
      });
    }
  });

  it('a read cursor racing the reader’s own sends keeps the own-message count exact', async () => {
    const [owner, reader] = [users[0]!, users[1]!];
    const chatId = (await createGroup(owner, [reader])).id;
    chats.push(chatId);
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const sent = await reader.post(`/v1/chats/${chatId}/messages`, { text: `mine ${i}` });
        assert.equal(sent.status, 201);
        if (i % 3 === 0) {
          await owner.post(`/v1/chats/${chatId}/messages`, { text: `theirs ${i}` });
        }
        const read = await reader.post(`/v1/chats/${chatId}/read`, { seq: sent.body.seq });
        assert.equal(read.status, 200);
      }),
    );
    await assertAgree();
  });
});
