import assert from 'node:assert/strict';
import Fastify, { type FastifySchema, type RouteOptions } from 'fastify';
import { sql } from 'kysely';
import { ERROR_STATUS } from '../../src/errors/codes.ts';
import { parley } from '../../src/plugin.ts';
import type { RouteSpec } from '../../src/jsonapi/jsonapi.spec.ts';
import type { TestApp } from './app.ts';

/** One route as Parley registers it: what the authorization matrix and the fuzz suites enumerate. */
export interface RegisteredRoute {
  method: string;
  /** The path pattern with the mount prefix, as the router has it: `/v1/chats/:id/messages/:seq`. */
  url: string;
  /** `GET /v1/chats/:id`: how the matrix and the fuzz tables name a route. */
  key: string;
  schema: FastifySchema;
  /** The route's JSON:API face, when it has one. */
  jsonapi: RouteSpec | null;
  /** A WebSocket endpoint (`/v1/stream`): plain HTTP requests are refused. */
  websocket: boolean;
}

/**
 * Every route the Parley plugin registers with the test app's configuration, read from the router's own `onRoute`
 * notifications: the plugin is mounted a second time on a bare Fastify instance that shares the test app's store
 * (nothing is opened or migrated), its routes are recorded, and it is closed. The test app must have the same
 * routes (checked), so a route added to the plugin shows up here without anyone listing it.
 */
export async function registeredRoutes(t: TestApp): Promise<RegisteredRoute[]> {
  const recorded: RouteOptions[] = [];
  const probe = Fastify({ routerOptions: { maxParamLength: 512 }, pluginTimeout: 120_000 });
  // Later hooks (JSON:API, WebSocket) complete the same route object: it is read once everything is registered.
  probe.addHook('onRoute', (route) => {
    recorded.push(route);
  });
  await probe.register(parley, {
    config: { ...t.config, migrate: false },
    store: t.app.parley.store,
  });
  await probe.ready();
  await probe.close();
  const routes: RegisteredRoute[] = [];
  for (const route of recorded) {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      routes.push({
        method,
        url: route.url,
        key: `${method} ${route.url}`,
        schema: route.schema ?? {},
        jsonapi: (route.config as { jsonapi?: RouteSpec } | undefined)?.jsonapi ?? null,
        websocket: 'wsHandler' in route || (route as { websocket?: boolean }).websocket === true,
      });
    }
  }
  for (const route of routes) {
    assert.ok(
      t.app.hasRoute({ method: route.method as 'GET', url: route.url }),
      `${route.key} is registered by the plugin but missing from the test app`,
    );
  }
  return routes;
}

/** The tables that hold what clients create: a refused request must leave every row of them as it was. */
export const DATA_TABLES = [
  'tenants',
  'users',
  'chats',
  'members',
  'messages',
  'message_flags',
  'attachments',
  'chat_mutes',
  'chat_bans',
  'user_blocks',
  'message_reports',
  'moderation_log',
] as const;

/**
 * A fingerprint of every row of the data tables (row counts and an md5 of the rows' text, in a stable order).
 * Equal fingerprints before and after a request mean it changed nothing a client could ever read back.
 */
export async function dataFingerprint(t: TestApp): Promise<Record<string, string>> {
  const db = t.app.parley.store.db;
  const parts = DATA_TABLES.map(
    (table) =>
      sql`select ${sql.lit(table)} as name, count(*)::text || ':' || coalesce(md5(string_agg(r::text, '|' order by r::text)), '') as digest from ${sql.table(table)} r`,
  );
  const union = parts.reduce((all, part) => sql`${all} union all ${part}`);
  const { rows } = await union.execute(db);
  return Object.fromEntries(
    (rows as { name: string; digest: string }[]).map((row) => [row.name, row.digest]),
  );
}

/** An answer as the suites read it: status, media type and the raw body text. */
export interface Answer {
  status: number;
  type: string;
  raw: string;
  headers: Record<string, unknown>;
}

