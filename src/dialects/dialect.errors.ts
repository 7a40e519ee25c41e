import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorBody, type ErrorCode } from '../errors/codes.ts';
import type { OutageReporter } from '../errors/database.ts';
import { reportError, toErrorResponse } from '../errors/http.ts';

/** True when a service refused with `code`. */
export function refused(error: unknown, code: ErrorCode): boolean {
  return error instanceof AppError && error.code === code;
}

/**
 * What `work` gives; a `not_found` from it becomes `replacement()`, for where the dialect knows better what was
 * not there (the chat was found first, so "not found" means that the author is not in it).
 */
export async function ifNotFound<T>(work: Promise<T>, replacement: () => AppError): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (refused(error, 'not_found')) {
      throw replacement();
    }
    throw error;
  }
}

/**
 * `work` first, on the hot path, with the checks the dialect's answer needs only when it is refused: a service
 * refusal `not_found` or `invalid_request` runs `explain(refusal)`, the checks the dialect makes before such work
 * (a missing chat, an unknown user), which throws what they find, or a replacement of the refusal; else the
 * refusal stands. The answer is the one the checks made first would give, without their queries when all is well.
 */
export async function checkedAfter<T>(
  work: () => Promise<T>,
  explain: (refusal: AppError) => Promise<void>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (refused(error, 'not_found') || refused(error, 'invalid_request')) {
      await explain(error as AppError);
    }
    throw error;
  }
}

/** Parley's answer to an error: its status and `{"error": {code, message, details?}}`. */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
}

export interface ErrorShapeOptions {
  /** Whether a 500 carries the stack (development only). */
  exposeStack: boolean;
  /** Where database outages are reported (once each, not per request). */
  outages?: OutageReporter | undefined;
}

/**
 * A dialect's error handler: Parley's answer to the error, reported as every handler reports it (`reportError`),
 * then sent in the dialect's own shape.
 */
export function shapeErrors(
  app: FastifyInstance,
  options: ErrorShapeOptions,
  shape: (answer: ErrorAnswer, error: unknown, request: FastifyRequest) => { status: number; body: unknown },
): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = toErrorResponse(error, options.exposeStack);
    reportError(request, reply, error, answer, options.outages);
    const { status, body } = shape({ status: answer.status, body: answer.body }, error, request);
    return reply.status(status).send(body);
  });
}
