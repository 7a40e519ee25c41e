import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/** A query the database did not answer in time. Like a lost connection, it answers 503 `unavailable`. */
export class QueryTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';

  constructor(ms: number) {
    super(`the database did not answer within ${ms} ms`);
    this.name = 'QueryTimeoutError';
  }
}

/**
 * A pooled connection whose queries must answer within a deadline. When one does not, it fails, every later query on
 * the connection fails at once (a transaction's rollback included), and the connection is discarded on release
 * rather than handed to the next request, which would wait behind the unanswered query.
 */
class DeadlineClient implements PostgresPoolClient {
  private broken: QueryTimeoutError | null = null;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly timeoutMs: number,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters: ReadonlyArray<unknown> = [],
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sqlOrCursor !== 'string') {
      // Cursors (streamed results) are not used by Parley; they would run without a deadline.
      return (this.client as unknown as PostgresPoolClient).query(sqlOrCursor);
    }
    if (this.broken) {
      return Promise.reject(this.broken);
    }
    const running = this.client.query(sqlOrCursor, [...parameters]) as unknown as Promise<
      PostgresQueryResult<R>
    >;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.broken = new QueryTimeoutError(this.timeoutMs);
        reject(this.broken);
      }, this.timeoutMs);
      running.then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  release(): void {
    // With an error, the pool closes the connection instead of keeping it.
    this.client.release(this.broken ?? undefined);
  }
}

/**
 * The pool as Kysely sees it, with a deadline on every query. A server that stops answering without closing its
 * connections (frozen, or cut off by the network) would otherwise hold every request that reaches it for as long as
 * TCP takes to give up: many minutes.
 */
export function withQueryDeadline(pool: pg.Pool, timeoutMs: number): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, DeadlineClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let wrapped = clients.get(client);
      if (!wrapped) {
        wrapped = new DeadlineClient(client, timeoutMs);
        clients.set(client, wrapped);
      }
      return wrapped;
    },
    end: () => pool.end(),
  };
}
