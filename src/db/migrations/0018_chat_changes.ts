import { sql, type Kysely } from 'kysely';

/**
 * A per-chat log of changes other than new messages (edits, deletions, reactions, and what later features record):
 * `chats.change_seq` counts them, and each is a row of `chat_changes` numbered by it (`rev`), gapless per chat,
 * recorded in the transaction of the change by one statement that advances the counter and inserts the row. The
 * stream delivers them in rev order and replays them on a resume; old rows are pruned (docs/stream.md).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table chats add column change_seq bigint not null default 0`.execute(db);
  await sql`
    create table chat_changes (
      chat_id text not null references chats (id) on delete cascade,
      rev bigint not null,
      type text not null,
      payload jsonb not null,
      created_at timestamptz not null default now(),
      primary key (chat_id, rev)
    )`.execute(db);
  // Pruning by age.
  await sql`create index chat_changes_created_idx on chat_changes (created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists chat_changes`.execute(db);
  await sql`alter table chats drop column if exists change_seq`.execute(db);
}
