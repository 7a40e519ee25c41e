import type { Generated, Selectable } from 'kysely';

/** A member muted in a group (migration 0018): their sends are refused until `until` (null: until unmuted). */
export interface ChatMuteTable {
  chat_id: string;
  user_id: string;
  tenant_id: string;
  until: Date | null;
  reason: string | null;
  muted_by: string;
  created_at: Generated<Date>;
}

export type ChatMuteRow = Selectable<ChatMuteTable>;
