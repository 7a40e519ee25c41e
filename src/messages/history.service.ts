import type { Actor } from '../auth/actor.ts';
import { chatNotFound, requireMember } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import { invalid, notFound } from '../errors/codes.ts';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor, type Page } from '../pagination.ts';
import { HistoryCache, type HistoryState } from './history.cache.ts';
import {
  listChatPage,
  listMemberMessages,
  listTenantChatMessages,
  memberHistoryState,
  type PageRows,
} from './history.repository.ts';
import { presentMessage } from './message.presenter.ts';
import { findMessage, listMessages as listMessageRows, type HistoryRange } from './message.repository.ts';
import type { ListMessagesQuery, MessageView } from './message.schema.ts';
import { filesFromTuples } from './file.repository.ts';
import { withFiles } from './file.service.ts';
import { withMentions } from './mention.service.ts';
import { withViewer } from './reaction.service.ts';

/** Reading a chat's history: a member's pages (cached at the state they were read at), whole histories, streams. */

type Direction = 'f' | 'b';

/**
 * History cursors: `['f', after]` pages forward, `['b', before]` backward, `['f', after, before]` forward
 * inside a range.
 */
function decodeHistoryCursor(cursor: string): { after?: number; before?: number } {
  let key: unknown[];
  try {
    key = decodeCursor(cursor, ['string', 'number']);
  } catch {
    key = decodeCursor(cursor, ['string', 'number', 'number']);
  }
  const [direction, seq, upper] = key as [Direction, number, number | undefined];
  if (direction === 'f' && upper === undefined) {
    return { after: seq };
  }
  if (direction === 'f' && upper !== undefined && upper > seq) {
    return { after: seq, before: upper };
  }
  if (direction === 'b' && upper === undefined) {
    return { before: seq };
  }
  throw invalid('cursor: is not a cursor this API returned');
}

/** A chat's main history (thread-only replies left out), a page at a time. */
export async function listMessages(
  ctx: Context,
  actor: Actor,
  chatId: string,
  query: ListMessagesQuery,
): Promise<Page<MessageView>> {
  return memberPage(ctx, actor, chatId, query, 'chat');
}

/**
 * The replies in the thread under `root` (not the root itself), paged exactly as the chat's history. 404 unless
 * `root` is a top-level message of the chat (a thread reply has no thread); a root without replies has an empty one.
 */
export async function listThreadMessages(
  ctx: Context,
  actor: Actor,
  chatId: string,
  root: number,
  query: ListMessagesQuery,
): Promise<Page<MessageView>> {
  const { chat } = await requireMember(ctx.db, actor, chatId);
  const found = root <= chat.last_seq ? await findMessage(ctx.db, chatId, root) : undefined;
  if (!found || found.thread_root !== null) {
    throw notFound(
      `message ${root} of chat ${chatId} has no thread: it is not a top-level message of the chat`,
    );
  }
  return memberPage(ctx, actor, chatId, query, { thread: root });
}

async function memberPage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  query: ListMessagesQuery,
  scope: 'chat' | { thread: number },
): Promise<Page<MessageView>> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  let after = query.after;
  let before = query.before;
  if (query.cursor !== undefined) {
    if (after !== undefined || before !== undefined) {
      throw invalid('cursor: cannot be combined with after or before');
    }
    ({ after, before } = decodeHistoryCursor(query.cursor));
  }
  if (after !== undefined && before !== undefined && before <= after) {
    throw invalid('before: must be greater than after');
  }
  const page = await cachedPage(ctx, chatId, { after, before, limit, scope }, 'member', {
    gated: (range, known) => listMemberMessages(ctx.db, actor, chatId, range, known),
    shared: {
      key: actor.tenantId,
      who: actor.userId,
      state: () => memberHistoryState(ctx.db, actor, chatId),
      page: (range, userIds) => listChatPage(ctx.db, actor.tenantId, chatId, range, userIds),
    },
  });
  if (!page) {
    throw chatNotFound(chatId);
  }
  return viewerPage(ctx, actor, chatId, page);
}

/** How a page is read behind the caller's check (a member's, a tenant's). */
interface PageReads {
  /** The page behind the check, only if the chat has moved on from `known`: one round trip. */
  gated: (
    range: HistoryRange,
    known: HistoryState | undefined,
  ) => Promise<PageRows | 'unchanged' | undefined>;
  /**
   * For pages concurrent callers may share: the check alone, with the chat's state; and the page with the state it
   * was read at, behind no caller's check (each made its own), the same read for every caller under `key`.
   */
  shared?: {
    key: string;
    /** The caller's user id: the shared read checks each joiner's membership in its own statement. */
    who: string;
    state: () => Promise<HistoryState | undefined>;
    page: (
      range: HistoryRange,
      userIds: readonly string[],
    ) => Promise<{ page: PageRows | undefined; members: ReadonlySet<string> }>;
  };
}

