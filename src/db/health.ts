import type { FastifyBaseLogger } from 'fastify';
import { DATABASE_DOWN } from '../errors/database.ts';

/** While an outage lasts, it is logged again this often, with the number of failures since. */
const REMIND_MS = 60_000;
/** While an outage lasts, the database is probed this long after the last probe ended. */
export const PROBE_INTERVAL_MS = 1000;

interface Outage {
  since: number;
  failures: number;
  loggedAt: number;
  failuresSinceLog: number;
}

/** Database work refused without trying: the database is known to be unreachable. It answers 503 `unavailable`. */
export class DatabaseDownError extends Error {
  readonly code = DATABASE_DOWN;

  constructor() {
    super('the database is unreachable: refused at once until a probe finds it back');
    this.name = 'DatabaseDownError';
  }
}

/**
 * Whether the database can be reached: resolves when it answers (a connection and `select 1`, within a short
 * deadline), rejects when it cannot be reached.
 */
export type Probe = () => Promise<void>;

/**
 * Whether the database answers, as this process sees it. An outage is logged when it starts, once a minute while it
 * lasts, and when it ends: never once per failed request, however many clients keep retrying.
 *
 * With a probe, it is also a circuit breaker. A failure that means "unavailable" (a lost connection, a timeout) may be
 * the database's or this one query's (a heavy search on a healthy database): the probe decides, one at a time. Only
 * when the probe fails too does the outage start; then database work is refused at once (`refusal()`), so requests
 * answer 503 in milliseconds instead of each waiting out its deadline, and the probe runs every PROBE_INTERVAL_MS
 * until the database answers. Without a probe (PGlite, a Kysely instance of the host's), the first failure starts the
 * outage, nothing is refused, and the next success (a new connection, a readiness check) ends it.
 */
export class DatabaseHealth {
  private outage: Outage | null = null;
  private log: FastifyBaseLogger | null = null;
  /** Failures seen while a probe decides whether they are an outage, and the first of them. */
  private suspected = 0;
  private suspicion: { error: unknown } | null = null;
  private probing = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly probe: Probe | null = null) {}

  /** Where outages are logged; until this is called they are tracked silently. */
  logTo(log: FastifyBaseLogger): void {
    this.log = log;
  }

  get available(): boolean {
    return this.outage === null;
  }

  /** The error to refuse database work with while the circuit is open; null while it is closed. */
  refusal(): Error | null {
    return this.probe && this.outage ? new DatabaseDownError() : null;
  }

  /** Something failed because the database could not be reached, or did not answer in time. */
  failed(error: unknown): void {
    const outage = this.outage;
    if (outage) {
      this.count(outage, error);
      return;
    }
    if (!this.probe) {
      this.begin(error, 1);
      return;
    }
    if (error instanceof DatabaseDownError) {
      // Refused just before the outage ended: nothing to probe.
      return;
    }
    this.suspected += 1;
    this.suspicion ??= { error };
    this.runProbe();
  }

  /** The database answered: a new connection opened, a check or a probe succeeded. */
  answered(): void {
    const outage = this.outage;
    if (!outage) {
      return;
    }
    this.outage = null;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.log?.warn(
      { downMs: Date.now() - outage.since, failures: outage.failures },
      'database reachable again',
    );
  }

  /** No more probes (the store is closing). */
  stop(): void {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private begin(error: unknown, failures: number, probeError?: unknown): void {
    const now = Date.now();
    this.outage = { since: now, failures, loggedAt: now, failuresSinceLog: 0 };
    this.log?.error(
      probeError === undefined ? { err: error } : { err: error, probe: String(probeError) },
      'database unavailable: answering 503 until it is back',
    );
  }

  private count(outage: Outage, error: unknown): void {
    const now = Date.now();
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

  private runProbe(): void {
    const probe = this.probe;
    if (!probe || this.probing || this.stopped) {
      return;
    }
    this.probing = true;
    probe().then(
      () => this.probed(true, null),
      (error: unknown) => this.probed(false, error),
    );
  }

  /** What a probe found: the end of the outage, no outage after all, or the start of one. */
  private probed(answered: boolean, probeError: unknown): void {
    this.probing = false;
    const failures = this.suspected;
    const suspicion = this.suspicion;
    this.suspected = 0;
    this.suspicion = null;
    if (this.stopped) {
      return;
    }
    if (answered) {
      if (this.outage) {
        this.answered();
      } else if (suspicion) {
        this.log?.warn(
          { err: suspicion.error, failures },
          'database work failed, but the database answers a probe: not an outage (a slow query, a lost connection)',
        );
      }
      return;
    }
    if (!this.outage && suspicion) {
      this.begin(suspicion.error, failures, probeError);
    }
    this.scheduleProbe();
  }

  /** One probe at a time while the outage lasts: the next one PROBE_INTERVAL_MS after the last one ended. */
  private scheduleProbe(): void {
    if (this.stopped || !this.outage || this.timer) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.outage) {
        this.runProbe();
      }
    }, PROBE_INTERVAL_MS);
    this.timer.unref();
  }
}
