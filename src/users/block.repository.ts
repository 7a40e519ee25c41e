import type { Db } from '../db/database.ts';
import type { UserBlockRow } from './block.table.ts';

/** Blocks between users: written by the blocker, read when a direct chat is opened and by the send function. */

/** Blocks; the row, and whether it is new (an existing block is left as it was). */
export async function insertBlock(
  db: Db,
  tenantId: string,
  blockerId: string,
  blockedId: string,
): Promise<{ row: UserBlockRow; created: boolean }> {
  const inserted = await db
    .insertInto('user_blocks')
    .values({ tenant_id: tenantId, blocker_id: blockerId, blocked_id: blockedId })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) {
    return { row: inserted, created: true };
  }
  const row = await db
    .selectFrom('user_blocks')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('blocker_id', '=', blockerId)
    .where('blocked_id', '=', blockedId)
    .executeTakeFirstOrThrow();
  return { row, created: false };
}

export async function deleteBlock(
  db: Db,
  tenantId: string,
  blockerId: string,
  blockedId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('user_blocks')
    .where('tenant_id', '=', tenantId)
    .where('blocker_id', '=', blockerId)
    .where('blocked_id', '=', blockedId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function findBlock(
  db: Db,
  tenantId: string,
  blockerId: string,
  blockedId: string,
): Promise<UserBlockRow | undefined> {
  return db
    .selectFrom('user_blocks')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('blocker_id', '=', blockerId)
    .where('blocked_id', '=', blockedId)
    .executeTakeFirst();
}

/** Whether `blockerId` blocks `blockedId`. */
export async function isBlocked(
  db: Db,
  tenantId: string,
  blockerId: string,
  blockedId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('user_blocks')
    .select('blocked_id')
    .where('tenant_id', '=', tenantId)
    .where('blocker_id', '=', blockerId)
    .where('blocked_id', '=', blockedId)
    .executeTakeFirst();
  return row !== undefined;
}

/** The users `blockerId` blocks, by id. */
export async function listBlocks(
  db: Db,
  tenantId: string,
  blockerId: string,
  page: { after?: string; limit: number },
): Promise<UserBlockRow[]> {
  let query = db
    .selectFrom('user_blocks')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('blocker_id', '=', blockerId);
  if (page.after !== undefined) {
    query = query.where('blocked_id', '>', page.after);
  }
  return query.orderBy('blocked_id').limit(page.limit).execute();
}
