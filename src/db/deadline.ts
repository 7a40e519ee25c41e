import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { currentBudget, DatabaseBudget, DeadlineError } from './budget.ts';
import { isStatementLost, type StatementNames } from './statements.ts';

/** A query the database did not answer in time. Like a lost connection, it answers 503 `unavailable`. */
export class QueryTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';

  constructor(ms: number) {
    super(`the database did not answer within ${ms} ms`);
    this.name = 'QueryTimeoutError';
  }
}

/** What the pool wrapper adds to each query: a deadline (0: none), named statements (null: none). */
export interface QueryOptions {
  timeoutMs: number;
  statements: StatementNames | null;
}

/** What the pool wrapper adds to each use of a connection. */
export interface PoolOptions extends QueryOptions {
  /**
   * The budget of one unit of database work (DB_DEADLINE_MS): a request's, or, outside requests, one use of a
   * connection's; 0: none.
   */
  deadlineMs: number;
  /** Refuses database work at once, without waiting on the database, while it is known to be unreachable. */
  circuit?: { refusal(): Error | null };
}

/** node-postgres' record of the statements a connection has prepared (its `Connection`, and PGlite's too). */
interface PreparedBookkeeping {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
}

interface Submitted {
  name?: string;
  text: string;
  values: unknown[];
}

/** `rollback` that ends the transaction, not `rollback [work|transaction] to` a savepoint, which leaves it open. */
const ROLLBACK = /^\s*rollback\b(?!\s+(?:(?:work|transaction)\s+)?to\b)/i;

/**
 * What a statement does to the connection's transaction (Kysely sends `begin`, `commit`, `rollback`, and savepoint
 * statements, which leave it open).
 */
function transactionEffect(text: string): 'begin' | 'end' | null {
  if (/^\s*(?:begin|start)\b/i.test(text)) {
    return 'begin';
  }
  return /^\s*(?:commit|end|abort)\b/i.test(text) || ROLLBACK.test(text) ? 'end' : null;
}

/**
 * A pooled connection whose queries must answer within a deadline, and whose hot queries run as named prepared
 * statements (`StatementNames`). When a query misses its deadline, it fails, every later query on the connection
 * fails at once (a transaction's rollback included), and the connection is discarded on release rather than
 * handed to the next request, which would wait behind the unanswered query. When a prepared statement went stale
 * (its table changed shape under it: another process migrated), the connection forgets all it prepared
 * (`deallocate all`, at once or right after the transaction it failed in) and a query outside a transaction is run
 * again, freshly prepared; one inside a transaction fails, as the transaction is then aborted anyway.
 */
