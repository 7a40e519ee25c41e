import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** /openapi.json from the routes' own schemas, and the explorer at /docs (and /explorer). */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Parley API',
        version: '1.0.0',
        description:
          'Chat between users and groups: chats, members, messages with gapless per-chat seq, unread counts.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          // The stream's alternative to the header, for browsers (a WebSocket or an EventSource cannot set one).
          accessToken: { type: 'apiKey', in: 'query', name: 'access_token' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/explorer', { schema: { hide: true } }, async (request, reply) =>
    reply.redirect(`${request.url.replace(/\/explorer(\?.*)?$/, '')}/docs`),
  );
}
