import type { FileRow } from './file.repository.ts';
import type { FileView } from './file.schema.ts';

/** An uploaded file with the download link signed for it. */
export function presentFile(row: FileRow, link: { url: string; expiresAt: Date }): FileView {
  return {
    id: row.id,
    name: row.name ?? 'file',
    contentType: row.content_type ?? 'application/octet-stream',
    size: Number(row.size ?? 0),
    width: row.width,
    height: row.height,
    chatId: row.chat_id,
    messageId: row.message_id,
    sha256: row.sha256,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    url: link.url,
    urlExpiresAt: link.expiresAt.toISOString(),
  };
}
