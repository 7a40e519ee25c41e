import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, integer, isMemory, read, type Env } from '../env.ts';

export interface JwtConfig {
  /** HS256 shared secret. */
  secret: string | null;
  /** PEM public key (SPKI) for RS256/ES256 tokens. */
  publicKey: string | null;
  /** JWKS endpoint for RS256/ES256 tokens. */
  jwksUrl: string | null;
  /**
   * After the JWKS was fetched, a token whose `kid` it lacks fetches it again no sooner than this: keys rotated in
   * are found by the first such token after it, and unknown kids cannot make Parley hammer the endpoint.
   */
  jwksCooldownMs: number;
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

/** The algorithms a public key can verify, by its type and curve (the first is the default), and what it is. */
function keyAlgorithms(pem: string): { algorithms: string[]; kind: string } {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError('JWT_PUBLIC_KEY', 'is not a PEM public key ("-----BEGIN PUBLIC KEY-----" ...)');
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { algorithms: ['RS256', 'RS384', 'RS512', 'PS256'], kind: 'RSA' };
    case 'rsa-pss':
      return { algorithms: ['PS256'], kind: 'RSA-PSS' };
    case 'ec':
      if (curve === 'prime256v1') {
        return { algorithms: ['ES256'], kind: 'EC P-256' };
      }
      if (curve === 'secp384r1') {
        return { algorithms: ['ES384'], kind: 'EC P-384' };
      }
      break;
    case 'ed25519':
      return { algorithms: ['EdDSA'], kind: 'Ed25519' };
    default:
      break;
  }
  throw new ConfigError(
    'JWT_PUBLIC_KEY',
    `is a key of a type no accepted algorithm uses (${key.asymmetricKeyType}${curve ? ` ${curve}` : ''}): ` +
      'use an RSA, EC P-256 or P-384, or Ed25519 key',
  );
}

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
  // A JWKS wins over a public key; a key alone says which algorithm it verifies (RS256 for RSA, ES256 for P-256).
  const key = publicKey !== null && jwksUrl === null ? keyAlgorithms(publicKey) : null;
  const { secret, source } = jwtSecret(env, nodeEnv, dataDir, asymmetric);
  const algorithmsRaw = read(env, 'JWT_ALGORITHMS');
  const algorithms = algorithmsRaw
    ? algorithmsRaw.split(',').map((a) => a.trim())
    : [...(secret ? ['HS256'] : []), ...(key ? [key.algorithms[0]!] : asymmetric ? ['RS256'] : [])];
  for (const alg of algorithms) {
    if (!ALGORITHMS.includes(alg)) {
      throw new ConfigError(
        'JWT_ALGORITHMS',
        `unsupported algorithm "${alg}" (use ${ALGORITHMS.join(', ')})`,
      );
    }
  }
  const signed = algorithms.filter((alg) => !alg.startsWith('HS'));
  if (key && signed.length > 0 && !signed.some((alg) => key.algorithms.includes(alg))) {
    throw new ConfigError(
      'JWT_ALGORITHMS',
      `${signed.join(', ')} cannot be verified with JWT_PUBLIC_KEY, an ${key.kind} key: use ${key.algorithms.join(', ')}`,
    );
  }
  return {
    jwt: {
      secret,
      publicKey,
      jwksUrl,
      jwksCooldownMs: integer(env, 'JWT_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
      algorithms,
      issuer: read(env, 'JWT_ISSUER') ?? 'parley',
      audience: read(env, 'JWT_AUDIENCE') ?? null,
    },
    source,
  };
}
