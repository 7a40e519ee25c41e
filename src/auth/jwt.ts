import { createPublicKey } from 'node:crypto';
import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { JwtConfig } from './jwt.config.ts';
import { unauthorized } from '../errors/codes.ts';
import type { Actor } from './actor.ts';

const TENANT_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export interface TokenVerifier {
  verify(token: string): Promise<Actor>;
}

function stringClaim(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function actorFrom(payload: JWTPayload): Actor {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length < 1 || sub.length > 128 || sub.includes('\u0000')) {
    throw unauthorized('token: sub must be a string of 1 to 128 characters, without NUL');
  }
  const tid = payload.tid ?? 'default';
  if (typeof tid !== 'string' || !TENANT_ID.test(tid)) {
    throw unauthorized('token: tid must be 1 to 64 letters, digits or . _ : -');
  }
  const roles = Array.isArray(payload.roles) ? payload.roles : [];
  const permissions = Array.isArray(payload.permissions)
    ? payload.permissions.filter((p): p is string => typeof p === 'string')
    : [];
  return {
    tenantId: tid,
    userId: sub,
    isAdmin: roles.includes('admin'),
    permissions,
    profile: {
      username: stringClaim(payload, 'username') ?? stringClaim(payload, 'preferred_username'),
      displayName: stringClaim(payload, 'name'),
    },
  };
}

function explain(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) {
    return 'token has expired';
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `token: ${error.claim} claim is invalid (${error.reason})`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return 'token is signed with an algorithm that is not accepted';
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'token signature is invalid';
  }
  return 'token is malformed or cannot be verified';
}

const VERIFIED_CAPACITY = 10_000;

export async function createTokenVerifier(config: JwtConfig): Promise<TokenVerifier> {
  const symmetric = config.secret ? new TextEncoder().encode(config.secret) : null;
  const hmacAlgs = config.algorithms.filter((a) => a.startsWith('HS'));
  const asymmetricAlgs = config.algorithms.filter((a) => !a.startsWith('HS'));
  let keySet: JWTVerifyGetKey | null = null;
  if (config.jwksUrl) {
    // A token with a kid the cached set lacks fetches it again (once the cooldown since the last fetch is over).
    keySet = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: config.jwksCooldownMs });
  } else if (config.publicKey) {
    // One key for every accepted algorithm: jose refuses a token whose algorithm does not fit the key's type.
    const key = createPublicKey(config.publicKey);
    keySet = async () => key;
  }
  const options = {
    issuer: config.issuer,
    requiredClaims: ['exp', 'sub'],
    ...(config.audience ? { audience: config.audience } : {}),
  };
  // A token verified once stays valid until its exp: remembering it spares the signature check on every request.
  const verified = new Map<string, { actor: Actor; expiresAt: number }>();
  const remember = (token: string, actor: Actor, exp: number | undefined) => {
    if (verified.size >= VERIFIED_CAPACITY) {
      verified.clear();
    }
    verified.set(token, { actor, expiresAt: (exp ?? 0) * 1000 });
    return actor;
  };
  return {
    async verify(token: string): Promise<Actor> {
      const known = verified.get(token);
      if (known) {
        if (known.expiresAt > Date.now()) {
          return known.actor;
        }
        verified.delete(token);
      }
      try {
        const [headerPart] = token.split('.');
        const header = JSON.parse(Buffer.from(headerPart ?? '', 'base64url').toString('utf8')) as {
          alg?: unknown;
        };
        const alg = typeof header.alg === 'string' ? header.alg : '';
        if (alg.startsWith('HS') && symmetric) {
          const { payload } = await jwtVerify(token, symmetric, { ...options, algorithms: hmacAlgs });
          return remember(token, actorFrom(payload), payload.exp);
        }
        if (keySet && asymmetricAlgs.includes(alg)) {
          const { payload } = await jwtVerify(token, keySet, { ...options, algorithms: asymmetricAlgs });
          return remember(token, actorFrom(payload), payload.exp);
        }
        throw new joseErrors.JOSEAlgNotAllowed(`alg ${alg || 'none'} is not accepted`);
      } catch (error) {
        if (error instanceof Error && error.name === 'AppError') {
          throw error;
        }
        throw unauthorized(explain(error));
      }
    },
  };
}
