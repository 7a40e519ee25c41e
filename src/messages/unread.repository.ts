import { sql } from 'kysely';
import { liveChatOf } from '../db/sql/chats.ts';
import type { Db } from '../db/database.ts';
import { anyUser } from '../db/statements.ts';
import { settingsSql, type SettingsColumns } from '../db/sql/settings.ts';
import { unreadCountSql } from '../db/sql/unread.ts';
import { mentionCountSql } from './mention.repository.ts';
import { threadUnreadSql } from './thread.repository.ts';

export interface UnreadRow extends SettingsColumns {
  chat_id: string;
  last_read_seq: number;
  unread_count: number;
  mention_count: number;
}

/** A thread the user takes part in, with replies by others past the user's thread cursor. */
export interface ThreadUnreadRow {
  chat_id: string;
  root_seq: number;
  last_read_seq: number;
  unread_count: number;
}

/**
 * Everything the unread summary shows, in one statement and one round trip: every chat of the user with something
 * unread, from the user's memberships (members_user_idx) and each chat by primary key (no message is read unless
 * the chat has a deleted one past the cursor), with the mentions past the cursor counted for those chats only
 * (`mentionCountSql`); then the threads of the user's live chats (the user still a member) with replies by others
 * past the user's thread cursor, from the user's thread memberships (thread_members_user_idx), each counted in the
 * index of thread replies. Rows of the second part have `root_seq`; both parts reach the user through `anyUser`,
 * so that the prepared statement keeps one plan whoever asks.
 */
export function unreadSummaryQuery(tenantId: string, userId: string) {
  return sql<UnreadRow & { root_seq: number | null }>`
    select * from (
      select u.chat_id, null::bigint as root_seq, u.last_read_seq, u.unread_count,
             ${mentionCountSql('u')} as mention_count, u.s_muted, u.s_muted_until, u.s_archived, u.s_hidden
      from (
        select m.chat_id, m.user_id, m.joined_at, m.last_read_seq, ${unreadCountSql('m', 'c')} as unread_count,
               ${settingsSql('m', 'c')}
        from members m
        join ${liveChatOf('m')} c on c.last_seq > m.last_read_seq
        where m.tenant_id = ${tenantId} and m.user_id = ${anyUser(userId)}
      ) u
      where u.unread_count > 0
      union all
      select t.chat_id, t.root_seq, t.last_read_seq, t.unread_count,
             0, null::boolean, null::timestamptz, null::boolean, null::boolean
      from (
        select tm.chat_id, tm.root_seq, tm.last_read_seq, ${threadUnreadSql('tm')} as unread_count
        from thread_members tm
        join members m on m.chat_id = tm.chat_id and m.user_id = tm.user_id and m.tenant_id = ${tenantId}
        join ${liveChatOf('tm')} c on c.last_seq > tm.last_read_seq
        where tm.user_id = ${anyUser(userId)}
      ) t
      where t.unread_count > 0
    ) x
    order by x.root_seq is not null, x.chat_id, x.root_seq`;
}

/** The unread summary's rows (`unreadSummaryQuery`): the user's chats, then the user's threads. */
export async function unreadSummary(
  db: Db,
  tenantId: string,
  userId: string,
): Promise<{ chats: UnreadRow[]; threads: ThreadUnreadRow[] }> {
  const { rows } = await unreadSummaryQuery(tenantId, userId).execute(db);
  const chats: UnreadRow[] = [];
  const threads: ThreadUnreadRow[] = [];
  for (const { root_seq, ...row } of rows) {
    if (root_seq === null) {
      chats.push(row);
    } else {
      threads.push({
        chat_id: row.chat_id,
        root_seq: Number(root_seq),
        last_read_seq: Number(row.last_read_seq),
        unread_count: row.unread_count,
      });
    }
  }
  return { chats, threads };
}
