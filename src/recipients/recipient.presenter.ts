import type { RecipientRow } from './recipient.repository.ts';

/** A member's state on one message: read (from the read cursor), favourite, forwarded. */
export interface RecipientView {
  messageId: string;
  chatId: string;
  seq: number;
  userId: string;
  authorId: string;
  isRead: boolean;
  isFavorite: boolean;
  isForwarded: boolean;
  /** Who forwarded the message to this member, as a client said; null when none did. */
  forwardedBy: string | null;
  /** Who last changed the state (the member, or the sender forwarding); null when nobody has. */
  modifiedBy: string | null;
  createdAt: string;
  modifiedAt: string;
}

export function presentRecipient(row: RecipientRow): RecipientView {
  return {
    messageId: row.message_id,
    chatId: row.chat_id,
    seq: row.seq,
    userId: row.user_id,
    authorId: row.author_id,
    isRead: row.is_read,
    isFavorite: row.is_favorite,
    isForwarded: row.is_forwarded,
    forwardedBy: row.forwarded_by,
    modifiedBy: row.updated_by,
    createdAt: row.created_at.toISOString(),
    modifiedAt: row.modified_at.toISOString(),
  };
}
