import { createHash } from 'node:crypto';
import type { Actor } from '../auth/actor.ts';
import { requireMember } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import { invalid } from '../errors/codes.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, decodeCursor, pageOf, type Page } from '../pagination.ts';
import { presentMessage } from '../messages/message.presenter.ts';
import type { MessageView } from '../messages/message.schema.ts';
import { catchUpSearch } from './search.indexer.ts';
import { estimateMatches, findTextSample, searchNewest, type NewestPlan } from './newest.repository.ts';
import { foldText, presentSearchHit } from './search.presenter.ts';
import { isSubstringMatchable, MAX_QUERY_CHARS, parseQuery, type ParsedQuery } from './search.query.ts';
import {
  findSearchConfig,
  findSearchScope,
  searchAnyWord,
  searchCombined,
  searchMessages as searchRankedRows,
  type SearchParams,
  type SearchKey,
  type SearchRow,
  type SearchScope,
  type SearchSort,
  type SubstringGroup,
} from './search.repository.ts';
import type { SearchChatQuery, SearchHitView, SearchMessagesQuery } from './search.schema.ts';

/**
 * Partial-word matching, per OR-alternative: every included term as a substring, every excluded one absent as a
 * word. An alternative takes part only if one of its terms has three letters or digits in a row, which the trigram
 * index can look up; the others match whole words only. Also returns the terms to mark in highlights.
 */
function partialMatching(parsed: ParsedQuery): { groups: SubstringGroup[]; terms: string[] } {
  const groups: SubstringGroup[] = [];
  const terms = new Set<string>();
  for (const group of parsed.groups) {
    if (!group.include.some(isSubstringMatchable)) {
      continue;
    }
    groups.push({ include: group.include.map((t) => t.text), exclude: group.exclude.map((t) => t.text) });
    for (const term of group.include.filter(isSubstringMatchable)) {
      terms.add(term.text);
    }
  }
  return { groups, terms: [...terms] };
}

/**
 * Cursors are keysets over the sort order — (score, created_at, chat_id, seq) or (created_at, chat_id, seq) — so a
 * page never repeats or skips a message because others were sent meanwhile. They carry a fingerprint of the search
 * they belong to: a cursor passed back with another q, chatId or sort is refused rather than misread.
 */
function fingerprint(q: string, chatId: string | null, sort: SearchSort): string {
  return createHash('sha256')
    .update(JSON.stringify([q, chatId, sort]))
    .digest('base64url')
    .slice(0, 10);
}

function encodeSearchCursor(row: SearchRow, sort: SearchSort, print: string): unknown[] {
  return sort === 'relevance'
    ? ['r', print, row.score, row.created_us, row.chat_id, row.seq]
    : ['t', print, row.created_us, row.chat_id, row.seq];
}

function decodeSearchCursor(cursor: string, sort: SearchSort, print: string): SearchKey {
  const key =
    sort === 'relevance'
      ? decodeCursor(cursor, ['string', 'string', 'number', 'number', 'string', 'number'])
      : decodeCursor(cursor, ['string', 'string', 'number', 'string', 'number']);
  if (key[0] !== (sort === 'relevance' ? 'r' : 't') || key[1] !== print) {
    throw invalid('cursor: belongs to another search (keep q, chatId and sort when paging)');
  }
  if (sort === 'relevance') {
    const [, , score, createdUs, chatId, seq] = key as [string, string, number, number, string, number];
    return { score, createdUs, chatId, seq };
  }
  const [, , createdUs, chatId, seq] = key as [string, string, number, string, number];
  return { score: 0, createdUs, chatId, seq };
}

/** Reading chat by chat plans one branch per chat: a caller in more chats is always served by the indexes. */
export const WALK_MAX_CHATS = 64;
/** Bitmap plans also read a bitmap of every message in the caller's chats: this many cost about one match read. */
const SCOPE_ROWS_PER_MATCH = 16;

/** How long a database's sample of texts (`findTextSample`) is reused: it changes only when the table is analyzed. */
const SAMPLE_TTL_MS = 60_000;
const samples = new WeakMap<object, { at: number; texts: Promise<string[]> }>();

