import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';

/** A participant's unread replies in thread `t` (a `thread_members` row): others' live replies past its cursor. */
export function threadUnreadSql(t: string): RawBuilder<number> {
  const tm = sql.table(t);
  return sql<number>`(select count(*) from messages r
     where r.chat_id = ${tm}.chat_id and r.thread_root = ${tm}.root_seq and r.thread_root is not null
       and r.seq > ${tm}.last_read_seq and r.deleted_at is null and r.author_id <> ${tm}.user_id)::int`;
}

/**
 * Moves a participant's thread cursor forward only (to `seq`, at most the chat's last); the cursor and the replies
 * still unread. Undefined when the user does not take part in the thread.
 */
export async function advanceThreadCursor(
  db: Db,
  chatId: string,
  root: number,
  userId: string,
  seq: number,
): Promise<{ last_read_seq: number; unread_count: number } | undefined> {
  const { rows } = await sql<{ last_read_seq: number; unread_count: number }>`
    update thread_members tm set last_read_seq = greatest(tm.last_read_seq, ${seq})
     where tm.chat_id = ${chatId} and tm.root_seq = ${root} and tm.user_id = ${userId}
    returning tm.last_read_seq, ${threadUnreadSql('tm')} as unread_count`.execute(db);
  const row = rows[0];
  return row ? { last_read_seq: Number(row.last_read_seq), unread_count: row.unread_count } : undefined;
}
