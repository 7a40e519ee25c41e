import { eventsOf } from '../events.ts';
import type { MessageView } from './message.schema.ts';

/** The messages feature's events: a message's life, and a member's read cursor moving. */
export interface MessageEvents {
  'message.created': { chatId: string; message: MessageView };
  'message.updated': { chatId: string; message: MessageView };
  'message.deleted': { chatId: string; message: MessageView };
  'read.updated': { chatId: string; userId: string; seq: number };
}

export const messageEvent = eventsOf<MessageEvents>();
