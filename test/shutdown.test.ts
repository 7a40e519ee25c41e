import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { mintToken } from '../src/auth/token.ts';
import { loadConfig } from '../src/config.ts';
import { openStore } from '../src/db/connect.ts';
import {
  createTestApp,
  dropSchema,
  ENGINE,
  TEST_DATABASE_URL,
  TEST_ISSUER,
  TEST_SECRET,
  testSchemaName,
} from './support/app.ts';
import type { MessageView } from './support/api.ts';
import { assertError } from './support/assertions.ts';
import { copyMigratedCluster } from './support/pglite-template.ts';
import { call, startServer, type ServerProcess } from './support/server.ts';
import { StreamClient, type Frame } from './support/ws.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server process of its own, on a fresh schema (PostgreSQL) or a fresh PGlite directory; `cleanup` removes it. */
async function ownServer(extra: Record<string, string> = {}) {
  const schema = testSchemaName();
  const dir = TEST_DATABASE_URL ? null : mkdtempSync(path.join(tmpdir(), 'parley-shutdown-'));
  if (dir) {
    await copyMigratedCluster(dir);
  }
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    JWT_SECRET: TEST_SECRET,
    JWT_ISSUER: TEST_ISSUER,
    PARLEY_RESUME_GRACE_MS: '0',
    ...(TEST_DATABASE_URL
      ? { DATABASE_URL: TEST_DATABASE_URL, DB_SCHEMA: schema }
      : { DATABASE_URL: '', DB_HOST: '', PARLEY_DATA_DIR: dir! }),
    ...extra,
  };
  const server = await startServer(env);
  const config = loadConfig(env);
  return {
    server,
    config,
    token: (sub: string) => mintToken(config.jwt, { sub }),
    /** The message texts of a chat, read from the database itself once the server is gone. */
    async texts(chatId: string): Promise<string[]> {
      const store = await openStore(config.database);
      try {
        const result = await sql<{ text: string }>`
          select text from messages where chat_id = ${chatId} order by seq`.execute(store.db);
        return result.rows.map((row) => row.text);
      } finally {
        await store.close();
      }
    },
    async cleanup() {
      await server.kill();
      await dropSchema(schema);
      if (dir) {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** SIGTERM, and how the process ended: its exit code and how long it took. */
async function terminate(server: ServerProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const exited = once(server.child, 'exit') as Promise<[number | null, string | null]>;
  server.child.kill('SIGTERM');
  const [code] = await exited;
  return { code, ms: Date.now() - started };
}

interface Answer {
  status: number;
  connection: string | undefined;
  body: unknown;
}

/**
 * A POST whose headers (with `Expect: 100-continue`) reach the server now and whose body is sent when `release`
 * resolves. `accepted` resolves once the server has taken the request in: Node answers 100 Continue as it hands the
 * request to Fastify, so from then on the request is in flight.
 */
function heldPost(server: ServerProcess, agent: http.Agent, token: string, url: string, body: unknown) {
  const payload = JSON.stringify(body);
  const request = http.request(`${server.url}${url}`, {
    method: 'POST',
    agent,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      expect: '100-continue',
    },
  });
  const accepted = once(request, 'continue');
  const answer = new Promise<Answer>((resolve, reject) => {
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          connection: response.headers.connection,
          body: text ? JSON.parse(text) : null,
        }),
      );
    });
    request.on('error', reject);
  });
  request.flushHeaders();
  return {
    accepted,
    answer,
    release: () => request.end(payload),
  };
}

