import { BaseBus } from '../bus.ts';

/** One process: events go straight back to this process's listeners, asynchronously like the others. */
export class LocalBus extends BaseBus {
  readonly kind = 'local' as const;

  async start(): Promise<void> {}

  async close(): Promise<void> {}

  protected async send(data: string): Promise<void> {
    queueMicrotask(() => this.receive(data));
  }
}
