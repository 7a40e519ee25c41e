import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { HistoryState } from './history.cache.ts';
import { filterSql, orderSql } from '../db/sql/filter.ts';
import { CLIENT_SHAPED } from '../db/statements.ts';
import type { MessageCondition, MessageFilter, MessageFilterField, MessageOrder } from './message.filter.ts';
import { MESSAGE_COLUMNS } from './message.repository.ts';
import type { MessageRow } from './message.table.ts';

/** A message with what dialects show beside it: its chat's kind, the replied-to message's id, a direct recipient. */
export interface MessageInContextRow extends MessageRow {
  chat_kind: 'direct' | 'group';
  parent_id: string | null;
  recipient_id: string | null;
  subject: string | null;
  status: number;
  channel_type: string | null;
}

const FILTER_FIELDS: Record<MessageFilterField, RawBuilder<unknown>> = {
  id: sql`m.id`,
  text: sql`m.text`,
  chatId: sql`m.chat_id`,
  chatKind: sql`c.kind`,
  authorId: sql`m.author_id`,
  // At the precision clients see (ISO strings carry milliseconds): `gt` a createdOn it was given excludes that row.
  createdAt: sql`date_trunc('milliseconds', m.created_at)`,
  modifiedAt: sql`date_trunc('milliseconds', coalesce(m.edited_at, m.created_at))`,
  parentId: sql`p.id`,
  recipientId: sql`r.user_id`,
  subject: sql`x.subject`,
  status: sql`coalesce(x.status, 0)`,
  // As the client sent it; messages sent otherwise show their chat's kind.
  channelType: sql`coalesce(x.channel_type, c.kind)`,
};

/**
 * Orderings by a time at millisecond precision (what clients see), for when it is the last one asked: ordering by the
 * stored time instead gives the same order between different milliseconds, and breaks ties within one by the stored
 * time, which the index `messages_chat_created_idx` (chat, time, seq; live messages) serves, where the truncated
 * expression made PostgreSQL read and sort a whole chat. Not when another ordering follows: that one breaks the ties.
 */
const LAST_ORDER: Partial<Record<MessageFilterField, RawBuilder<unknown>>> = {
  createdAt: sql`m.created_at`,
};

/**
 * `order by` for a filter: its orderings, then ties broken by time, chat and seq in the direction of the last one
 * (unique: the same order on every request, and, within one chat, the order of the index).
 */
function orderBy(order: MessageOrder[]): RawBuilder<unknown>[] {
  const last = order.length - 1;
  const asked = order.map((o, i) =>
    i === last && LAST_ORDER[o.field]
      ? orderSql([o], { ...FILTER_FIELDS, ...LAST_ORDER })[0]!
      : orderSql([o], FILTER_FIELDS)[0]!,
  );
  const direction = order[last]?.direction === 'desc' ? sql`desc` : sql`asc`;
  return [...asked, sql`m.created_at ${direction}`, sql`m.chat_id ${direction}`, sql`m.seq ${direction}`];
}

/** The fields read from `message_properties` (alias `x`). */
const PROPERTY_FIELDS: MessageFilterField[] = ['subject', 'status', 'channelType'];

/** Whether a condition names `field` anywhere. */
function names(where: MessageCondition | null, field: MessageFilterField): boolean {
  if (where === null) {
    return false;
  }
  if ('and' in where) {
    return where.and.some((c) => names(c, field));
  }
  if ('or' in where) {
    return where.or.some((c) => names(c, field));
  }
  return where.field === field;
}

/**
 * The live messages of the live chats `userId` belongs to, matching `where`; with their context (the replied-to
 * message, a direct chat's recipient, the properties a SourceLoop client sent) when `context`, else with only the
 * joins `where` names (each is a left join on a unique key or a lateral `limit 1`: leaving one out changes no count).
 * Marked client-shaped: it is prepared, within the budget of such texts (`src/db/statements.ts`).
 */
