import path from 'node:path';
import { filesConfig, type FilesConfig } from './attachments/attachment.config.ts';
import { logConfig, type LogConfig } from './logging/logging.config.ts';
import { jwtConfig, type JwtConfig, type NodeEnv } from './auth/jwt.config.ts';
import type { Limits } from './context.ts';
import { databaseConfig, type DatabaseConfig } from './db/db.config.ts';
import { demoConfig, type DemoConfig } from './demo/demo.config.ts';
import {
  dialectGatesConfig,
  dialectsConfig,
  mountPath,
  type Dialect,
  type DialectGates,
} from './dialects/dialects.config.ts';
import { httpConfig, type HttpConfig } from './http/http.config.ts';
import { boolean, integer, isMemory, oneOf, read, type Env } from './env.ts';
import { jsonApiConfig, type JsonApiConfig } from './jsonapi/jsonapi.config.ts';
import { limitsConfig, rateLimitConfig, type RateLimitConfig } from './limits/limits.config.ts';
import { metricsConfig, type MetricsConfig } from './metrics/metrics.config.ts';
import {
  busConfig,
  realtimeConfig,
  type BusConfig,
  type RealtimeConfig,
} from './realtime/realtime.config.ts';
import { webhooksConfig, type WebhooksConfig } from './webhooks/webhook.config.ts';

/**
 * The whole configuration, read from the environment at start. Each section is parsed beside the feature it
 * configures (`<feature>.config.ts`); this file only puts them together, in the order their errors are reported.
 */
export interface Config {
  nodeEnv: NodeEnv;
  /** HOST: by default 127.0.0.1 (this machine only) outside production, 0.0.0.0 (every interface) in it. */
  host: string;
  port: number;
  /** The standalone server's timeouts and the proxies it trusts. */
  http: HttpConfig;
  logLevel: string;
  /** LOG_LEVEL and PARLEY_LOG_FORMAT (`logging/logging.config.ts`). */
  log: LogConfig;
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
  /** Compatibility dialects to mount (docs/dialects), from DIALECTS; empty by default. */
  dialects: Dialect[];
  /** The optional key and allow-list of each dialect without tokens (PARLEY_DIALECT_<NAME>_KEY / _ALLOW). */
  dialectGates: DialectGates;
  /** Where the SourceLoop dialect is mounted (SOURCELOOP_BASE_PATH, default `/sourceloop`). */
  sourceloopBasePath: string;
  metrics: MetricsConfig;
  demo: DemoConfig;
  /** Memory for history pages at the state they were read at (PARLEY_HISTORY_CACHE_MB); 0: no cache. */
  historyCacheBytes: number;
  /** Uploaded files: their store, limits, links and sweeper (`attachments/attachment.config.ts`). */
  files: FilesConfig;
  /** Webhook subscriptions and their delivery (`webhooks/webhook.config.ts`). */
  webhooks: WebhooksConfig;
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const dataDirRaw = read(env, 'PARLEY_DATA_DIR') ?? './data';
  const dataDir = isMemory(dataDirRaw) ? dataDirRaw : path.resolve(dataDirRaw);
  const { jwt, source } = jwtConfig(env, nodeEnv, dataDir);
  const database = databaseConfig(env, dataDir);
  const log = logConfig(env, nodeEnv, process.stdout.isTTY === true);
  return {
    nodeEnv,
    host: read(env, 'HOST') ?? (nodeEnv === 'production' ? '0.0.0.0' : '127.0.0.1'),
    port: integer(env, 'PORT', 3000, 0, 65535),
    http: httpConfig(env),
    logLevel: log.level,
    log,
    dataDir,
    database,
    migrate: boolean(env, ['PARLEY_MIGRATE', 'CHAT_MIGRATION', 'SOURCELOOP_MIGRATION'], true),
    jwt,
    limits: limitsConfig(env),
    rateLimit: rateLimitConfig(env),
    jwtSecretSource: source,
    bus: busConfig(env, database),
    realtime: realtimeConfig(env),
    jsonapi: jsonApiConfig(env),
    dialects: dialectsConfig(env),
    dialectGates: dialectGatesConfig(env),
    sourceloopBasePath: mountPath(env, 'SOURCELOOP_BASE_PATH', '/sourceloop'),
    metrics: metricsConfig(env),
    demo: demoConfig(env, nodeEnv, jwt.secret),
    historyCacheBytes: integer(env, 'PARLEY_HISTORY_CACHE_MB', 64, 0, 64 * 1024) * 1024 * 1024,
    files: filesConfig(env, dataDir, jwt.secret),
    webhooks: webhooksConfig(env),
  };
}
