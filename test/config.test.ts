import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../src/env.ts';
import { loadConfig } from '../src/config.ts';

const SECRET = 'a-configured-secret-of-at-least-32-characters';

/** Asserts loadConfig(env) throws a ConfigError about `variable`, with the variable named in the message. */
/** A fresh public key of that type, as PEM (SPKI). */
function publicPem(type: 'rsa' | 'ec' | 'ed25519'): string {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

function assertConfigError(env: Record<string, string>, variable: string, pattern?: RegExp): void {
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.variable, variable);
      assert.ok(error.message.startsWith(`${variable}: `), error.message);
      if (pattern) {
        assert.match(error.message, pattern);
      }
      return true;
    },
  );
}

describe('loadConfig', () => {
  let dir: string;
  /** A minimal env that does not touch the working directory. */
  let base: Record<string, string>;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'parley-config-'));
    base = { PARLEY_DATA_DIR: dir, JWT_SECRET: SECRET };
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('defaults', () => {
    it('serves on 127.0.0.1:3000 with PGlite in <dataDir>/pglite', () => {
      const config = loadConfig(base);
      assert.equal(config.port, 3000);
      assert.equal(config.host, '127.0.0.1');
      assert.equal(config.nodeEnv, 'development');
      assert.equal(config.logLevel, 'info');
      assert.equal(config.dataDir, dir);
      assert.deepEqual(config.database, {
        kind: 'pglite',
        dataDir: path.join(dir, 'pglite'),
        preparedStatements: 500,
        durable: false,
      });
      assert.equal(config.migrate, true);
    });

    it('HS256 with issuer parley, no audience, the secret from the environment', () => {
      const config = loadConfig(base);
      assert.deepEqual(config.jwt, {
        secret: SECRET,
        publicKey: null,
        jwksUrl: null,
        jwksCooldownMs: 30_000,
        algorithms: ['HS256'],
        issuer: 'parley',
        audience: null,
      });
      assert.equal(config.jwtSecretSource, 'env');
    });

    it('limits: 1 MiB bodies, 10000-character messages, 10000 members per chat and chats per user', () => {
      assert.deepEqual(loadConfig(base).limits, {
        bodyBytes: 1024 * 1024,
        messageChars: 10_000,
        chatMembers: 10_000,
        chatsPerUser: 10_000,
        reactionsPerMessage: 50,
        pinsPerChat: 100,
        receiptsMaxMembers: 100,
      });
    });

    it('the data directory defaults to ./data, resolved to an absolute path', () => {
      const config = loadConfig({ JWT_SECRET: SECRET });
      assert.equal(config.dataDir, path.resolve('./data'));
      const relative = loadConfig({ JWT_SECRET: SECRET, PARLEY_DATA_DIR: 'some/rel' });
      assert.equal(relative.dataDir, path.resolve('some/rel'));
      assert.ok(path.isAbsolute(relative.dataDir));
    });

    it('memory:// is an in-memory PGlite, not a directory', () => {
      const config = loadConfig({ JWT_SECRET: SECRET, PARLEY_DATA_DIR: 'memory://' });
      assert.deepEqual(config.database, {
        kind: 'pglite',
        dataDir: 'memory://',
        preparedStatements: 500,
        durable: false,
      });
    });

    it('NODE_ENV=test logs at warn by default; LOG_LEVEL overrides', () => {
      assert.equal(loadConfig({ ...base, NODE_ENV: 'test' }).logLevel, 'warn');
      assert.equal(loadConfig({ ...base, LOG_LEVEL: 'debug' }).logLevel, 'debug');
      assertConfigError({ ...base, LOG_LEVEL: 'loud' }, 'LOG_LEVEL');
    });

    it('blank values count as unset', () => {
      const config = loadConfig({ ...base, PORT: '  ', DATABASE_URL: '', JWT_ISSUER: ' ' });
      assert.equal(config.port, 3000);
      assert.equal(config.database.kind, 'pglite');
      assert.equal(config.jwt.issuer, 'parley');
    });

    it('values are trimmed', () => {
      const config = loadConfig({ ...base, PORT: ' 8080 ', JWT_ISSUER: ' issuer ' });
      assert.equal(config.port, 8080);
      assert.equal(config.jwt.issuer, 'issuer');
    });
  });

  describe('NODE_ENV', () => {
    it('accepts development, production, test; refuses others naming NODE_ENV', () => {
      for (const env of ['development', 'production', 'test']) {
        assert.equal(loadConfig({ ...base, NODE_ENV: env }).nodeEnv, env);
      }
      assertConfigError({ ...base, NODE_ENV: 'staging' }, 'NODE_ENV', /staging/);
    });
  });

  describe('PORT and HOST', () => {
    it('reads PORT and HOST', () => {
      const config = loadConfig({ ...base, PORT: '8080', HOST: '127.0.0.1' });
      assert.equal(config.port, 8080);
      assert.equal(config.host, '127.0.0.1');
      assert.equal(loadConfig({ ...base, PORT: '0' }).port, 0);
      assert.equal(loadConfig({ ...base, PORT: '65535' }).port, 65535);
    });

    it('HOST is 127.0.0.1 outside production, so that only this machine reaches a development server', () => {
      assert.equal(loadConfig(base).host, '127.0.0.1');
      assert.equal(loadConfig({ ...base, NODE_ENV: 'test' }).host, '127.0.0.1');
      assert.equal(loadConfig({ ...base, NODE_ENV: 'development', HOST: ' ' }).host, '127.0.0.1');
      assert.equal(
        loadConfig({ ...base, NODE_ENV: 'production' }).host,
        '0.0.0.0',
        'every interface in production',
      );
      assert.equal(loadConfig({ ...base, HOST: '0.0.0.0' }).host, '0.0.0.0', 'unless HOST says otherwise');
      assert.equal(loadConfig({ ...base, NODE_ENV: 'production', HOST: '10.1.2.3' }).host, '10.1.2.3');
    });

    it('a bad PORT is a ConfigError naming PORT', () => {
      assertConfigError({ ...base, PORT: 'abc' }, 'PORT', /abc/);
      assertConfigError({ ...base, PORT: '-1' }, 'PORT');
      assertConfigError({ ...base, PORT: '80.5' }, 'PORT');
      assertConfigError({ ...base, PORT: '65536' }, 'PORT', /65536/);
    });
  });

  describe('PARLEY_TRUST_PROXY', () => {
    const trust = (value?: string) =>
      loadConfig(value === undefined ? base : { ...base, PARLEY_TRUST_PROXY: value }).http.trustProxy;

    it('trusts no proxy by default, nor with false or 0', () => {
      assert.equal(trust(), false);
      assert.equal(trust('false'), false);
      assert.equal(trust('0'), false);
      assert.equal(trust(' '), false);
    });

    it('true, a number of hops, or a list of addresses, networks and proxy-addr network names', () => {
      assert.equal(trust('true'), true);
      assert.equal(trust('TRUE'), true);
      assert.equal(trust('1'), 1);
      assert.equal(trust('2'), 2);
      assert.deepEqual(trust('10.0.0.1'), ['10.0.0.1']);
      assert.deepEqual(trust('10.0.0.0/8, 172.16.0.0/12 ,::1,fd00::/8'), [
        '10.0.0.0/8',
        '172.16.0.0/12',
        '::1',
        'fd00::/8',
      ]);
      assert.deepEqual(trust('loopback,uniquelocal,linklocal'), ['loopback', 'uniquelocal', 'linklocal']);
    });

    it('anything else is a ConfigError naming PARLEY_TRUST_PROXY', () => {
      for (const value of [
        'yes',
        'nginx',
        '10.0.0.256',
        '10.0.0.0/33',
        '::1/129',
        '10.0.0.0/8/1',
        '10.0.0.1,',
        '-1',
      ]) {
        assertConfigError({ ...base, PARLEY_TRUST_PROXY: value }, 'PARLEY_TRUST_PROXY');
      }
      assertConfigError({ ...base, PARLEY_TRUST_PROXY: '1000' }, 'PARLEY_TRUST_PROXY', /between 0 and 100/);
    });
  });

  describe('HTTP timeouts', () => {
    it('headers 10 s, the whole request 30 s, an idle connection 72 s by default', () => {
      const { http } = loadConfig(base);
      assert.equal(http.headersTimeoutMs, 10_000);
      assert.equal(http.requestTimeoutMs, 30_000);
      assert.equal(http.keepAliveTimeoutMs, 72_000);
    });

    it('PARLEY_HEADERS_TIMEOUT_MS, PARLEY_REQUEST_TIMEOUT_MS and PARLEY_KEEP_ALIVE_TIMEOUT_MS set them', () => {
      const { http } = loadConfig({
        ...base,
        PARLEY_HEADERS_TIMEOUT_MS: '2000',
        PARLEY_REQUEST_TIMEOUT_MS: '5000',
        PARLEY_KEEP_ALIVE_TIMEOUT_MS: '65000',
      });
      assert.deepEqual(
        [http.headersTimeoutMs, http.requestTimeoutMs, http.keepAliveTimeoutMs],
        [2000, 5000, 65_000],
      );
    });

    it('none can be off (0) or unbounded, and each error names its variable', () => {
      for (const name of [
        'PARLEY_HEADERS_TIMEOUT_MS',
        'PARLEY_REQUEST_TIMEOUT_MS',
        'PARLEY_KEEP_ALIVE_TIMEOUT_MS',
      ]) {
        assertConfigError({ ...base, [name]: '0' }, name, /between 100 and/);
        assertConfigError({ ...base, [name]: '1.5' }, name, /whole number/);
        assertConfigError({ ...base, [name]: '99999999' }, name);
      }
    });

    it('the headers may not take longer than the whole request', () => {
      assertConfigError(
        { ...base, PARLEY_HEADERS_TIMEOUT_MS: '20000', PARLEY_REQUEST_TIMEOUT_MS: '10000' },
        'PARLEY_HEADERS_TIMEOUT_MS',
        /PARLEY_REQUEST_TIMEOUT_MS \(10000\)/,
      );
      assertConfigError({ ...base, PARLEY_REQUEST_TIMEOUT_MS: '5000' }, 'PARLEY_HEADERS_TIMEOUT_MS');
      assert.equal(
        loadConfig({ ...base, PARLEY_HEADERS_TIMEOUT_MS: '5000', PARLEY_REQUEST_TIMEOUT_MS: '5000' }).http
          .requestTimeoutMs,
        5000,
      );
    });
  });

  describe('database', () => {
    it('DATABASE_URL selects PostgreSQL', () => {
      const url = 'postgres://user:pw@db.example:5433/chat';
      const config = loadConfig({ ...base, DATABASE_URL: url });
      assert.deepEqual(config.database, {
        kind: 'postgres',
        connectionString: url,
        schema: null,
        poolSize: 10,
        connectTimeoutMs: 5000,
        queryTimeoutMs: 5000,
        deadlineMs: 5000,
        preparedStatements: 500,
      });
      assert.equal(loadConfig({ ...base, DATABASE_URL: 'postgresql://h/db' }).database.kind, 'postgres');
    });

    it('DATABASE_URL must be a postgres URL', () => {
      assertConfigError({ ...base, DATABASE_URL: 'not a url' }, 'DATABASE_URL');
      assertConfigError({ ...base, DATABASE_URL: 'mysql://root@localhost/db' }, 'DATABASE_URL', /mysql/);
    });

    it('DB_HOST and friends build a URL, encoding user, password and database', () => {
      const password = 'p@ss:w/rd#1 %?';
      const config = loadConfig({
        ...base,
        DB_HOST: 'db.internal',
        DB_PORT: '6543',
        DB_USER: 'app user',
        DB_PASSWORD: password,
        DB_DATABASE: 'chat db',
      });
      assert.equal(config.database.kind, 'postgres');
      const connectionString = (config.database as { connectionString: string }).connectionString;
      assert.equal(
        connectionString,
        'postgres://app%20user:p%40ss%3Aw%2Frd%231%20%25%3F@db.internal:6543/chat%20db',
      );
      const parsed = new URL(connectionString);
      assert.equal(parsed.hostname, 'db.internal');
      assert.equal(parsed.port, '6543');
      assert.equal(decodeURIComponent(parsed.username), 'app user');
      assert.equal(decodeURIComponent(parsed.password), password);
      assert.equal(decodeURIComponent(parsed.pathname.slice(1)), 'chat db');
    });

    it('DB_HOST alone: postgres user, no password, port 5432, database postgres', () => {
      const config = loadConfig({ ...base, DB_HOST: 'localhost' });
      assert.deepEqual(config.database, {
        kind: 'postgres',
        connectionString: 'postgres://postgres@localhost:5432/postgres',
        schema: null,
        poolSize: 10,
        connectTimeoutMs: 5000,
        queryTimeoutMs: 5000,
        deadlineMs: 5000,
        preparedStatements: 500,
      });
    });

    it('an IPv6 DB_HOST is bracketed', () => {
      const config = loadConfig({ ...base, DB_HOST: '::1' });
      assert.equal(
        (config.database as { connectionString: string }).connectionString,
        'postgres://postgres@[::1]:5432/postgres',
      );
    });

    it('DATABASE_URL wins over DB_HOST', () => {
      const url = 'postgres://u@from-url/db';
      const config = loadConfig({ ...base, DATABASE_URL: url, DB_HOST: 'from-host' });
      assert.equal((config.database as { connectionString: string }).connectionString, url);
    });

    it('a bad DB_PORT names DB_PORT', () => {
      assertConfigError({ ...base, DB_HOST: 'h', DB_PORT: 'five' }, 'DB_PORT');
      assertConfigError({ ...base, DB_HOST: 'h', DB_PORT: '0' }, 'DB_PORT');
    });

    it('DB_SCHEMA is passed on when it is a plain identifier', () => {
      const config = loadConfig({ ...base, DATABASE_URL: 'postgres://h/db', DB_SCHEMA: 'parley_1' });
      assert.equal((config.database as { schema: string | null }).schema, 'parley_1');
      const hostConfig = loadConfig({ ...base, DB_HOST: 'h', DB_SCHEMA: '_Chat' });
      assert.equal((hostConfig.database as { schema: string | null }).schema, '_Chat');
    });

    it('DB_SCHEMA that is not a plain identifier is a ConfigError naming DB_SCHEMA', () => {
      for (const schema of ['bad-name', '1abc', 'a"b', 'x; drop table users', 'a.b', 's'.repeat(64)]) {
        assertConfigError({ ...base, DATABASE_URL: 'postgres://h/db', DB_SCHEMA: schema }, 'DB_SCHEMA');
      }
      // Checked even on PGlite, so a typo is caught before switching engines.
      assertConfigError({ ...base, DB_SCHEMA: 'bad-name' }, 'DB_SCHEMA');
    });

    it('DB_POOL_SIZE is 1..500', () => {
      const config = loadConfig({ ...base, DATABASE_URL: 'postgres://h/db', DB_POOL_SIZE: '25' });
      assert.equal((config.database as { poolSize: number }).poolSize, 25);
      assertConfigError({ ...base, DATABASE_URL: 'postgres://h/db', DB_POOL_SIZE: '0' }, 'DB_POOL_SIZE');
      assertConfigError({ ...base, DATABASE_URL: 'postgres://h/db', DB_POOL_SIZE: '501' }, 'DB_POOL_SIZE');
    });

    it('PARLEY_DURABLE: embedded commits synced to the disk, off by default; a bad value names it', () => {
      const durable = (env: Record<string, string>) =>
        (loadConfig({ ...base, ...env }).database as { durable: boolean }).durable;
      assert.equal(durable({}), false);
      assert.equal(durable({ PARLEY_DURABLE: 'true' }), true);
      assert.equal(durable({ PARLEY_DURABLE: 'off' }), false);
      assertConfigError({ ...base, PARLEY_DURABLE: 'sometimes' }, 'PARLEY_DURABLE', /sometimes/);
      // Checked on PostgreSQL too, where the server's own settings decide.
      assertConfigError({ ...base, DB_HOST: 'h', PARLEY_DURABLE: 'sometimes' }, 'PARLEY_DURABLE');
    });

    it('DB_CONNECT_TIMEOUT_MS and DB_QUERY_TIMEOUT_MS (0: no deadline) set how long the database may take', () => {
      const timeouts = (env: Record<string, string>) => {
        const database = loadConfig({ ...base, DB_HOST: 'h', ...env }).database as {
          connectTimeoutMs: number;
          queryTimeoutMs: number;
        };
        return [database.connectTimeoutMs, database.queryTimeoutMs];
      };
      assert.deepEqual(timeouts({}), [5000, 5000]);
      assert.deepEqual(timeouts({ DB_CONNECT_TIMEOUT_MS: '1500', DB_QUERY_TIMEOUT_MS: '0' }), [1500, 0]);
      assertConfigError({ ...base, DB_HOST: 'h', DB_CONNECT_TIMEOUT_MS: '0' }, 'DB_CONNECT_TIMEOUT_MS');
      assertConfigError({ ...base, DB_HOST: 'h', DB_QUERY_TIMEOUT_MS: '2s' }, 'DB_QUERY_TIMEOUT_MS');
    });

    it("DB_DEADLINE_MS bounds a request's database work; by default the larger timeout, none without a query one", () => {
      const deadline = (env: Record<string, string>) =>
        (loadConfig({ ...base, DB_HOST: 'h', ...env }).database as { deadlineMs: number }).deadlineMs;
      assert.equal(deadline({}), 5000);
      assert.equal(deadline({ DB_CONNECT_TIMEOUT_MS: '8000', DB_QUERY_TIMEOUT_MS: '3000' }), 8000);
      assert.equal(deadline({ DB_CONNECT_TIMEOUT_MS: '1000', DB_QUERY_TIMEOUT_MS: '3000' }), 3000);
      assert.equal(deadline({ DB_QUERY_TIMEOUT_MS: '0' }), 0);
      assert.equal(deadline({ DB_QUERY_TIMEOUT_MS: '0', DB_DEADLINE_MS: '20000' }), 20000);
      assert.equal(deadline({ DB_DEADLINE_MS: '2500' }), 2500);
      assert.equal(deadline({ DB_DEADLINE_MS: '0' }), 0);
      assertConfigError({ ...base, DB_HOST: 'h', DB_DEADLINE_MS: '-1' }, 'DB_DEADLINE_MS');
      assertConfigError({ ...base, DB_HOST: 'h', DB_DEADLINE_MS: '3600001' }, 'DB_DEADLINE_MS');
    });
  });

  describe('migrations', () => {
    it('PARLEY_MIGRATE, CHAT_MIGRATION and SOURCELOOP_MIGRATION each turn migration off', () => {
      for (const name of ['PARLEY_MIGRATE', 'CHAT_MIGRATION', 'SOURCELOOP_MIGRATION']) {
        for (const value of ['false', 'FALSE', '0', 'no', 'off']) {
          assert.equal(loadConfig({ ...base, [name]: value }).migrate, false, `${name}=${value}`);
        }
        for (const value of ['true', '1', 'yes', 'on', 'True']) {
          assert.equal(loadConfig({ ...base, [name]: value }).migrate, true, `${name}=${value}`);
        }
      }
    });

    it('PARLEY_MIGRATE takes precedence over the compatibility names', () => {
      assert.equal(loadConfig({ ...base, PARLEY_MIGRATE: 'true', CHAT_MIGRATION: 'false' }).migrate, true);
      assert.equal(
        loadConfig({ ...base, CHAT_MIGRATION: 'true', SOURCELOOP_MIGRATION: 'false' }).migrate,
        true,
      );
    });

    it('a value that is not a boolean names its variable', () => {
      assertConfigError({ ...base, PARLEY_MIGRATE: 'maybe' }, 'PARLEY_MIGRATE', /maybe/);
      assertConfigError({ ...base, CHAT_MIGRATION: 'nope' }, 'CHAT_MIGRATION');
      assertConfigError({ ...base, SOURCELOOP_MIGRATION: '2' }, 'SOURCELOOP_MIGRATION');
    });
  });

  describe('limits', () => {
    it('PARLEY_BODY_LIMIT and PARLEY_MAX_MESSAGE_CHARS are read and bounded', () => {
      const config = loadConfig({ ...base, PARLEY_BODY_LIMIT: '2048', PARLEY_MAX_MESSAGE_CHARS: '20' });
      assert.equal(config.limits.bodyBytes, 2048);
      assert.equal(config.limits.messageChars, 20);
      assertConfigError({ ...base, PARLEY_BODY_LIMIT: '1023' }, 'PARLEY_BODY_LIMIT');
      assertConfigError({ ...base, PARLEY_BODY_LIMIT: '1mb' }, 'PARLEY_BODY_LIMIT');
      assertConfigError({ ...base, PARLEY_MAX_MESSAGE_CHARS: '0' }, 'PARLEY_MAX_MESSAGE_CHARS');
    });
  });

  describe('JWT', () => {
    it('JWT_ISSUER and JWT_AUDIENCE are read', () => {
      const config = loadConfig({ ...base, JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'parley-api' });
      assert.equal(config.jwt.issuer, 'https://id.example');
      assert.equal(config.jwt.audience, 'parley-api');
    });

    it('production without JWT_SECRET is a ConfigError naming JWT_SECRET', () => {
      const prodDir = path.join(dir, 'prod');
      assertConfigError({ NODE_ENV: 'production', PARLEY_DATA_DIR: prodDir }, 'JWT_SECRET', /production/);
      assert.equal(
        existsSync(path.join(prodDir, 'jwt-secret')),
        false,
        'production must not generate a secret',
      );
    });

    it('production refuses a JWT_SECRET shorter than 32 characters', () => {
      assertConfigError(
        { NODE_ENV: 'production', PARLEY_DATA_DIR: dir, JWT_SECRET: 'short' },
        'JWT_SECRET',
        /32/,
      );
      const ok = loadConfig({ NODE_ENV: 'production', PARLEY_DATA_DIR: dir, JWT_SECRET: SECRET });
      assert.equal(ok.jwt.secret, SECRET);
    });

    it('production ignores a secret file left in the data directory', () => {
      const prodDir = mkdtempSync(path.join(tmpdir(), 'parley-config-prod-'));
      try {
        writeFileSync(path.join(prodDir, 'jwt-secret'), 'left-over-development-secret\n');
        assertConfigError({ NODE_ENV: 'production', PARLEY_DATA_DIR: prodDir }, 'JWT_SECRET');
      } finally {
        rmSync(prodDir, { recursive: true, force: true });
      }
    });

    it('production with only a public key needs no secret and verifies RS256', () => {
      const config = loadConfig({
        NODE_ENV: 'production',
        PARLEY_DATA_DIR: dir,
        JWT_PUBLIC_KEY: publicPem('rsa'),
      });
      assert.equal(config.jwt.secret, null);
      assert.deepEqual(config.jwt.algorithms, ['RS256']);
      assert.equal(config.jwtSecretSource, 'none');
    });

    it('JWT_PUBLIC_KEY: the default algorithm follows the key; algorithms it cannot verify are refused', () => {
      const ec = publicPem('ec');
      assert.deepEqual(loadConfig({ ...base, JWT_PUBLIC_KEY: ec }).jwt.algorithms, ['HS256', 'ES256']);
      assert.deepEqual(loadConfig({ ...base, JWT_PUBLIC_KEY: publicPem('ed25519') }).jwt.algorithms, [
        'HS256',
        'EdDSA',
      ]);
      assert.deepEqual(
        loadConfig({ ...base, JWT_PUBLIC_KEY: ec, JWT_ALGORITHMS: 'RS256,ES256' }).jwt.algorithms,
        ['RS256', 'ES256'],
      );
      assertConfigError(
        { ...base, JWT_PUBLIC_KEY: ec, JWT_ALGORITHMS: 'RS256' },
        'JWT_ALGORITHMS',
        /EC P-256.*ES256/,
      );
      assertConfigError(
        { ...base, JWT_PUBLIC_KEY: publicPem('rsa'), JWT_ALGORITHMS: 'ES256' },
        'JWT_ALGORITHMS',
      );
      assertConfigError(
        { ...base, JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----' },
        'JWT_PUBLIC_KEY',
      );
      // With a JWKS the keys are not known at start: RS256 unless JWT_ALGORITHMS says otherwise.
      assert.deepEqual(
        loadConfig({ ...base, JWT_PUBLIC_KEY: ec, JWT_JWKS_URL: 'https://id.example/jwks' }).jwt.algorithms,
        ['HS256', 'RS256'],
      );
    });

    it('JWT_JWKS_COOLDOWN_MS: 30 s by default, a whole number of milliseconds', () => {
      assert.equal(loadConfig({ ...base, JWT_JWKS_COOLDOWN_MS: '500' }).jwt.jwksCooldownMs, 500);
      assertConfigError({ ...base, JWT_JWKS_COOLDOWN_MS: '1.5' }, 'JWT_JWKS_COOLDOWN_MS');
    });

    it('JWT_JWKS_URL must be http(s)', () => {
      const config = loadConfig({ ...base, JWT_JWKS_URL: 'https://id.example/.well-known/jwks.json' });
      assert.equal(config.jwt.jwksUrl, 'https://id.example/.well-known/jwks.json');
      assert.deepEqual(config.jwt.algorithms, ['HS256', 'RS256']);
      assertConfigError({ ...base, JWT_JWKS_URL: 'file:///etc/jwks.json' }, 'JWT_JWKS_URL');
    });

    it('development without JWT_SECRET generates a 0600 secret file once and reuses it', () => {
      const devDir = path.join(mkdtempSync(path.join(tmpdir(), 'parley-config-dev-')), 'nested', 'data');
      try {
        const first = loadConfig({ NODE_ENV: 'development', PARLEY_DATA_DIR: devDir });
        assert.equal(first.jwtSecretSource, 'generated');
        assert.ok(first.jwt.secret && first.jwt.secret.length >= 32, 'a long enough secret');
        assert.deepEqual(first.jwt.algorithms, ['HS256']);
        const file = path.join(devDir, 'jwt-secret');
        assert.ok(existsSync(file));
        assert.equal(statSync(file).mode & 0o777, 0o600);
        assert.equal(readFileSync(file, 'utf8').trim(), first.jwt.secret);

        const second = loadConfig({ NODE_ENV: 'development', PARLEY_DATA_DIR: devDir });
        assert.equal(second.jwtSecretSource, 'file');
        assert.equal(second.jwt.secret, first.jwt.secret);

        // NODE_ENV=test behaves like development here.
        const third = loadConfig({ NODE_ENV: 'test', PARLEY_DATA_DIR: devDir });
        assert.equal(third.jwt.secret, first.jwt.secret);

        // JWT_SECRET still wins over the file.
        const fromEnv = loadConfig({ NODE_ENV: 'development', PARLEY_DATA_DIR: devDir, JWT_SECRET: SECRET });
        assert.equal(fromEnv.jwt.secret, SECRET);
        assert.equal(fromEnv.jwtSecretSource, 'env');
      } finally {
        rmSync(path.dirname(path.dirname(devDir)), { recursive: true, force: true });
      }
    });

    it('development with memory:// generates a secret without writing a file', () => {
      const a = loadConfig({ NODE_ENV: 'development', PARLEY_DATA_DIR: 'memory://' });
      assert.equal(a.jwtSecretSource, 'generated');
      assert.ok(a.jwt.secret && a.jwt.secret.length >= 32);
      assert.equal(existsSync(path.resolve('memory:', 'jwt-secret')), false);
    });

    it('JWT_ALGORITHMS lists the accepted algorithms, trimmed', () => {
      assert.deepEqual(loadConfig({ ...base, JWT_ALGORITHMS: 'HS256,HS512' }).jwt.algorithms, [
        'HS256',
        'HS512',
      ]);
      assert.deepEqual(loadConfig({ ...base, JWT_ALGORITHMS: ' HS384 , RS256 ' }).jwt.algorithms, [
        'HS384',
        'RS256',
      ]);
    });

    it('JWT_ALGORITHMS refuses none and unknown algorithms, naming JWT_ALGORITHMS', () => {
      for (const value of ['none', 'HS256,none', 'hs256', 'HS1024', 'HS256,,RS256']) {
        assertConfigError({ ...base, JWT_ALGORITHMS: value }, 'JWT_ALGORITHMS');
      }
      assertConfigError({ ...base, JWT_ALGORITHMS: 'HS256,none' }, 'JWT_ALGORITHMS', /"none"/);
    });
  });
});
