import { sql, type Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from './database.ts';

/** How often Parley looks for tables that changed enough to need statistics or a vacuum (PGlite, or no autovacuum). */
export const MAINTENANCE_CHECK_MS = 15_000;

export interface MaintenancePass {
  analyzed: string[];
  vacuumed: string[];
}

/**
 * What autovacuum does on a server, for PGlite, which has none, and for a PostgreSQL server where it is off: a table whose rows changed by more than 50 + 10% of
 * its size since its last statistics is analyzed, one with more dead rows than 50 + 20% of its live ones is vacuumed
 * (and analyzed), by PostgreSQL's default thresholds and from its own counters (`pg_stat_user_tables`). Without it
 * the planner goes on with the statistics of a young database: sends into one chat of a database of 1000 chats
 * took 9–11 ms a batch of 30 instead of 4.4–5.5 ms, as the batch statement's plan was made for empty tables.
 */
export async function maintainTables(db: Kysely<Database>): Promise<MaintenancePass> {
  const due = await sql<{ relname: string; vacuum: boolean }>`
    select relname, vacuum
    from (
      select relname,
             n_mod_since_analyze > 50 + 0.1 * n_live_tup as stale,
             n_dead_tup > 50 + 0.2 * n_live_tup as vacuum
      from pg_stat_user_tables
      where schemaname = current_schema()
    ) t
    where stale or vacuum
    order by relname`.execute(db);
  const pass: MaintenancePass = { analyzed: [], vacuumed: [] };
  for (const { relname, vacuum } of due.rows) {
    await sql`${sql.raw(vacuum ? 'vacuum analyze' : 'analyze')} ${sql.id(relname)}`.execute(db);
    pass.analyzed.push(relname);
    if (vacuum) {
      pass.vacuumed.push(relname);
    }
  }
  return pass;
}

/** A PostgreSQL server whose autovacuum is off (`autovacuum = off`): Parley then keeps its own tables' statistics. */
export async function autovacuumIsOff(db: Kysely<Database>): Promise<boolean> {
  const result = await sql<{ on: boolean }>`select current_setting('autovacuum') = 'on' as on`.execute(db);
  return result.rows[0]?.on === false;
}

/**
 * One pass, by one process at a time on a server (per schema): the others skip it while one holds the advisory lock (on its own
 * connection, held for the pass). PGlite has one process and one connection: no lock.
 */
export async function maintainShared(db: Kysely<Database>): Promise<MaintenancePass | null> {
  return db.connection().execute(async (conn) => {
    const got = await sql<{
      got: boolean;
    }>`select pg_try_advisory_lock(${MAINTENANCE_LOCK}, hashtext(current_schema())) as got`.execute(conn);
    if (!got.rows[0]?.got) {
      return null;
    }
    try {
      return await maintainTables(conn);
    } finally {
      await sql`select pg_advisory_unlock(${MAINTENANCE_LOCK}, hashtext(current_schema()))`.execute(conn);
    }
  });
}

/**
 * The first key of a maintenance pass's advisory lock ("parm" in ASCII); the second is the schema's hash, so that
 * deployments in different schemas of one database do not wait for each other.
 */
export const MAINTENANCE_LOCK = 0x7061726d;

/**
 * Runs a maintenance pass every `MAINTENANCE_CHECK_MS`, one at a time: `maintainTables` on PGlite, `maintainShared`
 * on a server (several processes, one pass at a time between them).
 */
export function scheduleMaintenance(
  db: Kysely<Database>,
  log: FastifyBaseLogger,
  shared = false,
): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) {
      return;
    }
    running = true;
    const started = Date.now();
    (shared ? maintainShared(db) : maintainTables(db))
      .then(
        (pass) => {
          if (pass && pass.analyzed.length > 0) {
            log.debug({ ...pass, ms: Date.now() - started }, 'database tables maintained');
          }
        },
        (error: unknown) => log.error({ err: error }, 'database maintenance failed'),
      )
      .finally(() => {
        running = false;
      });
  }, MAINTENANCE_CHECK_MS);
  timer.unref();
  return timer;
}
