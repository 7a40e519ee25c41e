import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { id: string; type: string; tenantId: string; attempt: number; data: Record<string, unknown> };
  at: number;
}

/**
 * A real HTTP server standing in for a product's backend: it records every webhook delivery, and answers as
 * `answer` says (a status after a delay); requests it answers 2xx are also in `delivered`.
 */
export class Receiver {
  readonly received: Received[] = [];
  readonly delivered: Received[] = [];
  answer: (request: Received) => { status: number; delayMs?: number } = () => ({ status: 204 });
  private readonly server: Server;
  private waiters: (() => void)[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const received: Received = {
          headers: req.headers,
          raw,
          body: JSON.parse(raw) as Received['body'],
          at: Date.now(),
        };
        this.received.push(received);
        const { status, delayMs = 0 } = this.answer(received);
        const reply = () => {
          if (status >= 200 && status < 300) {
            this.delivered.push(received);
          }
          res.writeHead(status).end();
          for (const wake of this.waiters.splice(0)) {
            wake();
          }
        };
        if (delayMs > 0) {
          setTimeout(reply, delayMs);
        } else {
          reply();
        }
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  /** Waits until `done()` holds (checked on every request), or fails after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs = 15_000, what = 'deliveries'): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > end) {
        throw new Error(
          `timed out waiting for ${what}: ${this.delivered.length} delivered, ${this.received.length} received`,
        );
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
