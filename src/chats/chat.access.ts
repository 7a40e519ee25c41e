import type { Actor } from '../auth/actor.ts';
import type { Db } from '../db/database.ts';
import { forbidden, notFound } from '../errors/codes.ts';
import type { MemberRole, MemberRow } from '../members/member.table.ts';
import { findMembership, lockChat } from './chat.repository.ts';
import { findMember } from './membership.repository.ts';
import type { ChatRow } from './chat.table.ts';

/**
 * What features built on chats (members) do inside their own transactions: lock a chat's row, read and add
 * membership rows, keep the member count, retire a chat whose last member left. Each takes the transaction it runs
 * in; no other module outside the chats feature reaches its repositories.
 */
export { addToMemberCount, lockChat, softDeleteChat } from './chat.repository.ts';
export { findMember, insertMembers } from './membership.repository.ts';

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

const RANK: Record<MemberRole, number> = { member: 0, admin: 1, owner: 2 };

export function hasRole(member: MemberRow, atLeast: MemberRole): boolean {
  return RANK[member.role] >= RANK[atLeast];
}

export function requireRole(membership: Membership, atLeast: MemberRole, action: string): void {
  if (!hasRole(membership.member, atLeast)) {
    throw forbidden(`only a chat ${atLeast === 'admin' ? 'owner or admin' : atLeast} may ${action}`);
  }
}
