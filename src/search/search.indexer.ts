import { sql, type Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Database, Db } from '../db/database.ts';

/**
 * Search indexing, off the send path (migration 0026). Every change to a message that search sees queues it
 * (`message_search_queue`, filled by triggers in the changing transaction); a drain takes queued messages and writes
 * their `message_search` rows from what the messages hold now, in one transaction with taking them: a crash before
 * its commit leaves them queued, so nothing committed is ever missed.
 *
 * One drain at a time per schema (an advisory lock held for the drain's transaction), so drains run in commit order:
 * a drain reads each message after every change that queued it, and no older read can overwrite a newer one.
 */

/** The first key of the drain's advisory lock ("pari"); the second is the schema's hash. */
export const SEARCH_INDEX_LOCK = 0x70617269;

/** Queued messages one drain takes at most: a few milliseconds of work per hundred. */
export const SEARCH_DRAIN_BATCH = 1000;

/** What a drain did: queue rows taken (-1: another drain was in progress), and the longest any of them waited. */
export interface Drained {
  taken: number;
  /** Seconds from the oldest taken row's queueing to this drain; 0 when it took none. */
  waited: number;
}

/**
 * Indexes up to `limit` queued messages. With `wait`, waits for a drain in progress on another connection to finish
 * (a search that must see every message committed before it); without, returns -1 at once when one is in progress.
 * Returns how many queue rows it took.
 */
export async function drainSearchQueue(db: Db, options: { wait: boolean; limit?: number }): Promise<number> {
  return (await drainSearch(db, options)).taken;
}

/** `drainSearchQueue`, saying also how long the oldest message it indexed had waited. */
export async function drainSearch(db: Db, options: { wait: boolean; limit?: number }): Promise<Drained> {
  const limit = options.limit ?? SEARCH_DRAIN_BATCH;
  // Inside a caller's transaction, the lock is held until that one ends.
  const inTransaction = (run: (trx: Db) => Promise<Drained>) =>
    db.isTransaction ? run(db) : db.transaction().execute(run);
  return inTransaction(async (trx) => {
    if (options.wait) {
      await sql`select pg_advisory_xact_lock(${SEARCH_INDEX_LOCK}, hashtext(current_schema()))`.execute(trx);
    } else {
      const got = await sql<{ got: boolean }>`
        select pg_try_advisory_xact_lock(${SEARCH_INDEX_LOCK}, hashtext(current_schema())) as got`.execute(
        trx,
      );
      if (!got.rows[0]?.got) {
        return { taken: -1, waited: 0 };
      }
    }
    // A new statement, so a new snapshot: it sees every drain committed before the lock was granted.
    const result = await sql<{ taken: number; waited: number }>`
      with taken as (
        delete from message_search_queue q
         where q.ctid = any(array(select t.ctid from message_search_queue t limit ${limit}))
        returning q.chat_id, q.seq, q.queued_at
      ),
      current as (
        select k.chat_id, k.seq, m.text, m.created_at, c.tenant_id
          from (select distinct t.chat_id, t.seq from taken t) k
          left join messages m
            on m.chat_id = k.chat_id and m.seq = k.seq and m.deleted_at is null and m.text is not null
          left join chats c on c.id = k.chat_id
      ),
      configs as (
        select t.tenant_id, parley_search_config(t.tenant_id) as config
          from (select distinct k.tenant_id from current k where k.text is not null) t
      ),
      removed as (
        delete from message_search x
         using current k
         where k.text is null and x.chat_id = k.chat_id and x.seq = k.seq
      ),
      written as (
        insert into message_search (chat_id, seq, created_at, config, vector, folded)
        select k.chat_id, k.seq, k.created_at, f.config, to_tsvector(f.config, k.text), parley_fold(k.text)
          from current k
          join configs f on f.tenant_id = k.tenant_id
         where k.text is not null
        on conflict (chat_id, seq)
          do update set config = excluded.config, vector = excluded.vector, folded = excluded.folded
      )
      select count(*)::int as taken,
             coalesce(extract(epoch from clock_timestamp() - min(t.queued_at)), 0)::float8 as waited
        from taken t`.execute(trx);
    return { taken: result.rows[0]?.taken ?? 0, waited: result.rows[0]?.waited ?? 0 };
  });
}

/** Whether any message waits to be indexed. */
export async function searchQueuePending(db: Db): Promise<boolean> {
  const result = await sql<{ pending: boolean }>`
    select exists (select 1 from message_search_queue) as pending`.execute(db);
  return result.rows[0]?.pending === true;
}

/**
 * Makes every message committed before the call searchable: drains the queue, waiting for a drain in progress, until
 * it is empty or `budgetMs` has passed (a backlog larger than that is left to the background indexer: the search
 * then answers from what is indexed).
 */
export async function catchUpSearch(db: Db, budgetMs = 200): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while ((await drainSearchQueue(db, { wait: true })) >= SEARCH_DRAIN_BATCH && Date.now() < deadline) {
    // A full batch: there may be more.
  }
}

/** How soon after a nudge the indexer drains: sends in that window share one drain. */
const NUDGE_DELAY_MS = 50;
/** How often it looks for queued messages with no nudge: ones written by a process that stopped before draining. */
const POLL_MS = 1000;

/**
 * The background indexer of one process: drains soon after this process changes messages (`nudge`), and polls for
 * what other processes left. Another process's drain in progress makes it skip, not wait.
 */
export class SearchIndexer {
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private failing = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: FastifyBaseLogger,
    /** Each drain that indexed something: how many messages, and how long the oldest of them had waited. */
    private readonly observe?: (drained: Drained) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.run(), POLL_MS);
    this.timer.unref();
    this.nudge();
  }

  /** Messages changed here: drain shortly. */
  nudge(): void {
    if (this.closed || this.soon) {
      return;
    }
    this.soon = setTimeout(() => {
      this.soon = null;
      this.run();
    }, NUDGE_DELAY_MS);
    this.soon.unref();
  }

  private run(): void {
    if (this.closed) {
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.nudge();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      // Only the queue is read until there is something in it: a drain's statement also reads `chats`, and would
      // hold a pool connection while a migration or an operator locks that table.
      if (!(await searchQueuePending(this.db))) {
        return;
      }
      let drained: Drained;
      do {
        drained = await drainSearch(this.db, { wait: false });
        if (drained.taken > 0) {
          this.observe?.(drained);
        }
      } while (drained.taken >= SEARCH_DRAIN_BATCH && !this.closed);
      if (this.failing) {
        this.failing = false;
        this.log.info('search indexing resumed');
      }
    } catch (error) {
      // Logged once per run of failures (a database outage): the queue keeps everything until a drain succeeds.
      if (!this.failing) {
        this.failing = true;
        this.log.error({ err: error }, 'search indexing failed; queued messages wait for the next attempt');
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearInterval(this.timer);
    }
    if (this.soon) {
      clearTimeout(this.soon);
    }
    await this.running;
  }
}
