import type { TSchema } from 'typebox';
import { ChatEvents } from '../chats/chat.events.ts';
import { ChatView } from '../chats/chat.schema.ts';
import { MemberEvents } from '../members/member.events.ts';
import { MessageEvents } from '../messages/message.events.ts';
import { MessageView } from '../messages/message.schema.ts';
import { UserEvents } from '../users/user.events.ts';
import { UserStatusSchema } from '../users/user.schema.ts';
import {
  CLOSE_CODES,
  ClientFrames,
  ControlFrames,
  ErrorCodeSchema,
  MAX_FRAME_BYTES,
  MAX_RESUME_CHATS,
  ServerEvents,
  StreamEvents,
  type ControlFrameMap,
} from './protocol.ts';
import type { RealtimeConfig } from './realtime.config.ts';

/**
 * The stream's contract as an AsyncAPI 3.0 document (/asyncapi.json), built from the schemas the code's own types
 * come from (`protocol.ts` and each feature's `<feature>.events.ts`): an event the code can send is in it, with the
 * payload the code sends. It describes Parley's side: Parley `send`s the server frames and `receive`s the client's.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface AsyncApiOptions {
  /** Where the stream's routes are: `/v1`, or `/chat/v1` when Parley is mounted under `/chat`. */
  base: string;
  /** The `host[:port]` clients reach, as the request for the document named it. */
  host: string;
  /** Reached over TLS: the servers are `wss` and `https`. */
  secure: boolean;
  /** This deployment's stream settings, quoted in the descriptions. */
  limits: RealtimeConfig;
}

/** Schemas several frames share, published once under `components.schemas` and referred to by name. */
const NAMED: Record<string, TSchema> = {
  MessageView,
  ChatView,
  UserStatus: UserStatusSchema,
  ErrorCode: ErrorCodeSchema,
};

/** Which feature each event comes from: the tag of its message. */
const EVENT_TAGS: [string, Record<string, TSchema>][] = [
  ['messages', MessageEvents],
  ['chats', ChatEvents],
  ['members', MemberEvents],
  ['users', UserEvents],
  ['stream', StreamEvents],
];

/** Control frames only one transport sends: a WebSocket answers frames; SSE has no close frame of its own. */
const WEBSOCKET_ONLY = ['pong', 'error'] as const satisfies (keyof ControlFrameMap)[];
const SSE_ONLY = ['close'] as const satisfies (keyof ControlFrameMap)[];

/** The component key of a client frame (`typing` is also the name of a server event). */
const clientMessageKey = (type: string) => `client.${type}`;

/** A schema as plain JSON, with every schema of `NAMED` (but `self`) replaced by a reference to it. */
function plain(value: unknown, self?: string): Json {
  if (typeof value !== 'object' || value === null) {
    return value as Json;
  }
  for (const [name, schema] of Object.entries(NAMED)) {
    if (value === schema && name !== self) {
      return { $ref: `#/components/schemas/${name}` };
    }
  }
  if (Array.isArray(value)) {
    return value.map((item) => plain(item, self));
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item, self)]));
}

const pascal = (type: string) =>
  type
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/** A frame's schema: the payload's fields beside its `type`. */
function frameSchema(type: string, payload: TSchema, title: string): Json {
  const { properties, required } = plain(payload) as { properties?: Json; required?: string[] };
  return {
    title,
    type: 'object',
    properties: { type: { type: 'string', const: type }, ...(properties as Record<string, Json>) },
    required: ['type', ...(required ?? [])],
  };
}

function message(type: string, payload: TSchema, tag: string, title: string): Json {
  const { description } = payload as { description?: string };
  return {
    name: type,
    title: type,
    ...(description ? { summary: description.split(/(?<=\.) /)[0]!, description } : {}),
    contentType: 'application/json',
    tags: [{ name: tag }],
    payload: frameSchema(type, payload, title),
  };
}

/** `#/components/messages/...` references, by key. */
const refs = (keys: string[]) =>
  Object.fromEntries(keys.map((key) => [key, { $ref: `#/components/messages/${key}` }]));
const channelMessages = (channel: string, keys: string[]) =>
  keys.map((key) => ({ $ref: `#/channels/${channel}/messages/${key}` }));

const tokenQuery = {
  type: 'string',
  description: 'the JWT, for clients that cannot set a header (a browser’s WebSocket or EventSource)',
};
const resumeQuery = {
  type: 'string',
  description:
    'where to resume: `{"chats": {"<chatId>": <last seq seen>, ...}, "changes": {"<chatId>": <last rev seen>, ' +
    '...}}` as JSON (or the seqs alone, `{"<chatId>": <seq>, ...}`), or the `id` of the last Server-Sent Event ' +
    'received; every message after those seqs, then every change after those revs, is replayed, in order, before ' +
    '`resumed` and the live stream',
};

