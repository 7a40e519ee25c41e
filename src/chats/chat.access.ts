import type { Actor } from '../auth/actor.ts';
import type { Db } from '../db/database.ts';
import { forbidden, invalid, notFound } from '../errors/codes.ts';
import type { MemberRole, MemberRow } from '../members/member.table.ts';
import { existingUserIds, lockUsers } from '../users/user.access.ts';
import { userDeleted } from '../users/user.service.ts';
import { bannedAmong } from './ban.repository.ts';
import { insertChange } from './change.repository.ts';
import { findChat, lockChat } from './chat.repository.ts';
import { findMember, findMembership } from './membership.repository.ts';
import type { ChatRow } from './chat.table.ts';

/**
 * What features built on chats (members) do inside their own transactions: lock chat rows, read and add
 * membership rows, keep the member count, retire a chat whose last member left. Each takes the transaction it runs
 * in; no other module outside the chats feature reaches its repositories.
 */
export { addToMemberCount, lockChat, lockChats, softDeleteChat } from './chat.repository.ts';
export { findMember, insertMembers } from './membership.repository.ts';
export { deleteBan, findBan, listBans, upsertBan } from './ban.repository.ts';

export interface Membership {
  chat: ChatRow;
  member: MemberRow;
}

/** A chat the caller cannot see answers exactly like one that does not exist. */
export const chatNotFound = (chatId: string) => notFound(`chat ${chatId} not found`);

/** The caller's membership of a live chat in its tenant, or 404. `lock` takes the chat row lock (in a transaction). */
export async function requireMember(
  db: Db,
  actor: Actor,
  chatId: string,
  options: { lock?: boolean } = {},
): Promise<Membership> {
  if (!options.lock) {
    const membership = await findMembership(db, actor.tenantId, chatId, actor.userId);
    if (!membership) {
      throw chatNotFound(chatId);
    }
    return membership;
  }
  const chat = await lockChat(db, actor.tenantId, chatId);
  if (!chat) {
    throw chatNotFound(chatId);
  }
  const member = await findMember(db, chatId, actor.userId);
  if (!member) {
    throw chatNotFound(chatId);
  }
  return { chat, member };
}

/**
 * Each of `userIds` may become a member: the user exists and is not deleted, and, joining an existing chat
 * (`chatId`), is not banned from it (docs/moderation.md). Checked under the users' locks, held to
 * the end of the transaction: a deletion takes the same lock before it marks the user deleted and removes their
 * memberships, so it either comes first (and this check refuses) or sees the membership this transaction adds.
 * Never a membership of a deleted user. The caller among them, deleted meanwhile, is a 401 like their token.
 */
export async function requireJoinable(
  db: Db,
  actor: Actor,
  userIds: string[],
  field: string,
  chatId?: string,
): Promise<void> {
  await lockUsers(db, actor.tenantId, userIds);
  const live = await existingUserIds(db, actor.tenantId, userIds);
  const missing = userIds.find((id) => !live.has(id));
  if (missing === undefined) {
    if (chatId !== undefined) {
      await requireNotBanned(db, actor, chatId, userIds, field);
    }
    return;
  }
  if (missing === actor.userId) {
    throw userDeleted(missing);
  }
  throw invalid(`${field}: no user with id "${missing}" in this tenant`);
}

/** Bans are checked under the chat's lock, which a ban takes too: a ban and an add are never both in force. */
async function requireNotBanned(
  db: Db,
  actor: Actor,
  chatId: string,
  userIds: string[],
  field: string,
): Promise<void> {
  const banned = await bannedAmong(db, chatId, userIds);
  const first = userIds.find((id) => banned.has(id));
  if (first === undefined) {
    return;
  }
  if (first === actor.userId) {
    throw forbidden('you are banned from this chat');
  }
  throw forbidden(`${field}: user "${first}" is banned from this chat; unban them first`);
}

const RANK: Record<MemberRole, number> = { member: 0, admin: 1, owner: 2 };

export function hasRole(member: MemberRow, atLeast: MemberRole): boolean {
  return RANK[member.role] >= RANK[atLeast];
}

export function requireRole(membership: Membership, atLeast: MemberRole, action: string): void {
  if (!hasRole(membership.member, atLeast)) {
    throw forbidden(`only a chat ${atLeast === 'admin' ? 'owner or admin' : atLeast} may ${action}`);
  }
}

/**
 * Records a change to a chat (anything the stream must deliver in order and replay on a resume, other than a new
 * message) inside the caller's transaction: the chat's `change_seq` advances and the change is stored in one
 * statement. Returns the event's payload with its `rev`: publish it, under the same `type`, once the transaction has
 * committed. `payload` is what clients see (JSON), without `rev`.
 */
export async function recordChange<P extends object>(
  db: Db,
  chatId: string,
  type: string,
  payload: P,
): Promise<P & { rev: number }> {
  const rev = await insertChange(db, chatId, type, payload);
  if (rev === null) {
    throw chatNotFound(chatId);
  }
  return { ...payload, rev };
}

/**
 * The caller moderates the chat (docs/moderation.md): one of its owners or admins, or a tenant administrator, in it
 * or not. Anyone else who is in it is refused (403); anyone else is not told it exists (404). `lock` takes the chat
 * row lock (in a transaction), which sends take too: a mute or ban and a send are judged one after the other.
 */
export async function requireModerator(
  db: Db,
  actor: Actor,
  chatId: string,
  options: { lock?: boolean } = {},
): Promise<{ chat: ChatRow; member: MemberRow | undefined }> {
  const chat = options.lock
    ? await lockChat(db, actor.tenantId, chatId)
    : await findChat(db, actor.tenantId, chatId);
  if (!chat) {
    throw chatNotFound(chatId);
  }
  const member = await findMember(db, chatId, actor.userId);
  if (actor.isAdmin) {
    return { chat, member };
  }
  if (!member) {
    throw chatNotFound(chatId);
  }
  requireRole({ chat, member }, 'admin', 'moderate it');
  return { chat, member };
}
