import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Limits } from './config.ts';
import type { Database } from './db/database.ts';
import type { HistoryCache } from './messages/history.cache.ts';
import type { MessageBatcher } from './messages/message.batcher.ts';
import type { EventSink } from './realtime/events.ts';

/** What every service function is given: the database, limits, the event sink and a logger. No request, no reply. */
export interface Context {
  db: Kysely<Database>;
  limits: Limits;
  events: EventSink;
  log: FastifyBaseLogger;
  /**
   * Group commit for sends: the only way a message is written. It writes on connections of its own, never inside a
   * transaction that `db` may be.
   */
  sends: MessageBatcher;
  /** History pages at the state they were read at (`PARLEY_HISTORY_CACHE_MB`); without it every page is read. */
  history?: HistoryCache;
}
