import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/codes.ts';
import type { ErrorAnswer } from '../dialect.errors.ts';

/**
 * SourceLoop's error bodies, as `@sourceloop/chat-service` answers them (LoopBack's `{"error": {statusCode, name,
 * message, code?, details?}}`, through `@sourceloop/core`'s sequence), status by status. The differential test
 * holds Parley's to the package's.
 */

/** A query parameter (`filter`, `where`) LoopBack refuses with 400 INVALID_PARAMETER_VALUE. */
export class ParameterError extends AppError {
  constructor(
    readonly parameter: string,
    readonly path: string,
    reason: string,
    /** LoopBack's code: INVALID_PARAMETER_VALUE, or INVALID_INCLUSION_FILTER for an unknown relation. */
    readonly loopBackCode = 'INVALID_PARAMETER_VALUE',
    /** A value that is not JSON: what was sent, and the parser's message (LoopBack's `details.syntaxError`). */
    readonly unparsed?: { raw: string; syntaxError: string },
  ) {
    super('invalid_request', `${path}: ${reason}`);
    this.name = 'ParameterError';
  }
}

/** A JSON body that does not parse: LoopBack answers 400 with the parser's own `SyntaxError`. */
class BodySyntaxError extends Error {
  readonly statusCode = 400;
  /** Fastify's own code for it: Parley's error mapping answers it 400, not a failure to report. */
  readonly code = 'FST_ERR_CTP_INVALID_JSON_BODY';
}

const NAMES: Record<number, string> = {
  409: 'ConflictError',
  429: 'TooManyRequestsError',
  503: 'ServiceUnavailableError',
};

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: unknown;
}

/** PostgreSQL's SQLSTATE for an invalid regular expression. */
const INVALID_REGEXP = '2201B';

const INVALID_BODY = 'The request body is invalid. See error object `details` property for more info.';

/** The table names LoopBack's "Entity not found" names, by the resource's path. */
const ENTITIES: [RegExp, string][] = [
  [/\/message-recipients\/:id$/, 'message_recipients'],
  [/\/attach-files\/:id$/, 'message_files'],
  [/\/messages\/:id$/, 'messages'],
];

type Body = Record<string, unknown>;
const answer = (statusCode: number, error: Body) => ({
  status: statusCode,
  body: { error: { statusCode, ...error } },
});

function fromAjv(issues: AjvIssue[]) {
  return issues.map((issue) => ({
    path: issue.instancePath ?? '',
    code: issue.keyword ?? 'invalid',
    message: issue.message ?? 'is invalid',
    info: issue.params ?? {},
  }));
}

/** The 404 of a route: by id, LoopBack's own two (a read says `EntityNotFound`; a change names the entity). */
function notFound(request: FastifyRequest, message: string) {
  const route = request.routeOptions.url ?? '';
  const entity = ENTITIES.find(([pattern]) => pattern.test(route))?.[1];
  const id = (request.params as { id?: unknown } | undefined)?.id;
  if (entity && typeof id === 'string') {
    return request.method === 'GET'
      ? answer(404, { name: 'NotFoundError', message: 'EntityNotFound' })
      : answer(404, {
          name: 'Error',
          message: `Entity not found: ${entity} with id ${JSON.stringify(id)}`,
          code: 'ENTITY_NOT_FOUND',
        });
  }
  return answer(404, { name: 'NotFoundError', message });
}

/** Parley's answer to an error → the package's body for the same status. */
export function loopBackAnswer(
  { status, body }: ErrorAnswer,
  error: unknown,
  request: FastifyRequest,
): { status: number; body: unknown } {
  const fastifyError = error as Partial<FastifyError> | null;
  if (error instanceof ParameterError && error.unparsed) {
    return answer(400, {
      name: 'BadRequestError',
      message: `Invalid data ${JSON.stringify(error.unparsed.raw)} for parameter "${error.parameter}".`,
      code: 'INVALID_PARAMETER_VALUE',
      details: { syntaxError: error.unparsed.syntaxError },
    });
  }
  if (error instanceof ParameterError && error.loopBackCode === 'INVALID_INCLUSION_FILTER') {
    return answer(400, { name: 'Error', message: error.message, code: error.loopBackCode });
  }
  if (error instanceof ParameterError) {
    return answer(400, {
      name: 'BadRequestError',
      message: `Invalid data for parameter "${error.parameter}": ${error.message}`,
      code: error.loopBackCode,
      details: [{ path: error.path, code: 'invalid', message: error.message, info: {} }],
    });
  }
  if (fastifyError?.validation) {
    const details = fromAjv(fastifyError.validation as AjvIssue[]);
    if (fastifyError.validationContext !== 'body') {
      return answer(400, {
        name: 'BadRequestError',
        message: `Invalid data for parameter "${fastifyError.validationContext ?? 'path'}".`,
        code: 'INVALID_PARAMETER_VALUE',
        details,
      });
    }
    return answer(422, {
      name: 'UnprocessableEntityError',
      message: INVALID_BODY,
      code: 'VALIDATION_FAILED',
      details,
    });
  }
  if ((error as { code?: unknown } | null)?.code === INVALID_REGEXP) {
    // A pattern PostgreSQL's regular expressions refuse though JavaScript's accepted it.
    return answer(400, {
      name: 'BadRequestError',
      message: 'Invalid data for parameter "filter": regexp: is not a valid regular expression',
      code: 'INVALID_PARAMETER_VALUE',
    });
  }
  if (error instanceof BodySyntaxError) {
    return answer(400, { name: 'SyntaxError', message: error.message });
  }
  switch (status) {
    case 401: {
      // No bearer token: passport's challenge; a token that does not verify: the verifier's refusal, as an object.
      const bearer = /^Bearer\s+\S/i.test(request.headers.authorization ?? '');
      return answer(401, {
        name: 'UnauthorizedError',
        message: bearer ? { message: 'TokenExpired' } : 'Bearer realm="Users"',
      });
    }
    case 403:
      return answer(403, { name: 'ForbiddenError', message: body.error.message });
    case 404:
      return notFound(request, body.error.message);
    case 413:
      return answer(413, { name: 'PayloadTooLargeError', message: 'request entity too large' });
    case 415: {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim() || 'none';
      return answer(415, {
        name: 'UnsupportedMediaTypeError',
        message: `Content-type ${type} does not match [application/json].`,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
    }
    case 400:
    case 422: {
      // A rule of Parley's a body breaks (`channelId: cannot be changed`): LoopBack's validation answer.
      const field = /^(\w+): /.exec(body.error.message)?.[1];
      return answer(422, {
        name: 'UnprocessableEntityError',
        message: body.error.message,
        code: 'VALIDATION_FAILED',
        details: [
          { path: field ? `/${field}` : '', code: body.error.code, message: body.error.message, info: {} },
        ],
      });
    }
    case 500:
      return answer(500, { message: 'Internal Server Error' });
    default:
      return answer(status, {
        name: NAMES[status] ?? 'Error',
        message: body.error.message,
        code: body.error.code,
      });
  }
}

/**
 * JSON bodies parsed as LoopBack's body parser does (`JSON.parse`, whose message a malformed body's 400 carries);
 * an empty body is no body (then the route's schema says what is missing, a 422).
 */
export function parseJsonAsLoopBack(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    const source = typeof text === 'string' ? text : text.toString('utf8');
    if (source.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(source) as unknown);
    } catch (error) {
      done(new BodySyntaxError(error instanceof Error ? error.message : 'invalid JSON'), undefined);
    }
  });
}
