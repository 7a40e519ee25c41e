import { sql, type Kysely } from 'kysely';
import { quotedCurrentSchema } from './schema.ts';

/**
 * `chats.history_revision` counts the changes to a chat's stored messages other than appending one: an edit, a
 * delete, any update or delete of message rows by whatever writer. Together with `last_seq` (which every append
 * raises) it names one state of the chat's history exactly, so a history page read at that state can be served
 * again for as long as the pair is unchanged (`src/messages/history.cache.ts`). Statement-level triggers keep it,
 * one update per statement and chat; sends, which only insert, are not touched.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table chats add column history_revision bigint not null default 0`.execute(db);
  const schema = await quotedCurrentSchema(db);
  await sql`
    create function ${sql.raw(schema)}.parley_history_revision() returns trigger
      language plpgsql
      as ${sql.lit(`
        begin
          update ${schema}.chats c set history_revision = c.history_revision + 1
           where c.id in (select distinct chat_id from changed);
          return null;
        end`)}`.execute(db);
  // A trigger with a transition table takes one event: one for updates, one for deletes.
  for (const event of ['update', 'delete']) {
    await sql`
      create trigger ${sql.raw(`messages_history_revision_${event}`)} after ${sql.raw(event)} on messages
        referencing old table as changed
        for each statement execute function ${sql.raw(schema)}.parley_history_revision()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists messages_history_revision_update on messages`.execute(db);
  await sql`drop trigger if exists messages_history_revision_delete on messages`.execute(db);
  await sql`drop function if exists parley_history_revision()`.execute(db);
  await sql`alter table chats drop column if exists history_revision`.execute(db);
}
