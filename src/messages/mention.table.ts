/**
 * A mention of a member by a message (migration 0018): `via` 'name' (`@username`) or 'here' (`@here`, the member was
 * online); a row without a user marks the message's `@all` or `@here`.
 */
export interface MessageMentionTable {
  chat_id: string;
  seq: number;
  user_id: string | null;
  via: 'name' | 'here' | 'all';
}
