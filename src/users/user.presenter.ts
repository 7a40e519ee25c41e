import type { UserRow } from './user.table.ts';
import type { UserView } from './user.schema.ts';

export function presentUser(row: UserRow): UserView {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    status: row.status,
    statusText: row.status_text,
    createdAt: row.created_at.toISOString(),
  };
}
