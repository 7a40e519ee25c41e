import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  /** Null while the connection is held: accepted during a black hole, not yet forwarded. */
  upstream: Socket | null;
}

/**
 * A TCP proxy on loopback in front of a server, that the test can switch into a black hole: from then on nothing
 * reaches either side and nothing is refused or reset. Bytes in flight stay in the sockets' buffers (as a network
 * that drops packets leaves them to be sent again), and new connections are accepted but never forwarded, so the
 * client's connect waits for a startup answer that does not come. Switched back, held connections are forwarded and
 * paused ones flow again, as after a partition heals.
 */
export class BlackHoleProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private dark = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<BlackHoleProxy> {
    const proxy = new BlackHoleProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  /** Connections open through the proxy (held ones included). */
  get connections(): number {
    return this.pairs.size;
  }

  blackHole(): void {
    this.dark = true;
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  forward(): void {
    this.dark = false;
    for (const pair of this.pairs) {
      if (pair.upstream) {
        pair.upstream.resume();
        pair.client.resume();
      } else {
        this.connect(pair);
      }
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, upstream: null };
    this.pairs.add(pair);
    client.on('error', () => {});
    client.on('close', () => {
      this.pairs.delete(pair);
      pair.upstream?.destroy();
    });
    // Not read until forwarded: what the client writes waits in the socket.
    client.pause();
    if (!this.dark) {
      this.connect(pair);
    }
  }

  private connect(pair: Pair): void {
    const { client } = pair;
    if (client.destroyed) {
      return;
    }
    const upstream = createConnection(this.target);
    pair.upstream = upstream;
    upstream.on('error', () => {});
    upstream.on('close', () => client.destroy());
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    upstream.on('connect', () => {
      if (!this.dark) {
        client.resume();
      } else {
        upstream.pause();
      }
    });
  }
}
