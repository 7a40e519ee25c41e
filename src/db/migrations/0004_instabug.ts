import { sql, type Kysely } from 'kysely';

/**
 * Tenants addressed by a token (Instabug applications) are listed and renamed: `updated_at` records the last
 * rename, and an index on `created_at` orders the list. Additive only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table tenants add column if not exists updated_at timestamptz`.execute(db);
  await sql`create index if not exists tenants_token_created_idx on tenants (created_at, id) where token is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists tenants_token_created_idx`.execute(db);
  await sql`alter table tenants drop column if exists updated_at`.execute(db);
}
