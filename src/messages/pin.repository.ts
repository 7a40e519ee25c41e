import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { VIEW_COLUMNS, type PinnedMessageRow } from './message.repository.ts';

/**
 * Locks the chat's row until the transaction ends: every pin of the chat takes it (after its message's), so the
 * count of pins a pin reads next is exact whatever runs at once.
 */
export async function lockChatPins(db: Db, chatId: string): Promise<void> {
  await db.selectFrom('chats').select('id').where('id', '=', chatId).forNoKeyUpdate().execute();
}

/** How many messages of the chat are pinned (the partial index of migration 0018). */
export async function countPins(db: Db, chatId: string): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('chat_id', '=', chatId)
    .where('pinned_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return row.n;
}

/**
 * Pins a live message (milliseconds: a cursor carries the time exactly); undefined when it is deleted. The update
 * moves the chat's history revision (migration 0010's trigger), in this statement.
 */
export async function setPin(
  db: Db,
  chatId: string,
  seq: number,
  userId: string,
): Promise<PinnedMessageRow | undefined> {
  return db
    .updateTable('messages')
    .set({ pinned_at: sql<Date>`date_trunc('milliseconds', now())`, pinned_by: userId })
    .where('chat_id', '=', chatId)
    .where('seq', '=', seq)
    .where('deleted_at', 'is', null)
    .returning(VIEW_COLUMNS)
    .executeTakeFirst();
}

/** Unpins the message; undefined when it was not pinned. Moves the chat's history revision, as `setPin` does. */
export async function clearPin(db: Db, chatId: string, seq: number): Promise<PinnedMessageRow | undefined> {
  return db
    .updateTable('messages')
    .set({ pinned_at: null, pinned_by: null })
    .where('chat_id', '=', chatId)
    .where('seq', '=', seq)
    .where('pinned_at', 'is not', null)
    .returning(VIEW_COLUMNS)
    .executeTakeFirst();
}

/** The chat's pinned messages, newest pin first (then the higher seq), after the `(pinned_at, seq)` key given. */
export async function listPinned(
  db: Db,
  chatId: string,
  after: { at: Date; seq: number } | undefined,
  limit: number,
): Promise<PinnedMessageRow[]> {
  let query = db
    .selectFrom('messages')
    .select(VIEW_COLUMNS)
    .where('chat_id', '=', chatId)
    .where('pinned_at', 'is not', null);
  if (after) {
    query = query.where(sql<boolean>`(pinned_at, seq) < (${after.at}, ${after.seq})`);
  }
  return query.orderBy('pinned_at', 'desc').orderBy('seq', 'desc').limit(limit).execute();
}
