import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The closed set of error codes a client can see, with the HTTP status each one answers. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  not_acceptable: 406,
  conflict: 409,
  limit_exceeded: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  rate_limited: 429,
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

/**
 * SQLSTATEs that mean "the database cannot serve this right now": the server shutting down or restarting (57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), too many connections (53300), and the
 * connection exceptions (class 08).
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
/** The network errors of a server that is down or out of reach. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
]);
/** What node-postgres says when a connection drops, cannot be made in time, or was lost before the query. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|timeout expired|Client has encountered a connection error|Query read timeout/i;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) {
    return false;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) {
    return true;
  }
  if (UNAVAILABLE_MESSAGES.test(String((error as { message?: unknown }).message ?? ''))) {
    return true;
  }
  // Connecting to a host with several addresses fails with an AggregateError of one error per address.
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) {
    return true;
  }
  return isDatabaseUnavailable((error as { cause?: unknown }).cause, depth + 1);
}

/** SQLSTATEs for a string PostgreSQL cannot store as text: a NUL (\u0000) character, or bytes that are not UTF-8. */
const INVALID_TEXT_SQLSTATES = new Set(['22021', '22P05']);

export function isInvalidText(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && INVALID_TEXT_SQLSTATES.has(code);
}

/** The SQLSTATE of a unique violation, and the constraint it names. */
export function uniqueViolation(error: unknown): string | null {
  if (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505') {
    return String((error as { constraint?: unknown }).constraint ?? '');
  }
  return null;
}

export interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `body.members/2` → `members[2]`; a missing or extra property is named itself. */
function fieldOf(issue: ValidationIssue): string {
  const segments = issue.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (issue.keyword === 'required') {
    segments.push(String(issue.params.missingProperty));
  }
  if (issue.keyword === 'additionalProperties') {
    segments.push(String(issue.params.additionalProperty));
  }
  return segments.reduce((name, s) => (/^\d+$/.test(s) ? `${name}[${s}]` : name ? `${name}.${s}` : s), '');
}

function describeIssue(issue: ValidationIssue): string {
  switch (issue.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'enum':
      return `must be one of ${(issue.params.allowedValues as unknown[]).join(', ')}`;
    case 'anyOf':
      return 'has an invalid value';
    default:
      return issue.message ?? 'is invalid';
  }
}

/**
 * One problem per field. A union (`"online" | "busy"`, `string | null`) fails once per branch; those branch
 * failures are folded into one "must be one of ..." so the client reads what would have been accepted.
 */
function describeField(group: ValidationIssue[]): string {
  const allowed = group
    .filter((i) => i.keyword === 'const')
    .map((i) => JSON.stringify(i.params.allowedValue));
  const types = group.filter((i) => i.keyword === 'type').map((i) => String(i.params.type));
  if (allowed.length > 0) {
    return `must be one of ${[...allowed, ...types.filter((t) => t === 'null')].join(', ')}`;
  }
  if (types.length > 1) {
    return `must be ${types.join(' or ')}`;
  }
  const specific = group.find((i) => i.keyword !== 'anyOf') ?? group[0];
  return specific ? describeIssue(specific) : 'is invalid';
}

function validationMessage(error: FastifyError): { message: string; details: unknown[] } {
  const issues = (error.validation ?? []) as ValidationIssue[];
  if (issues.length === 0) {
    return { message: error.message, details: [] };
  }
  return describeValidation(issues, error.validationContext ?? 'body');
}

/** ajv issues → one `field: problem` message and a detail per field, as every validation error reads. */
export function describeValidation(
  issues: ValidationIssue[],
  context: string,
): { message: string; details: { field: string; in: string; problem: string }[] } {
  const byField = new Map<string, ValidationIssue[]>();
  for (const issue of issues) {
    const field = fieldOf(issue) || context;
    byField.set(field, [...(byField.get(field) ?? []), issue]);
  }
  const details = [...byField].map(([field, group]) => ({
    field,
    in: context,
    problem: describeField(group),
  }));
  const first = details[0];
  if (!first) {
    return { message: `${context}: is invalid`, details };
  }
  return { message: `${first.field}: ${first.problem}`, details };
}

