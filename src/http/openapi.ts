import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { finishDocument } from './openapi.document.ts';
import { documentRoute, type DocumentOptions } from './openapi.operations.ts';
import { namedSchemas } from './openapi.schemas.ts';

/** The document's tags, in this order, each described once. */
const TAGS: Record<string, string> = {
  users: "The caller's profile, the tenant's directory, and deleting users (docs/users.md).",
  chats: 'Direct chats and groups, each with the caller’s unread count and last message.',
  members: 'Who is in a chat, and their roles: owner, admin, member.',
  messages: 'Sending, reading history, editing and deleting; read cursors and unread counts.',
  moderation: 'Mutes, bans, blocks, reports of messages and the moderation log (docs/moderation.md).',
  files: 'Uploading files to chats and downloading them through short-lived signed links (docs/files.md).',
  search: 'Full-text search of the messages of the caller’s chats (docs/search.md).',
  stream:
    'Real-time events over a WebSocket or Server-Sent Events; the frames are described in docs/stream.md.',
  jsonapi: 'JSON:API relationship endpoints (docs/jsonapi.md); every other operation speaks JSON:API too.',
  health: 'Liveness and readiness, for balancers and orchestrators; no token.',
};

/**
 * /openapi.json from the routes' own schemas, and the explorer at /docs (and /explorer). The server is the mount
 * prefix (`/` standalone), so paths read `/v1/...` wherever Parley is mounted and a client generated once works
 * under any prefix, given its base URL.
 */
export async function registerOpenApi(
  app: FastifyInstance,
  options: Omit<DocumentOptions, 'prefix'>,
): Promise<void> {
  const documented: DocumentOptions = { ...options, prefix: app.prefix };
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Parley API',
        version: '1.0.0',
        description:
          'Chat between users and groups: chats, members, messages with gapless per-chat seq, unread counts. ' +
          'Errors are `{"error": {"code", "message", "details"?}}` (docs/api.md).' +
          (options.jsonapi
            ? ' Every operation speaks JSON:API 1.0 too (`application/vnd.api+json`); a JSON:API request uses ' +
              "JSON:API's query parameters (`include`, `fields[type]`, `page[size]`, `page[cursor]`, `filter[...]`, " +
              '`sort`) instead of the native ones (docs/jsonapi.md).'
            : ''),
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      servers: [
        {
          url: app.prefix === '' ? '/' : app.prefix,
          description: 'This server, where Parley is mounted (relative to the address of this document).',
        },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          // The stream's alternative to the header, for browsers (a WebSocket or an EventSource cannot set one).
          accessToken: { type: 'apiKey', in: 'query', name: 'access_token' },
        },
        schemas: namedSchemas() as Record<string, object>,
      },
    },
    transform: documentRoute(documented),
    transformObject: finishDocument(options.jsonapi !== null, TAGS),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/explorer', { schema: { hide: true } }, async (request, reply) =>
    reply.redirect(`${request.url.replace(/\/explorer(\?.*)?$/, '')}/docs`),
  );
}
