import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import type { Filter, FilterCondition } from '../messages/message.filter.ts';
import { countRows, filterSql, orderSql } from '../db/sql/filter.ts';
import type { AttachmentFilterField, AttachmentRow } from './attachment.table.ts';
import { UNPREPARED } from '../db/statements.ts';

/** An attachment with the id of its message (null when it belongs to the chat only). */
export interface AttachmentWithMessageRow extends AttachmentRow {
  message_id: string | null;
}

const FIELDS: Record<AttachmentFilterField, RawBuilder<unknown>> = {
  id: sql`a.id`,
  chatId: sql`a.chat_id`,
  messageId: sql`m.id`,
  fileKey: sql`a.file_key`,
  createdBy: sql`a.created_by`,
  createdAt: sql`date_trunc('milliseconds', a.created_at)`,
  modifiedAt: sql`date_trunc('milliseconds', coalesce(a.updated_at, a.created_at))`,
};

/** Live attachments of the live chats `userId` belongs to, matching `where`. */
function visibleAttachments(
  tenantId: string,
  userId: string,
  where: FilterCondition<AttachmentFilterField> | null,
) {
  return sql`
    from attachments a
    join members me on me.chat_id = a.chat_id and me.user_id = ${userId} and me.tenant_id = ${tenantId}
    join chats c on c.id = a.chat_id and c.deleted_at is null
    left join messages m on m.chat_id = a.chat_id and m.seq = a.seq
    where ${sql.raw(UNPREPARED)} a.deleted_at is null and a.tenant_id = ${tenantId} and ${where ? filterSql(where, FIELDS) : sql`true`}`;
}

export async function findAttachments(
  db: Db,
  tenantId: string,
  userId: string,
  filter: Filter<AttachmentFilterField>,
): Promise<AttachmentWithMessageRow[]> {
  const order = [...orderSql(filter.order, FIELDS), sql`a.created_at asc`, sql`a.id asc`];
  const result = await sql<AttachmentWithMessageRow>`
    select a.*, m.id as message_id
    ${visibleAttachments(tenantId, userId, filter.where)}
    order by ${sql.join(order)}
    limit ${filter.limit} offset ${filter.offset}`.execute(db);
  return result.rows;
}

export async function countAttachments(
  db: Db,
  tenantId: string,
  userId: string,
  where: FilterCondition<AttachmentFilterField> | null,
): Promise<number> {
  return countRows(db, visibleAttachments(tenantId, userId, where));
}

export interface NewAttachment {
  id: string;
  tenantId: string;
  chatId: string;
  seq: number | null;
  fileKey: string;
  metadata: Record<string, unknown>;
  createdBy: string;
}

export async function insertAttachments(db: Db, attachments: NewAttachment[]): Promise<void> {
  if (attachments.length === 0) {
    return;
  }
  await db
    .insertInto('attachments')
    .values(
      attachments.map((a) => ({
        id: a.id,
        tenant_id: a.tenantId,
        chat_id: a.chatId,
        seq: a.seq,
        file_key: a.fileKey,
        metadata: JSON.stringify(a.metadata),
        created_by: a.createdBy,
        updated_at: null,
        deleted_at: null,
      })),
    )
    .execute();
}

export async function updateAttachment(
  db: Db,
  id: string,
  changes: { fileKey?: string; metadata?: Record<string, unknown> },
): Promise<void> {
  await db
    .updateTable('attachments')
    .set({
      ...(changes.fileKey !== undefined ? { file_key: changes.fileKey } : {}),
      ...(changes.metadata !== undefined ? { metadata: JSON.stringify(changes.metadata) } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .execute();
}

export async function softDeleteAttachment(db: Db, id: string): Promise<void> {
  await db
    .updateTable('attachments')
    .set({ deleted_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .execute();
}
