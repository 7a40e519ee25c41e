import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from './config.ts';
import type { Context } from './context.ts';
import { borrowStore, openStore, type Store } from './db/connect.ts';
import type { Database } from './db/database.ts';
import { autovacuumIsOff, scheduleMaintenance } from './db/maintenance.ts';
import { SearchIndexer } from './search/search.indexer.ts';
import { migrateToLatest } from './db/migrate.ts';
import { pruneChanges } from './chats/change.service.ts';
import { scheduleSweeper } from './attachments/file.service.ts';
import { LocalFileStore } from './attachments/file.store.ts';
import { HistoryCache } from './messages/history.cache.ts';
import { KnownUsers } from './users/user.service.ts';
import { MessageBatcher } from './messages/message.batcher.ts';
import { Metrics } from './metrics/metrics.registry.ts';
import type { Bus } from './realtime/bus.ts';
import { LocalBus } from './realtime/buses/local.ts';
import { createBus } from './realtime/create-bus.ts';
import { DeliveryWorker } from './webhooks/delivery.service.ts';
import { createBeforeSend } from './webhooks/before-send.service.ts';

export interface RuntimeOptions {
  log: FastifyBaseLogger;
  /** A store to use instead of opening one from `config.database`; the caller keeps owning (and closes) it. */
  store?: Store;
  /** Or a Kysely instance of the host application's, on PostgreSQL; Parley's tables are migrated into it. */
  db?: Kysely<Database>;
  /**
   * `false` for a command that serves no streams (`parley seed`): its events go nowhere instead of to the
   * configured bus. Default true.
   */
  fanOut?: boolean;
}

/** Everything Parley runs on, without HTTP: what the plugin serves, and what the command line works with. */
export interface Runtime {
  store: Store;
  /** What every service is given. */
  ctx: Context;
  bus: Bus;
  /** This runtime's metrics; null with PARLEY_METRICS=false. */
  metrics: Metrics | null;
  /** Stops the bus and the maintenance timer, and closes the store if the runtime opened it. */
  close(): Promise<void>;
}

/**
 * Opens the store (or borrows the caller's), applies pending migrations when `config.migrate` is on, starts the
 * event bus, and builds the service context: group commit of sends, the history cache, metrics.
 */
