import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  attributeNames,
  foreignKeyNames,
  isResourceType,
  OPERATIONS,
  RESOURCE_TYPES,
  type ResourceType,
} from './jsonapi/jsonapi.fields.ts';

export type DatabaseConfig =
  | {
      kind: 'pglite';
      dataDir: string;
      preparedStatements: number;
      /**
       * A dump of a PGlite data directory (`PGlite.dumpDataDir()`) to start from instead of an empty cluster: an
       * embedder's, or the test suite's already migrated one. Never read from the environment.
       */
      loadDataDir?: Blob;
    }
  | {
      kind: 'postgres';
      connectionString: string;
      schema: string | null;
      poolSize: number;
      /** How long to wait for a new connection, or for a free one of the pool, before answering 503. */
      connectTimeoutMs: number;
      /** How long a query may go unanswered before it fails (503) and its connection is dropped; 0: no limit. */
      queryTimeoutMs: number;
      /** Most query texts run as named prepared statements (`src/db/statements.ts`); 0: none. */
      preparedStatements: number;
    };

export interface JwtConfig {
  /** HS256 shared secret. */
  secret: string | null;
  /** PEM public key (SPKI) for RS256/ES256 tokens. */
  publicKey: string | null;
  /** JWKS endpoint for RS256/ES256 tokens. */
  jwksUrl: string | null;
  algorithms: string[];
  issuer: string;
  audience: string | null;
}

export interface Limits {
  /** Largest accepted request body, in bytes. */
  bodyBytes: number;
  /** Longest message text, in characters. */
  messageChars: number;
  /** Most members one chat may have, its creator included. */
  chatMembers: number;
  /** Most live chats one user may be a member of (Infinity: no limit, for a dialect's system user). */
  chatsPerUser: number;
}

/** A token bucket: `rate` tokens a second flow in, at most `burst` are saved up, each request (or frame) takes one. */
export interface RateLimit {
  rate: number;
  burst: number;
}

/** Requests per caller (README, "Limits"). */
export interface RateLimitConfig {
  /** Per tenant and user, for requests that carry a valid token; null: no limit. */
  user: RateLimit | null;
  /** Per client address, for requests that do not; null: no limit. */
  ip: RateLimit | null;
  /** Most callers remembered at once, per kind: the memory bound. Idle callers are forgotten first. */
  maxKeys: number;
}

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: string;
  dataDir: string;
  database: DatabaseConfig;
  migrate: boolean;
  jwt: JwtConfig;
  limits: Limits;
  rateLimit: RateLimitConfig;
  /** Where the JWT secret came from, so start-up can say so. */
  jwtSecretSource: 'env' | 'generated' | 'file' | 'none';
  bus: BusConfig;
  realtime: RealtimeConfig;
  jsonapi: JsonApiConfig;
  /** Compatibility dialects to mount (README, "Dialects"), from DIALECTS; empty by default. */
  dialects: Dialect[];
  /** Where the SourceLoop dialect is mounted (SOURCELOOP_BASE_PATH, default `/sourceloop`). */
  sourceloopBasePath: string;
  metrics: MetricsConfig;
  demo: DemoConfig;
  /** Memory for history pages at the state they were read at (PARLEY_HISTORY_CACHE_MB); 0: no cache. */
  historyCacheBytes: number;
}

/** The demo chat page at the root (README, "Demo page"). */
export interface DemoConfig {
  /** Serve the page: PARLEY_DEMO, by default outside production. */
  enabled: boolean;
  /** `POST /dev/token` mints a token for any user id: with the page, never in production, only with an HS256 secret. */
  devTokens: boolean;
}

/** `GET /metrics` (README, "Metrics"): Prometheus text format, and who may read it. */
export interface MetricsConfig {
  /** PARLEY_METRICS: collect metrics and answer `GET /metrics` at all (default true). */
  enabled: boolean;
  /** PARLEY_METRICS_TOKEN: when set, `Authorization: Bearer <token>` is required, from any address. */
  token: string | null;
  /**
   * PARLEY_METRICS_ALLOW, without a token: `private` (default) answers only peers on loopback or private networks
   * that did not come through a proxy; `any` answers everyone.
   */
  allow: 'private' | 'any';
}

