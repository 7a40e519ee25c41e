import type { Actor } from '../auth/actor.ts';
import {
  deleteBan,
  findBan,
  findMember,
  hasRole,
  listBans as listBanRows,
  requireModerator,
  upsertBan,
} from '../chats/chat.access.ts';
import type { ChatRow } from '../chats/chat.table.ts';
import type { Context } from '../context.ts';
import type { Db } from '../db/database.ts';
import { AppError, forbidden, invalid, notFound } from '../errors/codes.ts';
import type { Envelope } from '../events.ts';
import { deleteMute, findLiveMute, upsertMute } from '../members/member.access.ts';
import { evict } from '../members/removal.service.ts';
import type { MemberRow } from '../members/member.table.ts';
import { keyedPage, type Page } from '../pagination.ts';
import { existingUserIds } from '../users/user.access.ts';
import { appendLog, findLogEntry, listLog } from './log.repository.ts';
import { moderationEvent } from './moderation.events.ts';
import { presentBan, presentLogEntry, presentMute } from './moderation.presenter.ts';
import type {
  BanBody,
  BanView,
  LogEntryView,
  MuteBody,
  MuteView,
  PageQuery,
  TenantLogQuery,
} from './moderation.schema.ts';

/**
 * Mutes and bans (docs/moderation.md). A chat's owners and admins moderate it, and so do the tenant's
 * administrators; an admin acts on plain members only, an owner or a tenant administrator on anyone but
 * themselves. Each action takes the chat's row lock (as sends do), is recorded in the moderation log in the same
 * transaction, and is told on the stream once committed.
 */

const DIRECT = 'a direct chat has no moderators: block the user instead (PUT /v1/me/blocks/{userId})';

export function publishAll(ctx: Context, events: Envelope[]): void {
  for (const event of events) {
    ctx.events.publish(event);
  }
}

/** An admin may act on plain members; owners and tenant administrators on anyone. */
function requireOutranks(
  actor: Actor,
  caller: MemberRow | undefined,
  target: MemberRow | undefined,
  verb: string,
) {
  if (!target || target.role === 'member' || actor.isAdmin) {
    return;
  }
  if (!caller || !hasRole(caller, 'owner')) {
    throw forbidden(`only an owner may ${verb} an ${target.role}`);
  }
}

/** `until` as sent: a time in the future, or absent (until unmuted). */
export function muteEnd(until: string | undefined): Date | null {
  if (until === undefined) {
    return null;
  }
  const at = new Date(until);
  if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
    throw invalid('until: must be a time in the future');
  }
  return at;
}

export interface Moderation {
  actor: Actor;
  chat: ChatRow;
  reason: string | null;
  reportId?: string;
  seq?: number;
}

/** Mutes `userId` inside the caller's transaction (holding the chat's lock): recorded, and told once committed. */
export async function applyMute(
  trx: Db,
  m: Moderation,
  userId: string,
  until: Date | null,
  events: Envelope[],
): Promise<MuteView> {
  const { actor, chat } = m;
  const row = await upsertMute(trx, {
    chatId: chat.id,
    userId,
    tenantId: actor.tenantId,
    until,
    reason: m.reason,
    mutedBy: actor.userId,
  });
  await appendLog(trx, {
    tenantId: actor.tenantId,
    chatId: chat.id,
    actorId: actor.userId,
    action: 'mute',
    targetUserId: userId,
    reason: m.reason,
    until,
    ...(m.reportId !== undefined ? { reportId: m.reportId, seq: m.seq ?? null } : {}),
  });
  const view = presentMute(row);
  events.push(
    moderationEvent(
      'member.muted',
      actor.tenantId,
      { chatId: chat.id },
      { chatId: chat.id, userId, until: view.until },
    ),
  );
  return view;
}

/**
 * Bans `userId` inside the caller's transaction (holding the chat's lock): removed if a member (as a removal is:
 * `member.removed`), and kept out by `requireJoinable` until unbanned.
 */
