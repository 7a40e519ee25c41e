import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { MessageRow } from '../messages/message.table.ts';

/** Marks ts_headline puts around matched words (private-use characters, removed from the text first). */
export const MARK_START = '\uE000';
export const MARK_END = '\uE001';

export type SearchSort = 'relevance' | 'recent';

/** Where a page ends: the sort key of its last row. `score` is ignored when sorting by recency. */
export interface SearchKey {
  score: number;
  createdUs: number;
  chatId: string;
  seq: number;
}

/** One side of an OR for partial-word matching: every `include` is a substring, no `exclude` is a word. */
export interface SubstringGroup {
  include: string[];
  exclude: string[];
}

export interface SearchParams {
  /** The caller's chats to look in (never empty). */
  chatIds: string[];
  /** The tenant's text search configuration (a regconfig oid). */
  config: number;
  /** The query in websearch_to_tsquery syntax. */
  query: string;
  /** Partial-word alternatives, already limited to terms the trigram index can serve. */
  substring: SubstringGroup[];
  after: SearchKey | null;
  limit: number;
}

export type SearchRow = MessageRow & {
  /** ts_rank × 10^6 as an integer (stable in cursors); 0 when only a partial word matched. */
  score: number;
  /** created_at in microseconds since the epoch: the exact recency key. */
  created_us: number;
  /** The whole text with whole-word matches between MARK_START and MARK_END. */
  headline: string;
};

export interface SearchScope {
  config: number;
  chatIds: string[];
  /** Messages wait to be indexed (`message_search_queue`): the search catches up first. */
  pending: boolean;
}

/**
 * The tenant's search configuration, the live chats the user is a member of, and whether messages wait to be
 * indexed, in one round trip.
 */
export async function findSearchScope(db: Db, tenantId: string, userId: string): Promise<SearchScope> {
  const result = await sql<{ config: number; chat_ids: string[]; pending: boolean }>`
    select parley_search_config(${tenantId})::oid as config,
           array(select m.chat_id
                   from members m
                   join chats c on c.id = m.chat_id and c.deleted_at is null
                  where m.tenant_id = ${tenantId} and m.user_id = ${userId}
                  order by m.chat_id) as chat_ids,
           exists (select 1 from message_search_queue) as pending`.execute(db);
  const row = result.rows[0];
  return { config: Number(row?.config), chatIds: row?.chat_ids ?? [], pending: row?.pending === true };
}

/** The tenant's search configuration, and whether messages wait to be indexed. */
export async function findSearchConfig(
  db: Db,
  tenantId: string,
): Promise<{ config: number; pending: boolean }> {
  const result = await sql<{ config: number; pending: boolean }>`
    select parley_search_config(${tenantId})::oid as config,
           exists (select 1 from message_search_queue) as pending`.execute(db);
  return { config: Number(result.rows[0]?.config), pending: result.rows[0]?.pending === true };
}

/** The query as a tsquery in the tenant's configuration. */
export function tsquerySql(params: Pick<SearchParams, 'config' | 'query'>): RawBuilder<unknown> {
  return sql`websearch_to_tsquery(${params.config}::oid::regconfig, ${params.query})`;
}

/** What a match is tested on: a message's folded text and its tsvector, or stand-ins for them. */
export interface MatchSource {
  folded: RawBuilder<unknown>;
  vector: RawBuilder<unknown>;
}

/** A message's search row `x` (`message_search`, beside its message `m`). */
export const MESSAGE_SOURCE: MatchSource = { folded: sql`x.folded`, vector: sql`x.vector` };

/**
 * The live messages `m` behind `keys` (a statement whose rows carry `chat_id`, `seq` and what `extra` reads of them,
 * as `k`), with the search columns: a search ranks, orders and cuts its page on `message_search` alone (its rows
 * carry the vector, the folded text and the time), then reads only the page's messages. A message deleted since
 * it was indexed drops out here.
 */
