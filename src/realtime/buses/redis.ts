import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { BaseBus } from '../bus.ts';

/** Redis pub/sub: one connection publishes, one subscribes; ioredis reconnects both by itself. */
export class RedisBus extends BaseBus {
  readonly kind = 'redis' as const;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private ready = false;

  constructor(
    url: string,
    private readonly channel: string,
    log: FastifyBaseLogger,
  ) {
    super(log);
    const options = { lazyConnect: true, maxRetriesPerRequest: 3 };
    this.publisher = new Redis(url, options);
    this.subscriber = new Redis(url, options);
    for (const connection of [this.publisher, this.subscriber]) {
      // Logged once when a connection is lost (not at close), not on every attempt to connect again meanwhile.
      let down = false;
      const lost = (error: Error | null) => {
        if (!down && this.ready) {
          down = true;
          this.log.warn(
            { err: error ?? undefined, bus: this.kind },
            'redis bus connection lost; reconnecting',
          );
        }
      };
      connection.on('error', (error: Error) => lost(error));
      connection.on('close', () => lost(null));
      connection.on('ready', () => {
        down = false;
      });
    }
  }

  async start(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    this.subscriber.on('message', (channel: string, data: string) => {
      if (channel === this.channel) {
        this.receive(data);
      }
    });
    this.subscriber.on('ready', () => {
      if (this.ready) {
        this.reconnected();
      }
    });
    await this.subscriber.subscribe(this.channel);
    this.ready = true;
  }

  async close(): Promise<void> {
    this.ready = false;
    await Promise.allSettled([this.subscriber.quit(), this.publisher.quit()]);
  }

  protected async send(data: string): Promise<void> {
    await this.publisher.publish(this.channel, data);
  }
}
