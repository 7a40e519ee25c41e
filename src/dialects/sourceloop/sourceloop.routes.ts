import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { onRequestHookHandler } from 'fastify';
import type { Context } from '../../context.ts';
import type { OutageReporter } from '../../errors/database.ts';
import { secured } from '../../http/routes.ts';
import { refused, shapeErrors } from '../dialect.errors.ts';
import { sourceloopAttachmentRoutes } from './sourceloop.attachment.routes.ts';
import { sourceloopMessageRoutes } from './sourceloop.message.routes.ts';
import { sourceloopRecipientRoutes } from './sourceloop.recipient.routes.ts';

export interface SourceLoopOptions {
  ctx: Context;
  authenticate: onRequestHookHandler;
  exposeStack: boolean;
  /** Where database outages are reported (once each, not per request). */
  outages?: OutageReporter;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'BadRequestError',
  401: 'UnauthorizedError',
  403: 'ForbiddenError',
  404: 'NotFoundError',
  409: 'ConflictError',
  413: 'PayloadTooLargeError',
  415: 'UnsupportedMediaTypeError',
  422: 'UnprocessableEntityError',
  429: 'TooManyRequestsError',
  503: 'ServiceUnavailableError',
};

/**
 * SourceLoop's chat-service message API (docs/dialects), LoopBack 4 shaped, on Parley's chats and messages:
 * the native JWT plus the token's `permissions`; a caller sees only the chats it belongs to.
 */
export const sourceloopRoutes: FastifyPluginAsyncTypebox<SourceLoopOptions> = async (
  app,
  { ctx, authenticate, exposeStack, outages },
) => {
  app.addHook('onRequest', authenticate);
  // Every route here needs the token: OpenAPI says so on each.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, security: secured.security };
  });
  shapeErrors(app, { exposeStack, outages }, ({ status, body }, error) => {
    // LoopBack answers validation problems with 422 VALIDATION_FAILED and a missing entity with ENTITY_NOT_FOUND.
    const validation =
      refused(error, 'invalid_request') ||
      (typeof error === 'object' && error !== null && 'validation' in error);
    const statusCode = validation ? 422 : status;
    const code = validation ? 'VALIDATION_FAILED' : status === 404 ? 'ENTITY_NOT_FOUND' : body.error.code;
    return {
      status: statusCode,
      body: {
        error: {
          statusCode,
          name: ERROR_NAMES[statusCode] ?? 'InternalServerError',
          code,
          message: body.error.message,
          ...(body.error.details ? { details: body.error.details } : {}),
        },
      },
    };
  });

  await app.register(sourceloopRecipientRoutes, { ctx });
  await app.register(sourceloopAttachmentRoutes, { ctx });
  await app.register(sourceloopMessageRoutes, { ctx });
};