export function pageMessages(keys: RawBuilder<unknown>, extra: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
        select ${SEARCH_COLUMNS}, ${extra}
          from (${keys}) k
          join messages m on m.chat_id = k.chat_id and m.seq = k.seq
         where m.deleted_at is null`;
}

/**
 * Whether `m` matches one of the partial-word alternatives. `indexable` spells a substring as LIKE, which the trigram
 * index serves; otherwise as strpos and `ts_match_vq`, which no index serves, for plans that must read a chat's rows
 * in order and filter them (the same test: a LIKE of an escaped literal between two `%` is a substring test).
 */
export function partialMatchSql(
  params: SearchParams,
  indexable: boolean,
  source: MatchSource = MESSAGE_SOURCE,
): RawBuilder<unknown> | null {
  const config = sql`${params.config}::oid::regconfig`;
  const folded = source.folded;
  const contains = (term: string) =>
    indexable
      ? sql`${folded} like '%' || replace(replace(replace(parley_fold(${term}), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`
      : sql`strpos(${folded}, parley_fold(${term})) > 0`;
  const hasPhrase = (term: string) =>
    indexable
      ? sql`${source.vector} @@ phraseto_tsquery(${config}, ${term})`
      : sql`ts_match_vq(${source.vector}, phraseto_tsquery(${config}, ${term}))`;
  if (params.substring.length === 0) {
    return null;
  }
  const groups = params.substring.map((group) =>
    sql.join(
      [...group.include.map(contains), ...group.exclude.map((term) => sql`not (${hasPhrase(term)})`)],
      sql` and `,
    ),
  );
  return sql`(${sql.join(
    groups.map((g) => sql`(${g})`),
    sql` or `,
  )})`;
}

/** The message columns a search row carries, from `m`. */
export const SEARCH_COLUMNS = sql`m.chat_id, m.seq, m.id, m.author_id, m.text, m.reply_to, m.client_id, m.created_at,
       m.edited_at, m.deleted_at, m.thread_root, m.also_in_chat, m.reply_count, m.last_reply_at,
       m.thread_participants, (extract(epoch from m.created_at) * 1000000)::bigint as created_us`;

/** A page of rows (`page`, in `order`) with their headlines: computed for the page only, the expensive part. */
export function withHeadlines(params: SearchParams, page: RawBuilder<unknown>, order: RawBuilder<unknown>) {
  const config = sql`${params.config}::oid::regconfig`;
  return sql<SearchRow>`
    select page.*,
           ts_headline(${config}, translate(page.text, ${MARK_START + MARK_END}, '  '), ${tsquerySql(params)},
                       ${`StartSel=${MARK_START}, StopSel=${MARK_END}, HighlightAll=true`}) as headline
      from (${page}) page
     order by ${order}`;
}

/**
 * The ranked part of a search by relevance: the live messages of the caller's chats that match the query as whole
 * words (the GIN index on `message_search.vector`, ANDed with a bitmap of those chats' rows when PostgreSQL expects that to
 * save heap reads), each scored by ts_rank normalised by length, best first, then newest; the page after `after`.
 * Messages that match only parts of words (score 0) come after all of these, newest first: `newestQuery`.
 * The query text and configuration are parameters PostgreSQL folds into constants when it plans, so it estimates
 * the selectivity of the index from its statistics.
 */
export function searchQuery(params: SearchParams): RawBuilder<SearchRow> {
  const tsquery = tsquerySql(params);
  return scoredPage(
    params,
    sql`greatest(1, (ts_rank(x.vector, ${tsquery}, 1) * 1000000)::int)`,
    sql`x.vector @@ ${tsquery}`,
  );
}

/**
 * The live messages of the caller's chats that match `match`, scored by `score`, best first, then newest; the page
 * after `after`, with headlines.
 */
function scoredPage(
  params: SearchParams,
  score: RawBuilder<unknown>,
  match: RawBuilder<unknown>,
): RawBuilder<SearchRow> {
  const after = params.after;
  const keyset = after
    ? sql`where (s.score, s.created_us, s.chat_id, s.seq) < (${after.score}::int, ${after.createdUs}::bigint, ${after.chatId}, ${after.seq}::bigint)`
    : sql``;
  const order = sql`score desc, created_us desc, chat_id desc, seq desc`;
  const keys = sql`
        select s.*
          from (
            select x.chat_id, x.seq, (extract(epoch from x.created_at) * 1000000)::bigint as created_us,
                   ${score} as score
              from message_search x
             where x.chat_id = any(${params.chatIds}::text[])
               and ${match}
          ) s
          ${keyset}
         order by ${order}
         limit ${params.limit}`;
  return withHeadlines(params, pageMessages(keys, sql`k.score`), order);
}

export async function searchMessages(db: Db, params: SearchParams): Promise<SearchRow[]> {
  const result = await searchQuery(params).execute(db);
  return result.rows;
}

/**
 * A whole search by relevance in one statement: the whole-word matches (GIN index on `message_search.vector`) OR the
 * partial-word ones (trigram index on `message_search.folded`), scored and sorted together. Used when neither part is
 * expected to be large: one scan of the caller's chats serves both.
 */
export function combinedQuery(params: SearchParams): RawBuilder<SearchRow> {
  const tsquery = tsquerySql(params);
  const partial = partialMatchSql(params, true);
  return scoredPage(
    params,
    sql`case when x.vector @@ ${tsquery}
             then greatest(1, (ts_rank(x.vector, ${tsquery}, 1) * 1000000)::int)
             else 0 end`,
    partial ? sql`(x.vector @@ ${tsquery} or ${partial})` : sql`x.vector @@ ${tsquery}`,
  );
}

export async function searchCombined(db: Db, params: SearchParams): Promise<SearchRow[]> {
  const result = await combinedQuery(params).execute(db);
  return result.rows;
}

export interface AnyWordParams {
  chatId: string;
  /** The tenant's text search configuration (a regconfig oid). */
  config: number;
  /** Each word matches as a whole word (stemmed) or, when `partial`, as part of a word. */
  words: { text: string; partial: boolean }[];
  limit: number;
}

export type AnyWordRow = MessageRow & {
  /** How many of the words the message contains. */
  matched: number;
};

/**
 * One chat's live messages that contain ANY of the words, those with more of them first, then by seq: Elasticsearch's
 * `match` query (OR) as the Instabug originals run it. The candidates come from the GIN index on `message_search.vector`
 * (every word in one OR-tsquery) and the trigram index on `message_search.folded` (one LIKE per partial word), ANDed
 * with the chat's rows; each candidate then counts its words.
 */
export function anyWordQuery(params: AnyWordParams): RawBuilder<AnyWordRow> {
  const config = sql`${params.config}::oid::regconfig`;
  const wordQuery = (text: string) => sql`plainto_tsquery(${config}, ${text})`;
  const anyWord = sql.join(
    params.words.map((w) => wordQuery(w.text)),
    sql` || `,
  );
  const pattern = (term: string) =>
    sql`'%' || replace(replace(replace(parley_fold(${term}), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'`;
  const partial = params.words.filter((w) => w.partial).map((w) => sql`x.folded like ${pattern(w.text)}`);
  const matches = sql.join([sql`x.vector @@ (${anyWord})`, ...partial], sql` or `);
  const counted = sql.join(
    params.words.map((w) =>
      w.partial
        ? sql`(case when x.vector @@ ${wordQuery(w.text)} or x.folded like ${pattern(w.text)} then 1 else 0 end)`
        : sql`(case when x.vector @@ ${wordQuery(w.text)} then 1 else 0 end)`,
    ),
    sql` + `,
  );
  return sql<AnyWordRow>`
    select m.chat_id, m.seq, m.id, m.author_id, m.text, m.reply_to, m.client_id, m.created_at, m.edited_at,
           m.deleted_at, m.thread_root, m.also_in_chat, m.reply_count, m.last_reply_at, m.thread_participants,
           k.matched
      from (
        select x.chat_id, x.seq, (${counted})::int as matched
          from message_search x
         where x.chat_id = ${params.chatId}
           and (${matches})
         order by matched desc, x.seq
         limit ${params.limit}
      ) k
      join messages m on m.chat_id = k.chat_id and m.seq = k.seq
     where m.deleted_at is null
     order by k.matched desc, k.seq`;
}

export async function searchAnyWord(db: Db, params: AnyWordParams): Promise<AnyWordRow[]> {
  const result = await anyWordQuery(params).execute(db);
  return result.rows;
}
