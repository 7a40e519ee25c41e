import type { ChatView } from '../chats/chat.schema.ts';
import type { MessageView } from '../messages/message.schema.ts';

/** Every event the server sends, by name: the one place the stream's contract is typed. */
export interface ServerEventMap {
  'message.created': { chatId: string; message: MessageView };
  'message.updated': { chatId: string; message: MessageView };
  'message.deleted': { chatId: string; message: MessageView };
  'chat.created': { chat: ChatView };
  'chat.updated': { chat: ChatView };
  'chat.deleted': { chat: ChatView };
  'member.added': { chatId: string; userId: string };
  'member.removed': { chatId: string; userId: string };
  'read.updated': { chatId: string; userId: string; seq: number };
  typing: { chatId: string; userId: string };
  presence: { userId: string; status: string };
}

export type EventType = keyof ServerEventMap;

/** Who receives an event: the members of a chat, one user's connections, or the whole tenant. */
export type Audience = { chatId: string } | { userId: string } | { tenant: true };

/**
 * What travels on the bus between processes. `payload` is what clients see; the rest is routing:
 * `memberIds` tells every process who is in a chat it has never seen (chat.created), and `seqAt` is the chat's last
 * seq when a member was added, read under the chat's row lock, so their stream starts exactly there.
 */
export type ServerEvent = {
  [K in EventType]: {
    type: K;
    tenantId: string;
    audience: Audience;
    payload: ServerEventMap[K];
    memberIds?: string[];
    seqAt?: number;
  };
}[EventType];

/** Where services hand events once their transaction has committed. */
export interface EventSink {
  publish(event: ServerEvent): void;
}

export function event<K extends EventType>(
  type: K,
  tenantId: string,
  audience: Audience,
  payload: ServerEventMap[K],
  routing: { memberIds?: string[]; seqAt?: number } = {},
): ServerEvent {
  return { type, tenantId, audience, payload, ...routing } as ServerEvent;
}
