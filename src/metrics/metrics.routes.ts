import type { FastifyPluginAsync } from 'fastify';
import type { MetricsConfig } from './metrics.config.ts';
import { notFound, unauthorized } from '../errors/codes.ts';
import { metricsAccess } from './metrics.access.ts';
import type { Metrics } from './metrics.registry.ts';

export interface MetricsRouteOptions {
  metrics: Metrics;
  access: MetricsConfig;
}

/** `GET /metrics`: the Prometheus text format, for whoever `metricsAccess` lets read it. */
export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, { metrics, access }) => {
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    const verdict = metricsAccess(access, {
      authorization: request.headers.authorization,
      peerAddress: request.socket.remoteAddress,
      forwarded: request.headers.forwarded !== undefined || request.headers['x-forwarded-for'] !== undefined,
    });
    if (verdict === 'hidden') {
      // Exactly what a path without a route answers: nothing tells a stranger that metrics are here.
      throw notFound(`no route for ${request.method} ${request.url.split('?')[0]}`);
    }
    if (verdict === 'unauthorized') {
      void reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw unauthorized('metrics: a valid bearer token is required');
    }
    void reply.header('cache-control', 'no-store');
    return reply.type(metrics.contentType).send(await metrics.render());
  });
};
