import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Context } from '../../context.ts';
import type { OutageReporter } from '../../errors/database.ts';
import { secured } from '../../http/routes.ts';
import { shapeErrors } from '../dialect.errors.ts';
import { sourceloopAttachmentRoutes } from './sourceloop.attachment.routes.ts';
import { loopBackAnswer, parseJsonAsLoopBack } from './sourceloop.errors.ts';
import { sourceloopMessageRoutes } from './sourceloop.message.routes.ts';
import { sourceloopRecipientRoutes } from './sourceloop.recipient.routes.ts';

export interface SourceLoopOptions {
  ctx: Context;
  /** Parley's token check: sets `request.actor`, or throws a 401. */
  authenticate: (request: FastifyRequest) => Promise<void>;
  exposeStack: boolean;
  /** Where database outages are reported (once each, not per request). */
  outages?: OutageReporter;
}

/**
 * SourceLoop's chat-service message API (docs/dialects/sourceloop.md), LoopBack 4 shaped, on Parley's chats and
 * messages: the native JWT plus the token's `permissions`; a caller sees only the chats it belongs to. As in
 * LoopBack's sequence, the permission is checked after the body is parsed and validated (route-level
 * `preHandler: permit(...)`).
 */
export const sourceloopRoutes: FastifyPluginAsyncTypebox<SourceLoopOptions> = async (
  app,
  { ctx, authenticate, exposeStack, outages },
) => {
  // Unlike LoopBack, which parses and validates a request before it authenticates, a request without a valid token
  // learns nothing here, not even the schema: a 401 at once. An unknown path is a 404 (LoopBack finds routes first).
  app.addHook('onRequest', async (request) => {
    if (!request.is404) {
      await authenticate(request);
    }
  });
  // Every route here needs the token: OpenAPI says so on each.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, security: secured.security };
  });
  parseJsonAsLoopBack(app);
  shapeErrors(app, { exposeStack, outages }, loopBackAnswer);
  app.setNotFoundHandler(async (_request, reply) =>
    reply.status(404).send({ error: { statusCode: 404, name: 'NotFoundError', message: 'API not found !' } }),
  );

  await app.register(sourceloopRecipientRoutes, { ctx });
  await app.register(sourceloopAttachmentRoutes, { ctx });
  await app.register(sourceloopMessageRoutes, { ctx });
};
