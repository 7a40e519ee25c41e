import type { ChatEvents } from '../chats/chat.events.ts';
import type { ErrorCode } from '../errors/codes.ts';
import { eventsOf, type EventOf } from '../events.ts';
import type { MemberEvents } from '../members/member.events.ts';
import type { MessageEvents } from '../messages/message.events.ts';
import type { UserEvents } from '../users/user.events.ts';

/** Events of the stream itself: a member is typing (never stored). */
export interface StreamEvents {
  typing: { chatId: string; userId: string };
}

/**
 * Every event the server sends, by name: the stream's contract, composed from each feature's own events
 * (`<feature>.events.ts`) and the stream's.
 */
export interface ServerEventMap extends MessageEvents, ChatEvents, MemberEvents, UserEvents, StreamEvents {}

export type EventType = keyof ServerEventMap;

/** An event as it travels on the bus (see `Envelope` in src/events.ts): one member of the union per event name. */
export type ServerEvent = EventOf<ServerEventMap>;

export const streamEvent = eventsOf<StreamEvents>();

/** Frames about the stream itself, sent beside the events (docs/stream.md). */
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
