import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import {
  MESSAGE_SOURCE,
  partialMatchSql,
  pageMessages,
  tsquerySql,
  withHeadlines,
  type SearchParams,
  type SearchRow,
} from './search.repository.ts';

/**
 * How the newest-first part of a search reads the caller's chats:
 * - `bitmap`: every match at once from the GIN indexes, ANDed with a bitmap of those chats' rows, then sorted: its
 *   cost grows with the number of matches, right for rare terms;
 * - `walk`: each chat's live messages newest first (the index on `(chat_id, created_at, seq)`), filtered, merged
 *   across chats and stopped once the page is full: its cost grows with the rows read before the page fills, right
 *   for common terms (a three-letter fragment found in every other message).
 */
export type NewestPlan = 'bitmap' | 'walk';

export interface NewestOptions {
  /** Only messages that match parts of words and not the query as whole words (relevance's score-0 tail). */
  partialOnly: boolean;
  plan: NewestPlan;
}

/** What `m` must match: the whole query or a partial-word alternative, or (partialOnly) the latter only. */
function matchSql(
  params: SearchParams,
  options: NewestOptions,
  source = MESSAGE_SOURCE,
): RawBuilder<unknown> {
  const indexable = options.plan === 'bitmap';
  const tsquery = tsquerySql(params);
  const words = indexable
    ? sql`${source.vector} @@ ${tsquery}`
    : sql`ts_match_vq(${source.vector}, ${tsquery})`;
  const partial = partialMatchSql(params, indexable, source);
  if (options.partialOnly) {
    return partial ? sql`not (${words}) and ${partial}` : sql`false`;
  }
  return partial ? sql`(${words} or ${partial})` : words;
}

/**
 * The live messages of the caller's chats that match, newest first (created_at, then chat_id, then seq, all
 * descending), the page after `after` (its `score` is ignored), with score 0 unless they match as whole words and
 * `partialOnly` is off (then their ts_rank score, for the highlight's sake only: the order is by time).
 */
export function newestQuery(params: SearchParams, options: NewestOptions): RawBuilder<SearchRow> {
  const tsquery = tsquerySql(params);
  const score = options.partialOnly
    ? sql`0`
    : sql`case when x.vector @@ ${tsquery}
                then greatest(1, (ts_rank(x.vector, ${tsquery}, 1) * 1000000)::int) else 0 end`;
  const match = matchSql(params, options);
  const after = params.after;
  const keysetOf = (t: 'm' | 'x') =>
    after
      ? sql`and ((extract(epoch from ${sql.raw(t)}.created_at) * 1000000)::bigint, ${sql.raw(t)}.chat_id, ${sql.raw(t)}.seq)
                < (${after.createdUs}::bigint, ${after.chatId}, ${after.seq}::bigint)`
      : sql``;
  const order = sql`created_at desc, chat_id desc, seq desc`;
  if (options.plan === 'bitmap') {
    const keys = sql`
        select x.chat_id, x.seq, ${score} as score
          from message_search x
         where x.chat_id = any(${params.chatIds}::text[])
           and ${match}
           ${keysetOf('x')}
         order by x.created_at desc, x.chat_id desc, x.seq desc
         limit ${params.limit}`;
    return withHeadlines(params, pageMessages(keys, sql`k.score`), order);
  }
  // One branch per chat, each read backwards along the search rows' index on time and cut at the page size;
  // PostgreSQL merges them by time (Merge Append) and stops reading when the page is full. `created_at <= bound`
  // lets the index skip what the cursor has passed (a millisecond of slack for the float conversion; the exact
  // keyset filters). Only the page's messages are read from `messages`.
  const bound = after
    ? sql`and x.created_at <= to_timestamp(${after.createdUs}::bigint / 1000000.0) + interval '1 millisecond'`
    : sql``;
  const branches = params.chatIds.map(
    (chatId) => sql`(
        select x.chat_id, x.seq, x.created_at, ${score} as score
          from message_search x
         where x.chat_id = ${chatId}
           ${bound}
           and ${match}
           ${keysetOf('x')}
         order by x.created_at desc, x.seq desc
         limit ${params.limit})`,
  );
  const keys = sql`
        select s.chat_id, s.seq, s.score
          from (${sql.join(branches, sql` union all `)}) s
         order by s.created_at desc, s.chat_id desc, s.seq desc
         limit ${params.limit}`;
  return withHeadlines(params, pageMessages(keys, sql`k.score`), order);
}

