import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { ChatMuteRow } from './mute.table.ts';

/** Mutes of members: written by moderation, read by the send function (`message.sql.ts`) and to explain a refusal. */

/** Mutes the user (again: the new time, reason and moderator replace the old). */
export async function upsertMute(
  db: Db,
  mute: {
    chatId: string;
    userId: string;
    tenantId: string;
    until: Date | null;
    reason: string | null;
    mutedBy: string;
  },
): Promise<ChatMuteRow> {
  const values = { until: mute.until, reason: mute.reason, muted_by: mute.mutedBy };
  return db
    .insertInto('chat_mutes')
    .values({ chat_id: mute.chatId, user_id: mute.userId, tenant_id: mute.tenantId, ...values })
    .onConflict((oc) =>
      oc
        .columns(['chat_id', 'user_id'])
        .doUpdateSet({ ...values, created_at: sql`date_trunc('milliseconds', now())` }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Lifts a mute; false when there was none in force. */
export async function deleteMute(db: Db, chatId: string, userId: string): Promise<boolean> {
  const result = await sql<{ live: boolean }>`
    delete from chat_mutes where chat_id = ${chatId} and user_id = ${userId}
    returning (until is null or until > now()) as live`.execute(db);
  return result.rows[0]?.live === true;
}

/** The user's mute in the chat while in force: none once its time has passed. */
export async function findLiveMute(db: Db, chatId: string, userId: string): Promise<ChatMuteRow | undefined> {
  return db
    .selectFrom('chat_mutes')
    .selectAll()
    .where('chat_id', '=', chatId)
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', sql<Date>`now()`)]))
    .executeTakeFirst();
}

/** The chat's mutes in force, muted first first. */
export async function listLiveMutes(db: Db, chatId: string): Promise<ChatMuteRow[]> {
  return db
    .selectFrom('chat_mutes')
    .selectAll()
    .where('chat_id', '=', chatId)
    .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', sql<Date>`now()`)]))
    .orderBy('created_at')
    .orderBy('user_id')
    .execute();
}