export const DIALECTS = ['avito', 'instabug', 'drf', 'sourceloop'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** DIALECTS=avito,drf: a comma-separated subset of the known dialects. */
function dialectsConfig(env: Env): Dialect[] {
  const raw = read(env, 'DIALECTS');
  if (raw === undefined) {
    return [];
  }
  const names = raw
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!(DIALECTS as readonly string[]).includes(name)) {
      throw new ConfigError('DIALECTS', `unknown dialect "${name}" (use ${DIALECTS.join(', ')})`);
    }
  }
  return [...new Set(names as Dialect[])];
}

/** A path to mount routes under: `/a/b`, without a trailing slash. */
function mountPath(env: Env, name: string, fallback: string): string {
  const raw = read(env, name);
  if (raw === undefined) {
    return fallback;
  }
  const trimmed = raw.replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed)) {
    throw new ConfigError(name, `must be a path like /sourceloop, got "${raw}"`);
  }
  return trimmed;
}

export type BusConfig =
  { kind: 'local' } | { kind: 'postgres' } | { kind: 'redis'; url: string } | { kind: 'nats'; url: string };

export interface RealtimeConfig {
  /** Bytes queued for one connection before it is closed with 4008. */
  maxBufferedBytes: number;
  heartbeatMs: number;
  /** At most one typing event per chat per connection in this interval; extra ones are dropped. */
  typingIntervalMs: number;
  presenceTtlMs: number;
  /** How long a new WebSocket holds message events back waiting for the client's `resume`. */
  resumeGraceMs: number;
  /** Wait this long for a missing seq to arrive on the bus before reading it from the database. */
  gapWaitMs: number;
  /** Frames one WebSocket client may send; null: no limit. */
  frames: RateLimit | null;
  /** Most streams (WebSocket and SSE together) one user may hold open on one process. */
  socketsPerUser: number;
}

/** The JSON:API representation (README, "JSON:API"), modelled on the LoopBack JSON:API component's options. */
export interface JsonApiConfig {
  /** Answer `Accept: application/vnd.api+json` and read JSON:API bodies at all. */
  enabled: boolean;
  /** What links start with (before `/v1`), for a service behind a proxy; null: the request's protocol and host. */
  publicUrl: string | null;
  /** Per type, the only attributes shown; a type not named shows all of its attributes. */
  attributes: Partial<Record<ResourceType, string[]>>;
  /** Types (`messages`) and operations (`users.create`) that do not speak JSON:API. */
  exclude: string[];
  /** Per type, the foreign keys shown as attributes too (they are always relationships). */
  foreignKeys: Partial<Record<ResourceType, string[]>>;
}

/** The same settings as plugin options for an application that embeds Parley; each one replaces the config's. */
export interface JsonApiOptions {
  enabled?: boolean;
  publicUrl?: string | null;
  attributes?: Partial<Record<ResourceType, string[]>>;
  exclude?: string[];
  /** `true` for every foreign key of every type, or per type `true` / a list. */
  foreignKeys?: boolean | Partial<Record<ResourceType, boolean | string[]>>;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) {
    return undefined;
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) {
    return fallback;
  }
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function boolean(env: Env, names: string[], fallback: boolean): boolean {
  for (const name of names) {
    const raw = read(env, name);
    if (raw === undefined) {
      continue;
    }
    const lower = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(lower)) {
      return true;
    }
    if (['0', 'false', 'no', 'off'].includes(lower)) {
      return false;
    }
    throw new ConfigError(name, `must be true or false, got "${raw}"`);
  }
  return fallback;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) {
    return fallback;
  }
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

