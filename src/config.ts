import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type DatabaseConfig =
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'postgres'; connectionString: string; schema: string | null; poolSize: number };

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
  /** Where the JWT secret came from, so start-up can say so. */
  jwtSecretSource: 'env' | 'generated' | 'file' | 'none';
  bus: BusConfig;
  realtime: RealtimeConfig;
}

export type BusConfig =
  { kind: 'local' } | { kind: 'postgres' } | { kind: 'redis'; url: string } | { kind: 'nats'; url: string };

export interface RealtimeConfig {
  maxBufferedBytes: number;
  heartbeatMs: number;
  typingIntervalMs: number;
  presenceTtlMs: number;
  resumeGraceMs: number;
  gapWaitMs: number;
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
    return { kind: 'postgres', connectionString: url, schema, poolSize };
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
    };
  }
  // `memory://` (tests, throwaway runs) is PGlite's in-memory store, not a directory.
  return { kind: 'pglite', dataDir: isMemory(dataDir) ? dataDir : path.join(dataDir, 'pglite') };
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

function realtimeConfig(env: Env): RealtimeConfig {
  return {
    maxBufferedBytes: integer(env, 'PARLEY_WS_MAX_BUFFER', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    heartbeatMs: integer(env, 'PARLEY_WS_HEARTBEAT_MS', 30_000, 100, 3_600_000),
    typingIntervalMs: integer(env, 'PARLEY_TYPING_INTERVAL_MS', 1000, 0, 60_000),
    presenceTtlMs: integer(env, 'PARLEY_PRESENCE_TTL_MS', 30_000, 300, 3_600_000),
    resumeGraceMs: integer(env, 'PARLEY_RESUME_GRACE_MS', 1000, 0, 60_000),
    gapWaitMs: integer(env, 'PARLEY_GAP_WAIT_MS', 25, 0, 10_000),
  };
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
    },
    jwtSecretSource: source,
    bus: busConfig(env, database),
    realtime: realtimeConfig(env),
  };
}
