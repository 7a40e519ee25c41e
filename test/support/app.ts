import { randomBytes } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import { mintToken, type MintOptions } from '../../src/auth/token.ts';
import { loadConfig, type Config } from '../../src/config.ts';

/**
 * Where tests keep their data: a fresh in-memory PGlite per test app by default, or, when PARLEY_TEST_DATABASE_URL
 * is set, a fresh schema on that PostgreSQL server, dropped when the app closes.
 */
export const TEST_DATABASE_URL = process.env.PARLEY_TEST_DATABASE_URL ?? null;
export const ENGINE = TEST_DATABASE_URL ? 'postgres' : 'pglite';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
export const TEST_ISSUER = 'parley-test';

export interface Response<T = any> {
  status: number;
  body: T;
  headers: LightMyRequestResponse['headers'];
}

export interface Client {
  readonly userId: string;
  readonly token: string;
  get<T = any>(url: string, headers?: Record<string, string>): Promise<Response<T>>;
  post<T = any>(url: string, body?: unknown, headers?: Record<string, string>): Promise<Response<T>>;
  patch<T = any>(url: string, body?: unknown, headers?: Record<string, string>): Promise<Response<T>>;
  put<T = any>(url: string, body?: unknown, headers?: Record<string, string>): Promise<Response<T>>;
  delete<T = any>(url: string, headers?: Record<string, string>): Promise<Response<T>>;
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
  request(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
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

function parse(response: LightMyRequestResponse): Response {
  const type = String(response.headers['content-type'] ?? '');
  const body = response.body && type.includes('json') ? JSON.parse(response.body) : response.body || null;
  return { status: response.statusCode, body, headers: response.headers };
}

export async function inject(
  app: FastifyInstance,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const response = await app.inject({
    method: method as 'GET',
    url,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return parse(response);
}

export function clientFor(app: FastifyInstance, userId: string, token: string): Client {
  const auth = { authorization: `Bearer ${token}` };
  return {
    userId,
    token,
    get: (url, headers) => inject(app, 'GET', url, undefined, { ...auth, ...headers }),
    post: (url, body, headers) => inject(app, 'POST', url, body ?? {}, { ...auth, ...headers }),
    patch: (url, body, headers) => inject(app, 'PATCH', url, body ?? {}, { ...auth, ...headers }),
    put: (url, body, headers) => inject(app, 'PUT', url, body ?? {}, { ...auth, ...headers }),
    delete: (url, headers) => inject(app, 'DELETE', url, undefined, { ...auth, ...headers }),
  };
}

export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const schema = testSchemaName();
  const config = testConfig(env, schema);
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
    request: (method, url, body, headers) => inject(app, method, url, body, headers),
    async close() {
      try {
        await app.close();
      } finally {
        await dropSchema(schema);
      }
    },
  };
}