const isMemory = (dataDir: string) => dataDir.startsWith('memory://');

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function databaseConfig(env: Env, dataDir: string): DatabaseConfig {
  const poolSize = integer(env, 'DB_POOL_SIZE', 10, 1, 500);
  const connectTimeoutMs = integer(env, 'DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000);
  const queryTimeoutMs = integer(env, 'DB_QUERY_TIMEOUT_MS', 5000, 0, 3_600_000);
  const preparedStatements = integer(env, 'DB_PREPARED_STATEMENTS', 500, 0, 10_000);
  const schemaRaw = read(env, 'DB_SCHEMA');
  if (schemaRaw !== undefined && !SCHEMA_NAME.test(schemaRaw)) {
    throw new ConfigError('DB_SCHEMA', `must be a plain identifier (letters, digits, _), got "${schemaRaw}"`);
  }
  const schema = schemaRaw ?? null;
  const url = read(env, 'DATABASE_URL');
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(
        'DATABASE_URL',
        'is not a valid URL (expected postgres://user:pass@host:5432/db)',
      );
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new ConfigError(
        'DATABASE_URL',
        `must start with postgres:// or postgresql://, got "${parsed.protocol}"`,
      );
    }
    return {
      kind: 'postgres',
      connectionString: url,
      schema,
      poolSize,
      connectTimeoutMs,
      queryTimeoutMs,
      preparedStatements,
    };
  }
  const host = read(env, 'DB_HOST');
  if (host !== undefined) {
    const port = integer(env, 'DB_PORT', 5432, 1, 65535);
    const user = encodeURIComponent(read(env, 'DB_USER') ?? 'postgres');
    const password = read(env, 'DB_PASSWORD');
    const database = encodeURIComponent(read(env, 'DB_DATABASE') ?? 'postgres');
    const auth = password === undefined ? user : `${user}:${encodeURIComponent(password)}`;
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return {
      kind: 'postgres',
      connectionString: `postgres://${auth}@${hostPart}:${port}/${database}`,
      schema,
      poolSize,
      connectTimeoutMs,
      queryTimeoutMs,
      preparedStatements,
    };
  }
  // `memory://` (tests, throwaway runs) is PGlite's in-memory store, not a directory.
  return {
    kind: 'pglite',
    dataDir: isMemory(dataDir) ? dataDir : path.join(dataDir, 'pglite'),
    preparedStatements,
  };
}

/**
 * The HS256 secret: JWT_SECRET, else (outside production) one generated once into the data directory, so tokens
 * minted by `parley token` keep working across restarts.
 */
function jwtSecret(env: Env, nodeEnv: Config['nodeEnv'], dataDir: string, asymmetric: boolean) {
  const secret = read(env, 'JWT_SECRET');
  if (secret !== undefined) {
    if (nodeEnv === 'production' && secret.length < 32) {
      throw new ConfigError(
        'JWT_SECRET',
        `must be at least 32 characters in production, got ${secret.length}`,
      );
    }
    return { secret, source: 'env' as const };
  }
  if (asymmetric) {
    return { secret: null, source: 'none' as const };
  }
  if (nodeEnv === 'production') {
    throw new ConfigError(
      'JWT_SECRET',
      'is required when NODE_ENV=production (or set JWT_PUBLIC_KEY / JWT_JWKS_URL for RS256)',
    );
  }
  if (isMemory(dataDir)) {
    // Nowhere to keep it: a fresh secret for this process only.
    return { secret: randomBytes(48).toString('base64url'), source: 'generated' as const };
  }
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    return { secret: readFileSync(file, 'utf8').trim(), source: 'file' as const };
  }
  mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(48).toString('base64url');
  writeFileSync(file, `${generated}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secret: generated, source: 'generated' as const };
}

/** PARLEY_BUS: `local` on PGlite (one process), `postgres` (LISTEN/NOTIFY) on a PostgreSQL server, or redis / nats. */
function busConfig(env: Env, database: DatabaseConfig): BusConfig {
  const kind = oneOf(
    env,
    'PARLEY_BUS',
    ['local', 'postgres', 'redis', 'nats'] as const,
    database.kind === 'pglite' ? 'local' : 'postgres',
  );
  if (kind === 'postgres' && database.kind === 'pglite') {
    throw new ConfigError(
      'PARLEY_BUS',
      'postgres needs a PostgreSQL server (DATABASE_URL or DB_HOST), not PGlite',
    );
  }
  if (kind === 'redis' || kind === 'nats') {
    const name = kind === 'redis' ? 'REDIS_URL' : 'NATS_URL';
    const url = read(env, name);
    if (!url) {
      throw new ConfigError(name, `is required with PARLEY_BUS=${kind}`);
    }
    const scheme = kind === 'redis' ? /^rediss?:\/\// : /^(nats|tls|wss?):\/\//;
    if (!scheme.test(url)) {
      throw new ConfigError(name, `must be a ${kind}:// URL, got "${url}"`);
    }
    return { kind, url };
  }
  return { kind };
}

