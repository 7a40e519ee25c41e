import type { ColumnType, Generated, Selectable } from 'kysely';

/** Metadata of a file attached to a chat (and optionally one of its messages); the file lives elsewhere. */
export interface AttachmentTable {
  id: string;
  tenant_id: string;
  chat_id: string;
  /** The message it belongs to, by seq; null for a file attached to the chat only. */
  seq: number | null;
  /** Where the client stored the file (a storage key or URL). */
  file_key: string;
  metadata: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_by: string;
  created_at: Generated<Date>;
  updated_at: Date | null;
  deleted_at: Date | null;
  /** An uploaded file's content: its SHA-256 (hex), the key it is stored under; null for metadata-only rows. */
  sha256: string | null;
  size: ColumnType<number | null, number | null | undefined, number | null>;
  content_type: string | null;
  /** The uploaded file's name, sanitized. */
  name: string | null;
  /** An image's dimensions, read from its header. */
  width: number | null;
  height: number | null;
}

/** One stored content (`file_blobs`): the same bytes are stored once, whoever uploads them. */
export interface FileBlobTable {
  sha256: string;
  size: number;
  created_at: Generated<Date>;
  referenced_at: Generated<Date>;
}

export type AttachmentRow = Selectable<AttachmentTable>;

export const ATTACHMENT_FILTER_FIELDS = [
  'id',
  'chatId',
  'messageId',
  'fileKey',
  'createdBy',
  'createdAt',
  'modifiedAt',
] as const;
export type AttachmentFilterField = (typeof ATTACHMENT_FILTER_FIELDS)[number];
