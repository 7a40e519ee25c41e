import type { Actor } from '../auth/actor.ts';
import { recordChange, requireMember } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import type { Db } from '../db/database.ts';
import { conflict, invalid, limitExceeded, notFound } from '../errors/codes.ts';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor, type Page } from '../pagination.ts';
import { findMessage, lockMessage } from './message.repository.ts';
import type { MessageView } from './message.schema.ts';
import { reactionEvent } from './reaction.events.ts';
import { groupReactions } from './reaction.presenter.ts';
import {
  addToCount,
  countsOf,
  deleteReaction,
  insertReaction,
  reactionCounts,
  reactionsBy,
  reactionUsers,
  touchHistory,
} from './reaction.repository.ts';
import type { ListReactionUsersQuery, ReactionChangeView, ReactionUserView } from './reaction.schema.ts';

/** Reactions: one per member, message and emoji; at most `limits.reactionsPerMessage` distinct emoji a message. */

export const MAX_EMOJI_BYTES = 32;

/**
 * Control and format characters other than the zero-width joiner and tag characters that emoji sequences use
 * (family, flags of regions), whitespace, private-use and lone surrogates.
 */
const FORBIDDEN = /[\s\p{Cc}\p{Cs}\p{Co}]|(?![\u200d\u{e0020}-\u{e007f}])\p{Cf}/u;

/** An emoji is any short token: a Unicode emoji (sequences included) or a custom name such as `:shipit:`. */
export function checkEmoji(emoji: string): void {
  if (emoji === '') {
    throw invalid('emoji: must not be empty');
  }
  if (Buffer.byteLength(emoji, 'utf8') > MAX_EMOJI_BYTES) {
    throw invalid(`emoji: must be at most ${MAX_EMOJI_BYTES} bytes (UTF-8)`);
  }
  if (FORBIDDEN.test(emoji)) {
    throw invalid('emoji: must not contain whitespace or control characters');
  }
}

interface Target {
  chatId: string;
  seq: number;
  emoji: string;
  userId: string;
}

/** The member's message, locked for this reaction change: 404 when none, 409 when it is deleted. */
async function lockLiveMessage(db: Db, chatId: string, seq: number): Promise<string> {
  const message = await lockMessage(db, chatId, seq);
  if (!message) {
    throw notFound(`message ${seq} not found in chat ${chatId}`);
  }
  if (message.deleted_at) {
    throw conflict(`message ${seq} is deleted: it takes no reactions`);
  }
  return message.id;
}

export interface ReactionChange {
  reaction: ReactionChangeView;
  /** False when the caller had already reacted with this emoji: nothing changed. */
  created: boolean;
}

/**
 * Adds the caller's reaction. The message's row lock serializes every change to its reactions, so the limit on
 * distinct emoji holds exactly whatever runs at once.
 */
export async function addReaction(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
  emoji: string,
): Promise<ReactionChange> {
  checkEmoji(emoji);
  const target: Target = { chatId, seq, emoji, userId: actor.userId };
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    await requireMember(trx, actor, chatId);
    const messageId = await lockLiveMessage(trx, chatId, seq);
    const { count, distinct } = await countsOf(trx, chatId, seq, emoji);
    if (count === 0 && distinct >= ctx.limits.reactionsPerMessage) {
      throw limitExceeded(
        'reactions_per_message',
        ctx.limits.reactionsPerMessage,
        `message ${seq} already has ${distinct} different reactions, the most one may have`,
      );
    }
    if (!(await insertReaction(trx, target))) {
      return { messageId, count, change: null };
    }
    const now = await addToCount(trx, target, 1);
    await touchHistory(trx, chatId);
    const payload = { chatId, seq, messageId, emoji, userId: actor.userId, count: now };
    return { messageId, count: now, change: await recordChange(trx, chatId, 'reaction.added', payload) };
  });
  const reaction = { chatId, seq, messageId: outcome.messageId, emoji, count: outcome.count, me: true };
  if (outcome.change) {
    ctx.events.publish(reactionEvent('reaction.added', actor.tenantId, { chatId }, outcome.change));
  }
  return { reaction, created: outcome.change !== null };
}

