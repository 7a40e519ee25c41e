import { actorOf } from '../auth/auth.hook.ts';
import { NoContent, operation, PageOf, secured, type Routes } from '../http/routes.ts';
import {
  ListReactionUsersQuery,
  ReactionChangeView,
  ReactionParams,
  ReactionUserView,
} from './reaction.schema.ts';
import { addReaction, listReactionUsers, removeReaction } from './reaction.service.ts';

/** Reactions to a message, addressed like the message itself: by the chat and the message's seq in it. */
export const reactionRoutes: Routes = async (app, { ctx }) => {
  app.put(
    '/chats/:id/messages/:seq/reactions/:emoji',
    {
      schema: {
        tags: ['messages'],
        ...operation('addReaction', 'React to a message with an emoji', [
          'not_found',
          'conflict',
          'limit_exceeded',
        ]),
        ...secured,
        description:
          'Adds the caller’s reaction: 201 when added, 200 when the caller had already reacted with this emoji ' +
          '(nothing changes). The emoji is percent-encoded in the path: 1 to 32 bytes of UTF-8, no whitespace or ' +
          'control characters. A deleted message takes no reactions (409 `conflict`); a message has at most ' +
          '`PARLEY_MAX_REACTIONS_PER_MESSAGE` different emoji (409 `limit_exceeded`, limit `reactions_per_message`).',
        params: ReactionParams,
        response: { 200: ReactionChangeView, 201: ReactionChangeView },
      },
    },
    async (request, reply) => {
      const { id, seq, emoji } = request.params;
      const { reaction, created } = await addReaction(ctx, actorOf(request), id, seq, emoji);
      return reply.status(created ? 201 : 200).send(reaction);
    },
  );

  app.delete(
    '/chats/:id/messages/:seq/reactions/:emoji',
    {
      schema: {
        tags: ['messages'],
        ...operation('removeReaction', 'Take back your reaction to a message', ['not_found', 'conflict']),
        ...secured,
        description: '204 also when the caller had not reacted with this emoji. 409 on a deleted message.',
        params: ReactionParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { id, seq, emoji } = request.params;
      await removeReaction(ctx, actorOf(request), id, seq, emoji);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/chats/:id/messages/:seq/reactions/:emoji/users',
    {
      schema: {
        tags: ['messages'],
        ...operation('listReactionUsers', 'Who reacted to a message with an emoji', [
          'not_found',
          'conflict',
        ]),
        ...secured,
        description: 'First reacted first, a page at a time. 409 on a deleted message.',
        params: ReactionParams,
        querystring: ListReactionUsersQuery,
        response: { 200: PageOf(ReactionUserView) },
      },
    },
    (request) => {
      const { id, seq, emoji } = request.params;
      return listReactionUsers(ctx, actorOf(request), id, seq, emoji, request.query);
    },
  );
};
