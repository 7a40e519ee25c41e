import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, ENGINE, type Client, type TestApp } from './support/app.ts';
import { createGroup } from './support/factories.ts';
import { RawConnection, sleep, type RawAnswer } from './support/raw-http.ts';
import { StreamClient } from './support/ws.ts';

const HEADERS_MS = 500;
const REQUEST_MS = 1000;
const KEEP_ALIVE_MS = 500;
/** Node checks for late requests every quarter of the shorter timeout (here 125 ms); the rest is a busy machine. */
const SLACK_MS = 1500;
/** Node closes an idle kept-alive connection a second after the advertised keep-alive timeout. */
const KEEP_ALIVE_BUFFER_MS = 1000;

function assertTimeout(answer: RawAnswer | undefined, pattern: RegExp): void {
  assert.ok(answer, 'an answer before the close');
  assert.equal(answer.status, 408, answer.body);
  assert.equal(answer.headers.connection, 'close');
  const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, 'request_timeout');
  assert.match(body.error.message, pattern);
}

/** Closed no earlier than `ms` after it opened (less a little: the timer starts at the first byte) and not long after. */
function assertClosedAfter(connection: RawConnection, ms: number): void {
  assert.ok(!connection.isOpen, 'closed');
  const after = connection.closedAfterMs!;
  assert.ok(after >= ms - 50, `closed after ${after} ms, not before ${ms} ms`);
  assert.ok(after <= ms + SLACK_MS, `closed after ${after} ms, soon after ${ms} ms`);
}

describe(`HTTP timeouts on a listening server (${ENGINE})`, () => {
  let t: TestApp;
  let port: number;
  let base: string;
  let alice: Client;
  before(async () => {
    t = await createTestApp({
      PARLEY_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      PARLEY_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      PARLEY_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
    });
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(base).port);
    alice = await t.login('timeout-alice');
  });
  after(async () => {
    await t.close();
  });

  /** A POST whose headers are complete and whose body of `length` bytes comes one byte every 100 ms. */
  async function slowBody(token: string | null, length = 1000): Promise<RawConnection> {
    const connection = await RawConnection.open(port);
    connection.write(
      `POST /v1/chats HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
        `${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`,
    );
    void connection.drip('{' + ' '.repeat(length - 1), 100, 10_000);
    return connection;
  }

  it('closes a client that sends its headers slowly: 408 request_timeout at the headers timeout', async () => {
    const connection = await RawConnection.open(port);
    try {
      await connection.drip(
        `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`,
        50,
        5000,
      );
      assertClosedAfter(connection, HEADERS_MS);
      const [answer] = await connection.answers(1, 0);
      assertTimeout(answer, new RegExp(`headers not received within ${HEADERS_MS} ms`));
    } finally {
      connection.destroy();
    }
  });

  it('closes a connection that never sends a request at the headers timeout', async () => {
    const connection = await RawConnection.open(port);
    try {
      assert.ok(await connection.closesWithin(HEADERS_MS + SLACK_MS));
      assertClosedAfter(connection, HEADERS_MS);
    } finally {
      connection.destroy();
    }
  });

  it('closes a client that sends its body slowly: 408 request_timeout at the request timeout', async () => {
    const connection = await slowBody(alice.token);
    try {
      assert.ok(await connection.closesWithin(5000), 'closed');
      assertClosedAfter(connection, REQUEST_MS);
      const [answer] = await connection.answers(1, 0);
      assertTimeout(answer, new RegExp(`not received in full within ${REQUEST_MS} ms`));
      // Nothing of the half-sent body was acted on.
      const chats = await alice.get('/v1/chats');
      assert.equal(chats.body.data.length, 0);
    } finally {
      connection.destroy();
    }
  });

  it('a request answered before its body arrived (401) is closed at the request timeout, with no second answer', async () => {
    const connection = await slowBody(null);
    try {
      const [refused] = await connection.answers(1);
      assert.equal(refused!.status, 401);
      assert.ok(await connection.closesWithin(5000), 'closed');
      assertClosedAfter(connection, REQUEST_MS);
      assert.equal(connection.received.split(/^HTTP\/1\.1 /m).length - 1, 1, 'the 401 only');
    } finally {
      connection.destroy();
    }
  });

  it('closes a kept-alive connection left idle after its answer, without an answer of its own', async () => {
    const connection = await RawConnection.open(port);
    try {
      connection.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      const [ok] = await connection.answers(1);
      assert.equal(ok!.status, 200);
      const answeredAt = Date.now();
      assert.ok(await connection.closesWithin(KEEP_ALIVE_MS + KEEP_ALIVE_BUFFER_MS + SLACK_MS), 'closed');
      const idle = connection.openedAt + connection.closedAfterMs! - answeredAt;
      assert.ok(idle >= KEEP_ALIVE_MS, `closed after ${idle} ms idle, not before ${KEEP_ALIVE_MS} ms`);
      assert.equal(connection.received.split(/^HTTP\/1\.1 /m).length - 1, 1, 'no answer but the 200');
    } finally {
      connection.destroy();
    }
  });

  it('keeps serving others while slow clients wait for their timeouts, then closes every one of them', async () => {
    const slow = await Promise.all([
      ...Array.from({ length: 40 }, () => slowBody(alice.token)),
      ...Array.from({ length: 40 }, async () => {
        const connection = await RawConnection.open(port);
        void connection.drip(
          `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`,
          100,
          10_000,
        );
        return connection;
      }),
    ]);
    try {
      const started = Date.now();
      const live = await fetch(`${base}/health/live`);
      assert.equal(live.status, 200);
      assert.equal((await alice.get('/v1/me')).status, 200);
      assert.ok(Date.now() - started < REQUEST_MS, 'answered while the slow clients are still connected');
      assert.ok(slow.every((connection) => connection.isOpen));
      const closed = await Promise.all(
        slow.map((connection) => connection.closesWithin(REQUEST_MS + SLACK_MS)),
      );
      assert.deepEqual(closed.filter((c) => !c).length, 0, 'every slow client is closed');
    } finally {
      for (const connection of slow) {
        connection.destroy();
      }
    }
  });

  it('never cuts a WebSocket or an SSE stream, even on a connection that served a request before', async () => {
    const bob = await t.login('timeout-bob');
    const chat = await createGroup(alice, [bob]);
    const socket = await StreamClient.connect(base, bob.token);
    const sse = await RawConnection.open(port);
    try {
      sse.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      await sse.answers(1);
      sse.write(`GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${bob.token}\r\n\r\n`);
      for (let waited = 0; !sse.received.includes('"type":"ready"'); waited += 20) {
        assert.ok(waited < 5000, 'the SSE stream opens');
        await sleep(20);
      }
      // Longer than every timeout, the keep-alive's buffer included.
      await sleep(REQUEST_MS + KEEP_ALIVE_MS + KEEP_ALIVE_BUFFER_MS + 500);
      assert.ok(sse.isOpen, 'the SSE stream is open');
      assert.equal(socket.closeCode, null, 'the WebSocket is open');
      const sent = await alice.post(`/v1/chats/${chat.id}/messages`, { text: 'still there?' });
      assert.equal(sent.status, 201);
      await socket.waitFor((f) => f.type === 'message.created' && f.message.text === 'still there?');
      for (let waited = 0; !sse.received.includes('still there?'); waited += 20) {
        assert.ok(waited < 5000, 'the SSE stream delivers');
        await sleep(20);
      }
    } finally {
      sse.destroy();
      await socket.close();
    }
  });
});
