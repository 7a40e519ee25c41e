import type { Actor } from '../../auth/actor.ts';
import { createChat } from '../../chats/chat.service.ts';
import type { Context } from '../../context.ts';
import { invalid } from '../../errors/codes.ts';
import type { MessageCondition, MessageFilterField } from '../../messages/message.filter.ts';
import type { MessageInContext } from '../../messages/message.presenter.ts';
import {
  countMessages,
  findMessages,
  getMessageInContext,
  sentInContext,
  setMessageProperties,
  type MessageProperties,
} from '../../messages/filter.service.ts';
import { deleteMessage, editMessage, sendMessage } from '../../messages/message.service.ts';
import { ifNotFound, refused } from '../dialect.errors.ts';
import { created, MESSAGE_MODEL, toMessage, type SourceLoopMessage } from './sourceloop.mapping.ts';
import { everyMatch, type ResourceOperations } from './sourceloop.operations.ts';
import type { MessagePartial, NewMessage, NewMessageInMessage } from './sourceloop.schema.ts';

/**
 * The properties a change gives: PATCH only those it sends; PUT replaces them all, as LoopBack's replaceById does
 * (no subject, status 0 when left out).
 */
function propertiesOf(body: MessagePartial, replace: boolean): MessageProperties {
  if (replace) {
    return { subject: body.subject ?? null, status: body.status ?? 0, channelType: body.channelType ?? null };
  }
  return {
    ...(body.subject !== undefined ? { subject: body.subject } : {}),
    ...(body.status !== undefined ? { status: body.status } : {}),
    ...(body.channelType !== undefined ? { channelType: body.channelType } : {}),
  };
}

/**
 * SourceLoop's messages on Parley's: only the author edits one (Parley's rule): its text, subject, status and
 * channel type; its channel, parent and recipient are fixed.
 */
export const messages: ResourceOperations<
  MessageFilterField,
  MessageInContext,
  SourceLoopMessage,
  MessagePartial
> = {
  model: MESSAGE_MODEL,
  show: toMessage,
  fixed: ['channelId', 'toUserId', 'parentMessageId', 'id'],
  own: (actor) => ({ field: 'authorId', op: '=', value: actor.userId }),
  find: findMessages,
  count: countMessages,
  get: getMessageInContext,
  update: async (ctx, actor, current, body, replace = false) => {
    const { message } = current;
    if (body.body !== undefined && body.body !== message.text) {
      await editMessage(ctx, actor, message.chatId, message.seq, { text: body.body });
    }
    const properties = propertiesOf(body, replace);
    if (Object.keys(properties).length > 0) {
      await setMessageProperties(ctx, actor, current, properties);
    }
  },
  remove: (ctx, actor, { message }) => deleteMessage(ctx, actor, message.chatId, message.seq),
};

/** Where a new message goes: its channel, or the direct chat with `toUserId` (opened if need be). */
async function channelFor(
  ctx: Context,
  actor: Actor,
  body: NewMessage,
  parent: MessageInContext | null,
): Promise<string> {
  let chatId = body.channelId ?? parent?.message.chatId;
  if (body.toUserId) {
    const { chat } = await createChat(ctx, actor, { kind: 'direct', members: [body.toUserId] });
    if (chatId !== undefined && chatId !== chat.id) {
      throw invalid('toUserId: the direct channel with this user is not channelId');
    }
    chatId = chat.id;
  }
  if (chatId === undefined) {
    throw invalid('channelId: is required (or toUserId)');
  }
  if (parent && parent.message.chatId !== chatId) {
    throw invalid('channelId: must be the channel of the parent message');
  }
  return chatId;
}

async function create(ctx: Context, actor: Actor, body: NewMessage, parent: MessageInContext | null) {
  const chatId = await channelFor(ctx, actor, body, parent);
  const properties = {
    subject: body.subject ?? null,
    status: body.status ?? 0,
    channelType: body.channelType,
  };
  // The properties are written with the message, in the statement that sends it: both or neither.
  const { message } = await sendMessage(
    ctx,
    actor,
    chatId,
    { text: body.body, ...(parent ? { replyTo: parent.message.seq } : {}) },
    properties,
  );
  // Answered from what the send returned and the properties it was given: no read-back.
  const sent = await sentInContext(ctx, message, parent?.message.id ?? null, properties);
  // As LoopBack answers a create: the properties it has no value for are left out.
  return created(toMessage(sent));
}

/** `POST /messages`: a message, a reply when it names its parent. */
export async function createMessage(ctx: Context, actor: Actor, body: NewMessage) {
  const parent = body.parentMessageId
    ? await ifNotFound(getMessageInContext(ctx, actor, body.parentMessageId), () =>
        invalid(`parentMessageId: no message "${body.parentMessageId}" in a channel of yours`),
      )
    : null;
  return create(ctx, actor, body, parent);
}

/** `POST /messages/{id}/messages`: a reply in the parent's channel. */
export async function createReply(ctx: Context, actor: Actor, parentId: string, body: NewMessageInMessage) {
  const parent = await getMessageInContext(ctx, actor, parentId);
  if (body.parentMessageId && body.parentMessageId !== parent.message.id) {
    throw invalid('parentMessageId: must be the message in the path');
  }
  return create(ctx, actor, body, parent);
}

/** The replies to the message `id` names (a 404 when the caller cannot see it). */
export async function repliesTo(ctx: Context, actor: Actor, id: string): Promise<MessageCondition> {
  const parent = await getMessageInContext(ctx, actor, id);
  return { field: 'parentId', op: '=', value: parent.message.id };
}

/** `DELETE /messages/{id}/messages?where=`: the matching replies the caller may delete (its own; all as owner or admin). */
export async function deleteWhere(
  ctx: Context,
  actor: Actor,
  where: MessageCondition | null,
): Promise<{ count: number }> {
  let count = 0;
  for (const { message } of await everyMatch(ctx, messages, actor, where)) {
    try {
      await deleteMessage(ctx, actor, message.chatId, message.seq);
      count += 1;
    } catch (error) {
      if (!refused(error, 'forbidden')) {
        throw error;
      }
    }
  }
  return { count };
}
