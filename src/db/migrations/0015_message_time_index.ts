import { sql, type Kysely } from 'kysely';

/**
 * A chat's live messages by time (then seq): what the SourceLoop dialect's lists ordered by `createdOn` read, a page
 * at a time, instead of sorting the whole chat; its counts of other conditions read this index alone. Partial: only
 * live messages are ever listed by time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists messages_chat_created_idx on messages (chat_id, created_at, seq)
            where deleted_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists messages_chat_created_idx`.execute(db);
}
