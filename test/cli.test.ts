import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { createTokenVerifier } from '../src/auth/jwt.ts';
import { loadConfig } from '../src/config.ts';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'parley.js');

describe('parley command line', () => {
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
});
