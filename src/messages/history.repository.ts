import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { HistoryState } from './history.cache.ts';
import { messageFilesSql, type FileTuple } from './file.repository.ts';
import { pageMentionsSql } from './mention.repository.ts';
import { historyQuery, VIEW_COLUMNS, type HistoryRange } from './message.repository.ts';
import type { MessageRow, PinColumns } from './message.table.ts';

/** A message's reaction counts as the page query reads them: `[emoji, count]`, first reacted first; null for none. */
export type ReactionCounts = [string, number][] | null;

/** A message's mentions as the page query reads them: `[users, all, here]`; null for none. */
export type PageMentions = [string[], boolean | null, boolean | null] | null;

/**
 * `g_reactions`, `g_mentions` and the pin columns come with a member's page only (a tenant's read has no viewer and
 * shows no reactions, mentions or pins).
 */
type GatedRow = {
  g_last_seq: number;
  g_revision: number;
  /** Of the users a shared read was asked for, those who are members (`listChatPage`). */
  g_members?: string[];
  g_reactions?: ReactionCounts;
  g_mentions?: PageMentions;
  g_files?: FileTuple[] | null;
} & ((MessageRow & Partial<PinColumns>) | { [K in keyof (MessageRow & PinColumns)]?: null });

/**
 * A member's history page in one round trip: the membership of the live chat in the member's tenant, joined to the
 * page (each message with its pin, and its reaction counts, one probe of their primary key), with the chat's history state
 * (`HistoryState`). With `known`, the page is read only if the chat has moved
 * on from that state. No row at all: not a member (or no such chat); one row of nulls: an empty page, or the state
 * is still `known`.
 */
export function memberHistoryQuery(
  db: Db,
  viewer: { tenantId: string; userId: string },
  chatId: string,
  range: HistoryRange,
  known?: HistoryState,
) {
  const only = known
    ? sql<boolean>`not (g.last_seq = ${known.lastSeq} and g.history_revision = ${known.revision})`
    : undefined;
  return pageWithState(db, memberStateSql(viewer, chatId), chatId, range, only);
}

/** The chat's state behind the membership of the live chat in the member's tenant: no row, not a member. */
function memberStateSql(viewer: { tenantId: string; userId: string }, chatId: string) {
  return sql`
      select c.last_seq, c.history_revision from members me join chats c on c.id = me.chat_id
       where me.chat_id = ${chatId} and me.user_id = ${viewer.userId}
         and c.tenant_id = ${viewer.tenantId} and c.deleted_at is null`;
}

/** The state of the tenant's live chat: no row, no such chat. */
function chatStateSql(tenantId: string, chatId: string) {
  return sql`
      select c.last_seq, c.history_revision from chats c
       where c.id = ${chatId} and c.tenant_id = ${tenantId} and c.deleted_at is null`;
}

/** `chatStateSql` with which of `userIds` are members of the chat, in the same snapshot. */
function chatStateForSql(tenantId: string, chatId: string, userIds: readonly string[]) {
  return sql`
      select c.last_seq, c.history_revision,
             array(select me.user_id from members me
                    where me.chat_id = c.id and me.user_id = any(${userIds}::text[])) as members
        from chats c
       where c.id = ${chatId} and c.tenant_id = ${tenantId} and c.deleted_at is null`;
}

/** A page as a member sees it (reactions, mentions, files), in the statement that reads the state `g` behind it. */
function pageWithState(
  db: Db,
  state: RawBuilder<unknown>,
  chatId: string,
  range: HistoryRange,
  only: RawBuilder<boolean> | undefined,
  members = false,
) {
  return sql<GatedRow>`
    select g.last_seq as g_last_seq, g.history_revision as g_revision, ${members ? sql`g.members as g_members,` : sql``} x.*,
           (select json_agg(json_build_array(r.emoji, r.count) order by r.ord) from message_reaction_counts r
             where r.chat_id = ${chatId} and r.seq = x.seq) as g_reactions,
           ${pageMentionsSql(chatId)} as g_mentions,
           ${messageFilesSql(chatId, sql`x.seq`, sql`x.deleted_at`)} as g_files
      from (${state}) g
    left join lateral (${historyQuery(db, chatId, range, only, VIEW_COLUMNS)}) x on true`;
}

/**
 * The chat's state behind the member's check alone, in one cheap statement: undefined when the viewer is not a
 * member of the chat. What a request learns before it joins a page read another request asked for.
 */
