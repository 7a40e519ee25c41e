import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import type { Actor } from '../../auth/actor.ts';
import { actorOf } from '../../auth/auth.hook.ts';
import type { Context } from '../../context.ts';
import type { FilterCondition } from '../../messages/message.filter.ts';
import { both, filterParam, whereParam } from './sourceloop.filter.ts';
import { listIncluding, showIncluding } from './sourceloop.include.ts';
import { removeOne, updateOne, updateWhere, type ResourceOperations } from './sourceloop.operations.ts';
import { permit } from './sourceloop.permissions.ts';
import { IdParams } from './sourceloop.schema.ts';

const tags = ['sourceloop'];

/**
 * A route's path parameters and body. The generic body is not narrowed by Fastify's types; the route's schema has
 * validated it, hence the `as Body` where it is read.
 */
type ById<Body = unknown> = { Params: { id: string }; Body: Body };

/** A SourceLoop resource as its routes see it: where it is mounted, who may do what, its bodies, its operations. */
export interface Resource<F extends string, Row, View extends object, Body extends object> {
  /** `/messages`, `/message-recipients`, `/attach-files`. */
  path: string;
  permissions: { view: string; update: string; delete: string };
  /** PATCH takes the partial body, PUT the full one (which validation makes a `Body` too). */
  schemas: { partial: TSchema; full: TSchema };
  operations: ResourceOperations<F, Row, View, Body>;
}

/**
 * LoopBack's route set for one resource: `GET /count?where=` → `{count}`, `GET ?filter=` → list, `PATCH ?where=`
 * → the count of the caller's own rows changed, `GET /{id}?filter=` (fields only), `PATCH` and `PUT /{id}` → 204,
 * `DELETE /{id}` → 204. Each route checks its permission first, before the body is read.
 */
export function resourceRoutes<F extends string, Row, View extends object, Body extends object>(
  app: FastifyInstance,
  ctx: Context,
  { path, permissions, schemas, operations }: Resource<F, Row, View, Body>,
): void {
  const { model } = operations;

  app.get(`${path}/count`, { preHandler: permit(permissions.view), schema: { tags } }, async (request) => ({
    count: await operations.count(ctx, actorOf(request), whereParam(request.query, model)),
  }));

  app.get(path, { preHandler: permit(permissions.view), schema: { tags } }, async (request) =>
    listIncluding(
      ctx,
      operations,
      actorOf(request),
      filterParam(request.query, model, { allowWhere: true }),
      null,
    ),
  );

  app.patch<{ Body: Body }>(
    path,
    { preHandler: permit(permissions.update), schema: { tags, body: schemas.partial } },
    async (request) =>
      updateWhere(ctx, operations, actorOf(request), whereParam(request.query, model), request.body as Body),
  );

  app.get<ById>(
    `${path}/:id`,
    { preHandler: permit(permissions.view), schema: { tags, params: IdParams } },
    async (request) => {
      const compiled = filterParam(request.query, model, { allowWhere: false });
      return showIncluding(ctx, operations, actorOf(request), request.params.id, compiled);
    },
  );

  const update = async (request: FastifyRequest<ById<Body>>, reply: FastifyReply) => {
    const replace = request.method === 'PUT';
    await updateOne(ctx, operations, actorOf(request), request.params.id, request.body as Body, replace);
    return reply.status(204).send();
  };
  app.patch<ById<Body>>(
    `${path}/:id`,
    { preHandler: permit(permissions.update), schema: { tags, params: IdParams, body: schemas.partial } },
    update,
  );
  app.put<ById<Body>>(
    `${path}/:id`,
    { preHandler: permit(permissions.update), schema: { tags, params: IdParams, body: schemas.full } },
    update,
  );

  app.delete<ById>(
    `${path}/:id`,
    { preHandler: permit(permissions.delete), schema: { tags, params: IdParams } },
    async (request, reply) => {
      await removeOne(ctx, operations, actorOf(request), request.params.id);
      return reply.status(204).send();
    },
  );
}

/**
 * A resource under one message (`/messages/{id}/messages`, `/messages/{id}/message-recipients`): what it names
 * of the resource's rows, how one is created there, and what deleting with `where` does.
 */
export interface ChildResource<F extends string, Row, View extends object, Body extends object, New> {
  /** `/messages/:id/messages`, `/messages/:id/message-recipients`. */
  path: string;
  permissions: { view: string; create: string; update: string; delete: string };
  /** POST takes the create body (a `New`), PATCH the partial one. */
  schemas: { create: TSchema; partial: TSchema };
  operations: ResourceOperations<F, Row, View, Body>;
  /** The rows under the message `id` names (a 404 when the caller cannot see it). */
  scope(ctx: Context, actor: Actor, id: string): Promise<FilterCondition<F>>;
  create(ctx: Context, actor: Actor, id: string, body: New): Promise<unknown>;
  removeWhere(ctx: Context, actor: Actor, where: FilterCondition<F> | null): Promise<{ count: number }>;
}

/**
 * The route set of a resource under one message: `GET ?filter=` → list, `POST` → the new row, `PATCH ?where=` and
 * `DELETE ?where=` → `{count}`, all within the message's rows.
 */
export function childRoutes<F extends string, Row, View extends object, Body extends object, New>(
  app: FastifyInstance,
  ctx: Context,
  child: ChildResource<F, Row, View, Body, New>,
): void {
  const { path, permissions, schemas, operations } = child;
  const { model } = operations;

  /** The caller, and the rows under the message the path names (first: a 404 when the caller cannot see it). */
  const under = async (request: FastifyRequest<ById>) => {
    const actor = actorOf(request);
    return { actor, scope: await child.scope(ctx, actor, request.params.id) };
  };

  app.get<ById>(
    path,
    { preHandler: permit(permissions.view), schema: { tags, params: IdParams } },
    async (request) => {
      const { actor, scope } = await under(request);
      return listIncluding(
        ctx,
        operations,
        actor,
        filterParam(request.query, model, { allowWhere: true }),
        scope,
      );
    },
  );

  app.post<ById<New>>(
    path,
    { preHandler: permit(permissions.create), schema: { tags, params: IdParams, body: schemas.create } },
    async (request) => child.create(ctx, actorOf(request), request.params.id, request.body as New),
  );

  app.patch<ById<Body>>(
    path,
    { preHandler: permit(permissions.update), schema: { tags, params: IdParams, body: schemas.partial } },
    async (request) => {
      const { actor, scope } = await under(request);
      const where = both(scope, whereParam(request.query, model));
      return updateWhere(ctx, operations, actor, where, request.body as Body);
    },
  );

  app.delete<ById>(
    path,
    { preHandler: permit(permissions.delete), schema: { tags, params: IdParams } },
    async (request) => {
      const { actor, scope } = await under(request);
      return child.removeWhere(ctx, actor, both(scope, whereParam(request.query, model)));
    },
  );
}
