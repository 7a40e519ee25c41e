import type { Actor } from '../auth/actor.ts';
import { requireMember } from '../chats/chat.access.ts';
import type { Context } from '../context.ts';
import { forbidden, invalid, notFound } from '../errors/codes.ts';
import { newId } from '../ids.ts';
import type { Filter, FilterCondition } from '../messages/message.filter.ts';
import { findMessageById } from '../messages/message.access.ts';
import { presentAttachment, type AttachmentView } from './attachment.presenter.ts';
import {
  countAttachments as countRows,
  findAttachments as findRows,
  insertAttachments,
  softDeleteAttachment,
  updateAttachment as updateRow,
  type NewAttachment,
} from './attachment.repository.ts';
import type { AttachmentFilterField } from './attachment.table.ts';

export type AttachmentFilter = Filter<AttachmentFilterField>;
export type AttachmentCondition = FilterCondition<AttachmentFilterField>;

export interface NewAttachmentInput {
  chatId: string;
  messageId?: string | null;
  fileKey: string;
  metadata?: Record<string, unknown>;
}

export const MAX_FILE_KEY = 1024;
export const MAX_BULK = 100;

/** Attaches files' metadata to chats the caller belongs to (each message, when named, must be in its chat). */
export async function createAttachments(
  ctx: Context,
  actor: Actor,
  inputs: NewAttachmentInput[],
): Promise<AttachmentView[]> {
  if (inputs.length > MAX_BULK) {
    throw invalid(`attachmentFiles: at most ${MAX_BULK} at once`);
  }
  const rows: NewAttachment[] = [];
  for (const [index, input] of inputs.entries()) {
    const at = inputs.length > 1 ? `[${index}].` : '';
    await requireMember(ctx.db, actor, input.chatId);
    if (input.fileKey.trim() === '' || input.fileKey.length > MAX_FILE_KEY) {
      throw invalid(`${at}fileKey: must be 1 to ${MAX_FILE_KEY} characters`);
    }
    let seq: number | null = null;
    if (input.messageId) {
      const message = await findMessageById(ctx.db, input.chatId, input.messageId);
      if (!message || message.deleted_at !== null) {
        throw invalid(`${at}messageId: no message "${input.messageId}" in this channel`);
      }
      seq = message.seq;
    }
    rows.push({
      id: newId(),
      tenantId: actor.tenantId,
      chatId: input.chatId,
      seq,
      fileKey: input.fileKey,
      metadata: input.metadata ?? {},
      createdBy: actor.userId,
    });
  }
  await ctx.db.transaction().execute((trx) => insertAttachments(trx, rows));
  const created = await findAttachments(ctx, actor, {
    where: { field: 'id', op: 'in', value: rows.map((r) => r.id) },
    order: [],
    offset: 0,
    limit: rows.length,
  });
  return rows
    .map((r) => created.find((c) => c.id === r.id))
    .filter((c): c is AttachmentView => c !== undefined);
}

export async function findAttachments(
  ctx: Context,
  actor: Actor,
  filter: AttachmentFilter,
): Promise<AttachmentView[]> {
  return (await findRows(ctx.db, actor.tenantId, actor.userId, filter)).map(presentAttachment);
}

export async function countAttachments(
  ctx: Context,
  actor: Actor,
  where: AttachmentCondition | null,
): Promise<number> {
  return countRows(ctx.db, actor.tenantId, actor.userId, where);
}

export async function getAttachment(ctx: Context, actor: Actor, id: string): Promise<AttachmentView> {
  const [found] = await findAttachments(ctx, actor, {
    where: { field: 'id', op: '=', value: id },
    order: [],
    offset: 0,
    limit: 1,
  });
  if (!found) {
    throw notFound(`attachment ${id} not found`);
  }
  return found;
}

/** Changes an attachment's file key or metadata; only whoever attached it may. */
export async function updateAttachment(
  ctx: Context,
  actor: Actor,
  current: AttachmentView,
  changes: { fileKey?: string; metadata?: Record<string, unknown> },
): Promise<void> {
  if (current.createdBy !== actor.userId) {
    throw forbidden('only whoever attached a file may change it');
  }
  if (
    changes.fileKey !== undefined &&
    (changes.fileKey.trim() === '' || changes.fileKey.length > MAX_FILE_KEY)
  ) {
    throw invalid(`fileKey: must be 1 to ${MAX_FILE_KEY} characters`);
  }
  await updateRow(ctx.db, current.id, changes);
}

/** Soft delete; only whoever attached the file may. */
export async function deleteAttachment(ctx: Context, actor: Actor, current: AttachmentView): Promise<void> {
  if (current.createdBy !== actor.userId) {
    throw forbidden('only whoever attached a file may delete it');
  }
  await softDeleteAttachment(ctx.db, current.id);
}
