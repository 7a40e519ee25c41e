import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { HistoryState } from './history.cache.ts';
import type {
  FilterCondition,
  FilterOrder,
  MessageCondition,
  MessageFilter,
  MessageFilterField,
} from './message.filter.ts';
import type { MessageRow } from './message.table.ts';
import { anyUser, UNPREPARED } from '../db/statements.ts';

/** The columns of a message row; the search columns stay in the database (reads and sends never need them). */
export const MESSAGE_COLUMNS = [
  'chat_id',
  'seq',
  'id',
  'author_id',
  'text',
  'reply_to',
  'client_id',
  'created_at',
  'edited_at',
  'deleted_at',
] as const;
const RETURNING = sql.raw(MESSAGE_COLUMNS.join(', '));

export interface NewMessage {
  id: string;
  chatId: string;
  authorId: string;
  text: string;
  replyTo: number | null;
  clientId: string | null;
}

/**
 * The send path in one statement: advance the chat's counter (its row lock orders concurrent senders), insert the
 * message with that seq, count it among the author's own messages past their read cursor. If the author is no longer a member or the chat is gone, nothing is written and undefined
 * comes back. A duplicate clientId fails the whole statement on messages_client_id_key, counter included.
 */
export async function insertMessage(db: Db, message: NewMessage): Promise<MessageRow | undefined> {
  const result = await sql<MessageRow>`
    with chat as (
      update chats
         set last_seq = last_seq + 1, message_count = message_count + 1, last_message_at = clock_timestamp()
       where id = ${message.chatId} and deleted_at is null
         and exists (select 1 from members where chat_id = ${message.chatId} and user_id = ${message.authorId})
      returning id, last_seq, last_message_at
    )
    , inserted as (
      insert into messages (chat_id, seq, id, author_id, text, reply_to, client_id, created_at)
      select chat.id, chat.last_seq, ${message.id}, ${message.authorId}, ${message.text}, ${message.replyTo},
             ${message.clientId}, chat.last_message_at
      from chat
      returning ${RETURNING}
    ), authored as (
      update members set own_after_read = own_after_read + 1
       where chat_id = ${message.chatId} and user_id = ${message.authorId} and exists (select 1 from inserted)
    )
    select * from inserted`.execute(db);
  return result.rows[0];
}

export async function findByClientId(
  db: Db,
  chatId: string,
  authorId: string,
  clientId: string,
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .select(MESSAGE_COLUMNS)
    .where('chat_id', '=', chatId)
    .where('author_id', '=', authorId)
    .where('client_id', '=', clientId)
    .executeTakeFirst();
}

/** The chat's messages with these seqs, in seq order. */
export async function findMessagesBySeq(db: Db, chatId: string, seqs: number[]): Promise<MessageRow[]> {
  if (seqs.length === 0) {
    return [];
  }
  return db
    .selectFrom('messages')
    .select(MESSAGE_COLUMNS)
    .where('chat_id', '=', chatId)
    .where('seq', 'in', seqs)
    .orderBy('seq')
    .execute();
}

export async function findMessageById(db: Db, chatId: string, id: string): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .select(MESSAGE_COLUMNS)
    .where('id', '=', id)
    .where('chat_id', '=', chatId)
    .executeTakeFirst();
}

export async function findMessage(db: Db, chatId: string, seq: number): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .select(MESSAGE_COLUMNS)
    .where('chat_id', '=', chatId)
    .where('seq', '=', seq)
    .executeTakeFirst();
}

export interface HistoryRange {
  /** Exclusive lower bound. */
  after?: number;
  /** Exclusive upper bound. */
  before?: number;
  limit: number;
  /** 'forward' reads up from `after`; 'backward' reads down from `before` (or the end). */
  direction: 'forward' | 'backward';
}

/**
 * The history page: one range scan of the (chat_id, seq) primary key. Seqs are gapless and messages are never
 * removed (deleted ones keep their seq), so a page of `limit` lies within `limit` seqs of where it starts: both ends
 * of the range are bounded, and the scan reads the page's rows only, whatever the planner believes of the table
 * (statistics lag behind a chat that grows fast). `only` is a further condition, one that names no column of the
 * messages (the history cache's "unless unchanged"), so that PostgreSQL checks it once before scanning at all.
 * Exported so a test can EXPLAIN it.
 */
