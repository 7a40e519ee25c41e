import type { Actor } from '../auth/actor.ts';
import { requireMember } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import { limitExceeded, notFound } from '../errors/codes.ts';
import { readersOf } from '../members/member.access.ts';
import { DEFAULT_LIMIT, decodeCursor, encodeCursor, type Page } from '../pagination.ts';
import { findMessage } from './message.repository.ts';
import type { ListReceiptsQuery, ReceiptView } from './receipt.schema.ts';

/**
 * Read receipts, from the read cursors members already keep: who has read a message is who has read up to it. Shown
 * for chats of at most `limits.receiptsMaxMembers` members (a direct chat always); a larger chat's are not kept
 * track of (its cursor moves are told to the reader's own streams only), and asking is 409 `limit_exceeded`.
 */
export async function listReceipts(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
  query: ListReceiptsQuery,
): Promise<Page<ReceiptView>> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const after =
    query.cursor !== undefined ? (decodeCursor(query.cursor, ['string']) as [string])[0] : undefined;
  const { chat } = await requireMember(ctx.db, actor, chatId);
  if (chat.member_count > ctx.limits.receiptsMaxMembers) {
    throw limitExceeded(
      'receipts_max_members',
      ctx.limits.receiptsMaxMembers,
      `chat ${chatId} has ${chat.member_count} members: read receipts are shown for chats of at most ` +
        `${ctx.limits.receiptsMaxMembers}`,
    );
  }
  const message = await findMessage(ctx.db, chatId, seq);
  if (!message) {
    throw notFound(`message ${seq} not found in chat ${chatId}`);
  }
  const rows = await readersOf(ctx.db, chatId, seq, message.author_id, after, limit + 1);
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    data: kept.map((row) => ({
      userId: row.user_id,
      lastReadSeq: row.last_read_seq,
      lastReadAt: row.last_read_at ? row.last_read_at.toISOString() : null,
    })),
    nextCursor: rows.length > limit && last ? encodeCursor([last.user_id]) : null,
  };
}
