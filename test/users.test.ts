import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createTestApp, TEST_ISSUER, TEST_SECRET, type Client, type TestApp } from './support/app.ts';
import type { Page, UserView } from './support/api.ts';
import { assertError } from './support/assertions.ts';

/** A token with arbitrary claims (e.g. `preferred_username`), signed like the real ones. */
async function tokenWithClaims(sub: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(TEST_ISSUER)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_SECRET));
}

describe('users', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
  });

  /** An admin of a tenant of its own, so directory listings only show what the test created. */
  async function freshTenant(name: string): Promise<Client> {
    return t.login(`${name}-admin`, { tenant: name, admin: true, username: `${name}-admin` });
  }

  describe('GET /v1/me', () => {
    it('returns the caller profile with every field of the contract', async () => {
      const me = await t.as('me-get', { username: 'meget', name: 'Me Get' });
      const res = await me.get('/v1/me');
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), [
        'createdAt',
        'deletedAt',
        'displayName',
        'id',
        'status',
        'statusText',
        'username',
      ]);
      assert.equal(res.body.id, 'me-get');
      assert.equal(res.body.username, 'meget');
      assert.equal(res.body.displayName, 'Me Get');
      assert.equal(res.body.status, 'offline');
      assert.equal(res.body.statusText, null);
      assert.equal(new Date(res.body.createdAt).toISOString(), res.body.createdAt);
      assert.equal(res.body.deletedAt, null);
    });
  });

  describe('PATCH /v1/me', () => {
    it('updates displayName, status and statusText, and the change persists', async () => {
      const me = await t.login('me-patch');
      const res = await me.patch('/v1/me', {
        displayName: 'Patched',
        status: 'busy',
        statusText: 'in a meeting',
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.displayName, 'Patched');
      assert.equal(res.body.status, 'busy');
      assert.equal(res.body.statusText, 'in a meeting');
      const again = await me.get('/v1/me');
      assert.equal(again.body.displayName, 'Patched');
      assert.equal(again.body.status, 'busy');
      assert.equal(again.body.statusText, 'in a meeting');
    });

    it('changes only the fields sent', async () => {
      const me = await t.login('me-partial');
      await me.patch('/v1/me', { displayName: 'Keep', statusText: 'keep too' });
      const res = await me.patch('/v1/me', { status: 'online' });
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'online');
      assert.equal(res.body.displayName, 'Keep');
      assert.equal(res.body.statusText, 'keep too');
    });

    it('clears displayName and statusText with null', async () => {
      const me = await t.login('me-null');
      await me.patch('/v1/me', { displayName: 'Shown', statusText: 'here' });
      const res = await me.patch('/v1/me', { displayName: null, statusText: null });
      assert.equal(res.status, 200);
      assert.equal(res.body.displayName, null);
      assert.equal(res.body.statusText, null);
    });

    it('accepts every status of the enum', async () => {
      const me = await t.login('me-statuses');
      for (const status of ['online', 'busy', 'offline']) {
        const res = await me.patch('/v1/me', { status });
        assert.equal(res.status, 200);
        assert.equal(res.body.status, status);
      }
    });

    it('refuses a status outside the enum, naming status', async () => {
      const me = await t.login('me-badstatus');
      assertError(await me.patch('/v1/me', { status: 'away' }), 400, 'invalid_request', 'status');
      assert.equal((await me.get('/v1/me')).body.status, 'offline');
    });

    it('needs at least one field', async () => {
      const me = await t.login('me-empty');
      assertError(await me.patch('/v1/me', {}), 400, 'invalid_request');
    });

    it('refuses an empty displayName and a statusText over 200 characters', async () => {
      const me = await t.login('me-limits');
      assertError(await me.patch('/v1/me', { displayName: '' }), 400, 'invalid_request', 'displayName');
      assertError(
        await me.patch('/v1/me', { statusText: 'x'.repeat(201) }),
        400,
        'invalid_request',
        'statusText',
      );
      const ok = await me.patch('/v1/me', { statusText: 'x'.repeat(200) });
      assert.equal(ok.status, 200);
    });

    it('refuses fields that are not part of the profile, naming them', async () => {
      const me = await t.login('me-extra');
      const res = await me.patch('/v1/me', { username: 'renamed' });
      assert.match(assertError(res, 400, 'invalid_request', 'username').message, /not a known field/);
      assert.equal((await me.get('/v1/me')).body.username, 'me-extra');
    });

    it('refuses a wrongly typed value (not coerced)', async () => {
      const me = await t.login('me-type');
      assertError(await me.patch('/v1/me', { displayName: 42 }), 400, 'invalid_request', 'displayName');
    });
  });

  describe('just-in-time provisioning', () => {
    it('creates the user on its first request from the username and name claims', async () => {
      const client = await t.as('jit-claims', { username: 'Jit.Claims', name: 'Jit Claims' });
      const res = await client.get('/v1/me');
      assert.equal(res.status, 200);
      assert.equal(res.body.id, 'jit-claims');
      assert.equal(res.body.username, 'Jit.Claims');
      assert.equal(res.body.displayName, 'Jit Claims');
    });

    it('uses preferred_username when there is no username claim', async () => {
      const token = await tokenWithClaims('jit-preferred', { preferred_username: 'preferred.one' });
      const res = await t.request('GET', '/v1/me', undefined, { authorization: `Bearer ${token}` });
      assert.equal(res.status, 200);
      assert.equal(res.body.username, 'preferred.one');
      assert.equal(res.body.displayName, 'preferred.one');
    });

    it('prefers username over preferred_username', async () => {
      const token = await tokenWithClaims('jit-both', {
        username: 'from-username',
        preferred_username: 'from-pref',
      });
      const res = await t.request('GET', '/v1/me', undefined, { authorization: `Bearer ${token}` });
      assert.equal(res.body.username, 'from-username');
    });

    it('falls back to sub for the username, and the username for the displayName', async () => {
      const res = await (await t.as('jit-bare')).get('/v1/me');
      assert.equal(res.status, 200);
      assert.equal(res.body.username, 'jit-bare');
      assert.equal(res.body.displayName, 'jit-bare');
    });

    it('the user is visible to others in the directory after its first request', async () => {
      const other = await t.login('jit-observer');
      assert.equal((await other.get('/v1/users/jit-late')).status, 404);
      await t.login('jit-late');
      const res = await other.get('/v1/users/jit-late');
      assert.equal(res.status, 200);
      assert.equal(res.body.id, 'jit-late');
    });

    it('does not overwrite an existing user with later claims', async () => {
      const first = await t.as('jit-stable', { username: 'stable-name', name: 'Stable' });
      assert.equal((await first.get('/v1/me')).status, 200);
      const later = await t.as('jit-stable', { username: 'changed-name', name: 'Changed' });
      const res = await later.get('/v1/me');
      assert.equal(res.body.username, 'stable-name');
      assert.equal(res.body.displayName, 'Stable');
    });

    it('a username claim taken by someone else falls back to the sub', async () => {
      await t.login('jit-owner-1', { username: 'taken-name' });
      const res = await (await t.as('jit-second-1', { username: 'TAKEN-name' })).get('/v1/me');
      assert.equal(res.status, 200);
      assert.equal(res.body.username, 'jit-second-1');
    });

    it('when both the claim and the sub are taken, the username gets a hash suffix', async () => {
      await t.login('jit-owner-2', { username: 'collide' });
      await t.login('jit-owner-3', { username: 'jit-second-2' });
      const res = await (await t.as('jit-second-2', { username: 'Collide' })).get('/v1/me');
      assert.equal(res.status, 200);
      assert.match(res.body.username, /^Collide-[0-9a-f]{10}$/);
      // The directory finds each of them under its own name.
      const viewer = await t.login('jit-viewer');
      const owner = await viewer.get('/v1/users?username=collide');
      assert.deepEqual(
        owner.body.data.map((u) => u.id),
        ['jit-owner-2'],
      );
      const suffixed = await viewer.get(`/v1/users?username=${encodeURIComponent(res.body.username)}`);
      assert.deepEqual(
        suffixed.body.data.map((u) => u.id),
        ['jit-second-2'],
      );
    });

    it('a sub that is not a valid username still gets a valid username', async () => {
      const res = await (await t.as('auth0|not a username')).get('/v1/me');
      assert.equal(res.status, 200);
      assert.equal(res.body.id, 'auth0|not a username');
      assert.match(res.body.username, /^[\p{L}\p{N}._@+-]{1,64}$/u);
    });

    it('the same sub in two tenants is two separate users', async () => {
      const inDefault = await t.login('twin', { username: 'twin', name: 'Default Twin' });
      const inOther = await t.login('twin', { tenant: 'twin-tenant', username: 'twin', name: 'Other Twin' });
      const patched = await inDefault.patch('/v1/me', { displayName: 'Changed in default', status: 'busy' });
      assert.equal(patched.status, 200);
      const other = await inOther.get('/v1/me');
      assert.equal(other.status, 200);
      assert.equal(other.body.id, 'twin');
      assert.equal(other.body.username, 'twin');
      assert.equal(other.body.displayName, 'Other Twin');
      assert.equal(other.body.status, 'offline');
      // The other tenant's directory holds only its own users.
      const dir = await inOther.get('/v1/users');
      assert.deepEqual(
        dir.body.data.map((u) => u.displayName),
        ['Other Twin'],
      );
    });
  });

  describe('POST /v1/users', () => {
    it('is for tenant admins only', async () => {
      const plain = await t.login('create-plain');
      const res = await plain.post('/v1/users', { username: 'by-plain' });
      assertError(res, 403, 'forbidden');
      const viewer = await t.login('create-plain-viewer');
      assert.deepEqual((await viewer.get('/v1/users?username=by-plain')).body.data, []);
    });

    it('creates a user with the given id, username and displayName → 201', async () => {
      const admin = await t.login('create-admin-1', { admin: true });
      const res = await admin.post('/v1/users', {
        id: 'made-1',
        username: 'Made.One',
        displayName: 'Made One',
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.id, 'made-1');
      assert.equal(res.body.username, 'Made.One');
      assert.equal(res.body.displayName, 'Made One');
      assert.equal(res.body.status, 'offline');
      assert.equal(res.body.statusText, null);
      const fetched = await admin.get('/v1/users/made-1');
      assert.equal(fetched.status, 200);
      assert.deepEqual(fetched.body, res.body);
    });

    it('generates an id when none is given; displayName defaults to null', async () => {
      const admin = await t.login('create-admin-2', { admin: true });
      const res = await admin.post('/v1/users', { username: 'no-id-given' });
      assert.equal(res.status, 201);
      assert.equal(typeof res.body.id, 'string');
      assert.ok(res.body.id.length > 0);
      assert.equal(res.body.displayName, null);
      assert.equal((await admin.get(`/v1/users/${encodeURIComponent(res.body.id)}`)).status, 200);
    });

    it('the created user keeps its profile when it signs in later', async () => {
      const admin = await t.login('create-admin-3', { admin: true });
      assert.equal((await admin.post('/v1/users', { id: 'premade', username: 'premade-name' })).status, 201);
      const me = await (await t.as('premade', { username: 'claim-name', name: 'Claim' })).get('/v1/me');
      assert.equal(me.status, 200);
      assert.equal(me.body.username, 'premade-name');
    });

    it('409 on a taken username, case-insensitively', async () => {
      const admin = await t.login('create-admin-4', { admin: true });
      assert.equal((await admin.post('/v1/users', { username: 'Carol' })).status, 201);
      const res = await admin.post('/v1/users', { username: 'cAROL' });
      assertError(res, 409, 'conflict', 'username');
      // A JIT user's username counts too.
      await t.login('create-jit-owner', { username: 'jit-owned' });
      assertError(await admin.post('/v1/users', { username: 'JIT-OWNED' }), 409, 'conflict', 'username');
    });

    it('409 on a taken id', async () => {
      const admin = await t.login('create-admin-5', { admin: true });
      await t.login('taken-id');
      const res = await admin.post('/v1/users', { id: 'taken-id', username: 'fresh-name-for-taken-id' });
      assertError(res, 409, 'conflict', 'id');
      const viewer = await admin.get('/v1/users?username=fresh-name-for-taken-id');
      assert.deepEqual(viewer.body.data, []);
    });

    it('a username or id taken in another tenant is free in this one', async () => {
      const adminA = await t.login('create-admin-6', { admin: true });
      const adminB = await t.login('create-admin-6', { admin: true, tenant: 'create-tenant-b' });
      assert.equal(
        (await adminA.post('/v1/users', { id: 'shared-id', username: 'shared-username' })).status,
        201,
      );
      assert.equal(
        (await adminB.post('/v1/users', { id: 'shared-id', username: 'shared-username' })).status,
        201,
      );
    });

    it('400 naming username when it breaks the pattern or the length', async () => {
      const admin = await t.login('create-admin-7', { admin: true });
      for (const username of ['has space', 'semi;colon', 'per%cent', 'slash/name', '', 'x'.repeat(65)]) {
        const res = await admin.post('/v1/users', { username });
        assertError(res, 400, 'invalid_request', 'username');
      }
      for (const username of ['ok.name_1+tag@x-y', 'Ünïcödé', 'x'.repeat(64)]) {
        assert.equal((await admin.post('/v1/users', { username })).status, 201, username);
      }
    });

    it('400 naming the field for a missing username, an unknown field, or a bad id', async () => {
      const admin = await t.login('create-admin-8', { admin: true });
      assertError(
        await admin.post('/v1/users', { displayName: 'No Name' }),
        400,
        'invalid_request',
        'username',
      );
      const extra = await admin.post('/v1/users', { username: 'extra-field', role: 'admin' });
      assertError(extra, 400, 'invalid_request', 'role');
      assertError(
        await admin.post('/v1/users', { id: '', username: 'empty-id' }),
        400,
        'invalid_request',
        'id',
      );
      const longId = await admin.post('/v1/users', { id: 'i'.repeat(129), username: 'long-id' });
      assertError(longId, 400, 'invalid_request', 'id');
    });
  });

  describe('GET /v1/users', () => {
    async function seed(admin: Client, users: { id: string; username: string; displayName?: string }[]) {
      for (const user of users) {
        const res = await admin.post('/v1/users', user);
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
    }

    it('lists the tenant directory as a page', async () => {
      const admin = await freshTenant('dir-list');
      await seed(admin, [
        { id: 'l1', username: 'list-one' },
        { id: 'l2', username: 'list-two' },
      ]);
      const res = await admin.get('/v1/users');
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ['data', 'nextCursor']);
      assert.equal(res.body.nextCursor, null);
      assert.deepEqual(
        res.body.data.map((u) => u.username),
        ['dir-list-admin', 'list-one', 'list-two'],
      );
    });

    it('username= is an exact, case-insensitive match', async () => {
      const admin = await freshTenant('dir-username');
      await seed(admin, [
        { id: 'u1', username: 'Dora' },
        { id: 'u2', username: 'dora2' },
        { id: 'u3', username: 'adora' },
      ]);
      const res = await admin.get('/v1/users?username=DORA');
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.data.map((u) => u.id),
        ['u1'],
      );
      assert.deepEqual((await admin.get('/v1/users?username=dor')).body.data, []);
    });

    it('q= matches a substring of username or displayName, case-insensitively, or an exact id', async () => {
      const admin = await freshTenant('dir-q');
      await seed(admin, [
        { id: 'q1', username: 'harold', displayName: 'H. Smith' },
        { id: 'q2', username: 'zed', displayName: 'Arnold Harper' },
        { id: 'q3', username: 'other', displayName: 'Nobody' },
        { id: 'id-only-match', username: 'quiet', displayName: 'Quiet' },
      ]);
      const byName = await admin.get('/v1/users?q=HAR');
      assert.equal(byName.status, 200);
      assert.deepEqual(byName.body.data.map((u) => u.id).sort(), ['q1', 'q2']);
      const byId = await admin.get('/v1/users?q=id-only-match');
      assert.deepEqual(
        byId.body.data.map((u) => u.id),
        ['id-only-match'],
      );
      // An id is matched exactly, not as a substring.
      assert.deepEqual((await admin.get('/v1/users?q=only-mat')).body.data, []);
      const combined = await admin.get('/v1/users?q=ar&username=zed');
      assert.deepEqual(
        combined.body.data.map((u) => u.id),
        ['q2'],
      );
    });

    it('LIKE wildcards in q match literally', async () => {
      const admin = await freshTenant('dir-like');
      await seed(admin, [
        { id: 'w1', username: 'a_b', displayName: 'Under Score' },
        { id: 'w2', username: 'axb', displayName: '100% sure' },
        { id: 'w3', username: 'abb', displayName: 'back\\slash' },
        { id: 'w4', username: 'plain', displayName: 'Plain' },
      ]);
      const ids = async (q: string) =>
        (await admin.get(`/v1/users?q=${encodeURIComponent(q)}`)).body.data.map((u) => u.id).sort();
      assert.deepEqual(await ids('%'), ['w2']);
      assert.deepEqual(await ids('a_b'), ['w1']);
      assert.deepEqual(await ids('_'), ['w1']);
      assert.deepEqual(await ids('\\'), ['w3']);
      assert.deepEqual(await ids('0% s'), ['w2']);
    });

    it('limit + cursor visit every user exactly once, in lower(username), id order', async () => {
      const admin = await freshTenant('dir-page');
      await seed(admin, [
        { id: 'p-g', username: 'Golf' },
        { id: 'p-a', username: 'alpha' },
        { id: 'p-e', username: 'Echo' },
        { id: 'p-c', username: 'charlie' },
        { id: 'p-b', username: 'Bravo' },
        { id: 'p-f', username: 'foxtrot' },
        { id: 'p-h', username: 'hotel' },
      ]);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/users?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await admin.get<Page<UserView>>(url);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.ok(res.body.data.length <= 3);
        seen.push(...res.body.data.map((u) => u.username));
        cursor = res.body.nextCursor;
        pages++;
        assert.ok(pages < 10, 'pagination does not terminate');
      } while (cursor !== null);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [
        'alpha',
        'Bravo',
        'charlie',
        'dir-page-admin',
        'Echo',
        'foxtrot',
        'Golf',
        'hotel',
      ]);
    });

    it('a page that ends exactly at the last user has nextCursor null', async () => {
      const admin = await freshTenant('dir-exact');
      await seed(admin, [{ id: 'e1', username: 'exact-one' }]);
      const res = await admin.get('/v1/users?limit=2');
      assert.equal(res.body.data.length, 2);
      assert.equal(res.body.nextCursor, null);
    });

    it('pagination works together with q', async () => {
      const admin = await freshTenant('dir-pageq');
      await seed(admin, [
        { id: 'm1', username: 'match-1' },
        { id: 'm2', username: 'match-2' },
        { id: 'm3', username: 'match-3' },
        { id: 'n1', username: 'nope' },
      ]);
      const first = await admin.get('/v1/users?q=match&limit=2');
      assert.deepEqual(
        first.body.data.map((u) => u.id),
        ['m1', 'm2'],
      );
      assert.ok(first.body.nextCursor);
      const second = await admin.get(
        `/v1/users?q=match&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      );
      assert.deepEqual(
        second.body.data.map((u) => u.id),
        ['m3'],
      );
      assert.equal(second.body.nextCursor, null);
    });

    it('400 for a cursor the API did not return', async () => {
      const admin = await freshTenant('dir-badcursor');
      const wrongShape = Buffer.from(JSON.stringify([1, 2])).toString('base64url');
      for (const cursor of ['garbage', wrongShape, Buffer.from('{"a":1}').toString('base64url')]) {
        const res = await admin.get(`/v1/users?cursor=${encodeURIComponent(cursor)}`);
        assertError(res, 400, 'invalid_request', 'cursor');
      }
    });

    it('400 naming limit when out of 1..200 or not a number; unknown query parameters refused', async () => {
      const admin = await freshTenant('dir-badlimit');
      for (const limit of ['0', '201', 'abc', '1.5']) {
        assertError(await admin.get(`/v1/users?limit=${limit}`), 400, 'invalid_request', 'limit');
      }
      assert.equal((await admin.get('/v1/users?limit=200')).status, 200);
      assertError(await admin.get('/v1/users?sort=username'), 400, 'invalid_request', 'sort');
    });

    it('never shows users of another tenant', async () => {
      const adminA = await freshTenant('dir-wall-a');
      const adminB = await freshTenant('dir-wall-b');
      await seed(adminB, [{ id: 'hidden', username: 'hidden-user' }]);
      assert.deepEqual((await adminA.get('/v1/users?username=hidden-user')).body.data, []);
      assert.deepEqual((await adminA.get('/v1/users?q=hidden')).body.data, []);
      assert.ok(
        (await adminA.get('/v1/users')).body.data.every((u) => u.id !== 'hidden'),
        'tenant B user listed in tenant A',
      );
    });
  });

  describe('GET /v1/users/{id}', () => {
    it('returns a user of the tenant', async () => {
      const viewer = await t.login('get-viewer');
      await t.login('get-target', { username: 'get-target', name: 'Target' });
      const res = await viewer.get('/v1/users/get-target');
      assert.equal(res.status, 200);
      assert.equal(res.body.id, 'get-target');
      assert.equal(res.body.displayName, 'Target');
    });

    it('404 for an unknown id', async () => {
      const viewer = await t.login('get-viewer-2');
      assertError(await viewer.get('/v1/users/nobody-has-this-id'), 404, 'not_found');
    });

    it("404 for another tenant's user, exactly like a missing one", async () => {
      const viewer = await t.login('get-viewer-3');
      await t.login('get-foreign', { tenant: 'get-other-tenant' });
      const foreign = await viewer.get('/v1/users/get-foreign');
      const hidden = assertError(foreign, 404, 'not_found');
      const missing = assertError(await viewer.get('/v1/users/get-missing'), 404, 'not_found');
      assert.deepEqual(Object.keys(hidden).sort(), Object.keys(missing).sort());
    });

    it('finds a user whose id is 128 characters long', async () => {
      const longId = 'L'.repeat(128);
      await t.login(longId);
      const viewer = await t.login('get-viewer-5');
      const res = await viewer.get(`/v1/users/${longId}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.id, longId);
    });

    it('400 naming id for an id over 128 characters', async () => {
      const viewer = await t.login('get-viewer-4');
      assertError(await viewer.get(`/v1/users/${'i'.repeat(129)}`), 400, 'invalid_request', 'id');
    });
  });
});
