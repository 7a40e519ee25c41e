import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { OutageReporter } from '../../errors/database.ts';
import { shapeErrors } from '../dialect.errors.ts';
import type { TenantDialect } from '../dialect.tenant.ts';
import { bodyProblem } from './drf.body.ts';
import { PkParams, UsersQuery } from './drf.schema.ts';
import { carriedFieldErrors } from './drf.user.fields.ts';
import { createUser, deleteUser, findUsers, showUser, updateUser } from './drf.user.operations.ts';

const tags = ['drf'];

/** DRF's generic user views: users with a profile, their errors `{"<field>": ["<problem>"]}` or `{"detail"}`. */
export const drfUserRoutes: FastifyPluginAsyncTypebox<{
  drf: TenantDialect;
  outages?: OutageReporter | undefined;
}> = async (app, { drf, outages }) => {
  shapeErrors(app, { exposeStack: false, outages }, ({ status, body }, error, request) => {
    const unreadable = bodyProblem(error, request);
    if (unreadable !== null) {
      return { status, body: { detail: unreadable } };
    }
    const fields = carriedFieldErrors(body.error.details);
    if (fields) {
      return { status: 400, body: fields };
    }
    if (body.error.code === 'conflict') {
      return { status: 400, body: { username: ['A user with that username already exists.'] } };
    }
    return { status, body: { detail: status === 404 ? 'Not found.' : body.error.message } };
  });

  app.get('/users/', { schema: { tags, querystring: UsersQuery } }, async (request) =>
    findUsers(drf, request.query),
  );

  app.post('/users/', { schema: { tags } }, async (request, reply) => {
    const user = await createUser(drf, request.body);
    return reply.status(201).send(user);
  });

  app.get('/users/:pk/', { schema: { tags, params: PkParams } }, async (request) =>
    showUser(drf, request.params.pk),
  );

  app.put('/users/:pk/', { schema: { tags, params: PkParams } }, async (request) =>
    updateUser(drf, request.params.pk, request.body, false),
  );
  app.patch('/users/:pk/', { schema: { tags, params: PkParams } }, async (request) =>
    updateUser(drf, request.params.pk, request.body, true),
  );
  app.delete('/users/:pk/', { schema: { tags, params: PkParams } }, async (request, reply) => {
    await deleteUser(drf, request.params.pk);
    return reply.status(204).send();
  });
};
