import type { Kysely } from 'kysely';
import { withinBudget } from '../db/budget.ts';
import type { Database } from '../db/database.ts';
import { insertMessageBatch, type BatchedMessage, type SendOutcome } from './message.repository.ts';

interface Waiting {
  message: BatchedMessage;
  resolve: (outcome: SendOutcome) => void;
  reject: (error: unknown) => void;
}

/** Told about every batch once it is settled: how many sends it held, how long its statement took, what it wrote. */
export type BatchObserver = (batch: {
  size: number;
  seconds: number;
  written: number;
  failed: boolean;
}) => void;

export interface BatcherOptions {
  /** Batches written at the same time; more use more connections but contend for the same chat rows. */
  maxInFlight: number;
  maxBatch: number;
  /** Metrics; nothing is timed without it. */
  observe?: BatchObserver;
}

/**
 * Group commit for sends. A send that finds the writer idle goes out on the next turn of the event loop (no added
 * latency); sends that arrive while batches are being written wait and go out together in the next one, so batches
 * grow with load. This is the only way a message is written. Each sender learns its own outcome (`SendOutcome`: its
 * message written, the first message of its clientId, or why nothing was written), or the error that failed the
 * whole batch, with nothing written. Sends with the same clientId in one batch are the send function's to sort out:
 * the first is written, the others answered with it.
 */
export class MessageBatcher {
  private queue: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: BatcherOptions,
  ) {}

  /** Sends waiting for a batch. */
  get queued(): number {
    return this.queue.length;
  }

  /** Batches being written. */
  get writing(): number {
    return this.inFlight;
  }

  /**
   * The send's outcome. Waiting for it is database work of the request that sends (DB_DEADLINE_MS): past that
   * request's deadline it fails with a DeadlineError (503), though the batch may still write the send later: a retry
   * with the same clientId tells.
   */
  submit(message: BatchedMessage): Promise<SendOutcome> {
    return withinBudget(
      new Promise<SendOutcome>((resolve, reject) => {
        this.queue.push({ message, resolve, reject });
        this.schedule();
      }),
    );
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.options.maxInFlight) {
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.queue.length === 0 || this.inFlight >= this.options.maxInFlight) {
      return;
    }
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.inFlight += 1;
    const observe = this.options.observe;
    const started = observe ? performance.now() : 0;
    insertMessageBatch(
      this.db,
      batch.map((w) => w.message),
    )
      .then(
        (outcomes) => {
          let written = 0;
          for (const [i, waiting] of batch.entries()) {
            const outcome = outcomes[i]!;
            written += outcome.outcome === 'written' ? 1 : 0;
            waiting.resolve(outcome);
          }
          // After the answers: an observer that throws must not leave a sender waiting.
          observe?.({
            size: batch.length,
            seconds: (performance.now() - started) / 1000,
            written,
            failed: false,
          });
        },
        (error: unknown) => {
          for (const waiting of batch) {
            waiting.reject(error);
          }
          observe?.({
            size: batch.length,
            seconds: (performance.now() - started) / 1000,
            written: 0,
            failed: true,
          });
        },
      )
      .finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    this.schedule();
  }
}
