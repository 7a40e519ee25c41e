import type { Socket } from 'node:net';

/**
 * How frames reach a WebSocket's TCP socket when one event goes to every socket of a chat. A frame string is
 * encoded to UTF-8 once per turn of the event loop and the same bytes are written to each socket; and the frames a
 * socket gets in one turn leave in one write: the socket is corked at its first frame of the turn and uncorked once
 * that turn's I/O callbacks have run. Under a burst (several events in one read from the bus), a socket costs one
 * system call for all of them rather than one each; otherwise it still gets its frame in the same turn.
 */
export class SocketWrites {
  /** This turn's frames, encoded: a replay from the database sends several frames to each socket in turn. */
  private readonly encoded = new Map<string, Buffer>();
  private readonly corked = new Set<Socket>();
  private flushing = false;

  /** The frame's bytes, encoded once for every socket it goes to in this turn. */
  bytes(text: string): Buffer {
    let bytes = this.encoded.get(text);
    if (bytes === undefined) {
      bytes = Buffer.from(text, 'utf8');
      this.encoded.set(text, bytes);
      this.schedule();
    }
    return bytes;
  }

  /** Holds the socket's writes until the end of this turn (no-op if they already are). */
  hold(socket: Socket): void {
    if (this.corked.has(socket) || socket.destroyed) {
      return;
    }
    socket.cork();
    this.corked.add(socket);
    this.schedule();
  }

  private schedule(): void {
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushing = false;
    for (const socket of this.corked) {
      socket.uncork();
    }
    this.corked.clear();
    this.encoded.clear();
  }
}
