import { sql, type Kysely } from 'kysely';

/**
 * Real-time support: events too large for NOTIFY travel through bus_events; presence keeps one row per user and
 * server process with an expiry that the process keeps pushing forward while it lives.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table bus_events (
      id bigserial primary key,
      payload text not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index bus_events_created_idx on bus_events (created_at)`.execute(db);
  await sql`
    create table presence (
      tenant_id text not null,
      user_id text not null,
      node_id text not null,
      expires_at timestamptz not null,
      primary key (tenant_id, user_id, node_id)
    )`.execute(db);
  await sql`create index presence_expires_idx on presence (expires_at)`.execute(db);
  await sql`create index users_online_idx on users (tenant_id, id) where status = 'online'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists users_online_idx`.execute(db);
  await sql`drop table if exists presence`.execute(db);
  await sql`drop table if exists bus_events`.execute(db);
}
