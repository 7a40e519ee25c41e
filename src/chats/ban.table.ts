import type { Generated, Selectable } from 'kysely';

/** A user banned from a group (migration 0018): removed, and not added again until unbanned. */
export interface ChatBanTable {
  chat_id: string;
  user_id: string;
  tenant_id: string;
  reason: string | null;
  banned_by: string;
  created_at: Generated<Date>;
}

export type ChatBanRow = Selectable<ChatBanTable>;