/** What a page is cut to and how its cursor reads on. */
interface PageShape {
  limit: number;
  forward: boolean;
  before: number | undefined;
}

/**
 * A page of the chat's history from `after` (forward) or below `before` (backward, the newest without either), as
 * `reads` reads it behind its check (a member's, a tenant's): the cached page when the check finds the chat still at
 * the state it was read at; undefined when the check finds no chat. The page is the same whichever member reads it
 * (their own reactions are added after), so the cache keeps one per range; a tenant's read (no member: no reaction
 * counts) keeps its own. While a read of the same page is under way, a member's request shares (`sharedPage`).
 */
async function cachedPage(
  ctx: Context,
  chatId: string,
  {
    after,
    before,
    limit,
    scope = 'chat',
  }: {
    after: number | undefined;
    before: number | undefined;
    limit: number;
    scope?: 'chat' | { thread: number };
  },
  reader: 'member' | 'tenant',
  reads: PageReads,
): Promise<Page<MessageView> | undefined> {
  const forward = after !== undefined;
  const range: HistoryRange = {
    ...(after !== undefined ? { after } : {}),
    ...(before !== undefined ? { before } : {}),
    limit: limit + 1,
    direction: forward ? 'forward' : 'backward',
    scope,
  };
  const shape = { limit, forward, before };
  // Only reads outside a transaction: what one sees before it rolls back is no state of the chat.
  const cache = ctx.db.isTransaction ? undefined : ctx.history;
  if (!cache) {
    const found = await reads.gated(range, undefined);
    return found && found !== 'unchanged' ? pageOf(ctx, chatId, found, shape) : undefined;
  }
  const thread = typeof scope === 'object' ? `thread ${scope.thread}|` : '';
  const key = `${reader === 'tenant' ? 't|' : ''}${thread}${HistoryCache.keyOf({ chatId, ...range })}`;
  if (reads.shared && cache.busy(key)) {
    return sharedPage(ctx, cache, chatId, key, range, shape, reads.shared);
  }
  const cached = cache.get(key);
  const found = await cache.track(key, () => reads.gated(range, cached?.state));
  if (!found) {
    return undefined;
  }
  if (found === 'unchanged') {
    cache.hits += 1;
    return cached!.page;
  }
  cache.misses += 1;
  return cache.set(key, found.state, await pageOf(ctx, chatId, found, shape));
}

/**
 * A page while another request's read of it is under way (after a send every reader misses at once): the caller's
 * check first, then the cached page if it is at the state the check saw, else a page read shared with every request
 * that checked before the read starts (`SharedReadsFor`: joinable only until then), so the read holds whatever each
 * of them must see; the read checks each one's membership again in its own statement, and answers only those still
 * members. The page is cached at the state that read itself saw, in its own statement.
 */
async function sharedPage(
  ctx: Context,
  cache: HistoryCache,
  chatId: string,
  key: string,
  range: HistoryRange,
  shape: PageShape,
  shared: NonNullable<PageReads['shared']>,
): Promise<Page<MessageView> | undefined> {
  const state = await cache.track(key, shared.state);
  if (!state) {
    return undefined;
  }
  const cached = cache.get(key);
  if (cached && cached.state.lastSeq === state.lastSeq && cached.state.revision === state.revision) {
    cache.hits += 1;
    return cached.page;
  }
  const readKey = `${shared.key}|${key}`;
  if (cache.reads.pending(readKey)) {
    cache.shared += 1;
  }
  const read = await cache.track(key, () =>
    cache.reads.read(readKey, shared.who, async (userIds) => {
      const found = await shared.page(range, userIds);
      if (!found.page) {
        return { page: undefined, members: found.members };
      }
      cache.misses += 1;
      const page = cache.set(key, found.page.state, await pageOf(ctx, chatId, found.page, shape));
      return { page, members: found.members };
    }),
  );
  // Membership as of the read's own snapshot: a member removed between their check and the read sees none of it.
  return read.members.has(shared.who) ? read.page : undefined;
}

