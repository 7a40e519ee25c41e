import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { request } from './support/load.ts';
import { startServer, type ServerProcess } from './support/server.ts';

/**
 * One process at a time on an embedded data directory, with real processes: a second server, `parley migrate` and
 * `parley seed` beside a running server; the lock released on a graceful stop and recovered after SIGKILL.
 */

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'parley.js');

interface Holder {
  pid: number;
  command: string;
  url: string | null;
}

describe('one process per PGlite data directory', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-datadir-'));
  const lockFile = path.join(dir, 'pglite.lock');
  // The embedded engine whatever the suite's environment says, with the development secret generated into `dir`, as
  // `npm start` and `parley seed` find it on a newcomer's machine.
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    PARLEY_DATA_DIR: dir,
    DATABASE_URL: '',
    DB_HOST: '',
    PARLEY_BUS: '',
    JWT_SECRET: '',
    JWT_ISSUER: '',
  };
  const cli = (args: string[]) =>
    run(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      timeout: 90_000,
    });
  const holder = (): Holder => JSON.parse(readFileSync(lockFile, 'utf8')) as Holder;
  let server: ServerProcess | null = null;

  before(async () => {
    server = await startServer(env);
  });
  after(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the server in the lock file, with the address it serves', () => {
    const recorded = holder();
    assert.equal(recorded.pid, server!.child.pid);
    assert.equal(recorded.command, 'parley serve');
    assert.equal(recorded.url, server!.url);
  });

  it('a second server on the same directory stops at once, naming the first', async () => {
    const second = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
      cwd: ROOT,
      env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    second.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    second.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => second.kill('SIGKILL'), 60_000);
    const [code] = (await once(second, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 1, `the second server exited with ${code}:\n${output}`);
    assert.match(
      output,
      new RegExp(`in use by another process: pid ${server!.child.pid} \\(parley serve\\)`),
    );
    assert.match(output, new RegExp(`serving ${server!.url.replace(/[.]/g, '\\.')}, since `));
    assert.match(output, /Stop that process first/);
    assert.doesNotMatch(output, /Parley is listening/);
    assert.equal(holder().pid, server!.child.pid, 'the first server still holds the directory');
  });

  it('parley migrate refuses while the server runs; parley token needs no database and works', async () => {
    await assert.rejects(cli(['migrate']), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, new RegExp(`pid ${server!.child.pid} \\(parley serve\\)`));
      assert.match(error.stderr, /stop the server first/);
      return true;
    });
    const { stdout } = await cli(['token', '--sub', 'tokened']);
    const me = await request(server!.url, stdout.trim(), 'GET', '/v1/me');
    assert.equal(me.status, 200);
  });

  it('parley seed beside the server goes through its API: the server has the data, and keeps it', async () => {
    const { stdout, stderr } = await cli(['seed']);
    const chatId = /^group "general": (\S+)$/m.exec(stdout)?.[1];
    assert.ok(chatId, stdout);
    const alice = /^alice: (\S+)$/m.exec(stdout)?.[1];
    assert.ok(alice, stdout);

    const check = async (url: string) => {
      const chats = await request(url, alice, 'GET', '/v1/chats');
      assert.equal(chats.status, 200);
      const general = chats.body.data.find((c) => c.name === 'general');
      assert.ok(general, `the server sees the seeded group: ${JSON.stringify(chats.body)}`);
      assert.equal(general.id, chatId);
      const members = await request(url, alice, 'GET', `/v1/chats/${chatId}/members`);
      assert.deepEqual(members.body.data.map((m: { userId: string }) => m.userId).sort(), [
        'alice',
        'bob',
        'carol',
      ]);
      const history = await request(url, alice, 'GET', `/v1/chats/${chatId}/messages`);
      assert.deepEqual(
        history.body.data.map((m) => m.text),
        ['Welcome to Parley!'],
      );
    };
    await check(server!.url);
    assert.match(stderr, new RegExp(`seeding through ${server!.url.replace(/[.]/g, '\\.')}`));

    // A graceful stop gives the directory up; the next server finds the seeded data in it.
    await server!.stop();
    assert.equal(existsSync(lockFile), false, 'the lock file is gone after a graceful stop');
    server = await startServer(env);
    await check(server.url);

    // Seeding again through the server: the group exists, and says so.
    const again = await cli(['seed']);
    assert.match(again.stdout, /^group "general" not created: /m);
  });

  it('after SIGKILL the lock is left behind, and the next server takes it over', async () => {
    const killed = server!.child.pid!;
    await server!.kill();
    assert.equal(holder().pid, killed, 'a killed server cannot remove its lock');
    server = await startServer(env);
    assert.equal(holder().pid, server.child.pid);
    const warning = server.logs.find((entry) => /took over the data directory's lock/.test(entry.msg ?? ''));
    assert.ok(warning, 'the take-over is logged');
    assert.match(warning.msg!, new RegExp(`from pid ${killed}, which is no longer running`));
  });
});
