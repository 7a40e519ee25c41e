import type { Actor } from '../auth/actor.ts';
import { chatNotFound, hasRole, requireMember } from '../chats/chat.access.ts';
import { findTenantChat } from '../chats/chat.service.ts';
import type { Context } from '../context.ts';
import { conflict, forbidden, invalid, notFound } from '../errors/codes.ts';
import { newId } from '../ids.ts';
import { advanceReadCursor } from '../members/member.access.ts';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor, type Page } from '../pagination.ts';
import { HistoryCache } from './history.cache.ts';
import type { MessageCondition, MessageFilter } from './message.filter.ts';
import { presentMessage, presentMessageInContext, type MessageInContext } from './message.presenter.ts';
import { countMessagesFiltered, findMessagesFiltered } from './filter.repository.ts';
import { listMemberMessages } from './history.repository.ts';
import {
  findMessage,
  findMessageById,
  findMessagesBySeq,
  findTenantMessage,
  listMessages as listMessageRows,
  softDeleteMessage,
  updateText,
  type HistoryRange,
} from './message.repository.ts';
import type {
  EditMessageBody,
  ListMessagesQuery,
  MessageView,
  ReadBody,
  ReadView,
  SendMessageBody,
  UnreadView,
} from './message.schema.ts';
import type { MessageRow } from './message.table.ts';
import { messageEvent } from './message.events.ts';
import { unreadSummary } from './unread.repository.ts';

export interface SentMessage {
  message: MessageView;
  /** False when the clientId had been used before by the same author in this chat: the first message comes back. */
  created: boolean;
}

function checkText(ctx: Context, text: string): void {
  if (text.trim() === '') {
    throw invalid('text: must not be blank');
  }
  if (text.length > ctx.limits.messageChars && [...text].length > ctx.limits.messageChars) {
    throw invalid(`text: must be at most ${ctx.limits.messageChars} characters`);
  }
  if (text.includes('\u0000')) {
    // PostgreSQL cannot store it; refused here so that it never reaches, and fails, a batch of other people's sends.
    throw invalid('text: must not contain NUL (\\u0000) characters');
  }
}

/**
 * A send: its text checked here, everything else by the one statement that writes it (the send function in
 * `message.sql.ts`), batched with every other send of the moment. Its outcome says which answer to give.
 */
export async function sendMessage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  body: SendMessageBody,
): Promise<SentMessage> {
  checkText(ctx, body.text);
  const sent = await ctx.sends.submit({
    id: newId(),
    tenantId: actor.tenantId,
    chatId,
    authorId: actor.userId,
    text: body.text,
    replyTo: body.replyTo ?? null,
    clientId: body.clientId ?? null,
  });
  switch (sent.outcome) {
    case 'written':
      return published(ctx, actor, sent.row);
    case 'duplicate':
      return { message: presentMessage(sent.row), created: false };
    case 'bad_reply':
      throw invalid(`replyTo: no message ${body.replyTo} in this chat`);
    case 'not_found':
      throw chatNotFound(chatId);
  }
}

function published(ctx: Context, actor: Actor, row: MessageRow): SentMessage {
  const message = presentMessage(row);
  ctx.events.publish(
    messageEvent(
      'message.created',
      actor.tenantId,
      { chatId: row.chat_id },
      { chatId: row.chat_id, message },
    ),
  );
  return { message, created: true };
}

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

export async function listMessages(
  ctx: Context,
  actor: Actor,
  chatId: string,
  query: ListMessagesQuery,
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
  const forward = after !== undefined;
  const range: HistoryRange = {
    ...(after !== undefined ? { after } : {}),
    ...(before !== undefined ? { before } : {}),
    limit: limit + 1,
    direction: forward ? 'forward' : 'backward',
  };
  // Only reads outside a transaction: what one sees before it rolls back is no state of the chat.
  const cache = ctx.db.isTransaction ? undefined : ctx.history;
  const key = cache ? HistoryCache.keyOf({ chatId, ...range }) : '';
  const cached = cache?.get(key);
  const read = await listMemberMessages(ctx.db, actor, chatId, range, cached?.state);
  if (!read) {
    throw chatNotFound(chatId);
  }
  if (read === 'unchanged') {
    cache!.hits += 1;
    return cached!.page;
  }
  if (cache) {
    cache.misses += 1;
  }
  const { rows } = read;
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
  const page = { data: kept.map(presentMessage), nextCursor };
  return cache ? cache.set(key, read.state, page) : page;
}

async function requireMessage(ctx: Context, chatId: string, seq: number): Promise<MessageRow> {
  const row = await findMessage(ctx.db, chatId, seq);
  if (!row) {
    throw notFound(`message ${seq} not found in chat ${chatId}`);
  }
  return row;
}

export async function getMessage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
): Promise<MessageView> {
  await requireMember(ctx.db, actor, chatId);
  return presentMessage(await requireMessage(ctx, chatId, seq));
}

/** Several messages of one chat by seq (those that exist), for documents that include them. */
export async function getMessagesBySeq(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seqs: number[],
): Promise<MessageView[]> {
  await requireMember(ctx.db, actor, chatId);
  return (await findMessagesBySeq(ctx.db, chatId, [...new Set(seqs)])).map(presentMessage);
}

/** A message of the chat by its id rather than its seq, or null when the chat has none with that id. */
export async function findMessageWithId(
  ctx: Context,
  actor: Actor,
  chatId: string,
  id: string,
): Promise<MessageView | null> {
  await requireMember(ctx.db, actor, chatId);
  const row = await findMessageById(ctx.db, chatId, id);
  return row ? presentMessage(row) : null;
}

