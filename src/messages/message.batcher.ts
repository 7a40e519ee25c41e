import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { insertMessageBatch, type BatchedMessage } from './message.repository.ts';
import type { MessageRow } from './message.table.ts';

interface Waiting {
  message: BatchedMessage;
  resolve: (row: MessageRow | null) => void;
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
 * grow with load. Each sender learns its own outcome: its row, or null when the batch did not write it (not a member,
 * chat gone, bad reply, clientId used before), or the error that failed the whole batch, with nothing written.
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

  submit(message: BatchedMessage): Promise<MessageRow | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.schedule();
    });
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
    const batch = this.unique(this.queue.splice(0, this.options.maxBatch));
    this.inFlight += 1;
    const observe = this.options.observe;
    const started = observe ? performance.now() : 0;
    insertMessageBatch(
      this.db,
      batch.map((w) => w.message),
    )
      .then(
        (rows) => {
          const byId = new Map(rows.map((row) => [row.id, row]));
          for (const waiting of batch) {
            waiting.resolve(byId.get(waiting.message.id) ?? null);
          }
          // After the answers: an observer that throws must not leave a sender waiting.
          observe?.({
            size: batch.length,
            seconds: (performance.now() - started) / 1000,
            written: rows.length,
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

  /**
   * Two sends with the same (chat, author, clientId) in one batch: only the first goes in; the second is put back
   * for the next batch, where it finds the first one stored and is answered with it.
   */
  private unique(batch: Waiting[]): Waiting[] {
    const seen = new Set<string>();
    const kept: Waiting[] = [];
    const later: Waiting[] = [];
    for (const waiting of batch) {
      const { chatId, authorId, clientId } = waiting.message;
      const key = clientId === null ? null : JSON.stringify([chatId, authorId, clientId]);
      if (key !== null && seen.has(key)) {
        later.push(waiting);
        continue;
      }
      if (key !== null) {
        seen.add(key);
      }
      kept.push(waiting);
    }
    this.queue.unshift(...later);
    return kept;
  }
}
