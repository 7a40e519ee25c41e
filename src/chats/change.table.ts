import type { Generated, Selectable } from 'kysely';

/**
 * One change to a chat other than a new message (migration 0018): numbered per chat by `chats.change_seq`, gapless.
 * `payload` is the event's payload without its `rev`, as clients see it.
 */
export interface ChatChangeTable {
  chat_id: string;
  rev: number;
  type: string;
  payload: unknown;
  created_at: Generated<Date>;
}

export type ChatChangeRow = Selectable<ChatChangeTable>;
