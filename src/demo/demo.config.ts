import { boolean, type Env } from '../env.ts';
import type { NodeEnv } from '../auth/jwt.config.ts';

/** The demo chat page at the root (docs/client.md, "Demo page"). */
export interface DemoConfig {
  /** Serve the page: PARLEY_DEMO, by default outside production. */
  enabled: boolean;
  /** `POST /dev/token` mints a token for any user id: with the page, never in production, only with an HS256 secret. */
  devTokens: boolean;
}

export function demoConfig(env: Env, nodeEnv: NodeEnv, secret: string | null): DemoConfig {
  const enabled = boolean(env, ['PARLEY_DEMO'], nodeEnv !== 'production');
  return { enabled, devTokens: enabled && nodeEnv !== 'production' && secret !== null };
}
