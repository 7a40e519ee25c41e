import Type from 'typebox';
import { ChatEvents } from '../chats/chat.events.ts';
import { SettingsEvents } from '../chats/settings.events.ts';
import { ERROR_STATUS, type ErrorCode } from '../errors/codes.ts';
import { eventsOf, type EventOf, type PayloadsOf } from '../events.ts';
import { MemberEvents } from '../members/member.events.ts';
import { MentionEvents } from '../messages/mention.events.ts';
import { MessageEvents } from '../messages/message.events.ts';
import { PinEvents } from '../messages/pin.events.ts';
import { ReactionEvents } from '../messages/reaction.events.ts';
import { ThreadEvents } from '../messages/thread.events.ts';
import { UserEvents } from '../users/user.events.ts';
import { ModerationEvents } from '../moderation/moderation.events.ts';

/**
 * The stream's contract, as schemas: the code's types are derived from them, and /asyncapi.json is built from them
 * (`stream.asyncapi.ts`), so the document says what the code sends.
 */

/** Events of the stream itself: a member is typing (never stored). */
export const StreamEvents = {
  typing: Type.Object(
    { chatId: Type.String(), userId: Type.String() },
    {
      description:
        'A member is typing in a chat (never stored): to the chat’s other members, at most one per chat per ' +
        'stream in each typing interval.',
    },
  ),
};
export type StreamEvents = PayloadsOf<typeof StreamEvents>;

/**
 * Every event the server sends, by name: the stream's contract, composed from each feature's own events
 * (`<feature>.events.ts`) and the stream's.
 */
export const ServerEvents = {
  ...MessageEvents,
  ...ReactionEvents,
  ...PinEvents,
  ...MentionEvents,
  ...ThreadEvents,
  ...ChatEvents,
  ...SettingsEvents,
  ...MemberEvents,
  ...ModerationEvents,
  ...UserEvents,
  ...StreamEvents,
};
export type ServerEventMap = PayloadsOf<typeof ServerEvents>;

export type EventType = keyof ServerEventMap;

/** An event as it travels on the bus (see `Envelope` in src/events.ts): one member of the union per event name. */
export type ServerEvent = EventOf<ServerEventMap>;

export const streamEvent = eventsOf<StreamEvents>();

export const ErrorCodeSchema = Type.Unsafe<ErrorCode>({
  type: 'string',
  enum: Object.keys(ERROR_STATUS),
  description: 'the stable error code, as in every HTTP error body',
});

/** Frames about the stream itself, sent beside the events (docs/stream.md). */
export const ControlFrames = {
  ready: Type.Object(
    {
      userId: Type.String(),
      changes: Type.Optional(
        Type.Record(Type.String(), Type.Integer({ minimum: 1 }), {
          description:
            'chat id → the change `rev` the stream starts each chat at (chats with changes only): a client that ' +
            'knows no rev of a chat resumes it from here',
        }),
      ),
    },
    { description: 'Authenticated: always the first frame of a stream, once its chats are followed.' },
  ),
  resumed: Type.Object(
    {},
    {
      description:
        'A resume’s replay is over: every missed message and change has been sent, and what follows is live.',
    },
  ),
  pong: Type.Object({}, { description: 'The answer to a `ping` frame.' }),
  'chat.resync': Type.Object(
    {
      chatId: Type.String(),
      rev: Type.Integer({ minimum: 0, description: 'the chat’s change rev from here on' }),
    },
    {
      description:
        'The changes of a chat after the client’s `changes` cursor are no longer kept (they are pruned after a ' +
        'while): reload the chat’s history (its messages carry their current text and reactions). Changes go on ' +
        'live after it, and its SSE `id` carries the new position.',
    },
  ),
  error: Type.Object(
    { error: Type.Object({ code: ErrorCodeSchema, message: Type.String() }) },
    {
      description:
        'A frame the server could not act on (not JSON, an unknown type, a chat the user is not in, too many ' +
        'frames); the stream stays open. Also sent just before a 4009 close.',
    },
  ),
  close: Type.Object(
    { code: Type.Integer(), reason: Type.String() },
    {
      description:
        'Server-Sent Events only: the stream ends, with the code and reason a WebSocket close frame would carry.',
    },
  ),
};
export type ControlFrameMap = PayloadsOf<typeof ControlFrames>;

/** Everything the server writes on a stream, by `type`. */
export type StreamFrameMap = ServerEventMap & ControlFrameMap;

export type StreamFrame = {
  [K in keyof StreamFrameMap]: { type: K } & StreamFrameMap[K];
}[keyof StreamFrameMap];

