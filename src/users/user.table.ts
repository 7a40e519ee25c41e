import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export type UserStatus = 'online' | 'busy' | 'offline';

export interface UserTable {
  tenant_id: string;
  id: string;
  username: string;
  display_name: string | null;
  status: Generated<UserStatus>;
  status_text: string | null;
  /** Kept as given for clients that keep names apart (DRF); Parley shows `display_name`. */
  given_name: Generated<string | null>;
  family_name: Generated<string | null>;
  email: Generated<string | null>;
  created_at: Generated<Date>;
  /** Set when the user was deleted: the row stays as a tombstone, its personal fields erased. */
  deleted_at: Date | null;
}

export type UserRow = Selectable<UserTable>;
export type NewUserRow = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
