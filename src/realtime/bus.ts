import type { FastifyBaseLogger } from 'fastify';
import type { Envelope, EventSink } from '../events.ts';
import type { ServerEvent } from './protocol.ts';

export type BusKind = 'local' | 'postgres' | 'redis' | 'nats';

/**
 * Fan-out between server processes. Every process publishes the events of its committed changes and receives every
 * event published by any process of the deployment, its own included, in one stream.
 */
export interface Bus extends EventSink {
  readonly kind: BusKind;
  start(): Promise<void>;
  subscribe(listener: (event: ServerEvent) => void): void;
  /** Called after the bus lost and regained its connection: events may have been missed meanwhile. */
  onReconnect(listener: () => void): void;
  /** Told, for every event that arrives, how many seconds ago it was published (on any process). */
  observeLag(observer: (seconds: number) => void): void;
  close(): Promise<void>;
}

/** Wall-clock milliseconds with a fraction: what `publishedAt` holds, comparable between processes of one machine. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** While events cannot be published, that is logged again this often, with how many were lost since. */
const REMIND_MS = 60_000;

/** The common part of every driver: listeners, decoding, and logging of what cannot be delivered. */
export abstract class BaseBus implements Bus {
  abstract readonly kind: BusKind;
  private readonly listeners: ((event: ServerEvent) => void)[] = [];
  private readonly reconnectListeners: (() => void)[] = [];
  private lagObserver: ((seconds: number) => void) | null = null;
  /** Since when publishing fails, and how many events were lost: one log line per outage, not one per event. */
  private failing: { since: number; loggedAt: number; lost: number; lostSinceLog: number } | null = null;

  constructor(protected readonly log: FastifyBaseLogger) {}

  abstract start(): Promise<void>;
  abstract close(): Promise<void>;
  protected abstract send(data: string): Promise<void>;

  publish(event: Envelope): void {
    this.send(JSON.stringify({ ...event, publishedAt: wallClockMs() })).then(
      () => this.published(),
      (error: unknown) => this.publishFailed(error, event),
    );
  }

  /**
   * The change is committed; clients that miss it live get it when they resume, or when the bus resynchronises once
   * it is back. Logged when publishing starts failing and once a minute while it goes on, not once per event.
   */
  protected publishFailed(error: unknown, event: Envelope): void {
    const now = Date.now();
    const failing = this.failing;
    if (!failing) {
      this.failing = { since: now, loggedAt: now, lost: 1, lostSinceLog: 0 };
      this.log.error(
        { err: error, bus: this.kind, type: event.type },
        'could not publish an event; live streams catch up once the bus is back',
      );
      return;
    }
    failing.lost += 1;
    failing.lostSinceLog += 1;
    if (now - failing.loggedAt >= REMIND_MS) {
      this.log.error(
        { err: error, bus: this.kind, lost: failing.lostSinceLog, downMs: now - failing.since },
        'still cannot publish events',
      );
      failing.loggedAt = now;
      failing.lostSinceLog = 0;
    }
  }

  private published(): void {
    const failing = this.failing;
    if (failing) {
      this.failing = null;
      this.log.warn(
        { bus: this.kind, lost: failing.lost, downMs: Date.now() - failing.since },
        'publishing events again',
      );
    }
  }

  subscribe(listener: (event: ServerEvent) => void): void {
    this.listeners.push(listener);
  }

  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  observeLag(observer: (seconds: number) => void): void {
    this.lagObserver = observer;
  }

  protected receive(data: string): void {
    let event: ServerEvent;
    try {
      event = JSON.parse(data) as ServerEvent;
    } catch (error) {
      this.log.error({ err: error, bus: this.kind }, 'dropped an undecodable event');
      return;
    }
    const publishedAt = event.publishedAt;
    if (this.lagObserver && publishedAt !== undefined && Number.isFinite(publishedAt)) {
      // Across machines the difference includes their clocks' skew: never below zero.
      this.lagObserver(Math.max(0, wallClockMs() - publishedAt) / 1000);
    }
    for (const listener of this.listeners) {
      listener(event);
    }
  }

  protected reconnected(): void {
    this.log.warn({ bus: this.kind }, 'event bus reconnected; resynchronising live streams');
    for (const listener of this.reconnectListeners) {
      listener();
    }
  }
}
