import type { FastifySchema, RouteOptions } from 'fastify';
import type { ErrorCode } from '../errors/codes.ts';
import { JSONAPI_MEDIA_TYPE } from '../jsonapi/jsonapi.media.ts';
import { SPELLED } from '../jsonapi/jsonapi.query.ts';
import type { RouteSpec } from '../jsonapi/jsonapi.spec.ts';
import { ref, withNames } from './openapi.schemas.ts';

/**
 * How each route becomes an OpenAPI operation: its named schemas, its media types (JSON, and JSON:API where the
 * route speaks it), and every error it can answer, as a reference to one of the document's error responses.
 */

export interface DocumentOptions {
  /** The mount prefix: the document's server, left out of paths and of generated operation ids. */
  prefix: string;
  /** Rate limiting is on: every route but the health checks may answer 429. */
  rateLimited: boolean;
  /** JSON:API is on; and whether a route's JSON:API face answers (its type or operation may be excluded). */
  jsonapi: ((spec: RouteSpec) => boolean) | null;
}

type Json = Record<string, unknown>;

const JSON_MEDIA_TYPE = 'application/json';

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const SUCCESS: Record<string, string> = { 200: 'OK', 201: 'Created', 204: 'No content' };

/** `avito`, `POST`, `/chats/get` → `avitoPostChatsGet`: for routes that do not name themselves (the dialects). */
function generatedNames(method: string, path: string, tag: string | undefined) {
  const words = path
    .split('/')
    .flatMap((segment) =>
      segment.startsWith(':') ? ['by', segment.slice(1)] : segment.split(/[^A-Za-z0-9]+/),
    )
    .filter((word) => word !== '');
  if (tag !== undefined && words[0]?.toLowerCase() === tag.toLowerCase()) {
    words.shift();
  }
  const [first = '', ...rest] = [...(tag === undefined ? [] : [tag]), method.toLowerCase(), ...words];
  const operationId = first + rest.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
  const shown = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return { operationId, summary: `${tag === undefined ? '' : `${tag}: `}${method} ${shown}` };
}

/** The errors a native route can answer: its own refusals, and those every route of its kind gives. */
function refusalsOf(
  schema: FastifySchema,
  face: RouteSpec | undefined,
  options: DocumentOptions,
): ErrorCode[] {
  const codes = new Set<ErrorCode>(schema['x-refusals']);
  if ((schema.security ?? []).length > 0) {
    codes.add('unauthorized');
  }
  if (schema.params || schema.querystring || schema.body || face) {
    codes.add('invalid_request');
  }
  if (schema.body) {
    codes.add('payload_too_large');
    codes.add('unsupported_media_type');
  }
  if (face) {
    // Negotiation refuses a parameterized JSON:API media type; a resource document's type must be the route's
    // (409), and ids and relationships the route does not take are refused (403).
    codes.add('not_acceptable');
    codes.add('unsupported_media_type');
    if (face.body) {
      codes.add('forbidden');
      codes.add('conflict');
    }
  }
  if (options.rateLimited) {
    codes.add('rate_limited');
  }
  codes.add('internal');
  codes.add('unavailable');
  return [...codes];
}

/** A JSON:API-only route reads its query as JSON:API does: `page[size]`, not the native `limit`. */
function jsonApiQuery(querystring: unknown): unknown {
  if (!isObject(querystring) || !isObject(querystring.properties)) {
    return querystring;
  }
  const spelled = (name: string) => SPELLED.get(name) ?? name;
  const required = Array.isArray(querystring.required)
    ? querystring.required.map(String).map(spelled)
    : undefined;
  return {
    ...querystring,
    properties: Object.fromEntries(
      Object.entries(querystring.properties).map(([name, schema]) => [spelled(name), schema]),
    ),
    ...(required ? { required } : {}),
  };
}

function requestBody(body: unknown, face: RouteSpec | undefined, speaks: boolean): unknown {
  if (face?.only) {
    return { content: { [JSONAPI_MEDIA_TYPE]: { schema: withNames(body) } } };
  }
  if (!speaks) {
    return withNames(body);
  }
  return {
    content: {
      [JSON_MEDIA_TYPE]: { schema: withNames(body) },
      [JSONAPI_MEDIA_TYPE]: { schema: ref('JsonApiResourceInput') },
    },
  };
}

function responses(method: string, response: unknown, face: RouteSpec | undefined, speaks: boolean): Json {
  const documented: Json = {};
  // A JSON:API-only read answers a document (its handler builds it; no response schema). Replacing a chat's
  // members (PATCH) is always refused: no success to show.
  if (face?.only && method === 'GET' && !isObject(response)) {
    documented[200] = {
      description: 'OK',
      content: { [JSONAPI_MEDIA_TYPE]: { schema: ref('JsonApiDocument') } },
    };
  }
  for (const [status, schema] of Object.entries(isObject(response) ? response : {})) {
    const description = SUCCESS[status] ?? (status === '503' ? 'Service unavailable' : 'Answer');
    if (isObject(schema) && schema.type === 'null') {
      documented[status] = { type: 'null', description };
      continue;
    }
    // An answer that is not JSON (a file's bytes) names its own media types.
    if (isObject(schema) && isObject(schema.content)) {
      documented[status] = { description: schema.description ?? description, content: schema.content };
      continue;
    }
    const document = speaks && Number(status) < 300;
    documented[status] = {
      description,
      content: {
        [JSON_MEDIA_TYPE]: { schema: withNames(schema) },
        ...(document ? { [JSONAPI_MEDIA_TYPE]: { schema: ref('JsonApiDocument') } } : {}),
      },
    };
  }
  return documented;
}

/**
 * The errors of a route outside the native contract (a dialect), which answers in the shapes of the API it
 * reproduces: documented as such, without a schema (`type: 'null'`: no content).
 */
function foreignErrors(response: unknown): Json {
  const declared = isObject(response) ? response : { 200: { type: 'null', description: 'Default Response' } };
  if (Object.keys(declared).some((status) => Number(status) >= 400)) {
    return declared;
  }
  return {
    ...declared,
    '4XX': {
      type: 'null',
      description: 'A refusal, in the error shape of the API this route reproduces (docs/dialects).',
    },
    '5XX': { type: 'null', description: 'A failure of the server or of its database, in the same shape.' },
  };
}

/** `transform` of @fastify/swagger: one route's schema as the document shows it (the route's own is untouched). */
export function documentRoute(options: DocumentOptions) {
  return ({
    schema,
    url,
    route,
  }: {
    schema: FastifySchema | undefined;
    url: string;
    route: RouteOptions;
  }) => {
    const docs: FastifySchema = { ...schema };
    const method = [route.method].flat()[0] ?? 'GET';
    if (!docs.operationId) {
      Object.assign(docs, generatedNames(method, url.slice(options.prefix.length), docs.tags?.[0]));
    }
    docs.security ??= [];
    const face = route.config?.jsonapi;
    const speaks = face !== undefined && options.jsonapi?.(face) === true;
    if (docs['x-refusals']) {
      docs['x-refusals'] = refusalsOf(docs, face, options);
    }
    if (docs.body) {
      docs.body = requestBody(docs.body, face, speaks);
    }
    if (docs.querystring && face?.only) {
      docs.querystring = jsonApiQuery(docs.querystring);
    }
    if (docs.response || face?.only) {
      docs.response = responses(method, docs.response, face, speaks);
    }
    if (!docs['x-refusals']) {
      docs.response = foreignErrors(docs.response);
    }
    return { schema: docs, url };
  };
}
