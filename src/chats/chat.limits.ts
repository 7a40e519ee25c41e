import type { Actor } from '../auth/actor.ts';
import type { Limits } from '../context.ts';
import type { Db } from '../db/database.ts';
import { limitExceeded } from '../errors/codes.ts';
import { lockUsers } from '../users/user.access.ts';
import { countChatsOfUsers, countMembershipsOfUsers } from './membership.repository.ts';

/**
 * A chat of `memberCount` members may take `adding` more: at most `limits.chatMembers` in all. Exact under
 * concurrency when `memberCount` was read under the chat's row lock (a new chat has no one to race with).
 */
export function requireMemberRoom(limits: Limits, memberCount: number, adding: number): void {
  const max = limits.chatMembers;
  if (memberCount + adding > max) {
    throw limitExceeded(
      'members_per_chat',
      max,
      `a chat has at most ${max} members, and this one would have ${memberCount + adding}`,
    );
  }
}

/**
 * Each of `userIds` may be in one more chat: each is in fewer than `limits.chatsPerUser`. Takes the users' locks
 * first and holds them to the end of the transaction, so concurrent creations and joins of one user are counted one
 * after the other and the limit holds exactly. The error names the first user over it, the caller as "you".
 */
export async function requireChatRoom(
  trx: Db,
  limits: Limits,
  actor: Actor,
  userIds: string[],
): Promise<void> {
  const max = limits.chatsPerUser;
  if (!Number.isFinite(max) || userIds.length === 0) {
    return;
  }
  await lockUsers(trx, actor.tenantId, userIds);
  // Memberships first, from their index alone: fewer than the limit, and the live chats are too. Only a user at or
  // over it has the chats of their memberships looked up (a deleted chat keeps its members and does not count).
  const memberships = await countMembershipsOfUsers(trx, actor.tenantId, userIds);
  const near = userIds.filter((id) => (memberships.get(id) ?? 0) >= max);
  if (near.length === 0) {
    return;
  }
  const counts = await countChatsOfUsers(trx, actor.tenantId, near);
  const full = near.find((id) => (counts.get(id) ?? 0) >= max);
  if (full === undefined) {
    return;
  }
  const who = full === actor.userId ? 'you are' : `user "${full}" is`;
  throw limitExceeded(
    'chats_per_user',
    max,
    `${who} in ${counts.get(full)} chats already; a user may be in at most ${max}`,
  );
}
