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
  presence: { userId: string; status: string };
}

export type EventType = keyof ServerEventMap;

/** Who receives an event: the members of a chat, or one user's sockets. */
export type Audience = { chatId: string } | { userId: string };

export type ServerEvent = {
  [K in EventType]: { type: K; tenantId: string; audience: Audience; payload: ServerEventMap[K] };
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
): ServerEvent {
  return { type, tenantId, audience, payload } as ServerEvent;
}

/** Collects events during a unit of work and publishes them only after it committed. */
export class Outbox {
  private readonly pending: ServerEvent[] = [];

  add(e: ServerEvent): void {
    this.pending.push(e);
  }

  flushTo(sink: EventSink): void {
    for (const e of this.pending.splice(0)) {
      sink.publish(e);
    }
  }
}
