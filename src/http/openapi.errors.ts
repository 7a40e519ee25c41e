import { JSONAPI_MEDIA_TYPE } from '../jsonapi/jsonapi.media.ts';
import { ref } from './openapi.schemas.ts';

/**
 * The error responses of the OpenAPI document: one per status, each the contract's error body (`Error`), and
 * JSON:API's error document where JSON:API is on. Operations refer to them (`openapi.document.ts`).
 */

type Json = Record<string, unknown>;

/** The document's error responses (`components.responses`), by status: each names the codes it carries. */
export const ERROR_RESPONSES: Record<number, { name: string; description: string; retryAfter?: true }> = {
  400: {
    name: 'BadRequest',
    description:
      '`invalid_request`: a path parameter, the query or the body is not valid, or a rule of the operation refuses ' +
      'it. The message names the field first (`text: must not be blank`); validation errors have one `details` ' +
      'entry per field.',
  },
  401: {
    name: 'Unauthorized',
    description:
      '`unauthorized`: no token, or one that is not valid (signature, expiry, issuer, algorithm, a deleted user).',
  },
  403: {
    name: 'Forbidden',
    description: '`forbidden`: the caller can see the resource, but their role does not allow this.',
  },
  404: {
    name: 'NotFound',
    description:
      '`not_found`: no such resource, or one the caller cannot see: a chat they are not in answers 404, never 403.',
  },
  406: {
    name: 'NotAcceptable',
    description:
      '`not_acceptable` (JSON:API): every JSON:API media type in `Accept` has parameters, or this operation does ' +
      'not answer JSON:API and the client accepts nothing else.',
  },
  409: {
    name: 'Conflict',
    description:
      '`conflict` (a name or id already taken, a change the current state does not allow) or `limit_exceeded` (a ' +
      'configured maximum is reached; the message and `details` name the limit).',
  },
  413: {
    name: 'PayloadTooLarge',
    description: '`payload_too_large`: the body is over the configured limit.',
  },
  415: {
    name: 'UnsupportedMediaType',
    description:
      '`unsupported_media_type`: the body is not `application/json` (or, where JSON:API is on, ' +
      '`application/vnd.api+json` without media type parameters).',
  },
  426: {
    name: 'UpgradeRequired',
    description: '`upgrade_required`: a plain HTTP request to a WebSocket endpoint.',
  },
  429: {
    name: 'TooManyRequests',
    description:
      '`rate_limited`: over the rate limit of the caller (or, without a token, of the address); `details` names ' +
      'it.',
    retryAfter: true,
  },
  500: {
    name: 'InternalError',
    description: '`internal`: a failure of the server, logged there; no stack trace outside development.',
  },
  503: {
    name: 'Unavailable',
    description: '`unavailable`: the server is shutting down, or the database cannot be reached.',
    retryAfter: true,
  },
};

const RETRY_AFTER = {
  description: 'Seconds to wait before trying again.',
  schema: { type: 'integer', minimum: 0 },
};

export function errorResponse(status: number, jsonapi: boolean): Json {
  const { description, retryAfter } = ERROR_RESPONSES[status]!;
  return {
    description,
    ...(retryAfter ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
    content: {
      ['application/json']: { schema: ref('Error') },
      ...(jsonapi ? { [JSONAPI_MEDIA_TYPE]: { schema: ref('JsonApiErrors') } } : {}),
    },
  };
}