/** Takes the caller's reaction back; nothing to take back is no error (the same answer). */
export async function removeReaction(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
  emoji: string,
): Promise<void> {
  checkEmoji(emoji);
  const target: Target = { chatId, seq, emoji, userId: actor.userId };
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    await requireMember(trx, actor, chatId);
    const messageId = await lockLiveMessage(trx, chatId, seq);
    if (!(await deleteReaction(trx, target))) {
      return null;
    }
    const count = await addToCount(trx, target, -1);
    await touchHistory(trx, chatId);
    const payload = { chatId, seq, messageId, emoji, userId: actor.userId, count };
    return recordChange(trx, chatId, 'reaction.removed', payload);
  });
  if (outcome) {
    ctx.events.publish(reactionEvent('reaction.removed', actor.tenantId, { chatId }, outcome));
  }
}

function decodeUsersCursor(cursor: string): { at: Date; userId: string } {
  const [at, userId] = decodeCursor(cursor, ['string', 'string']) as [string, string];
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) {
    throw invalid('cursor: is not a cursor this API returned');
  }
  return { at: date, userId };
}

/** Who reacted to a message with an emoji, first first, a page at a time. */
export async function listReactionUsers(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
  emoji: string,
  query: ListReactionUsersQuery,
): Promise<Page<ReactionUserView>> {
  checkEmoji(emoji);
  const limit = query.limit ?? DEFAULT_LIMIT;
  const after = query.cursor !== undefined ? decodeUsersCursor(query.cursor) : undefined;
  await requireMember(ctx.db, actor, chatId);
  const message = await findMessage(ctx.db, chatId, seq);
  if (!message) {
    throw notFound(`message ${seq} not found in chat ${chatId}`);
  }
  if (message.deleted_at) {
    throw conflict(`message ${seq} is deleted: it shows no reactions`);
  }
  const rows = await reactionUsers(ctx.db, { chatId, seq, emoji }, after, limit + 1);
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    data: kept.map((r) => ({ userId: r.user_id, reactedAt: r.created_at.toISOString() })),
    nextCursor:
      rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.user_id]) : null,
  };
}

/** The reactions of messages of one chat (counts every viewer shares), `me` false. */
async function withReactionCounts(
  ctx: Context,
  chatId: string,
  views: MessageView[],
): Promise<MessageView[]> {
  if (views.length === 0) {
    return views;
  }
  const seqs = views.map((view) => view.seq);
  const bySeq = groupReactions(await reactionCounts(ctx.db, chatId, seqs));
  return views.map((view) => ({ ...view, reactions: view.deletedAt ? [] : (bySeq.get(view.seq) ?? []) }));
}

/**
 * The viewer's `me` on views that carry reaction counts: one read of the viewer's own reactions, and only when some
 * message of the page has any. Never changes the views it is given (a cached page is shared).
 */
export async function withViewer(
  ctx: Context,
  userId: string,
  chatId: string,
  views: readonly MessageView[],
): Promise<MessageView[] | null> {
  const reacted = views.filter((view) => (view.reactions?.length ?? 0) > 0).map((view) => view.seq);
  if (reacted.length === 0) {
    return null;
  }
  const own = new Set((await reactionsBy(ctx.db, chatId, userId, reacted)).map((r) => `${r.seq}|${r.emoji}`));
  return views.map((view) =>
    view.reactions?.length
      ? { ...view, reactions: view.reactions.map((r) => ({ ...r, me: own.has(`${view.seq}|${r.emoji}`) })) }
      : view,
  );
}

/** Views of messages of one chat with their reactions as `userId` sees them. */
export async function reactionsFor(
  ctx: Context,
  userId: string,
  chatId: string,
  views: MessageView[],
): Promise<MessageView[]> {
  const counted = await withReactionCounts(ctx, chatId, views);
  return (await withViewer(ctx, userId, chatId, counted)) ?? counted;
}