function closeCodes(): string {
  const rows = Object.entries(CLOSE_CODES).map(([code, meaning]) => `| ${code} | ${meaning} |`);
  return ['| code | meaning |', '| --- | --- |', ...rows].join('\n');
}

function describeStream({ limits }: AsyncApiOptions): string {
  const frames = limits.frames
    ? `at most ${limits.frames.rate} frames a second (${limits.frames.burst} at once) per socket: over it, frames ` +
      `are dropped (an \`error\` frame \`rate_limited\` says so once), and a client that keeps on is closed with 4029`
    : 'not limited on this server';
  return [
    'Every frame either way is one JSON text frame: an object with a `type`.',
    '',
    '**Opening.** Authenticate with `Authorization: Bearer <JWT>` or `?access_token=`. A refused upgrade is an ' +
      'HTTP 401 (no valid token), 429 (request rate) or 503 (shutting down); a plain GET without ' +
      '`Upgrade: websocket` is a 426. A `?resume=` that is not valid closes the socket at once (1008). The first ' +
      `frame is \`ready\`. A user holds at most ${limits.socketsPerUser} streams per server process: one more ` +
      'opens, gets an `error` frame (`limit_exceeded`) and is closed with 4009.',
    '',
    '**Resume.** Send `resume` with the last seq seen per chat (or pass `?resume=` at connect): every message ' +
      'after it is replayed in seq order, then every change (edits, deletions, reactions: events with a `rev`) ' +
      'after the last rev seen per chat (`changes`, optional: a chat left out continues its changes from the ' +
      'present), then `resumed`, then the stream is live, with no gap and nothing twice. Changes no longer kept ' +
      'are one `chat.resync` instead: reload that chat’s history. ' +
      `A new WebSocket without \`?resume=\` holds message events back for ${limits.resumeGraceMs} ms ` +
      '(`PARLEY_RESUME_GRACE_MS`) waiting for that frame.',
    '',
    `**Heartbeats.** The server sends a WebSocket ping every ${limits.heartbeatMs} ms (\`PARLEY_WS_HEARTBEAT_MS\`) ` +
      'and terminates a socket that has not answered the previous one (WebSocket clients answer pings by ' +
      'themselves). A client that wants to see liveness sends `ping` and gets `pong`.',
    '',
    `**Limits.** Frames: ${frames}. A frame over ${MAX_FRAME_BYTES} bytes closes the socket (1009); a \`resume\` ` +
      `names at most ${MAX_RESUME_CHATS} chats. A client that leaves more than ${limits.maxBufferedBytes} bytes ` +
      '(`PARLEY_WS_MAX_BUFFER`) unread is closed with 4008.',
    '',
    '**Close codes.**',
    '',
    closeCodes(),
  ].join('\n');
}

function describeEvents({ limits }: AsyncApiOptions): string {
  return [
    'The same events as the WebSocket, as Server-Sent Events (`text/event-stream`): one JSON object with a `type` ' +
      'per `data:` line. Authenticate with `Authorization: Bearer <JWT>` or `?access_token=`; refusals are HTTP ' +
      `401, 429, 503, 400 (a resume cursor that is not valid) and 409 (already ${limits.socketsPerUser} streams ` +
      'of the user on this process).',
    '',
    '**Resume.** Each `message.created` and each change delivered in order carries an `id:`, an opaque cursor of ' +
      'every chat (seqs and revs). An ' +
      '`EventSource` sends the last one back as `Last-Event-ID` when it reconnects (the stream opens with ' +
      '`retry: 2000`), and the server replays what was missed, then says `resumed`; `?resume=` does the same.',
    '',
    `**Heartbeats.** A comment line (\`: ping\`) every ${limits.heartbeatMs} ms (\`PARLEY_WS_HEARTBEAT_MS\`).`,
    '',
    '**Closing.** The server ends a stream with a `close` frame carrying the code a WebSocket would get (see the ' +
      'WebSocket channel): 1001, 1013, 4001, 4008.',
  ].join('\n');
}

