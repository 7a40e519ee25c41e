import type { Actor } from '../auth/actor.ts';
import {
  addToMemberCount,
  chatNotFound,
  findMember,
  hasRole,
  insertMembers,
  lockChat,
  requireJoinable,
  requireMember,
  requireRole,
} from '../chats/chat.access.ts';
import { requireChatRoom, requireMemberRoom } from '../chats/chat.limits.ts';
import type { ChatView } from '../chats/chat.schema.ts';
import type { Limits } from '../context.ts';
import type { Context } from '../context.ts';
import type { Db } from '../db/database.ts';
import { conflict, forbidden, invalid, notFound } from '../errors/codes.ts';
import { keyedPage, type Page } from '../pagination.ts';
import type { Envelope } from '../events.ts';
import { existingUserIds, lockUsers } from '../users/user.access.ts';
import { presentMember } from './member.presenter.ts';
import {
  countOwners,
  listMembersOfChats,
  listNamedMembers,
  listMembers as listMemberRows,
  updateRole,
} from './member.repository.ts';
import type { AddMemberBody, ListMembersQuery, MemberView, UpdateMemberBody } from './member.schema.ts';
import type { MemberRole } from './member.table.ts';
import { evict } from './removal.service.ts';
import { memberEvent } from './member.events.ts';

const DIRECT_IS_FIXED = 'a direct chat always has its two members';

function publishAll(ctx: Context, events: Envelope[]): void {
  for (const e of events) {
    ctx.events.publish(e);
  }
}

export async function listMembers(
  ctx: Context,
  actor: Actor,
  chatId: string,
  query: ListMembersQuery,
): Promise<Page<MemberView>> {
  await requireMember(ctx.db, actor, chatId);
  return keyedPage(
    query,
    ['string'],
    ({ after, limit }: { after?: [string]; limit: number }) =>
      listMemberRows(ctx.db, chatId, { ...(after ? { after: after[0] } : {}), limit }),
    presentMember,
    (row) => [row.user_id],
  );
}

/** One member of a chat the caller is in; someone not in it is a 404. */
export async function getMember(
  ctx: Context,
  actor: Actor,
  chatId: string,
  userId: string,
): Promise<MemberView> {
  await requireMember(ctx.db, actor, chatId);
  const row = await findMember(ctx.db, chatId, userId);
  if (!row) {
    throw notFound(`user ${userId} is not a member of this chat`);
  }
  return presentMember(row);
}

interface Admitted {
  view: MemberView;
  /** The chat's last seq, read under its row lock: the new member's live stream starts exactly after it. */
  seqAt: number;
  /** The chat's last change rev, read under the same lock. */
  revAt: number;
}

/**
 * Adds one user inside the caller's transaction: the rules of `addMember`. Someone already in the chat is a
 * conflict, or with `ifPresent: 'skip'` is left as they are (null). Access first, then who is added, then the
 * limits: a full chat, a user in too many chats (docs/operations.md, "Limits").
 */
