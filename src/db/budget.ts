import { AsyncLocalStorage } from 'node:async_hooks';

/** Database work that ran out of its deadline (DB_DEADLINE_MS). Like a lost connection, it answers 503. */
export class DeadlineError extends Error {
  readonly code = 'ETIMEDOUT';

  constructor(ms: number) {
    super(`the database work did not finish within its deadline of ${ms} ms (DB_DEADLINE_MS)`);
    this.name = 'DeadlineError';
  }
}

/**
 * The time one unit of work may spend on the database (DB_DEADLINE_MS): waiting for a connection of the pool,
 * connecting, running its queries, waiting for a batch that writes for it, all against one budget. The unit is a
 * request, or, outside any request, one database operation. The clock runs only while some of the unit's database
 * work is in progress: reading a slow client's body, or rendering the answer, spends none of it.
 */
export class DatabaseBudget {
  private spentMs = 0;
  private active = 0;
  private since = 0;
  private finished = false;

  constructor(readonly ms: number) {}

  /** Milliseconds left; 0 or less once spent. */
  remaining(): number {
    const running = this.active > 0 ? performance.now() - this.since : 0;
    return this.ms - this.spentMs - running;
  }

  /** Whether the unit is over: database work started on its behalf afterwards gets a budget of its own. */
  get over(): boolean {
    return this.finished;
  }

  finish(): void {
    this.finished = true;
  }

  /** Database work of the unit starts: the clock runs until every piece of it has ended. */
  begin(): void {
    if (this.active === 0) {
      this.since = performance.now();
    }
    this.active += 1;
  }

  end(): void {
    this.active -= 1;
    if (this.active === 0) {
      this.spentMs += performance.now() - this.since;
    }
  }

  /** Runs `fn` (and everything it starts) as work of this unit. */
  run<T>(fn: () => T): T {
    return ambient.run(this, fn);
  }

  /**
   * `work`, or a DeadlineError once the budget runs out first. Late results go to `late` (a connection to give back),
   * late failures nowhere: the work is abandoned, not cancelled.
   */
  race<T>(work: Promise<T>, late?: (value: T) => void): Promise<T> {
    const left = this.remaining();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(
        () => {
          settled = true;
          reject(new DeadlineError(this.ms));
        },
        Math.max(0, left),
      );
      work.then(
        (value) => {
          clearTimeout(timer);
          if (settled) {
            late?.(value);
            return;
          }
          settled = true;
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (!settled) {
            settled = true;
            reject(error);
          }
        },
      );
    });
  }
}

const ambient = new AsyncLocalStorage<DatabaseBudget>();

/** The budget of the unit of work this code runs for, if one is running. */
export function currentBudget(): DatabaseBudget | null {
  const budget = ambient.getStore();
  return budget && !budget.over ? budget : null;
}

/**
 * Waits for `work` done elsewhere on the database for the current unit (a batch that writes its send) as part of the
 * unit's database work: it counts against the budget, and the wait ends with a DeadlineError when the budget does.
 */
export async function withinBudget<T>(work: Promise<T>): Promise<T> {
  const budget = currentBudget();
  if (!budget) {
    return work;
  }
  budget.begin();
  try {
    return await budget.race(work);
  } finally {
    budget.end();
  }
}
