import type { Context } from '../context.ts';
import { isDatabaseUnavailable, type OutageReporter } from '../errors/database.ts';
import {
  dueEvents,
  leaseEvents,
  markDelivered,
  markFailed,
  recipientsOf,
  type Recipients,
  leaseFollowers,
  pruneLog,
  releaseLeases,
  type ClaimedRow,
} from './outbox.repository.ts';
import { ID_HEADER, SIGNATURE_HEADER, sign, TIMESTAMP_HEADER } from './webhook.signature.ts';
import type { WebhooksConfig } from './webhook.config.ts';
import { backoff, createdPayload, eventData } from './webhook.payload.ts';
import { tenantsWithWebhooks } from './webhook.repository.ts';

/** Events of one queue (subscription and chat) leased together and sent one after the other. */
const FOLLOWERS = 20;

/** How often the delivery log is pruned. */
const PRUNE_EVERY_MS = 3_600_000;

/** Wake-ups this close together make one claim. */
const COALESCE_MS = 10;

/** Every this many polls the worker reads again which tenants have an enabled subscription. */
const TENANT_REFRESH_POLLS = 5;

/** What one delivery observed: for the bench and the metrics. */
export interface DeliveryObservation {
  /** From the event's commit to the receiver's 2xx, in milliseconds. */
  delayMs: number;
}

