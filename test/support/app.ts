import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { mintToken, type MintOptions } from '../../src/auth/token.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { BodyOf } from './api.ts';
import { pgliteTemplate } from './pglite-template.ts';

/**
 * Where tests keep their data: a fresh in-memory PGlite per test app by default, or, when PARLEY_TEST_DATABASE_URL
 * is set, a fresh schema on that PostgreSQL server, dropped when the app closes.
 */
export const TEST_DATABASE_URL = process.env.PARLEY_TEST_DATABASE_URL ?? null;
export const ENGINE = TEST_DATABASE_URL ? 'postgres' : 'pglite';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const TEST_ISSUER = 'parley-test';

/** An answer of the test app: the body parsed when it is JSON, else its text (null when empty). */
export interface Response<T = unknown> {
  status: number;
  body: T;
  headers: LightMyRequestResponse['headers'];
}

export type Headers = Record<string, string>;

/** The media type of JSON:API: an answer asked for with it is a JSON:API document, read with `assertDocument`. */
export const JSONAPI = 'application/vnd.api+json';

/** What a request answers: the route's native view (`api.ts`), or `unknown` when it asks for JSON:API. */
type Answer<M extends string, U extends string, H> = H extends { accept: typeof JSONAPI }
  ? unknown
  : BodyOf<M, U>;

/**
 * A client acting as one user. Each method types the body from the URL (`api.ts`); a URL that no native route
 * matches answers `unknown` unless the caller names the type: `client.get<DrfMessage[]>(url)`.
 */
export interface Client {
  readonly userId: string;
  readonly token: string;
  get<U extends string, H extends Headers>(url: U, headers?: H): Promise<Response<Answer<'GET', U, H>>>;
  get<T>(url: string, headers?: Headers): Promise<Response<T>>;
  post<U extends string, H extends Headers>(
    url: U,
    body?: unknown,
    headers?: H,
  ): Promise<Response<Answer<'POST', U, H>>>;
  post<T>(url: string, body?: unknown, headers?: Headers): Promise<Response<T>>;
  patch<U extends string, H extends Headers>(
    url: U,
    body?: unknown,
    headers?: H,
  ): Promise<Response<Answer<'PATCH', U, H>>>;
  patch<T>(url: string, body?: unknown, headers?: Headers): Promise<Response<T>>;
  put<U extends string, H extends Headers>(
    url: U,
    body?: unknown,
    headers?: H,
  ): Promise<Response<Answer<'PUT', U, H>>>;
  put<T>(url: string, body?: unknown, headers?: Headers): Promise<Response<T>>;
  delete<U extends string, H extends Headers>(url: U, headers?: H): Promise<Response<Answer<'DELETE', U, H>>>;
  delete<T>(url: string, headers?: Headers): Promise<Response<T>>;
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  /** A token for `sub` signed with the test secret. */
  token(sub: string, options?: Omit<MintOptions, 'sub'>): Promise<string>;
  /** A client acting as `sub`; the user is provisioned on its first request (see `login`). */
  as(sub: string, options?: Omit<MintOptions, 'sub'>): Promise<Client>;
  /** A client whose user already exists (it has called GET /v1/me once). */
  login(sub: string, options?: Omit<MintOptions, 'sub'>): Promise<Client>;
  /** Raw request without a token. */
  request<M extends string, U extends string, H extends Headers>(
    method: M,
    url: U,
    body?: unknown,
    headers?: H,
  ): Promise<Response<Answer<M, U, H>>>;
  request<T>(method: string, url: string, body?: unknown, headers?: Headers): Promise<Response<T>>;
  close(): Promise<void>;
}

export function testSchemaName(): string {
  return `parley_test_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  if (!TEST_DATABASE_URL) {
    return;
  }
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/** A config as the server would load it, on the test database, with `env` on top. */
export function testConfig(env: Record<string, string> = {}, schema = testSchemaName()): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    PARLEY_DATA_DIR: 'memory://',
    ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL, DB_SCHEMA: schema } : {}),
    ...env,
  });
}

function parse<T>(response: LightMyRequestResponse): Response<T> {
  const type = String(response.headers['content-type'] ?? '');
  const body: unknown =
    response.body && type.includes('json') ? JSON.parse(response.body) : response.body || null;
  // The caller names what it expects; assertions on status and fields check it.
  return { status: response.statusCode, body: body as T, headers: response.headers };
}

/** One request through `app.inject`; the body is typed as the caller says (`unknown` unless told). */
export async function inject<T = unknown>(
  app: FastifyInstance,
  method: string,
  url: string,
  body?: unknown,
  headers: Headers = {},
): Promise<Response<T>> {
  const response = await app.inject({
    method: method as 'GET',
    url,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return parse<T>(response);
}

export function clientFor(app: FastifyInstance, userId: string, token: string): Client {
  const auth = { authorization: `Bearer ${token}` };
  const get = (url: string, headers?: Headers) => inject(app, 'GET', url, undefined, { ...auth, ...headers });
  const post = (url: string, body?: unknown, headers?: Headers) =>
    inject(app, 'POST', url, body ?? {}, { ...auth, ...headers });
  const patch = (url: string, body?: unknown, headers?: Headers) =>
    inject(app, 'PATCH', url, body ?? {}, { ...auth, ...headers });
  const put = (url: string, body?: unknown, headers?: Headers) =>
    inject(app, 'PUT', url, body ?? {}, { ...auth, ...headers });
  const del = (url: string, headers?: Headers) =>
    inject(app, 'DELETE', url, undefined, { ...auth, ...headers });
  // The overloads only name the body's type: every one of them is the same request.
  return {
    userId,
    token,
    get: get as Client['get'],
    post: post as Client['post'],
    patch: patch as Client['patch'],
    put: put as Client['put'],
    delete: del as Client['delete'],
  };
}

/**
 * `testConfig(env)`, and on an in-memory PGlite database the migrated cluster to start from (`pglite-template.ts`):
 * what every test app is built with.
 */
export async function testAppConfig(
  env: Record<string, string> = {},
  schema = testSchemaName(),
): Promise<Config> {
  const config = testConfig(env, schema);
  if (config.database.kind === 'pglite' && config.database.dataDir.startsWith('memory://')) {
    config.database = { ...config.database, loadDataDir: await pgliteTemplate() };
  }
  return config;
}

export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const schema = testSchemaName();
  const config = await testAppConfig(env, schema);
  const app = await buildApp(config);
  await app.ready();
  const token = (sub: string, options: Omit<MintOptions, 'sub'> = {}) =>
    mintToken(config.jwt, { sub, ...options });
  const as = async (sub: string, options: Omit<MintOptions, 'sub'> = {}) =>
    clientFor(app, sub, await token(sub, options));
  return {
    app,
    config,
    token,
    as,
    async login(sub, options) {
      const client = await as(sub, options);
      const me = await client.get('/v1/me');
      if (me.status !== 200) {
        throw new Error(`login ${sub}: ${me.status} ${JSON.stringify(me.body)}`);
      }
      return client;
    },
    request: ((method: string, url: string, body?: unknown, headers?: Headers) =>
      inject(app, method, url, body, headers)) as TestApp['request'],
    async close() {
      try {
        await app.close();
      } finally {
        await dropSchema(schema);
      }
    },
  };
}
