import { WebSocket } from 'ws';
import type { StreamFrame } from '../../src/realtime/protocol.ts';

/** A frame the server writes on a stream: an event or a control frame, told apart by `type`. */
export type Frame = StreamFrame;
export type FrameType = Frame['type'];
/** The frame of one `type`. */
export type FrameOf<K extends FrameType> = Extract<Frame, { type: K }>;

/** A WebSocket test client that records every frame and can wait for the ones a test expects. */
export class StreamClient {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.poke();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.poke();
    });
  }

  /** Connects and waits for `ready`. `query` may carry `access_token` or `resume`; `path` is the stream's. */
  static async connect(
    baseUrl: string,
    token: string | null,
    query: Record<string, string> = {},
    path = '/v1/stream',
  ): Promise<StreamClient> {
    const url = new URL(path, baseUrl.replace(/^http/, 'ws'));
    for (const [key, value] of Object.entries(query)) {
      url.searchParams.set(key, value);
    }
    const socket = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const client = new StreamClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    await client.waitFor((f) => f.type === 'ready');
    return client;
  }

  send(frame: object): void {
    this.socket.send(JSON.stringify(frame));
  }

  of<K extends FrameType>(type: K): FrameOf<K>[] {
    return this.frames.filter((f): f is FrameOf<K> => f.type === type);
  }

  /** message.created seqs received for a chat, in arrival order. */
  seqs(chatId: string): number[] {
    return this.of('message.created')
      .filter((f) => f.chatId === chatId)
      .map((f) => f.message.seq);
  }

  /**
   * Resolves when `predicate` holds for some frame (or `count` frames); rejects after `ms`. Given a frame type first,
   * the predicate sees (and the answer holds) frames of that type only: `waitFor('message.created', (f) => ...)`.
   */
  waitFor<K extends FrameType>(
    type: K,
    predicate?: (frame: FrameOf<K>) => boolean,
    count?: number,
    ms?: number,
  ): Promise<FrameOf<K>[]>;
  waitFor(predicate: (frame: Frame) => boolean, count?: number, ms?: number): Promise<Frame[]>;
  async waitFor(first: FrameType | ((frame: Frame) => boolean), ...rest: unknown[]): Promise<Frame[]> {
    if (typeof first === 'string') {
      const [predicate, count, ms] = rest as [((frame: Frame) => boolean) | undefined, number?, number?];
      return this.waitUntil((f) => f.type === first && (predicate?.(f) ?? true), count, ms);
    }
    const [count, ms] = rest as [number?, number?];
    return this.waitUntil(first, count, ms);
  }

  private async waitUntil(predicate: (frame: Frame) => boolean, count = 1, ms = 10_000): Promise<Frame[]> {
    const matches = () => this.frames.filter(predicate);
    await this.until(
      () => matches().length >= count,
      ms,
      () => `${count} frame(s) matching ${predicate}`,
    );
    return matches();
  }

  async waitForClose(ms = 10_000): Promise<number> {
    await this.until(
      () => this.closeCode !== null,
      ms,
      () => 'close',
    );
    return this.closeCode!;
  }

  async until(check: () => boolean, ms: number, what: () => string): Promise<void> {
    if (check()) {
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `timed out after ${ms} ms waiting for ${what()}; got ${JSON.stringify(this.frames.slice(-5))}`,
          ),
        );
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ check, resolve: done });
    });
  }

  /** Waits `ms` and returns the frames that arrived meanwhile: for asserting that nothing (more) comes. */
  async quietFor(ms: number): Promise<Frame[]> {
    const before = this.frames.length;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.frames.slice(before);
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }

  private poke(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.check()) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve();
      }
    }
  }
}
