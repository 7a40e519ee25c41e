import type { Actor } from '../auth/actor.ts';
import { lockChat } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import type { Db } from '../db/database.ts';
import { conflict, forbidden, invalid, notFound } from '../errors/codes.ts';
import type { Envelope } from '../events.ts';
import { newId } from '../ids.ts';
import { deleteMessageIn, getMessage } from '../messages/message.service.ts';
import { keyedPage, type Page } from '../pagination.ts';
import { appendLog } from './log.repository.ts';
import { moderationEvent } from './moderation.events.ts';
import { presentReport } from './moderation.presenter.ts';
import type { ListReportsQuery, ReportBody, ReportView, ResolveReportBody } from './moderation.schema.ts';
import {
  applyBan,
  applyMute,
  muteEnd,
  publishAll,
  requireTenantAdmin,
  type Moderation,
} from './moderation.service.ts';
import {
  findReport,
  insertReport,
  listReports as listReportRows,
  lockReportsOf,
  markResolved,
  type ReportWithText,
} from './report.repository.ts';

/**
 * Reports of messages (docs/moderation.md): a member reports a message of a chat they are in, once; the tenant's
 * administrators list the reports and resolve each with an action, which resolves every open report of that
 * message at once. Reporting and resolving are recorded in the moderation log.
 */

export async function reportMessage(
  ctx: Context,
  actor: Actor,
  chatId: string,
  seq: number,
  body: ReportBody,
): Promise<ReportView> {
  const reason = body.reason.trim();
  if (reason === '') {
    throw invalid('reason: must not be blank');
  }
  const message = await getMessage(ctx, actor, chatId, seq);
  if (message.authorId === actor.userId) {
    throw invalid('you cannot report your own message');
  }
  if (message.deletedAt !== null) {
    throw conflict(`message ${seq} is deleted`);
  }
  return ctx.db.transaction().execute(async (trx) => {
    const row = await insertReport(trx, {
      id: newId(),
      tenantId: actor.tenantId,
      chatId,
      seq,
      reporterId: actor.userId,
      authorId: message.authorId,
      reason,
    });
    if (!row) {
      throw conflict(`you reported message ${seq} already`);
    }
    await appendLog(trx, {
      tenantId: actor.tenantId,
      chatId,
      actorId: actor.userId,
      action: 'report',
      targetUserId: message.authorId,
      seq,
      reportId: row.id,
      reason,
    });
    return presentReport({ ...row, message_text: message.text });
  });
}

export async function listReports(
  ctx: Context,
  actor: Actor,
  query: ListReportsQuery,
): Promise<Page<ReportView>> {
  requireTenantAdmin(actor);
  return keyedPage(
    query,
    ['time', 'string'],
    (page: { after?: [string, string]; limit: number }) =>
      listReportRows(ctx.db, actor.tenantId, {
        ...(query.status !== undefined ? { status: query.status } : {}),
        ...(query.chatId !== undefined ? { chatId: query.chatId } : {}),
        ...page,
      }),
    presentReport,
    (row) => [row.created_at.toISOString(), row.id],
  );
}

async function requireReport(db: Db, actor: Actor, id: string): Promise<ReportWithText> {
  const row = await findReport(db, actor.tenantId, id);
  if (!row) {
    throw notFound(`report ${id} not found`);
  }
  return row;
}

export async function getReport(ctx: Context, actor: Actor, id: string): Promise<ReportView> {
  requireTenantAdmin(actor);
  return presentReport(await requireReport(ctx.db, actor, id));
}

/**
 * Resolves an open report with an action, and with it every open report of the same message. The reports of the
 * message are locked first (then the chat, for a mute or a ban): of two administrators resolving at once, one wins
 * and the other gets a 409.
 */
export async function resolveReport(
  ctx: Context,
  actor: Actor,
  id: string,
  body: ResolveReportBody,
): Promise<ReportView> {
  requireTenantAdmin(actor);
  if (body.until !== undefined && body.action !== 'mute_author') {
    throw invalid('until: only with the action mute_author');
  }
  const until = muteEnd(body.until);
  const reason = body.reason ?? null;
  const events: Envelope[] = [];
  const resolved = await ctx.db.transaction().execute(async (trx) => {
    const found = await requireReport(trx, actor, id);
    const locked = await lockReportsOf(trx, found.chat_id, Number(found.seq));
    const report = locked.find((row) => row.id === id) ?? found;
    if (report.status !== 'open') {
      throw conflict(`report ${id} is resolved already (${report.action ?? 'no action'})`);
    }
    const seq = Number(report.seq);
    const open = locked.filter((row) => row.status === 'open').map((row) => row.id);
    const rows = await markResolved(trx, open, body.action, actor.userId);
    const base = {
      tenantId: actor.tenantId,
      chatId: report.chat_id,
      actorId: actor.userId,
      reportId: id,
      seq,
    };
    if (body.action === 'dismiss') {
      await appendLog(trx, { ...base, action: 'dismiss_report', targetUserId: report.author_id, reason });
    } else if (body.action === 'delete_message') {
      const deleted = await deleteMessageIn(trx, actor.tenantId, report.chat_id, seq);
      if (deleted) {
        events.push(deleted);
      }
      await appendLog(trx, { ...base, action: 'delete_message', targetUserId: report.author_id, reason });
    } else {
      const chat = await lockChat(trx, actor.tenantId, report.chat_id);
      if (!chat) {
        throw conflict('the chat was deleted: the report can only be dismissed');
      }
      const m: Moderation = { actor, chat, reason, reportId: id, seq };
      if (body.action === 'mute_author') {
        await applyMute(trx, m, report.author_id, until, events);
      } else {
        if (chat.kind === 'direct') {
          throw forbidden('a direct chat always has its two members: mute the author instead');
        }
        await applyBan(trx, m, report.author_id, events);
      }
    }
    for (const row of rows) {
      events.push(
        moderationEvent(
          'report.resolved',
          actor.tenantId,
          { userId: row.reporter_id },
          { reportId: row.id, chatId: row.chat_id, seq, action: body.action },
        ),
      );
    }
    const row = rows.find((row) => row.id === id)!;
    return { ...row, message_text: body.action === 'delete_message' ? null : found.message_text };
  });
  publishAll(ctx, events);
  return presentReport(resolved);
}
