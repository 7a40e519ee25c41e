import type { Actor } from '../auth/actor.ts';
import { chatNotFound, hasRole, requireMember, requireRole } from '../chats/chat.access.ts';
import { addToMemberCount, lockChat, softDeleteChat } from '../chats/chat.repository.ts';
import type { Context } from '../context.ts';
import { conflict, forbidden, invalid, notFound } from '../errors.ts';
import { DEFAULT_LIMIT, decodeCursor, pageOf, type Page } from '../pagination.ts';
import { event, type ServerEvent } from '../realtime/events.ts';
import { existingUserIds } from '../users/user.repository.ts';
import { presentMember } from './member.presenter.ts';
import {
  countOwners,
  deleteMember,
  findMember,
  findSuccessor,
  insertMembers,
  listMembers as listMemberRows,
  updateRole,
} from './member.repository.ts';
import type { AddMemberBody, ListMembersQuery, MemberView, UpdateMemberBody } from './member.schema.ts';

const DIRECT_IS_FIXED = 'a direct chat always has its two members';

function publishAll(ctx: Context, events: ServerEvent[]): void {
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
  const limit = query.limit ?? DEFAULT_LIMIT;
  const after = query.cursor ? (decodeCursor(query.cursor, ['string'])[0] as string) : undefined;
  const rows = await listMemberRows(ctx.db, chatId, {
    ...(after !== undefined ? { after } : {}),
    limit: limit + 1,
  });
  return pageOf(rows, limit, presentMember, (row) => [row.user_id]);
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
  const role = body.role ?? 'member';
  const member = await ctx.db.transaction().execute(async (trx) => {
    const chat = await lockChat(trx, actor.tenantId, chatId);
    if (!chat) {
      throw chatNotFound(chatId);
    }
    const caller = await findMember(trx, chatId, actor.userId);
    const joiningSelf = body.userId === actor.userId;
    if (!caller) {
      if (!(joiningSelf && chat.kind === 'group' && chat.visibility === 'public')) {
        throw chatNotFound(chatId);
      }
      if (role !== 'member') {
        throw forbidden('role: joining a public group makes you a member; an owner can promote you');
      }
    } else {
      if (joiningSelf) {
        throw conflict(`userId: ${body.userId} is already a member of this chat`);
      }
      if (chat.kind === 'direct') {
        throw forbidden(DIRECT_IS_FIXED);
      }
      requireRole({ chat, member: caller }, 'admin', 'add members');
      if (role !== 'member' && !hasRole(caller, 'owner')) {
        throw forbidden(`role: only an owner may add a member as ${role}`);
      }
      const existing = await existingUserIds(trx, actor.tenantId, [body.userId]);
      if (!existing.has(body.userId)) {
        throw invalid(`userId: no user with id "${body.userId}" in this tenant`);
      }
      if (await findMember(trx, chatId, body.userId)) {
        throw conflict(`userId: ${body.userId} is already a member of this chat`);
      }
    }
    const [row] = await insertMembers(trx, chatId, actor.tenantId, [{ userId: body.userId, role }]);
    await addToMemberCount(trx, chatId, 1);
    // Read under the chat's row lock: the new member's live stream starts exactly after this seq.
    return { view: presentMember(row!), seqAt: chat.last_seq };
  });
  ctx.events.publish(
    event(
      'member.added',
      actor.tenantId,
      { chatId },
      { chatId, userId: member.view.userId },
      { seqAt: member.seqAt },
    ),
  );
  return member.view;
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
 * Leave (self) or remove (owner; admins may remove plain members). When the last owner leaves, the longest-standing
 * admin, else member, becomes owner; when nobody is left, the chat is deleted.
 */
export async function removeMember(
  ctx: Context,
  actor: Actor,
  chatId: string,
  userId: string,
): Promise<void> {
  const events: ServerEvent[] = [];
  await ctx.db.transaction().execute(async (trx) => {
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
      throw notFound(`user ${userId} is not a member of this chat`);
    }
    if (!leaving) {
      if (target.role !== 'member' && !hasRole(membership.member, 'owner')) {
        throw forbidden(`only an owner may remove an ${target.role}`);
      }
    }
    await deleteMember(trx, chatId, userId);
    const chat = await addToMemberCount(trx, chatId, -1);
    events.push(event('member.removed', actor.tenantId, { chatId }, { chatId, userId }));
    events.push(event('member.removed', actor.tenantId, { userId }, { chatId, userId }));
    if (chat.member_count === 0) {
      await softDeleteChat(trx, chatId);
      return;
    }
    if (target.role === 'owner' && (await countOwners(trx, chatId)) === 0) {
      const successor = await findSuccessor(trx, chatId);
      if (successor) {
        await updateRole(trx, chatId, successor.user_id, 'owner');
      }
    }
  });
  publishAll(ctx, events);
}
