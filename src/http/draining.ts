import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/codes.ts';

/**
 * Shutdown (docs/operations.md): from the moment the app starts closing, a request that arrives is
 * answered 503 `unavailable` with `Retry-After` (a health check 503 in its own shape, so that a balancer stops
 * sending), and every answer,
 * those of requests already in flight included, carries `Connection: close`. Without it a keep-alive connection
 * whose request was in flight stays open after its answer and holds the server's close until the client's
 * keep-alive timeout.
 */
export function installDraining(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) {
      return;
    }
    if (request.routeOptions.config.healthCheck) {
      return reply.code(503).send({ status: 'shutting down' });
    }
    throw new AppError('unavailable', 'the server is shutting down; retry, another instance will answer');
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) {
      void reply.header('connection', 'close');
    }
    done(null, payload);
  });
}
