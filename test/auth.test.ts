import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { createTestApp, TEST_ISSUER, TEST_SECRET, type Response, type TestApp } from './support/app.ts';
import { assertError } from './support/assertions.ts';
import { createGroup } from './support/factories.ts';

const secret = new TextEncoder().encode(TEST_SECRET);

interface Craft {
  sub?: string | null;
  iss?: string | null;
  /** Seconds since the epoch; null leaves exp out. */
  exp?: number | null;
  alg?: string;
  key?: Uint8Array;
  claims?: JWTPayload;
}

const now = () => Math.floor(Date.now() / 1000);

/** A token built claim by claim, so each test can get exactly one thing wrong. */
async function craft(options: Craft = {}): Promise<string> {
  const jwt = new SignJWT({ ...options.claims }).setProtectedHeader({
    alg: options.alg ?? 'HS256',
    typ: 'JWT',
  });
  const sub = options.sub === undefined ? 'auth-user' : options.sub;
  if (sub !== null) {
    jwt.setSubject(sub);
  }
  const iss = options.iss === undefined ? TEST_ISSUER : options.iss;
  if (iss !== null) {
    jwt.setIssuer(iss);
  }
  const exp = options.exp === undefined ? now() + 3600 : options.exp;
  if (exp !== null) {
    jwt.setExpirationTime(exp);
  }
  jwt.setIssuedAt();
  return jwt.sign(options.key ?? secret);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `alg: none`: header and payload, no signature. */
function unsignedToken(payload: JWTPayload): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

describe('auth', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  const withAuth = (authorization: string) => ({ authorization });

  /** Tries the token on two protected routes; both must refuse it with a bare 401. */
  async function assertRefused(authorization: string | null, sub?: string): Promise<void> {
    const headers = authorization === null ? {} : withAuth(authorization);
    const responses: [string, Response][] = [
      ['GET /v1/me', await t.request('GET', '/v1/me', undefined, headers)],
      [
        'POST /v1/chats',
        await t.request('POST', '/v1/chats', { kind: 'group', name: `refused-${sub}` }, headers),
      ],
      ['GET /v1/chats', await t.request('GET', '/v1/chats', undefined, headers)],
    ];
    for (const [route, res] of responses) {
      const error = assertError(res, 401, 'unauthorized');
      for (const leak of ['username', 'displayName', 'data', 'id', 'createdAt']) {
        assert.ok(!(leak in (res.body as object)) && !(leak in error), `${route} leaks ${leak}`);
      }
    }
    if (sub !== undefined) {
      // A refused token provisions nobody.
      const admin = await t.login('auth-admin', { admin: true });
      assert.equal(
        (await admin.get(`/v1/users/${encodeURIComponent(sub)}`)).status,
        404,
        `${sub} was provisioned`,
      );
    }
  }

  it('a valid token is accepted (the baseline the other cases break)', async () => {
    const token = await craft({ sub: 'auth-valid' });
    const me = await t.request('GET', '/v1/me', undefined, withAuth(`Bearer ${token}`));
    assert.equal(me.status, 200);
    assert.equal(me.body.id, 'auth-valid');
    const chat = await t.request(
      'POST',
      '/v1/chats',
      { kind: 'group', name: 'auth-valid-chat' },
      withAuth(`Bearer ${token}`),
    );
    assert.equal(chat.status, 201);
  });

  it('the Bearer scheme is case-insensitive', async () => {
    const token = await craft({ sub: 'auth-lower' });
    const res = await t.request('GET', '/v1/me', undefined, withAuth(`bearer ${token}`));
    assert.equal(res.status, 200);
  });

  it('401 without a token', async () => {
    await assertRefused(null);
  });

  it('401 for a malformed Authorization header', async () => {
    const token = await craft({ sub: 'auth-malformed' });
    for (const header of [
      `Basic ${Buffer.from('user:pass').toString('base64')}`,
      'Bearer',
      'Bearer ',
      `Bearer ${token} extra`,
      `Token ${token}`,
      token,
      '',
    ]) {
      await assertRefused(header);
    }
    await assertRefused('Bearer not.a.jwt');
    await assertRefused('Bearer %%%');
  });

  it('401 for a bad signature', async () => {
    const sub = 'auth-badsig';
    await assertRefused(
      `Bearer ${await craft({ sub, key: new TextEncoder().encode('another-secret-that-is-long-enough-0123456789') })}`,
      sub,
    );
    // A valid token with its payload swapped for another user's keeps the old signature.
    const [header, , signature] = (await craft({ sub: 'auth-someone' })).split('.');
    const forged = `${header}.${b64({ sub, iss: TEST_ISSUER, exp: now() + 3600 })}.${signature}`;
    await assertRefused(`Bearer ${forged}`, sub);
  });

  it('401 for a wrong or missing issuer', async () => {
    await assertRefused(
      `Bearer ${await craft({ sub: 'auth-wrongiss', iss: 'someone-else' })}`,
      'auth-wrongiss',
    );
    await assertRefused(`Bearer ${await craft({ sub: 'auth-noiss', iss: null })}`, 'auth-noiss');
  });

  it('401 for an expired token', async () => {
    await assertRefused(`Bearer ${await craft({ sub: 'auth-expired', exp: now() - 60 })}`, 'auth-expired');
  });

  it('401 for a token without exp', async () => {
    await assertRefused(`Bearer ${await craft({ sub: 'auth-noexp', exp: null })}`, 'auth-noexp');
  });

  it('401 for a token with nbf in the future', async () => {
    const sub = 'auth-nbf';
    await assertRefused(`Bearer ${await craft({ sub, claims: { nbf: now() + 3600 } })}`, sub);
  });

  it('401 for alg none', async () => {
    const sub = 'auth-none';
    const token = unsignedToken({ sub, iss: TEST_ISSUER, exp: now() + 3600 });
    await assertRefused(`Bearer ${token}`, sub);
    // Also with a signature part that is not empty.
    await assertRefused(`Bearer ${token}c2ln`, sub);
  });

  it('401 for HS512 (and HS384) when only HS256 is configured', async () => {
    assert.deepEqual(t.config.jwt.algorithms, ['HS256']);
    await assertRefused(`Bearer ${await craft({ sub: 'auth-hs512', alg: 'HS512' })}`, 'auth-hs512');
    await assertRefused(`Bearer ${await craft({ sub: 'auth-hs384', alg: 'HS384' })}`, 'auth-hs384');
  });

  it('401 for an RS256 token when no public key is configured', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('auth-rs256')
      .setIssuer(TEST_ISSUER)
      .setExpirationTime('1h')
      .sign(privateKey);
    await assertRefused(`Bearer ${token}`, 'auth-rs256');
  });

  it('401 for a sub over 128 characters, missing or not a string; 128 is fine', async () => {
    await assertRefused(`Bearer ${await craft({ sub: 's'.repeat(129) })}`);
    await assertRefused(`Bearer ${await craft({ sub: null })}`);
    await assertRefused(`Bearer ${await craft({ sub: null, claims: { sub: 42 as unknown as string } })}`);
    const ok = await t.request(
      'GET',
      '/v1/me',
      undefined,
      withAuth(`Bearer ${await craft({ sub: 's'.repeat(128) })}`),
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.body.id, 's'.repeat(128));
  });

  it('401 for a malformed tid', async () => {
    await assertRefused(`Bearer ${await craft({ sub: 'auth-badtid', claims: { tid: 'has space' } })}`);
    await assertRefused(`Bearer ${await craft({ sub: 'auth-badtid', claims: { tid: 7 } })}`);
  });

  it('the 401 for a bad signature looks like the one for no token (no user data)', async () => {
    const user = await t.login('auth-existing', { username: 'auth-existing', name: 'Existing Person' });
    const bad = `Bearer ${await craft({ sub: user.userId, key: new TextEncoder().encode('x'.repeat(40)) })}`;
    const res = await t.request('GET', '/v1/me', undefined, withAuth(bad));
    assert.equal(res.status, 401);
    const text = JSON.stringify(res.body);
    assert.ok(!text.includes('Existing Person'), text);
    assert.ok(!text.includes('auth-existing'), text);
  });

  describe('roles', () => {
    it('roles containing admin make a tenant admin; other roles do not', async () => {
      const admin = await t.request(
        'POST',
        '/v1/users',
        { username: 'role-made' },
        {
          authorization: `Bearer ${await craft({ sub: 'role-admin', claims: { roles: ['reader', 'admin'] } })}`,
        },
      );
      assert.equal(admin.status, 201);
      const notAdmin = await t.request(
        'POST',
        '/v1/users',
        { username: 'role-refused' },
        {
          authorization: `Bearer ${await craft({ sub: 'role-plain', claims: { roles: ['administrator'] } })}`,
        },
      );
      assertError(notAdmin, 403, 'forbidden');
      const stringRole = await t.request(
        'POST',
        '/v1/users',
        { username: 'role-string' },
        {
          authorization: `Bearer ${await craft({ sub: 'role-str', claims: { roles: 'admin' } })}`,
        },
      );
      assert.equal(stringRole.status, 403);
    });
  });

  describe('tenant isolation', () => {
    it('a chat made in tenant A is 404 for the same sub in tenant B', async () => {
      const inA = await t.login('tenant-sam');
      const inB = await t.login('tenant-sam', { tenant: 'tenant-b' });
      const chat = await createGroup(inA, [], { name: 'tenant-a-chat' });
      assert.equal((await inA.get(`/v1/chats/${chat.id}`)).status, 200);

      const read = await inB.get(`/v1/chats/${chat.id}`);
      assertError(read, 404, 'not_found');
      const missing = await inB.get('/v1/chats/no-such-chat');
      assert.equal(missing.status, 404);

      const post = await inB.post(`/v1/chats/${chat.id}/messages`, { text: 'across the wall' });
      assertError(post, 404, 'not_found');
      assert.equal((await inB.get(`/v1/chats/${chat.id}/messages`)).status, 404);
      assert.equal((await inB.get(`/v1/chats/${chat.id}/members`)).status, 404);
      assert.deepEqual((await inB.get('/v1/chats')).body.data, []);

      // Nothing leaked into tenant A either.
      assert.equal((await inA.get(`/v1/chats/${chat.id}`)).body.messageCount, 0);
    });

    it('a tenant admin in B cannot see or change chats of A', async () => {
      const owner = await t.login('tenant-owner');
      const adminB = await t.login('tenant-owner', { tenant: 'tenant-c', admin: true });
      const chat = await createGroup(owner, [], { name: 'tenant-admin-proof', visibility: 'public' });
      assert.equal((await adminB.get(`/v1/chats/${chat.id}`)).status, 404);
      assert.equal((await adminB.patch(`/v1/chats/${chat.id}`, { name: 'hijacked' })).status, 404);
      assert.equal((await adminB.delete(`/v1/chats/${chat.id}`)).status, 404);
      const join = await adminB.post(`/v1/chats/${chat.id}/members`, { userId: 'tenant-owner' });
      assert.equal(join.status, 404);
      const after = await owner.get(`/v1/chats/${chat.id}`);
      assert.equal(after.status, 200);
      assert.equal(after.body.name, 'tenant-admin-proof');
      assert.equal(after.body.memberCount, 1);
    });

    it('tokens without tid act in the default tenant', async () => {
      const implicit = await t.login('tenant-implicit');
      const explicit = await t.as('tenant-implicit', { tenant: 'default' });
      await implicit.patch('/v1/me', { statusText: 'same user' });
      const me = await explicit.get('/v1/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.statusText, 'same user');
    });
  });
});
