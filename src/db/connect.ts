import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from './db.config.ts';
import type { Database } from './database.ts';
import { wrapPool } from './deadline.ts';
import { StatementNames } from './statements.ts';
import { parseTimestamptz } from './timestamps.ts';
import { lockDataDir, type DataDirLock } from './datadir-lock.ts';
import { DatabaseHealth, type Probe } from './health.ts';
import { durableNodeFS, durableStartParams, syncTree } from './pglite-durable.ts';

export interface Store {
  /** For the work of requests: all of one request's database work counts against one deadline (`deadlineMs`). */
  db: Kysely<Database>;
  /**
   * The same database for work shared by many requests (the send batcher, the event bus): each use of a connection
   * has a deadline of its own, never the request's that happened to start it.
   */
  shared: Kysely<Database>;
  /**
   * The same database without deadlines (DB_QUERY_TIMEOUT_MS, DB_DEADLINE_MS) and never refused by the circuit: for
   * migrations, which may rightly take longer than any request should. Closed with `db`.
   */
  unbounded: Kysely<Database>;
  kind: 'pglite' | 'postgres';
  /** The deadline of one request's database work (DB_DEADLINE_MS); 0: none. */
  deadlineMs: number;
  /** Whether the database answers, as seen from here: outages are logged through it, once each. */
  health: DatabaseHealth;
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The connection pool's state, for metrics; null for a Kysely instance of the host's, whose pool we cannot see. */
  pool(): PoolStats | null;
  /**
   * The embedded data directory's lock (`datadir-lock.ts`), held from open to close; null on PostgreSQL and for an
   * in-memory database, which no other process can open.
   */
  lock: DataDirLock | null;
}

/** On PGlite the pool is its one in-process connection: `waiting` is then the queue of queries behind it. */
export interface PoolStats {
  /** Connections open, busy or idle. */
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
  max: number;
}

function poolStats(pool: pg.Pool, max: number): () => PoolStats {
  return () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max });
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const TIMESTAMPTZ_OID = 1184;

/**
 * bigint columns (seq, number, counts) come back as numbers: they stay far below 2^53; timestamps through a faster
 * parser of the same result (`timestamps.ts`). Set per pool, never on pg's
 * global type table, so a host application that embeds Parley keeps its own parsing.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) {
      return (value: string) => Number(value);
    }
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') {
      return parseTimestamptz;
    }
    return pg.types.getTypeParser(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/** A UTF-16 surrogate that is not half of a pair: JSON's `"\udc00"` can carry one, UTF-8 cannot. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

interface BindMessage {
  values?: unknown[];
  valueMapper?: (value: unknown, index: number) => unknown;
}

/**
 * PGlite's protocol writer miscounts the UTF-8 length of a lone surrogate that follows another non-ASCII character
 * and cuts the parameter short, which PostgreSQL then refuses (a 500 for the message text "é\udc00"). node-postgres
 * writes a lone surrogate as U+FFFD: so do we, before PGlite's writer sees the value, and both engines store the same.
 */
function wellFormedParameters(connection: { bind(message: BindMessage): void }): void {
  const bind = connection.bind.bind(connection);
  connection.bind = (message) => {
    const map = message.valueMapper;
    bind({
      ...message,
      valueMapper: (value, index) => {
        const mapped = map ? map(value, index) : value;
        return typeof mapped === 'string' ? mapped.replace(LONE_SURROGATE, '\ufffd') : mapped;
      },
    });
  };
}

/** The query texts this store prepares (`DB_PREPARED_STATEMENTS`), or null for none. */
function statementsOf(config: { preparedStatements: number }): StatementNames | null {
  return config.preparedStatements > 0 ? new StatementNames(config.preparedStatements) : null;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function openPglite(config: Extract<DatabaseConfig, { kind: 'pglite' }>): Promise<Store> {
  const { dataDir } = config;
  const onDisk = !dataDir.startsWith('memory://');
  // First of all, before PGlite is even loaded: a directory another process has open is refused at once.
  const lock = onDisk ? await lockDataDir(dataDir) : null;
  try {
    return await startPglite(config, lock);
  } catch (error) {
    lock?.release();
    throw error;
  }
}

async function startPglite(
  config: Extract<DatabaseConfig, { kind: 'pglite' }>,
  lock: DataDirLock | null,
): Promise<Store> {
  const { dataDir } = config;
  const [{ PGlite }, { createPgConfig }, { pg_trgm }, { unaccent }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/node-postgres'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('@electric-sql/pglite/contrib/unaccent'),
  ]);
  if (lock) {
    mkdirSync(dataDir, { recursive: true });
  }
  // Search (migration 0002) needs these; `create extension` then finds them compiled in.
  const extensions = { pg_trgm, unaccent };
  const durable = lock !== null && config.durable;
  // PGlite writes a new directory from a template, not through PostgreSQL, which syncs only what it writes itself.
  // (After a crash, PostgreSQL syncs the whole directory before recovery, as on any disk.)
  const created = durable && !existsSync(path.join(dataDir, 'PG_VERSION'));
  const pglite = durable
    ? await PGlite.create({
        fs: await durableNodeFS(dataDir),
        startParams: durableStartParams(PGlite.defaultStartParams),
        extensions,
      })
    : await PGlite.create(dataDir, {
        extensions,
        ...(config.loadDataDir ? { loadDataDir: config.loadDataDir } : {}),
      });
  if (created) {
    try {
      syncTree(dataDir);
    } catch (error) {
      await pglite.close();
      throw error;
    }
  }
  // PGlite is one in-process connection: a pool of one serialises transactions, which is what it can do.
  const pgConfig = createPgConfig(pglite);
  wellFormedParameters(pgConfig.connection);
  const pool = new pg.Pool({
    ...pgConfig,
    max: 1,
    idleTimeoutMillis: 0,
    types,
  } as pg.PoolConfig);
  // In-process: nothing to wait for but the one connection, and no network to lose; no deadline, no circuit.
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: wrapPool(pool, { timeoutMs: 0, deadlineMs: 0, statements: statementsOf(config) }).pool,
    }),
  });
  // Migrations run through the same instance: no deadline here anyway, and a statement prepared before a migration
  // changed its table is recovered from (`src/db/deadline.ts`).
  return {
    db,
    shared: db,
    unbounded: db,
    kind: 'pglite',
    deadlineMs: 0,
    health: new DatabaseHealth(),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      try {
        await db.destroy();
        await pglite.close();
      } finally {
        // Only once PGlite has written its last page: the next process may open the directory then.
        lock?.release();
      }
    },
    pool: poolStats(pool, 1),
    lock,
  };
}

