import type { Generated, Selectable } from 'kysely';

export type MemberRole = 'owner' | 'admin' | 'member';

export interface MemberTable {
  chat_id: string;
  tenant_id: string;
  user_id: string;
  role: MemberRole;
  joined_at: Generated<Date>;
  last_read_seq: Generated<number>;
  /** When the read cursor last moved forward; null until it first moves after migration 0018. */
  last_read_at: Date | null;
  /** The member's own messages (deleted ones too) past its read cursor; kept by sends and cursor moves. */
  own_after_read: Generated<number>;
  /** Notifications muted until then ('infinity': for ever); null: not muted (migration 0018). */
  muted_until: Generated<Date | null>;
  archived: Generated<boolean>;
  /** Hidden while the chat's last seq is at most this; null: shown. */
  hidden_through: Generated<number | null>;
}

export type MemberRow = Selectable<MemberTable>;