export function historyQuery(db: Db, chatId: string, range: HistoryRange, only?: RawBuilder<boolean>) {
  let query = db.selectFrom('messages').select(MESSAGE_COLUMNS).where('chat_id', '=', chatId);
  if (only) {
    query = query.where(only);
  }
  if (range.direction === 'forward') {
    const after = range.after ?? 0;
    query = query.where('seq', '>', after).where('seq', '<=', after + range.limit);
    if (range.before !== undefined) {
      query = query.where('seq', '<', range.before);
    }
    return query.orderBy('seq', 'asc').limit(range.limit);
  }
  if (range.after !== undefined) {
    query = query.where('seq', '>', range.after);
  }
  // The page ends at the last message below `before` (which may lie past the end of the chat).
  const top =
    range.before === undefined ? sql<number>`last_seq` : sql<number>`least(last_seq, ${range.before - 1})`;
  if (range.before !== undefined) {
    query = query.where('seq', '<', range.before);
  }
  query = query.where('seq', '>', (eb) =>
    eb
      .selectFrom('chats')
      .select(sql<number>`${top} - ${range.limit}`.as('floor'))
      .where('id', '=', chatId),
  );
  return query.orderBy('seq', 'desc').limit(range.limit);
}

type GatedRow = { g_last_seq: number; g_revision: number } & (MessageRow | { [K in keyof MessageRow]: null });

/**
 * A member's history page in one round trip: the membership of the live chat in the member's tenant, joined to the
 * page, with the chat's history state (`HistoryState`). With `known`, the page is read only if the chat has moved
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
  return sql<GatedRow>`
    select g.last_seq as g_last_seq, g.history_revision as g_revision, x.* from (
      select c.last_seq, c.history_revision from members me join chats c on c.id = me.chat_id
       where me.chat_id = ${chatId} and me.user_id = ${viewer.userId}
         and c.tenant_id = ${viewer.tenantId} and c.deleted_at is null
    ) g
    left join lateral (${historyQuery(db, chatId, range, only)}) x on true`;
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
): Promise<{ state: HistoryState; rows: MessageRow[] } | 'unchanged' | undefined> {
  const { rows } = await memberHistoryQuery(db, viewer, chatId, range, known).execute(db);
  const first = rows[0];
  if (!first) {
    return undefined;
  }
  const state = { lastSeq: first.g_last_seq, revision: first.g_revision };
  if (known && state.lastSeq === known.lastSeq && state.revision === known.revision) {
    return 'unchanged';
  }
  const page: MessageRow[] = [];
  for (const { g_last_seq: _seq, g_revision: _revision, ...row } of rows) {
    if (row.seq !== null) {
      page.push(row as MessageRow);
    }
  }
  return { state, rows: range.direction === 'forward' ? page : page.reverse() };
}

/** Rows come back in ascending seq either way. */
export async function listMessages(db: Db, chatId: string, range: HistoryRange): Promise<MessageRow[]> {
  const rows = await historyQuery(db, chatId, range).execute();
  return range.direction === 'forward' ? rows : rows.reverse();
}

export async function updateText(
  db: Db,
  chatId: string,
  seq: number,
  text: string,
): Promise<MessageRow | undefined> {
  return db
    .updateTable('messages')
    .set({ text, edited_at: sql<Date>`now()` })
    .where('chat_id', '=', chatId)
    .where('seq', '=', seq)
    .where('deleted_at', 'is', null)
    .returning(MESSAGE_COLUMNS)
    .executeTakeFirst();
}

/**
 * Soft delete: the message keeps its seq and loses its text; the chat's live message count drops in the same
 * statement. Deleting a deleted message changes nothing and returns undefined.
 */
