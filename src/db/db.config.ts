import path from 'node:path';
import { boolean, ConfigError, integer, isMemory, read, type Env } from '../env.ts';

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
      /**
       * PARLEY_DURABLE: every commit is synced to the disk before it is answered (`pglite-durable.ts`), so an
       * answered send survives a power cut, not only a killed process. Off by default: measured, it cost the
       * embedded database a quarter to a third of its send throughput (`npm run bench -- durability`). Meaningless
       * in memory.
       */
      durable: boolean;
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
      /**
       * How long all the database work of one request may take together (waiting for a connection, connecting, its
       * queries) before it answers 503; 0: no limit beyond the two above.
       */
      deadlineMs: number;
      /** Most query texts run as named prepared statements (`src/db/statements.ts`); 0: none. */
      preparedStatements: number;
    };

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function databaseConfig(env: Env, dataDir: string): DatabaseConfig {
  const poolSize = integer(env, 'DB_POOL_SIZE', 10, 1, 500);
  const connectTimeoutMs = integer(env, 'DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000);
  const queryTimeoutMs = integer(env, 'DB_QUERY_TIMEOUT_MS', 5000, 0, 3_600_000);
  // By default the larger of the two: a request waits no longer than either alone allowed, never their sum. With no
  // query deadline, none either: long queries were asked for.
  const deadlineMs = integer(
    env,
    'DB_DEADLINE_MS',
    queryTimeoutMs === 0 ? 0 : Math.max(connectTimeoutMs, queryTimeoutMs),
    0,
    3_600_000,
  );
  const preparedStatements = integer(env, 'DB_PREPARED_STATEMENTS', 500, 0, 10_000);
  // Read on every engine, so a bad value is an error wherever it is set; PostgreSQL's durability is the server's own.
  const durable = boolean(env, ['PARLEY_DURABLE'], false);
  const schemaRaw = read(env, 'DB_SCHEMA');
  if (schemaRaw !== undefined && !SCHEMA_NAME.test(schemaRaw)) {
    throw new ConfigError('DB_SCHEMA', `must be a plain identifier (letters, digits, _), got "${schemaRaw}"`);
  }
  const schema = schemaRaw ?? null;
  // What both ways of naming the server share.
  const pool = { schema, poolSize, connectTimeoutMs, queryTimeoutMs, deadlineMs, preparedStatements };
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
    return { kind: 'postgres', connectionString: url, ...pool };
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
      ...pool,
    };
  }
  // `memory://` (tests, throwaway runs) is PGlite's in-memory store, not a directory.
  return {
    kind: 'pglite',
    dataDir: isMemory(dataDir) ? dataDir : path.join(dataDir, 'pglite'),
    preparedStatements,
    durable,
  };
}
