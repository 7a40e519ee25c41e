import { createHash } from 'node:crypto';

/**
 * The SQL of the send path: the server-side function that writes every message, and with it the rules of a send.
 * The repository calls it (`insertMessageBatch`); migrations install a copy of it, which a test checks against this.
 */
export interface SendFunction {
  name: string;
  /** As PostgreSQL prints them: `pg_get_function_arguments`. */
  arguments: string;
  /** As PostgreSQL prints it: `pg_get_function_result`. */
  result: string;
  language: 'plpgsql';
  /** Settings the function runs with (its `set` clause; `pg_proc.proconfig` holds them as `name=value`). */
  settings: Record<string, string>;
  /** The source, exactly as stored (`pg_proc.prosrc`). */
  body: string;
}

/** What the function says became of a send, in its `outcome` column. */
export type SendOutcomeCode =
  'written' | 'duplicate' | 'not_found' | 'closed' | 'muted' | 'blocked' | 'bad_reply' | 'bad_thread';

export const SEND_FUNCTION_NAME = 'parley_send_v2';

/** How many participants a thread's root names (`thread_participants`): the first ones, root author first. */
export const THREAD_PARTICIPANTS_SHOWN = 10;

/**
 * The send function: a batch of sends, into any chats, in one round trip and one commit. Migration 0012 installs
 * this definition, and a test checks that the function a migrated database has is exactly this one: a change here
 * needs a new migration that installs the new text (`create or replace function`; a new name if the arguments or
 * the result change, since a process of the previous version may still call the old one).
 *
 * 1. Lock the batch's chats in id order: concurrent batches cannot deadlock, and every writer of messages holds its
 *    chat's row lock until it commits. The statement that follows takes a fresh snapshot (READ COMMITTED) once the
 *    locks are held, so it sees every send committed into those chats before it: two batches carrying the same
 *    clientId (two processes, or two batches in flight in one) are answered one by the other, never by the unique
 *    index `messages_client_id_key` failing a batch.
 * 2. Judge each send in this order, as the API answers: `not_found` (the chat is not a live chat of the send's
 *    tenant, or the author is not a member), `closed` (a direct chat whose other member was deleted: it stays
 *    readable, and takes no new message), `muted` (the author is muted in the chat: a mute of theirs whose `until`
 *    is unset or still ahead), `blocked` (a direct chat whose other member blocked the author), `bad_reply`
 *    (replyTo is not a seq the chat had before this batch), `bad_thread` (threadRoot is not a live top-level
 *    message the chat had before this batch: a reply to a thread reply opens no thread), `duplicate` (the author
 *    sent this clientId into this chat before, or earlier in this batch: its first message is the answer), else
 *    `written`.
 * 3. Number the written sends per chat from the chat's counter in input order, advance each counter and each
 *    author's count of own messages past their read cursor once, insert them (a trigger queues them for search
 *    indexing: migration 0026). Thread replies also move each root's summary (reply count, last reply, first participants)
 *    and the chat's `last_thread_seq` (for thread-only ones), and make their author and the root's author
 *    participants of the thread (`thread_members`; a replier's thread cursor moves to their reply).
 * 4. Return one row per send, in input order (`ord`, from 1): its outcome and, when written or a duplicate, the
 *    message. A database error fails the whole call, and nothing of the batch is written.
 *
 * `schema` is a quoted identifier: the function names its tables with it, whatever the search_path of the caller.
 */
