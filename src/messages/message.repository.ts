import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type {
  FilterCondition,
  FilterOrder,
  MessageCondition,
  MessageFilter,
  MessageFilterField,
} from './message.filter.ts';
import type { MessageRow } from './message.table.ts';

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
 * message with that seq. If the author is no longer a member or the chat is gone, nothing is written and undefined
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
    insert into messages (chat_id, seq, id, author_id, text, reply_to, client_id, created_at)
    select chat.id, chat.last_seq, ${message.id}, ${message.authorId}, ${message.text}, ${message.replyTo},
           ${message.clientId}, chat.last_message_at
    from chat
    returning ${RETURNING}`.execute(db);
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

/** One range scan of the (chat_id, seq) primary key; rows come back in ascending seq either way. */
/** The history page: one range scan of the (chat_id, seq) primary key. Exported so a test can EXPLAIN it. */
export function historyQuery(db: Db, chatId: string, range: HistoryRange) {
  let query = db.selectFrom('messages').select(MESSAGE_COLUMNS).where('chat_id', '=', chatId);
  if (range.after !== undefined) {
    query = query.where('seq', '>', range.after);
  }
  if (range.before !== undefined) {
    query = query.where('seq', '<', range.before);
  }
  return query.orderBy('seq', range.direction === 'forward' ? 'asc' : 'desc').limit(range.limit);
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
      update chats set message_count = message_count - 1
       where id = ${chatId} and exists (select 1 from deleted)
    )
    select * from deleted`.execute(db);
  return result.rows[0];
}

/** Others' live messages after the cursor. */
export async function countUnread(db: Db, chatId: string, userId: string, afterSeq: number): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('chat_id', '=', chatId)
    .where('seq', '>', afterSeq)
    .where('author_id', '<>', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface UnreadRow {
  chat_id: string;
  last_read_seq: number;
  unread_count: number;
}

/**
 * Every chat of the user with something unread, in one query: the user's memberships (members_user_idx), each
 * chat by primary key, and per chat a count over the primary-key range past the read cursor.
 */
export function unreadSummaryQuery(tenantId: string, userId: string) {
  return sql<UnreadRow>`
    select m.chat_id, m.last_read_seq, u.unread_count
    from members m
    join chats c on c.id = m.chat_id and c.deleted_at is null and c.last_seq > m.last_read_seq
    cross join lateral (
      select count(*)::int as unread_count from messages x
       where x.chat_id = m.chat_id and x.seq > m.last_read_seq and x.author_id <> m.user_id
         and x.deleted_at is null
    ) u
    where m.tenant_id = ${tenantId} and m.user_id = ${userId} and u.unread_count > 0
    order by m.chat_id`;
}

export async function unreadSummary(db: Db, tenantId: string, userId: string): Promise<UnreadRow[]> {
  return (await unreadSummaryQuery(tenantId, userId).execute(db)).rows;
}

export interface BatchedMessage extends NewMessage {
  tenantId: string;
}

/**
 * Group commit: many sends, into any chats, in one transaction of two statements. The chats involved are locked in
 * id order (so concurrent batches cannot deadlock); then one statement keeps the sends whose author is a member of a
 * live chat of their tenant, whose reply points at an existing message and whose clientId is new, numbers them per
 * chat from the chat's counter in input order, advances each counter once, and inserts them all. Rows come back for
 * the sends that were written; the others are left to the caller to explain one by one.
 */
export async function insertMessageBatch(db: Db, batch: BatchedMessage[]): Promise<MessageRow[]> {
  if (batch.length === 0) {
    return [];
  }
  const chatIds = [...new Set(batch.map((m) => m.chatId))].sort();
  return db.transaction().execute(async (trx) => {
    await sql`select id from chats where id = any(${chatIds}::text[]) order by id for update`.execute(trx);
    const result = await sql<MessageRow>`
      with input as (
        select * from unnest(
          ${batch.map((_, i) => i)}::int[], ${batch.map((m) => m.tenantId)}::text[],
          ${batch.map((m) => m.chatId)}::text[], ${batch.map((m) => m.authorId)}::text[],
          ${batch.map((m) => m.id)}::text[], ${batch.map((m) => m.text)}::text[],
          ${batch.map((m) => m.replyTo)}::bigint[], ${batch.map((m) => m.clientId)}::text[]
        ) as t(ord, tenant_id, chat_id, author_id, id, text, reply_to, client_id)
      ),
      eligible as (
        select i.* from input i
        join chats c on c.id = i.chat_id and c.tenant_id = i.tenant_id and c.deleted_at is null
        where exists (select 1 from members m where m.chat_id = i.chat_id and m.user_id = i.author_id)
          and (i.reply_to is null or i.reply_to <= c.last_seq)
          and (i.client_id is null or not exists (
            select 1 from messages x
             where x.chat_id = i.chat_id and x.author_id = i.author_id and x.client_id = i.client_id))
      ),
      numbered as (
        select e.*, row_number() over (partition by e.chat_id order by e.ord) as k,
               count(*) over (partition by e.chat_id) as n
        from eligible e
      ),
      bumped as (
        update chats c
           set last_seq = c.last_seq + s.n, message_count = c.message_count + s.n,
               last_message_at = clock_timestamp()
          from (select chat_id, max(n) as n from numbered group by chat_id) s
         where c.id = s.chat_id
        returning c.id, c.last_seq - s.n as base, c.last_message_at
      )
      insert into messages (chat_id, seq, id, author_id, text, reply_to, client_id, created_at)
      select nb.chat_id, b.base + nb.k, nb.id, nb.author_id, nb.text, nb.reply_to, nb.client_id, b.last_message_at
      from numbered nb join bumped b on b.id = nb.chat_id
      order by nb.chat_id, nb.k
      returning ${RETURNING}`.execute(trx);
    return result.rows;
  });
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
    where m.deleted_at is null and ${where ? filterSql(where, FILTER_FIELDS) : sql`true`}`;
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
