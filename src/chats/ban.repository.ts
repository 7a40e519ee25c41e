import { pastTimeKey } from '../db/sql/keyset.ts';
import type { Db } from '../db/database.ts';
import type { ChatBanRow } from './ban.table.ts';

/** Bans of a chat: who may not be added to it again (read by `requireJoinable`), written by moderation. */

/** Bans the user (again: the reason and who banned are replaced). */
export async function upsertBan(
  db: Db,
  ban: { chatId: string; userId: string; tenantId: string; reason: string | null; bannedBy: string },
): Promise<ChatBanRow> {
  return db
    .insertInto('chat_bans')
    .values({
      chat_id: ban.chatId,
      user_id: ban.userId,
      tenant_id: ban.tenantId,
      reason: ban.reason,
      banned_by: ban.bannedBy,
    })
    .onConflict((oc) =>
      oc.columns(['chat_id', 'user_id']).doUpdateSet({ reason: ban.reason, banned_by: ban.bannedBy }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Lifts a ban; false when there was none. */
export async function deleteBan(db: Db, chatId: string, userId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('chat_bans')
    .where('chat_id', '=', chatId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function findBan(db: Db, chatId: string, userId: string): Promise<ChatBanRow | undefined> {
  return db
    .selectFrom('chat_bans')
    .selectAll()
    .where('chat_id', '=', chatId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

/** Which of `userIds` are banned from the chat. */
export async function bannedAmong(db: Db, chatId: string, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) {
    return new Set();
  }
  const rows = await db
    .selectFrom('chat_bans')
    .select('user_id')
    .where('chat_id', '=', chatId)
    .where('user_id', 'in', userIds)
    .execute();
  return new Set(rows.map((row) => row.user_id));
}

/** A chat's bans, first banned first. */
export async function listBans(
  db: Db,
  chatId: string,
  page: { after?: [string, string]; limit: number },
): Promise<ChatBanRow[]> {
  let query = db.selectFrom('chat_bans').selectAll().where('chat_id', '=', chatId);
  if (page.after) {
    query = query.where(pastTimeKey('created_at', 'user_id', page.after, 'asc'));
  }
  return query.orderBy('created_at').orderBy('user_id').limit(page.limit).execute();
}
