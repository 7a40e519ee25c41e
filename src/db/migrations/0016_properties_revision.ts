import { sql, type Kysely } from 'kysely';
import { quotedCurrentSchema } from './schema.ts';

/**
 * What is stored beside a message (`message_properties`: a SourceLoop client's subject, status and channel type) is
 * part of what a list of the chat's messages shows, so changing it moves the chat's `history_revision` on, as
 * changing a message does (migration 0010): a list read at the previous state is not served again. Statement-level
 * triggers, one update per statement and chat touched, whoever runs it. Properties written with a new message (in
 * the statement that sends it) move it on too: the send already moved `last_seq`, so that costs one more update of a
 * row the send holds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const schema = await quotedCurrentSchema(db);
  await sql`
    create function ${sql.raw(schema)}.parley_properties_revision() returns trigger
      language plpgsql
      as ${sql.lit(`
        begin
          if tg_op = 'INSERT' then
            update ${schema}.chats c set history_revision = c.history_revision + 1
             where c.id in (select chat_id from new_rows);
          elsif tg_op = 'UPDATE' then
            update ${schema}.chats c set history_revision = c.history_revision + 1
             where c.id in (select chat_id from old_rows union select chat_id from new_rows);
          elsif tg_op = 'DELETE' then
            update ${schema}.chats c set history_revision = c.history_revision + 1
             where c.id in (select chat_id from old_rows);
          else
            update ${schema}.chats c set history_revision = c.history_revision + 1;
          end if;
          return null;
        end`)}`.execute(db);
  const fn = sql.raw(`${schema}.parley_properties_revision()`);
  await sql`
    create trigger message_properties_revision_insert after insert on message_properties
      referencing new table as new_rows
      for each statement execute function ${fn}`.execute(db);
  await sql`
    create trigger message_properties_revision_update after update on message_properties
      referencing old table as old_rows new table as new_rows
      for each statement execute function ${fn}`.execute(db);
  await sql`
    create trigger message_properties_revision_delete after delete on message_properties
      referencing old table as old_rows
      for each statement execute function ${fn}`.execute(db);
  await sql`
    create trigger message_properties_revision_truncate after truncate on message_properties
      for each statement execute function ${fn}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const schema = await quotedCurrentSchema(db);
  for (const event of ['insert', 'update', 'delete', 'truncate']) {
    await sql`drop trigger if exists ${sql.raw(`message_properties_revision_${event}`)} on message_properties`.execute(
      db,
    );
  }
  await sql`drop function if exists ${sql.raw(`${schema}.parley_properties_revision()`)}`.execute(db);
}