/** The largest frame a client may send; a larger one closes the socket with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** The most chats one `resume` may name. */
export const MAX_RESUME_CHATS = 10_000;

/** Per chat, the last seq the client has seen: `{ "<chatId>": <seq>, ... }`. */
export const ResumeCursors = Type.Record(
  Type.String(),
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  { maxProperties: MAX_RESUME_CHATS, description: 'chat id → the last seq seen in that chat' },
);

/** Per chat, the last change rev the client has seen: `{ "<chatId>": <rev>, ... }`. */
export const ResumeChanges = Type.Record(
  Type.String(),
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  {
    maxProperties: MAX_RESUME_CHATS,
    description:
      'chat id → the last change `rev` seen in that chat (edits, deletions, reactions, ...); a chat left out ' +
      'continues its changes from the present',
  },
);

/** What a client may send on the WebSocket, by `type`. */
export const ClientFrames = {
  resume: Type.Object(
    { chats: ResumeCursors, changes: Type.Optional(ResumeChanges) },
    {
      description:
        'Replay every message after these seqs, in order, then every change after the `changes` revs, in order, ' +
        'then `resumed`; chats the user is not in are ignored.',
    },
  ),
  typing: Type.Object(
    { chatId: Type.String() },
    {
      description:
        'The user is typing in a chat: its other members hear `typing` (extra ones within the typing interval are ' +
        'dropped); a chat the user is not in is answered with an `error` frame (`not_found`).',
    },
  ),
  ping: Type.Object({}, { description: 'Answered with `pong`: a liveness check the client can see.' }),
};
export type ClientFrameMap = PayloadsOf<typeof ClientFrames>;

/** What a client may send on the WebSocket. */
export type ClientFrame = {
  [K in keyof ClientFrameMap]: { type: K } & ClientFrameMap[K];
}[keyof ClientFrameMap];

// Close codes clients act on. Parley's own are 4000 + the HTTP status they stand for. The WebSocket's close frame
// carries them; an SSE stream says them in its last frame (`close`).

/** Server going away (shutting down): reconnect, to another process, and resume. */
export const CLOSE_GOING_AWAY = 1001;
/** A bad request at connect (`?resume=` not valid): do not retry as it is. */
export const CLOSE_POLICY = 1008;
/** A frame over `MAX_FRAME_BYTES` (said by the WebSocket library itself). */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** The stream could not be opened for an unexpected reason: reconnect later. */
export const CLOSE_INTERNAL_ERROR = 1011;
/** The database is unavailable: reconnect and resume shortly. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** The stream's user was deleted (401: their token names nobody any more): do not reconnect. */
export const CLOSE_USER_DELETED = 4001;
/** Too slow, like a 408: the client did not keep up with its stream; reconnect and resume. */
export const CLOSE_SLOW_CONSUMER = 4008;
/** A limit is reached, like a 409 `limit_exceeded`: do not reconnect at once, close another stream first. */
export const CLOSE_LIMIT_EXCEEDED = 4009;
/** Too many frames too fast, like a 429: reconnect after a pause, and send less. */
export const CLOSE_RATE_LIMITED = 4029;

/** Every close code the server uses, with what it tells the client (the stream's contract: /asyncapi.json). */
export const CLOSE_CODES: Record<number, string> = {
  [CLOSE_GOING_AWAY]:
    'going away: the server is shutting down (or, on SSE, could not open the stream); reconnect, to another ' +
    'process, and resume',
  [CLOSE_POLICY]: 'policy violation: `?resume=` at connect is not a valid cursor; do not retry as it is',
  [CLOSE_MESSAGE_TOO_BIG]: `message too big: a frame over ${MAX_FRAME_BYTES} bytes was sent`,
  [CLOSE_INTERNAL_ERROR]: 'internal error: the stream could not be opened; reconnect later',
  [CLOSE_TRY_AGAIN_LATER]: 'try again later: the database is unavailable; reconnect and resume shortly',
  [CLOSE_USER_DELETED]: 'the stream’s user was deleted (like a 401): do not reconnect, the token is refused',
  [CLOSE_SLOW_CONSUMER]:
    'too slow (like a 408): more was waiting for the client than the server buffers; reconnect and resume',
  [CLOSE_LIMIT_EXCEEDED]:
    'a limit is reached (like a 409 `limit_exceeded`): the user holds as many streams as allowed; close another first',
  [CLOSE_RATE_LIMITED]: 'too many frames too fast (like a 429): reconnect after a pause, and send less',
};
