import { sql, type Kysely } from 'kysely';

/**
 * The clientId key becomes a partial unique index over the messages that have one. Same guarantee (NULLs were never
 * equal), a smaller index, and one the planner can no longer mistake for a way to read a chat's history: with fresh
 * bulk inserts and stale statistics it used to pick it over the (chat_id, seq) primary key, then sort.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table messages drop constraint messages_client_id_key`.execute(db);
  await sql`create unique index messages_client_id_key on messages (chat_id, author_id, client_id)
            where client_id is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index messages_client_id_key`.execute(db);
  await sql`alter table messages add constraint messages_client_id_key unique (chat_id, author_id, client_id)`.execute(
    db,
  );
}
