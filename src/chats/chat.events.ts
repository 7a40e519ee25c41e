import { eventsOf } from '../events.ts';
import type { ChatView } from './chat.schema.ts';

/** The chats feature's events; `chat.created` carries the member ids as routing (`memberIds`). */
export interface ChatEvents {
  'chat.created': { chat: ChatView };
  'chat.updated': { chat: ChatView };
  'chat.deleted': { chat: ChatView };
}

export const chatEvent = eventsOf<ChatEvents>();