function metricsConfig(env: Env): MetricsConfig {
  const token = read(env, 'PARLEY_METRICS_TOKEN') ?? null;
  if (token !== null && !/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError(
      'PARLEY_METRICS_TOKEN',
      'must be printable ASCII without spaces (it travels in a header)',
    );
  }
  return {
    enabled: boolean(env, ['PARLEY_METRICS'], true),
    token,
    allow: oneOf(env, 'PARLEY_METRICS_ALLOW', ['private', 'any'] as const, 'private'),
  };
}

function realtimeConfig(env: Env): RealtimeConfig {
  return {
    maxBufferedBytes: integer(env, 'PARLEY_WS_MAX_BUFFER', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    heartbeatMs: integer(env, 'PARLEY_WS_HEARTBEAT_MS', 30_000, 100, 3_600_000),
    typingIntervalMs: integer(env, 'PARLEY_TYPING_INTERVAL_MS', 1000, 0, 60_000),
    presenceTtlMs: integer(env, 'PARLEY_PRESENCE_TTL_MS', 30_000, 300, 3_600_000),
    resumeGraceMs: integer(env, 'PARLEY_RESUME_GRACE_MS', 1000, 0, 60_000),
    gapWaitMs: integer(env, 'PARLEY_GAP_WAIT_MS', 25, 0, 10_000),
    frames: rateLimit(env, ['PARLEY_WS_FRAME_RATE', 'PARLEY_WS_FRAME_BURST'], 10, 2),
    socketsPerUser: integer(env, 'PARLEY_MAX_SOCKETS_PER_USER', 20, 1, 100_000),
  };
}

/**
 * `rateName` per second (0: off) and `burstName` at once, by default `burstSeconds` seconds' worth: lowering the
 * rate lowers the burst with it unless the burst is set too.
 */
function rateLimit(
  env: Env,
  [rateName, burstName]: [string, string],
  fallback: number,
  burstSeconds: number,
): RateLimit | null {
  const rate = integer(env, rateName, fallback, 0, 1_000_000);
  const burst = integer(env, burstName, Math.max(1, rate * burstSeconds), 1, 100_000_000);
  return rate === 0 ? null : { rate, burst };
}

function rateLimitConfig(env: Env): RateLimitConfig {
  return {
    user: rateLimit(env, ['PARLEY_RATE_LIMIT_USER', 'PARLEY_RATE_LIMIT_USER_BURST'], 100, 10),
    ip: rateLimit(env, ['PARLEY_RATE_LIMIT_IP', 'PARLEY_RATE_LIMIT_IP_BURST'], 100, 10),
    maxKeys: integer(env, 'PARLEY_RATE_LIMIT_KEYS', 100_000, 100, 10_000_000),
  };
}

function demoConfig(env: Env, nodeEnv: Config['nodeEnv'], secret: string | null): DemoConfig {
  const enabled = boolean(env, ['PARLEY_DEMO'], nodeEnv !== 'production');
  return { enabled, devTokens: enabled && nodeEnv !== 'production' && secret !== null };
}

const JSONAPI_DEFAULTS: JsonApiConfig = {
  enabled: true,
  publicUrl: null,
  attributes: {},
  exclude: [],
  foreignKeys: {},
};

/** Which setting an error names: the environment variable, or the plugin option. */
type JsonApiNames = Record<'publicUrl' | 'attributes' | 'exclude' | 'foreignKeys', string>;

const JSONAPI_ENV_NAMES: JsonApiNames = {
  publicUrl: 'PARLEY_PUBLIC_URL',
  attributes: 'PARLEY_JSONAPI_ATTRIBUTES',
  exclude: 'PARLEY_JSONAPI_EXCLUDE',
  foreignKeys: 'PARLEY_JSONAPI_FOREIGN_KEYS',
};

function resourceType(variable: string, name: string): ResourceType {
  if (!isResourceType(name)) {
    throw new ConfigError(variable, `unknown type "${name}" (types: ${RESOURCE_TYPES.join(', ')})`);
  }
  return name;
}

/** `users:username,displayName;chats:name` → [[users, [username, displayName]], [chats, [name]]]; `messages` alone → null. */
function typeLists(variable: string, raw: string): [ResourceType, string[] | null][] {
  const entries = raw
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    const type = resourceType(variable, (colon < 0 ? entry : entry.slice(0, colon)).trim());
    if (colon < 0) {
      return [type, null];
    }
    const names = entry
      .slice(colon + 1)
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    if (names.length === 0) {
      throw new ConfigError(variable, `names no fields for ${type} (expected "${type}:field,field")`);
    }
    return [type, names];
  });
}

