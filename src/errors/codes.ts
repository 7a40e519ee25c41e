/** The closed set of error codes a client can see, with the HTTP status each one answers. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  not_acceptable: 406,
  /** The request (its headers, or all of it) did not arrive within the server's timeout; the connection is closed. */
  request_timeout: 408,
  conflict: 409,
  limit_exceeded: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  rate_limited: 429,
  /** The request line and headers together are over Node's limit (16 KiB); the connection is closed. */
  headers_too_large: 431,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown[] };
}

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown[],
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

export const invalid = (message: string, details?: unknown[]) =>
  new AppError('invalid_request', message, details);
export const notFound = (message: string) => new AppError('not_found', message);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const conflict = (message: string) => new AppError('conflict', message);
export const unauthorized = (message: string) => new AppError('unauthorized', message);

/**
 * A configured maximum is reached (streams of a user, members of a chat, chats of a user). `limit` is the limit's
 * stable name: first in the message and in `details`, so a client can tell which one without reading the text.
 */
export const limitExceeded = (limit: string, max: number, problem: string) =>
  new AppError('limit_exceeded', `${limit}: ${problem}`, [{ limit, max }]);

/**
 * Too many requests too fast: `retryAfter` whole seconds until the next one is let through (also the `Retry-After`
 * header). `rate` per second and `burst` at once name the limit's settings.
 */
export const rateLimited = (limit: string, rate: number, burst: number, retryAfter: number) =>
  new AppError(
    'rate_limited',
    `${limit}: at most ${rate} requests a second (${burst} at once); retry in ${retryAfter} s`,
    [{ limit, rate, burst, retryAfter }],
  );
