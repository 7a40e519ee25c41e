import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Config } from '../config.ts';
import { createLogger } from '../logging/logger.ts';

/**
 * `parley serve --workers N`: one primary process forks N server processes that share the port (node:cluster hands
 * each new connection to the next worker). Each worker is a whole server with its own database pool; what one
 * worker's clients do reaches the others' streams through the bus, as between servers on several machines
 * (docs/deployment.md). The primary serves nothing: it starts the workers, starts a new one when one dies, and on
 * SIGINT/SIGTERM stops them all gracefully.
 */

/** A worker that dies sooner than this after it started counts as failing to start. */
const STARTUP_GRACE_MS = 10_000;
/** Restarts wait this long, doubled for each worker death in a row that came soon after a start, up to 30 s. */
const RESTART_BASE_MS = 200;
const RESTART_MAX_MS = 30_000;
/** How long the workers have to finish their requests on shutdown before they are killed. */
const SHUTDOWN_MS = 15_000;

/** `--workers` (or PARLEY_WORKERS): a whole number of at least 1, or `auto` for one per available core. */
export function parseWorkers(value: string | undefined): number | null {
  if (value === undefined || value === '') {
    return null;
  }
  if (value === 'auto') {
    return availableParallelism();
  }
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    throw new Error(`serve: --workers must be a whole number from 1 to 256, or auto; got "${value}"`);
  }
  return count;
}

/** Why this configuration cannot run several workers, or null when it can. */
export function workersRefusal(config: Config): string | null {
  if (config.database.kind === 'pglite') {
    return (
      'serve: --workers needs a PostgreSQL server (DATABASE_URL or DB_HOST): the embedded database is opened by ' +
      'one process only'
    );
  }
  if (config.bus.kind === 'local') {
    return (
      'serve: --workers needs a bus between processes (PARLEY_BUS=postgres, redis or nats): with PARLEY_BUS=local ' +
      "one worker's clients would not hear of what happens on another"
    );
  }
  return null;
}

/** Runs the primary: forks `count` workers running `parley serve`, keeps them running, stops them on a signal. */
export function runPrimary(config: Config, count: number): Promise<void> {
  const log = createLogger(config.log).child({ role: 'primary' });
  let stopping = false;
  let failedInARow = 0;
  let everListened = false;
  const startedAt = new Map<number, number>();

  const fork = (): Worker => {
    const worker = cluster.fork({ PARLEY_WORKER: '1' });
    startedAt.set(worker.id, Date.now());
    return worker;
  };

  cluster.on('listening', (worker) => {
    everListened = true;
    failedInARow = 0;
    log.info({ worker: worker.id, workerPid: worker.process.pid }, 'worker listening');
  });

  return new Promise<void>((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      const lived = Date.now() - (startedAt.get(worker.id) ?? Date.now());
      startedAt.delete(worker.id);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          log.info('every worker has stopped');
          resolve();
        }
        return;
      }
      if (!everListened && lived < STARTUP_GRACE_MS) {
        // The first workers cannot start (a configuration or database error they have logged): no use retrying.
        log.fatal({ worker: worker.id, code, signal }, 'a worker failed to start; stopping');
        stopping = true;
        process.exitCode = 1;
        stopAll();
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          resolve();
        }
        return;
      }
      failedInARow = lived < STARTUP_GRACE_MS ? failedInARow + 1 : 0;
      const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** failedInARow);
      log.error(
        { worker: worker.id, workerPid: worker.process.pid, code, signal, restartInMs: delay },
        'a worker died; starting another',
      );
      setTimeout(() => {
        if (!stopping) {
          fork();
        }
      }, delay).unref();
    });

    const stopAll = () => {
      for (const worker of Object.values(cluster.workers ?? {})) {
        worker?.process.kill('SIGTERM');
      }
      setTimeout(() => {
        for (const worker of Object.values(cluster.workers ?? {})) {
          log.error({ worker: worker?.id }, 'a worker did not stop in time; killing it');
          worker?.process.kill('SIGKILL');
        }
      }, SHUTDOWN_MS).unref();
    };

    const shutdown = (signal: string) => {
      if (stopping) {
        return;
      }
      stopping = true;
      log.info({ signal }, 'stopping the workers');
      stopAll();
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));

    log.info({ workers: count }, `starting ${count} worker${count === 1 ? '' : 's'}`);
    for (let i = 0; i < count; i++) {
      fork();
    }
  });
}

/** This process is a worker forked by `runPrimary`. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/** The first worker prints the terminal banner; the others keep quiet. */
export function speaksForTheCluster(): boolean {
  return !cluster.isWorker || cluster.worker?.id === 1;
}
