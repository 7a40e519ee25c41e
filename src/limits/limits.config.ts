import { integer, type Env } from '../env.ts';
import type { Limits } from '../context.ts';

/** A token bucket: `rate` tokens a second flow in, at most `burst` are saved up, each request (or frame) takes one. */
export interface RateLimit {
  rate: number;
  burst: number;
}

/** Requests per caller (docs/operations.md, "Limits"). */
export interface RateLimitConfig {
  /** Per tenant and user, for requests that carry a valid token; null: no limit. */
  user: RateLimit | null;
  /** Per client address, for requests that do not; null: no limit. */
  ip: RateLimit | null;
  /** Most callers remembered at once, per kind: the memory bound. Idle callers are forgotten first. */
  maxKeys: number;
}

/**
 * `rateName` per second (0: off) and `burstName` at once, by default `burstSeconds` seconds' worth: lowering the
 * rate lowers the burst with it unless the burst is set too.
 */
export function rateLimit(
  env: Env,
  [rateName, burstName]: [string, string],
  fallback: number,
  burstSeconds: number,
): RateLimit | null {
  const rate = integer(env, rateName, fallback, 0, 1_000_000);
  const burst = integer(env, burstName, Math.max(1, rate * burstSeconds), 1, 100_000_000);
  return rate === 0 ? null : { rate, burst };
}

export function rateLimitConfig(env: Env): RateLimitConfig {
  return {
    user: rateLimit(env, ['PARLEY_RATE_LIMIT_USER', 'PARLEY_RATE_LIMIT_USER_BURST'], 100, 10),
    ip: rateLimit(env, ['PARLEY_RATE_LIMIT_IP', 'PARLEY_RATE_LIMIT_IP_BURST'], 100, 10),
    maxKeys: integer(env, 'PARLEY_RATE_LIMIT_KEYS', 100_000, 100, 10_000_000),
  };
}

/** The service limits (docs/operations.md, "Limits"). */
export function limitsConfig(env: Env): Limits {
  return {
    bodyBytes: integer(env, 'PARLEY_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    messageChars: integer(env, 'PARLEY_MAX_MESSAGE_CHARS', 10_000, 1, 1_000_000),
    // A direct chat has two members: no smaller maximum works.
    chatMembers: integer(env, 'PARLEY_MAX_CHAT_MEMBERS', 10_000, 2, 10_000_000),
    chatsPerUser: integer(env, 'PARLEY_MAX_CHATS_PER_USER', 10_000, 1, 10_000_000),
    reactionsPerMessage: integer(env, 'PARLEY_MAX_REACTIONS_PER_MESSAGE', 50, 1, 10_000),
    pinsPerChat: integer(env, 'PARLEY_MAX_PINS_PER_CHAT', 100, 1, 10_000),
    // A direct chat has two members: receipts always work there.
    receiptsMaxMembers: integer(env, 'PARLEY_RECEIPTS_MAX_MEMBERS', 100, 2, 10_000),
  };
}
