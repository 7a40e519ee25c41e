import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import { forbidden, notFound } from '../errors/codes.ts';
import { Memo } from '../memo.ts';
import { HistoryCache } from './history.cache.ts';
import {
  chatShape,
  countMessagesFiltered,
  findChatMessagesFiltered,
  findMessagesFiltered,
  writeMessageProperties,
  type MessageProperties,
} from './filter.repository.ts';
import type { MessageCondition, MessageFilter } from './message.filter.ts';
import { presentMessageInContext, type MessageInContext } from './message.presenter.ts';
import type { MessageView } from './message.schema.ts';

/** The chat a condition names when it names one chat and nothing else (`channelId` alone, what clients list). */
function onlyChat(where: MessageCondition | null): string | null {
  return where !== null &&
    'field' in where &&
    where.field === 'chatId' &&
    where.op === '=' &&
    typeof where.value === 'string'
    ? where.value
    : null;
}

/**
 * The live messages of the caller's chats matching a structured filter (dialect query languages compile to it).
 * One chat's messages (its `chatId` alone, in any order and range) are the same for every member at one state of
 * the chat: they come from the history cache when the chat has not changed since they were read, after the member's
 * check, as a native history page does. The lists are frozen and shared: what is cached is handed out as it is.
 */
export async function findMessages(
  ctx: Context,
  actor: Actor,
  filter: MessageFilter,
): Promise<readonly MessageInContext[]> {
  const chatId = onlyChat(filter.where);
  // Only reads outside a transaction: what one sees before it rolls back is no state of the chat.
  const cache = ctx.db.isTransaction ? undefined : ctx.history;
  if (chatId === null || !cache) {
    return (await findMessagesFiltered(ctx.db, actor.tenantId, actor.userId, filter)).map(
      presentMessageInContext,
    );
  }
  const key = HistoryCache.inContextKeyOf({ chatId, ...filter });
  const cached = cache.getInContext(key);
  const read = await findChatMessagesFiltered(ctx.db, actor, chatId, filter, cached?.state);
  if (!read) {
    // Not a member (or no such live chat): nothing matches, as the filter over the caller's chats finds.
    return [];
  }
  if (read === 'unchanged') {
    cache.hits += 1;
    return cached!.rows;
  }
  cache.misses += 1;
  return cache.setInContext(key, read.state, read.rows.map(presentMessageInContext));
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

export type { MessageProperties };

/**
 * Stores what a SourceLoop client sent with a message beyond its text (subject, status, channel type). Like the
 * text, only the author changes them.
 */
export async function setMessageProperties(
  ctx: Context,
  actor: Actor,
  current: MessageInContext,
  properties: MessageProperties,
): Promise<void> {
  if (current.message.authorId !== actor.userId) {
    throw forbidden('only the author may change a message');
  }
  await writeMessageProperties(
    ctx.db,
    { chatId: current.message.chatId, seq: current.message.seq },
    properties,
  );
}

interface ChatShape {
  kind: 'direct' | 'group';
  /** A direct chat's members in id order; none for a group. */
  directMembers: string[];
}

/**
 * A chat's kind and a direct chat's members never change (a direct chat takes no member, and once one of its two
 * users is deleted it takes no message either, so a send it accepted saw them both).
 */
const shapes = new Memo<ChatShape>();

async function shapeOf(ctx: Context, chatId: string): Promise<ChatShape> {
  const shape = await shapes.get(ctx.db, chatId, async () => {
    const row = await chatShape(ctx.db, chatId);
    return row && { kind: row.kind, directMembers: row.direct_members };
  });
  if (!shape) {
    throw notFound(`chat ${chatId} not found`);
  }
  return shape;
}

/**
 * A message the caller has just sent, with its context as `findMessages` shows it, without reading it back: the
 * send's answer, the id of the message it replies to (the caller had it), the properties the caller is storing with
 * it (as `findMessages` shows them: no subject, status 0, the chat's kind when none was given), and the chat's kind
 * and recipient, which never change and are read once per chat and process. Only for a message the send accepted:
 * that the caller is a member of its chat is what the send checked.
 */
export async function sentInContext(
  ctx: Context,
  message: MessageView,
  parentId: string | null,
  properties: MessageProperties = {},
): Promise<MessageInContext> {
  const { kind, directMembers } = await shapeOf(ctx, message.chatId);
  return {
    message,
    chatKind: kind,
    parentId,
    recipientId: directMembers.find((id) => id !== message.authorId) ?? null,
    subject: properties.subject ?? null,
    status: properties.status ?? 0,
    channelType: properties.channelType ?? kind,
  };
}
