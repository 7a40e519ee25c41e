import type { FastifySchema } from 'fastify';

/**
 * The stream's two routes as OpenAPI can describe them. For documentation only (each route's `swaggerTransform`):
 * as validation schemas they would change what the routes answer (a plain GET of the WebSocket route must stay a
 * 426, not a 400 for a missing `Upgrade` header).
 */

/** The token in the Authorization header, or (browsers cannot set headers on a WebSocket or an EventSource) the query. */
const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { accessToken: [] }];

/** A refusal in the contract's error body (the document's `Error` schema). */
const refusal = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** Response headers are given as schemas here: the document wraps each in a header object. */
const retryAfter = {
  'Retry-After': { type: 'integer', minimum: 0, description: 'Seconds to wait before trying again.' },
};

const refusals = {
  401: refusal('`unauthorized`: no token, or a token that is not valid'),
  429: { ...refusal('`rate_limited`: too many requests'), headers: retryAfter },
  500: refusal('`internal`: a failure of the server'),
  503: {
    ...refusal('`unavailable`: the server is shutting down, or the database cannot be reached'),
    headers: retryAfter,
  },
};

const resume = {
  type: 'string',
  description:
    'where to resume: `{"<chatId>": <last seq seen>, ...}` as JSON, or the `id` of the last event received; ' +
    'every message after those seqs is replayed, in order, before the stream goes live',
};

export const websocketDocs: FastifySchema = {
  tags: ['stream'],
  operationId: 'openStream',
  summary: 'The real-time stream, as a WebSocket',
  description:
    'Upgrade to a WebSocket (`Connection: Upgrade`, `Upgrade: websocket`): every frame is one JSON object with a ' +
    '`type`: `ready` first, then the events of the chats the user is in (`message.created`, `chat.updated`, ' +
    '`member.added`, `member.removed`, `typing`, `presence`, `user.deleted`, ...). The client may send `resume`, ' +
    '`typing` and `ping` frames. Close codes: 1001 going away (reconnect elsewhere), 1008 a `resume` that is not ' +
    'valid, 1013 try again later, 4001 the user was deleted (do not reconnect: the token is refused), 4008 ' +
    'too slow (reconnect and resume), 4009 too many streams of this user, 4029 too many frames. OpenAPI cannot describe the frames themselves: ' +
    '/asyncapi.json does (docs/stream.md).',
  security,
  headers: {
    type: 'object',
    properties: {
      upgrade: { type: 'string', enum: ['websocket'], description: 'required: a plain GET is a 426' },
    },
    required: ['upgrade'],
  },
  querystring: { type: 'object', properties: { resume } },
  response: {
    101: { description: 'Switching Protocols: the stream is open', type: 'null' },
    ...refusals,
    426: refusal('`upgrade_required`: a plain HTTP request; connect with `Upgrade: websocket`'),
  },
};

export const eventsDocs: FastifySchema = {
  tags: ['stream'],
  operationId: 'openEventStream',
  summary: 'The real-time stream, as Server-Sent Events',
  description:
    'The same events as the WebSocket stream, one JSON object per `data:` line; message events carry an `id` that ' +
    '`Last-Event-ID` (sent by an `EventSource` when it reconnects) or `?resume=` resumes from. A `close` frame ' +
    'ends the stream with a code, as a WebSocket close would. The events: docs/stream.md.',
  security,
  headers: {
    type: 'object',
    properties: {
      'last-event-id': {
        type: 'string',
        description: 'the `id` of the last event received: resume after it',
      },
    },
  },
  querystring: { type: 'object', properties: { resume } },
  response: {
    200: {
      description: 'the stream: `text/event-stream`, until either side closes it',
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    },
    400: refusal('`invalid_request`: `resume` or `Last-Event-ID` is not a valid cursor'),
    ...refusals,
    409: refusal('`limit_exceeded`: the user already holds as many streams as allowed on this process'),
  },
};
