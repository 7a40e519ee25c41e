import { sql, type Kysely } from 'kysely';
import { quotedCurrentSchema } from './schema.ts';

/**
 * The batched send as one server-side function, so that a batch costs one round trip and one commit instead of four
 * round trips (begin, lock, insert, commit) during which the chat rows stay locked. Inside, each statement takes a
 * fresh snapshot (READ COMMITTED), so the insert sees every batch committed while this one waited for its locks:
 * exactly what the two-statement transaction it replaces saw.
 *
 * 1. Lock the batch's chats in id order: concurrent batches cannot deadlock.
 * 2. Keep the sends whose author is a member of a live chat of their tenant, whose reply points at an existing message
 *    and whose clientId is new; number them per chat from the chat's counter in input order; advance each counter and
 *    each author's count of own messages past their read cursor once; insert them all with their tenant's search
 *    configuration; return the rows written.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = await quotedCurrentSchema(db);
  await sql`
    create function ${sql.raw(s)}.parley_send_batch(
      p_tenant text[], p_chat text[], p_author text[], p_id text[], p_text text[], p_reply bigint[], p_client text[]
    ) returns table (
      chat_id text, seq bigint, id text, author_id text, text text, reply_to bigint, client_id text,
      created_at timestamptz, edited_at timestamptz, deleted_at timestamptz
    )
    language plpgsql volatile
    as ${sql.lit(`
      #variable_conflict use_column
      begin
        perform 1 from ${s}.chats c where c.id = any(p_chat) order by c.id for update;
        return query
          with input as (
            select * from unnest(p_tenant, p_chat, p_author, p_id, p_text, p_reply, p_client) with ordinality
              as t(tenant_id, chat_id, author_id, id, text, reply_to, client_id, ord)
          ),
          eligible as (
            select i.* from input i
            join ${s}.chats c on c.id = i.chat_id and c.tenant_id = i.tenant_id and c.deleted_at is null
            where exists (select 1 from ${s}.members m where m.chat_id = i.chat_id and m.user_id = i.author_id)
              and (i.reply_to is null or i.reply_to <= c.last_seq)
              and (i.client_id is null or not exists (
                select 1 from ${s}.messages x
                 where x.chat_id = i.chat_id and x.author_id = i.author_id and x.client_id = i.client_id))
          ),
          numbered as (
            select e.*, row_number() over (partition by e.chat_id order by e.ord) as k,
                   count(*) over (partition by e.chat_id) as n
            from eligible e
          ),
          configs as (
            select t.tenant_id, ${s}.parley_search_config(t.tenant_id) as config
            from (select distinct tenant_id from eligible) t
          ),
          authored as (
            update ${s}.members m set own_after_read = m.own_after_read + a.n
              from (select chat_id, author_id, count(*) as n from numbered group by chat_id, author_id) a
             where m.chat_id = a.chat_id and m.user_id = a.author_id
          ),
          bumped as (
            update ${s}.chats c
               set last_seq = c.last_seq + b.n, message_count = c.message_count + b.n,
                   last_message_at = clock_timestamp()
              from (select chat_id, max(n) as n from numbered group by chat_id) b
             where c.id = b.chat_id
            returning c.id, c.last_seq - b.n as base, c.last_message_at
          ),
          inserted as (
            insert into ${s}.messages
              (chat_id, seq, id, author_id, text, reply_to, client_id, created_at, search_config)
            select nb.chat_id, b.base + nb.k, nb.id, nb.author_id, nb.text, nb.reply_to, nb.client_id,
                   b.last_message_at, cf.config
            from numbered nb
            join bumped b on b.id = nb.chat_id
            join configs cf on cf.tenant_id = nb.tenant_id
            order by nb.chat_id, nb.k
            returning chat_id, seq, id, author_id, text, reply_to, client_id, created_at, edited_at, deleted_at
          )
          select * from inserted;
      end`)}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists parley_send_batch(text[], text[], text[], text[], text[], bigint[], text[])`.execute(
    db,
  );
}
