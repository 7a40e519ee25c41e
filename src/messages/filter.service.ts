import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import { forbidden, notFound } from '../errors/codes.ts';
import {
  countMessagesFiltered,
  findMessagesFiltered,
  writeMessageProperties,
  type MessageProperties,
} from './filter.repository.ts';
import type { MessageCondition, MessageFilter } from './message.filter.ts';
import { presentMessageInContext, type MessageInContext } from './message.presenter.ts';

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
