import { sql, type Kysely } from 'kysely';
import { createFunctionStatement, sendFunction } from '../../messages/message.sql.ts';
import { quotedCurrentSchema } from './schema.ts';

/**
 * Search indexing leaves the send path. Until now every insert into `messages` computed a tsvector (a generated
 * column) and wrote into two GIN indexes (words and trigrams) before the send could commit. Now:
 *
 * - `message_search` holds, per live message, what search reads: its text search configuration, its tsvector and
 *   its folded text (`parley_fold`), with the two GIN indexes, and its time: a search ranks and orders its matches
 *   here, and reads `messages` for the page's rows only. No foreign key: checking one would lock each message
 *   row the indexer writes for; search joins `messages` anyway, and a removed message is queued like any change.
 * - `message_search_queue` lists messages whose search row is to be written, rewritten or removed. Triggers fill it in
 *   the transaction that changes the message, whichever statement does: every insert and every delete (one
 *   statement-level trigger per statement, however many rows), and every update that changes `text` or
 *   `deleted_at`. A committed
 *   message is therefore always either indexed or queued, across crashes: the indexer (`src/search/search.indexer.ts`)
 *   takes queue rows and writes their search rows in one transaction.
 * - The send function no longer computes a search configuration; the per-row trigger that did for other writers goes,
 *   with the two columns.
 *
 * Processes of the previous version search `messages.search_vector`, which this removes: their searches fail until
 * they are replaced (their sends do not).
 */
export const installs = { sendFunction: '5cfec719f8763105e1baf1970b08d19339e16a7de5cdcadbb300aeb9e691a9ff' };

export async function up(db: Kysely<unknown>): Promise<void> {
  const s = await quotedCurrentSchema(db);
  const trgm = await extensionSchema(db, 'pg_trgm');
  await sql`
    create table message_search (
      chat_id text not null,
      seq bigint not null,
      created_at timestamptz not null,
      config regconfig not null,
      vector tsvector not null,
      folded text not null,
      primary key (chat_id, seq)
    )`.execute(db);
  await sql`
    insert into message_search (chat_id, seq, created_at, config, vector, folded)
    select m.chat_id, m.seq, m.created_at, m.search_config, m.search_vector, ${sql.raw(s)}.parley_fold(m.text)
      from messages m
     where m.deleted_at is null and m.text is not null`.execute(db);
  await sql`create index message_search_vector_idx on message_search using gin (vector)`.execute(db);
  // What a search of a common fragment walks, chat by chat, newest first.
  await sql`create index message_search_time_idx on message_search (chat_id, created_at, seq)`.execute(db);
  await sql`
    create index message_search_folded_idx on message_search
      using gin (folded ${sql.raw(trgm)}.gin_trgm_ops)`.execute(db);

  // No key and no index: the indexer takes any rows (one indexer at a time), and an insert costs a heap write.
  // `queued_at` tells how long search was behind (the indexer's delay metric).
  await sql`
    create table message_search_queue (
      chat_id text not null,
      seq bigint not null,
      queued_at timestamptz not null default clock_timestamp()
    )`.execute(db);
  await sql`
    create function ${sql.raw(s)}.parley_search_queue_rows() returns trigger
      language plpgsql
      as ${sql.lit(`
        begin
          insert into ${s}.message_search_queue (chat_id, seq) select n.chat_id, n.seq from touched n;
          return null;
        end`)}`.execute(db);
  await sql`
    create trigger messages_search_inserted after insert on messages
      referencing new table as touched
      for each statement execute function ${sql.raw(s)}.parley_search_queue_rows()`.execute(db);
  await sql`
    create trigger messages_search_deleted after delete on messages
      referencing old table as touched
      for each statement execute function ${sql.raw(s)}.parley_search_queue_rows()`.execute(db);
  await sql`
    create function ${sql.raw(s)}.parley_search_queue_changed() returns trigger
      language plpgsql
      as ${sql.lit(`
        begin
          insert into ${s}.message_search_queue (chat_id, seq) values (new.chat_id, new.seq);
          return null;
        end`)}`.execute(db);
  await sql`
    create trigger messages_search_changed after update of text, deleted_at on messages
      for each row when (old.text is distinct from new.text or old.deleted_at is distinct from new.deleted_at)
      execute function ${sql.raw(s)}.parley_search_queue_changed()`.execute(db);

  await sql.raw(createFunctionStatement(s, sendFunction(s))).execute(db);
  const fn = await sql<{ fn: string }>`
    select t.tgfoid::regproc::text as fn from pg_trigger t
     where t.tgrelid = 'messages'::regclass and t.tgname = 'messages_search_config'`.execute(db);
  await sql`drop trigger messages_search_config on messages`.execute(db);
  if (fn.rows[0]) {
    await sql`drop function ${sql.raw(fn.rows[0].fn)}()`.execute(db);
  }
  await sql`drop index messages_search_idx`.execute(db);
  await sql`drop index messages_text_trgm_idx`.execute(db);
  await sql`alter table messages drop column search_vector`.execute(db);
  await sql`alter table messages drop column search_config`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('0026_search_index cannot be undone: restore a backup taken before it');
}

/** The schema an extension lives in (migration 0002 created it), quoted. */
async function extensionSchema(db: Kysely<unknown>, name: string): Promise<string> {
  const result = await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
     where e.extname = ${name}`.execute(db);
  const schema = result.rows[0]?.schema;
  if (!schema) {
    throw new Error(`extension ${name} not found`);
  }
  return `"${schema.replace(/"/g, '""')}"`;
}