function textSample(ctx: Context): Promise<string[]> {
  const known = samples.get(ctx.db);
  if (known && Date.now() - known.at < SAMPLE_TTL_MS) {
    return known.texts;
  }
  const texts = findTextSample(ctx.db);
  samples.set(ctx.db, { at: Date.now(), texts });
  // A failed read is not remembered.
  texts.catch(() => samples.delete(ctx.db));
  return texts;
}

/** A sample's count below this says too little about a rate to act on it. */
const MIN_SAMPLE_HITS = 3;

/**
 * How to read the newest-first part of a search (`NewestPlan`), from how common its matches are in the statistics'
 * sample of message texts (`estimateMatches`): by the indexes, reading every match (about rate × scope rows, plus
 * the bitmap of the scope), or chat by chat, newest first, until the page is full (about (page + chats) / rate rows),
 * whichever reads fewer; and whether the whole-word matches alone are expected to fill the page. Too few hits in the
 * sample (or no statistics yet): by the indexes, as for a rare term.
 */
export async function choosePlan(
  ctx: Context,
  params: SearchParams,
  partialOnly: boolean,
): Promise<{ plan: NewestPlan; manyWords: boolean }> {
  const chats = params.chatIds.length;
  const texts = await textSample(ctx);
  // Only texts holding every term of an alternative can match as parts of words (or, mostly, as whole words): when
  // too few do, the query is rare, with no round trip.
  const needles = params.substring.map((group) => group.include.map(foldText));
  const holding = texts.filter((text) =>
    needles.some((group) => group.every((needle) => text.includes(needle))),
  );
  if (holding.length < MIN_SAMPLE_HITS) {
    return { plan: 'bitmap', manyWords: false };
  }
  const sample = await estimateMatches(ctx.db, params, { partialOnly, sample: holding });
  const share = (hits: number) => (hits < MIN_SAMPLE_HITS ? 0 : hits / texts.length);
  const manyWords = share(sample.wordHits) * sample.scope >= 2 * params.limit;
  const rate = share(sample.hits);
  if (rate === 0 || chats > WALK_MAX_CHATS) {
    return { plan: 'bitmap', manyWords };
  }
  const walkRows = (params.limit + chats) / rate;
  const bitmapRows = rate * sample.scope + sample.scope / SCOPE_ROWS_PER_MATCH;
  return { plan: walkRows < bitmapRows ? 'walk' : 'bitmap', manyWords };
}

/**
 * The page's rows. By relevance: the whole-word matches, ranked (`searchRankedRows`), then, if the page is not full,
 * the messages that match only parts of words (score 0), newest first — in one statement when neither part is
 * expected to be large; by recency: every match, newest first.
 */
async function searchRows(ctx: Context, params: SearchParams, sort: SearchSort): Promise<SearchRow[]> {
  const after = params.after;
  if (sort === 'recent') {
    const { plan } = await choosePlan(ctx, params, false);
    return searchNewest(ctx.db, params, { partialOnly: false, plan });
  }
  if (params.substring.length === 0) {
    return searchRankedRows(ctx.db, params);
  }
  const { plan, manyWords } = await choosePlan(ctx, params, true);
  if (plan === 'bitmap' && !manyWords) {
    return searchCombined(ctx.db, params);
  }
  // A cursor with score 0 is already past the ranked part.
  const ranked = after === null || after.score > 0 ? await searchRankedRows(ctx.db, params) : [];
  if (ranked.length >= params.limit) {
    return ranked;
  }
  const rest: SearchParams = {
    ...params,
    after: after !== null && after.score > 0 ? null : after,
    limit: params.limit - ranked.length,
  };
  return [...ranked, ...(await searchNewest(ctx.db, rest, { partialOnly: true, plan }))];
}

