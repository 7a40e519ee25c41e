import type { ColumnType, Generated, Selectable } from 'kysely';

export interface TenantSettings {
  /** Group chat names are unique within the tenant (case-insensitive). Default true. */
  uniqueGroupNames?: boolean;
}

export interface TenantTable {
  id: string;
  name: string;
  token: string | null;
  settings: ColumnType<TenantSettings, TenantSettings | undefined, TenantSettings>;
  chat_counter: Generated<number>;
  created_at: Generated<Date>;
  /** The last rename; null when never renamed. */
  updated_at: Date | null;
}

export type TenantRow = Selectable<TenantTable>;
