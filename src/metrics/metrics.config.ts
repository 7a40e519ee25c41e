import { boolean, ConfigError, oneOf, read, type Env } from '../env.ts';

/** `GET /metrics` (docs/operations.md, "Metrics"): Prometheus text format, and who may read it. */
export interface MetricsConfig {
  /** PARLEY_METRICS: collect metrics and answer `GET /metrics` at all (default true). */
  enabled: boolean;
  /** PARLEY_METRICS_TOKEN: when set, `Authorization: Bearer <token>` is required, from any address. */
  token: string | null;
  /**
   * PARLEY_METRICS_ALLOW, without a token: `private` (default) answers only peers on loopback or private networks
   * that did not come through a proxy; `any` answers everyone.
   */
  allow: 'private' | 'any';
}

export function metricsConfig(env: Env): MetricsConfig {
  const token = read(env, 'PARLEY_METRICS_TOKEN') ?? null;
  if (token !== null && !/^[\x21-\x7e]+$/.test(token)) {
    throw new ConfigError(
      'PARLEY_METRICS_TOKEN',
      'must be printable ASCII without spaces (it travels in a header)',
    );
  }
  return {
    enabled: boolean(env, ['PARLEY_METRICS'], true),
    token,
    allow: oneOf(env, 'PARLEY_METRICS_ALLOW', ['private', 'any'] as const, 'private'),
  };
}
