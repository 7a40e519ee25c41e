import type { FastifyBaseLogger } from 'fastify';

/** While an outage lasts, it is logged again this often, with the number of failures since. */
const REMIND_MS = 60_000;

interface Outage {
  since: number;
  failures: number;
  loggedAt: number;
  failuresSinceLog: number;
}

/**
 * Whether the database answers, as this process sees it. An outage is logged when it starts (the first request or
 * check it fails), once a minute while it lasts, and when it ends (a new connection opens, or a check succeeds):
 * never once per failed request, however many clients keep retrying.
 */
export class DatabaseHealth {
  private outage: Outage | null = null;
  private log: FastifyBaseLogger | null = null;

  /** Where outages are logged; until this is called they are tracked silently. */
  logTo(log: FastifyBaseLogger): void {
    this.log = log;
  }

  get available(): boolean {
    return this.outage === null;
  }

  /** Something failed because the database could not be reached. */
  failed(error: unknown): void {
    const now = Date.now();
    const outage = this.outage;
    if (!outage) {
      this.outage = { since: now, failures: 1, loggedAt: now, failuresSinceLog: 0 };
      this.log?.error({ err: error }, 'database unavailable: answering 503 until it is back');
      return;
    }
    outage.failures += 1;
    outage.failuresSinceLog += 1;
    if (now - outage.loggedAt >= REMIND_MS) {
      this.log?.error(
        { err: error, downMs: now - outage.since, failures: outage.failuresSinceLog },
        'database still unavailable',
      );
      outage.loggedAt = now;
      outage.failuresSinceLog = 0;
    }
  }

  /** The database answered: a new connection opened, or a check succeeded. */
  answered(): void {
    const outage = this.outage;
    if (!outage) {
      return;
    }
    this.outage = null;
    this.log?.warn(
      { downMs: Date.now() - outage.since, failures: outage.failures },
      'database reachable again',
    );
  }
}