export async function applyBan(trx: Db, m: Moderation, userId: string, events: Envelope[]): Promise<BanView> {
  const { actor, chat } = m;
  const row = await upsertBan(trx, {
    chatId: chat.id,
    userId,
    tenantId: actor.tenantId,
    reason: m.reason,
    bannedBy: actor.userId,
  });
  await appendLog(trx, {
    tenantId: actor.tenantId,
    chatId: chat.id,
    actorId: actor.userId,
    action: 'ban',
    targetUserId: userId,
    reason: m.reason,
    ...(m.reportId !== undefined ? { reportId: m.reportId, seq: m.seq ?? null } : {}),
  });
  // Told before the removal, so that the banned member's own streams still hear it.
  events.push(
    moderationEvent('member.banned', actor.tenantId, { chatId: chat.id }, { chatId: chat.id, userId }),
  );
  const target = await findMember(trx, chat.id, userId);
  if (target) {
    await evict(trx, actor.tenantId, chat.id, target, events);
  }
  return presentBan(row);
}

/** Checks common to a moderator acting on a user of a group. */
async function moderate(trx: Db, actor: Actor, chatId: string, userId: string, verb: string) {
  const { chat, member } = await requireModerator(trx, actor, chatId, { lock: true });
  if (chat.kind === 'direct') {
    throw forbidden(DIRECT);
  }
  if (userId === actor.userId) {
    throw invalid(`userId: you cannot ${verb} yourself`);
  }
  const target = await findMember(trx, chatId, userId);
  requireOutranks(actor, member, target, verb);
  return { chat, target };
}

export async function muteMember(
  ctx: Context,
  actor: Actor,
  chatId: string,
  userId: string,
  body: MuteBody,
): Promise<MuteView> {
  const until = muteEnd(body.until);
  const events: Envelope[] = [];
  const view = await ctx.db.transaction().execute(async (trx) => {
    const { chat, target } = await moderate(trx, actor, chatId, userId, 'mute');
    if (!target) {
      throw notFound(`user ${userId} is not a member of this chat`);
    }
    return applyMute(trx, { actor, chat, reason: body.reason ?? null }, userId, until, events);
  });
  publishAll(ctx, events);
  return view;
}

/** Lifts a mute in force; nothing to lift is fine too (and is not recorded). */
export async function unmuteMember(
  ctx: Context,
  actor: Actor,
  chatId: string,
  userId: string,
): Promise<void> {
  const events: Envelope[] = [];
  await ctx.db.transaction().execute(async (trx) => {
    const { chat } = await moderate(trx, actor, chatId, userId, 'unmute');
    if (!(await deleteMute(trx, chatId, userId))) {
      return;
    }
    await appendLog(trx, {
      tenantId: actor.tenantId,
      chatId: chat.id,
      actorId: actor.userId,
      action: 'unmute',
      targetUserId: userId,
    });
    events.push(moderationEvent('member.unmuted', actor.tenantId, { chatId }, { chatId, userId }));
  });
  publishAll(ctx, events);
}

/** Bans a user of the tenant, in the chat or not (a ban ahead of time keeps them from joining). */
export async function banMember(
  ctx: Context,
  actor: Actor,
  chatId: string,
  userId: string,
  body: BanBody,
): Promise<BanView> {
  const events: Envelope[] = [];
  const view = await ctx.db.transaction().execute(async (trx) => {
    const { chat, target } = await moderate(trx, actor, chatId, userId, 'ban');
    if (!target && !(await existingUserIds(trx, actor.tenantId, [userId])).has(userId)) {
      throw notFound(`user ${userId} not found`);
    }
    return applyBan(trx, { actor, chat, reason: body.reason ?? null }, userId, events);
  });
  publishAll(ctx, events);
  return view;
}