/** Server-Sent Events as frames: the test's view of an EventSource. */
async function openEvents(server: ServerProcess, token: string) {
  const response = await fetch(`${server.url}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  const frames: Frame[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    let buffer = '';
    for (;;) {
      const { value, done: finished } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (finished) {
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of block.split('\n')) {
          if (line.startsWith('data: ')) {
            frames.push(JSON.parse(line.slice(6)) as Frame);
          }
        }
        end = buffer.indexOf('\n\n');
      }
    }
  })();
  return { frames, done };
}

describe(`graceful shutdown on SIGTERM (${ENGINE})`, () => {
  it('finishes requests in flight, says 1001 to every stream and exits 0', async () => {
    const own = await ownServer();
    try {
      const { server } = own;
      const [alice, bob] = await Promise.all([own.token('sd-alice'), own.token('sd-bob')]);
      assert.equal((await call(server, alice, 'GET', '/v1/me')).status, 200);
      assert.equal((await call(server, bob, 'GET', '/v1/me')).status, 200);
      const chat = await call(server, alice, 'POST', '/v1/chats', {
        kind: 'group',
        name: 'shutting down',
        members: ['sd-bob'],
      });
      assert.equal(chat.status, 201);
      const chatId = chat.body.id;

      const sockets = await Promise.all([
        StreamClient.connect(server.url, alice),
        StreamClient.connect(server.url, bob),
      ]);
      const events = await openEvents(server, bob);
      await sockets[1]!.waitFor((f) => f.type === 'ready');

      // A steady load of sends and reads on keep-alive connections, before and during the shutdown.
      const loadAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      let signalled = false;
      let stop = false;
      const load: { status: number; body: unknown; afterSignal: boolean }[] = [];
      const failures: { error: string; afterSignal: boolean }[] = [];
      const worker = async (n: number) => {
        for (let i = 0; !stop; i++) {
          const afterSignal = signalled;
          const post = i % 2 === 0;
          const response = await fetchWith(
            loadAgent,
            server,
            alice,
            post ? 'POST' : 'GET',
            post ? `/v1/chats/${chatId}/messages` : `/v1/chats/${chatId}/messages?limit=5`,
            post ? { text: `load ${n}.${i}` } : undefined,
          ).catch((error: Error) => {
            failures.push({ error: error.message, afterSignal });
            return null;
          });
          if (response === null) {
            await sleep(20);
            continue;
          }
          load.push({ ...response, afterSignal });
        }
      };
      const workers = Promise.all([0, 1, 2, 3].map(worker));
      await sleep(300);

      // Requests the server has taken in but not finished: their bodies come after the signal.
      const agent = new http.Agent({ keepAlive: true });
      const held = Array.from({ length: 5 }, (_, i) =>
        heldPost(server, agent, i % 2 === 0 ? alice : bob, `/v1/chats/${chatId}/messages`, {
          text: `in flight ${i}`,
        }),
      );
      await Promise.all(held.map((h) => h.accepted));

      const exit = terminate(server);
      signalled = true;
      // The streams hear "going away" while the held requests are still waiting for their bodies.
      for (const socket of sockets) {
        assert.equal(await socket.waitForClose(), 1001);
      }
      await events.done;
      assert.deepEqual(events.frames.at(-1), { type: 'close', code: 1001, reason: 'server shutting down' });
      for (const h of held) {
        h.release();
      }
      const answers = await Promise.all(held.map((h) => h.answer));
      for (const answer of answers) {
        assert.equal(answer.status, 201, JSON.stringify(answer.body));
        assert.equal(answer.connection, 'close', 'a keep-alive connection ends with its answer');
      }
      const { code, ms } = await exit;
      stop = true;
      await workers;
      assert.equal(code, 0);
      assert.ok(ms < 8000, `the process exited in ${ms} ms, well before the 10 s deadline`);

      // Requests sent before the signal all succeeded. Those sent after it may be turned away (a 503 in the standard
      // body, or a connection refused or closed before the server read them), but are never answered otherwise.
      assert.ok(load.filter((r) => !r.afterSignal).length > 0, 'the load ran before the signal');
      assert.deepEqual(
        load.filter((r) => !r.afterSignal && (r.status < 200 || r.status >= 300)),
        [],
      );
      assert.deepEqual(
        failures.filter((f) => !f.afterSignal),
        [],
      );
      for (const refused of load.filter((r) => r.status >= 300)) {
        assert.equal(refused.status, 503, JSON.stringify(refused));
        assertError(refused, 503, 'unavailable');
      }
      // Answered 201: a message view.
      const textOf = (answer: { body: unknown }) => String((answer.body as MessageView).text);
      const sent = load.filter((r) => r.status === 201).map(textOf);
      const stored = await own.texts(chatId);
      for (const text of [...answers.map(textOf), ...sent]) {
        assert.ok(stored.includes(text), `"${text}" was answered 201 and is stored`);
      }
      loadAgent.destroy();
      agent.destroy();
    } finally {
      await own.cleanup();
    }
  });

  it('answers requests that arrive while it closes with 503 unavailable, in the standard body', async () => {
    const t = await createTestApp();
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const dave = await t.login('sd-dave');
    // Keep the close from finishing: the stream's goodbye (presence cleanup) waits for this transaction.
    let release = () => {};
    let locked = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const blocker = t.app.parley.store.db.transaction().execute(async (trx) => {
      await sql`lock table presence in access exclusive mode`.execute(trx);
      locked();
      await held;
    });
    await lockTaken;
    const closing = t.close();
    try {
      await sleep(200);
      const headers = { authorization: `Bearer ${dave.token}` };
      const refused = await fetch(`${base}/v1/me`, { headers });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(refused.headers.get('connection'), 'close');
      const answer = { status: refused.status, body: await refused.json(), headers: refused.headers };
      assertError(answer, 503, 'unavailable', /shutting down/);
      // Balancers hear it from the health checks too, in their own shape.
      for (const check of ['/health/ready', '/health/live']) {
        const health = await fetch(`${base}${check}`);
        assert.equal(health.status, 503);
        assert.deepEqual(await health.json(), { status: 'shutting down' });
      }
    } finally {
      release();
      await blocker;
      await closing;
    }
  });

  it('does not wait on a client that never answers the close', async () => {
    const own = await ownServer();
    try {
      const carol = await own.token('sd-carol');
      const stream = await StreamClient.connect(own.server.url, carol);
      // A paused client reads nothing: it never sees the close frame, let alone answers it.
      (stream.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const { code, ms } = await terminate(own.server);
      assert.equal(code, 0);
      assert.ok(ms < 8000, `the process exited in ${ms} ms, well before the 10 s deadline`);
      stream.socket.terminate();
    } finally {
      await own.cleanup();
    }
  });
});

/** One request on `agent`'s keep-alive connections; the body is parsed JSON. */
function fetchWith(
  agent: http.Agent,
  server: ServerProcess,
  token: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(`${server.url}${url}`, {
      method,
      agent,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {}),
      },
    });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        } catch (error) {
          reject(error as Error);
        }
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(payload);
  });
}
