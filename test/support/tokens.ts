import { SignJWT, type JWTPayload } from 'jose';
import { TEST_ISSUER, TEST_SECRET } from './app.ts';

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens that must never get past authentication, each wrong in exactly one way, for `sub`. */
export async function refusedTokens(sub: string, claims: JWTPayload = {}): Promise<Record<string, string>> {
  const sign = (options: { key?: string; iss?: string; exp?: number }) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(options.iss ?? TEST_ISSUER)
      .setIssuedAt()
      .setExpirationTime(options.exp ?? now() + 3600)
      .sign(new TextEncoder().encode(options.key ?? TEST_SECRET));
  return {
    badSignature: await sign({ key: 'another-secret-that-is-long-enough-for-hs256-9876543210' }),
    expired: await sign({ exp: now() - 60 }),
    wrongIssuer: await sign({ iss: 'someone-else' }),
    algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, sub, iss: TEST_ISSUER, exp: now() + 3600 })}.`,
  };
}