/**
 * The delivery worker (docs/webhooks.md, "Delivery"): takes due events from the outbox, oldest first, leases them
 * (several processes share the work; a row another process leases is skipped), signs and POSTs each, and records
 * the outcome: delivered, retried later with exponential backoff, or dead once older than the retry window. Events
 * of one subscription and chat go out one at a time in id order: the next is due only once the one before is
 * delivered or dead. A subscription has at most `perSubscription` deliveries in flight, so a slow receiver holds
 * only its own slots.
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  /** When the delivery log is next pruned of what is older than `logDays` (a few minutes after start). */
  private nextPrune = Date.now() + 5 * 60_000;
  private readonly inFlight = new Map<string, number>();
  private total = 0;
  private running = false;
  private again = false;
  private closed = false;
  private polls = 0;
  private tenants = new Set<string>();
  private readonly sending = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly leaseMs: number;
  /** Deliveries the receivers took, waiting to be recorded together. */
  private delivered: { id: number; status: number }[] = [];
  private recording: Promise<void> | null = null;

  constructor(
    private readonly ctx: Context,
    private readonly config: WebhooksConfig,
    private readonly observe?: (observation: DeliveryObservation) => void,
    private readonly outages?: OutageReporter,
  ) {
    this.leaseMs = 2 * config.timeoutMs + 1000;
  }

  /** A failure of the worker's own database work: an outage goes to the outage report (logged once), else a warning. */
  private failed(error: unknown, message: string, fields: Record<string, unknown> = {}): void {
    if (this.outages && isDatabaseUnavailable(error)) {
      this.outages.failed(error);
      this.ctx.log.debug({ err: error, ...fields }, message);
      return;
    }
    this.ctx.log.warn({ err: error, ...fields }, message);
  }

  start(): void {
    this.refreshTenants();
    this.timer = setInterval(() => {
      this.polls += 1;
      if (this.polls % TENANT_REFRESH_POLLS === 0) {
        this.refreshTenants();
      }
      if (Date.now() >= this.nextPrune) {
        this.prune();
      }
      this.kick();
    }, this.config.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** An event of `tenantId` was committed: look for due deliveries now if the tenant has a subscription. */
  nudge(tenantId: string): void {
    if (this.tenants.has(tenantId)) {
      this.kick();
    }
  }

  /** Subscriptions changed on this process: read the tenants again, and look for work. */
  refreshTenants(): void {
    if (this.closed) {
      return;
    }
    tenantsWithWebhooks(this.ctx.db).then(
      (tenants) => {
        this.tenants = new Set(tenants);
        this.kick();
      },
      (error: unknown) => this.ctx.log.debug({ err: error }, 'reading the tenants with webhooks failed'),
    );
  }

  /** Removes delivered and dead events older than the log's retention, a bounded batch at a time. */
  private prune(): void {
    this.nextPrune = Date.now() + PRUNE_EVERY_MS;
    const before = new Date(Date.now() - this.config.logDays * 86_400_000);
    pruneLog(this.ctx.db, before, 10_000).then(
      (removed) => {
        if (removed > 0) {
          this.ctx.log.debug({ removed }, 'old webhook deliveries pruned');
        }
      },
      (error: unknown) => this.failed(error, 'pruning old webhook deliveries failed'),
    );
  }

  /** Stops taking work, aborts the deliveries in flight and gives their events back (they are sent again later). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) {
      clearInterval(this.timer);
    }
    if (this.soon) {
      clearTimeout(this.soon);
    }
    this.stop.abort();
    while (this.running || this.sending.size > 0 || this.recording) {
      await Promise.allSettled([...this.sending, this.recording]);
      if (this.running) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }

  /**
   * Records a delivery with every other one that completes meanwhile: one statement for all of them, so that a busy
   * worker does not write (and, on PGlite, sync) once per delivery. Resolves once this one is recorded.
   */
  private recordDelivered(id: number, status: number): Promise<void> {
    this.delivered.push({ id, status });
    this.recording ??= (async () => {
      try {
        while (this.delivered.length > 0) {
          await markDelivered(this.ctx.db, this.delivered.splice(0));
        }
      } finally {
        this.recording = null;
        // The next event of each recorded chat is due now.
        this.kick();
      }
    })();
    return this.recording;
  }

  /**
   * Looks for due events soon: wake-ups within `COALESCE_MS` of one another (the events of a batch of sends, the
   * deliveries recorded together) make one claim, so the worker writes a few times a second, not once per event.
   */
  private kick(): void {
    if (this.closed || this.soon !== null) {
      return;
    }
    this.soon = setTimeout(() => {
      this.soon = null;
      this.claim();
    }, COALESCE_MS);
  }

  private claim(): void {
    if (this.closed) {
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.fill()
      .catch((error: unknown) => this.failed(error, 'webhook delivery: claiming events failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.claim();
        }
      });
  }

  /** Claims as many due events as there are free slots, and starts sending them. */
  private async fill(): Promise<void> {
    const { concurrency, perSubscription } = this.config;
    while (!this.closed && this.total < concurrency) {
      const free = concurrency - this.total;
      const busy = [...this.inFlight].filter(([, n]) => n >= perSubscription).map(([id]) => id);
      const candidates = await dueEvents(this.ctx.db, busy, free * 2);
      const taken = new Map<string, number>();
      const picked: number[] = [];
      for (const candidate of candidates) {
        const n =
          (this.inFlight.get(candidate.subscription_id) ?? 0) + (taken.get(candidate.subscription_id) ?? 0);
        if (n >= perSubscription || picked.length >= free) {
          continue;
        }
        taken.set(candidate.subscription_id, (taken.get(candidate.subscription_id) ?? 0) + 1);
        picked.push(candidate.id);
      }
      if (this.closed || picked.length === 0) {
        return;
      }
      const heads = await leaseEvents(this.ctx.db, picked, this.leaseMs);
      const followers = await leaseFollowers(
        this.ctx.db,
        heads.map((row) => row.id),
        FOLLOWERS - 1,
        this.leaseMs,
      );
      const leased = [...heads, ...followers];
      const recipients = await recipientsOf(
        this.ctx.db,
        leased.flatMap((row) => {
          const created = createdPayload(row);
          return created
            ? [{ chatId: created.chatId, seq: Number(created.seq), authorId: created.row.author_id }]
            : [];
        }),
      );
      const queues = new Map<string, ClaimedRow[]>();
      for (const row of heads) {
        queues.set(`${row.subscription_id}\u0000${row.chat_id}`, [row]);
      }
      for (const row of followers) {
        queues.get(`${row.subscription_id}\u0000${row.chat_id}`)?.push(row);
      }
      for (const queue of queues.values()) {
        this.begin(queue, recipients);
      }
      if (candidates.length < free * 2) {
        return;
      }
    }
  }

  /** Sends one queue's leased events one after the other; after a failure, gives the rest back unsent. */
  private begin(queue: ClaimedRow[], recipients: Map<string, Recipients>): void {
    const subscription = queue[0]!.subscription_id;
    this.total += 1;
    this.inFlight.set(subscription, (this.inFlight.get(subscription) ?? 0) + 1);
    const sending = (async () => {
      for (let i = 0; i < queue.length; i++) {
        const delivered = this.closed ? false : await this.deliver(queue[i]!, recipients);
        if (!delivered) {
          await releaseLeases(
            this.ctx.db,
            queue.slice(i + 1).map((row) => row.id),
          );
          return;
        }
      }
    })()
      .catch((error: unknown) => this.failed(error, 'webhook delivery failed', { subscription }))
      .finally(() => {
        const full =
          this.total >= this.config.concurrency ||
          (this.inFlight.get(subscription) ?? 0) >= this.config.perSubscription;
        this.total -= 1;
        const n = (this.inFlight.get(subscription) ?? 1) - 1;
        if (n === 0) {
          this.inFlight.delete(subscription);
        } else {
          this.inFlight.set(subscription, n);
        }
        this.sending.delete(sending);
        if (full) {
          // A slot opened where there were none: what waited for it may go.
          this.kick();
        }
      });
    this.sending.add(sending);
  }

  /** One attempt: true when the receiver took it. */
  private async deliver(row: ClaimedRow, recipients: Map<string, Recipients>): Promise<boolean> {
    const body = JSON.stringify({
      id: String(row.id),
      type: row.type,
      tenantId: row.tenant_id,
      createdAt: row.created_at.toISOString(),
      attempt: row.attempts,
      data: eventData(row, recipients),
    });
    const timestamp = Math.floor(Date.now() / 1000);
    let status: number | null = null;
    let error: string;
    try {
      const response = await fetch(row.url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Parley-Webhooks',
          [ID_HEADER]: String(row.id),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: sign(row.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.config.timeoutMs)]),
      });
      status = response.status;
      await response.body?.cancel().catch(() => undefined);
      if (status >= 200 && status < 300) {
        // The slot is free once the receiver has answered; the record follows with others (close waits for it).
        void this.recordDelivered(row.id, status).catch((error: unknown) =>
          this.failed(error, 'webhook delivery: recording deliveries failed'),
        );
        this.observe?.({ delayMs: Date.now() - row.created_at.getTime() });
        return true;
      }
      error = `HTTP ${status}`;
    } catch (caught) {
      if (this.stop.signal.aborted) {
        await releaseLeases(this.ctx.db, [row.id]);
        return false;
      }
      const reason = caught instanceof Error ? (caught.cause instanceof Error ? caught.cause : caught) : null;
      error = reason ? `${reason.name}: ${reason.message}` : String(caught);
    }
    const outcome = await markFailed(this.ctx.db, row.id, {
      status,
      error,
      retryInMs: backoff(this.config, row.attempts),
      windowMs: this.config.retryWindowMs,
    });
    this.ctx.log.debug({ id: row.id, status, error, outcome }, 'webhook delivery failed');
    return false;
  }
}
