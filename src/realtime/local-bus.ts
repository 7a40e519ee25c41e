import { EventEmitter } from 'node:events';
import type { EventSink, ServerEvent } from './events.ts';

/** In-process fan-out: what one process needs. Listeners get events in publish order. */
export class LocalBus implements EventSink {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: ServerEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
