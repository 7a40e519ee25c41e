import type { Generated, Selectable } from 'kysely';

/** A user's block of another (migration 0018): no new direct chat from them, their direct messages refused. */
export interface UserBlockTable {
  tenant_id: string;
  blocker_id: string;
  blocked_id: string;
  created_at: Generated<Date>;
}

export type UserBlockRow = Selectable<UserBlockTable>;
