import type { Actor } from '../auth/actor.ts';
import type { Context } from '../context.ts';
import type { Db } from '../db/database.ts';
import type { ChatRow } from './chat.table.ts';
import { conflict, forbidden, invalid } from '../errors/codes.ts';
import { uniqueViolation } from '../errors/database.ts';
import { newId } from '../ids.ts';
import { Memo } from '../memo.ts';
import type { MemberRole } from '../members/member.table.ts';
import { allPages, DEFAULT_LIMIT, decodeCursor, pageOf, type Page } from '../pagination.ts';

import { findTenant } from '../tenants/tenant.access.ts';
import { existingUserIds, isBlocked } from '../users/user.access.ts';
import { chatNotFound, requireJoinable, requireMember, requireRole } from './chat.access.ts';
import { countChatsForUser, listSubscriptions } from './membership.repository.ts';
import { requireChatRoom, requireMemberRoom } from './chat.limits.ts';
import { presentChat } from './chat.presenter.ts';
import {
  findChat,
  findChatByNumber,
  findChatForUser,
  findChatForUserByNumber,
  findDirectChat,
  insertChat,
  listChatsForUser,
  listChatsForUserByNumber,
  listPublicGroups as listPublicGroupRows,
  softDeleteChat,
  updateChat as updateChatRow,
} from './chat.repository.ts';
import type { ChatView, CreateChatBody, ListChatsQuery, UpdateChatBody } from './chat.schema.ts';
import type { Envelope } from '../events.ts';
import { chatEvent } from './chat.events.ts';

export interface CreatedChat {
  chat: ChatView;
  /** False when a direct chat between the two users already existed. */
  created: boolean;
}

/** The chat as a member with no history sees it: what a newly created or just-updated chat looks like. */
async function viewFor(db: Db, actor: Actor, chatId: string): Promise<ChatView> {
  const entry = await findChatForUser(db, actor.tenantId, chatId, actor.userId);
  if (!entry) {
    throw chatNotFound(chatId);
  }
  return presentChat(entry);
}

/** Group names are unique per tenant (case-insensitively) unless the tenant's settings turn that off. */
async function nameKeyFor(db: Db, tenantId: string, name: string): Promise<string | null> {
  const tenant = await findTenant(db, tenantId);
  return tenant?.settings.uniqueGroupNames === false ? null : name.trim().toLowerCase();
}

function directKey(a: string, b: string): string {
  return JSON.stringify([a, b].sort());
}

async function requireUsersExist(db: Db, tenantId: string, ids: string[]): Promise<void> {
  const existing = await existingUserIds(db, tenantId, ids);
  const index = ids.findIndex((id) => !existing.has(id));
  if (index >= 0) {
    throw invalid(`members[${index}]: no user with id "${ids[index]}" in this tenant`);
  }
}

/** Every process learns who is in the new chat from the event itself: it has never heard of the chat before. */
function publishCreated(ctx: Context, actor: Actor, chat: ChatView, memberIds: string[]): void {
  ctx.events.publish(chatEvent('chat.created', actor.tenantId, { chatId: chat.id }, { chat }, { memberIds }));
}

async function createDirect(ctx: Context, actor: Actor, body: CreateChatBody): Promise<CreatedChat> {
  for (const field of ['name', 'topic', 'visibility'] as const) {
    if (body[field] !== undefined) {
      throw invalid(`${field}: a direct chat has no ${field}`);
    }
  }
  const others = [...new Set(body.members ?? [])].filter((id) => id !== actor.userId);
  if (others.length !== 1 || (body.members ?? []).length !== 1) {
    throw invalid('members: a direct chat takes exactly one other user id');
  }
  const other = others[0] as string;
  await requireUsersExist(ctx.db, actor.tenantId, [other]);
  const key = directKey(actor.userId, other);
  const existing = await findDirectChat(ctx.db, actor.tenantId, key);
  if (existing) {
    return { chat: await viewFor(ctx.db, actor, existing.id), created: false };
  }
  if (await isBlocked(ctx.db, actor.tenantId, other, actor.userId)) {
    // Says no more than that: a blocked user is not told they are blocked (docs/moderation.md).
    throw forbidden('members: you cannot open a direct chat with this user');
  }
  try {
    const chat = await ctx.db.transaction().execute(async (trx) => {
      await requireChatRoom(trx, ctx.limits, actor, [actor.userId, other]);
      await requireJoinable(trx, actor, [actor.userId, other], 'members');
      const row = await insertChat(
        trx,
        {
          id: newId(),
          tenantId: actor.tenantId,
          kind: 'direct',
          name: null,
          nameKey: null,
          topic: null,
          visibility: 'private',
          directKey: key,
          createdBy: actor.userId,
          memberCount: 2,
        },
        [
          { userId: actor.userId, role: 'member' },
          { userId: other, role: 'member' },
        ],
      );
      return newChatView(row, 'member');
    });
    publishCreated(ctx, actor, chat, [actor.userId, other]);
    return { chat, created: true };
  } catch (error) {
    if (uniqueViolation(error) === 'chats_direct_key') {
      // Both users opened the chat at once: the other request won, and its chat is the one.
      const winner = await findDirectChat(ctx.db, actor.tenantId, key);
      if (winner) {
        return { chat: await viewFor(ctx.db, actor, winner.id), created: false };
      }
    }
    throw error;
  }
}