export async function searchNewest(
  db: Db,
  params: SearchParams,
  options: NewestOptions,
): Promise<SearchRow[]> {
  const result = await newestQuery(params, options).execute(db);
  return result.rows;
}

export interface MatchEstimate {
  /** Texts looked at. */
  sampled: number;
  /** How many of them match (the newest-first part's test). */
  hits: number;
  /** How many of them match the query as whole words, counting only texts that hold its terms as they were typed. */
  wordHits: number;
  /** The caller's live messages (the chats' counters). */
  scope: number;
}

/**
 * The message texts PostgreSQL's statistics keep for `message_search.folded`: the most common ones and
 * the histogram's ~100 bounds, from `ANALYZE` (run by autovacuum, or by Parley's own maintenance on PGlite); none
 * before the table is first analyzed. The planner estimates a LIKE by testing these.
 */
export async function findTextSample(db: Db): Promise<string[]> {
  const result = await sql<{ text: string }>`
    select v.text
      from pg_stats s
      cross join lateral unnest(coalesce(s.most_common_vals::text::text[], '{}')
                                || coalesce(s.histogram_bounds::text::text[], '{}')) as v(text)
     where s.schemaname = current_schema() and s.tablename = 'message_search' and s.attname = 'folded'`.execute(
    db,
  );
  return result.rows.map((row) => row.text);
}

/**
 * How many texts of `sample` (from `findTextSample`) match, with no table read; and how many live messages the
 * caller's chats hold.
 */
export async function estimateMatches(
  db: Db,
  params: SearchParams,
  options: Pick<NewestOptions, 'partialOnly'> & { sample: string[] },
): Promise<MatchEstimate> {
  const config = sql`${params.config}::oid::regconfig`;
  const source = { folded: sql`v.text`, vector: sql`to_tsvector(${config}, v.text)` };
  const words = sql`ts_match_vq(${source.vector}, ${tsquerySql(params)})`;
  // Texts that contain every included term of an alternative: the only ones parsed into words (the costly part) when
  // counting the partial-only matches and the whole words.
  const contains =
    params.substring.length === 0
      ? sql`false`
      : sql.join(
          params.substring.map(
            (group) =>
              sql`(${sql.join(
                group.include.map((term) => sql`strpos(v.text, parley_fold(${term})) > 0`),
                sql` and `,
              )})`,
          ),
          sql` or `,
        );
  const match = options.partialOnly
    ? sql`case when ${contains} then ${matchSql(params, { partialOnly: true, plan: 'walk' }, source)} else false end`
    : matchSql(params, { partialOnly: false, plan: 'walk' }, source);
  const result = await sql<MatchEstimate>`
    select count(v.text)::int as sampled,
           count(v.text) filter (where ${match})::int as hits,
           count(v.text) filter (where case when ${contains} then ${words} else false end)::int as "wordHits",
           (select coalesce(sum(c.message_count), 0) from chats c where c.id = any(${params.chatIds}::text[]))::float8
             as scope
      from unnest(${options.sample}::text[]) as v(text)`.execute(db);
  const row = result.rows[0];
  return {
    sampled: row?.sampled ?? 0,
    hits: row?.hits ?? 0,
    wordHits: row?.wordHits ?? 0,
    scope: Number(row?.scope ?? 0),
  };
}
