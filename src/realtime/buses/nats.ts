import type { FastifyBaseLogger } from 'fastify';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { BaseBus } from '../bus.ts';

/** NATS core publish/subscribe on one subject; the client reconnects forever and tells us when it did. */
export class NatsBus extends BaseBus {
  readonly kind = 'nats' as const;
  private connection: NatsConnection | null = null;
  private subscription: Subscription | null = null;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly url: string,
    private readonly subject: string,
    log: FastifyBaseLogger,
  ) {
    super(log);
  }

  async start(): Promise<void> {
    const connection = await connect({ servers: this.url, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    this.connection = connection;
    this.subscription = connection.subscribe(this.subject, {
      callback: (error, message) => {
        if (error) {
          this.log.warn({ err: error }, 'nats bus subscription error');
          return;
        }
        this.receive(this.decoder.decode(message.data));
      },
    });
    void (async () => {
      for await (const status of connection.status()) {
        if (status.type === 'disconnect') {
          this.log.warn({ bus: this.kind }, 'nats bus connection lost; reconnecting');
        }
        if (status.type === 'reconnect') {
          this.reconnected();
        }
      }
    })();
  }

  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.connection?.drain().catch(() => {});
    this.connection = null;
  }

  protected async send(data: string): Promise<void> {
    if (!this.connection) {
      throw new Error('nats bus is not connected');
    }
    this.connection.publish(this.subject, this.encoder.encode(data));
  }
}
