import type { MessageRow } from './message.table.ts';
import type { MessageView } from './message.schema.ts';

export function presentMessage(row: MessageRow): MessageView {
  return {
    id: row.id,
    chatId: row.chat_id,
    seq: row.seq,
    authorId: row.author_id,
    text: row.deleted_at ? null : row.text,
    replyTo: row.reply_to,
    clientId: row.client_id,
    createdAt: row.created_at.toISOString(),
    editedAt: row.edited_at ? row.edited_at.toISOString() : null,
    deletedAt: row.deleted_at ? row.deleted_at.toISOString() : null,
  };
}
