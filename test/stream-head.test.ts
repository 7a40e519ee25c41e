import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, ENGINE, type TestApp } from './support/app.ts';
import { RawConnection, sleep } from './support/raw-http.ts';
import { StreamClient } from './support/ws.ts';

describe(`HEAD /v1/events (${ENGINE})`, () => {
  let t: TestApp;
  let port: number;
  let base: string;
  before(async () => {
    // The default of 20 streams per user: 25 HEADs would have locked the user out.
    t = await createTestApp();
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = Number(new URL(base).port);
  });
  after(async () => {
    await t.close();
  });

  /** A HEAD on a connection of its own, left open (kept alive) after its answer. */
  async function head(
    token: string | null,
    query = '',
  ): Promise<{ connection: RawConnection; status: number }> {
    const connection = await RawConnection.open(port);
    connection.write(
      `HEAD /v1/events${query} HTTP/1.1\r\nHost: x\r\n` +
        `${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`,
    );
    const [answer] = await connection.answers(1, 2000, true);
    // A HEAD answer has no body, whatever its headers say: nothing may follow the header block.
    await sleep(50);
    const headerBlock = connection.received.indexOf('\r\n\r\n') + 4;
    assert.equal(connection.received.length, headerBlock, 'no body, no stream');
    return { connection, status: answer!.status };
  }

  it('answers at once with the headers of the stream (or its refusal), no body, and takes no slot', async () => {
    const alice = await t.login('head-alice');
    const connections: RawConnection[] = [];
    try {
      for (let i = 0; i < 25; i++) {
        const { connection, status } = await head(alice.token);
        assert.equal(status, 200);
        connections.push(connection);
        assert.ok(connection.isOpen);
      }
      const [answer] = await connections[0]!.answers(1, 0, true);
      assert.match(answer!.headers['content-type'] ?? '', /^text\/event-stream/);
      assert.equal(answer!.headers['cache-control'], 'no-cache, no-transform');
      assert.equal(t.app.parley.gateway.connectionCount, 0, 'no stream was opened');

      // With the 25 HEAD connections still open, the user can open both kinds of stream.
      const events = await fetch(`${base}/v1/events`, {
        headers: { authorization: `Bearer ${alice.token}` },
      });
      assert.equal(events.status, 200);
      const reader = events.body!.getReader();
      let text = '';
      while (!text.includes('"type":"ready"')) {
        const { value, done } = await reader.read();
        assert.ok(!done, 'the SSE stream stays open');
        text += new TextDecoder().decode(value);
      }
      const socket = await StreamClient.connect(base, alice.token);
      assert.equal(socket.closeCode, null);
      assert.equal(t.app.parley.gateway.connectionCount, 2);
      await socket.close();
      await reader.cancel();

      // It refuses what GET refuses, the same way: no token 401, a bad resume cursor 400.
      const anonymous = await head(null);
      connections.push(anonymous.connection);
      assert.equal(anonymous.status, 401);
      const badResume = await head(alice.token, '?resume=not-a-cursor');
      connections.push(badResume.connection);
      assert.equal(badResume.status, 400);
    } finally {
      for (const connection of connections) {
        connection.destroy();
      }
    }
  });
});