function knownNames(
  variable: string,
  type: ResourceType,
  names: string[],
  known: string[],
  what: string,
): void {
  for (const name of names) {
    if (!known.includes(name)) {
      const others = known.length > 0 ? known.join(', ') : 'none';
      throw new ConfigError(variable, `${type} has no ${what} "${name}" (${what}s: ${others})`);
    }
  }
}

/** Checks JSON:API settings and puts them over `base`: how the environment and plugin options both arrive. */
function resolveJsonApi(options: JsonApiOptions, base: JsonApiConfig, names: JsonApiNames): JsonApiConfig {
  const resolved: JsonApiConfig = { ...base };
  if (options.enabled !== undefined) {
    resolved.enabled = options.enabled;
  }
  if (options.publicUrl !== undefined) {
    resolved.publicUrl = options.publicUrl === null ? null : publicUrl(names.publicUrl, options.publicUrl);
  }
  if (options.attributes !== undefined) {
    for (const [type, list] of Object.entries(options.attributes)) {
      const known = attributeNames(resourceType(names.attributes, type));
      const foreignKeys = foreignKeyNames(type as ResourceType);
      const foreignKey = (list ?? []).find((name) => foreignKeys.includes(name));
      if (foreignKey !== undefined) {
        throw new ConfigError(
          names.attributes,
          `${type}.${foreignKey} is a foreign key: show it with ${names.foreignKeys}`,
        );
      }
      knownNames(names.attributes, type as ResourceType, list ?? [], known, 'attribute');
    }
    resolved.attributes = options.attributes;
  }
  if (options.exclude !== undefined) {
    for (const entry of options.exclude) {
      const [type = '', operation, extra] = entry.split('.');
      resourceType(names.exclude, type);
      if (
        extra !== undefined ||
        (operation !== undefined && !(OPERATIONS as readonly string[]).includes(operation))
      ) {
        throw new ConfigError(
          names.exclude,
          `"${entry}" is not a type or type.operation (operations: ${OPERATIONS.join(', ')})`,
        );
      }
    }
    resolved.exclude = options.exclude;
  }
  if (options.foreignKeys !== undefined) {
    const all = RESOURCE_TYPES.map((type) => [type, options.foreignKeys === true] as const);
    const chosen = typeof options.foreignKeys === 'boolean' ? all : Object.entries(options.foreignKeys);
    const foreignKeys: JsonApiConfig['foreignKeys'] = {};
    for (const [name, choice] of chosen) {
      const type = resourceType(names.foreignKeys, name);
      const known = foreignKeyNames(type);
      const list = choice === true ? known : choice === false || choice === undefined ? [] : choice;
      knownNames(names.foreignKeys, type, list, known, 'foreign key');
      if (list.length > 0) {
        foreignKeys[type] = list;
      }
    }
    resolved.foreignKeys = foreignKeys;
  }
  return resolved;
}

