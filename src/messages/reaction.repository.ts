import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** Records the reaction; false when the member had already reacted with that emoji. */
export async function insertReaction(
  db: Db,
  key: { chatId: string; seq: number; emoji: string; userId: string },
): Promise<boolean> {
  const row = await db
    .insertInto('message_reactions')
    .values({ chat_id: key.chatId, seq: key.seq, emoji: key.emoji, user_id: key.userId })
    .onConflict((oc) => oc.doNothing())
    .returning('user_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Removes the reaction; false when there was none. */
export async function deleteReaction(
  db: Db,
  key: { chatId: string; seq: number; emoji: string; userId: string },
): Promise<boolean> {
  const row = await db
    .deleteFrom('message_reactions')
    .where('chat_id', '=', key.chatId)
    .where('seq', '=', key.seq)
    .where('emoji', '=', key.emoji)
    .where('user_id', '=', key.userId)
    .returning('user_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** How many members reacted with `emoji`, and how many distinct emoji the message has. */
export async function countsOf(
  db: Db,
  chatId: string,
  seq: number,
  emoji: string,
): Promise<{ count: number; distinct: number }> {
  const row = await db
    .selectFrom('message_reaction_counts')
    .select([
      sql<number>`coalesce(max(count) filter (where emoji = ${emoji}), 0)::int`.as('count'),
      sql<number>`count(*)::int`.as('distinct'),
    ])
    .where('chat_id', '=', chatId)
    .where('seq', '=', seq)
    .executeTakeFirstOrThrow();
  return row;
}

/** Moves an emoji's count by `delta` (creating or removing its row); returns the new count. */
export async function addToCount(
  db: Db,
  key: { chatId: string; seq: number; emoji: string },
  delta: 1 | -1,
): Promise<number> {
  if (delta === 1) {
    const row = await db
      .insertInto('message_reaction_counts')
      .values({ chat_id: key.chatId, seq: key.seq, emoji: key.emoji, count: 1 })
      .onConflict((oc) =>
        oc
          .columns(['chat_id', 'seq', 'emoji'])
          .doUpdateSet({ count: sql<number>`message_reaction_counts.count + 1` }),
      )
      .returning('count')
      .executeTakeFirstOrThrow();
    return row.count;
  }
  const removed = await db
    .deleteFrom('message_reaction_counts')
    .where('chat_id', '=', key.chatId)
    .where('seq', '=', key.seq)
    .where('emoji', '=', key.emoji)
    .where('count', '<=', 1)
    .returning('count')
    .executeTakeFirst();
  if (removed) {
    return 0;
  }
  const row = await db
    .updateTable('message_reaction_counts')
    .set({ count: sql<number>`count - 1` })
    .where('chat_id', '=', key.chatId)
    .where('seq', '=', key.seq)
    .where('emoji', '=', key.emoji)
    .returning('count')
    .executeTakeFirst();
  return row?.count ?? 0;
}

/** A reaction change moves the chat's history state on: no cached history page keeps the old counts. */
export async function touchHistory(db: Db, chatId: string): Promise<void> {
  await db
    .updateTable('chats')
    .set({ history_revision: sql<number>`history_revision + 1` })
    .where('id', '=', chatId)
    .execute();
}

/** The reaction counts of the chat's messages with the given seqs, by seq, first reacted first. */
export async function reactionCounts(
  db: Db,
  chatId: string,
  seqs: number[],
): Promise<{ seq: number; emoji: string; count: number }[]> {
  if (seqs.length === 0) {
    return [];
  }
  return db
    .selectFrom('message_reaction_counts')
    .select(['seq', 'emoji', 'count'])
    .where('chat_id', '=', chatId)
    .where('seq', 'in', seqs)
    .orderBy('seq')
    .orderBy('ord')
    .execute();
}

/** Which of the given messages `userId` reacted to, and with what. */
export async function reactionsBy(
  db: Db,
  chatId: string,
  userId: string,
  seqs: number[],
): Promise<{ seq: number; emoji: string }[]> {
  if (seqs.length === 0) {
    return [];
  }
  return db
    .selectFrom('message_reactions')
    .select(['seq', 'emoji'])
    .where('chat_id', '=', chatId)
    .where('user_id', '=', userId)
    .where('seq', 'in', seqs)
    .execute();
}

/** Who reacted to a message with an emoji, first first, after the `(created_at, user_id)` key given. */
export async function reactionUsers(
  db: Db,
  key: { chatId: string; seq: number; emoji: string },
  after: { at: Date; userId: string } | undefined,
  limit: number,
): Promise<{ user_id: string; created_at: Date }[]> {
  let query = db
    .selectFrom('message_reactions')
    .select(['user_id', 'created_at'])
    .where('chat_id', '=', key.chatId)
    .where('seq', '=', key.seq)
    .where('emoji', '=', key.emoji);
  if (after) {
    query = query.where(sql<boolean>`(created_at, user_id) > (${after.at}, ${after.userId})`);
  }
  return query.orderBy('created_at').orderBy('user_id').limit(limit).execute();
}