export async function openRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const { log } = options;
  const owned = !options.store && !options.db;
  if (owned) {
    log.info(
      firstStart(config.database)
        ? `creating ${describeDatabase(config.database)} (first start only: this takes 10 to 20 seconds)`
        : `opening ${describeDatabase(config.database)}`,
    );
  }
  const store = options.store ?? (options.db ? borrowStore(options.db) : await openStore(config.database));
  store.health.logTo(log);
  if (store.lock?.recovered) {
    log.warn(
      { lock: store.lock.file, previous: store.lock.recovered },
      `took over the data directory's lock from pid ${store.lock.recovered.pid}, which is no longer running`,
    );
  }
  let bus: Bus;
  try {
    if (config.migrate) {
      const { applied } = await migrateToLatest(store.unbounded, (pending) =>
        log.info(
          `applying ${pending.length} database migration${pending.length === 1 ? '' : 's'} ` +
            `(${pending[0]} … ${pending.at(-1)})`,
        ),
      );
      if (applied.length > 0) {
        log.info({ applied }, 'database migrated');
      }
    }
    bus =
      options.fanOut === false
        ? new LocalBus(log)
        : createBus(config.bus, config.database, store.shared, log, store.health);
    try {
      await bus.start();
    } catch (error) {
      throw new Error(`could not start the ${config.bus.kind} event bus: ${(error as Error).message}`, {
        cause: error,
      });
    }
  } catch (error) {
    if (owned) {
      await store.close();
    }
    throw error;
  }
  let fileStore: LocalFileStore;
  try {
    fileStore = await LocalFileStore.open(config.files.dir);
  } catch (error) {
    await bus.close();
    if (owned) {
      await store.close();
    }
    throw new Error(`could not open the file store: ${(error as Error).message}`, { cause: error });
  }
  // Statistics that follow the data, so that plans do too: PGlite has no autovacuum, and a server may run without.
  let maintenance: NodeJS.Timeout | null = null;
  if (store.kind === 'pglite') {
    maintenance = scheduleMaintenance(store.unbounded, log);
  } else if (await autovacuumIsOff(store.db).catch(() => false)) {
    log.info(
      'autovacuum is off on this PostgreSQL server: Parley analyzes and vacuums its own tables as they change',
    );
    // Unbounded: a vacuum of a large table may take longer than a request's deadline (DB_DEADLINE_MS).
    maintenance = scheduleMaintenance(store.unbounded, log, true);
  }
  const metrics = config.metrics.enabled
    ? new Metrics({ engine: store.kind, bus: bus.kind, pool: store.pool })
    : null;
  // A batch writes for many requests: it has a deadline of its own, and each sender waits for it within its own.
  const sends = new MessageBatcher(store.shared, {
    // PGlite has one connection: one batch at a time. On a server, a few overlap to use the pool.
    maxInFlight: store.kind === 'pglite' ? 1 : 4,
    maxBatch: 500,
    ...(metrics ? { observe: metrics.sendBatch } : {}),
  });
  const history = config.historyCacheBytes > 0 ? new HistoryCache(config.historyCacheBytes) : null;
  if (metrics) {
    metrics.countSendQueue(() => ({ queued: sends.queued, writing: sends.writing }));
    if (history) {
      metrics.countHistoryCache(history);
    }
    bus.observeLag(metrics.busDelivered);
  }
  // Messages become searchable off the send path: soon after a change here, and whatever another process left.
  // Within the request deadline like any query: a drain stuck behind a lock gives its connection back, and its
  // messages stay queued for the next one.
  const indexer = new SearchIndexer(store.db, log, metrics?.searchIndexing);
  bus.subscribe((e) => {
    if (e.type === 'message.created' || e.type === 'message.updated' || e.type === 'message.deleted') {
      indexer.nudge();
    }
  });
  indexer.start();
  const knownUsers = new KnownUsers();
  // A user deleted on any process is looked up again on their next request here, and refused.
  bus.subscribe((e) => {
    if (e.type === 'user.deleted') {
      knownUsers.forget(e.tenantId, e.payload.userId);
    }
  });
  const ctx: Context = {
    db: store.db,
    limits: config.limits,
    events: bus,
    log,
    sends,
    knownUsers,
    files: { store: fileStore, config: config.files },
    ...(history ? { history } : {}),
  };
  const worker =
    config.webhooks.deliver && options.fanOut !== false
      ? new DeliveryWorker(ctx, config.webhooks, undefined, store.health)
      : null;
  ctx.webhooks = {
    perTenant: config.webhooks.perTenant,
    allowHttp: config.webhooks.allowHttp,
    changed: () => worker?.refreshTenants(),
  };
  if (config.webhooks.beforeSend) {
    ctx.beforeSend = createBeforeSend(config.webhooks.beforeSend, log);
  }
  if (worker) {
    // An event is published after its transaction commits: its outbox rows are there to be sent.
    bus.subscribe((e) => worker.nudge(e.tenantId));
    worker.start();
  }
  const pruning =
    options.fanOut === false ? null : scheduleChangePruning(ctx, config.realtime.changeRetentionDays);
  const sweeping = options.fanOut === false ? null : scheduleSweeper(ctx, config.files);
  return {
    store,
    ctx,
    bus,
    metrics,
    async close() {
      await worker?.close();
      await indexer.close();
      if (maintenance) {
        clearInterval(maintenance);
      }
      if (pruning) {
        clearInterval(pruning);
      }
      if (sweeping) {
        clearInterval(sweeping);
      }
      await bus.close();
      await fileStore.close();
      if (owned) {
        await store.close();
      }
    },
  };
}

/** How often the chats' change logs are pruned of what is older than the retention (every process does it). */
export const CHANGE_PRUNING_MS = 3_600_000;

/** Prunes the change logs (`chat_changes`) every `CHANGE_PRUNING_MS`, one pass at a time. */
function scheduleChangePruning(ctx: Context, retentionDays: number): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) {
      return;
    }
    running = true;
    pruneChanges(ctx, retentionDays)
      .then(
        (removed) => {
          if (removed > 0) {
            ctx.log.debug({ removed }, 'old chat changes pruned');
          }
        },
        (error: unknown) => ctx.log.warn({ err: error }, 'pruning old chat changes failed'),
      )
      .finally(() => {
        running = false;
      });
  }, CHANGE_PRUNING_MS);
  timer.unref();
  return timer;
}

/** The database, for a person: where the embedded one lives, or which server (never its password). */
/** An embedded database on disk that does not exist yet: PGlite's first start (initdb) is long, and says so. */
function firstStart(database: Config['database']): boolean {
  return (
    database.kind === 'pglite' &&
    !database.dataDir.startsWith('memory://') &&
    !database.loadDataDir &&
    !existsSync(path.join(database.dataDir, 'PG_VERSION'))
  );
}

export function describeDatabase(database: Config['database']): string {
  if (database.kind === 'pglite') {
    return database.dataDir.startsWith('memory://')
      ? 'the embedded database in memory'
      : `the embedded database at ${database.dataDir}`;
  }
  const url = new URL(database.connectionString);
  const schema = database.schema ? `, schema ${database.schema}` : '';
  return `PostgreSQL at ${url.hostname}:${url.port || '5432'}${url.pathname}${schema}`;
}