export async function softDeleteMessage(
  db: Db,
  chatId: string,
  seq: number,
): Promise<MessageRow | undefined> {
  const result = await sql<MessageRow>`
    with deleted as (
      update messages set deleted_at = now(), text = null
       where chat_id = ${chatId} and seq = ${seq} and deleted_at is null
      returning ${RETURNING}
    ), counted as (
      update chats set message_count = message_count - 1, last_deleted_seq = greatest(last_deleted_seq, ${seq})
       where id = ${chatId} and exists (select 1 from deleted)
    )
    select * from deleted`.execute(db);
  return result.rows[0];
}

/**
 * Others' live messages past member `m`'s cursor in chat `c`, without counting messages (migration 0008): the seqs
 * past the cursor, less the member's own messages there, less others' deleted messages there, which are looked up
 * (in an index of deleted messages only) when the chat has a deleted message past the cursor at all.
 */
export function unreadCountSql(m: string, c: string): RawBuilder<number> {
  const [member, chat] = [sql.table(m), sql.table(c)];
  return sql<number>`(${chat}.last_seq - ${member}.last_read_seq - ${member}.own_after_read - case
      when ${chat}.last_deleted_seq > ${member}.last_read_seq then (
        select count(*) from messages d
         where d.chat_id = ${chat}.id and d.deleted_at is not null and d.seq > ${member}.last_read_seq
           and d.author_id <> ${member}.user_id)
      else 0 end)::int`;
}

export interface UnreadRow {
  chat_id: string;
  last_read_seq: number;
  unread_count: number;
}

/**
 * Every chat of the user with something unread, in one query: the user's memberships (members_user_idx) and each
 * chat by primary key; no message is read unless the chat has a deleted one past the cursor.
 */
export function unreadSummaryQuery(tenantId: string, userId: string) {
  return sql<UnreadRow>`
    select u.chat_id, u.last_read_seq, u.unread_count
    from (
      select m.chat_id, m.last_read_seq, ${unreadCountSql('m', 'c')} as unread_count
      from members m
      join chats c on c.id = m.chat_id and c.deleted_at is null and c.last_seq > m.last_read_seq
      where m.tenant_id = ${tenantId} and m.user_id = ${anyUser(userId)}
    ) u
    where u.unread_count > 0
    order by u.chat_id`;
}

export async function unreadSummary(db: Db, tenantId: string, userId: string): Promise<UnreadRow[]> {
  return (await unreadSummaryQuery(tenantId, userId).execute(db)).rows;
}

export interface BatchedMessage extends NewMessage {
  tenantId: string;
}

/**
 * Group commit: many sends, into any chats, in one call of `parley_send_batch` (migration 0009): one round trip and
 * one commit. It locks the chats in id order, keeps the sends whose author is a member of a live chat of their
 * tenant, whose reply points at an existing message and whose clientId is new, numbers them per chat in input order
 * and inserts them. Rows come back for the sends that were written; the others are left to the caller to explain
 * one by one. A database error fails the whole call: nothing of the batch is written.
 */
export async function insertMessageBatch(db: Db, batch: BatchedMessage[]): Promise<MessageRow[]> {
  if (batch.length === 0) {
    return [];
  }
  const result = await sql<MessageRow>`
    select * from parley_send_batch(
      ${batch.map((m) => m.tenantId)}::text[], ${batch.map((m) => m.chatId)}::text[],
      ${batch.map((m) => m.authorId)}::text[], ${batch.map((m) => m.id)}::text[],
      ${batch.map((m) => m.text)}::text[], ${batch.map((m) => m.replyTo)}::bigint[],
      ${batch.map((m) => m.clientId)}::text[])`.execute(db);
  return result.rows;
}

/** A message of the tenant by its id, wherever it is; none in a deleted chat. */
export async function findTenantMessage(
  db: Db,
  tenantId: string,
  id: string,
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages as m')
    .innerJoin('chats as c', 'c.id', 'm.chat_id')
    .select(MESSAGE_COLUMNS.map((column) => `m.${column}` as const))
    .where('m.id', '=', id)
    .where('c.tenant_id', '=', tenantId)
    .where('c.deleted_at', 'is', null)
    .executeTakeFirst();
}

