import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { mintToken } from '../src/auth/token.ts';
import { dropSchema, ENGINE, TEST_DATABASE_URL, testConfig, testSchemaName } from './support/app.ts';
import { sleep } from './support/load.ts';
import { clusterEnv, startServer, type ServerProcess } from './support/server.ts';

/**
 * A server process that runs out of file descriptors: started with a low `ulimit -n`, it is sent connections until
 * it refuses one. It must stay up, refuse new connections quickly (closed, not left hanging), keep serving the
 * connections it has (on PostgreSQL a query that needs a new database connection is a 503 `unavailable`, not a
 * 500), say so in its log once, not once per refused connection, and serve new connections again once some close.
 */

/** Enough for the process to start (loading its modules opens many files at once), low enough to run out soon. */
const OPEN_FILES = 384;
/** Never more connections than this: the limit plus a margin, so that the loop ends by itself. */
const MAX_CONNECTIONS = OPEN_FILES + 100;
/** Keep-alive connections opened before the flood, through which the process is used while it is out. */
const KEPT = 12;

const skip = process.platform === 'win32' ? 'ulimit is a POSIX shell builtin' : false;

/** One connection that asks for /health/live and keeps the connection: 'answered', or 'refused' if closed. */
function probe(port: number, ms = 5000): Promise<{ outcome: 'answered' | 'refused'; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (outcome: 'answered' | 'refused') => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      resolve({ outcome, socket });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      done('refused');
    }, ms);
    socket.on('error', () => done('refused'));
    socket.on('close', () => done('refused'));
    socket.on('connect', () => socket.write('GET /health/live HTTP/1.1\r\nHost: parley\r\n\r\n'));
    socket.once('data', (chunk: Buffer) =>
      done(chunk.toString().startsWith('HTTP/1.1 200') ? 'answered' : 'refused'),
    );
  });
}

interface Answer {
  status: number;
  body: unknown;
  retryAfter: string | undefined;
}

