import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Context } from '../context.ts';

export interface RouteOptions {
  ctx: Context;
}

/** A feature's routes: a plugin given the service context, with TypeBox-typed params, query and body. */
export type Routes = FastifyPluginAsyncTypebox<RouteOptions>;

/** `{ data, nextCursor }`: the shape of every list. */
export function PageOf<T extends Type.TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

export const NoContent = Type.Null();

/** OpenAPI: the bearer scheme every /v1 route requires. */
export const secured = { security: [{ bearerAuth: [] }] };