/** The page a read brought: cut to the limit, with its cursor, each message presented with what the read holds. */
async function pageOf(
  ctx: Context,
  chatId: string,
  found: PageRows,
  { limit, forward, before }: PageShape,
): Promise<Page<MessageView>> {
  const { rows } = found;
  const more = rows.length > limit;
  const kept = more ? (forward ? rows.slice(0, limit) : rows.slice(rows.length - limit)) : rows;
  let nextCursor: string | null = null;
  if (more) {
    if (forward) {
      // Inside an after..before range the cursor carries the upper bound: paging never leaves the range.
      const last = kept[kept.length - 1]!.seq;
      nextCursor = encodeCursor(before !== undefined ? ['f', last, before] : ['f', last]);
    } else {
      nextCursor = encodeCursor(['b', kept[0]!.seq]);
    }
  }
  // A member's read brings each message's reaction counts, read at the page's state; `me` is added per request.
  const presented = kept.map(({ reactions, mentions, files: _files, ...row }) =>
    presentMessage(
      row,
      reactions === undefined
        ? undefined
        : (reactions ?? []).map(([emoji, count]) => ({ emoji, count, me: false })),
      reactions === undefined
        ? undefined
        : mentions
          ? { users: mentions[0], all: mentions[1] ?? false, here: mentions[2] ?? false }
          : null,
    ),
  );
  // A member's read brings each message's files in its own round trip; a tenant's read looks them up after.
  const data = kept.some((row) => row.files !== undefined)
    ? presented.map((view, i) => {
        const files = kept[i]!.files;
        return files ? { ...view, attachments: filesFromTuples(files) } : view;
      })
    : await withFiles(ctx, chatId, presented);
  return { data, nextCursor };
}

/**
 * A page as this caller sees it: the shared page (cached or not) holds the counts with `me` false; the caller's own
 * reactions are read per request, and only when some message of the page has reactions.
 */
async function viewerPage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  page: Page<MessageView>,
): Promise<Page<MessageView>> {
  const data = await withViewer(ctx, actor.userId, chatId, page.data);
  return data ? { data, nextCursor: page.nextCursor } : page;
}

const HISTORY_BATCH = 1000;

/**
 * A member's view of a chat's whole history in seq order, read `size` messages at a time as the caller pulls them:
 * for answers streamed out page by page, never held whole in memory. 404 unless a member (checked first).
 */
export async function* historyPages(
  ctx: Context,
  actor: Actor,
  chatId: string,
  size = HISTORY_BATCH,
): AsyncGenerator<MessageView[]> {
  await requireMember(ctx.db, actor, chatId);
  let after = 0;
  for (;;) {
    const rows = await listMessageRows(ctx.db, chatId, { after, limit: size, direction: 'forward' });
    yield rows.map((row) => presentMessage(row));
    if (rows.length < size) {
      return;
    }
    after = rows[rows.length - 1]!.seq;
  }
}

/**
 * A chat's whole history with no member acting, for dialects that read chats directly (Avito), in seq order (deleted
 * messages included, without text), `size` messages at a time as the caller pulls them: never held whole in memory.
 * Each page is read only if the chat is (still) a live chat of the tenant, and comes from the history cache while
 * the chat is unchanged, as a member's page does. 404 when the tenant has no such chat. Never reachable through /v1.
 */
export async function* tenantHistoryPages(
  ctx: Context,
  tenantId: string,
  chatId: string,
  size = HISTORY_BATCH,
): AsyncGenerator<readonly MessageView[]> {
  let after = 0;
  for (;;) {
    const page = await cachedPage(ctx, chatId, { after, before: undefined, limit: size }, 'tenant', {
      gated: (range, known) => listTenantChatMessages(ctx.db, tenantId, chatId, range, known),
    });
    if (!page) {
      throw chatNotFound(chatId);
    }
    yield page.data;
    const last = page.data[page.data.length - 1];
    if (page.nextCursor === null || !last) {
      return;
    }
    after = last.seq;
  }
}

/**
 * Messages of a chat in seq order after `after` (and below `before`, when given), deleted ones included without
 * text: what a stream replays. No member check: the stream checked membership when it subscribed to the chat.
 */
export async function streamMessages(
  ctx: Context,
  chatId: string,
  range: { after: number; before?: number; limit: number },
): Promise<MessageView[]> {
  const rows = await listMessageRows(ctx.db, chatId, { ...range, direction: 'forward', scope: 'all' });
  const views = await withMentions(
    ctx,
    chatId,
    rows.map((row) => presentMessage(row)),
  );
  return withFiles(ctx, chatId, views);
}