/** A request over a kept-alive connection of `agent` (never a new one, when `agent` already holds enough). */
function call(agent: http.Agent, port: number, token: string, method: string, url: string, body?: unknown) {
  return new Promise<Answer>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: url,
        agent,
        timeout: 15_000,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: text ? JSON.parse(text) : null,
            retryAfter: response.headers['retry-after'] as string | undefined,
          }),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${url}: no answer in 15 s`)));
    request.on('error', reject);
    request.end(payload);
  });
}

describe(`running out of file descriptors (${ENGINE})`, { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-descriptors-'));
  const schema = testSchemaName();
  const config = testConfig({}, schema);
  const held: Socket[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: KEPT });
  let server: ServerProcess;

  before(async () => {
    const env = TEST_DATABASE_URL
      ? clusterEnv(schema, {})
      : clusterEnv(schema, { DATABASE_URL: '', DB_SCHEMA: '', PARLEY_DATA_DIR: dir });
    server = await startServer({ ...env, PARLEY_RATE_LIMIT_USER: '0', PARLEY_RATE_LIMIT_IP: '0' }, [], {
      openFiles: OPEN_FILES,
    });
  });

  after(async () => {
    for (const socket of held) {
      socket.destroy();
    }
    agent.destroy();
    await server?.stop();
    await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses new connections, keeps serving its own, logs it once, and recovers when they close', async (t: TestContext) => {
    const port = Number(new URL(server.url).port);
    const token = await mintToken(config.jwt, { sub: 'fd-alice' });
    const me = await call(agent, port, token, 'GET', '/v1/me');
    assert.equal(me.status, 200);
    const chat = await call(agent, port, token, 'POST', '/v1/chats', { kind: 'group', name: 'descriptors' });
    assert.equal(chat.status, 201);
    const chatId = (chat.body as { id: string }).id;
    // KEPT connections, kept alive by the agent.
    const warm = await Promise.all(
      Array.from({ length: KEPT }, () => call(agent, port, token, 'GET', '/v1/unread')),
    );
    assert.ok(warm.every((a) => a.status === 200));
    const logsBefore = server.logs.length;

    // Connections until one is refused; each one answered is kept open.
    let refused = 0;
    const startedAt = Date.now();
    while (refused === 0) {
      assert.ok(held.length < MAX_CONNECTIONS, `still accepting after ${held.length} connections`);
      const { outcome, socket } = await probe(port);
      if (outcome === 'answered') {
        held.push(socket);
      } else {
        refused += 1;
        socket.destroy();
      }
    }
    const acceptedBeforeRefusal = held.length;
    // Once out, every new connection is refused quickly, however many come.
    const refusals = await Promise.all(Array.from({ length: 50 }, () => probe(port)));
    for (const { socket } of refusals) {
      socket.destroy();
    }
    const refusedQuickly = refusals.filter((r) => r.outcome === 'refused').length;
    assert.equal(refusedQuickly, 50, 'every new connection is refused while it is out');
    assert.equal(server.child.exitCode, null, 'the process is still running');

    // The connections it has are served: reads and writes, or a 503 that says to retry where a query needs a new
    // database connection (PostgreSQL); never a 500.
    const whileOut = await Promise.all(
      Array.from({ length: KEPT }, (_, i) =>
        i % 2 === 0
          ? call(agent, port, token, 'GET', `/v1/chats/${chatId}/messages`)
          : call(agent, port, token, 'POST', `/v1/chats/${chatId}/messages`, { text: `while out ${i}` }),
      ),
    );
    for (const answer of whileOut) {
      if (answer.status === 503) {
        assert.equal((answer.body as { error: { code: string } }).error.code, 'unavailable');
        assert.ok(answer.retryAfter, '503 carries Retry-After');
      } else {
        assert.ok([200, 201].includes(answer.status), `${answer.status} ${JSON.stringify(answer.body)}`);
      }
    }

    // Logged once, not once per refused connection or failed request.
    const outLine = (l: { msg?: string }) => l.msg?.startsWith('out of file descriptors') === true;
    await until('the process logs that it is out of file descriptors', 10_000, () =>
      server.logs.slice(logsBefore).some(outLine),
    );

    // The connections close: new ones are served again, by the same process.
    for (const socket of held.splice(0)) {
      socket.destroy();
    }
    const releasedAt = Date.now();
    let recovered = await probe(port);
    while (recovered.outcome !== 'answered') {
      recovered.socket.destroy();
      assert.ok(
        Date.now() - releasedAt < 10_000,
        'a new connection is served within 10 s of the others closing',
      );
      await sleep(100);
      recovered = await probe(port);
    }
    recovered.socket.destroy();
    const recoveredMs = Date.now() - releasedAt;
    const fresh = new http.Agent({ keepAlive: false });
    try {
      // On PostgreSQL, a database connection the pool could not open while the process was out may have started an
      // outage; the probe ends it within a second or so of descriptors being free. Ready means the database answers.
      const readyBy = Date.now() + 10_000;
      while ((await call(fresh, port, token, 'GET', '/health/ready')).status !== 200) {
        assert.ok(Date.now() < readyBy, 'ready again within 10 s of the connections closing');
        await sleep(200);
      }
      const sent = await call(fresh, port, token, 'POST', `/v1/chats/${chatId}/messages`, { text: 'after' });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
    } finally {
      fresh.destroy();
    }
    await until('the process logs that it has file descriptors again', 10_000, () =>
      server.logs.slice(logsBefore).some((l) => l.msg === 'file descriptors available again'),
    );

    const lines = server.logs.slice(logsBefore).filter((l) => l.level >= 40);
    assert.equal(lines.filter(outLine).length, 1, 'logged once');
    assert.equal(
      lines.filter((l) => l.msg === 'request failed').length,
      0,
      'no request failed as a server error',
    );
    assert.ok(
      lines.length <= 4,
      `${lines.length} warnings and errors:\n${lines.map((l) => l.msg).join('\n')}`,
    );
    assert.equal(server.child.exitCode, null);
    const unavailable = whileOut.filter((a) => a.status === 503).length;
    t.diagnostic(
      `ulimit -n ${OPEN_FILES}: ${acceptedBeforeRefusal} connections accepted in ${releasedAt - startedAt} ms ` +
        `before one was refused; while out, ${whileOut.length - unavailable} requests on kept connections ` +
        `served and ${unavailable} answered 503; new connections served again ${recoveredMs} ms after the others ` +
        `closed; ${lines.length} warnings and errors: ${lines.map((l) => l.msg).join(' | ')}`,
    );
  });
});

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    assert.ok(Date.now() < deadline, `${what} within ${ms} ms`);
    await sleep(50);
  }
}