/**
 * Whether the server can be reached: a connection of its own (the pool's may all be stuck on a server that stopped
 * answering), then `select 1`, each within DB_CONNECT_TIMEOUT_MS. A server that answers with an error (too many
 * connections, starting up, a refused login) is reachable: it says so at once, with no need to refuse for it.
 */
function probeOf(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Probe {
  return async () => {
    const client = new pg.Client({
      connectionString: config.connectionString,
      connectionTimeoutMillis: config.connectTimeoutMs,
      query_timeout: config.connectTimeoutMs,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
    } catch (error) {
      if (!(error instanceof pg.DatabaseError)) {
        throw error;
      }
    } finally {
      // With a query still waiting for its answer, this cuts the socket instead of waiting for the server.
      client.end().catch(() => {});
    }
  };
}

async function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Promise<Store> {
  if (config.schema) {
    const client = new pg.Client({
      connectionString: config.connectionString,
      connectionTimeoutMillis: config.connectTimeoutMs,
    });
    // A lost connection rejects what is waiting on it; unheard, its 'error' event would end the process.
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query(`create schema if not exists ${quoteIdent(config.schema)}`);
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: config.connectionString,
    max: config.poolSize,
    // Also bounds the wait for a free connection when all of them are busy.
    connectionTimeoutMillis: config.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    // Lets the operating system notice a server that vanished from the network while a connection sat idle.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    types,
    // `public` after Parley's schema: where the database's extensions (pg_trgm, unaccent) live.
    ...(config.schema ? { options: `-c search_path=${quoteIdent(config.schema)},public` } : {}),
  });
  const health = new DatabaseHealth(probeOf(config));
  // An idle client that loses its server must not take the process down; the next query reconnects.
  pool.on('error', () => {});
  pool.on('connect', (client) => {
    // The pool listens for errors only while a client is idle. A client in use whose server goes away (a restart,
    // an outage) emits 'error' as well as failing its query, and with no listener that error ends the process.
    // The query's own failure is what the request answers (503) and logs; this event adds nothing.
    client.on('error', () => {});
    // A new connection after an outage: the database is back.
    health.answered();
  });
  const wrapped = wrapPool(pool, {
    timeoutMs: config.queryTimeoutMs,
    deadlineMs: config.deadlineMs,
    statements: statementsOf(config),
    circuit: health,
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: wrapped.pool }) });
  // Same pool; never destroyed themselves (that would end the pool twice): `db` ends it.
  const shared = new Kysely<Database>({ dialect: new PostgresDialect({ pool: wrapped.shared }) });
  // No deadline and no circuit: migrations may rightly take longer than any request should.
  const unbounded = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    db,
    shared,
    unbounded,
    kind: 'postgres',
    deadlineMs: config.deadlineMs,
    health,
    ping: async () => {
      if (closed) {
        throw new Error('the database store is closed');
      }
      await sql`select 1`.execute(db);
    },
    close: async () => {
      closed = true;
      health.stop();
      await db.destroy();
      // Kysely ends a pool only if it used it: a command that went through `unbounded` alone (parley migrate) would
      // otherwise keep an idle connection, and the process, open for the pool's idle timeout.
      if (!pool.ending) {
        await pool.end();
      }
    },
    pool: poolStats(pool, config.poolSize),
    lock: null,
  };
}

export async function openStore(config: DatabaseConfig): Promise<Store> {
  return config.kind === 'pglite' ? openPglite(config) : openPostgres(config);
}

/** Wraps a Kysely instance the host application owns: Parley uses it and never closes it. */
export function borrowStore(db: Kysely<Database>): Store {
  return {
    db,
    shared: db,
    unbounded: db,
    kind: 'postgres',
    deadlineMs: 0,
    health: new DatabaseHealth(),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {},
    pool: () => null,
    lock: null,
  };
}
