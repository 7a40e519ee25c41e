import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../auth/auth.hook.ts';
import type { Context } from '../../context.ts';
import { permit } from './sourceloop.permissions.ts';
import {
  clearWhere,
  createRecipient,
  createRecipientOf,
  messageOf,
  recipients,
  recipientsOf,
} from './sourceloop.recipient.operations.ts';
import { childRoutes, resourceRoutes } from './sourceloop.resource.ts';
import {
  FullMessageRecipient,
  IdParams,
  MessageRecipientPartial,
  NewMessageRecipient,
  NewMessageRecipientInMessage,
} from './sourceloop.schema.ts';

const tags = ['sourceloop'];

const permissions = {
  view: 'ViewMessageRecipient',
  create: 'CreateMessageRecipient',
  update: 'UpdateMessageRecipient',
  delete: 'DeleteMessageRecipient',
};

/**
 * SourceLoop's message recipients (routes 13–25) on Parley's per-member state: a message's recipients are the
 * members of its chat other than its author. Only the recipient changes its own state.
 */
export const sourceloopRecipientRoutes: FastifyPluginAsyncTypebox<{ ctx: Context }> = async (
  app,
  { ctx },
) => {
  // 13. GET, 14. POST, 15. PATCH ?where= (e.g. {"isRead": true} to mark read) and 16. DELETE ?where= (clears the
  // caller's own flags) /messages/{id}/message-recipients.
  childRoutes(app, ctx, {
    path: '/messages/:id/message-recipients',
    permissions,
    schemas: { create: NewMessageRecipientInMessage, partial: MessageRecipientPartial },
    operations: recipients,
    scope: recipientsOf,
    create: createRecipientOf,
    removeWhere: clearWhere,
  });

  // 17. POST /message-recipients
  app.post(
    '/message-recipients',
    { preHandler: permit(permissions.create), schema: { tags, body: NewMessageRecipient } },
    async (request) => createRecipient(ctx, actorOf(request), request.body),
  );

  // 18. GET /message-recipients/count, 19. GET /message-recipients, 20. PATCH /message-recipients?where=,
  // 21. GET, 22. PATCH, 23. PUT (204) and 24. DELETE (clears the caller's own flags, 204) /message-recipients/{id}.
  resourceRoutes(app, ctx, {
    path: '/message-recipients',
    permissions,
    schemas: { partial: MessageRecipientPartial, full: FullMessageRecipient },
    operations: recipients,
  });

  // 25. GET /message-recipients/{id}/message (ViewMessage, as the source)
  app.get(
    '/message-recipients/:id/message',
    { preHandler: permit('ViewMessage'), schema: { tags, params: IdParams } },
    async (request) => messageOf(ctx, actorOf(request), request.params.id),
  );
};
