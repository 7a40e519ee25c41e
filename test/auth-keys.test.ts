import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createTokenVerifier } from '../src/auth/jwt.ts';
import { createTestApp, TEST_ISSUER, testConfig, type Response, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { sleep } from './support/load.ts';

/**
 * Asymmetric tokens: ES256 with a PEM public key, and a JWKS endpoint (one this test serves on loopback) whose keys
 * rotate while Parley runs: a key rotated in is found without a restart, a key rotated out is refused.
 */

interface KeyPair {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

async function keyPair(kid: string, alg: 'RS256' | 'ES256'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey };
}

async function publicJwk(key: KeyPair): Promise<JWK> {
  return { ...(await exportJWK(key.publicKey)), kid: key.kid, alg: key.alg, use: 'sig' };
}

/** A token signed with `key`, carrying its kid (or `kid` instead). */
function sign(key: KeyPair, sub: string, kid: string | null = key.kid): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(kid === null ? {} : { kid }) })
    .setSubject(sub)
    .setIssuer(TEST_ISSUER)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key.privateKey);
}

/** A JWKS endpoint on a free loopback port that serves whatever keys the test sets, and counts its fetches. */
class JwksEndpoint {
  keys: JWK[] = [];
  fetches = 0;
  private readonly server: Server = createServer((request, response) => {
    this.fetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: this.keys }));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function me(t: TestApp, token: string) {
  return t.request('GET', '/v1/me', undefined, { authorization: `Bearer ${token}` });
}

function assertUnauthorized(res: Response, what: string): void {
  assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
  assertError(res, 401, 'unauthorized');
}

/** Long enough that a token right after a fetch finds the cooldown running, short enough to wait out. */
const COOLDOWN_MS = 1500;

describe('JWKS key rotation (an endpoint the test serves)', () => {
  const jwks = new JwksEndpoint();
  let t: TestApp;
  let a: KeyPair;
  let b: KeyPair;
  let c: KeyPair;

  before(async () => {
    [a, b, c] = await Promise.all([keyPair('a', 'RS256'), keyPair('b', 'ES256'), keyPair('c', 'ES256')]);
    jwks.keys = [await publicJwk(a)];
    const url = await jwks.start();
    t = await createTestApp({
      JWT_JWKS_URL: url,
      JWT_ALGORITHMS: 'HS256,RS256,ES256',
      JWT_JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
    });
  });

  after(async () => {
    await t?.close();
    await jwks.stop();
  });

  it('rotates key b in and key a out without a restart; a kid it does not serve is 401', async () => {
    // Key a (RS256) is served: its tokens are accepted; the set is fetched once, then cached.
    assert.equal((await me(t, await sign(a, 'jwks-a1'))).status, 200);
    assert.equal((await me(t, await sign(a, 'jwks-a2'))).status, 200);
    assert.equal(jwks.fetches, 1, 'the set is fetched once and cached');
    const fetchedAt = Date.now();

    // Key b (ES256) is served beside a. A token with kid b right after a fetch waits for the cooldown: refused,
    // and the endpoint is not asked again (an unknown kid cannot make Parley hammer it).
    jwks.keys = [await publicJwk(a), await publicJwk(b)];
    const early = await me(t, await sign(b, 'jwks-b-early'));
    if (Date.now() - fetchedAt < COOLDOWN_MS) {
      assertUnauthorized(early, 'kid b within the cooldown');
      assert.equal(jwks.fetches, 1);
    }
    // Once the cooldown is over, the first token with kid b fetches the set again and is accepted; the next one
    // needs no fetch.
    await sleep(COOLDOWN_MS + 100);
    const rotatedIn = await me(t, await sign(b, 'jwks-b1'));
    assert.equal(rotatedIn.status, 200, JSON.stringify(rotatedIn.body));
    assert.equal(rotatedIn.body.id, 'jwks-b1');
    assert.equal(jwks.fetches, 2);
    assert.equal((await me(t, await sign(b, 'jwks-b2'))).status, 200);
    assert.equal((await me(t, await sign(a, 'jwks-a3'))).status, 200, 'a is still served');
    assert.equal(jwks.fetches, 2);

    // Key a is rotated out. The next unknown kid after the cooldown fetches the set again: from then on a token with
    // kid a is refused like one with a kid never served, with the standard 401 body.
    jwks.keys = [await publicJwk(b)];
    await sleep(COOLDOWN_MS + 100);
    assertUnauthorized(await me(t, await sign(c, 'jwks-c')), 'kid c, never served');
    assert.equal(jwks.fetches, 3);
    assertUnauthorized(await me(t, await sign(a, 'jwks-a4')), 'kid a, rotated out');
    assertUnauthorized(await me(t, await sign(c, 'jwks-c', 'b')), 'kid b, signed with another key');
    assert.equal((await me(t, await sign(b, 'jwks-b3'))).status, 200, 'b goes on');
    assert.equal(jwks.fetches, 3, 'refusals within the cooldown fetch nothing');
    // None of the refused tokens provisioned a user.
    const admin = await t.login('jwks-admin', { admin: true });
    for (const sub of ['jwks-b-early', 'jwks-c', 'jwks-a4']) {
      const seen = sub === 'jwks-b-early' && early.status === 200;
      assert.equal((await admin.get(`/v1/users/${sub}`)).status, seen ? 200 : 404, sub);
    }
  });
});

describe('ES256 tokens with JWT_PUBLIC_KEY', () => {
  const apps: TestApp[] = [];
  let ec: KeyPair;
  let rsa: KeyPair;
  let pem: string;

  before(async () => {
    [ec, rsa] = await Promise.all([keyPair('ec', 'ES256'), keyPair('rsa', 'RS256')]);
    pem = await exportSPKI(ec.publicKey);
  });

  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it('an EC P-256 key verifies ES256 by default; RS256 tokens and other keys are 401', async () => {
    const t = await createTestApp({ JWT_PUBLIC_KEY: pem });
    apps.push(t);
    assert.deepEqual(t.config.jwt.algorithms, ['HS256', 'ES256']);
    const accepted = await me(t, await sign(ec, 'es256-user', null));
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.id, 'es256-user');
    assertUnauthorized(await me(t, await sign(rsa, 'rs256-user', null)), 'RS256 with an EC key configured');
    const other = await keyPair('other', 'ES256');
    assertUnauthorized(await me(t, await sign(other, 'es256-other', null)), 'ES256 signed with another key');
    assert.equal((await me(t, await t.token('hs256-user'))).status, 200, 'HS256 with the secret goes on');
  });

  it('verifies with JWT_ALGORITHMS=RS256,ES256 and an EC key, whatever the order', async () => {
    for (const algorithms of ['RS256,ES256', 'ES256,RS256']) {
      // Before, the key was read for the first algorithm listed: RS256 first stopped the start.
      const verifier = await createTokenVerifier(
        testConfig({ JWT_PUBLIC_KEY: pem, JWT_ALGORITHMS: algorithms }).jwt,
      );
      assert.equal((await verifier.verify(await sign(ec, 'es256-order', null))).userId, 'es256-order');
      await assert.rejects(verifier.verify(await sign(rsa, 'rs256-order', null)), { code: 'unauthorized' });
    }
  });
});
