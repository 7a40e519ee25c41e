import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { MessageRow } from './message.table.ts';

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
    returning *`.execute(db);
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
    .selectAll()
    .where('chat_id', '=', chatId)
    .where('author_id', '=', authorId)
    .where('client_id', '=', clientId)
    .executeTakeFirst();
}

export async function findMessage(db: Db, chatId: string, seq: number): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
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
export async function listMessages(db: Db, chatId: string, range: HistoryRange): Promise<MessageRow[]> {
  let query = db.selectFrom('messages').selectAll().where('chat_id', '=', chatId);
  if (range.after !== undefined) {
    query = query.where('seq', '>', range.after);
  }
  if (range.before !== undefined) {
    query = query.where('seq', '<', range.before);
  }
  const rows = await query
    .orderBy('seq', range.direction === 'forward' ? 'asc' : 'desc')
    .limit(range.limit)
    .execute();
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
    .returningAll()
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
      returning *
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

/** Every chat of the user with something unread, in one query over the user's memberships. */
export async function unreadSummary(db: Db, tenantId: string, userId: string): Promise<UnreadRow[]> {
  const result = await sql<UnreadRow>`
    select m.chat_id, m.last_read_seq, u.unread_count
    from members m
    join chats c on c.id = m.chat_id and c.deleted_at is null and c.last_seq > m.last_read_seq
    cross join lateral (
      select count(*)::int as unread_count from messages x
       where x.chat_id = m.chat_id and x.seq > m.last_read_seq and x.author_id <> m.user_id
         and x.deleted_at is null
    ) u
    where m.tenant_id = ${tenantId} and m.user_id = ${userId} and u.unread_count > 0
    order by m.chat_id`.execute(db);
  return result.rows;
}