/** Maps anything thrown by a route into the contract's error body. */
export function toErrorResponse(
  error: unknown,
  exposeStack: boolean,
): { status: number; body: ErrorBody; report: boolean } {
  if (error instanceof AppError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details) {
      body.error.details = error.details;
    }
    // `unavailable` is thrown on purpose (the server is shutting down): a refusal, not a failure to report.
    return { status: error.status, body, report: error.status >= 500 && error.code !== 'unavailable' };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError?.validation) {
    const { message, details } = validationMessage(fastifyError);
    return { status: 400, body: { error: { code: 'invalid_request', message, details } }, report: false };
  }
  switch (fastifyError?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        body: { error: { code: 'payload_too_large', message: 'request body is larger than the limit' } },
        report: false,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        status: 415,
        body: {
          error: {
            code: 'unsupported_media_type',
            message: 'Content-Type must be application/json',
          },
        },
        report: false,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        body: {
          error: { code: 'invalid_request', message: 'body: must not be empty with Content-Type JSON' },
        },
        report: false,
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return {
        status: 400,
        body: { error: { code: 'invalid_request', message: `body: is not valid JSON` } },
        report: false,
      };
    default:
      break;
  }
  const status = typeof fastifyError?.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, bad content length, ...): keep the status, name the problem.
    const code: ErrorCode =
      status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request';
    const message =
      error instanceof SyntaxError ? 'body: is not valid JSON' : (fastifyError.message ?? 'bad request');
    return { status: ERROR_STATUS[code], body: { error: { code, message } }, report: false };
  }
  if (isInvalidText(error)) {
    return {
      status: 400,
      body: {
        error: { code: 'invalid_request', message: 'text values must not contain NUL (\\u0000) characters' },
      },
      report: false,
    };
  }
  if (isDatabaseUnavailable(error)) {
    // Not reported per request: reportError() logs an outage once, however many requests it fails.
    return {
      status: 503,
      body: { error: { code: 'unavailable', message: 'the database is not reachable; try again shortly' } },
      report: false,
    };
  }
  const body: ErrorBody = { error: { code: 'internal', message: 'internal error' } };
  if (exposeStack && error instanceof Error) {
    body.error.details = [{ stack: error.stack }];
  }
  return { status: 500, body, report: true };
}

/**
 * Errors Fastify raises before a request reaches a route (a malformed percent-escape in the path, a path segment
 * longer than the router takes), in the contract's error body: the standalone server's `frameworkErrors`.
 */
export function frameworkErrorResponse(error: FastifyError): { status: number; body: ErrorBody } {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return {
        status: 400,
        body: {
          error: { code: 'invalid_request', message: 'path: is not a valid URL (a malformed %-escape)' },
        },
      };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return {
        status: 400,
        body: { error: { code: 'invalid_request', message: 'path: a segment is longer than any id' } },
      };
    default: {
      const { status, body } = toErrorResponse(error, false);
      return { status, body };
    }
  }
}

/** Seconds a 503 asks the client to wait before it tries again (the `Retry-After` header). */
export const RETRY_AFTER_SECONDS = 1;

/** Where database outages are reported, to be logged once per outage rather than once per failed request. */
export interface OutageReporter {
  /** Something failed because the database could not be reached. */
  failed(error: unknown): void;
  /** The database answered again. */
  answered(): void;
}

/**
 * What every error handler (the native one and each dialect's) does besides shaping its body: a 503 tells the
 * client when to retry; a database outage goes to `outages`, which logs it once however many requests it fails;
 * other server errors are logged per request, refusals at debug level.
 */
export function reportError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  answer: { status: number; body: ErrorBody; report: boolean },
  outages?: OutageReporter,
): void {
  if (answer.status === 503) {
    void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  }
  if (answer.status === 503 && isDatabaseUnavailable(error)) {
    if (outages) {
      outages.failed(error);
      request.log.debug({ err: error }, 'request failed: database unavailable');
    } else {
      request.log.warn({ err: error }, 'request failed: database unavailable');
    }
    return;
  }
  if (answer.report) {
    request.log.error({ err: error }, 'request failed');
  } else {
    request.log.debug(
      { code: answer.body.error.code, message: answer.body.error.message },
      'request refused',
    );
  }
}

export function installErrorHandling(
  app: FastifyInstance,
  exposeStack: boolean,
  outages?: OutageReporter,
): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = toErrorResponse(error, exposeStack);
    reportError(request, reply, error, answer, outages);
    return reply.status(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    return reply.status(404).send({
      error: { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` },
    });
  });
}
