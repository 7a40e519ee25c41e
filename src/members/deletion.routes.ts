import { actorOf } from '../auth/auth.hook.ts';
import { NoContent, operation, secured, type Routes } from '../http/routes.ts';
import { UserParams } from '../users/user.schema.ts';
import { deleteMe, deleteUser } from './deletion.service.ts';

const erasure =
  'The user is deleted for good: their memberships go (each chat hears `member.removed`; a group whose last owner ' +
  'they were gets a new owner), their streams are closed (4001), the tenant hears `user.deleted`, and their tokens ' +
  'are refused (401) from then on. Their messages stay, shown as written by a deleted user: `GET /v1/users/{id}` ' +
  'answers `deletedAt`, `username` `deleted-user`, `displayName` `Deleted user`, the personal fields erased.';

/** User deletion: under the users tag, but in the members feature, whose memberships it removes. */
export const deletionRoutes: Routes = async (app, { ctx }) => {
  app.delete(
    '/me',
    {
      schema: {
        tags: ['users'],
        ...operation('deleteMe', 'Delete your own user', ['not_found']),
        description: erasure,
        ...secured,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await deleteMe(ctx, actorOf(request));
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        ...operation('deleteUser', 'Delete a user (tenant administrators; anyone for themself)', [
          'forbidden',
          'not_found',
        ]),
        description: `${erasure} 403 for a caller who is neither the user nor a tenant administrator (\`roles: ["admin"]\`); 404 for a user that does not exist or is already deleted.`,
        ...secured,
        params: UserParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await deleteUser(ctx, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
