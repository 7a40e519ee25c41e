import { pastTimeKey } from '../db/sql/keyset.ts';
import type { Db } from '../db/database.ts';
import { newId } from '../ids.ts';
import type { ModerationAction, ModerationLogRow } from './moderation.table.ts';

/** The moderation log: one row per action, written in the transaction of the action itself. */

export interface LogInput {
  tenantId: string;
  chatId: string | null;
  actorId: string;
  action: ModerationAction;
  targetUserId?: string | null;
  seq?: number | null;
  reportId?: string | null;
  reason?: string | null;
  until?: Date | null;
}

export async function appendLog(db: Db, entry: LogInput): Promise<void> {
  await db
    .insertInto('moderation_log')
    .values({
      id: newId(),
      tenant_id: entry.tenantId,
      chat_id: entry.chatId,
      actor_id: entry.actorId,
      action: entry.action,
      target_user_id: entry.targetUserId ?? null,
      seq: entry.seq ?? null,
      report_id: entry.reportId ?? null,
      reason: entry.reason ?? null,
      until: entry.until ?? null,
    })
    .execute();
}

/** Newest first; `chatId` narrows to one chat. */
export async function listLog(
  db: Db,
  tenantId: string,
  page: { chatId?: string; before?: [string, string]; limit: number },
): Promise<ModerationLogRow[]> {
  let query = db.selectFrom('moderation_log').selectAll().where('tenant_id', '=', tenantId);
  if (page.chatId !== undefined) {
    query = query.where('chat_id', '=', page.chatId);
  }
  if (page.before) {
    query = query.where(pastTimeKey('at', 'id', page.before, 'desc'));
  }
  return query.orderBy('at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

export async function findLogEntry(
  db: Db,
  tenantId: string,
  id: string,
): Promise<ModerationLogRow | undefined> {
  return db
    .selectFrom('moderation_log')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
}
