import { connect, type Socket } from 'node:net';

/** One HTTP/1.1 answer as it came over the wire. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A TCP connection to a test server that writes exactly what it is given, when it is given, and records what comes
 * back and when the server closes: for what an HTTP client would hide (slow senders, malformed requests).
 */
export class RawConnection {
  private readonly chunks: Buffer[] = [];
  /** When the connection opened (Date.now()). */
  readonly openedAt = Date.now();
  /** Milliseconds from connecting to the server's close; null while open. */
  closedAfterMs: number | null = null;
  /** The socket error the connection ended with (a reset), if any. */
  error: Error | null = null;
  private readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    socket.on('error', (error) => {
      this.error = error;
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.closedAfterMs = Date.now() - this.openedAt;
        resolve();
      });
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.closedAfterMs === null;
  }

  get received(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  write(data: string | Buffer): void {
    if (this.isOpen && !this.socket.destroyed) {
      this.socket.write(data);
    }
  }

  /** Sends `data` one byte every `everyMs` while the connection is open, for at most `maxMs`. */
  async drip(data: string, everyMs: number, maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    for (let i = 0; i < data.length && this.isOpen && Date.now() < until; i++) {
      this.write(data[i]!);
      await Promise.race([this.closed, sleep(everyMs)]);
    }
  }

  /** True if the server closed the connection within `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    await Promise.race([this.closed, sleep(ms)]);
    return !this.isOpen;
  }

  /** Resolves once at least `count` answers have arrived (rejects after `ms`); `head`: answers to HEAD, bodiless. */
  async answers(count = 1, ms = 5000, head = false): Promise<RawAnswer[]> {
    const until = Date.now() + ms;
    for (;;) {
      const parsed = parseAnswers(this.received, head);
      if (parsed.length >= count) {
        return parsed;
      }
      if (!this.isOpen || Date.now() >= until) {
        break;
      }
      await sleep(10);
    }
    throw new Error(`expected ${count} answer(s), got ${JSON.stringify(this.received.slice(0, 500))}`);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** The complete answers in `text`: bodies by Content-Length, none without one nor in answers to HEAD (`head`). */
export function parseAnswers(text: string, head = false): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) {
      break;
    }
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
    if (status === undefined) {
      throw new Error(`not an HTTP answer: ${JSON.stringify(rest.slice(0, 200))}`);
    }
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = head ? 0 : Number(headers['content-length'] ?? 0);
    const bodyStart = end + 4;
    if (rest.length < bodyStart + length) {
      break;
    }
    answers.push({
      status: Number(status),
      headers,
      body: Buffer.from(rest.slice(bodyStart, bodyStart + length), 'latin1').toString('utf8'),
    });
    rest = rest.slice(bodyStart + length);
  }
  return answers;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