export async function editMessage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
  body: EditMessageBody,
): Promise<MessageView> {
  checkText(ctx, body.text);
  await requireMember(ctx.db, actor, chatId);
  const current = await requireMessage(ctx, chatId, seq);
  if (current.author_id !== actor.userId) {
    throw forbidden('only the author may edit a message');
  }
  const row = await updateText(ctx.db, chatId, seq, body.text);
  if (!row) {
    throw conflict(`message ${seq} is deleted`);
  }
  const message = presentMessage(row);
  ctx.events.publish(messageEvent('message.updated', actor.tenantId, { chatId }, { chatId, message }));
  return message;
}

export async function deleteMessage(ctx: Context, actor: Actor, chatId: string, seq: number): Promise<void> {
  const { member } = await requireMember(ctx.db, actor, chatId);
  const current = await requireMessage(ctx, chatId, seq);
  if (current.author_id !== actor.userId && !hasRole(member, 'admin')) {
    throw forbidden('only the author or a chat owner or admin may delete a message');
  }
  const row = await softDeleteMessage(ctx.db, chatId, seq);
  if (row) {
    const message = presentMessage(row);
    ctx.events.publish(messageEvent('message.deleted', actor.tenantId, { chatId }, { chatId, message }));
  }
}

export async function markRead(
  ctx: Context,
  actor: Actor,
  chatId: string,
  body: ReadBody,
): Promise<ReadView> {
  const { chat } = await requireMember(ctx.db, actor, chatId);
  if (body.seq > chat.last_seq) {
    throw invalid(`seq: chat ${chatId} has no message ${body.seq} (its last is ${chat.last_seq})`);
  }
  const cursor = await advanceReadCursor(ctx.db, chatId, actor.userId, body.seq);
  if (!cursor) {
    throw chatNotFound(chatId);
  }
  const { last_read_seq: lastReadSeq, unread_count: unreadCount } = cursor;
  ctx.events.publish(
    messageEvent(
      'read.updated',
      actor.tenantId,
      { chatId },
      { chatId, userId: actor.userId, seq: lastReadSeq },
    ),
  );
  return { lastReadSeq, unreadCount };
}

export async function unread(ctx: Context, actor: Actor): Promise<UnreadView> {
  const rows = await unreadSummary(ctx.db, actor.tenantId, actor.userId);
  const chats = rows.map((r) => ({
    chatId: r.chat_id,
    unreadCount: r.unread_count,
    lastReadSeq: r.last_read_seq,
  }));
  return { total: chats.reduce((sum, c) => sum + c.unreadCount, 0), chats };
}

const HISTORY_BATCH = 1000;

async function wholeHistory(ctx: Context, chatId: string): Promise<MessageView[]> {
  const all: MessageView[] = [];
  let after = 0;
  for (;;) {
    const rows = await listMessageRows(ctx.db, chatId, { after, limit: HISTORY_BATCH, direction: 'forward' });
    all.push(...rows.map(presentMessage));
    if (rows.length < HISTORY_BATCH) {
      return all;
    }
    after = rows[rows.length - 1]!.seq;
  }
}

/** A chat's whole history, ascending by seq (deleted messages included, without text); members only. */
export async function chatHistory(ctx: Context, actor: Actor, chatId: string): Promise<MessageView[]> {
  await requireMember(ctx.db, actor, chatId);
  return wholeHistory(ctx, chatId);
}

/**
 * A chat's whole history with no member acting, for dialects that read chats directly (Avito); 404 when the
 * tenant has no such chat. Never reachable through /v1.
 */
export async function tenantChatHistory(
  ctx: Context,
  tenantId: string,
  chatId: string,
): Promise<MessageView[]> {
  if (!(await findTenantChat(ctx, tenantId, { id: chatId }))) {
    throw chatNotFound(chatId);
  }
  return wholeHistory(ctx, chatId);
}

/** A message of the tenant by its id, in any live chat, or null (dialects: DRF task state). */
export async function findTenantMessageById(
  ctx: Context,
  tenantId: string,
  messageId: string,
): Promise<MessageView | null> {
  const row = await findTenantMessage(ctx.db, tenantId, messageId);
  return row ? presentMessage(row) : null;
}

/** The live messages of the caller's chats matching a structured filter (dialect query languages compile to it). */
export async function findMessages(
  ctx: Context,
  actor: Actor,
  filter: MessageFilter,
): Promise<MessageInContext[]> {
  return (await findMessagesFiltered(ctx.db, actor.tenantId, actor.userId, filter)).map(
    presentMessageInContext,
  );
}

export async function countMessages(
  ctx: Context,
  actor: Actor,
  where: MessageCondition | null,
): Promise<number> {
  return countMessagesFiltered(ctx.db, actor.tenantId, actor.userId, where);
}

/** A live message of one of the caller's chats by its id; 404 for anything else (other chats, deleted, unknown). */
export async function getMessageInContext(ctx: Context, actor: Actor, id: string): Promise<MessageInContext> {
  const [found] = await findMessages(ctx, actor, {
    where: { field: 'id', op: '=', value: id },
    order: [],
    offset: 0,
    limit: 1,
  });
  if (!found) {
    throw notFound(`message ${id} not found`);
  }
  return found;
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
  const rows = await listMessageRows(ctx.db, chatId, { ...range, direction: 'forward' });
  return rows.map(presentMessage);
}
