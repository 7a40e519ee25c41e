import type { FastifyRequest } from 'fastify';
import { unauthorized } from '../errors/codes.ts';
import type { Actor } from './actor.ts';
import type { TokenVerifier } from './jwt.ts';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
}

/**
 * The bearer token from the Authorization header. Only where `allowQuery` is set (browser sockets and SSE, which
 * cannot send headers) does `?access_token=` count: elsewhere a token in a URL would end up in access logs.
 */
export function bearerToken(request: FastifyRequest, allowQuery = false): string | null {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw unauthorized('Authorization header must be "Bearer <token>"');
    }
    return match[1] ?? null;
  }
  if (!allowQuery) {
    return null;
  }
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.access_token;
  return typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : null;
}

/** Makes sure the caller of a verified token exists (creating the user, and its tenant, on first sight). */
export type ProvisionActor = (actor: Actor) => Promise<void>;

/**
 * The hook that checks the caller: a valid token, then `provision` (the users feature's, passed in by the plugin so
 * that authentication depends on no feature).
 */
export function createAuthenticate(
  verifier: TokenVerifier,
  provision: ProvisionActor,
  options: { allowQueryToken?: boolean } = {},
) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const token = bearerToken(request, options.allowQueryToken);
    if (token === null) {
      throw unauthorized('a bearer token is required (Authorization: Bearer <token>)');
    }
    const actor = await verifier.verify(token);
    await provision(actor);
    request.actor = actor;
  };
}

/** The caller of a route behind `authenticate`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) {
    throw unauthorized('a bearer token is required');
  }
  return request.actor;
}
