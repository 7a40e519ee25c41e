import { sql, type RawBuilder } from 'kysely';

/**
 * A member's chat settings as views show them, computed in the database at the statement's time (migration 0018):
 * `s_muted` (muted_until is still ahead: 'infinity' for ever), `s_muted_until` (its end, null when not muted or
 * muted for ever), `s_archived`, `s_hidden` (hidden and no message since: the next message shows the chat again).
 * Shared by every query that shows a member's chats (chat views, the unread summary, the settings themselves).
 */
export function settingsSql(m: string, c: string): RawBuilder<unknown> {
  const [member, chat] = [sql.table(m), sql.table(c)];
  return sql`coalesce(${member}.muted_until > now(), false) as s_muted,
    case when ${member}.muted_until > now() and ${member}.muted_until <> 'infinity'::timestamptz
         then ${member}.muted_until end as s_muted_until,
    ${member}.archived as s_archived,
    coalesce(${chat}.last_seq <= ${member}.hidden_through, false) as s_hidden`;
}

/** The columns `settingsSql` adds to a row. */
export interface SettingsColumns {
  s_muted: boolean;
  s_muted_until: Date | null;
  s_archived: boolean;
  s_hidden: boolean;
}
