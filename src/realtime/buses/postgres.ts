import type { FastifyBaseLogger } from 'fastify';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Database } from '../../db/database.ts';
import { isDatabaseUnavailable, type OutageReporter } from '../../errors/database.ts';
import { BaseBus } from '../bus.ts';
import type { Envelope } from '../../events.ts';

/** NOTIFY refuses payloads of 8000 bytes or more; bigger events go through a table and travel by id. */
const INLINE_LIMIT = 7900;
const SPILL_RETENTION = "interval '10 minutes'";
/** The longest wait between two attempts to listen again after the listening connection was lost. */
const RECONNECT_MAX_MS = 2000;

export interface PostgresBusOptions {
  connectionString: string;
  schema: string | null;
  /** Where a database outage is reported, once, instead of once per event that could not be published. */
  outages?: OutageReporter;
  /** How long connecting the listener may take (DB_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
}

/**
 * PostgreSQL LISTEN/NOTIFY: no infrastructure beyond the database. One dedicated connection listens (reconnecting
 * with backoff); publishing uses the pool. The channel is named after the schema, so deployments sharing a database
 * in different schemas never hear each other.
 */
export class PostgresBus extends BaseBus {
  readonly kind = 'postgres' as const;
  readonly channel: string;
  private listener: pg.Client | null = null;
  private closed = false;
  private delivery: Promise<void> = Promise.resolve();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: PostgresBusOptions,
    log: FastifyBaseLogger,
  ) {
    super(log);
    this.channel = `parley_events_${(options.schema ?? 'public').toLowerCase()}`.slice(0, 63);
  }

  async start(): Promise<void> {
    await this.listen();
    this.sweeper = setInterval(() => {
      sql`delete from bus_events where created_at < now() - ${sql.raw(SPILL_RETENTION)}`
        .execute(this.db)
        .catch((error: unknown) => this.log.warn({ err: error }, 'could not sweep spilled bus events'));
    }, 60_000);
    this.sweeper.unref();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5000,
      // The listener is idle most of the time: keepalives let it notice a server that vanished from the network.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      ...(this.options.schema ? { options: `-c search_path="${this.options.schema}"` } : {}),
    });
    client.on('notification', (message) => {
      if (message.channel === this.channel && message.payload !== undefined) {
        const payload = message.payload;
        // One queue keeps delivery in NOTIFY order even when a spilled event has to be fetched first.
        this.delivery = this.delivery.then(() => this.deliver(payload));
      }
    });
    client.on('error', (error) => {
      if (this.listener === client) {
        this.log.warn({ err: error }, 'postgres bus listener lost its connection');
      }
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    try {
      await client.connect();
      await client.query(`listen "${this.channel}"`);
    } catch (error) {
      client.removeAllListeners('end');
      client.end().catch(() => {});
      throw error;
    }
    if (this.closed) {
      client.removeAllListeners('end');
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
  }

  /**
   * Listens again after the connection was lost: soon, then backing off to every RECONNECT_MAX_MS, so that live
   * streams resume within a couple of seconds of the database's return. Each attempt is one connection.
   */
  private reconnect(dead: pg.Client, attempt = 1): void {
    if (this.closed || this.listener !== dead) {
      return;
    }
    this.listener = null;
    dead.removeAllListeners('end');
    dead.end().catch(() => {});
    const delay = Math.min(RECONNECT_MAX_MS, 250 * 2 ** (attempt - 1));
    setTimeout(() => {
      if (this.closed) {
        return;
      }
      this.listen().then(
        () => {
          this.options.outages?.answered();
          this.reconnected();
        },
        (error: unknown) => {
          if (this.options.outages && isDatabaseUnavailable(error)) {
            // The outage is logged once, where it is reported; not once per attempt.
            this.options.outages.failed(error);
            this.log.debug({ err: error, attempt }, 'postgres bus could not reconnect yet');
          } else {
            this.log.warn({ err: error, attempt }, 'postgres bus could not reconnect yet');
          }
          const placeholder = new pg.Client();
          this.listener = placeholder;
          this.reconnect(placeholder, attempt + 1);
        },
      );
    }, delay).unref();
  }

  protected override publishFailed(error: unknown, event: Envelope): void {
    if (this.options.outages && isDatabaseUnavailable(error)) {
      this.options.outages.failed(error);
      this.log.debug({ err: error, type: event.type }, 'could not publish an event: database unavailable');
      return;
    }
    super.publishFailed(error, event);
  }

  private async deliver(payload: string): Promise<void> {
    if (!payload.startsWith('@')) {
      this.receive(payload);
      return;
    }
    try {
      const id = payload.slice(1);
      const result = await sql<{ payload: string }>`select payload from bus_events where id = ${id}`.execute(
        this.db,
      );
      const row = result.rows[0];
      if (row) {
        this.receive(row.payload);
      }
    } catch (error) {
      this.log.error({ err: error }, 'could not read a spilled bus event');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) {
      clearInterval(this.sweeper);
    }
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
  }

  /**
   * Events of one turn of the event loop go out together, in publish order: runs of small ones in one statement (one
   * round trip for a whole batch of sends instead of one each), large ones through the table, one flush after another.
   */
  private outgoing: { data: string; done: (error?: unknown) => void }[] = [];
  private flushing: Promise<void> = Promise.resolve();

  protected send(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.outgoing.push({ data, done: (error) => (error ? reject(error) : resolve()) });
      if (this.outgoing.length === 1) {
        setImmediate(() => {
          const batch = this.outgoing.splice(0);
          this.flushing = this.flushing.then(() => this.flush(batch));
        });
      }
    });
  }

  private async flush(batch: { data: string; done: (error?: unknown) => void }[]): Promise<void> {
    let start = 0;
    while (start < batch.length) {
      let end = start;
      while (end < batch.length && Buffer.byteLength(batch[end]!.data) < INLINE_LIMIT) {
        end += 1;
      }
      const run = end > start ? batch.slice(start, end) : batch.slice(start, start + 1);
      try {
        if (end > start) {
          const payloads = run.map((b) => b.data);
          await sql`select pg_notify(${this.channel}, p)
                    from unnest(${payloads}::text[]) with ordinality as t(p, i) order by i`.execute(this.db);
        } else {
          await this.spill(run[0]!.data);
        }
        run.forEach((b) => b.done());
      } catch (error) {
        run.forEach((b) => b.done(error));
      }
      start += run.length;
    }
  }

  private async spill(data: string): Promise<void> {
    await sql`
      with spilled as (insert into bus_events (payload) values (${data}) returning id)
      select pg_notify(${this.channel}, '@' || id::text) from spilled`.execute(this.db);
  }
}