async function search(
  ctx: Context,
  scope: SearchScope,
  parsed: ParsedQuery,
  options: { chatId: string | null; sort: SearchSort; cursor: string | undefined; limit: number | undefined },
): Promise<Page<SearchHitView>> {
  const print = fingerprint(parsed.text, options.chatId, options.sort);
  const after = options.cursor !== undefined ? decodeSearchCursor(options.cursor, options.sort, print) : null;
  const limit = options.limit ?? DEFAULT_LIMIT;
  // The route's schema checks this; dialects calling in directly may not have.
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw invalid(`limit: must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  if (scope.chatIds.length === 0) {
    return { data: [], nextCursor: null };
  }
  if (scope.pending) {
    await catchUpSearch(ctx.db);
  }
  const partial = partialMatching(parsed);
  const params: SearchParams = {
    chatIds: scope.chatIds,
    config: scope.config,
    query: parsed.text,
    substring: partial.groups,
    after,
    limit: limit + 1,
  };
  const rows = await searchRows(ctx, params, options.sort);
  return pageOf(
    rows,
    limit,
    (row) => presentSearchHit(row, partial.terms),
    (row) => encodeSearchCursor(row, options.sort, print),
  );
}

/**
 * Searches the caller's chats — or, with `chatId`, one of them (404 unless a member) — for live messages matching
 * `q`; ranked by relevance then recency, or newest first with `sort: 'recent'`.
 */
export async function searchMessages(
  ctx: Context,
  actor: Actor,
  query: SearchMessagesQuery,
): Promise<Page<SearchHitView>> {
  const chatId = query.chatId ?? null;
  if (chatId !== null) {
    await requireMember(ctx.db, actor, chatId);
  }
  const parsed = parseQuery(query.q);
  const scope =
    chatId !== null
      ? { ...(await findSearchConfig(ctx.db, actor.tenantId)), chatIds: [chatId] }
      : await findSearchScope(ctx.db, actor.tenantId, actor.userId);
  return search(ctx, scope, parsed, {
    chatId,
    sort: query.sort ?? 'relevance',
    cursor: query.cursor,
    limit: query.limit,
  });
}

/** One chat's search, for dialects (Instabug): the same rules, results and cursors as `GET /v1/search/messages`. */
export async function searchChat(
  ctx: Context,
  actor: Actor,
  chatId: string,
  query: SearchChatQuery,
): Promise<Page<SearchHitView>> {
  return searchMessages(ctx, actor, { ...query, chatId });
}

/** At most this many distinct words in an any-word search. */
export const MAX_ANY_WORDS = 32;

/** The words of `q`: runs of letters and digits, each once (case and accents folded), in the order typed. */
export function anyWords(q: string): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const word of q.match(/[\p{L}\p{N}]+/gu) ?? []) {
    const folded = foldText(word);
    if (!seen.has(folded)) {
      seen.add(folded);
      words.push(word);
    }
  }
  return words;
}

/**
 * One chat's live messages containing ANY word of `q` (whole words with stemming, and parts of words of 3+
 * letters), those containing more of the words first, then in seq order: a full-text `match` query as Elasticsearch
 * runs it (OR). 404 unless the caller is a member; no words: nothing.
 */
export async function searchChatAnyWord(
  ctx: Context,
  actor: Actor,
  chatId: string,
  q: string,
  limit: number,
): Promise<MessageView[]> {
  await requireMember(ctx.db, actor, chatId);
  if ([...q].length > MAX_QUERY_CHARS) {
    throw invalid(`q: must be at most ${MAX_QUERY_CHARS} characters`);
  }
  const words = anyWords(q);
  if (words.length > MAX_ANY_WORDS) {
    throw invalid(`q: must have at most ${MAX_ANY_WORDS} different words`);
  }
  if (words.length === 0) {
    return [];
  }
  const { config, pending } = await findSearchConfig(ctx.db, actor.tenantId);
  if (pending) {
    await catchUpSearch(ctx.db);
  }
  const rows = await searchAnyWord(ctx.db, {
    chatId,
    config,
    words: words.map((text) => ({ text, partial: isSubstringMatchable({ text, phrase: false }) })),
    limit,
  });
  return rows.map((row) => presentMessage(row));
}
