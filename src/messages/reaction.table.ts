import type { Generated, Selectable } from 'kysely';

/** A member's reaction to a message with one emoji (migration 0016): at most one per member, message and emoji. */
export interface MessageReactionTable {
  chat_id: string;
  seq: number;
  emoji: string;
  user_id: string;
  created_at: Generated<Date>;
}

/** How many members reacted to a message with one emoji; no row at zero. `ord`: the order the emoji first came in. */
export interface MessageReactionCountTable {
  chat_id: string;
  seq: number;
  emoji: string;
  count: number;
  ord: Generated<number>;
}

export type MessageReactionRow = Selectable<MessageReactionTable>;
export type MessageReactionCountRow = Selectable<MessageReactionCountTable>;
