import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { settingsSql, type SettingsColumns } from '../db/sql/settings.ts';

/** A change of a member's settings; a key left out is left as it is. */
export interface SettingsChange {
  /** The mute's end: 'infinity' for ever, null to unmute. */
  mutedUntil?: Date | 'infinity' | null;
  archived?: boolean;
  /** True hides the chat through its last seq now; false shows it. */
  hidden?: boolean;
}

/** The member's settings of a live chat of the tenant. */
export async function findSettings(
  db: Db,
  tenantId: string,
  chatId: string,
  userId: string,
): Promise<SettingsColumns | undefined> {
  const { rows } = await sql<SettingsColumns>`
    select ${settingsSql('m', 'c')} from members m join chats c on c.id = m.chat_id
     where m.chat_id = ${chatId} and m.user_id = ${userId} and c.tenant_id = ${tenantId} and c.deleted_at is null`.execute(
    db,
  );
  return rows[0];
}

/**
 * Changes the member's settings in one statement, hiding through the chat's last seq as the statement reads it, and
 * answers them as they are now; undefined when the member or the live chat is gone.
 */
export async function updateSettings(
  db: Db,
  tenantId: string,
  chatId: string,
  userId: string,
  change: SettingsChange,
): Promise<SettingsColumns | undefined> {
  const sets = [];
  if (change.mutedUntil !== undefined) {
    const until = change.mutedUntil;
    sets.push(
      until === null
        ? sql`muted_until = null`
        : sql`muted_until = ${until === 'infinity' ? 'infinity' : until.toISOString()}::timestamptz`,
    );
  }
  if (change.archived !== undefined) {
    sets.push(sql`archived = ${change.archived}`);
  }
  if (change.hidden !== undefined) {
    sets.push(change.hidden ? sql`hidden_through = c.last_seq` : sql`hidden_through = null`);
  }
  const { rows } = await sql<SettingsColumns>`
    update members m set ${sql.join(sets)}
      from chats c
     where c.id = m.chat_id and m.chat_id = ${chatId} and m.user_id = ${userId}
       and c.tenant_id = ${tenantId} and c.deleted_at is null
    returning ${settingsSql('m', 'c')}`.execute(db);
  return rows[0];
}
