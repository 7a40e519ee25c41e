import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import { invalid, notFound } from '../errors/codes.ts';
import { keyedPage, type Page } from '../pagination.ts';
import { deleteBlock, findBlock, insertBlock, listBlocks as listBlockRows } from './block.repository.ts';
import type { BlockView, ListBlocksQuery } from './block.schema.ts';
import type { UserBlockRow } from './block.table.ts';
import { existingUserIds } from './user.repository.ts';

/**
 * Blocks (docs/moderation.md): a user's own, private choice. The blocked user cannot open a new direct chat with the
 * blocker, and their messages into the direct chat they have are refused (the send function); neither refusal says
 * why. Nothing else changes: groups they share stay as they are.
 */

function presentBlock(row: UserBlockRow): BlockView {
  return { userId: row.blocked_id, createdAt: row.created_at.toISOString() };
}

/** Blocks a user of the tenant: `created` false when the caller already blocked them. */
export async function blockUser(
  ctx: Context,
  actor: Actor,
  userId: string,
): Promise<{ block: BlockView; created: boolean }> {
  if (userId === actor.userId) {
    throw invalid('userId: you cannot block yourself');
  }
  const live = await existingUserIds(ctx.db, actor.tenantId, [userId]);
  if (!live.has(userId)) {
    throw notFound(`user ${userId} not found`);
  }
  const { row, created } = await insertBlock(ctx.db, actor.tenantId, actor.userId, userId);
  return { block: presentBlock(row), created };
}

/** The caller's block of a user, or 404. */
export async function getBlock(ctx: Context, actor: Actor, userId: string): Promise<BlockView> {
  const row = await findBlock(ctx.db, actor.tenantId, actor.userId, userId);
  if (!row) {
    throw notFound(`you do not block user ${userId}`);
  }
  return presentBlock(row);
}

/** Lifts a block; nothing to lift is fine too. */
export async function unblockUser(ctx: Context, actor: Actor, userId: string): Promise<void> {
  await deleteBlock(ctx.db, actor.tenantId, actor.userId, userId);
}

export async function listBlocks(
  ctx: Context,
  actor: Actor,
  query: ListBlocksQuery,
): Promise<Page<BlockView>> {
  return keyedPage(
    query,
    ['string'],
    ({ after, limit }: { after?: [string]; limit: number }) =>
      listBlockRows(ctx.db, actor.tenantId, actor.userId, { ...(after ? { after: after[0] } : {}), limit }),
    presentBlock,
    (row) => [row.blocked_id],
  );
}
