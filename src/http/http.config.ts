import { ConfigError, integer, type Env } from '../env.ts';

/** The standalone server's HTTP settings; an application that embeds Parley sets its own Fastify instance's. */
export interface HttpConfig {
  /** PARLEY_HEADERS_TIMEOUT_MS: a request whose headers have not all arrived this long after it began gets 408. */
  headersTimeoutMs: number;
  /** PARLEY_REQUEST_TIMEOUT_MS: the same for the whole request, body included (not its answer, nor a stream). */
  requestTimeoutMs: number;
  /** PARLEY_KEEP_ALIVE_TIMEOUT_MS: how long a connection may stay open with no request on it. */
  keepAliveTimeoutMs: number;
}

export function httpConfig(env: Env): HttpConfig {
  const headersTimeoutMs = integer(env, 'PARLEY_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = integer(env, 'PARLEY_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    // Node refuses it too: the headers are part of the request.
    throw new ConfigError(
      'PARLEY_HEADERS_TIMEOUT_MS',
      `must not be longer than PARLEY_REQUEST_TIMEOUT_MS (${requestTimeoutMs}), got ${headersTimeoutMs}`,
    );
  }
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: integer(env, 'PARLEY_KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 3_600_000),
  };
}