export interface RawRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string | Buffer;
}

/** Routes whose answers never end (Server-Sent Events): status and headers are read, then the client hangs up. */
export const STREAMING = new Set(['/v1/events']);

/** Sends one request through `app.inject`; a stream that opens (200) is closed at once, with an empty body. */
export async function answer(t: TestApp, request: RawRequest): Promise<Answer> {
  const options = {
    method: request.method as 'GET',
    url: request.url,
    headers: request.headers ?? {},
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  };
  if (STREAMING.has(request.url.split('?')[0]!)) {
    const response = await t.app.inject({ ...options, payloadAsStream: true });
    const type = String(response.headers['content-type'] ?? '');
    if (response.statusCode === 200) {
      response.raw.res.destroy();
      return { status: 200, type, raw: '', headers: response.headers };
    }
    const chunks: Buffer[] = [];
    for await (const chunk of response.stream()) {
      chunks.push(chunk as Buffer);
    }
    return {
      status: response.statusCode,
      type,
      raw: Buffer.concat(chunks).toString('utf8'),
      headers: response.headers,
    };
  }
  const response = await t.app.inject(options);
  return {
    status: response.statusCode,
    type: String(response.headers['content-type'] ?? ''),
    raw: response.body,
    headers: response.headers,
  };
}

/**
 * Why an error answer is not the standard error body (null when it is): `{"error": {code, message, details?}}`
 * as JSON, or a JSON:API error document as `application/vnd.api+json`, with the code that belongs to the status.
 */
export function errorBodyProblem(reply: Answer): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.raw);
  } catch {
    return `the error body is not JSON: ${JSON.stringify(reply.raw.slice(0, 200))}`;
  }
  // Any JSON at all: every field is checked before it is relied on.
  const body = parsed as {
    errors?: unknown;
    error?: { code?: unknown; message?: unknown; details?: unknown } | null;
  } | null;
  if (reply.type === 'application/vnd.api+json') {
    const errors = (Array.isArray(body?.errors) ? body.errors : []) as ({
      code?: unknown;
      detail?: unknown;
      status?: unknown;
    } | null)[];
    if (
      errors.length === 0 ||
      Object.keys(body ?? {}).some((k) => !['errors', 'jsonapi', 'meta'].includes(k))
    ) {
      return `not a JSON:API error document: ${reply.raw.slice(0, 200)}`;
    }
    for (const error of errors) {
      const code = error?.code as keyof typeof ERROR_STATUS;
      if (typeof error?.detail !== 'string' || String(ERROR_STATUS[code]) !== error.status) {
        return `JSON:API error ${JSON.stringify(error).slice(0, 200)}`;
      }
    }
    if (!errors.some((error) => error?.status === String(reply.status))) {
      return `no JSON:API error has the status ${reply.status}`;
    }
    return reply.raw.includes('    at ') ? 'a stack trace in the body' : null;
  }
  if (!reply.type.startsWith('application/json')) {
    return `an error answered as ${reply.type || 'no content type'}`;
  }
  const keys = Object.keys(body ?? {});
  if (keys.length !== 1 || keys[0] !== 'error') {
    return `the error body has keys ${keys.join(', ')}`;
  }
  const error = body?.error;
  const extra = Object.keys(error ?? {}).filter((k) => !['code', 'message', 'details'].includes(k));
  if (extra.length > 0 || typeof error?.message !== 'string' || error.message === '') {
    return `error object ${JSON.stringify(error).slice(0, 200)}`;
  }
  if (error.details !== undefined && !Array.isArray(error.details)) {
    return `details is not a list: ${JSON.stringify(error.details).slice(0, 200)}`;
  }
  if (reply.raw.includes('    at ')) {
    return 'a stack trace in the body';
  }
  const code = error.code as keyof typeof ERROR_STATUS;
  return ERROR_STATUS[code] === reply.status ? null : `code ${String(code)} for status ${reply.status}`;
}