async function admit(
  trx: Db,
  limits: Limits,
  actor: Actor,
  chatId: string,
  userId: string,
  role: MemberRole,
  ifPresent: 'conflict' | 'skip',
): Promise<Admitted | null> {
  const chat = await lockChat(trx, actor.tenantId, chatId);
  if (!chat) {
    throw chatNotFound(chatId);
  }
  const caller = await findMember(trx, chatId, actor.userId);
  const joiningSelf = userId === actor.userId;
  if (!caller) {
    if (!(joiningSelf && chat.kind === 'group' && chat.visibility === 'public')) {
      throw chatNotFound(chatId);
    }
    if (role !== 'member') {
      throw forbidden('role: joining a public group makes you a member; an owner can promote you');
    }
  } else {
    if (joiningSelf) {
      if (ifPresent === 'skip') {
        return null;
      }
      throw conflict(`userId: ${userId} is already a member of this chat`);
    }
    if (chat.kind === 'direct') {
      throw forbidden(DIRECT_IS_FIXED);
    }
    requireRole({ chat, member: caller }, 'admin', 'add members');
    if (role !== 'member' && !hasRole(caller, 'owner')) {
      throw forbidden(`role: only an owner may add a member as ${role}`);
    }
    const existing = await existingUserIds(trx, actor.tenantId, [userId]);
    if (!existing.has(userId)) {
      throw invalid(`userId: no user with id "${userId}" in this tenant`);
    }
    if (await findMember(trx, chatId, userId)) {
      if (ifPresent === 'skip') {
        return null;
      }
      throw conflict(`userId: ${userId} is already a member of this chat`);
    }
  }
  requireMemberRoom(limits, chat.member_count, 1);
  await requireJoinable(trx, actor, [userId], 'userId', chatId);
  await requireChatRoom(trx, limits, actor, [userId]);
  // A group opened empty (`createHostedGroup`) is owned by its first member: a chat needs an owner.
  const granted: MemberRole = chat.member_count === 0 ? 'owner' : role;
  const [row] = await insertMembers(trx, chatId, actor.tenantId, [{ userId, role: granted }]);
  await addToMemberCount(trx, chatId, 1);
  return { view: presentMember(row!), seqAt: chat.last_seq, revAt: chat.change_seq };
}

function publishAdded(ctx: Context, actor: Actor, chatId: string, added: Admitted): void {
  ctx.events.publish(
    memberEvent(
      'member.added',
      actor.tenantId,
      { chatId },
      { chatId, userId: added.view.userId },
      { seqAt: added.seqAt, revAt: added.revAt },
    ),
  );
}

/**
 * Owners and admins add members (admins only as plain members); anyone may join a public group themselves.
 * A private chat the caller is not in stays invisible: 404.
 */
export async function addMember(
  ctx: Context,
  actor: Actor,
  chatId: string,
  body: AddMemberBody,
): Promise<MemberView> {
  const added = await ctx.db.transaction().execute(async (trx) => {
    return (await admit(trx, ctx.limits, actor, chatId, body.userId, body.role ?? 'member', 'conflict'))!;
  });
  publishAdded(ctx, actor, chatId, added);
  return added.view;
}

/**
 * Adds several users as plain members, all or none, by the rules of `addMember`; those already in the chat stay
 * as they are. Returns the members added.
 */
export async function addMembers(
  ctx: Context,
  actor: Actor,
  chatId: string,
  userIds: string[],
): Promise<MemberView[]> {
  if (userIds.length === 0) {
    // Nothing to add, but still nothing to learn about a chat the caller cannot see.
    await requireMember(ctx.db, actor, chatId);
    return [];
  }
  const unique = [...new Set(userIds)];
  const added = await ctx.db.transaction().execute(async (trx) => {
    // The chat's lock, then every user's at once (admit takes them again, which costs nothing): two batches
    // adding overlapping users then take the users' locks in one order, not each in the order it was given them.
    await lockChat(trx, actor.tenantId, chatId);
    await lockUsers(trx, actor.tenantId, unique);
    const admitted: Admitted[] = [];
    for (const userId of unique) {
      const one = await admit(trx, ctx.limits, actor, chatId, userId, 'member', 'skip');
      if (one) {
        admitted.push(one);
      }
    }
    return admitted;
  });
  for (const one of added) {
    publishAdded(ctx, actor, chatId, one);
  }
  return added.map((one) => one.view);
}

export async function updateMember(
  ctx: Context,
  actor: Actor,
  chatId: string,
  userId: string,
  body: UpdateMemberBody,
): Promise<MemberView> {
  return ctx.db.transaction().execute(async (trx) => {
    const membership = await requireMember(trx, actor, chatId, { lock: true });
    if (membership.chat.kind === 'direct') {
      throw forbidden(DIRECT_IS_FIXED);
    }
    requireRole(membership, 'owner', 'change roles');
    const target = await findMember(trx, chatId, userId);
    if (!target) {
      throw notFound(`user ${userId} is not a member of this chat`);
    }
    if (target.role === 'owner' && body.role !== 'owner' && (await countOwners(trx, chatId)) === 1) {
      throw conflict('role: a chat needs an owner; make another member owner first');
    }
    return presentMember(await updateRole(trx, chatId, userId, body.role));
  });
}

