import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.ts';
import type { Database } from './database.ts';

export interface Store {
  db: Kysely<Database>;
  kind: 'pglite' | 'postgres';
  /** Throws when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * bigint columns (seq, number, counts) come back as numbers: they stay far below 2^53. Set per pool, never on pg's
 * global type table, so a host application that embeds Parley keeps its own parsing.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) {
      return (value: string) => Number(value);
    }
    return pg.types.getTypeParser(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function openPglite(dataDir: string): Promise<Store> {
  const [{ PGlite }, { createPgConfig }, { pg_trgm }, { unaccent }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/node-postgres'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('@electric-sql/pglite/contrib/unaccent'),
  ]);
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
  }
  // Search (migration 0002) needs these; `create extension` then finds them compiled in.
  const pglite = await PGlite.create(dataDir, { extensions: { pg_trgm, unaccent } });
  // PGlite is one in-process connection: a pool of one serialises transactions, which is what it can do.
  const pool = new pg.Pool({
    ...createPgConfig(pglite),
    max: 1,
    idleTimeoutMillis: 0,
    types,
  } as pg.PoolConfig);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}

async function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Promise<Store> {
  if (config.schema) {
    const client = new pg.Client({
      connectionString: config.connectionString,
      connectionTimeoutMillis: 5000,
    });
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
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    types,
    // `public` after Parley's schema: where the database's extensions (pg_trgm, unaccent) live.
    ...(config.schema ? { options: `-c search_path=${quoteIdent(config.schema)},public` } : {}),
  });
  // An idle client that loses its server must not take the process down; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      await db.destroy();
    },
  };
}

export async function openStore(config: DatabaseConfig): Promise<Store> {
  return config.kind === 'pglite' ? openPglite(config.dataDir) : openPostgres(config);
}

/** Wraps a Kysely instance the host application owns: Parley uses it and never closes it. */
export function borrowStore(db: Kysely<Database>): Store {
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {},
  };
}
