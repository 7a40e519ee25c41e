import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export type UserStatus = 'online' | 'busy' | 'offline';

export interface UserTable {
  tenant_id: string;
  id: string;
  username: string;
  display_name: string | null;
  status: Generated<UserStatus>;
  status_text: string | null;
  created_at: Generated<Date>;
}

export type UserRow = Selectable<UserTable>;
export type NewUserRow = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
