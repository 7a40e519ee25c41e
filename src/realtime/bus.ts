import type { FastifyBaseLogger } from 'fastify';
import type { EventSink, ServerEvent } from './events.ts';

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
  close(): Promise<void>;
}

/** The common part of every driver: listeners, decoding, and logging of what cannot be delivered. */
export abstract class BaseBus implements Bus {
  abstract readonly kind: BusKind;
  private readonly listeners: ((event: ServerEvent) => void)[] = [];
  private readonly reconnectListeners: (() => void)[] = [];

  constructor(protected readonly log: FastifyBaseLogger) {}

  abstract start(): Promise<void>;
  abstract close(): Promise<void>;
  protected abstract send(data: string): Promise<void>;

  publish(event: ServerEvent): void {
    this.send(JSON.stringify(event)).catch((error: unknown) => {
      // The change is committed; clients that miss it live get it when they resume.
      this.log.error({ err: error, bus: this.kind, type: event.type }, 'could not publish an event');
    });
  }

  subscribe(listener: (event: ServerEvent) => void): void {
    this.listeners.push(listener);
  }

  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  protected receive(data: string): void {
    let event: ServerEvent;
    try {
      event = JSON.parse(data) as ServerEvent;
    } catch (error) {
      this.log.error({ err: error, bus: this.kind }, 'dropped an undecodable event');
      return;
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
