import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_STATUS, type ErrorBody, type ErrorCode } from './codes.ts';
import { isDatabaseUnavailable, isInvalidText, type OutageReporter } from './database.ts';

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

/** Where a request was when Node gave up on it: still reading its headers, or its body. */
export type ClientErrorStage = 'headers' | 'body';

/**
 * Errors Node's HTTP server raises on a connection before a request reaches Fastify (Node's `clientError`): a
 * request that is not HTTP, headers (the URL included) over Node's size limit, a request that does not arrive in
 * time. The contract's error body for them; null for a connection that is gone (nothing to answer).
 */
export function clientErrorResponse(
  error: { code?: string; reason?: string },
  context: {
    stage: ClientErrorStage;
    maxHeaderBytes: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
  },
): { status: number; body: ErrorBody } | null {
  const answer = (code: ErrorCode, message: string) => ({
    status: ERROR_STATUS[code],
    body: { error: { code, message } },
  });
  switch (error.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return context.stage === 'headers'
        ? answer('request_timeout', `request: headers not received within ${context.headersTimeoutMs} ms`)
        : answer('request_timeout', `request: not received in full within ${context.requestTimeoutMs} ms`);
    case 'HPE_HEADER_OVERFLOW':
      return answer(
        'headers_too_large',
        `request: the request line and headers are larger than ${context.maxHeaderBytes} bytes`,
      );
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return answer('payload_too_large', 'request: chunk extensions are larger than the limit');
    default: {
      const reason = typeof error.reason === 'string' && error.reason !== '' ? ` (${error.reason})` : '';
      return answer('invalid_request', `request: is not valid HTTP/1.1${reason}`);
    }
  }
}

/** Seconds a 503 asks the client to wait before it tries again (the `Retry-After` header). */
export const RETRY_AFTER_SECONDS = 1;

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
