import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
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