export async function memberHistoryState(
  db: Db,
  viewer: { tenantId: string; userId: string },
  chatId: string,
): Promise<HistoryState | undefined> {
  const { rows } = await sql<{
    last_seq: number;
    history_revision: number;
  }>`${memberStateSql(viewer, chatId)}`.execute(db);
  const row = rows[0];
  return row ? { lastSeq: row.last_seq, revision: row.history_revision } : undefined;
}

/**
 * A page of the tenant's live chat as a member sees it (reactions, mentions, files; no viewer's own), with the state
 * it was read at and which of `userIds` (the requests sharing the read) are members, all in the same statement: a
 * user who left before it sees nothing of it. No row: the tenant has no such live chat (any more).
 */
export function chatPageQuery(
  db: Db,
  tenantId: string,
  chatId: string,
  range: HistoryRange,
  userIds: readonly string[],
) {
  return pageWithState(db, chatStateForSql(tenantId, chatId, userIds), chatId, range, undefined, true);
}

/** `chatPageQuery`'s page in ascending seq with its state, and the members among `userIds`. */
export async function listChatPage(
  db: Db,
  tenantId: string,
  chatId: string,
  range: HistoryRange,
  userIds: readonly string[],
): Promise<{ page: PageRows | undefined; members: ReadonlySet<string> }> {
  const { rows } = await chatPageQuery(db, tenantId, chatId, range, userIds).execute(db);
  const page = gatedPage(rows, range, undefined);
  return {
    page: page === 'unchanged' ? undefined : page,
    members: new Set(rows[0]?.g_members ?? []),
  };
}

/**
 * The page in ascending seq with the state it was read at; `unchanged` when the chat is still at `known`;
 * undefined when the viewer is not a member of the chat.
 */
export async function listMemberMessages(
  db: Db,
  viewer: { tenantId: string; userId: string },
  chatId: string,
  range: HistoryRange,
  known?: HistoryState,
): Promise<PageRows | 'unchanged' | undefined> {
  const { rows } = await memberHistoryQuery(db, viewer, chatId, range, known).execute(db);
  return gatedPage(rows, range, known);
}

/** A page's rows in ascending seq, each with its reaction counts when the read brings them, and its state. */
export type PageRows = {
  state: HistoryState;
  rows: (MessageRow &
    Partial<PinColumns> & {
      reactions?: ReactionCounts;
      mentions?: PageMentions;
      files?: FileTuple[] | null;
    })[];
};

/** A gated page's rows: none, not found; the state still `known`, unchanged; else the page, ascending. */
function gatedPage(
  rows: GatedRow[],
  range: HistoryRange,
  known: HistoryState | undefined,
): PageRows | 'unchanged' | undefined {
  const first = rows[0];
  if (!first) {
    return undefined;
  }
  const state = { lastSeq: first.g_last_seq, revision: first.g_revision };
  if (known && state.lastSeq === known.lastSeq && state.revision === known.revision) {
    return 'unchanged';
  }
  const page: PageRows['rows'] = [];
  for (const {
    g_last_seq: _seq,
    g_revision: _revision,
    g_members: _members,
    g_reactions: reactions,
    g_mentions: mentions,
    g_files: files,
    ...row
  } of rows) {
    if (row.seq !== null) {
      const message = row as MessageRow & Partial<PinColumns>;
      page.push(reactions === undefined ? message : { ...message, reactions, mentions, files });
    }
  }
  return { state, rows: range.direction === 'forward' ? page : page.reverse() };
}

/**
 * A page of a live chat of the tenant with no member acting (dialects that address chats directly), in one round
 * trip with the chat's state, as `listMemberMessages` reads a member's: `unchanged` when the chat is still at
 * `known`; undefined when the tenant has no such live chat.
 */
export async function listTenantChatMessages(
  db: Db,
  tenantId: string,
  chatId: string,
  range: HistoryRange,
  known?: HistoryState,
): Promise<PageRows | 'unchanged' | undefined> {
  const only = known
    ? sql<boolean>`not (g.last_seq = ${known.lastSeq} and g.history_revision = ${known.revision})`
    : undefined;
  const { rows } = await sql<GatedRow>`
    select g.last_seq as g_last_seq, g.history_revision as g_revision, x.* from (${chatStateSql(tenantId, chatId)}) g
    left join lateral (${historyQuery(db, chatId, range, only)}) x on true`.execute(db);
  return gatedPage(rows, range, known);
}
