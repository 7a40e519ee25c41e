import { sql, type Kysely } from 'kysely';
import { quotedCurrentSchema } from './schema.ts';

/**
 * Exact unread counts without counting messages. Seqs are gapless, so the messages past a member's cursor number
 * `chats.last_seq - members.last_read_seq`; the unread ones are those minus
 *
 * - the member's own messages past the cursor, deleted or not: `members.own_after_read`, raised by the send that
 *   writes them and lowered by the cursor move that passes them (both hold the member row's lock);
 * - other people's deleted messages past the cursor: counted through a partial index that holds deleted messages
 *   only, and only when `chats.last_deleted_seq` says there is one past the cursor at all.
 *
 * A member row that is inserted (joining, rejoining) starts with its own count taken by the trigger below.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table members add column own_after_read bigint not null default 0`.execute(db);
  await sql`alter table chats add column last_deleted_seq bigint not null default 0`.execute(db);
  await sql`
    update members m set own_after_read = x.n
      from (select me.chat_id, me.user_id, count(*) as n
              from members me
              join messages x on x.chat_id = me.chat_id and x.author_id = me.user_id and x.seq > me.last_read_seq
             group by me.chat_id, me.user_id) x
     where x.chat_id = m.chat_id and x.user_id = m.user_id`.execute(db);
  await sql`
    update chats c set last_deleted_seq = x.seq
      from (select chat_id, max(seq) as seq from messages where deleted_at is not null group by chat_id) x
     where x.chat_id = c.id`.execute(db);
  await sql`create index messages_deleted_idx on messages (chat_id, seq, author_id) where deleted_at is not null`.execute(
    db,
  );

  const schema = await quotedCurrentSchema(db);
  await sql`
    create function ${sql.raw(schema)}.parley_members_own_after_read() returns trigger
      language plpgsql
      as ${sql.lit(`
        begin
          new.own_after_read := (select count(*) from ${schema}.messages x
                                  where x.chat_id = new.chat_id and x.author_id = new.user_id
                                    and x.seq > new.last_read_seq);
          return new;
        end`)}`.execute(db);
  await sql`
    create trigger members_own_after_read before insert on members
      for each row execute function ${sql.raw(schema)}.parley_members_own_after_read()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists members_own_after_read on members`.execute(db);
  await sql`drop function if exists parley_members_own_after_read()`.execute(db);
  await sql`drop index if exists messages_deleted_idx`.execute(db);
  await sql`alter table chats drop column if exists last_deleted_seq`.execute(db);
  await sql`alter table members drop column if exists own_after_read`.execute(db);
}
