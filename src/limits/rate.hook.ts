import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../auth/auth.hook.ts';
import type { TokenVerifier } from '../auth/jwt.ts';
import type { RateLimitConfig } from './limits.config.ts';
import { rateLimited } from '../errors/codes.ts';
import { RateLimiter } from './rate.limiter.ts';

/**
 * Who pays for a request: the tenant and user of a valid token (from the header, or the query as the stream takes
 * it), else nobody known. The verifier remembers verified tokens, so authenticating afterwards costs no second check.
 */
async function payer(request: FastifyRequest, verifier: TokenVerifier): Promise<string | null> {
  let token: string | null;
  try {
    token = bearerToken(request, true);
  } catch {
    return null;
  }
  if (token === null) {
    return null;
  }
  try {
    const actor = await verifier.verify(token);
    return `${actor.tenantId}\u0000${actor.userId}`;
  } catch {
    return null;
  }
}

/**
 * The rate limit of every route (docs/operations.md, "Limits"): per tenant and user for a request with a valid token, per
 * client address otherwise; over it, 429 `rate_limited` with `Retry-After`. Runs before authentication, so requests
 * with a bad token are limited too (by address), and before the body is read. Null when both limits are off.
 */
export function createRateLimit(config: RateLimitConfig, verifier: TokenVerifier) {
  const users = config.user ? new RateLimiter(config.user, config.maxKeys) : null;
  const addresses = config.ip ? new RateLimiter(config.ip, config.maxKeys) : null;
  if (!users && !addresses) {
    return null;
  }
  return async function rateLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.routeOptions.config.healthCheck) {
      return;
    }
    const user = await payer(request, verifier);
    const limiter = user === null ? addresses : users;
    if (!limiter) {
      return;
    }
    const waitMs = limiter.take(user ?? request.ip);
    if (waitMs === 0) {
      return;
    }
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    // Set before the error is thrown: every error handler (native, JSON:API, the dialects') keeps it.
    void reply.header('retry-after', String(retryAfter));
    throw rateLimited(
      user === null ? 'requests_per_ip' : 'requests_per_user',
      limiter.limit.rate,
      limiter.limit.burst,
      retryAfter,
    );
  };
}