/**
 * A group chat. Its creator joins it as its owner, unless `hosted`: then a tenant administrator opens it on no
 * member's behalf, the users listed are its members and the first of them its owner (none: it starts empty).
 */
async function createGroup(
  ctx: Context,
  actor: Actor,
  body: CreateChatBody,
  hosted: boolean,
): Promise<CreatedChat> {
  const name = body.name?.trim();
  if (!name) {
    throw invalid('name: is required for a group chat');
  }
  const memberIds = [...new Set(body.members ?? [])].filter((id) => hosted || id !== actor.userId);
  // Checked as sent (the creator exists), so an error names the index in the request.
  await requireUsersExist(ctx.db, actor.tenantId, body.members ?? []);
  const userIds = hosted ? memberIds : [actor.userId, ...memberIds];
  const members = userIds.map((userId, index) => ({
    userId,
    role: (index === 0 ? 'owner' : 'member') as MemberRole,
  }));
  requireMemberRoom(ctx.limits, 0, members.length);
  try {
    const chat = await ctx.db.transaction().execute(async (trx) => {
      await requireChatRoom(trx, ctx.limits, actor, userIds);
      await requireJoinable(trx, actor, userIds, 'members');
      const row = await insertChat(
        trx,
        {
          id: newId(),
          tenantId: actor.tenantId,
          kind: 'group',
          name,
          nameKey: await nameKeyFor(trx, actor.tenantId, name),
          topic: body.topic ?? null,
          visibility: body.visibility ?? 'private',
          directKey: null,
          createdBy: actor.userId,
          memberCount: members.length,
        },
        members,
      );
      return hosted ? outsiderView(row) : newChatView(row, 'owner');
    });
    publishCreated(ctx, actor, chat, userIds);
    return { chat, created: true };
  } catch (error) {
    if (uniqueViolation(error) === 'chats_name_key') {
      throw conflict(`name: a group named "${name}" already exists`);
    }
    throw error;
  }
}

export async function createChat(ctx: Context, actor: Actor, body: CreateChatBody): Promise<CreatedChat> {
  return body.kind === 'direct' ? createDirect(ctx, actor, body) : createGroup(ctx, actor, body, false);
}

/**
 * A group a tenant administrator opens on no member's behalf, for dialects whose rooms have no creator (DRF): the
 * users listed are its members, the first of them its owner; with none it starts empty, and its first joiner owns
 * it (`addMember`). Like any group, it is deleted when its last member leaves.
 */
export async function createHostedGroup(
  ctx: Context,
  actor: Actor,
  body: Omit<CreateChatBody, 'kind'>,
): Promise<CreatedChat> {
  if (!actor.isAdmin) {
    throw forbidden("only a tenant administrator may open a group on no member's behalf");
  }
  return createGroup(ctx, actor, { ...body, kind: 'group' }, true);
}

export async function listChats(ctx: Context, actor: Actor, query: ListChatsQuery): Promise<Page<ChatView>> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const before = query.cursor
    ? (decodeCursor(query.cursor, ['number', 'string']) as [number, string])
    : undefined;
  const rows = await listChatsForUser(ctx.db, actor.tenantId, actor.userId, {
    ...(before ? { before } : {}),
    limit: limit + 1,
    archived: query.archived ?? false,
    includeHidden: query.includeHidden ?? false,
  });
  return pageOf(rows, limit, presentChat, (row) => [row.activityUs, row.chat.id]);
}

/** A chat by its per-tenant number, as the caller (a member) sees it; 404 otherwise. */
export async function getChatByNumber(ctx: Context, actor: Actor, number: number): Promise<ChatView> {
  const entry = await findChatForUserByNumber(ctx.db, actor.tenantId, number, actor.userId);
  if (!entry) {
    throw chatNotFound(`number ${number}`);
  }
  return presentChat(entry);
}

/**
 * The caller's chats in number order, by offset or after a number (keyset): for dialects whose lists page by number.
 */
export async function listChatsByNumber(
  ctx: Context,
  actor: Actor,
  page: { offset: number; limit: number; afterNumber?: number },
): Promise<ChatView[]> {
  return (await listChatsForUserByNumber(ctx.db, actor.tenantId, actor.userId, page)).map(presentChat);
}

/** How many live chats the caller belongs to (exact). */
export async function countChats(ctx: Context, actor: Actor): Promise<number> {
  return countChatsForUser(ctx.db, actor.tenantId, actor.userId);
}

export async function getChat(ctx: Context, actor: Actor, chatId: string): Promise<ChatView> {
  return viewFor(ctx.db, actor, chatId);
}