/** The AsyncAPI 3.0 document of the stream, as `GET /asyncapi.json` serves it. */
export function buildAsyncApi(options: AsyncApiOptions): Json {
  const { base, host, secure } = options;
  const events = Object.keys(ServerEvents);
  const control = Object.keys(ControlFrames);
  const clientKeys = Object.keys(ClientFrames).map(clientMessageKey);
  const websocketControl = control.filter((type) => !(SSE_ONLY as readonly string[]).includes(type));
  const sseControl = control.filter((type) => !(WEBSOCKET_ONLY as readonly string[]).includes(type));
  const security = [
    { $ref: '#/components/securitySchemes/bearerAuth' },
    { $ref: '#/components/securitySchemes/accessToken' },
  ];

  const messages: Record<string, Json> = {};
  for (const [type, payload] of Object.entries(ServerEvents)) {
    const tag = EVENT_TAGS.find(([, map]) => type in map)?.[0] ?? 'stream';
    messages[type] = message(type, payload, tag, `${pascal(type)}Frame`);
  }
  for (const [type, payload] of Object.entries(ControlFrames)) {
    messages[type] = message(type, payload, 'control', `${pascal(type)}Frame`);
  }
  for (const [type, payload] of Object.entries(ClientFrames)) {
    messages[clientMessageKey(type)] = message(type, payload, 'client', `Client${pascal(type)}Frame`);
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Parley real-time stream',
      // The stream is part of API v1, as the OpenAPI document of the same server.
      version: '1.0.0',
      description:
        'The events of the chats a user is in, live, over a WebSocket or as Server-Sent Events. This document ' +
        'describes the server: it *sends* the events and control frames, and *receives* the frames a WebSocket ' +
        'client sends. The REST API is described by `openapi.json` beside this document.',
    },
    defaultContentType: 'application/json',
    servers: {
      websocket: {
        host,
        protocol: secure ? 'wss' : 'ws',
        title: 'WebSocket',
        security,
      },
      sse: {
        host,
        protocol: secure ? 'https' : 'http',
        title: 'Server-Sent Events',
        security,
      },
    },
    channels: {
      stream: {
        address: `${base}/stream`,
        title: 'The stream, as a WebSocket',
        servers: [{ $ref: '#/servers/websocket' }],
        description: describeStream(options),
        messages: refs([...events, ...websocketControl, ...clientKeys]),
        bindings: {
          ws: {
            method: 'GET',
            query: { type: 'object', properties: { access_token: tokenQuery, resume: resumeQuery } },
            headers: {
              type: 'object',
              properties: { Authorization: { type: 'string', description: '`Bearer <JWT>`' } },
            },
            bindingVersion: '0.1.0',
          },
        },
      },
      events: {
        address: `${base}/events`,
        title: 'The stream, as Server-Sent Events',
        servers: [{ $ref: '#/servers/sse' }],
        description: describeEvents(options),
        messages: refs([...events, ...sseControl]),
      },
    },
    operations: {
      sendStreamEvents: {
        action: 'send',
        channel: { $ref: '#/channels/stream' },
        summary: 'The events of the user’s chats, and of their tenant',
        messages: channelMessages('stream', events),
      },
      sendStreamControl: {
        action: 'send',
        channel: { $ref: '#/channels/stream' },
        summary: 'Frames about the stream itself: `ready` first, `resumed`, `error`',
        messages: channelMessages(
          'stream',
          websocketControl.filter((type) => type !== 'pong'),
        ),
      },
      receiveResume: {
        action: 'receive',
        channel: { $ref: '#/channels/stream' },
        summary: 'Replay what the client missed, then go live',
        messages: channelMessages('stream', [clientMessageKey('resume')]),
        reply: { channel: { $ref: '#/channels/stream' }, messages: channelMessages('stream', ['resumed']) },
      },
      receiveTyping: {
        action: 'receive',
        channel: { $ref: '#/channels/stream' },
        summary: 'The user is typing in a chat',
        messages: channelMessages('stream', [clientMessageKey('typing')]),
      },
      receivePing: {
        action: 'receive',
        channel: { $ref: '#/channels/stream' },
        summary: 'A liveness check, answered with `pong`',
        messages: channelMessages('stream', [clientMessageKey('ping')]),
        reply: { channel: { $ref: '#/channels/stream' }, messages: channelMessages('stream', ['pong']) },
      },
      sendServerSentEvents: {
        action: 'send',
        channel: { $ref: '#/channels/events' },
        summary: 'The same events as the WebSocket, with `ready`, `resumed` and `close`',
        messages: channelMessages('events', [...events, ...sseControl]),
        bindings: {
          http: {
            method: 'GET',
            query: { type: 'object', properties: { access_token: tokenQuery, resume: resumeQuery } },
            bindingVersion: '0.3.0',
          },
        },
      },
    },
    components: {
      schemas: Object.fromEntries(Object.entries(NAMED).map(([name, schema]) => [name, plain(schema, name)])),
      messages,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: '`Authorization: Bearer <JWT>`',
        },
        accessToken: {
          type: 'httpApiKey',
          in: 'query',
          name: 'access_token',
          description: 'the JWT in the query: a browser’s WebSocket or EventSource cannot set a header',
        },
      },
    },
  };
}
