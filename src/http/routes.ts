import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Context } from '../context.ts';
import type { ErrorCode } from '../errors/codes.ts';

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

/** Refusals a route's own rules give, beyond those every route of its kind gives (`http/openapi.operations.ts`). */
export type Refusal = Extract<
  ErrorCode,
  'not_found' | 'forbidden' | 'conflict' | 'limit_exceeded' | 'payload_too_large' | 'unsupported_media_type'
>;

declare module 'fastify' {
  interface FastifySchema {
    /** OpenAPI only: the error codes the route may answer, with the native error body (`operation`). */
    'x-refusals'?: readonly ErrorCode[];
  }
}

/**
 * OpenAPI: a native route's `operationId` (stable: generated clients name their methods after it), its one-line
 * summary, and the refusals its own rules give. The document adds those every route of its kind gives: 401 for a
 * token, 400 for what is validated, 413 and 415 for a body, 429, 500 and 503, and JSON:API's 406 and 415.
 */
export function operation(operationId: string, summary: string, refusals: readonly Refusal[] = []) {
  return { operationId, summary, 'x-refusals': refusals };
}
