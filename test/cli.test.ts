import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { promisify, stripVTControlCharacters } from 'node:util';
import { decodeJwt } from 'jose';
import { createTokenVerifier } from '../src/auth/jwt.ts';
import { loadConfig } from '../src/config.ts';
import { dropSchema, TEST_DATABASE_URL, testSchemaName } from './support/app.ts';
import { freePort } from './support/daemons.ts';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'parley.js');

// Every test runs its own processes, on a directory, port or schema of its own: they run at once.
describe('parley command line', { concurrency: true }, () => {
  it('mints a token that the server accepts, with the generated development secret', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-cli-'));
    try {
      const env = {
        ...process.env,
        NODE_ENV: 'development',
        PARLEY_DATA_DIR: dir,
        JWT_SECRET: '',
        JWT_ISSUER: '',
      };
      const { stdout } = await run(
        process.execPath,
        [BIN, 'token', '--sub', 'alice', '--admin', '--tenant', 'acme'],
        {
          env,
        },
      );
      const token = stdout.trim();
      const claims = decodeJwt(token);
      assert.equal(claims.sub, 'alice');
      assert.equal(claims.tid, 'acme');
      assert.deepEqual(claims.roles, ['admin']);
      const verifier = await createTokenVerifier(loadConfig({ PARLEY_DATA_DIR: dir }).jwt);
      const actor = await verifier.verify(token);
      assert.deepEqual([actor.userId, actor.tenantId, actor.isAdmin], ['alice', 'acme', true]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a token without --sub and names a bad variable', async () => {
    await assert.rejects(run(process.execPath, [BIN, 'token']), (error: { stderr: string; code: number }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /--sub/);
      return true;
    });
    await assert.rejects(
      run(process.execPath, [BIN, 'serve'], { env: { ...process.env, PORT: 'eighty' } }),
      (error: { stderr: string }) => {
        assert.match(error.stderr, /configuration error: PORT: must be a whole number, got "eighty"/);
        return true;
      },
    );
  });

  it('migrates an embedded database and reports it up to date the second time', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-cli-'));
    try {
      const env = { ...process.env, PARLEY_DATA_DIR: dir, DATABASE_URL: '', DB_HOST: '' };
      const first = await run(process.execPath, [BIN, 'migrate'], { env });
      assert.match(first.stdout, /applied: 0001_core/);
      const second = await run(process.execPath, [BIN, 'migrate'], { env });
      assert.match(second.stdout, /up to date/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains every command with --help, and shows the help with an unknown option', async () => {
    const asked: [string, string][] = [
      ['serve', '--help'],
      ['migrate', '-h'],
      ['token', '--help'],
      ['seed', '-h'],
    ];
    await Promise.all(
      asked.map(async ([command, flag]) => {
        const { stdout } = await run(process.execPath, [BIN, command, flag]);
        assert.match(stdout, new RegExp(`^Usage: parley ${command}`), `${command} ${flag}`);
      }),
    );
    const top = await run(process.execPath, [BIN, '--help']);
    assert.match(top.stdout, /Commands:[\s\S]*seed/);
    await assert.rejects(
      run(process.execPath, [BIN, 'token', '--sub', 'alice', '--permision', 'x']),
      (error: { stderr: string; code: number }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /token: Unknown option '--permision'/);
        assert.match(error.stderr, /--permission <name>/, 'the help follows');
        return true;
      },
    );
  });

  it('mints permissions, a display name and a lifetime', async () => {
    const { stdout } = await run(process.execPath, [
      BIN,
      'token',
      '--sub',
      'bob',
      '--permission',
      'CreateMessage',
      '--permission',
      'ViewMessage',
      '--name',
      'Bob B',
      '--ttl',
      '60',
    ]);
    const claims = decodeJwt(stdout.trim());
    assert.deepEqual(claims.permissions, ['CreateMessage', 'ViewMessage']);
    assert.equal(claims.name, 'Bob B');
    assert.equal(claims.exp! - claims.iat!, 60);
  });

  it('names the setting and the target when the database cannot be reached', async () => {
    const port = await freePort();
    const fromUrl = await run(process.execPath, [BIN, 'migrate'], {
      env: { ...process.env, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/parley` },
    }).catch((error: { stderr: string; code: number }) => error);
    assert.equal((fromUrl as { code?: number }).code, 1);
    assert.equal(
      (fromUrl as { stderr: string }).stderr.trim(),
      `parley: cannot connect to PostgreSQL at 127.0.0.1:${port} (from DATABASE_URL): nothing accepts connections ` +
        'there. Is the server running, and is that its address and port?',
    );
    const fromParts = await run(process.execPath, [BIN, 'migrate'], {
      env: { ...process.env, DATABASE_URL: '', DB_HOST: '127.0.0.1', DB_PORT: String(port) },
    }).catch((error: { stderr: string }) => error);
    assert.match((fromParts as { stderr: string }).stderr, /from DB_HOST, DB_PORT/);
  });

  it('refuses a port in use before it opens the database', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-cli-'));
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const env = { ...process.env, PARLEY_DATA_DIR: dir, DATABASE_URL: '', DB_HOST: '', PORT: String(port) };
      await assert.rejects(run(process.execPath, [BIN, 'serve'], { env }), (error: { stderr: string }) => {
        // Not at a terminal, the server logs JSON, and its last word is a JSON line too.
        assert.equal((JSON.parse(error.stderr) as { level: number }).level, 60);
        assert.match(
          error.stderr,
          new RegExp(`port ${port} on 127.0.0.1 is already in use \\(PORT=${port}\\)`),
        );
        return true;
      });
      assert.equal(existsSync(path.join(dir, 'pglite')), false, 'no database was opened');
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'exits as soon as PostgreSQL migrations are done',
    { skip: TEST_DATABASE_URL ? false : 'PostgreSQL pass only' },
    async () => {
      const schema = testSchemaName();
      try {
        const child = spawn(process.execPath, [BIN, 'migrate'], {
          env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL!, DB_SCHEMA: schema },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let doneAt = 0;
        createInterface({ input: child.stdout }).on('line', (line) => {
          if (/applied|up to date/.test(line)) {
            doneAt = Date.now();
          }
        });
        const [code] = (await once(child, 'exit')) as [number];
        assert.equal(code, 0);
        assert.ok(doneAt > 0, 'it said what it did');
        // An open pool kept the process for its 30-second idle timeout after saying it was done.
        assert.ok(Date.now() - doneAt < 10_000, `exited ${Date.now() - doneAt} ms after it was done`);
      } finally {
        await dropSchema(schema);
      }
    },
  );

  it('at a terminal (or PARLEY_LOG_FORMAT=pretty), says where to go and logs a line per request', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'parley-cli-'));
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: {
        ...process.env,
        PARLEY_DATA_DIR: dir,
        DATABASE_URL: '',
        DB_HOST: '',
        PORT: String(port),
        PARLEY_LOG_FORMAT: 'pretty',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const seen = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in:\n${lines.join('\n')}`)), 60_000);
        const check = () => {
          if (lines.some((line) => pattern.test(line))) {
            clearTimeout(timer);
            resolve();
          }
        };
        createInterface({ input: child.stdout }).on('line', (line) => {
          // Without its colours.
          lines.push(stripVTControlCharacters(line));
          check();
        });
        check();
      });
    try {
      await seen(/Ctrl-C stops it/);
      assert.ok(lines.some((l) => /INFO: creating the embedded database at .* \(first start only/.test(l)));
      assert.ok(lines.some((l) => /INFO: applying \d+ database migrations \(0001_core … /.test(l)));
      assert.ok(lines.some((l) => l.includes(`API explorer  http://127.0.0.1:${port}/docs`)));
      assert.ok(lines.some((l) => l.includes('A token       npm run -s parley -- token --sub alice')));
      assert.equal(lines.filter((l) => l.startsWith('{')).length, 0, 'no JSON lines');
      assert.equal((await fetch(`http://127.0.0.1:${port}/health/live`)).status, 200);
      await seen(/INFO: GET \/health\/live 200 [\d.]+ ms/);
    } finally {
      child.kill('SIGINT');
      await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
