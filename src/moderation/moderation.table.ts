import type { Generated, Selectable } from 'kysely';

export type ReportStatus = 'open' | 'resolved';
export type ReportAction = 'delete_message' | 'mute_author' | 'ban_author' | 'dismiss';

/** A member's report of a message (migration 0018): one per member and message. */
export interface MessageReportTable {
  id: string;
  tenant_id: string;
  chat_id: string;
  seq: number;
  reporter_id: string;
  author_id: string;
  reason: string;
  status: Generated<ReportStatus>;
  action: ReportAction | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  created_at: Generated<Date>;
}

export type ModerationAction =
  'mute' | 'unmute' | 'ban' | 'unban' | 'report' | 'delete_message' | 'dismiss_report';

/** One moderation action (migration 0018): who did what to whom, when and why. */
export interface ModerationLogTable {
  id: string;
  tenant_id: string;
  chat_id: string | null;
  actor_id: string;
  action: ModerationAction;
  target_user_id: string | null;
  seq: number | null;
  report_id: string | null;
  reason: string | null;
  until: Date | null;
  at: Generated<Date>;
}

export type MessageReportRow = Selectable<MessageReportTable>;
export type ModerationLogRow = Selectable<ModerationLogTable>;
