import { sql, type Kysely } from 'kysely';
import { quotedCurrentSchema } from './schema.ts';

/**
 * `chats.history_revision` counts the changes to a chat's stored messages other than appending one: edits,
 * deletes, and any other update, delete or truncate of message rows, whoever runs it (triggers fire for every
 * session unless an administrator turns them off: `session_replication_role = replica` or `disable trigger`).
 * Together with `last_seq`, which every append raises, it names one state of the chat's history exactly, so a
 * history page read at that state can be served again for as long as the pair is unchanged
 * (`src/messages/history.cache.ts`). Statement-level triggers keep it, one update per statement and chat touched
 * (for an update, the chats of the rows before and after it); sends, which only insert, are not slowed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table chats add column history_revision bigint not null default 0`.execute(db);
  const schema = await quotedCurrentSchema(db);
  await sql`
    create function ${sql.raw(schema)}.parley_history_revision() returns trigger
      language plpgsql
      as ${sql.lit(`
        begin
          if tg_op = 'UPDATE' then
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
  const fn = sql.raw(`${schema}.parley_history_revision()`);
  // A trigger with transition tables takes one event: one each for updates and deletes, and one for truncate.
  await sql`
    create trigger messages_history_revision_update after update on messages
      referencing old table as old_rows new table as new_rows
      for each statement execute function ${fn}`.execute(db);
  await sql`
    create trigger messages_history_revision_delete after delete on messages
      referencing old table as old_rows
      for each statement execute function ${fn}`.execute(db);
  await sql`
    create trigger messages_history_revision_truncate after truncate on messages
      for each statement execute function ${fn}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const schema = await quotedCurrentSchema(db);
  for (const event of ['update', 'delete', 'truncate']) {
    await sql`drop trigger if exists ${sql.raw(`messages_history_revision_${event}`)} on messages`.execute(
      db,
    );
  }
  await sql`drop function if exists ${sql.raw(`${schema}.parley_history_revision()`)}`.execute(db);
  await sql`alter table chats drop column if exists history_revision`.execute(db);
}