function visibleMessages(
  tenantId: string,
  userId: string,
  where: MessageCondition | null,
  context: boolean,
  only?: RawBuilder<boolean>,
) {
  const parent = context || names(where, 'parentId');
  const recipient = context || names(where, 'recipientId');
  const properties = context || PROPERTY_FIELDS.some((field) => names(where, field));
  return sql`
    from messages m
    join members me on me.chat_id = m.chat_id and me.user_id = ${userId} and me.tenant_id = ${tenantId}
    join chats c on c.id = m.chat_id and c.deleted_at is null
    ${parent ? sql`left join messages p on p.chat_id = m.chat_id and p.seq = m.reply_to` : sql``}
    ${properties ? sql`left join message_properties x on x.chat_id = m.chat_id and x.seq = m.seq` : sql``}
    ${
      recipient
        ? sql`left join lateral (
      select o.user_id from members o
      where c.kind = 'direct' and o.chat_id = m.chat_id and o.user_id <> m.author_id
      order by o.user_id limit 1
    ) r on true`
        : sql``
    }
    where ${sql.raw(CLIENT_SHAPED)} m.deleted_at is null and ${where ? filterSql(where, FILTER_FIELDS) : sql`true`}
    ${only ? sql`and ${only}` : sql``}`;
}

/**
 * Limit and offset are written into the text (whole numbers the compiler bounded): as parameters, a prepared plan
 * is priced for a tenth of the rows, never for the page, and PostgreSQL would plan every execution anew. `only` is a
 * further condition that names no column of the rows (the history cache's "unless unchanged"): PostgreSQL checks it
 * once, before reading any. Exported so a test can EXPLAIN it.
 */
export function findMessagesQuery(
  tenantId: string,
  userId: string,
  filter: MessageFilter,
  only?: RawBuilder<boolean>,
) {
  return sql<MessageInContextRow>`
    select ${sql.join(MESSAGE_COLUMNS.map((column) => sql.ref(`m.${column}`)))},
           c.kind as chat_kind, p.id as parent_id, r.user_id as recipient_id,
           x.subject, coalesce(x.status, 0) as status, x.channel_type
    ${visibleMessages(tenantId, userId, filter.where, true, only)}
    order by ${sql.join(orderBy(filter.order))}
    limit ${sql.lit(filter.limit)} offset ${sql.lit(filter.offset)}`;
}

export async function findMessagesFiltered(
  db: Db,
  tenantId: string,
  userId: string,
  filter: MessageFilter,
): Promise<MessageInContextRow[]> {
  return (await findMessagesQuery(tenantId, userId, filter).execute(db)).rows;
}

type GatedRow = { g_last_seq: number; g_revision: number; g_members: number } & (
  MessageInContextRow | { [K in keyof MessageInContextRow]: null }
);

/**
 * The messages of one chat (`filter.where` names it alone) as `findMessagesQuery` reads them, in one round trip with
 * the member's check and the chat's state (`HistoryState`, its member count included: a direct chat's recipient).
 * With `known`, the rows are read only if the chat has moved on from that state. No row at all: not a member of a
 * live chat; one row of nulls: no message, or the state is still `known`. Exported so a test can EXPLAIN it.
 */
export function chatMessagesQuery(
  viewer: { tenantId: string; userId: string },
  chatId: string,
  filter: MessageFilter,
  known?: HistoryState,
) {
  const only = known
    ? sql<boolean>`not (g.last_seq = ${known.lastSeq} and g.history_revision = ${known.revision}
                        and g.member_count = ${known.members ?? -1})`
    : undefined;
  return sql<GatedRow>`
    select g.last_seq as g_last_seq, g.history_revision as g_revision, g.member_count as g_members, x.* from (
      select c.last_seq, c.history_revision, c.member_count from members me join chats c on c.id = me.chat_id
       where me.chat_id = ${chatId} and me.user_id = ${viewer.userId} and me.tenant_id = ${viewer.tenantId}
         and c.deleted_at is null
    ) g
    left join lateral (${findMessagesQuery(viewer.tenantId, viewer.userId, filter, only)}) x on true`;
}

