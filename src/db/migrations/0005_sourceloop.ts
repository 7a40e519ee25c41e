import { sql, type Kysely } from 'kysely';

/**
 * Per member and message flags (SourceLoop's message recipients): favourite and forwarded. Read state is not
 * stored here: it follows the member's read cursor. A message's flags go with it. And attachment metadata (the
 * files themselves live in the client's storage, named by `file_key`). Additive only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists message_flags (
      chat_id text not null,
      seq bigint not null,
      user_id text not null,
      is_favorite boolean not null default false,
      is_forwarded boolean not null default false,
      updated_at timestamptz not null default now(),
      primary key (chat_id, seq, user_id),
      foreign key (chat_id, seq) references messages (chat_id, seq) on delete cascade
    )`.execute(db);
  await sql`
    create table if not exists attachments (
      id text primary key,
      tenant_id text not null,
      chat_id text not null references chats (id) on delete cascade,
      seq bigint,
      file_key text not null,
      metadata jsonb not null default '{}'::jsonb,
      created_by text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz,
      deleted_at timestamptz,
      foreign key (chat_id, seq) references messages (chat_id, seq) on delete cascade
    )`.execute(db);
  await sql`create index if not exists attachments_chat_idx on attachments (chat_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists attachments`.execute(db);
  await sql`drop table if exists message_flags`.execute(db);
}
