import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { BusConfig } from './realtime.config.ts';
import type { DatabaseConfig } from '../db/db.config.ts';
import type { Database } from '../db/database.ts';
import type { OutageReporter } from '../errors/database.ts';
import type { Bus } from './bus.ts';
import { LocalBus } from './buses/local.ts';
import { NatsBus } from './buses/nats.ts';
import { PostgresBus } from './buses/postgres.ts';
import { RedisBus } from './buses/redis.ts';

/** The channel (Redis) or subject (NATS) of one deployment: deployments in other schemas never hear each other. */
function topic(database: DatabaseConfig): string {
  return `parley.events.${database.kind === 'postgres' ? (database.schema ?? 'public') : 'embedded'}`;
}

export function createBus(
  config: BusConfig,
  database: DatabaseConfig,
  db: Kysely<Database>,
  log: FastifyBaseLogger,
  outages?: OutageReporter,
): Bus {
  switch (config.kind) {
    case 'local':
      return new LocalBus(log);
    case 'postgres':
      if (database.kind !== 'postgres') {
        throw new Error('the postgres bus needs a PostgreSQL server');
      }
      return new PostgresBus(
        db,
        {
          connectionString: database.connectionString,
          schema: database.schema,
          outages,
          connectTimeoutMs: database.connectTimeoutMs,
        },
        log,
      );
    case 'redis':
      return new RedisBus(config.url, topic(database), log);
    case 'nats':
      return new NatsBus(config.url, topic(database), log);
  }
}