/** `chatMessagesQuery`'s rows and state; `unchanged` when the chat is still at `known`; undefined: not a member. */
export async function findChatMessagesFiltered(
  db: Db,
  viewer: { tenantId: string; userId: string },
  chatId: string,
  filter: MessageFilter,
  known?: HistoryState,
): Promise<{ state: HistoryState; rows: MessageInContextRow[] } | 'unchanged' | undefined> {
  const { rows } = await chatMessagesQuery(viewer, chatId, filter, known).execute(db);
  const first = rows[0];
  if (!first) {
    return undefined;
  }
  const state = { lastSeq: first.g_last_seq, revision: first.g_revision, members: first.g_members };
  if (
    known &&
    state.lastSeq === known.lastSeq &&
    state.revision === known.revision &&
    state.members === known.members
  ) {
    return 'unchanged';
  }
  const found: MessageInContextRow[] = [];
  for (const { g_last_seq: _seq, g_revision: _revision, g_members: _members, ...row } of rows) {
    if (row.seq !== null) {
      found.push(row as MessageInContextRow);
    }
  }
  return { state, rows: found };
}

/**
 * How many messages match. One channel's count (`where` is `channelId` alone, what clients ask most) is its chat's
 * counter of live messages, kept by the send and the delete; anything else counts the rows.
 */
export function countMessagesQuery(tenantId: string, userId: string, where: MessageCondition | null) {
  if (where !== null && 'field' in where && where.field === 'chatId' && where.op === '=') {
    return sql<{ count: number }>`
      select c.message_count::int as count
      from chats c
      join members me on me.chat_id = c.id and me.user_id = ${userId} and me.tenant_id = ${tenantId}
      where c.id = ${where.value} and c.deleted_at is null`;
  }
  return sql<{
    count: number;
  }>`select count(*)::int as count ${visibleMessages(tenantId, userId, where, false)}`;
}

export async function countMessagesFiltered(
  db: Db,
  tenantId: string,
  userId: string,
  where: MessageCondition | null,
): Promise<number> {
  const result = await countMessagesQuery(tenantId, userId, where).execute(db);
  return result.rows[0]?.count ?? 0;
}

/** A chat's kind and, for a direct chat, its members (both fixed for the chat's life), or undefined for none. */
export async function chatShape(
  db: Db,
  chatId: string,
): Promise<{ kind: 'direct' | 'group'; direct_members: string[] } | undefined> {
  const result = await sql<{ kind: 'direct' | 'group'; direct_members: string[] }>`
    select c.kind,
           array(select o.user_id from members o where c.kind = 'direct' and o.chat_id = c.id order by o.user_id)
             as direct_members
    from chats c where c.id = ${chatId}`.execute(db);
  return result.rows[0];
}

/** What a SourceLoop client sent with a message beyond its text; only what is given changes. */
export interface MessageProperties {
  subject?: string | null;
  status?: number;
  channelType?: string | null;
}

export async function writeMessageProperties(
  db: Db,
  key: { chatId: string; seq: number },
  properties: MessageProperties,
): Promise<void> {
  const values = {
    ...(properties.subject !== undefined ? { subject: properties.subject } : {}),
    ...(properties.status !== undefined ? { status: properties.status } : {}),
    ...(properties.channelType !== undefined ? { channel_type: properties.channelType } : {}),
  };
  if (Object.keys(values).length === 0) {
    return;
  }
  await db
    .insertInto('message_properties')
    .values({ chat_id: key.chatId, seq: key.seq, ...values })
    .onConflict((oc) => oc.columns(['chat_id', 'seq']).doUpdateSet(values))
    .execute();
}
