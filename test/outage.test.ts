import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { mintToken } from '../src/auth/token.ts';
import { TEST_DATABASE_URL, TEST_ISSUER, TEST_SECRET, testConfig } from './support/app.ts';
import { request, SendLedger, sleep } from './support/load.ts';
import { startServer, type ServerProcess } from './support/server.ts';
import { assertError } from './support/assertions.ts';
import { StreamClient } from './support/ws.ts';

/**
 * A database outage under load: PostgreSQL stopped (immediate shutdown, as a crash or a failover does) and started
 * again while clients send. The outage is of a cluster this test creates and owns, never the machine's shared one.
 * While it lasts, requests answer 503 `unavailable` quickly and readiness is false; once it is back, the same
 * process serves again without a restart, and every acknowledged send is stored once, seqs gapless.
 */

const run = promisify(execFile);

/** The PostgreSQL server binaries of this machine (Debian keeps them per major version), or null. */
function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) {
    return null;
  }
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

const BIN = postgresBin();
/** PostgreSQL refuses to run as root: as root, the cluster is the `postgres` user's. */
const AS_ROOT = process.getuid?.() === 0;

function skipReason(): string | false {
  if (!TEST_DATABASE_URL) {
    return 'runs in the PostgreSQL pass (PARLEY_TEST_DATABASE_URL)';
  }
  if (!BIN) {
    return 'no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql';
  }
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A throwaway PostgreSQL cluster in a temporary directory, on a port of its own. */
class Cluster {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'parley-outage-'));
  readonly data = path.join(this.dir, 'data');
  port = 0;

  private async tool(name: string, args: string[]): Promise<void> {
    const binary = path.join(BIN!, name);
    const [command, argv] = AS_ROOT ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
    await run(command, argv, { timeout: 60_000 });
  }

  async create(): Promise<void> {
    if (AS_ROOT) {
      chownSync(this.dir, uidOf('postgres'), gidOf('postgres'));
      chmodSync(this.dir, 0o700);
    }
    this.port = await freePort();
    await this.tool('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    await this.tool('pg_ctl', [
      '-D',
      this.data,
      '-o',
      options,
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      'start',
    ]);
  }

  /** An immediate shutdown: every backend is cut off at once, uncommitted work is rolled back at the next start. */
  async crash(): Promise<void> {
    await this.tool('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.tool('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function idOf(flag: '-u' | '-g', name: string): number {
  return Number(execFileSync('id', [flag, name]).toString().trim());
}
const uidOf = (name: string) => idOf('-u', name);
const gidOf = (name: string) => idOf('-g', name);

const USERS = ['o-alice', 'o-bob', 'o-carol', 'o-dave'];
const CHATS = 3;
const CLIENTS = 16;
const CONNECT_TIMEOUT_MS = 1000;

describe('PostgreSQL outage under load (a cluster the test owns)', { skip: skipReason() }, () => {
  it('answers 503 quickly while the database is down, readiness false, and recovers without a restart', async (t: TestContext) => {
    const cluster = new Cluster();
    let server: ServerProcess | null = null;
    let stopping = false;
    let failure: unknown = null;
    const clients: Promise<void>[] = [];
    try {
      await cluster.create();
      await cluster.start();
      server = await startServer({
        NODE_ENV: 'test',
        JWT_SECRET: TEST_SECRET,
        JWT_ISSUER: TEST_ISSUER,
        DATABASE_URL: cluster.url,
        DB_HOST: '',
        DB_SCHEMA: '',
        PARLEY_BUS: 'postgres',
        DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        DB_QUERY_TIMEOUT_MS: '3000',
        PARLEY_RATE_LIMIT_USER: '0',
        PARLEY_RATE_LIMIT_IP: '0',
      });
      const live: ServerProcess = server;
      const config = testConfig();
      const tokens = await Promise.all(USERS.map((sub) => mintToken(config.jwt, { sub })));
      for (const token of tokens) {
        assert.equal((await request(live.url, token, 'GET', '/v1/me')).status, 200);
      }
      const chatIds: string[] = [];
      for (let i = 0; i < CHATS; i++) {
        const chat = await request(live.url, tokens[0]!, 'POST', '/v1/chats', {
          kind: 'group',
          name: `outage ${i}`,
          members: USERS.slice(1),
        });
        assert.equal(chat.status, 201, JSON.stringify(chat.body));
        chatIds.push(chat.body.id as string);
      }

      // The load: each client sends one message after another; during the outage it keeps trying new sends.
      const ledger = new SendLedger();
      // While the cluster is down: from when its stop returned to when its start began.
      const outage = { from: Infinity, to: Infinity };
      const refusals: { ms: number; code: unknown; retryAfter: string | null }[] = [];
      const acksWhileDown: string[] = [];
      for (let c = 0; c < CLIENTS; c++) {
        clients.push(
          (async () => {
            try {
              for (let n = 0; !stopping; n++) {
                const clientId = `c${c}-${n}`;
                const answer = await ledger.send(live.url, {
                  chatId: chatIds[(c + n) % CHATS]!,
                  clientId,
                  text: `client ${c}, message ${n}`,
                  token: tokens[c % tokens.length]!,
                });
                assert.ok(answer, `send ${clientId} got no answer at all: the process must answer`);
                if (answer.status === 503) {
                  refusals.push({
                    ms: answer.ms,
                    code: (answer.body as { error?: { code?: unknown } }).error?.code,
                    retryAfter: answer.headers.get('retry-after'),
                  });
                  await sleep(20);
                } else if (answer.at >= outage.from && answer.at < outage.to) {
                  // Sent when no database was there to commit it, yet acknowledged.
                  acksWhileDown.push(clientId);
                }
              }
            } catch (error) {
              failure ??= error;
              stopping = true;
            }
          })(),
        );
      }
      const waitFor = async (what: string, ms: number, ok: () => boolean | Promise<boolean>) => {
        const deadline = Date.now() + ms;
        while (!(await ok())) {
          if (failure !== null) {
            throw failure;
          }
          assert.ok(Date.now() < deadline, `${what} within ${ms} ms`);
          await sleep(25);
        }
      };
      const ready = async () => (await request(live.url, '', 'GET', '/health/ready', undefined, 5000)).status;

      await waitFor('300 sends acknowledged before the outage', 30_000, () => ledger.acked.size >= 300);
      const ackedBefore = ledger.acked.size;

      await cluster.crash();
      const downAt = Date.now();
      outage.from = downAt;
      await waitFor('readiness false', 10_000, async () => (await ready()) === 503);
      const readinessFalseMs = Date.now() - downAt;
      await waitFor('sends refused with 503', 10_000, () => refusals.length >= 50);
      // Reads fail the same way, and quickly.
      const history = await request(live.url, tokens[1]!, 'GET', `/v1/chats/${chatIds[0]}/messages`);
      assertError(history, 503, 'unavailable');
      await sleep(1000);

      outage.to = Date.now();
      await cluster.start();
      const upAt = Date.now();
      await waitFor('readiness true again', 20_000, async () => (await ready()) === 200);
      const recoveredMs = Date.now() - upAt;
      const ackedAtRecovery = ledger.acked.size;
      await waitFor('sends acknowledged again', 20_000, () => ledger.acked.size >= ackedAtRecovery + 200);

      stopping = true;
      await Promise.all(clients);
      if (failure !== null) {
        throw failure;
      }

      // Refusals were quick, in the standard error body, with a hint when to retry.
      assert.ok(refusals.length > 0);
      for (const refusal of refusals) {
        assert.equal(refusal.code, 'unavailable');
        assert.ok(refusal.retryAfter, 'a 503 carries Retry-After');
      }
      const slowest = Math.max(...refusals.map((r) => r.ms));
      // The deadline is a connection's wait (1 s) or a query's (3 s), not TCP's minutes.
      assert.ok(slowest <= 3000 + 1500, `the slowest 503 took ${slowest} ms`);
      assert.equal(
        acksWhileDown.length,
        0,
        `acknowledged while the database was down: ${acksWhileDown.join(', ')}`,
      );

      // The bus listens again too: a stream opened now sees a new message live.
      const after = await request(live.url, tokens[0]!, 'POST', '/v1/chats', {
        kind: 'group',
        name: 'after the outage',
        members: [USERS[1]],
      });
      assert.equal(after.status, 201, JSON.stringify(after.body));
      const afterId = after.body.id as string;
      const stream = await StreamClient.connect(live.url, tokens[1]!);
      try {
        let sends = 0;
        await waitFor('a live message after the outage', 15_000, async () => {
          if (stream.seqs(afterId).length > 0) {
            return true;
          }
          const sent = await request(live.url, tokens[0]!, 'POST', `/v1/chats/${afterId}/messages`, {
            text: `after the outage ${++sends}`,
          });
          assert.equal(sent.status, 201, JSON.stringify(sent.body));
          await sleep(200);
          return stream.seqs(afterId).length > 0;
        });
      } finally {
        stream.socket.close();
      }

      await ledger.retryAll(live.url);
      const counts = await ledger.verify(live.url, tokens[1]!, chatIds);
      assert.equal(live.child.exitCode, null, 'the same process served throughout');
      t.diagnostic(
        `${ackedBefore} acknowledged before the outage, ${refusals.length} sends refused with 503 during it ` +
          `(slowest ${slowest} ms); readiness false after ${readinessFalseMs} ms, true ${recoveredMs} ms after ` +
          `the restart; on retry ${ledger.foundOnRetry} found stored, ${ledger.createdOnRetry} stored now; ` +
          `chats hold ${[...counts.values()].join(', ')} messages, seqs 1..N each`,
      );
    } finally {
      stopping = true;
      await Promise.allSettled(clients);
      await server?.stop();
      await cluster.destroy();
    }
  });
});
