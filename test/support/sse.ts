import http from 'node:http';
import type { Frame } from './ws.ts';

/** One Server-Sent Event: its `id:` line, if any, and its `data:` parsed. */
export interface SseEvent {
  id: string | null;
  data: Frame;
}

/** An SSE test client that records every event and can wait for the ones a test expects. */
export class SseClient {
  readonly events: SseEvent[] = [];
  /** The server ended the stream. */
  ended = false;

  private constructor(private readonly request: http.ClientRequest) {}

  /** Opens `url` and waits for `ready`; a status other than 200 rejects with `HTTP <status>`. */
  static async connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = await new Promise<SseClient>((resolve, reject) => {
      const request = http.get(url, { headers }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`HTTP ${response.statusCode}`));
          return;
        }
        const sse = new SseClient(request);
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            sse.parse(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        });
        response.on('end', () => {
          sse.ended = true;
        });
        resolve(sse);
      });
      request.on('error', reject);
    });
    await client.waitFor('ready');
    return client;
  }

  get frames(): Frame[] {
    return this.events.map((e) => e.data);
  }

  /** Resolves with the frames of `type` (that `predicate` accepts) once there is one; rejects after `ms`. */
  async waitFor(type: Frame['type'], predicate: (frame: Frame) => boolean = () => true, ms = 10_000) {
    const matches = () => this.frames.filter((f) => f.type === type && predicate(f));
    const start = Date.now();
    while (matches().length === 0) {
      if (Date.now() - start > ms) {
        throw new Error(`timed out waiting for ${type}; got ${JSON.stringify(this.frames.slice(-5))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return matches();
  }

  close(): void {
    this.request.destroy();
  }

  private parse(block: string): void {
    const event = parseSseBlock(block);
    if (event) {
      this.events.push(event);
    }
  }
}

/** One event's block (the lines before a blank line), or null for a block without data (a comment, a heartbeat). */
export function parseSseBlock(block: string): SseEvent | null {
  let id: string | null = null;
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) {
      id = line.slice(4);
    } else if (line.startsWith('data: ')) {
      data += line.slice(6);
    }
  }
  return data ? { id, data: JSON.parse(data) as Frame } : null;
}
