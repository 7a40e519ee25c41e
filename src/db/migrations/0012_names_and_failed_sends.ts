import { sql, type Kysely } from 'kysely';

/**
 * Two things the core lacked for clients that keep them (DRF's users, its send tasks):
 *
 * - a user's given and family name and e-mail address, as given (the display name stays the one name Parley shows);
 * - sends accepted first and judged later: a send that fails is remembered by the id it was accepted under, with the
 *   kind and text of its failure, for a day (like a task result), then forgotten. A send that succeeds needs no row:
 *   the message itself carries that id.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column given_name text, add column family_name text, add column email text`.execute(
    db,
  );
  await sql`
    create table failed_sends (
      tenant_id text not null,
      id text not null,
      error_type text not null,
      error_message text not null,
      failed_at timestamptz not null default now(),
      primary key (tenant_id, id)
    )`.execute(db);
  await sql`create index failed_sends_failed_at_idx on failed_sends (failed_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table failed_sends`.execute(db);
  await sql`alter table users drop column given_name, drop column family_name, drop column email`.execute(db);
}
