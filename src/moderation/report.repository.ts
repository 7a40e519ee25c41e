import type { ExpressionBuilder } from 'kysely';
import { pastTimeKey } from '../db/sql/keyset.ts';
import type { Database, Db } from '../db/database.ts';
import type { MessageReportRow, ReportAction, ReportStatus } from './moderation.table.ts';

/** A report with its message's text as it is now (null once the message is deleted). */
export type ReportWithText = MessageReportRow & { message_text: string | null };

/** The reported message's current text, for the administrator who reads the report. */
function messageText(eb: ExpressionBuilder<Database, 'message_reports'>) {
  return eb
    .selectFrom('messages as m')
    .select('m.text')
    .whereRef('m.chat_id', '=', 'message_reports.chat_id')
    .whereRef('m.seq', '=', 'message_reports.seq')
    .as('message_text');
}

/** Reports of messages: one per member and message (a unique key), resolved once (a single conditional update). */

/** The new report, or undefined when the member had reported the message already. */
export async function insertReport(
  db: Db,
  report: {
    id: string;
    tenantId: string;
    chatId: string;
    seq: number;
    reporterId: string;
    authorId: string;
    reason: string;
  },
): Promise<MessageReportRow | undefined> {
  return db
    .insertInto('message_reports')
    .values({
      id: report.id,
      tenant_id: report.tenantId,
      chat_id: report.chatId,
      seq: report.seq,
      reporter_id: report.reporterId,
      author_id: report.authorId,
      reason: report.reason,
    })
    .onConflict((oc) => oc.columns(['chat_id', 'seq', 'reporter_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findReport(db: Db, tenantId: string, id: string): Promise<ReportWithText | undefined> {
  return db
    .selectFrom('message_reports')
    .selectAll()
    .select(messageText)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/**
 * Every report of one message, locked in id order: two moderators resolving reports of the same message queue here
 * (one after the other, never deadlocked), and the second sees what the first did.
 */
export async function lockReportsOf(db: Db, chatId: string, seq: number): Promise<MessageReportRow[]> {
  return db
    .selectFrom('message_reports')
    .selectAll()
    .where('chat_id', '=', chatId)
    .where('seq', '=', seq)
    .orderBy('id')
    .forUpdate()
    .execute();
}

export async function markResolved(
  db: Db,
  ids: string[],
  action: ReportAction,
  resolvedBy: string,
): Promise<MessageReportRow[]> {
  return db
    .updateTable('message_reports')
    .set({ status: 'resolved', action, resolved_by: resolvedBy, resolved_at: new Date() })
    .where('id', 'in', ids)
    .returningAll()
    .execute();
}

/** Oldest first (a queue); by status and chat. */
export async function listReports(
  db: Db,
  tenantId: string,
  page: { status?: ReportStatus; chatId?: string; after?: [string, string]; limit: number },
): Promise<ReportWithText[]> {
  let query = db
    .selectFrom('message_reports')
    .selectAll()
    .select(messageText)
    .where('tenant_id', '=', tenantId);
  if (page.status !== undefined) {
    query = query.where('status', '=', page.status);
  }
  if (page.chatId !== undefined) {
    query = query.where('chat_id', '=', page.chatId);
  }
  if (page.after) {
    query = query.where(pastTimeKey('created_at', 'id', page.after, 'asc'));
  }
  return query.orderBy('created_at').orderBy('id').limit(page.limit).execute();
}