class ParleyClient implements PostgresPoolClient {
  private broken: QueryTimeoutError | DeadlineError | null = null;
  private inTransaction = false;
  private stale = false;
  /** The budget the current borrower's queries count against; null: only the query deadline. */
  private budget: DatabaseBudget | null = null;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly options: QueryOptions,
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
    const text = sqlOrCursor;
    const values = [...parameters];
    if (this.stale && !this.inTransaction) {
      return this.forgetStatements().then(() => this.execute<R>(text, values));
    }
    return this.execute<R>(text, values);
  }

  private async execute<R>(text: string, values: unknown[]): Promise<PostgresQueryResult<R>> {
    const effect = transactionEffect(text);
    if (effect === 'end') {
      // A failed `commit` ends the transaction all the same.
      this.inTransaction = false;
    }
    const name = this.stale ? undefined : this.options.statements?.nameFor(text);
    const result =
      name === undefined ? await this.run<R>({ text, values }) : await this.runNamed<R>(name, text, values);
    if (effect === 'begin') {
      // Open only once `begin` succeeded.
      this.inTransaction = true;
    }
    return result;
  }

  private async runNamed<R>(name: string, text: string, values: unknown[]): Promise<PostgresQueryResult<R>> {
    try {
      return await this.run<R>({ name, text, values });
    } catch (error) {
      if (!isStatementLost(error)) {
        throw error;
      }
      this.stale = true;
      if (this.inTransaction) {
        throw error;
      }
      await this.forgetStatements();
      return this.run<R>({ name, text, values });
    }
  }

  /** Drops every statement this connection prepared, on the server and in the driver's bookkeeping. */
  private async forgetStatements(): Promise<void> {
    await this.run({ text: 'deallocate all', values: [] });
    const connection = (this.client as unknown as { connection?: PreparedBookkeeping }).connection;
    if (connection) {
      connection.parsedStatements = {};
      connection.submittedNamedStatements = {};
    }
    this.stale = false;
  }

  /** Lent to a borrower whose work counts against `budget`. */
  lend(budget: DatabaseBudget | null): this {
    this.budget = budget;
    return this;
  }

  private run<R>(query: Submitted): Promise<PostgresQueryResult<R>> {
    const budget = this.budget;
    const queryMs = this.options.timeoutMs > 0 ? this.options.timeoutMs : Infinity;
    const budgetMs = budget ? budget.remaining() : Infinity;
    if (budget && budgetMs <= 0) {
      const spent = new DeadlineError(budget.ms);
      // Nothing was sent; but a transaction left open must not go back to the pool.
      if (this.inTransaction) {
        this.broken = spent;
      }
      return Promise.reject(spent);
    }
    const running = this.client.query(query) as unknown as Promise<PostgresQueryResult<R>>;
    const timeoutMs = Math.min(queryMs, budgetMs);
    if (timeoutMs === Infinity) {
      return running;
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.broken =
          budget && budgetMs < queryMs ? new DeadlineError(budget.ms) : new QueryTimeoutError(queryMs);
        reject(this.broken);
      }, timeoutMs);
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
    // Whoever borrowed the connection ended its transaction (Kysely always does); the next borrower starts clean.
    this.inTransaction = false;
    this.budget?.end();
    this.budget = null;
    // With an error, the pool closes the connection instead of keeping it.
    this.client.release(this.broken ?? undefined);
  }
}

/** The pool as Kysely sees it, twice over: the view for requests and the view for work shared between them. */
export interface WrappedPool {
  /**
   * Each use of a connection counts against the budget of the request it is made for (or, outside any request, a
   * budget of its own).
   */
  pool: PostgresPool;
  /**
   * Each use of a connection has a budget of its own, even when a request starts it: for work done for many requests
   * at once (a batch of sends, a batch of events), which must not fail because the request that happened to start it
   * had spent its own.
   */
  shared: PostgresPool;
}

/**
 * The pool as Kysely sees it, with a deadline on every use of a connection (waiting for one, connecting, its
 * queries), one on every query, hot queries prepared, and database work refused at once while the circuit says the
 * database is unreachable. A server that stops answering without closing its connections (frozen, or cut off by the
 * network) would otherwise hold every request that reaches it for as long as TCP takes to give up: many minutes.
 */
export function wrapPool(pool: pg.Pool, options: PoolOptions): WrappedPool {
  const clients = new WeakMap<pg.PoolClient, ParleyClient>();
  const view = (perRequest: boolean): PostgresPool => ({
    async connect() {
      const refusal = options.circuit?.refusal();
      if (refusal) {
        throw refusal;
      }
      const budget =
        (perRequest ? currentBudget() : null) ??
        (options.deadlineMs > 0 ? new DatabaseBudget(options.deadlineMs) : null);
      budget?.begin();
      let client: pg.PoolClient;
      try {
        // A connection that comes after the deadline went back to the pool unused.
        client = budget ? await budget.race(pool.connect(), (late) => late.release()) : await pool.connect();
      } catch (error) {
        budget?.end();
        throw error;
      }
      let wrapped = clients.get(client);
      if (!wrapped) {
        wrapped = new ParleyClient(client, options);
        clients.set(client, wrapped);
      }
      return wrapped.lend(budget);
    },
    end: () => pool.end(),
  });
  return { pool: view(true), shared: view(false) };
}
