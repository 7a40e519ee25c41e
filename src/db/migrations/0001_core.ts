import { sql, type Kysely } from 'kysely';

/**
 * The core schema. Chat numbers and message seqs are counters on the parent row, advanced inside the insert
 * statement; the unique keys below are the backstop that makes a gap or a duplicate impossible.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table tenants (
      id text primary key,
      name text not null,
      token text unique,
      settings jsonb not null default '{}'::jsonb,
      chat_counter bigint not null default 0,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`insert into tenants (id, name) values ('default', 'Default tenant')`.execute(db);

  await sql`
    create table users (
      tenant_id text not null references tenants (id),
      id text not null,
      username text not null,
      display_name text,
      status text not null default 'offline' check (status in ('online', 'busy', 'offline')),
      status_text text,
      created_at timestamptz not null default now(),
      primary key (tenant_id, id)
    )`.execute(db);
  await sql`create unique index users_username_key on users (tenant_id, lower(username))`.execute(db);

  await sql`
    create table chats (
      id text primary key,
      tenant_id text not null references tenants (id),
      number bigint not null,
      kind text not null check (kind in ('direct', 'group')),
      name text,
      name_key text,
      topic text,
      visibility text not null default 'private' check (visibility in ('public', 'private')),
      direct_key text,
      created_by text not null,
      created_at timestamptz not null default now(),
      last_seq bigint not null default 0,
      message_count bigint not null default 0,
      member_count integer not null default 0,
      last_message_at timestamptz,
      deleted_at timestamptz,
      constraint chats_number_key unique (tenant_id, number),
      constraint chats_direct_key unique (tenant_id, direct_key),
      constraint chats_name_key unique (tenant_id, name_key)
    )`.execute(db);

  await sql`
    create table members (
      chat_id text not null references chats (id) on delete cascade,
      tenant_id text not null,
      user_id text not null,
      role text not null check (role in ('owner', 'admin', 'member')),
      joined_at timestamptz not null default now(),
      last_read_seq bigint not null default 0,
      primary key (chat_id, user_id),
      foreign key (tenant_id, user_id) references users (tenant_id, id)
    )`.execute(db);
  await sql`create index members_user_idx on members (tenant_id, user_id)`.execute(db);

  await sql`
    create table messages (
      chat_id text not null references chats (id) on delete cascade,
      seq bigint not null,
      id text not null,
      author_id text not null,
      text text,
      reply_to bigint,
      client_id text,
      created_at timestamptz not null default now(),
      edited_at timestamptz,
      deleted_at timestamptz,
      primary key (chat_id, seq),
      constraint messages_client_id_key unique (chat_id, author_id, client_id)
    )`.execute(db);
  await sql`create index messages_id_idx on messages (id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['messages', 'members', 'chats', 'users', 'tenants']) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
