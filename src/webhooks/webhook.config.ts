import { boolean, ConfigError, integer, oneOf, read, type Env } from '../env.ts';

/** Webhooks (docs/webhooks.md, "Configuration"). */
export interface WebhooksConfig {
  /** This process delivers (PARLEY_WEBHOOKS_DELIVER); events are recorded either way. */
  deliver: boolean;
  /** Most subscriptions one tenant may have. */
  perTenant: number;
  /** How long one delivery may take before it counts as failed. */
  timeoutMs: number;
  /** How often the worker looks for due deliveries when nothing woke it. */
  pollMs: number;
  /** Deliveries in flight at once in this process, and for one subscription. */
  concurrency: number;
  perSubscription: number;
  /** The first retry's delay; each next one doubles, up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long an event is retried (from when it was recorded) before it is dead-lettered. */
  retryWindowMs: number;
  /** Days a delivered or dead event stays in the delivery log (PARLEY_WEBHOOK_LOG_DAYS). */
  logDays: number;
  /** Plain http:// targets other than this machine (PARLEY_WEBHOOK_ALLOW_HTTP); loopback is always allowed. */
  allowHttp: boolean;
  /** The synchronous "before send" hook; null: none. */
  beforeSend: BeforeSendConfig | null;
}

export interface BeforeSendConfig {
  /** PARLEY_BEFORE_SEND_URL: where each send is POSTed before it is written. */
  url: string;
  /** PARLEY_BEFORE_SEND_SECRET: the key of its signature (required with the URL). */
  secret: string;
  /** PARLEY_BEFORE_SEND_TIMEOUT_MS: how long a send waits for the answer. */
  timeoutMs: number;
  /** PARLEY_BEFORE_SEND_ON_FAILURE: when the backend is slow, down or answers nonsense, send anyway or refuse (503). */
  onFailure: 'allow' | 'refuse';
}

function beforeSendConfig(env: Env): BeforeSendConfig | null {
  const url = read(env, 'PARLEY_BEFORE_SEND_URL');
  if (url === undefined) {
    return null;
  }
  if (!/^https?:\/\//.test(url)) {
    throw new ConfigError('PARLEY_BEFORE_SEND_URL', `must be an http:// or https:// URL, got "${url}"`);
  }
  const secret = read(env, 'PARLEY_BEFORE_SEND_SECRET');
  if (secret === undefined || secret.length < 16) {
    throw new ConfigError(
      'PARLEY_BEFORE_SEND_SECRET',
      'is required with PARLEY_BEFORE_SEND_URL (16 characters or more)',
    );
  }
  return {
    url,
    secret,
    timeoutMs: integer(env, 'PARLEY_BEFORE_SEND_TIMEOUT_MS', 500, 10, 30_000),
    onFailure: oneOf(env, 'PARLEY_BEFORE_SEND_ON_FAILURE', ['allow', 'refuse'] as const, 'allow'),
  };
}

export function webhooksConfig(env: Env): WebhooksConfig {
  return {
    deliver: boolean(env, ['PARLEY_WEBHOOKS_DELIVER'], true),
    perTenant: integer(env, 'PARLEY_WEBHOOKS_PER_TENANT', 10, 0, 1000),
    timeoutMs: integer(env, 'PARLEY_WEBHOOK_TIMEOUT_MS', 10_000, 10, 120_000),
    pollMs: integer(env, 'PARLEY_WEBHOOK_POLL_MS', 1000, 5, 60_000),
    concurrency: integer(env, 'PARLEY_WEBHOOK_CONCURRENCY', 64, 1, 1000),
    perSubscription: integer(env, 'PARLEY_WEBHOOK_PER_SUBSCRIPTION', 32, 1, 1000),
    retryBaseMs: integer(env, 'PARLEY_WEBHOOK_RETRY_BASE_MS', 10_000, 1, 3_600_000),
    retryMaxMs: integer(env, 'PARLEY_WEBHOOK_RETRY_MAX_MS', 3_600_000, 1, 86_400_000),
    retryWindowMs: integer(env, 'PARLEY_WEBHOOK_RETRY_WINDOW_MS', 86_400_000, 1, 30 * 86_400_000),
    logDays: integer(env, 'PARLEY_WEBHOOK_LOG_DAYS', 7, 1, 3650),
    allowHttp: boolean(env, ['PARLEY_WEBHOOK_ALLOW_HTTP'], false),
    beforeSend: beforeSendConfig(env),
  };
}
