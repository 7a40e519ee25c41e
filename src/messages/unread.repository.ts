import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { anyUser } from '../db/statements.ts';
import { settingsSql, type SettingsColumns } from '../db/sql/settings.ts';
import { unreadCountSql } from '../db/sql/unread.ts';
import { mentionCountSql } from './mention.repository.ts';

export interface UnreadRow extends SettingsColumns {
  chat_id: string;
  last_read_seq: number;
  unread_count: number;
  mention_count: number;
}

/**
 * Every chat of the user with something unread, in one query: the user's memberships (members_user_idx) and each
 * chat by primary key; no message is read unless the chat has a deleted one past the cursor. The mentions past the
 * cursor are counted for those chats only (`mentionCountSql`), from the mention indexes.
 */
export function unreadSummaryQuery(tenantId: string, userId: string) {
  return sql<UnreadRow>`
    select u.chat_id, u.last_read_seq, u.unread_count, ${mentionCountSql('u')} as mention_count,
           u.s_muted, u.s_muted_until, u.s_archived, u.s_hidden
    from (
      select m.chat_id, m.user_id, m.joined_at, m.last_read_seq, ${unreadCountSql('m', 'c')} as unread_count,
             ${settingsSql('m', 'c')}
      from members m
      join chats c on c.id = m.chat_id and c.deleted_at is null and c.last_seq > m.last_read_seq
      where m.tenant_id = ${tenantId} and m.user_id = ${anyUser(userId)}
    ) u
    where u.unread_count > 0
    order by u.chat_id`;
}

export async function unreadSummary(db: Db, tenantId: string, userId: string): Promise<UnreadRow[]> {
  return (await unreadSummaryQuery(tenantId, userId).execute(db)).rows;
}
