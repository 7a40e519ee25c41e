import { actorOf } from '../auth/auth.hook.ts';
import { ChatParams } from '../chats/chat.schema.ts';
import { NoContent, operation, PageOf, secured, type Routes } from '../http/routes.ts';
import { MessageParams, MessageView } from './message.schema.ts';
import { ListPinsQuery } from './pin.schema.ts';
import { listPins, pinMessage, unpinMessage } from './pin.service.ts';

/** Pins, addressed like the message itself: by the chat and the message's seq in it. */
export const pinRoutes: Routes = async (app, { ctx }) => {
  app.put(
    '/chats/:id/messages/:seq/pin',
    {
      schema: {
        tags: ['messages'],
        ...operation('pinMessage', 'Pin a message', ['not_found', 'forbidden', 'conflict', 'limit_exceeded']),
        ...secured,
        description:
          'Pins the message and answers it (with `pinnedAt`, `pinnedBy`): 201 when pinned now, 200 when it was ' +
          'pinned already (nothing changes). A group’s owners and admins pin (403 for other members); both ' +
          'members of a direct chat do. A deleted message cannot be pinned (409 `conflict`); a chat has at most ' +
          '`PARLEY_MAX_PINS_PER_CHAT` pinned messages (409 `limit_exceeded`, limit `pins_per_chat`).',
        params: MessageParams,
        response: { 200: MessageView, 201: MessageView },
      },
    },
    async (request, reply) => {
      const { id, seq } = request.params;
      const { message, created } = await pinMessage(ctx, actorOf(request), id, seq);
      return reply.status(created ? 201 : 200).send(message);
    },
  );

  app.delete(
    '/chats/:id/messages/:seq/pin',
    {
      schema: {
        tags: ['messages'],
        ...operation('unpinMessage', 'Unpin a message', ['not_found', 'forbidden']),
        ...secured,
        description: 'Who may pin may unpin. 204 also when the message was not pinned.',
        params: MessageParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { id, seq } = request.params;
      await unpinMessage(ctx, actorOf(request), id, seq);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/chats/:id/pins',
    {
      schema: {
        tags: ['messages'],
        ...operation('listPins', "A chat's pinned messages", ['not_found']),
        ...secured,
        description: 'Newest pin first, a page at a time; each message with its `pinnedAt` and `pinnedBy`.',
        params: ChatParams,
        querystring: ListPinsQuery,
        response: { 200: PageOf(MessageView) },
      },
    },
    (request) => listPins(ctx, actorOf(request), request.params.id, request.query),
  );
};
