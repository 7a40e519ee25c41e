import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '../auth/auth.hook.ts';
import type { JsonApiConfig } from './jsonapi.config.ts';
import type { Context } from '../context.ts';
import { AppError, type ErrorBody } from '../errors/codes.ts';
import type { MessageView, ReadView, UnreadView } from '../messages/message.schema.ts';
import type { Page } from '../pagination.ts';
import type { SearchHitView } from '../search/search.schema.ts';
import {
  Compound,
  nodeOf,
  pickAttributes,
  Presentation,
  type Document,
  type Links,
  type ResourceObject,
} from './jsonapi.document.ts';
import { errorDocument, type ErrorContext } from './jsonapi.errors.ts';
import { Loader } from './jsonapi.loader.ts';
import { JSONAPI_MEDIA_TYPE, judgeAccept, judgeContentType } from './jsonapi.media.ts';
import { NATIVE_ROUTES } from './jsonapi.operations.ts';
import { parseQuery, type ParsedQuery } from './jsonapi.query.ts';
import { documentError, translateBody, type Translated } from './jsonapi.request.ts';
import { chatPath, type AnyView, type Linkage } from './jsonapi.resources.ts';
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

const EMPTY_QUERY: ParsedQuery = {
  include: { children: new Map() },
  fields: new Map(),
  native: {},
  names: new Map(),
  carried: [],
  position: {},
};

function isErrorBody(payload: unknown): payload is ErrorBody {
  const error = (payload as Partial<ErrorBody> | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

function asJsonApi(reply: FastifyReply): void {
  void reply.header('content-type', JSONAPI_MEDIA_TYPE);
  reply.serializer(JSON.stringify);
}

/** What negotiation decided: how the request speaks JSON:API (null: not at all), or why it is refused. */
interface Negotiated {
  state: JsonApiState | null;
  refusal?: AppError;
}

/**
 * Content negotiation (JSON:API 1.0, "Content Negotiation"): a route answers JSON:API when Accept names the media
 * type without parameters, or when the body is JSON:API and Accept does not name application/json. 406 when every
 * JSON:API media type in Accept has parameters, 415 for a JSON:API Content-Type with parameters. An excluded route
 * refuses JSON:API: 415 for a JSON:API body, 406 when the client accepts nothing else. Refusals are JSON:API errors.
 */
function negotiate(request: FastifyRequest, presentation: Presentation): Negotiated {
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

/**
 * The JSON:API representation of every native route (README, "JSON:API"), as hooks around the native routes:
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
    const document = await render(request, state.spec, state.query ?? EMPTY_QUERY, payload);
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

  async function render(
    request: FastifyRequest,
    spec: RouteSpec,
    query: ParsedQuery,
    payload: unknown,
  ): Promise<Document> {
    const options = {
      base: base(request),
      include: query.include,
      fields: query.fields,
      loader: new Loader(ctx, actorOf(request)),
      presentation,
    };
    const including = query.include.children.size > 0;
    const document: Document = { jsonapi: { version: '1.0' } };
    if (spec.returns === 'resource') {
      const { data, included } = await new Compound(options).build([nodeOf(spec.type, payload as AnyView)]);
      document.data = data[0] ?? null;
      if (including) {
        document.included = included;
      }
      document.links = { self: selfLink(request) };
    } else if (spec.returns === 'page' || spec.returns === 'search') {
      const page = payload as Page<AnyView | SearchHitView>;
      const nodes = page.data.map((item) =>
        spec.returns === 'search'
          ? {
              ...nodeOf(spec.type, (item as SearchHitView).message),
              meta: { highlight: (item as SearchHitView).highlight, rank: (item as SearchHitView).rank },
            }
          : nodeOf(spec.type, item as AnyView),
      );
      const { data, included } = await new Compound(options).build(nodes);
      document.data = data;
      if (including) {
        document.included = included;
      }
      document.links = pageLinks(request, spec, query, page);
    } else if (spec.returns === 'unread') {
      const unread = payload as UnreadView;
      document.data = unread.chats.map((chat) =>
        partialChat(request, query, chat.chatId, {
          unreadCount: chat.unreadCount,
          lastReadSeq: chat.lastReadSeq,
        }),
      );
      document.meta = { total: unread.total };
      document.links = { self: selfLink(request) };
    } else if (spec.returns === 'read') {
      const read = payload as ReadView;
      const chatId = (request.params as { id: string }).id;
      document.data = partialChat(request, query, chatId, {
        lastReadSeq: read.lastReadSeq,
        unreadCount: read.unreadCount,
      });
      document.links = { self: selfLink(request) };
    }
    return reorder(document);
  }

  /** A chat seen only through the caller's read state (the unread summary, a read receipt). */
  function partialChat(
    request: FastifyRequest,
    query: ParsedQuery,
    chatId: string,
    values: Record<string, unknown>,
  ): ResourceObject {
    const attributes = pickAttributes(presentation, 'chats', values, query.fields.get('chats'));
    return {
      type: 'chats',
      id: chatId,
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
      links: { self: base(request) + chatPath(chatId) },
    };
  }

  /**
   * first / next / prev. Keyset lists page forward only (`prev` is null). Message history pages by seq both ways:
   * `page[after]` reads forward and `page[before]` (or neither: the latest page) backward, so its links do too.
   */
  function pageLinks(
    request: FastifyRequest,
    spec: RouteSpec,
    query: ParsedQuery,
    page: Page<unknown>,
  ): Links {
    const at = (position: [string, string][]) => link(request, [...query.carried, ...position]);
    const links: Links = { self: selfLink(request), first: at([]) };
    if (!spec.list?.bounds || query.position.cursor !== undefined) {
      links.next = page.nextCursor !== null ? at([['page[cursor]', page.nextCursor]]) : null;
      links.prev = null;
      return links;
    }
    const seqs = (page.data as MessageView[]).map((message) => message.seq);
    const first = seqs[0];
    const last = seqs[seqs.length - 1];
    const { after, before } = query.position;
    const more = page.nextCursor !== null;
    if (after !== undefined) {
      const within: [string, string][] = before !== undefined ? [['page[before]', before]] : [];
      links.next = more && last !== undefined ? at([['page[after]', String(last)], ...within]) : null;
      links.prev = first !== undefined && first > 1 ? at([['page[before]', String(first)]]) : null;
    } else {
      links.next = more && first !== undefined ? at([['page[before]', String(first)]]) : null;
      links.prev = before !== undefined && last !== undefined ? at([['page[after]', String(last)]]) : null;
    }
    return links;
  }

  return runtime;
}

/** data, included, links, meta, then jsonapi: the order readers expect. */
function reorder(document: Document): Document {
  const { jsonapi, ...rest } = document;
  return { ...rest, jsonapi };
}