export function sendFunction(schema: string): SendFunction {
  const s = schema;
  return {
    name: SEND_FUNCTION_NAME,
    arguments:
      'p_tenant text[], p_chat text[], p_author text[], p_id text[], p_text text[], p_reply bigint[], ' +
      'p_client text[], p_thread bigint[], p_also boolean[]',
    result:
      'TABLE(ord bigint, outcome text, chat_id text, seq bigint, id text, author_id text, text text, ' +
      'reply_to bigint, client_id text, created_at timestamp with time zone, ' +
      'edited_at timestamp with time zone, deleted_at timestamp with time zone, thread_root bigint, ' +
      'also_in_chat boolean, reply_count integer, last_reply_at timestamp with time zone, thread_participants text[])',
    language: 'plpgsql',
    // The statements inside are prepared with the arrays' values as parameters, and PostgreSQL's plan cache priced a
    // custom plan (the arrays at hand) below the generic one every time, so it planned the large statement again on
    // every call; the plans are the same key lookups either way. Generic: planned once per connection, about 15%
    // of a send's database CPU (docs/performance.md).
    settings: { plan_cache_mode: 'force_generic_plan' },
    body: `
      #variable_conflict use_column
      begin
        perform 1 from ${s}.chats c where c.id = any(p_chat) order by c.id for update;
        return query
          with input as (
            select * from unnest(p_tenant, p_chat, p_author, p_id, p_text, p_reply, p_client, p_thread, p_also)
              with ordinality as t(tenant_id, chat_id, author_id, id, text, reply_to, client_id, thread_root,
                                   also_in_chat, ord)
          ),
          checked as (
            select i.*,
                   case
                     when c.id is null or not exists (
                       select 1 from ${s}.members m where m.chat_id = i.chat_id and m.user_id = i.author_id)
                       then 'not_found'
                     when c.kind = 'direct' and c.member_count < 2 then 'closed'
                     when exists (
                       select 1 from ${s}.chat_mutes u
                        where u.chat_id = i.chat_id and u.user_id = i.author_id and (u.until is null or u.until > now()))
                       then 'muted'
                     when c.kind = 'direct' and exists (
                       select 1 from ${s}.members o
                         join ${s}.user_blocks b
                           on b.tenant_id = i.tenant_id and b.blocker_id = o.user_id and b.blocked_id = i.author_id
                        where o.chat_id = i.chat_id and o.user_id <> i.author_id)
                       then 'blocked'
                     when i.reply_to < 1 or i.reply_to > c.last_seq then 'bad_reply'
                     when i.thread_root is not null and not exists (
                       select 1 from ${s}.messages r where r.chat_id = i.chat_id and r.seq = i.thread_root
                          and r.thread_root is null and r.deleted_at is null)
                       then 'bad_thread'
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
          authored as (
            update ${s}.members m set own_after_read = m.own_after_read + a.n
              from (select nb.chat_id, nb.author_id, count(*) as n from numbered nb group by nb.chat_id, nb.author_id) a
             where m.chat_id = a.chat_id and m.user_id = a.author_id
          ),
          bumped as (
            update ${s}.chats c
               set last_seq = c.last_seq + b.n, message_count = c.message_count + b.n,
                   last_message_at = clock_timestamp(),
                   last_thread_seq = coalesce(c.last_seq + b.thread_k, c.last_thread_seq)
              from (select nb.chat_id, max(nb.n) as n,
                           max(nb.k) filter (where nb.thread_root is not null and not coalesce(nb.also_in_chat, false)) as thread_k
                      from numbered nb group by nb.chat_id) b
             where c.id = b.chat_id
            returning c.id, c.last_seq - b.n as base, c.last_message_at
          ),
          inserted as (
            insert into ${s}.messages
              (chat_id, seq, id, author_id, text, reply_to, client_id, created_at, thread_root, also_in_chat)
            select nb.chat_id, b.base + nb.k, nb.id, nb.author_id, nb.text, nb.reply_to, nb.client_id,
                   b.last_message_at, nb.thread_root, nb.thread_root is not null and coalesce(nb.also_in_chat, false)
              from numbered nb
              join bumped b on b.id = nb.chat_id
             order by nb.chat_id, nb.k
            returning chat_id, seq, id, author_id, text, reply_to, client_id, created_at, edited_at, deleted_at,
                      thread_root, also_in_chat, reply_count, last_reply_at, thread_participants
          ),
          threaded as (
            update ${s}.messages r
               set reply_count = r.reply_count + t.n, last_reply_at = t.at,
                   thread_participants = array(
                     select e.u from (
                       select p.u, min(p.o) as o from (
                         select x.u, x.o from unnest(coalesce(r.thread_participants, array[r.author_id]))
                           with ordinality as x(u, o)
                         union all
                         select w.author_id, ${THREAD_PARTICIPANTS_SHOWN} + w.seq from inserted w
                          where w.chat_id = r.chat_id and w.thread_root = r.seq
                       ) p group by p.u
                     ) e order by e.o limit ${THREAD_PARTICIPANTS_SHOWN})
              from (select w.chat_id, w.thread_root, count(*)::int as n, max(w.created_at) as at
                      from inserted w where w.thread_root is not null group by w.chat_id, w.thread_root) t
             where r.chat_id = t.chat_id and r.seq = t.thread_root
            returning r.chat_id, r.seq, r.author_id
          ),
          followed as (
            insert into ${s}.thread_members (chat_id, root_seq, user_id, last_read_seq)
            select f.chat_id, f.root_seq, f.user_id, max(f.read_seq) from (
              select w.chat_id, w.thread_root as root_seq, w.author_id as user_id, w.seq as read_seq
                from inserted w where w.thread_root is not null
              union all
              select h.chat_id, h.seq, h.author_id, h.seq from threaded h
            ) f
             group by f.chat_id, f.root_seq, f.user_id
            on conflict (chat_id, root_seq, user_id)
              do update set last_read_seq = greatest(thread_members.last_read_seq, excluded.last_read_seq)
          ),
          answers as (
            select w.chat_id, w.seq, w.id, w.author_id, w.text, w.reply_to, w.client_id,
                   w.created_at, w.edited_at, w.deleted_at, w.thread_root, w.also_in_chat, w.reply_count,
                   w.last_reply_at, w.thread_participants
              from inserted w
            union all
            select x.chat_id, x.seq, x.id, x.author_id, x.text, x.reply_to, x.client_id,
                   x.created_at, x.edited_at, x.deleted_at, x.thread_root, x.also_in_chat, x.reply_count,
                   x.last_reply_at, x.thread_participants
              from ${s}.messages x
             where (x.chat_id, x.seq) in (select d.chat_id, d.earlier_seq from decided d where d.earlier_id is not null)
          )
          select d.ord, d.outcome, a.chat_id, a.seq, a.id, a.author_id, a.text, a.reply_to, a.client_id,
                 a.created_at, a.edited_at, a.deleted_at, a.thread_root, a.also_in_chat, a.reply_count,
                 a.last_reply_at, a.thread_participants
            from decided d
            left join answers a on a.id = d.answer_id
           order by d.ord;
      end
    `,
  };
}

/** The statement that installs `fn` (or replaces the function of that name and arguments). */
export function createFunctionStatement(schema: string, fn: SendFunction): string {
  return (
    `create or replace function ${schema}.${fn.name}(${fn.arguments}) returns ${fn.result}\n` +
    `language ${fn.language} volatile` +
    Object.entries(fn.settings)
      .map(([name, value]) => ` set ${name} = ${value}`)
      .join('') +
    ` as $parley_send$${fn.body}$parley_send$`
  );
}

/**
 * SHA-256 of the definition, whatever the schema: the migration that installs a version records it, and a test
 * compares it with the source's, so that an edit here without a migration to install it fails the suite.
 */
export function sendFunctionDigest(): string {
  return createHash('sha256')
    .update(JSON.stringify(sendFunction('"schema"')))
    .digest('hex');
}
