import type { Generated, Selectable } from 'kysely';

export type MemberRole = 'owner' | 'admin' | 'member';

export interface MemberTable {
  chat_id: string;
  tenant_id: string;
  user_id: string;
  role: MemberRole;
  joined_at: Generated<Date>;
  last_read_seq: Generated<number>;
}

export type MemberRow = Selectable<MemberTable>;
