import type { RateLimit } from './limits.config.ts';

/** Where one bucket stands: its tokens when it was last used, and when that was (ms, monotonic). */
interface BucketState {
  tokens: number;
  at: number;
}

/**
 * Takes one token if there is one: 0, else the milliseconds until there will be. Tokens flow in at `rate` a second
 * since the bucket was last used, up to `burst`.
 */
function takeToken(state: BucketState, limit: RateLimit, now: number): number {
  const elapsed = Math.max(0, now - state.at);
  state.tokens = Math.min(limit.burst, state.tokens + (elapsed * limit.rate) / 1000);
  state.at = now;
  if (state.tokens >= 1) {
    state.tokens -= 1;
    return 0;
  }
  return Math.ceil(((1 - state.tokens) * 1000) / limit.rate);
}

/** One token bucket, starting full: for a single stream of events (the frames of one socket). */
export class TokenBucket {
  private readonly state: BucketState;

  constructor(
    private readonly limit: RateLimit,
    now = performance.now(),
  ) {
    this.state = { tokens: limit.burst, at: now };
  }

  /** 0 when the event may go ahead (it took a token), else the milliseconds until one would. */
  take(now = performance.now()): number {
    return takeToken(this.state, this.limit, now);
  }
}

/**
 * A token bucket per key (a user, an address), in memory. A key nobody used for `burst / rate` seconds has a full
 * bucket again, exactly like a key never seen, so it is forgotten; and at most `maxKeys` are kept, the least recently
 * used going first. The Map's insertion order is the recency order: a key moves to the end whenever it is used, so
 * the idle ones are always at the front and forgetting them costs nothing per request.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, BucketState>();
  private readonly refillMs: number;

  constructor(
    readonly limit: RateLimit,
    private readonly maxKeys: number,
  ) {
    this.refillMs = (limit.burst * 1000) / limit.rate;
  }

  /** How many keys are remembered now. */
  get size(): number {
    return this.buckets.size;
  }

  /** 0 when `key` may go ahead (it took a token), else the milliseconds until it may. */
  take(key: string, now = performance.now()): number {
    let state = this.buckets.get(key);
    if (state) {
      this.buckets.delete(key);
    } else {
      state = { tokens: this.limit.burst, at: now };
    }
    this.buckets.set(key, state);
    const wait = takeToken(state, this.limit, now);
    // After the take: the key just used is the most recent one, and is never what gets forgotten.
    this.forget(now);
    return wait;
  }

  /** Drops, from the least recently used on, keys over the bound and keys idle long enough to be full again. */
  private forget(now: number): void {
    for (const [key, state] of this.buckets) {
      if (this.buckets.size <= this.maxKeys && now - state.at < this.refillMs) {
        return;
      }
      this.buckets.delete(key);
    }
  }
}