function publicUrl(variable: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `is not a valid URL (expected https://host/path), got "${raw}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(variable, `must be an http(s) URL without query or fragment, got "${raw}"`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function jsonApiConfig(env: Env): JsonApiConfig {
  const attributes = read(env, 'PARLEY_JSONAPI_ATTRIBUTES');
  const exclude = read(env, 'PARLEY_JSONAPI_EXCLUDE');
  const foreignKeys = read(env, 'PARLEY_JSONAPI_FOREIGN_KEYS');
  const url = read(env, 'PARLEY_PUBLIC_URL');
  const options: JsonApiOptions = { enabled: boolean(env, ['PARLEY_JSONAPI'], true) };
  if (url !== undefined) {
    options.publicUrl = url;
  }
  if (attributes !== undefined) {
    options.attributes = {};
    for (const [type, list] of typeLists('PARLEY_JSONAPI_ATTRIBUTES', attributes)) {
      if (list === null) {
        throw new ConfigError(
          'PARLEY_JSONAPI_ATTRIBUTES',
          `names no fields for ${type} (expected "${type}:a,b")`,
        );
      }
      options.attributes[type] = list;
    }
  }
  if (exclude !== undefined) {
    options.exclude = exclude
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  }
  if (foreignKeys !== undefined) {
    const lower = foreignKeys.toLowerCase();
    options.foreignKeys =
      lower === 'true' || lower === 'false'
        ? lower === 'true'
        : Object.fromEntries(
            typeLists('PARLEY_JSONAPI_FOREIGN_KEYS', foreignKeys).map(([t, l]) => [t, l ?? true]),
          );
  }
  return resolveJsonApi(options, JSONAPI_DEFAULTS, JSONAPI_ENV_NAMES);
}

/**
 * JSON:API settings given as plugin options, over the config's: checked like the environment variables, with
 * errors naming the option (`jsonapi.attributes: ...`).
 */
export function withJsonApiOptions(base: JsonApiConfig, options: JsonApiOptions): JsonApiConfig {
  return resolveJsonApi(options, base, {
    publicUrl: 'jsonapi.publicUrl',
    attributes: 'jsonapi.attributes',
    exclude: 'jsonapi.exclude',
    foreignKeys: 'jsonapi.foreignKeys',
  });
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const dataDirRaw = read(env, 'PARLEY_DATA_DIR') ?? './data';
  const dataDir = isMemory(dataDirRaw) ? dataDirRaw : path.resolve(dataDirRaw);
  const publicKey = read(env, 'JWT_PUBLIC_KEY') ?? null;
  const jwksUrl = read(env, 'JWT_JWKS_URL') ?? null;
  if (jwksUrl !== null && !/^https?:\/\//.test(jwksUrl)) {
    throw new ConfigError('JWT_JWKS_URL', `must be an http(s) URL, got "${jwksUrl}"`);
  }
  const asymmetric = publicKey !== null || jwksUrl !== null;
  const { secret, source } = jwtSecret(env, nodeEnv, dataDir, asymmetric);
  const algorithmsRaw = read(env, 'JWT_ALGORITHMS');
  const algorithms = algorithmsRaw
    ? algorithmsRaw.split(',').map((a) => a.trim())
    : [...(secret ? ['HS256'] : []), ...(asymmetric ? ['RS256'] : [])];
  for (const alg of algorithms) {
    if (!ALGORITHMS.includes(alg)) {
      throw new ConfigError(
        'JWT_ALGORITHMS',
        `unsupported algorithm "${alg}" (use ${ALGORITHMS.join(', ')})`,
      );
    }
  }
  const database = databaseConfig(env, dataDir);
  const logLevel = read(env, 'LOG_LEVEL') ?? (nodeEnv === 'test' ? 'warn' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  return {
    nodeEnv,
    host: read(env, 'HOST') ?? '0.0.0.0',
    port: integer(env, 'PORT', 3000, 0, 65535),
    logLevel,
    dataDir,
    database,
    migrate: boolean(env, ['PARLEY_MIGRATE', 'CHAT_MIGRATION', 'SOURCELOOP_MIGRATION'], true),
    jwt: {
      secret,
      publicKey,
      jwksUrl,
      algorithms,
      issuer: read(env, 'JWT_ISSUER') ?? 'parley',
      audience: read(env, 'JWT_AUDIENCE') ?? null,
    },
    limits: {
      bodyBytes: integer(env, 'PARLEY_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
      messageChars: integer(env, 'PARLEY_MAX_MESSAGE_CHARS', 10_000, 1, 1_000_000),
      // A direct chat has two members: no smaller maximum works.
      chatMembers: integer(env, 'PARLEY_MAX_CHAT_MEMBERS', 10_000, 2, 10_000_000),
      chatsPerUser: integer(env, 'PARLEY_MAX_CHATS_PER_USER', 10_000, 1, 10_000_000),
    },
    rateLimit: rateLimitConfig(env),
    jwtSecretSource: source,
    bus: busConfig(env, database),
    realtime: realtimeConfig(env),
    jsonapi: jsonApiConfig(env),
    dialects: dialectsConfig(env),
    sourceloopBasePath: mountPath(env, 'SOURCELOOP_BASE_PATH', '/sourceloop'),
    metrics: metricsConfig(env),
    demo: demoConfig(env, nodeEnv, secret),
    historyCacheBytes: integer(env, 'PARLEY_HISTORY_CACHE_MB', 64, 0, 64 * 1024) * 1024 * 1024,
  };
}
