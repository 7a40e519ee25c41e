import type { Context } from '../context.ts';
import { changesAfter, deleteChangesBefore, streamPosition, type ChangesAfter } from './change.repository.ts';

/**
 * A chat's change log (`chat_changes`), as the stream reads it: changes other than new messages, numbered per chat
 * by `rev`. Features record them with `recordChange` (`chat.access.ts`) inside their transactions.
 */

/** The retained changes of a chat after `after`, in rev order, and the chat's last rev now. */
export async function streamChanges(
  ctx: Context,
  chatId: string,
  after: number,
  limit: number,
): Promise<ChangesAfter> {
  return changesAfter(ctx.db, chatId, after, limit);
}

/** Where a stream joining a chat starts: its last seq and last rev now, or null when there is no such chat. */
export async function streamPositionOf(
  ctx: Context,
  chatId: string,
): Promise<{ lastSeq: number; lastRev: number } | null> {
  const row = await streamPosition(ctx.db, chatId);
  return row ? { lastSeq: row.last_seq, lastRev: row.change_seq } : null;
}

const PRUNE_BATCH = 5000;

/** Removes the changes older than `retentionDays`, a batch at a time; returns how many went. */
export async function pruneChanges(ctx: Context, retentionDays: number, now = new Date()): Promise<number> {
  const before = new Date(now.getTime() - retentionDays * 86_400_000);
  let total = 0;
  for (;;) {
    const removed = await deleteChangesBefore(ctx.db, before, PRUNE_BATCH);
    total += removed;
    if (removed < PRUNE_BATCH) {
      return total;
    }
  }
}
