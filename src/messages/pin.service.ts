import type { Actor } from '../auth/actor.ts';
import { hasRole, recordChange, requireMember, type Membership } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import { conflict, forbidden, invalid, limitExceeded, notFound } from '../errors/codes.ts';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor, type Page } from '../pagination.ts';
import { lockMessage, type PinnedMessageRow } from './message.repository.ts';
import { presentMessage } from './message.presenter.ts';
import type { MessageView } from './message.schema.ts';
import { pinEvent } from './pin.events.ts';
import { clearPin, countPins, listPinned, lockChatPins, setPin } from './pin.repository.ts';
import type { ListPinsQuery } from './pin.schema.ts';
import { reactionsFor } from './reaction.service.ts';

/**
 * Pins: who may pin and unpin is who may moderate the chat's messages: a group's owners and admins, and both members
 * of a direct chat. At most `limits.pinsPerChat` pinned messages a chat; a deleted message is never pinned (deleting
 * one unpins it).
 */

function requirePinner(membership: Membership): void {
  if (membership.chat.kind === 'group' && !hasRole(membership.member, 'admin')) {
    throw forbidden('only a chat owner or admin may pin or unpin messages in a group');
  }
}

export interface PinChange {
  message: MessageView;
  /** False when the message was pinned already: nothing changed. */
  created: boolean;
}

/**
 * Pins the message. Its row lock serializes changes to its pin; the chat's row lock (taken after it, in the order
 * every writer of a message and its chat takes them) serializes the chat's pins, so the limit holds exactly.
 */
export async function pinMessage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
): Promise<PinChange> {
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    requirePinner(await requireMember(trx, actor, chatId));
    const current = await lockMessage(trx, chatId, seq);
    if (!current) {
      throw notFound(`message ${seq} not found in chat ${chatId}`);
    }
    if (current.deleted_at) {
      throw conflict(`message ${seq} is deleted: it cannot be pinned`);
    }
    if (current.pinned_at) {
      return { row: current, change: null };
    }
    await lockChatPins(trx, chatId);
    const pins = await countPins(trx, chatId);
    if (pins >= ctx.limits.pinsPerChat) {
      throw limitExceeded(
        'pins_per_chat',
        ctx.limits.pinsPerChat,
        `chat ${chatId} already has ${pins} pinned messages, the most it may have: unpin one first`,
      );
    }
    const row = await setPin(trx, chatId, seq, actor.userId);
    if (!row?.pinned_at) {
      throw conflict(`message ${seq} is deleted: it cannot be pinned`);
    }
    const payload = {
      chatId,
      seq,
      messageId: row.id,
      pinnedBy: actor.userId,
      pinnedAt: row.pinned_at.toISOString(),
    };
    return { row, change: await recordChange(trx, chatId, 'message.pinned', payload) };
  });
  const { row, change } = outcome;
  if (change) {
    ctx.events.publish(pinEvent('message.pinned', actor.tenantId, { chatId }, change));
  }
  return { message: await asViewer(ctx, actor, row), created: change !== null };
}

/** Unpins the message; one that is not pinned (or is deleted) is no error: the same answer. */
export async function unpinMessage(ctx: Context, actor: Actor, chatId: string, seq: number): Promise<void> {
  const change = await ctx.db.transaction().execute(async (trx) => {
    requirePinner(await requireMember(trx, actor, chatId));
    const current = await lockMessage(trx, chatId, seq);
    if (!current) {
      throw notFound(`message ${seq} not found in chat ${chatId}`);
    }
    const row = current.pinned_at ? await clearPin(trx, chatId, seq) : undefined;
    if (!row) {
      return null;
    }
    const payload = { chatId, seq, messageId: row.id, userId: actor.userId };
    return recordChange(trx, chatId, 'message.unpinned', payload);
  });
  if (change) {
    ctx.events.publish(pinEvent('message.unpinned', actor.tenantId, { chatId }, change));
  }
}

function decodePinsCursor(cursor: string): { at: Date; seq: number } {
  const [at, seq] = decodeCursor(cursor, ['string', 'number']) as [string, number];
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) {
    throw invalid('cursor: is not a cursor this API returned');
  }
  return { at: date, seq };
}

/** The chat's pinned messages, newest pin first, a page at a time, as the caller sees them (with reactions). */
export async function listPins(
  ctx: Context,
  actor: Actor,
  chatId: string,
  query: ListPinsQuery,
): Promise<Page<MessageView>> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const after = query.cursor !== undefined ? decodePinsCursor(query.cursor) : undefined;
  await requireMember(ctx.db, actor, chatId);
  const rows = await listPinned(ctx.db, chatId, after, limit + 1);
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    data: await reactionsFor(
      ctx,
      actor.userId,
      chatId,
      kept.map((row) => presentMessage(row)),
    ),
    nextCursor:
      rows.length > limit && last?.pinned_at ? encodeCursor([last.pinned_at.toISOString(), last.seq]) : null,
  };
}

async function asViewer(ctx: Context, actor: Actor, row: PinnedMessageRow): Promise<MessageView> {
  const [view] = await reactionsFor(ctx, actor.userId, row.chat_id, [presentMessage(row)]);
  return view!;
}
