import { sql, type Kysely } from 'kysely';

/**
 * Deleted users (docs/users.md, "Deletion"): the row stays as a tombstone, so the messages that name the user as
 * their author still resolve to someone, and the id can never be provisioned again. `deleted_at` marks it; the
 * personal fields are erased by the deletion itself. Additive only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column deleted_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users drop column if exists deleted_at`.execute(db);
}
