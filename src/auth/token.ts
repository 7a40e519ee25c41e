import { SignJWT } from 'jose';
import type { JwtConfig } from './jwt.config.ts';

export interface MintOptions {
  sub: string;
  tenant?: string;
  admin?: boolean;
  username?: string;
  name?: string;
  permissions?: string[];
  /** Lifetime, in seconds (default one day). */
  ttlSeconds?: number;
}

/** Mints an HS256 token with the configured secret: for `parley token`, the seed script and tests. */
export async function mintToken(config: JwtConfig, options: MintOptions): Promise<string> {
  if (!config.secret) {
    throw new Error(
      'JWT_SECRET is not set: tokens for RS256/JWKS setups are minted by your identity provider',
    );
  }
  const claims: Record<string, unknown> = {};
  if (options.tenant) {
    claims.tid = options.tenant;
  }
  if (options.admin) {
    claims.roles = ['admin'];
  }
  if (options.username) {
    claims.username = options.username;
  }
  if (options.name) {
    claims.name = options.name;
  }
  if (options.permissions) {
    claims.permissions = options.permissions;
  }
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuer(config.issuer)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 86_400));
  if (config.audience) {
    jwt.setAudience(config.audience);
  }
  return jwt.sign(new TextEncoder().encode(config.secret));
}