/** A message with what dialects show beside it: its chat's kind, the replied-to message's id, a direct recipient. */
export interface MessageInContextRow extends MessageRow {
  chat_kind: 'direct' | 'group';
  parent_id: string | null;
  recipient_id: string | null;
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
};

/** A condition as SQL: field names come from a fixed map of expressions, every value is a bound parameter. */
export function filterSql<F extends string>(
  condition: FilterCondition<F>,
  fields: Record<F, RawBuilder<unknown>>,
): RawBuilder<unknown> {
  const recurse = (inner: FilterCondition<F>) => filterSql(inner, fields);
  if ('and' in condition) {
    return condition.and.length === 0
      ? sql`true`
      : sql`(${sql.join(condition.and.map(recurse), sql` and `)})`;
  }
  if ('or' in condition) {
    return condition.or.length === 0 ? sql`false` : sql`(${sql.join(condition.or.map(recurse), sql` or `)})`;
  }
  const field = fields[condition.field];
  switch (condition.op) {
    case 'in':
      return condition.value.length === 0 ? sql`false` : sql`${field} in (${sql.join(condition.value)})`;
    case '=':
      return condition.value === null ? sql`${field} is null` : sql`${field} = ${condition.value}`;
    case '<>':
      return condition.value === null
        ? sql`${field} is not null`
        : sql`${field} is distinct from ${condition.value}`;
    case '>':
      return sql`${field} > ${condition.value}`;
    case '>=':
      return sql`${field} >= ${condition.value}`;
    case '<':
      return sql`${field} < ${condition.value}`;
    case '<=':
      return sql`${field} <= ${condition.value}`;
    case 'like':
      return sql`${field}::text like ${condition.value}`;
  }
}

/** `order by` items for a filter's order, over the same fixed map of expressions. */
export function orderSql<F extends string>(
  order: FilterOrder<F>[],
  fields: Record<F, RawBuilder<unknown>>,
): RawBuilder<unknown>[] {
  return order.map((o) => sql`${fields[o.field]} ${o.direction === 'desc' ? sql`desc` : sql`asc`}`);
}

/** The live messages of the live chats `userId` belongs to, with their context, matching `where`. */
function visibleMessages(tenantId: string, userId: string, where: MessageCondition | null) {
  return sql`
    from messages m
    join members me on me.chat_id = m.chat_id and me.user_id = ${userId} and me.tenant_id = ${tenantId}
    join chats c on c.id = m.chat_id and c.deleted_at is null
    left join messages p on p.chat_id = m.chat_id and p.seq = m.reply_to
    left join lateral (
      select o.user_id from members o
      where c.kind = 'direct' and o.chat_id = m.chat_id and o.user_id <> m.author_id
      order by o.user_id limit 1
    ) r on true
    where ${sql.raw(UNPREPARED)} m.deleted_at is null and ${where ? filterSql(where, FILTER_FIELDS) : sql`true`}`;
}

export async function findMessagesFiltered(
  db: Db,
  tenantId: string,
  userId: string,
  filter: MessageFilter,
): Promise<MessageInContextRow[]> {
  const order = [...orderSql(filter.order, FILTER_FIELDS), sql`m.created_at asc`, sql`m.id asc`];
  const result = await sql<MessageInContextRow>`
    select ${sql.join(MESSAGE_COLUMNS.map((column) => sql.ref(`m.${column}`)))},
           c.kind as chat_kind, p.id as parent_id, r.user_id as recipient_id
    ${visibleMessages(tenantId, userId, filter.where)}
    order by ${sql.join(order)}
    limit ${filter.limit} offset ${filter.offset}`.execute(db);
  return result.rows;
}

export async function countMessagesFiltered(
  db: Db,
  tenantId: string,
  userId: string,
  where: MessageCondition | null,
): Promise<number> {
  const result = await sql<{ count: number }>`
    select count(*)::int as count ${visibleMessages(tenantId, userId, where)}`.execute(db);
  return result.rows[0]?.count ?? 0;
}
