import { sql, type Kysely } from 'kysely';
import { quotedCurrentSchema } from './schema.ts';

/**
 * `parley_send`: the send as one server-side function that judges every send of a batch and says what became of
 * each (written, duplicate, not_found, bad_reply), so that the batch is the only way a message is written. Its
 * source of truth is `src/messages/message.sql.ts`, where its rules are explained; this migration holds a copy of
 * it as of this version (a migration never changes once applied), and a test checks that the function a database
 * ends up with is exactly the source's.
 *
 * `parley_send_batch` (migration 0009) stays: a process of the previous version, during a rolling upgrade, still
 * calls it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = await quotedCurrentSchema(db);
  await sql`
    create function ${sql.raw(s)}.parley_send(
      p_tenant text[], p_chat text[], p_author text[], p_id text[], p_text text[], p_reply bigint[], p_client text[]
    ) returns table (
      ord bigint, outcome text, chat_id text, seq bigint, id text, author_id text, text text, reply_to bigint,
      client_id text, created_at timestamptz, edited_at timestamptz, deleted_at timestamptz
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
          checked as (
            select i.*,
                   case
                     when c.id is null or not exists (
                       select 1 from ${s}.members m where m.chat_id = i.chat_id and m.user_id = i.author_id)
                       then 'not_found'
                     when i.reply_to < 1 or i.reply_to > c.last_seq then 'bad_reply'
                   end as refused
              from input i
              left join ${s}.chats c on c.id = i.chat_id and c.tenant_id = i.tenant_id and c.deleted_at is null
          ),
          matched as (
            select k.*, x.id as earlier_id, x.seq as earlier_seq,
                   first_value(k.ord) over same_send as first_ord,
                   first_value(k.id) over same_send as first_id
              from checked k
              left join ${s}.messages x
                on k.refused is null
               and x.chat_id = k.chat_id and x.author_id = k.author_id and x.client_id = k.client_id
            window same_send as (partition by k.chat_id, k.author_id, k.client_id, k.refused is null order by k.ord)
          ),
          decided as (
            select d.*,
                   case
                     when d.refused is not null then d.refused
                     when d.earlier_id is not null then 'duplicate'
                     when d.client_id is not null and d.first_ord <> d.ord then 'duplicate'
                     else 'written'
                   end as outcome,
                   case
                     when d.refused is not null then null
                     when d.earlier_id is not null then d.earlier_id
                     when d.client_id is not null then d.first_id
                     else d.id
                   end as answer_id
              from matched d
          ),
          numbered as (
            select d.*, row_number() over (partition by d.chat_id order by d.ord) as k,
                   count(*) over (partition by d.chat_id) as n
              from decided d
             where d.outcome = 'written'
          ),
          configs as (
            select t.tenant_id, ${s}.parley_search_config(t.tenant_id) as config
              from (select distinct nb.tenant_id from numbered nb) t
          ),
          authored as (
            update ${s}.members m set own_after_read = m.own_after_read + a.n
              from (select nb.chat_id, nb.author_id, count(*) as n from numbered nb group by nb.chat_id, nb.author_id) a
             where m.chat_id = a.chat_id and m.user_id = a.author_id
          ),
          bumped as (
            update ${s}.chats c
               set last_seq = c.last_seq + b.n, message_count = c.message_count + b.n,
                   last_message_at = clock_timestamp()
              from (select nb.chat_id, max(nb.n) as n from numbered nb group by nb.chat_id) b
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
          ),
          answers as (
            select w.chat_id, w.seq, w.id, w.author_id, w.text, w.reply_to, w.client_id,
                   w.created_at, w.edited_at, w.deleted_at
              from inserted w
            union all
            select x.chat_id, x.seq, x.id, x.author_id, x.text, x.reply_to, x.client_id,
                   x.created_at, x.edited_at, x.deleted_at
              from ${s}.messages x
             where (x.chat_id, x.seq) in (select d.chat_id, d.earlier_seq from decided d where d.earlier_id is not null)
          )
          select d.ord, d.outcome, a.chat_id, a.seq, a.id, a.author_id, a.text, a.reply_to, a.client_id,
                 a.created_at, a.edited_at, a.deleted_at
            from decided d
            left join answers a on a.id = d.answer_id
           order by d.ord;
      end
    `)}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists parley_send(text[], text[], text[], text[], text[], bigint[], text[])`.execute(
    db,
  );
}