export async function updateChat(
  ctx: Context,
  actor: Actor,
  chatId: string,
  body: UpdateChatBody,
): Promise<ChatView> {
  const name = body.name?.trim();
  if (body.name !== undefined && !name) {
    throw invalid('name: must not be blank');
  }
  try {
    const chat = await ctx.db.transaction().execute(async (trx) => {
      const membership = await requireMember(trx, actor, chatId, { lock: true });
      // Before the role check: both members of a direct chat are plain members, and the answer is 400, not 403.
      if (membership.chat.kind === 'direct') {
        throw invalid('a direct chat has no name, topic or visibility to change');
      }
      requireRole(membership, 'admin', 'change the chat');
      await updateChatRow(trx, chatId, {
        ...(name !== undefined ? { name, nameKey: await nameKeyFor(trx, actor.tenantId, name) } : {}),
        ...(body.topic !== undefined ? { topic: body.topic } : {}),
        ...(body.visibility !== undefined ? { visibility: body.visibility } : {}),
      });
      return viewFor(trx, actor, chatId);
    });
    ctx.events.publish(chatEvent('chat.updated', actor.tenantId, { chatId }, { chat }));
    return chat;
  } catch (error) {
    if (uniqueViolation(error) === 'chats_name_key') {
      throw conflict(`name: a group named "${name}" already exists`);
    }
    throw error;
  }
}

export async function deleteChat(ctx: Context, actor: Actor, chatId: string): Promise<void> {
  const events: Envelope[] = [];
  await ctx.db.transaction().execute(async (trx) => {
    const membership = await requireMember(trx, actor, chatId, { lock: true });
    if (membership.chat.kind === 'direct') {
      throw forbidden('a direct chat cannot be deleted');
    }
    requireRole(membership, 'owner', 'delete the chat');
    const chat = await viewFor(trx, actor, chatId);
    await softDeleteChat(trx, chatId);
    events.push(chatEvent('chat.deleted', actor.tenantId, { chatId }, { chat }));
  });
  for (const e of events) {
    ctx.events.publish(e);
  }
}

/** A chat as someone outside it sees it: no role, no read cursor, no last message. */
/**
 * A chat just created, as its creator sees it: nothing sent or read yet, the default settings. Made from the row
 * the insert returned rather than read again, so that the creation holds the tenant's counter for one statement.
 */
function newChatView(row: ChatRow, role: MemberRole): ChatView {
  return presentChat({ chat: row, role, lastReadSeq: 0, unreadCount: 0, lastMessage: null });
}

function outsiderView(row: ChatRow): ChatView {
  return presentChat({ chat: row, role: null, lastReadSeq: 0, unreadCount: 0 });
}

/**
 * A live chat of the tenant by id or by number, whoever asks, or null. For dialects without an acting member
 * (Avito, DRF), which address chats directly; never reachable through /v1, where a chat is visible to its members.
 */
export async function findTenantChat(
  ctx: Context,
  tenantId: string,
  key: { id: string } | { number: number },
): Promise<ChatView | null> {
  const row =
    'id' in key
      ? await findChat(ctx.db, tenantId, key.id)
      : await findChatByNumber(ctx.db, tenantId, key.number);
  return row ? outsiderView(row) : null;
}

/** The tenant's public groups, by number: the rooms anyone may join (dialects). */
export async function listPublicGroups(ctx: Context, tenantId: string): Promise<ChatView[]> {
  return (await listPublicGroupRows(ctx.db, tenantId)).map(outsiderView);
}

/** Every chat of the caller, most recent activity first, unpaged: for dialects whose lists have no pages. */
export async function listAllChats(ctx: Context, actor: Actor): Promise<ChatView[]> {
  return allPages((page) => listChats(ctx, actor, page));
}

/** The live chats of a stream's user, each with its last seq now: what a new stream subscribes to. */
export async function streamSubscriptions(
  ctx: Context,
  actor: Actor,
): Promise<{ chatId: string; lastSeq: number; lastRev: number }[]> {
  const rows = await listSubscriptions(ctx.db, actor.tenantId, actor.userId);
  return rows.map((row) => ({ chatId: row.chat_id, lastSeq: row.last_seq, lastRev: row.change_seq }));
}

/** The chat as one member sees it (role, unread count), or null when they are not a member: a stream's chat frames. */
export async function chatViewFor(
  ctx: Context,
  tenantId: string,
  chatId: string,
  userId: string,
): Promise<ChatView | null> {
  const entry = await findChatForUser(ctx.db, tenantId, chatId, userId);
  return entry ? presentChat(entry) : null;
}

/** A chat's id and its number in its tenant never change, nor is a number used again. */
const chatIds = new Memo<string>();

/**
 * The id of the chat numbered `number` in the tenant, remembered once read, or null when the tenant has no live chat
 * with that number: for dialects that address chats by number on a hot path. The chat may have been deleted since it
 * was remembered: what is done with the id checks that the chat is live (a send, a member's read).
 */
export async function chatIdByNumber(ctx: Context, tenantId: string, number: number): Promise<string | null> {
  const id = await chatIds.get(ctx.db, `${tenantId}:${number}`, async () => {
    return (await findChatByNumber(ctx.db, tenantId, number))?.id;
  });
  return id ?? null;
}
