import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../context.ts';
import type { ErrorBody } from '../errors/codes.ts';
import type { JsonApiConfig } from './jsonapi.config.ts';
import { Presentation, type Document, type Links, type ResourceObject } from './jsonapi.document.ts';
import { errorDocument, type ErrorContext } from './jsonapi.errors.ts';
import { JSONAPI_MEDIA_TYPE } from './jsonapi.media.ts';
import { negotiate, type JsonApiState } from './jsonapi.negotiation.ts';
import { NATIVE_ROUTES } from './jsonapi.operations.ts';
import { parseQuery } from './jsonapi.query.ts';
import { EMPTY_QUERY, Renderer } from './jsonapi.render.ts';
import { documentError, translateBody } from './jsonapi.request.ts';
import type { Linkage } from './jsonapi.resources.ts';

/** What the JSON:API routes of the layer (the relationship endpoints) need from it. */
export interface JsonApiRuntime {
  presentation: Presentation;
  /** What links start with, for this request. */
  base(request: FastifyRequest): string;
  /** The URL of this request, under the base. */
  selfLink(request: FastifyRequest): string;
  /** A document whose primary data is a relationship's linkage. */
  relationshipDocument(request: FastifyRequest, data: Linkage, links?: Links): Document;
  /** A URL of this request's path with these query parameters. */
  link(request: FastifyRequest, parameters: [string, string][]): string;
}

/** Characters a URI cannot hold as they are (RFC 3986); `%` stays, as it starts an escape already made. */
const URI_UNSAFE = /[^A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]/g;

function isErrorBody(payload: unknown): payload is ErrorBody {
  const error = (payload as Partial<ErrorBody> | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

function asJsonApi(reply: FastifyReply): void {
  void reply.header('content-type', JSONAPI_MEDIA_TYPE);
  reply.serializer(JSON.stringify);
}

/**
 * The JSON:API representation of every native route (docs/jsonapi.md), as hooks around the native routes:
 * negotiation on request; JSON:API query and body translated into the native ones before validation, so the same
 * schemas and services apply; the route's view (from the same presenters) rendered as a document before
 * serialization, and the error handler's body as JSON:API errors. Returns null when JSON:API is turned off.
 */
export function installJsonApi(
  app: FastifyInstance,
  ctx: Context,
  config: JsonApiConfig,
): JsonApiRuntime | null {
  if (!config.enabled) {
    return null;
  }
  const presentation = new Presentation(config);
  const prefix = app.prefix;
  const base = (request: FastifyRequest) =>
    config.publicUrl ?? `${request.protocol}://${request.host}${prefix}`;
  // The request's URL as a valid URI: what clients may leave unencoded (`page[size]`) is percent-encoded.
  const asUri = (url: string) => url.slice(prefix.length).replace(URI_UNSAFE, (c) => encodeURIComponent(c));
  const pathOf = (request: FastifyRequest) => asUri(request.url.split('?')[0]!);
  const selfLink = (request: FastifyRequest) => base(request) + asUri(request.url);
  const link = (request: FastifyRequest, parameters: [string, string][]) => {
    const search = new URLSearchParams(parameters).toString();
    return `${base(request)}${pathOf(request)}${search ? `?${search}` : ''}`;
  };
  const runtime: JsonApiRuntime = {
    presentation,
    base,
    selfLink,
    link,
    relationshipDocument: (request, data, links = {}) => ({
      data,
      links: { self: selfLink(request), ...links },
      jsonapi: { version: '1.0' },
    }),
  };

  const renderer = new Renderer(ctx, presentation, { base, selfLink, link });

  app.decorateRequest('jsonapi', null);
  app.addContentTypeParser(
    JSONAPI_MEDIA_TYPE,
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
  app.addHook('onRoute', (route) => {
    // The HEAD twin Fastify adds to every GET answers as the GET does: the same JSON:API face.
    const method = Array.isArray(route.method) ? undefined : route.method === 'HEAD' ? 'GET' : route.method;
    const spec = method ? NATIVE_ROUTES[`${method} ${route.url.slice(prefix.length)}`] : undefined;
    if (spec && !route.config?.jsonapi) {
      route.config = { ...route.config, jsonapi: spec };
    }
  });

  app.addHook('onRequest', async (request) => {
    const { state, refusal } = negotiate(request, presentation);
    request.jsonapi = state;
    if (refusal) {
      throw refusal;
    }
  });

  app.addHook('preValidation', async (request) => {
    const state = request.jsonapi;
    if (!state?.spec) {
      return;
    }
    if (state.document) {
      state.query = parseQuery(request.query as Record<string, unknown>, state.spec, presentation);
      request.query = state.query.native;
    }
    if (state.body && state.spec.body) {
      state.translated = await translateBody(
        request.body,
        state.spec.type,
        state.spec.body,
        presentation,
        request,
        ctx,
      );
      request.body = state.translated.body;
    }
  });

  // An update names its resource in the document too: it must be the one the URL names (409 otherwise).
  app.addHook('preHandler', async (request) => {
    const state = request.jsonapi;
    const id = state?.spec?.body?.id;
    const given = state?.translated?.targetId;
    if (!state?.spec || !id || !('target' in id) || given === undefined) {
      return;
    }
    const expected = await id.target(request, ctx);
    if (given !== expected) {
      throw documentError(
        'conflict',
        '/data/id',
        'id',
        `is "${given}" but this URL is ${state.spec.type} "${expected}"`,
      );
    }
  });

  app.addHook('preSerialization', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const state = request.jsonapi;
    if (!state) {
      return payload;
    }
    if (reply.statusCode >= 400) {
      if (!isErrorBody(payload)) {
        return payload;
      }
      asJsonApi(reply);
      return errorDocument(reply.statusCode, payload, errorContext(request, state));
    }
    // A 204 (DELETE) sends null: no document.
    if (!state.document || !state.spec || payload === null) {
      return payload;
    }
    asJsonApi(reply);
    if (state.spec.returns === 'document') {
      return payload;
    }
    const document = await renderer.render(request, state.spec, state.query ?? EMPTY_QUERY, payload);
    const data = document.data as ResourceObject | undefined;
    if (reply.statusCode === 201 && data?.links?.self) {
      void reply.header('location', data.links.self);
    }
    return document;
  });

  function errorContext(request: FastifyRequest, state: JsonApiState): ErrorContext {
    const query = request.query;
    return {
      ...(state.translated ? { origins: state.translated.origins } : {}),
      ...(state.query ? { parameters: state.query.names } : {}),
      queryKeys: new Set(query && typeof query === 'object' ? Object.keys(query) : []),
      hasBody: typeof request.body === 'object' && request.body !== null,
    };
  }

  return runtime;
}
