import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/codes.ts';
import type { Presentation } from './jsonapi.document.ts';
import { JSONAPI_MEDIA_TYPE, judgeAccept, judgeContentType } from './jsonapi.media.ts';
import type { ParsedQuery } from './jsonapi.query.ts';
import type { Translated } from './jsonapi.request.ts';
import type { RouteSpec } from './jsonapi.spec.ts';

/** How one request speaks JSON:API. */
export interface JsonApiState {
  /** The route's JSON:API face; null for an unknown route (its 404 is still a JSON:API error). */
  spec: RouteSpec | null;
  /** The answer is a JSON:API document (and the query is read as JSON:API). */
  document: boolean;
  /** The body is a JSON:API resource document. */
  body: boolean;
  query?: ParsedQuery;
  translated?: Translated;
}

declare module 'fastify' {
  interface FastifyRequest {
    jsonapi: JsonApiState | null;
  }
  interface FastifyContextConfig {
    jsonapi?: RouteSpec;
  }
}

/** What negotiation decided: how the request speaks JSON:API (null: not at all), or why it is refused. */
export interface Negotiated {
  state: JsonApiState | null;
  refusal?: AppError;
}

/**
 * Content negotiation (JSON:API 1.0, "Content Negotiation"): a route answers JSON:API when Accept names the media
 * type without parameters, or when the body is JSON:API and Accept does not name application/json. 406 when every
 * JSON:API media type in Accept has parameters, 415 for a JSON:API Content-Type with parameters. An excluded route
 * refuses JSON:API: 415 for a JSON:API body, 406 when the client accepts nothing else. Refusals are JSON:API errors.
 */
export function negotiate(request: FastifyRequest, presentation: Presentation): Negotiated {
  const spec = request.routeOptions.config.jsonapi ?? null;
  const accept = judgeAccept(request.headers.accept);
  const contentType = judgeContentType(request.headers['content-type']);
  const speaks = accept.jsonapi !== 'absent' || contentType !== 'other';
  if (!spec) {
    // Other routes of the plugin (health, docs) are not resources; an unknown route's 404 is for a JSON:API client.
    return { state: request.is404 && speaks ? { spec: null, document: false, body: false } : null };
  }
  const errorsOnly: JsonApiState = { spec, document: false, body: false };
  if (presentation.excluded(spec.type, spec.operation)) {
    const excluded = `${spec.type}.${spec.operation} is excluded`;
    if (contentType !== 'other') {
      return {
        state: errorsOnly,
        refusal: new AppError(
          'unsupported_media_type',
          `this endpoint does not read JSON:API documents (${excluded}); send application/json`,
        ),
      };
    }
    if (spec.only || (speaks && !accept.json)) {
      return {
        state: errorsOnly,
        refusal: new AppError(
          'not_acceptable',
          `this endpoint does not answer JSON:API (${excluded}); accept application/json`,
        ),
      };
    }
    return { state: null };
  }
  if (accept.jsonapi === 'parameterized') {
    return {
      state: errorsOnly,
      refusal: new AppError(
        'not_acceptable',
        `Accept names ${JSONAPI_MEDIA_TYPE} only with media type parameters; name it once without them`,
      ),
    };
  }
  if (contentType === 'parameterized') {
    return {
      state: errorsOnly,
      refusal: new AppError(
        'unsupported_media_type',
        `Content-Type ${JSONAPI_MEDIA_TYPE} must not have media type parameters`,
      ),
    };
  }
  const body = contentType === 'plain';
  const document = spec.only === true || accept.jsonapi === 'plain' || (body && !accept.namesJson);
  return { state: document || body ? { spec, document, body } : null };
}
