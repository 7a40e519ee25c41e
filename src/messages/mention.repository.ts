import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { MentionCandidates } from './mention.parse.ts';

/** What a message's mention rows say: the members it names, and its broadcasts. */
export interface Mentions {
  users: string[];
  all: boolean;
  here: boolean;
}

/** Mentions as a send or an edit resolved them: with the members `@here` reached (online then, not named). */
export interface ResolvedMentions extends Mentions {
  hereUsers: string[];
}

/** One message's candidates: `ord` is its place (from 1) in the statement's `sent` rows. */
export interface MentionInput {
  ord: number;
  tenantId: string;
  candidates: MentionCandidates;
}

/**
 * The CTEs that resolve and store the mentions of the messages in `sent` (columns ord, outcome, chat_id, seq,
 * author_id), to follow it in the same statement: `named` (members named by username, the author aside),
 * `marked` (the `@all` / `@here` of an author who is owner or admin of the chat) and `here` (the members online, a
 * live presence row, when `@here` is marked, other than the author and those named). Unknown names, non-members and
 * an ordinary member's `@all` store nothing.
 */
export function mentionCtes(inputs: MentionInput[]): RawBuilder<unknown> {
  const names = inputs.flatMap((input) =>
    input.candidates.names.map((name) => ({ ord: input.ord, tenantId: input.tenantId, name })),
  );
  const broadcasts = inputs.flatMap((input) => [
    ...(input.candidates.all ? [{ ord: input.ord, via: 'all' }] : []),
    ...(input.candidates.here ? [{ ord: input.ord, via: 'here' }] : []),
  ]);
  return sql`
    named as (
      insert into message_mentions (chat_id, seq, user_id, via)
      select distinct s.chat_id, s.seq, u.id, 'name'
        from sent s
        join unnest(${names.map((n) => n.ord)}::int[], ${names.map((n) => n.tenantId)}::text[],
                    ${names.map((n) => n.name)}::text[]) as n(ord, tenant_id, name) on n.ord = s.ord
        join users u on u.tenant_id = n.tenant_id and lower(u.username) = lower(n.name) and u.deleted_at is null
        join members mb on mb.chat_id = s.chat_id and mb.user_id = u.id
       where s.outcome = 'written' and u.id <> s.author_id
      returning chat_id, seq, user_id
    ),
    marked as (
      insert into message_mentions (chat_id, seq, user_id, via)
      select s.chat_id, s.seq, null, b.via
        from sent s
        join unnest(${broadcasts.map((b) => b.ord)}::int[], ${broadcasts.map((b) => b.via)}::text[])
               as b(ord, via) on b.ord = s.ord
        join members a on a.chat_id = s.chat_id and a.user_id = s.author_id and a.role in ('owner', 'admin')
       where s.outcome = 'written'
      returning chat_id, seq, via
    ),
    here as (
      insert into message_mentions (chat_id, seq, user_id, via)
      select s.chat_id, s.seq, mb.user_id, 'here'
        from marked mk
        join sent s on s.chat_id = mk.chat_id and s.seq = mk.seq
        join members mb on mb.chat_id = mk.chat_id and mb.user_id <> s.author_id
       where mk.via = 'here'
         and exists (select 1 from presence p
                      where p.tenant_id = mb.tenant_id and p.user_id = mb.user_id and p.expires_at > now())
         and not exists (select 1 from named nm
                          where nm.chat_id = mk.chat_id and nm.seq = mk.seq and nm.user_id = mb.user_id)
      returning chat_id, seq, user_id
    )`;
}

/** The columns the statement adds to each `sent` row (`s`): what its mention CTEs stored for that message. */
export const MENTION_COLUMNS = sql`
  array(select nm.user_id from named nm where nm.chat_id = s.chat_id and nm.seq = s.seq order by nm.user_id)
    as mention_users,
  array(select h.user_id from here h where h.chat_id = s.chat_id and h.seq = s.seq order by h.user_id)
    as mention_here_users,
  exists(select 1 from marked mk where mk.chat_id = s.chat_id and mk.seq = s.seq and mk.via = 'all') as mention_all,
  exists(select 1 from marked mk where mk.chat_id = s.chat_id and mk.seq = s.seq and mk.via = 'here') as mention_here`;

export interface MentionColumns {
  mention_users?: string[] | null;
  mention_here_users?: string[] | null;
  mention_all?: boolean | null;
  mention_here?: boolean | null;
}

/** The resolved mentions of a row the statement returned; none when the statement resolved none. */
export function resolvedOf(row: MentionColumns): ResolvedMentions {
  return {
    users: row.mention_users ?? [],
    hereUsers: row.mention_here_users ?? [],
    all: row.mention_all ?? false,
    here: row.mention_here ?? false,
  };
}

/** The mentions of these messages of a chat, by seq (messages without any are left out). */
export async function mentionsOf(db: Db, chatId: string, seqs: number[]): Promise<Map<number, Mentions>> {
  const found = new Map<number, Mentions>();
  if (seqs.length === 0) {
    return found;
  }
  const { rows } = await sql<{ seq: number; user_id: string | null; via: 'name' | 'here' | 'all' }>`
    select seq, user_id, via from message_mentions
     where chat_id = ${chatId} and seq = any(${seqs}::bigint[]) and (via = 'name' or user_id is null)
     order by seq, user_id`.execute(db);
  for (const row of rows) {
    const seq = Number(row.seq);
    const mentions = found.get(seq) ?? { users: [], all: false, here: false };
    if (row.user_id !== null) {
      mentions.users.push(row.user_id);
    } else if (row.via === 'all') {
      mentions.all = true;
    } else {
      mentions.here = true;
    }
    found.set(seq, mentions);
  }
  return found;
}

/**
 * The SQL of a page's mentions per message (`x`, a row of the page): `[users, all, here]` as JSON, null for none.
 * One probe of `message_mentions_message_idx` per message.
 */
export function pageMentionsSql(chatId: string): RawBuilder<unknown> {
  return sql`(select json_build_array(
        coalesce(json_agg(mm.user_id order by mm.user_id) filter (where mm.via = 'name'), '[]'::json),
        bool_or(mm.via = 'all' and mm.user_id is null), bool_or(mm.via = 'here' and mm.user_id is null))
      from message_mentions mm
     where mm.chat_id = ${chatId} and mm.seq = x.seq and (mm.via = 'name' or mm.user_id is null)
    having count(*) > 0)`;
}

/**
 * How many live messages by others past member `m`'s read cursor mention them: those that name them or reached them
 * with `@here`, and the `@all` ones sent since they joined. Exact at read time, from the mention indexes.
 */
export function mentionCountSql(m: string): RawBuilder<number> {
  const member = sql.table(m);
  return sql<number>`(select count(distinct mm.seq) from message_mentions mm
      join messages x on x.chat_id = mm.chat_id and x.seq = mm.seq and x.deleted_at is null
     where mm.chat_id = ${member}.chat_id and mm.seq > ${member}.last_read_seq
       and (mm.user_id = ${member}.user_id
            or (mm.via = 'all' and mm.user_id is null and x.author_id <> ${member}.user_id
                and x.created_at >= ${member}.joined_at)))::int`;
}
