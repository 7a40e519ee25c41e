import { actorOf } from '../auth/auth.hook.ts';
import { NoContent, operation, PageOf, secured, type Routes } from '../http/routes.ts';
import { BlockParams, BlockView, ListBlocksQuery } from './block.schema.ts';
import { blockUser, getBlock, listBlocks, unblockUser } from './block.service.ts';

/** The caller's blocks of other users (docs/moderation.md, "Blocks"). */
export const blockRoutes: Routes = async (app, { ctx }) => {
  app.get(
    '/me/blocks',
    {
      schema: {
        tags: ['moderation'],
        ...operation('listBlocks', 'The users you block'),
        ...secured,
        querystring: ListBlocksQuery,
        response: { 200: PageOf(BlockView) },
      },
    },
    (request) => listBlocks(ctx, actorOf(request), request.query),
  );

  app.put(
    '/me/blocks/:userId',
    {
      schema: {
        tags: ['moderation'],
        ...operation('blockUser', 'Block a user', ['not_found']),
        ...secured,
        description:
          'They can no longer open a direct chat with you, and their messages into the one you have are refused ' +
          '(403, without saying why). 201 when blocked, 200 when you already did. Private: they are not told.',
        params: BlockParams,
        response: { 200: BlockView, 201: BlockView },
      },
    },
    async (request, reply) => {
      const { block, created } = await blockUser(ctx, actorOf(request), request.params.userId);
      return reply.status(created ? 201 : 200).send(block);
    },
  );

  app.get(
    '/me/blocks/:userId',
    {
      schema: {
        tags: ['moderation'],
        ...operation('getBlock', 'Whether you block a user', ['not_found']),
        ...secured,
        description: '404 when you do not.',
        params: BlockParams,
        response: { 200: BlockView },
      },
    },
    (request) => getBlock(ctx, actorOf(request), request.params.userId),
  );

  app.delete(
    '/me/blocks/:userId',
    {
      schema: {
        tags: ['moderation'],
        ...operation('unblockUser', 'Unblock a user'),
        ...secured,
        description: '204 also when you did not block them.',
        params: BlockParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await unblockUser(ctx, actorOf(request), request.params.userId);
      return reply.status(204).send(null);
    },
  );
};
