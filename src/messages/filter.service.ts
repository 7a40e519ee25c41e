import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import { notFound } from '../errors/codes.ts';
import { countMessagesFiltered, findMessagesFiltered } from './filter.repository.ts';
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
