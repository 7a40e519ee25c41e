import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Store } from '../db/connect.ts';

const Status = Type.Object({ status: Type.String(), database: Type.Optional(Type.String()) });

export const healthRoutes: FastifyPluginAsyncTypebox<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/health/live',
    { schema: { tags: ['health'], description: 'The process is up.', response: { 200: Status } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['health'],
        description: 'The database answers: 200, else 503.',
        response: { 200: Status, 503: Status },
      },
    },
    async (request, reply) => {
      try {
        await store.ping();
        return { status: 'ok', database: 'up' };
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        return reply.status(503).send({ status: 'unavailable', database: 'down' });
      }
    },
  );
};
