import { actorOf } from '../auth/auth.hook.ts';
import { operation, PageOf, secured, type Routes } from '../http/routes.ts';
import { CreateUserBody, ListUsersQuery, UpdateMeBody, UserParams, UserView } from './user.schema.ts';
import { createUser, getMe, getUser, listUsers, updateMe } from './user.service.ts';

export const userRoutes: Routes = async (app, { ctx }) => {
  app.get(
    '/me',
    {
      schema: {
        tags: ['users'],
        ...operation('getMe', 'Your own profile', ['not_found']),
        ...secured,
        response: { 200: UserView },
      },
    },
    (request) => getMe(ctx, actorOf(request)),
  );

  app.patch(
    '/me',
    {
      schema: {
        tags: ['users'],
        ...operation('updateMe', 'Change your display name, status or status text', ['not_found']),
        ...secured,
        body: UpdateMeBody,
        response: { 200: UserView },
      },
    },
    (request) => updateMe(ctx, actorOf(request), request.body),
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        ...operation('createUser', 'Create a user (tenant administrators)', ['forbidden', 'conflict']),
        ...secured,
        body: CreateUserBody,
        response: { 201: UserView },
      },
    },
    async (request, reply) => reply.status(201).send(await createUser(ctx, actorOf(request), request.body)),
  );

  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        ...operation('listUsers', "List the tenant's users, or find them by username"),
        ...secured,
        querystring: ListUsersQuery,
        response: { 200: PageOf(UserView) },
      },
    },
    (request) => listUsers(ctx, actorOf(request), request.query),
  );

  app.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        ...operation('getUser', 'A user of your tenant', ['not_found']),
        ...secured,
        params: UserParams,
        response: { 200: UserView },
      },
    },
    (request) => getUser(ctx, actorOf(request), request.params.id),
  );
};
