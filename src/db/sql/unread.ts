import { sql, type RawBuilder } from 'kysely';

/**
 * Others' live messages of the main history past member `m`'s cursor in chat `c`, without counting messages
 * (migration 0008): the seqs past the cursor, less the member's own messages there, less others' deleted messages
 * there, which are looked up (in an index of deleted messages only) when the chat has a deleted message past the
 * cursor at all, less others' live thread-only replies there (migration 0018; in an index of those only, when the
 * chat has one past the cursor: they count in the threads' unread, for the threads' participants). Shared by every
 * query that shows an unread count (chat lists, memberships, the unread summary).
 */
export function unreadCountSql(m: string, c: string): RawBuilder<number> {
  const [member, chat] = [sql.table(m), sql.table(c)];
  return sql<number>`(${chat}.last_seq - ${member}.last_read_seq - ${member}.own_after_read - case
      when ${chat}.last_deleted_seq > ${member}.last_read_seq then (
        select count(*) from messages d
         where d.chat_id = ${chat}.id and d.deleted_at is not null and d.seq > ${member}.last_read_seq
           and d.author_id <> ${member}.user_id)
      else 0 end - case
      when ${chat}.last_thread_seq > ${member}.last_read_seq then (
        select count(*) from messages t
         where t.chat_id = ${chat}.id and t.thread_root is not null and not t.also_in_chat
           and t.seq > ${member}.last_read_seq and t.deleted_at is null and t.author_id <> ${member}.user_id)
      else 0 end)::int`;
}
