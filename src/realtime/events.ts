import type { ChatView } from '../chats/chat.schema.ts';
import type { ErrorCode } from '../errors.ts';
import type { MessageView } from '../messages/message.schema.ts';
import type { UserView } from '../users/user.schema.ts';

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
  presence: { userId: string; status: UserView['status'] };
}

export type EventType = keyof ServerEventMap;

/** Who receives an event: the members of a chat, one user's connections, or the whole tenant. */
export type Audience = { chatId: string } | { userId: string } | { tenant: true };

/**
 * What travels on the bus between processes. `payload` is what clients see; the rest is routing:
 * `memberIds` tells every process who is in a chat it has never seen (chat.created), and `seqAt` is the chat's last
 * seq when a member was added, read under the chat's row lock, so their stream starts exactly there. `publishedAt`
 * (milliseconds since the epoch, with a fraction) is stamped by the bus when the event is published, for the bus lag
 * metric; like the routing fields it never reaches clients.
 */
export type ServerEvent = {
  [K in EventType]: {
    type: K;
    tenantId: string;
    audience: Audience;
    payload: ServerEventMap[K];
    memberIds?: string[];
    seqAt?: number;
    publishedAt?: number;
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

/** Frames about the stream itself, sent beside the events (README, "Real-time stream"). */
export interface ControlFrameMap {
  /** Authenticated; always the first frame. */
  ready: { userId: string };
  /** A resume's replay is over: what follows is live. */
  resumed: Record<string, never>;
  pong: Record<string, never>;
  /** A frame the server could not act on; the stream stays open. */
  error: { error: { code: ErrorCode; message: string } };
  /** Server-Sent Events only: the stream ends (a WebSocket says so with its close frame). */
  close: { code: number; reason: string };
}

/** Everything the server writes on a stream, by `type`. */
export type StreamFrameMap = ServerEventMap & ControlFrameMap;

export type StreamFrame = {
  [K in keyof StreamFrameMap]: { type: K } & StreamFrameMap[K];
}[keyof StreamFrameMap];

/** What a client may send on the WebSocket. */
export type ClientFrame =
  { type: 'resume'; chats: Record<string, number> } | { type: 'typing'; chatId: string } | { type: 'ping' };
