import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../auth/auth.hook.ts';
import type { Context } from '../../context.ts';
import {
  createMessage,
  createReply,
  deleteWhere,
  messages,
  repliesTo,
} from './sourceloop.message.operations.ts';
import { permit } from './sourceloop.permissions.ts';
import { childRoutes, resourceRoutes } from './sourceloop.resource.ts';
import { FullMessage, MessagePartial, NewMessage, NewMessageInMessage } from './sourceloop.schema.ts';

const tags = ['sourceloop'];

/** SourceLoop's messages (routes 1–12) on Parley's chats and messages; a caller sees only its own chats. */
export const sourceloopMessageRoutes: FastifyPluginAsyncTypebox<{ ctx: Context }> = async (app, { ctx }) => {
  // 1. POST /messages
  app.post(
    '/messages',
    { preHandler: permit('CreateMessage'), schema: { tags, body: NewMessage } },
    async (request) => createMessage(ctx, actorOf(request), request.body),
  );

  // 2. GET /messages/count, 3. GET /messages, 4. PATCH /messages?where= (the caller's own), 5. GET /messages/{id},
  // 6. PATCH and 7. PUT /messages/{id} (204), 8. DELETE /messages/{id} (soft delete, 204: then 404, uncounted).
  resourceRoutes(app, ctx, {
    path: '/messages',
    permissions: { view: 'ViewMessage', update: 'UpdateMessage', delete: 'DeleteMessage' },
    schemas: { partial: MessagePartial, full: FullMessage },
    operations: messages,
  });

  // 9. GET, 10. POST (a reply in the parent's channel), 11. PATCH ?where= and 12. DELETE ?where= (the replies the
  // caller may delete: its own; all as the chat's owner or admin) /messages/{id}/messages.
  childRoutes(app, ctx, {
    path: '/messages/:id/messages',
    permissions: {
      view: 'ViewMessage',
      create: 'CreateMessage',
      update: 'UpdateMessage',
      delete: 'DeleteMessage',
    },
    schemas: { create: NewMessageInMessage, partial: MessagePartial },
    operations: messages,
    scope: repliesTo,
    create: createReply,
    removeWhere: deleteWhere,
  });
};
