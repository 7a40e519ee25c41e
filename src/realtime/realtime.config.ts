import type { DatabaseConfig } from '../db/db.config.ts';
import { ConfigError, integer, oneOf, read, type Env } from '../env.ts';
import { rateLimit, type RateLimit } from '../limits/limits.config.ts';

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
  /** Days a chat's changes are kept for resumes (PARLEY_CHANGE_RETENTION_DAYS); older ones are pruned. */
  changeRetentionDays: number;
}

/** PARLEY_BUS: `local` on PGlite (one process), `postgres` (LISTEN/NOTIFY) on a PostgreSQL server, or redis / nats. */
export function busConfig(env: Env, database: DatabaseConfig): BusConfig {
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

export function realtimeConfig(env: Env): RealtimeConfig {
  return {
    maxBufferedBytes: integer(env, 'PARLEY_WS_MAX_BUFFER', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    heartbeatMs: integer(env, 'PARLEY_WS_HEARTBEAT_MS', 30_000, 100, 3_600_000),
    typingIntervalMs: integer(env, 'PARLEY_TYPING_INTERVAL_MS', 1000, 0, 60_000),
    presenceTtlMs: integer(env, 'PARLEY_PRESENCE_TTL_MS', 30_000, 300, 3_600_000),
    resumeGraceMs: integer(env, 'PARLEY_RESUME_GRACE_MS', 1000, 0, 60_000),
    gapWaitMs: integer(env, 'PARLEY_GAP_WAIT_MS', 25, 0, 10_000),
    frames: rateLimit(env, ['PARLEY_WS_FRAME_RATE', 'PARLEY_WS_FRAME_BURST'], 10, 2),
    socketsPerUser: integer(env, 'PARLEY_MAX_SOCKETS_PER_USER', 20, 1, 100_000),
    changeRetentionDays: integer(env, 'PARLEY_CHANGE_RETENTION_DAYS', 7, 1, 3650),
  };
}
