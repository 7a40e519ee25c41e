import type { AttachmentWithMessageRow } from './attachment.repository.ts';

export interface AttachmentView {
  id: string;
  chatId: string;
  messageId: string | null;
  fileKey: string;
  metadata: Record<string, unknown>;
  createdBy: string;
  createdAt: string;
  modifiedAt: string;
}

export function presentAttachment(row: AttachmentWithMessageRow): AttachmentView {
  return {
    id: row.id,
    chatId: row.chat_id,
    messageId: row.message_id,
    fileKey: row.file_key,
    metadata: row.metadata,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    modifiedAt: (row.updated_at ?? row.created_at).toISOString(),
  };
}
