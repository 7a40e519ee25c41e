/** A participant of a thread (migration 0018): the root's author and everyone who replied, with a read cursor. */
export interface ThreadMemberTable {
  chat_id: string;
  root_seq: number;
  user_id: string;
  /** Replies by others above it are unread; a reply of one's own moves it to that reply. */
  last_read_seq: number;
  joined_at: Date;
}
