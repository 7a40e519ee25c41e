import type { UserRow } from './user.table.ts';
import type { UserView } from './user.schema.ts';

/** What a deleted user is shown as: the id stays (messages name it), the rest is a placeholder. */
export const DELETED_USERNAME = 'deleted-user';
export const DELETED_DISPLAY_NAME = 'Deleted user';

export function presentUser(row: UserRow): UserView {
  if (row.deleted_at !== null) {
    return {
      id: row.id,
      username: DELETED_USERNAME,
      displayName: DELETED_DISPLAY_NAME,
      status: 'offline',
      statusText: null,
      createdAt: row.created_at.toISOString(),
      deletedAt: row.deleted_at.toISOString(),
    };
  }
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    status: row.status,
    statusText: row.status_text,
    createdAt: row.created_at.toISOString(),
    deletedAt: null,
  };
}
