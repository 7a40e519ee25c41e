import type { RateLimit } from './limits.config.ts';
import { TokenBucket } from './rate.limiter.ts';

/**
 * What becomes of a frame a client sent: `pass` it on; `warn` (refused, the first of a run: say so once); `drop`
 * (refused, the run goes on); `close` (the run has gone on too long: the socket goes).
 */
export type FrameVerdict = 'pass' | 'warn' | 'drop' | 'close';

/** A run of refused frames ends when a second goes by without one. */
const CALM_MS = 1000;

/**
 * The frames one WebSocket client may send (docs/operations.md, "Limits"): a token bucket of `burst` frames refilled at `rate`
 * a second. Frames over it are refused, and the client hears it once per run, not once per frame (a flood is not
 * answered with a flood). A client that keeps sending over the limit, more than `burst` refused frames with less
 * than a second between any two of them, is closed.
 */
export class FrameLimiter {
  private readonly bucket: TokenBucket;
  private refused = 0;
  private lastRefusedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly limit: RateLimit,
    now = performance.now(),
  ) {
    this.bucket = new TokenBucket(limit, now);
  }

  check(now = performance.now()): FrameVerdict {
    if (this.bucket.take(now) === 0) {
      return 'pass';
    }
    if (now - this.lastRefusedAt > CALM_MS) {
      this.refused = 0;
    }
    this.lastRefusedAt = now;
    this.refused += 1;
    if (this.refused > this.limit.burst) {
      return 'close';
    }
    return this.refused === 1 ? 'warn' : 'drop';
  }
}
