import type { Generated, Selectable } from 'kysely';

/** A member's flags on one message (SourceLoop's message recipients); a row exists once a flag was set. */
export interface MessageFlagsTable {
  chat_id: string;
  seq: number;
  user_id: string;
  is_favorite: Generated<boolean>;
  is_forwarded: Generated<boolean>;
  /** Who forwarded the message to this member, as the client said (migration 0012). */
  forwarded_by: string | null;
  /** Who last changed this member's state on the message (migration 0012). */
  updated_by: string | null;
  updated_at: Generated<Date>;
}

export type MessageFlagsRow = Selectable<MessageFlagsTable>;

export const RECIPIENT_FILTER_FIELDS = [
  'messageId',
  'chatId',
  'recipientId',
  'authorId',
  'isRead',
  'isFavorite',
  'isForwarded',
  'forwardedBy',
  'createdAt',
  'modifiedAt',
] as const;
export type RecipientFilterField = (typeof RECIPIENT_FILTER_FIELDS)[number];
