import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { MentionCandidates } from './mention.parse.ts';
import {
  MENTION_COLUMNS,
  mentionCtes,
  resolvedOf,
  type MentionColumns,
  type ResolvedMentions,
} from './mention.repository.ts';
import { linkFilesCte } from './file.repository.ts';
import { SEND_FUNCTION_NAME, type SendOutcomeCode } from './message.sql.ts';
import type { MessageRow, PinColumns } from './message.table.ts';

/** A message row with its pin, as the reads that show pins return it. */
export type PinnedMessageRow = MessageRow & PinColumns;

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
  'thread_root',
  'also_in_chat',
  'reply_count',
  'last_reply_at',
  'thread_participants',
] as const;
/** A message's pin: read with the message where views show it (history pages, single messages, edits, pins). */
export const PIN_COLUMNS = ['pinned_at', 'pinned_by'] as const;
export const VIEW_COLUMNS = [...MESSAGE_COLUMNS, ...PIN_COLUMNS] as const;
const RETURNING_VIEW = sql.raw(VIEW_COLUMNS.join(', '));
const VIEW_OF_S = sql.raw(VIEW_COLUMNS.map((column) => `s.${column}`).join(', '));

/** The chat's messages with these seqs, in seq order. */
export async function findMessagesBySeq(db: Db, chatId: string, seqs: number[]): Promise<PinnedMessageRow[]> {
  if (seqs.length === 0) {
    return [];
  }
  return db
    .selectFrom('messages')
    .select(VIEW_COLUMNS)
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

function messageAt(db: Db, chatId: string, seq: number) {
  return db.selectFrom('messages').select(VIEW_COLUMNS).where('chat_id', '=', chatId).where('seq', '=', seq);
}

export async function findMessage(
  db: Db,
  chatId: string,
  seq: number,
): Promise<PinnedMessageRow | undefined> {
  return messageAt(db, chatId, seq).executeTakeFirst();
}

/**
 * The message, locked against other changes to it (its pin, its reactions) until the transaction ends; undefined
 * when none.
 */
export async function lockMessage(
  db: Db,
  chatId: string,
  seq: number,
): Promise<PinnedMessageRow | undefined> {
  return messageAt(db, chatId, seq).forNoKeyUpdate().executeTakeFirst();
}

export interface HistoryRange {
  /** Exclusive lower bound. */
  after?: number;
  /** Exclusive upper bound. */
  before?: number;
  limit: number;
  /** 'forward' reads up from `after`; 'backward' reads down from `before` (or the end). */
  direction: 'forward' | 'backward';
  /**
   * Which messages: `chat` (default), the chat's main history, without thread-only replies; `all`, every message
   * (what a stream replays, gapless); `{ thread }`, the replies of the thread under that root.
   */
  scope?: 'chat' | 'all' | { thread: number };
}

/** The main history leaves out thread-only replies (a thread reply not also shown in the chat). */
const IN_MAIN = sql<boolean>`(thread_root is null or also_in_chat)`;

/**
 * The history page: one range scan of the (chat_id, seq) primary key. Seqs are gapless and messages are never
 * removed (deleted ones keep their seq), so a page of `limit` lies within `limit` seqs of where it starts: both ends
 * of the range are bounded, and the scan reads the page's rows only, whatever the planner believes of the table
 * (statistics lag behind a chat that grows fast). `only` is a further condition, one that names no column of the
 * messages (the history cache's "unless unchanged"), so that PostgreSQL checks it once before scanning at all.
 * Exported so a test can EXPLAIN it.
 */
export function historyQuery(
  db: Db,
  chatId: string,
  range: HistoryRange,
  only?: RawBuilder<boolean>,
  columns: readonly (keyof PinnedMessageRow)[] = MESSAGE_COLUMNS,
) {
  const scope = range.scope ?? 'chat';
  if (typeof scope === 'object') {
    return threadQuery(db, chatId, scope.thread, range, only, columns);
  }
  let query = db.selectFrom('messages').select(columns).where('chat_id', '=', chatId);
  if (only) {
    query = query.where(only);
  }
  if (scope === 'chat') {
    query = query.where(IN_MAIN);
  }
  // Thread-only replies left out, a page of `limit` may span more seqs: past the chat's last thread-only reply it
  // cannot, and the bounds stay `limit` apart; below it they widen to the chat's end (forward) or start (backward).
  const widened = scope === 'chat';
  if (range.direction === 'forward') {
    const after = range.after ?? 0;
    query = query.where('seq', '>', after);
    query = widened
      ? query.where('seq', '<=', (eb) =>
          eb
            .selectFrom('chats')
            .select(
              sql<number>`case when last_thread_seq > ${after} then last_seq else ${after + range.limit} end`.as(
                'ceiling',
              ),
            )
            .where('id', '=', chatId),
        )
      : query.where('seq', '<=', after + range.limit);
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
  const floor = widened
    ? sql<number>`case when last_thread_seq > ${top} - ${range.limit} then 0 else ${top} - ${range.limit} end`
    : sql<number>`${top} - ${range.limit}`;
  query = query.where('seq', '>', (eb) =>
    eb.selectFrom('chats').select(floor.as('floor')).where('id', '=', chatId),
  );
  return query.orderBy('seq', 'desc').limit(range.limit);
}

/** A thread's page: its replies in the range, one scan of `messages_thread_idx` (no window: replies are sparse). */
function threadQuery(
  db: Db,
  chatId: string,
  root: number,
  range: HistoryRange,
  only: RawBuilder<boolean> | undefined,
  columns: readonly (keyof PinnedMessageRow)[],
) {
  let query = db
    .selectFrom('messages')
    .select(columns)
    .where('chat_id', '=', chatId)
    .where('thread_root', '=', root);
  if (only) {
    query = query.where(only);
  }
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

/**
 * An edit: the new text, and its mentions resolved again (`mentionCtes`), in one statement; the message's previous
 * mentions come back beside the new ones, so that only members newly mentioned are told. Undefined when the
 * message is deleted.
 */
export async function updateText(
  db: Db,
  tenantId: string,
  chatId: string,
  seq: number,
  text: string,
  candidates: MentionCandidates,
): Promise<
  (PinnedMessageRow & { mentions: ResolvedMentions; previous: string[]; previousAll: boolean }) | undefined
> {
  const result = await sql<
    PinnedMessageRow & MentionColumns & { previous_users: string[]; previous_all: boolean }
  >`
    with updated as (
      update messages set text = ${text}, edited_at = now()
       where chat_id = ${chatId} and seq = ${seq} and deleted_at is null
      returning ${RETURNING_VIEW}
    ),
    gone as (
      delete from message_mentions mm using updated u
       where mm.chat_id = u.chat_id and mm.seq = u.seq
      returning mm.user_id, mm.via
    ),
    sent as (select 1 as ord, 'written' as outcome, u.* from updated u),
    ${mentionCtes([{ ord: 1, tenantId, candidates }])}
    select ${VIEW_OF_S}, ${MENTION_COLUMNS},
      array(select g.user_id from gone g where g.user_id is not null) as previous_users,
      exists(select 1 from gone g where g.via = 'all') as previous_all
      from sent s`.execute(db);
  const row = result.rows[0];
  if (!row) {
    return undefined;
  }
  const {
    previous_users,
    previous_all,
    mention_users,
    mention_here_users,
    mention_all,
    mention_here,
    ...message
  } = row;
  return {
    ...message,
    mentions: resolvedOf({ mention_users, mention_here_users, mention_all, mention_here }),
    previous: previous_users,
    previousAll: previous_all,
  };
}

/**
 * Soft delete: the message keeps its seq and loses its text and its pin; the chat's live message count drops in the
 * same statement. Deleting a deleted message changes nothing and returns undefined.
 */
export async function softDeleteMessage(
  db: Db,
  chatId: string,
  seq: number,
): Promise<PinnedMessageRow | undefined> {
  const result = await sql<PinnedMessageRow>`
    with deleted as (
      update messages set deleted_at = now(), text = null, pinned_at = null, pinned_by = null
       where chat_id = ${chatId} and seq = ${seq} and deleted_at is null
      returning ${RETURNING_VIEW}
    ), counted as (
      update chats set message_count = message_count - 1, last_deleted_seq = greatest(last_deleted_seq, ${seq})
       where id = ${chatId} and exists (select 1 from deleted)
    ), unthreaded as (
      update messages r set reply_count = r.reply_count - 1
        from deleted d where r.chat_id = d.chat_id and r.seq = d.thread_root
    )
    select * from deleted`.execute(db);
  return result.rows[0];
}

/** What a client sent beside a message's text (SourceLoop's subject, status, channel type), stored with it. */
export interface SentProperties {
  subject: string | null;
  status: number;
  channelType: string | null;
}

/** One send of a batch. `id` is the new message's, should it be written. */
export interface BatchedMessage {
  id: string;
  tenantId: string;
  chatId: string;
  authorId: string;
  text: string;
  replyTo: number | null;
  clientId: string | null;
  /** The seq of the thread's root, for a thread reply. */
  threadRoot?: number | null;
  /** A thread reply shown in the chat's main history too. */
  alsoInChat?: boolean;
  /** Stored in `message_properties` with the message, in the same statement, when it is written. */
  properties?: SentProperties | null;
  /** What the text may mention, resolved and stored in the same statement when it is written. */
  mentions?: MentionCandidates | null;
  /** Ids of the author's unsent uploads to the chat, linked to the message in the same statement when it is written. */
  files?: string[] | null;
}

/**
 * What became of one send: `written` (its message), `duplicate` (the author had sent this clientId into this chat
 * before, or earlier in the same batch: the first message), `not_found` (no live chat of the tenant with this
 * author as a member), `closed` (a direct chat whose other member was deleted), `bad_reply` (replyTo names no
 * message of the chat).
 */
export type SendOutcome =
  | { outcome: 'written'; row: MessageRow; mentions: ResolvedMentions }
  | { outcome: 'duplicate'; row: MessageRow }
  | { outcome: Exclude<SendOutcomeCode, 'written' | 'duplicate'> };

type OutcomeRow = { ord: number; outcome: SendOutcomeCode } & MentionColumns &
  (MessageRow | { [K in keyof MessageRow]: null });

/**
 * The batch's call of the send function; with, in the same statement, the properties of the sends that carry any
 * and the mentions of those whose text may mention someone (`mentionCtes`), stored beside the messages it writes: a
 * message, its properties and its mentions are written together or not at all. A batch with neither is the bare call.
 */
function sendStatement(batch: BatchedMessage[]) {
  const send = sql`${sql.raw(SEND_FUNCTION_NAME)}(
      ${batch.map((m) => m.tenantId)}::text[], ${batch.map((m) => m.chatId)}::text[],
      ${batch.map((m) => m.authorId)}::text[], ${batch.map((m) => m.id)}::text[],
      ${batch.map((m) => m.text)}::text[], ${batch.map((m) => m.replyTo)}::bigint[],
      ${batch.map((m) => m.clientId)}::text[], ${batch.map((m) => m.threadRoot ?? null)}::bigint[],
      ${batch.map((m) => m.alsoInChat ?? false)}::boolean[])`;
  const mentions = batch.flatMap((m, i) =>
    m.mentions ? [{ ord: i + 1, tenantId: m.tenantId, candidates: m.mentions }] : [],
  );
  const ctes = [];
  if (batch.some((m) => m.properties)) {
    ctes.push(sql`
    stored as (
      insert into message_properties (chat_id, seq, subject, status, channel_type)
      select s.chat_id, s.seq, p.subject, p.status, p.channel_type
        from sent s
        join unnest(${batch.map((m) => m.properties?.subject ?? null)}::text[],
                    ${batch.map((m) => m.properties?.status ?? null)}::int[],
                    ${batch.map((m) => m.properties?.channelType ?? null)}::text[])
               with ordinality as p(subject, status, channel_type, ord) on p.ord = s.ord
       where s.outcome = 'written' and p.status is not null
    )`);
  }
  if (mentions.length > 0) {
    ctes.push(mentionCtes(mentions));
  }
  const files = batch.flatMap((m, i) =>
    m.files && m.files.length > 0 ? [{ ord: i + 1, ids: m.files }] : [],
  );
  if (files.length > 0) {
    ctes.push(linkFilesCte(files));
  }
  if (ctes.length === 0) {
    return sql<OutcomeRow>`select * from ${send}`;
  }
  const columns = mentions.length > 0 ? sql`s.*, ${MENTION_COLUMNS}` : sql`s.*`;
  return sql<OutcomeRow>`
    with sent as (select * from ${send}), ${sql.join(ctes)}
    select ${columns} from sent s order by s.ord`;
}

/**
 * Group commit: many sends, into any chats, in one call of the send function (`message.sql.ts`): one round trip and
 * one commit. Outcomes come back one per send, in the batch's order. A database error fails the whole call: nothing
 * of the batch is written.
 */
export async function insertMessageBatch(db: Db, batch: BatchedMessage[]): Promise<SendOutcome[]> {
  if (batch.length === 0) {
    return [];
  }
  const result = await sendStatement(batch).execute(db);
  if (result.rows.length !== batch.length) {
    throw new Error(`the send function answered ${result.rows.length} of ${batch.length} sends`);
  }
  return result.rows.map(
    ({ ord, outcome, mention_users, mention_here_users, mention_all, mention_here, ...row }, i) => {
      if (Number(ord) !== i + 1) {
        throw new Error(`the send function answered send ${ord} in place ${i + 1}`);
      }
      if (outcome === 'written' || outcome === 'duplicate') {
        if (row.id === null) {
          throw new Error(`the send function gave no message for a ${outcome} send`);
        }
        if (outcome === 'duplicate') {
          return { outcome, row };
        }
        const mentions = resolvedOf({ mention_users, mention_here_users, mention_all, mention_here });
        return { outcome, row, mentions };
      }
      return { outcome };
    },
  );
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
