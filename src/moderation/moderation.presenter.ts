import type { ChatBanRow } from '../chats/ban.table.ts';
import type { ChatMuteRow } from '../members/mute.table.ts';
import type { BanView, LogEntryView, MuteView, ReportView } from './moderation.schema.ts';
import type { MessageReportRow, ModerationLogRow } from './moderation.table.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function presentMute(row: ChatMuteRow): MuteView {
  return {
    chatId: row.chat_id,
    userId: row.user_id,
    until: iso(row.until),
    reason: row.reason,
    mutedBy: row.muted_by,
    createdAt: row.created_at.toISOString(),
  };
}

export function presentBan(row: ChatBanRow): BanView {
  return {
    chatId: row.chat_id,
    userId: row.user_id,
    reason: row.reason,
    bannedBy: row.banned_by,
    createdAt: row.created_at.toISOString(),
  };
}

export function presentReport(row: MessageReportRow & { message_text: string | null }): ReportView {
  return {
    id: row.id,
    chatId: row.chat_id,
    seq: Number(row.seq),
    reporterId: row.reporter_id,
    authorId: row.author_id,
    reason: row.reason,
    text: row.message_text,
    status: row.status,
    action: row.action,
    resolvedBy: row.resolved_by,
    resolvedAt: iso(row.resolved_at),
    createdAt: row.created_at.toISOString(),
  };
}

export function presentLogEntry(row: ModerationLogRow): LogEntryView {
  return {
    id: row.id,
    chatId: row.chat_id,
    actorId: row.actor_id,
    action: row.action,
    targetUserId: row.target_user_id,
    seq: row.seq === null ? null : Number(row.seq),
    reportId: row.report_id,
    reason: row.reason,
    until: iso(row.until),
    at: row.at.toISOString(),
  };
}
