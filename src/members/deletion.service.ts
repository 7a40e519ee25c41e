import type { Actor } from '../auth/actor.ts';
import { addToMemberCount, lockChats, softDeleteChat } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import type { Db } from '../db/database.ts';
import { forbidden, notFound } from '../errors/codes.ts';
import type { Envelope } from '../events.ts';
import { clearPresence, lockUsers, tombstoneUser } from '../users/user.access.ts';
import { userEvent } from '../users/user.events.ts';
import { memberEvent } from './member.events.ts';
import type { MemberRole } from './member.table.ts';
import {
  countOwners,
  deleteMember,
  findSuccessor,
  listMembershipsOfUser,
  updateRole,
} from './member.repository.ts';

/**
 * Deleting a user (docs/users.md, "Deletion"). It lives here, with the members, because what it undoes most is
 * membership; the user row itself is the users feature's (`tombstoneUser`).
 *
 * - The row stays as a tombstone: `deleted_at` set, username, display name and status text erased. The id stays,
 *   because the user's messages keep it as their author: others' history has no holes, seqs stay gapless, and
 *   unread counts (which never counted the user's cursor) stay exact. Message texts are kept.
 * - Every membership is removed as a leave would remove it: `member.removed` to the chat and to the user, the longest
 *   standing admin (else member) inherits a group whose last owner this was, a chat left empty is deleted. A direct
 *   chat keeps its other member, who can still read it. The read cursors go with the memberships.
 * - Presence rows are cleared; `user.deleted` goes to the tenant, and every process closes the user's streams (4001)
 *   and forgets the user, so their tokens are refused from then on.
 *
 * Concurrency. The chats the user is in are locked first, in id order (as sends lock them), then the user's lock
 * (`lockUsers`, which every path that adds a membership takes before checking the user is live: `requireJoinable`).
 * A send judged after the deletion finds no membership, so nothing from the user is written after it; a membership
 * added concurrently either commits first, and is seen here, or is refused. A chat joined between reading the
 * memberships and taking the user's lock is not locked yet: the attempt starts over rather than lock it out of order.
 */
export async function deleteUser(ctx: Context, actor: Actor, userId: string): Promise<void> {
  if (userId !== actor.userId && !actor.isAdmin) {
    throw forbidden('only the user themself or a tenant administrator may delete a user');
  }
  const events: Envelope[] = [];
  for (let attempt = 1; ; attempt++) {
    events.length = 0;
    try {
      await ctx.db
        .transaction()
        .execute(async (trx) => removeUser(trx, actor.tenantId, userId, events, attempt >= MAX_ATTEMPTS));
      break;
    } catch (error) {
      if (!(error instanceof StartOver)) {
        throw error;
      }
    }
  }
  // This process refuses the user's tokens from now on; the others once they hear `user.deleted`.
  ctx.knownUsers?.forget(actor.tenantId, userId);
  for (const e of events) {
    ctx.events.publish(e);
  }
  ctx.events.publish(userEvent('user.deleted', actor.tenantId, { tenant: true }, { userId }));
}

/** The caller deletes themself (`DELETE /v1/me`). */
export async function deleteMe(ctx: Context, actor: Actor): Promise<void> {
  await deleteUser(ctx, actor, actor.userId);
}

/** After this many attempts that met a chat joined meanwhile, the last one locks such chats out of order. */
const MAX_ATTEMPTS = 5;

/** One attempt, in one transaction; `StartOver` when it must start over (see `deleteUser`). */
async function removeUser(
  trx: Db,
  tenantId: string,
  userId: string,
  events: Envelope[],
  lastAttempt: boolean,
): Promise<void> {
  const before = await listMembershipsOfUser(trx, tenantId, userId);
  const locked = new Set(
    (
      await lockChats(
        trx,
        tenantId,
        before.map((m) => m.chat_id),
      )
    ).map((c) => c.id),
  );
  await lockUsers(trx, tenantId, [userId]);
  if (!(await tombstoneUser(trx, tenantId, userId))) {
    throw notFound(`user ${userId} not found`);
  }
  const memberships = await listMembershipsOfUser(trx, tenantId, userId);
  const late = memberships.filter((m) => !locked.has(m.chat_id)).map((m) => m.chat_id);
  if (late.length > 0) {
    const live = await lockChats(trx, tenantId, late);
    if (live.length > 0 && !lastAttempt) {
      // Rolls back, tombstone included; `deleteUser` tries again with these chats among the first locked.
      throw new StartOver();
    }
    for (const chat of live) {
      locked.add(chat.id);
    }
  }
  for (const membership of memberships) {
    await deleteMember(trx, membership.chat_id, userId);
    // A chat deleted before (by its owner) keeps its member rows: the user's goes, and nobody is told.
    if (!locked.has(membership.chat_id)) {
      continue;
    }
    await leave(trx, tenantId, membership.chat_id, userId, membership.role, events);
  }
  await clearPresence(trx, tenantId, userId);
}

/** What a leave does after the member row is gone: the count, the events, an empty group, a new owner. */
async function leave(
  trx: Db,
  tenantId: string,
  chatId: string,
  userId: string,
  role: MemberRole,
  events: Envelope[],
): Promise<void> {
  const chat = await addToMemberCount(trx, chatId, -1);
  events.push(memberEvent('member.removed', tenantId, { chatId }, { chatId, userId }));
  events.push(memberEvent('member.removed', tenantId, { userId }, { chatId, userId }));
  if (chat.member_count === 0) {
    await softDeleteChat(trx, chatId);
    return;
  }
  if (chat.kind === 'direct') {
    return;
  }
  if (role === 'owner' && (await countOwners(trx, chatId)) === 0) {
    const successor = await findSuccessor(trx, chatId);
    if (successor) {
      await updateRole(trx, chatId, successor.user_id, 'owner');
    }
  }
}

class StartOver extends Error {}