/**
 * Removes one member inside the caller's transaction: the rules of `removeMember`. Someone not in the chat is a
 * 404, or with `ifAbsent: 'skip'` nothing happens.
 */
async function dismiss(
  trx: Db,
  actor: Actor,
  chatId: string,
  userId: string,
  ifAbsent: 'not_found' | 'skip',
  events: Envelope[],
): Promise<void> {
  const membership = await requireMember(trx, actor, chatId, { lock: true });
  if (membership.chat.kind === 'direct') {
    throw forbidden(DIRECT_IS_FIXED);
  }
  const leaving = userId === actor.userId;
  if (!leaving) {
    requireRole(membership, 'admin', 'remove members');
  }
  const target = leaving ? membership.member : await findMember(trx, chatId, userId);
  if (!target) {
    if (ifAbsent === 'skip') {
      return;
    }
    throw notFound(`user ${userId} is not a member of this chat`);
  }
  if (!leaving) {
    if (target.role !== 'member' && !hasRole(membership.member, 'owner')) {
      throw forbidden(`only an owner may remove an ${target.role}`);
    }
  }
  await evict(trx, actor.tenantId, chatId, target, events);
}

/**
 * Leave (self) or remove (owner; admins may remove plain members). When the last owner leaves, the longest-standing
 * admin, else member, becomes owner; when nobody is left, the chat is deleted.
 */
export async function removeMember(
  ctx: Context,
  actor: Actor,
  chatId: string,
  userId: string,
): Promise<void> {
  const events: Envelope[] = [];
  await ctx.db.transaction().execute(async (trx) => dismiss(trx, actor, chatId, userId, 'not_found', events));
  publishAll(ctx, events);
}

/**
 * Removes several members, all or none, by the rules of `removeMember`; users not in the chat are passed over.
 * The caller, if among them, leaves last, so their role still counts for the others.
 */
export async function removeMembers(
  ctx: Context,
  actor: Actor,
  chatId: string,
  userIds: string[],
): Promise<void> {
  const unique = [...new Set(userIds)];
  const ordered = [
    ...unique.filter((id) => id !== actor.userId),
    ...unique.filter((id) => id === actor.userId),
  ];
  const events: Envelope[] = [];
  await ctx.db.transaction().execute(async (trx) => {
    await requireMember(trx, actor, chatId, { lock: true });
    for (const userId of ordered) {
      await dismiss(trx, actor, chatId, userId, 'skip', events);
    }
  });
  publishAll(ctx, events);
}

/**
 * The members of several of the caller's chats at once, each chat's owners first, then by join time; chats the
 * caller is not in are left out.
 */
export async function membersOfChats(
  ctx: Context,
  actor: Actor,
  chatIds: string[],
): Promise<Map<string, MemberView[]>> {
  const byChat = new Map<string, MemberView[]>();
  for (const row of await listMembersOfChats(ctx.db, [...new Set(chatIds)], actor.userId)) {
    byChat.set(row.chat_id, [...(byChat.get(row.chat_id) ?? []), presentMember(row)]);
  }
  return byChat;
}

/** What a chat's members show of it beside themselves: what names it (a group's name, a chat's number, its kind). */
export type NamedChat = Pick<ChatView, 'id' | 'number' | 'kind' | 'name'>;

/**
 * One live chat with its members and their usernames (one read), for dialects that show both; null unless the
 * caller is in it.
 */
export async function namedMembersOf(
  ctx: Context,
  actor: Actor,
  chatId: string,
): Promise<{ chat: NamedChat; members: (MemberView & { username: string })[] } | null> {
  const rows = await listNamedMembers(ctx.db, chatId, actor.userId);
  const first = rows[0];
  if (!first) {
    return null;
  }
  return {
    chat: { id: chatId, number: first.chat_number, kind: first.chat_kind, name: first.chat_name },
    members: rows.map((row) => ({ ...presentMember(row), username: row.username })),
  };
}
