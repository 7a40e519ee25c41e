import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { Store } from '../db/connect.ts';
import { isDatabaseUnavailable } from '../errors/database.ts';
import { RETRY_AFTER_SECONDS } from '../errors/http.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A health check, called by balancers and orchestrators at their own pace: never rate limited, and while the
     * server shuts down answered 503 `{"status": "shutting down"}` (plugin.ts).
     */
    healthCheck?: boolean;
  }
}

export const HealthView = Type.Object({ status: Type.String(), database: Type.Optional(Type.String()) });
export type HealthView = Static<typeof HealthView>;

export const healthRoutes: FastifyPluginAsyncTypebox<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/health/live',
    {
      config: { healthCheck: true },
      schema: {
        tags: ['health'],
        operationId: 'getLiveness',
        summary: 'Liveness',
        description: 'The process is up. 503 `{"status": "shutting down"}` once it is closing.',
        security: [],
        response: { 200: HealthView, 503: HealthView },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/health/ready',
    {
      config: { healthCheck: true },
      schema: {
        tags: ['health'],
        operationId: 'getReadiness',
        summary: 'Readiness',
        description: 'The database answers: 200, else 503 (and 503 while the server is closing).',
        security: [],
        response: { 200: HealthView, 503: HealthView },
      },
    },
    async (request, reply) => {
      try {
        await store.ping();
      } catch (error) {
        // An outage is logged once by the store's health, not once per probe (probes come every few seconds).
        if (isDatabaseUnavailable(error)) {
          store.health.failed(error);
        } else {
          request.log.warn({ err: error }, 'readiness check failed');
        }
        void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        return reply.status(503).send({ status: 'unavailable', database: 'down' });
      }
      store.health.answered();
      return { status: 'ok', database: 'up' };
    },
  );
};
