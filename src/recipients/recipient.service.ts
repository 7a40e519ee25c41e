import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import { forbidden, invalid, notFound } from '../errors/codes.ts';
import type { Filter, FilterCondition } from '../messages/message.filter.ts';
import { markRead } from '../messages/message.service.ts';
import { presentRecipient, type RecipientView } from './recipient.presenter.ts';
import {
  countRecipients as countRows,
  findRecipients as findRows,
  writeFlags,
} from './recipient.repository.ts';
import type { RecipientFilterField } from './recipient.table.ts';

export type RecipientFilter = Filter<RecipientFilterField>;
export type RecipientCondition = FilterCondition<RecipientFilterField>;

export interface RecipientChanges {
  isRead?: boolean;
  isFavorite?: boolean;
  isForwarded?: boolean;
  forwardedBy?: string | null;
}

/** Recipients of messages in the caller's chats (every member but the author), matching a structured filter. */
export async function findRecipients(
  ctx: Context,
  actor: Actor,
  filter: RecipientFilter,
): Promise<RecipientView[]> {
  return (await findRows(ctx.db, actor.tenantId, actor.userId, filter)).map(presentRecipient);
}

export async function countRecipients(
  ctx: Context,
  actor: Actor,
  where: RecipientCondition | null,
): Promise<number> {
  return countRows(ctx.db, actor.tenantId, actor.userId, where);
}

/** One member's state on one message of the caller's chats; 404 when either is not there for the caller. */
export async function getRecipient(
  ctx: Context,
  actor: Actor,
  messageId: string,
  userId: string,
): Promise<RecipientView> {
  const [found] = await findRecipients(ctx, actor, {
    where: {
      and: [
        { field: 'messageId', op: '=', value: messageId },
        { field: 'recipientId', op: '=', value: userId },
      ],
    },
    order: [],
    offset: 0,
    limit: 1,
  });
  if (!found) {
    throw notFound(`no recipient ${userId} of message ${messageId}`);
  }
  return found;
}

/**
 * Changes the caller's own state on a message: `isRead: true` moves the read cursor up to it (cursors only move
 * forward, so `isRead: false` on a read message is refused); the flags are stored per member and message.
 */
export async function updateRecipient(
  ctx: Context,
  actor: Actor,
  current: RecipientView,
  changes: RecipientChanges,
): Promise<RecipientView> {
  // The recipient changes its own state; the sender may say it forwarded the message to them.
  const forwarding = Object.keys(changes).every((key) => key === 'isForwarded' || key === 'forwardedBy');
  if (current.userId !== actor.userId && !(forwarding && current.authorId === actor.userId)) {
    throw forbidden("only the recipient may change a recipient's state (the sender only its forwarding)");
  }
  if (changes.isRead === false && current.isRead) {
    throw invalid('isRead: a read message cannot become unread (the read cursor only moves forward)');
  }
  if (changes.isRead === true && !current.isRead) {
    await markRead(ctx, actor, current.chatId, { seq: current.seq });
  }
  // Every change records who made it (a change of read state alone too).
  if (Object.keys(changes).length > 0) {
    await writeFlags(
      ctx.db,
      { chatId: current.chatId, seq: current.seq, userId: current.userId },
      {
        ...(changes.isFavorite !== undefined ? { isFavorite: changes.isFavorite } : {}),
        ...(changes.isForwarded !== undefined ? { isForwarded: changes.isForwarded } : {}),
        ...(changes.forwardedBy !== undefined ? { forwardedBy: changes.forwardedBy } : {}),
      },
      actor.userId,
    );
  }
  return getRecipient(ctx, actor, current.messageId, current.userId);
}

/** Clears the caller's own flags on a message (its read state stays: the read cursor does not move back). */
export async function clearRecipient(ctx: Context, actor: Actor, current: RecipientView): Promise<void> {
  if (current.userId !== actor.userId) {
    throw forbidden("only the recipient may clear a recipient's state");
  }
  await writeFlags(ctx.db, { chatId: current.chatId, seq: current.seq, userId: actor.userId }, null);
}
