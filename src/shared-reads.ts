/**
 * One database read for every connection that asks for the same thing at the same moment: when a gap timer fires
 * on the thousand connections of one chat, they read the chat's messages after the same seq once, not a thousand
 * times. A request joins a read only while that read has not started yet (it starts in the next turn of the event
 * loop), so every result holds whatever was committed before each of its requests: sharing never loses a message.
 * The history cache shares its page reads the same way (`messages/history.service.ts`).
 */
export class SharedReads {
  private readonly waiting = new Map<string, Promise<unknown>>();

  /** Whether a read of `key` waits to start: a request that calls `read` now joins it. */
  pending(key: string): boolean {
    return this.waiting.has(key);
  }

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

/**
 * `SharedReads` that tells the read who joined it: each request adds what identifies it (a user id) until the read
 * starts, and the read receives them all, so one statement can check each joiner where it reads (a membership in
 * the same snapshot as the page).
 */
export class SharedReadsFor<A> {
  private readonly waiting = new Map<string, { started: Promise<unknown>; who: A[] }>();

  /** Whether a read of `key` waits to start: a request that calls `read` now joins it. */
  pending(key: string): boolean {
    return this.waiting.has(key);
  }

  read<T>(key: string, who: A, run: (who: readonly A[]) => Promise<T>): Promise<T> {
    const joined = this.waiting.get(key);
    if (joined) {
      joined.who.push(who);
      return joined.started as Promise<T>;
    }
    const entry = { started: Promise.resolve() as Promise<unknown>, who: [who] };
    entry.started = new Promise<T>((resolve, reject) => {
      setImmediate(() => {
        this.waiting.delete(key);
        run(entry.who).then(resolve, reject);
      });
    });
    this.waiting.set(key, entry);
    return entry.started as Promise<T>;
  }
}
