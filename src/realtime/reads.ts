/**
 * One database read for every connection that asks for the same thing at the same moment: when a gap timer fires
 * on the thousand connections of one chat, they read the chat's messages after the same seq once, not a thousand
 * times. A request joins a read only while that read has not started yet (it starts in the next turn of the event
 * loop), so every result holds whatever was committed before each of its requests: sharing never loses a message.
 */
export class SharedReads {
  private readonly waiting = new Map<string, Promise<unknown>>();

  read<T>(key: string, run: () => Promise<T>): Promise<T> {
    const joined = this.waiting.get(key);
    if (joined) {
      return joined as Promise<T>;
    }
    const started = new Promise<T>((resolve, reject) => {
      setImmediate(() => {
        this.waiting.delete(key);
        run().then(resolve, reject);
      });
    });
    this.waiting.set(key, started);
    return started;
  }
}

/** Frames built from what a shared read returned: one serialisation per row, however many connections get it. */
export class FrameCache<K extends object> {
  private readonly frames = new WeakMap<K, string>();

  constructor(private readonly build: (row: K) => string) {}

  of(row: K): string {
    let text = this.frames.get(row);
    if (text === undefined) {
      text = this.build(row);
      this.frames.set(row, text);
    }
    return text;
  }
}
