import type { Generated, Selectable } from 'kysely';

export interface MessageTable {
  chat_id: string;
  /** Counts messages per chat from 1 with no gaps, assigned from chats.last_seq inside the insert. */
  seq: number;
  id: string;
  author_id: string;
  /** Null once the message is deleted. */
  text: string | null;
  /** The seq of the message in the same chat this one answers. */
  reply_to: number | null;
  client_id: string | null;
  created_at: Generated<Date>;
  edited_at: Date | null;
  deleted_at: Date | null;
  /** Who pinned the message and when (milliseconds); both null when it is not pinned (migration 0021). */
  pinned_at: Date | null;
  pinned_by: string | null;
  /** A thread reply: the seq of the top-level message of the same chat that opened its thread (migration 0021). */
  thread_root: number | null;
  /** A thread reply shown in the chat's main history too; false for every other message. */
  also_in_chat: Generated<boolean>;
  /** A root: its live replies, when the last came, its first participants (root author first); 0, null, null. */
  reply_count: Generated<number>;
  last_reply_at: Date | null;
  thread_participants: string[] | null;
}

/** A message as sends and most reads carry it; its pin comes only with the reads that show it (`PinColumns`). */
export type MessageRow = Omit<Selectable<MessageTable>, 'pinned_at' | 'pinned_by'>;

/** A message's pin, as the reads that show pins add it to the row. */
export type PinColumns = Pick<Selectable<MessageTable>, 'pinned_at' | 'pinned_by'>;

/** What a SourceLoop client sent with a message beyond its text (migration 0012); a row only when it sent any. */
export interface MessagePropertiesTable {
  chat_id: string;
  seq: number;
  subject: string | null;
  status: Generated<number>;
  channel_type: string | null;
}