/** Lifts a ban; nothing to lift is fine too (and is not recorded). */
export async function unbanMember(ctx: Context, actor: Actor, chatId: string, userId: string): Promise<void> {
  const events: Envelope[] = [];
  await ctx.db.transaction().execute(async (trx) => {
    const { chat } = await requireModerator(trx, actor, chatId, { lock: true });
    if (!(await deleteBan(trx, chatId, userId))) {
      return;
    }
    await appendLog(trx, {
      tenantId: actor.tenantId,
      chatId: chat.id,
      actorId: actor.userId,
      action: 'unban',
      targetUserId: userId,
    });
    events.push(moderationEvent('member.unbanned', actor.tenantId, { chatId }, { chatId, userId }));
    events.push(moderationEvent('member.unbanned', actor.tenantId, { userId }, { chatId, userId }));
  });
  publishAll(ctx, events);
}

/** A member's mute in force, or 404. */
export async function getMute(ctx: Context, actor: Actor, chatId: string, userId: string): Promise<MuteView> {
  await requireModerator(ctx.db, actor, chatId);
  const row = await findLiveMute(ctx.db, chatId, userId);
  if (!row) {
    throw notFound(`user ${userId} is not muted in this chat`);
  }
  return presentMute(row);
}

/** A user's ban from the chat, or 404. */
export async function getBan(ctx: Context, actor: Actor, chatId: string, userId: string): Promise<BanView> {
  await requireModerator(ctx.db, actor, chatId);
  const row = await findBan(ctx.db, chatId, userId);
  if (!row) {
    throw notFound(`user ${userId} is not banned from this chat`);
  }
  return presentBan(row);
}

export async function listBans(
  ctx: Context,
  actor: Actor,
  chatId: string,
  query: PageQuery,
): Promise<Page<BanView>> {
  await requireModerator(ctx.db, actor, chatId);
  return keyedPage(
    query,
    ['time', 'string'],
    (page: { after?: [string, string]; limit: number }) => listBanRows(ctx.db, chatId, page),
    presentBan,
    (row) => [row.created_at.toISOString(), row.user_id],
  );
}

async function logPage(
  ctx: Context,
  tenantId: string,
  chatId: string | undefined,
  query: PageQuery,
): Promise<Page<LogEntryView>> {
  return keyedPage(
    query,
    ['time', 'string'],
    ({ after, limit }: { after?: [string, string]; limit: number }) =>
      listLog(ctx.db, tenantId, {
        ...(chatId !== undefined ? { chatId } : {}),
        ...(after ? { before: after } : {}),
        limit,
      }),
    presentLogEntry,
    (row) => [row.at.toISOString(), row.id],
  );
}

/** The chat's moderation log, newest first: for its moderators. */
export async function chatLog(
  ctx: Context,
  actor: Actor,
  chatId: string,
  query: PageQuery,
): Promise<Page<LogEntryView>> {
  await requireModerator(ctx.db, actor, chatId);
  return logPage(ctx, actor.tenantId, chatId, query);
}

/** One entry of the log: for tenant administrators, and for the moderators of its chat. */
export async function getLogEntry(ctx: Context, actor: Actor, id: string): Promise<LogEntryView> {
  const row = await findLogEntry(ctx.db, actor.tenantId, id);
  const missing = notFound(`moderation log entry ${id} not found`);
  if (!row) {
    throw missing;
  }
  if (!actor.isAdmin) {
    if (row.chat_id === null) {
      throw missing;
    }
    try {
      await requireModerator(ctx.db, actor, row.chat_id);
    } catch (error) {
      throw error instanceof AppError ? missing : error;
    }
  }
  return presentLogEntry(row);
}

/** The tenant's moderation log, newest first: for tenant administrators. */
export async function tenantLog(
  ctx: Context,
  actor: Actor,
  query: TenantLogQuery,
): Promise<Page<LogEntryView>> {
  requireTenantAdmin(actor);
  return logPage(ctx, actor.tenantId, query.chatId, query);
}

export function requireTenantAdmin(actor: Actor): void {
  if (!actor.isAdmin) {
    throw forbidden('only a tenant administrator may do this');
  }
}
