import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, isMemory, read, type Env } from '../env.ts';

export interface JwtConfig {
  /** HS256 shared secret. */
  secret: string | null;
  /** PEM public key (SPKI) for RS256/ES256 tokens. */
  publicKey: string | null;
  /** JWKS endpoint for RS256/ES256 tokens. */
  jwksUrl: string | null;
  algorithms: string[];
  issuer: string;
  audience: string | null;
}

const ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/**
 * The HS256 secret: JWT_SECRET, else (outside production) one generated once into the data directory, so tokens
 * minted by `parley token` keep working across restarts.
 */
function jwtSecret(env: Env, nodeEnv: NodeEnv, dataDir: string, asymmetric: boolean) {
  const secret = read(env, 'JWT_SECRET');
  if (secret !== undefined) {
    if (nodeEnv === 'production' && secret.length < 32) {
      throw new ConfigError(
        'JWT_SECRET',
        `must be at least 32 characters in production, got ${secret.length}`,
      );
    }
    return { secret, source: 'env' as const };
  }
  if (asymmetric) {
    return { secret: null, source: 'none' as const };
  }
  if (nodeEnv === 'production') {
    throw new ConfigError(
      'JWT_SECRET',
      'is required when NODE_ENV=production (or set JWT_PUBLIC_KEY / JWT_JWKS_URL for RS256)',
    );
  }
  if (isMemory(dataDir)) {
    // Nowhere to keep it: a fresh secret for this process only.
    return { secret: randomBytes(48).toString('base64url'), source: 'generated' as const };
  }
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    return { secret: readFileSync(file, 'utf8').trim(), source: 'file' as const };
  }
  mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(48).toString('base64url');
  writeFileSync(file, `${generated}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secret: generated, source: 'generated' as const };
}

export type NodeEnv = 'development' | 'production' | 'test';

/** JWT_*: how tokens are verified, and where the HS256 secret came from (so start-up can say so). */
export function jwtConfig(
  env: Env,
  nodeEnv: NodeEnv,
  dataDir: string,
): { jwt: JwtConfig; source: 'env' | 'generated' | 'file' | 'none' } {
  const publicKey = read(env, 'JWT_PUBLIC_KEY') ?? null;
  const jwksUrl = read(env, 'JWT_JWKS_URL') ?? null;
  if (jwksUrl !== null && !/^https?:\/\//.test(jwksUrl)) {
    throw new ConfigError('JWT_JWKS_URL', `must be an http(s) URL, got "${jwksUrl}"`);
  }
  const asymmetric = publicKey !== null || jwksUrl !== null;
  const { secret, source } = jwtSecret(env, nodeEnv, dataDir, asymmetric);
  const algorithmsRaw = read(env, 'JWT_ALGORITHMS');
  const algorithms = algorithmsRaw
    ? algorithmsRaw.split(',').map((a) => a.trim())
    : [...(secret ? ['HS256'] : []), ...(asymmetric ? ['RS256'] : [])];
  for (const alg of algorithms) {
    if (!ALGORITHMS.includes(alg)) {
      throw new ConfigError(
        'JWT_ALGORITHMS',
        `unsupported algorithm "${alg}" (use ${ALGORITHMS.join(', ')})`,
      );
    }
  }
  return {
    jwt: {
      secret,
      publicKey,
      jwksUrl,
      algorithms,
      issuer: read(env, 'JWT_ISSUER') ?? 'parley',
      audience: read(env, 'JWT_AUDIENCE') ?? null,
    },
    source,
  };
}
